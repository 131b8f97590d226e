"""SAXS page, section "Guinier & Porod": R_g, I(0), sphere radius and the Porod exponent of a stored I(Q).

Widgets (the Guinier range and the Porod window, empty = automatic; in the URL as ``g_qmin``,
``g_qmax``, ``g_pmin``, ``g_pmax``), one library call
(:func:`swaxs_lib.saxs.guinier.guinier_porod`), then the metrics, the Guinier, Kratky and Porod
plots with the fitted curves and the ranges shaded, and a CSV of each.
"""

from __future__ import annotations

import warnings

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages._shared import download_csv, md, parse_number, plot_config, slug, store, url_key
from swaxs_lib.errors import SwaxsInputError

PAGE = "saxs"
KEEP = {"persist_state": "session"}
#: This section's URL parameters (its widgets' ``url_key`` names).
URL_NAMES: tuple[str, ...] = ("g_qmin", "g_qmax", "g_pmin", "g_pmax")
#: The Q bounds' inputs: URL name -> label.
_BOUNDS = {"g_qmin": "Guinier Q min (1/Å)", "g_qmax": "Guinier Q max (1/Å)",
           "g_pmin": "Porod Q min (1/Å)", "g_pmax": "Porod Q max (1/Å)"}
_SHADE = dict(fillcolor="#f0f2f6", opacity=0.6, line_width=0, layer="below")  # the Guinier range
_PORD_SHADE = dict(fillcolor="#e3eef9", opacity=0.6, line_width=0, layer="below")  # the Porod window
_DATA = dict(mode="markers", name="data", marker=dict(size=4, color="#444"))


@st.cache_data(max_entries=32, show_spinner=False)
def _analyse(dataset_id: str, bounds: tuple, _measurement):
    """The analysis of a stored dataset (datasets never change once stored) for these bounds."""
    m = _measurement
    qmin, qmax, pmin, pmax = bounds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit keeps its warnings; they are shown from it
        from swaxs_lib.saxs.guinier import guinier_porod

        return guinier_porod(m.x, m.values, m.uncertainties, q_min_inv_angstrom=qmin, q_max_inv_angstrom=qmax,
                             porod_q_min_inv_angstrom=pmin, porod_q_max_inv_angstrom=pmax)


def _pm(value, sigma, digits: int = 4) -> str:
    return f"{value:.{digits}g} ± {sigma:.2g}" if np.isfinite(sigma) else f"{value:.{digits}g}"


def _metrics(result) -> None:
    g, p = result.guinier, result.porod
    cols = st.columns(5)
    if g is not None:
        cols[0].metric("R_g (Å)", _pm(g.rg_angstrom, g.rg_angstrom_sigma),
                       help="Radius of gyration ± its standard uncertainty (the fit's and the Guinier law's "
                            "estimated error over the range)")
        cols[1].metric("I(0)", _pm(g.i0, g.i0_sigma), help="In the data's intensity units")
        cols[2].metric("Sphere radius (Å)", _pm(g.sphere_radius_angstrom, g.sphere_radius_angstrom_sigma),
                       help="The homogeneous sphere with this R_g: R = √(5/3) R_g")
        cols[3].metric("Guinier range (1/Å)", f"{g.q_min_inv_angstrom:.4g}–{g.q_max_inv_angstrom:.4g}",
                       help=f"{'automatic' if g.automatic else 'given'}: {g.n_points} points, "
                            f"Q·R_g {g.qmin_rg:.2f}–{g.qmax_rg:.2f}")
    else:
        for col, label in zip(cols[:4], ("R_g (Å)", "I(0)", "Sphere radius (Å)", "Guinier range (1/Å)")):
            col.metric(label, "—")
    if p is not None:
        cols[4].metric("Porod n", _pm(p.exponent, p.exponent_sigma, 3),
                       help=f"I = K Q^−n + B over Q {p.q_min_inv_angstrom:.4g}–{p.q_max_inv_angstrom:.4g} 1/Å "
                            f"({p.n_points} points): K = {p.constant:.4g}, B = {p.background:.4g}")
    else:
        cols[4].metric("Porod n", "—")


def _layout(figure: go.Figure, x_title: str, y_title: str, x_log: bool = False, y_log: bool = False) -> go.Figure:
    figure.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10),
                         legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
                         xaxis=dict(title=x_title, type="log" if x_log else "linear", exponentformat="power"),
                         yaxis=dict(title=y_title, type="log" if y_log else "linear", exponentformat="power"))
    return figure


def _error(values) -> dict | None:
    return None if values is None else dict(type="data", array=np.asarray(values), visible=True, thickness=1, width=0)


def _guinier_figure(result) -> go.Figure:
    view, g = result.guinier_view(), result.guinier
    x, y = view["q2_inv_angstrom2"], view["ln_intensity"]
    figure = go.Figure(go.Scatter(x=x, y=y, error_y=_error(view.get("ln_intensity_sigma")), **_DATA))
    if g is not None:
        figure.add_vrect(x0=g.q_min_inv_angstrom**2, x1=g.q_max_inv_angstrom**2, **_SHADE)
        shown = np.linspace(0.0, (2.0 * g.q_max_inv_angstrom) ** 2, 50)
        figure.add_trace(go.Scatter(x=shown, y=g.ln_intensity(np.sqrt(shown)), mode="lines",
                                    name=f"Guinier R_g = {g.rg_angstrom:.4g} Å", line=dict(color="#d62728")))
        x_end = (2.0 * g.q_max_inv_angstrom) ** 2
    else:
        x_end = x[max(len(x) // 4, 1) - 1] if len(x) else 1.0
    inside = x <= x_end
    figure = _layout(figure, "Q² (1/Å²)", "ln I")
    if inside.any():
        figure.update_xaxes(range=[0.0, x_end])
        figure.update_yaxes(range=[float(np.min(y[inside])) - 0.2, float(np.max(y[inside])) + 0.2])
    return figure


def _q_log(q) -> bool:
    positive = q[q > 0]
    return positive.size > 1 and positive[-1] / positive[0] > 100


def _kratky_figure(result) -> go.Figure:
    view, g, p = result.kratky_view(), result.guinier, result.porod
    q = view["q_inv_angstrom"]
    figure = go.Figure(go.Scatter(x=q, y=view["q2_intensity_inv_angstrom2"],
                                  error_y=_error(view.get("q2_intensity_inv_angstrom2_sigma")), **_DATA))
    if g is not None:
        figure.add_vrect(x0=g.q_min_inv_angstrom, x1=g.q_max_inv_angstrom, **_SHADE)
        near = q * g.rg_angstrom <= 4.0
        figure.add_trace(go.Scatter(x=q[near], y=np.asarray(view["guinier_q2_intensity_inv_angstrom2"])[near],
                                    mode="lines", name="Guinier", line=dict(color="#d62728")))
    if p is not None:
        figure.add_vrect(x0=p.q_min_inv_angstrom, x1=p.q_max_inv_angstrom, **_PORD_SHADE)
        inside = np.asarray(view["in_porod"], dtype=bool)
        figure.add_trace(go.Scatter(x=q[inside], y=np.asarray(view["porod_q2_intensity_inv_angstrom2"])[inside],
                                    mode="lines", name="Porod K Q^−n + B", line=dict(color="#1f77b4")))
    return _layout(figure, "Q (1/Å)", "Q² I(Q) (1/Å² · I units)", x_log=_q_log(q))


def _porod_figure(result) -> go.Figure:
    view, p = result.porod_view(), result.porod
    q, y = view["q_inv_angstrom"], view["q4_intensity_inv_angstrom4"]
    keep = (q > 0) & (y > 0)
    sigma = view.get("q4_intensity_inv_angstrom4_sigma")
    figure = go.Figure(go.Scatter(x=q[keep], y=y[keep],
                                  error_y=_error(None if sigma is None else np.asarray(sigma)[keep]), **_DATA))
    if p is not None:
        figure.add_vrect(x0=p.q_min_inv_angstrom, x1=p.q_max_inv_angstrom, **_PORD_SHADE)
        inside = np.asarray(view["in_porod"], dtype=bool)
        figure.add_trace(go.Scatter(x=q[inside], y=np.asarray(view["porod_q4_intensity_inv_angstrom4"])[inside],
                                    mode="lines", name=f"Porod n = {p.exponent:.3g}", line=dict(color="#1f77b4")))
    return _layout(figure, "Q (1/Å)", "Q⁴ I(Q) (1/Å⁴ · I units)", x_log=True, y_log=True)


def render(dataset_id: str, measurement) -> None:
    """Draw this section for the stored I(Q) ``dataset_id`` (its ``measurement``, Q in 1/Å)."""
    st.caption("R_g and I(0) from the Guinier region at the lowest Q (the longest window with Q_max·R_g ≤ 1.3, "
               "residuals without structure and a curvature that does not bias R_g), the sphere radius √(5/3) R_g, "
               "and I = K Q^−n + B at high Q. Leave a bound empty for the automatic choice; a Guinier Q min alone "
               "moves the automatic range's start.")
    cols = st.columns(4)
    for col, (name, label) in zip(cols, _BOUNDS.items()):
        key = url_key(PAGE, name, None, parse_number(0.0, 100.0))
        col.number_input(label, min_value=0.0, max_value=100.0, value=None, format="%.5g", key=key,
                         placeholder="automatic", **KEEP)
    bounds = tuple(st.session_state[f"{PAGE}.{name}"] for name in _BOUNDS)
    try:
        result = _analyse(dataset_id, bounds, measurement)
    except SwaxsInputError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    if result.guinier is None:
        st.warning(f"No Guinier fit: {md(result.guinier_refusal)}", icon=":material/block:")
    else:
        for note in result.guinier.warnings:
            st.warning(md(note), icon=":material/warning:")
    if result.porod is None:
        st.info(f"No Porod fit: {md(result.porod_refusal)}")
    _metrics(result)

    stem = slug(store().get_dataset(dataset_id).name) if dataset_id else "curve"
    guinier_tab, kratky_tab, porod_tab = st.tabs(["Guinier plot", "Kratky plot", "Porod plot"])
    with guinier_tab:
        st.plotly_chart(_guinier_figure(result), config=plot_config(f"{stem}-guinier"), key=f"{PAGE}.g_guinier")
        download_csv("Guinier plot (CSV)", result.guinier_view(), f"{stem}-guinier.csv", key=f"{PAGE}.g_guinier_csv")
    with kratky_tab:
        st.plotly_chart(_kratky_figure(result), config=plot_config(f"{stem}-kratky"), key=f"{PAGE}.g_kratky")
        download_csv("Kratky plot (CSV)", result.kratky_view(), f"{stem}-kratky.csv", key=f"{PAGE}.g_kratky_csv")
    with porod_tab:
        st.plotly_chart(_porod_figure(result), config=plot_config(f"{stem}-porod"), key=f"{PAGE}.g_porod")
        download_csv("Porod plot (CSV)", result.porod_view(), f"{stem}-porod.csv", key=f"{PAGE}.g_porod_csv")
    download_csv("Guinier & Porod results (CSV)", {k: [v] for k, v in result.summary().items()},
                 f"{stem}-guinier-porod.csv", key=f"{PAGE}.g_results_csv")
