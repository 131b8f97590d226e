"""SAXS page, section "Cluster models": a size ladder of atomistic clusters (Debye I(Q)) fitted to the I(Q).

Widgets (family, element, sizes, distribution, resolution, background; all in the URL), a Fit
button, then one library call (:func:`swaxs_lib.saxs.cluster_fit.fit_family_ladder`, the members'
Debye curves cached in the store), then rendering: the fit with each member's share (log-log), the
number distribution as bars with σ, the member table, CSV downloads and a link to view a member on
the Clusters page.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from pages._shared import (
    download_csv,
    format_value,
    md,
    parse_choice,
    parse_number,
    plot_config,
    slug,
    store,
    url_key,
)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.saxs.clusters import BACKGROUNDS, DEFAULT_SIZES, DISTRIBUTIONS, FAMILIES
from swaxs_lib.structures.parameters import COMMON_ELEMENTS

PAGE = "saxs"
#: This section's URL parameters (its widgets' ``url_key`` names).
URL_NAMES: tuple[str, ...] = ("c_shape", "c_el", "c_sizes", "c_dist", "c_dq", "c_bg", "c_fit")
#: Largest member the page builds (the command line takes any).
MAX_ATOMS = 20_000
DIST_TITLES = {"gaussian": "Gaussian", "lognormal": "log-normal", "free": "free weights", "single": "best single"}
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def _parse_sizes(text: str) -> str:
    text = str(text).strip()
    if len(text) > 60 or not all(c in "0123456789.,: " for c in text):
        raise ValueError("expected A..B, A..B:STEP or a,b,c")
    return text


@st.cache_data(max_entries=16, show_spinner=False)
def ladder_fit(dataset_id: str, _measurement, shape: str, element: str, sizes: str, distribution: str,
               dq_over_q: float, background: str):
    """The library's fit (cached per dataset and choices; the members' curves also in the store)."""
    from swaxs_lib.saxs.cluster_fit import fit_family_ladder

    return fit_family_ladder(_measurement, shape, element, sizes or None, max_atoms=MAX_ATOMS,
                             distribution=distribution, dq_over_q=dq_over_q or None, background=background,
                             store=store())


def _start(key: str) -> None:
    st.session_state[key] = 1


def render(dataset_id: str, measurement) -> None:
    """Draw this section for the stored I(Q) ``dataset_id`` (its ``measurement``, Q in 1/Å)."""
    st.caption("Our Debye I(Q) of a size ladder of one cluster family, mixed by a number distribution over the "
               "members' volume-equivalent diameters, times a scale plus a flat background, smeared by a Gaussian "
               "ΔQ/Q (1 σ). Decahedra are Marks (p, 2, 1) by p; spheres are cut from fcc by diameter (Å).")
    keys = {
        "shape": url_key(PAGE, "c_shape", "icosahedron", parse_choice(list(FAMILIES))),
        "el": url_key(PAGE, "c_el", "Au", parse_choice(list(COMMON_ELEMENTS))),
        "sizes": url_key(PAGE, "c_sizes", "", _parse_sizes),
        "dist": url_key(PAGE, "c_dist", "gaussian", parse_choice(list(DISTRIBUTIONS))),
        "dq": url_key(PAGE, "c_dq", 0.0, parse_number(0.0, 0.5)),
        "bg": url_key(PAGE, "c_bg", "constant", parse_choice(list(BACKGROUNDS))),
        "fit": url_key(PAGE, "c_fit", 0, parse_number(0, 1, int)),
    }
    cols = st.columns([1.4, 0.8, 1.2, 1.2, 0.9, 0.9])
    shape = cols[0].selectbox("Family", list(FAMILIES), key=keys["shape"])
    element = cols[1].selectbox("Element", list(COMMON_ELEMENTS), key=keys["el"])
    sizes = cols[2].text_input("Sizes", key=keys["sizes"], placeholder=DEFAULT_SIZES[shape],
                               help="The family's growing parameter: A..B or a,b,c (shells, p, length; a sphere's "
                                    "diameter in Å as A..B:STEP). Empty: " + DEFAULT_SIZES[shape])
    distribution = cols[3].selectbox("Distribution", list(DISTRIBUTIONS), key=keys["dist"], format_func=DIST_TITLES.get)
    dq = cols[4].number_input("ΔQ/Q (1 σ)", min_value=0.0, max_value=0.5, step=0.01, format="%.3f", key=keys["dq"],
                              help="Gaussian resolution; 0: none")
    background = cols[5].selectbox("Background", list(BACKGROUNDS), key=keys["bg"])
    st.button("Fit", type="primary", icon=":material/play_arrow:", key="saxs.c_run", on_click=_start, args=(keys["fit"],))
    if not st.session_state[keys["fit"]]:
        st.info("Choose a family and its sizes, then press Fit (a few seconds for small clusters; the members' "
                "curves are cached, so a refit is fast).")
        return
    try:
        with st.spinner("Debye I(Q) of every member, then the fit..."):
            fit = ladder_fit(dataset_id, measurement, shape, element, sizes.strip(), distribution, float(dq),
                             background)
    except SwaxsInputError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    show_fit(fit, shape, element, dataset_id)


def show_fit(fit, shape: str, element: str, dataset_id: str) -> None:
    """Metrics, the two figures, the member table, downloads and the Clusters link."""
    r = fit.result
    values = {v.name: v for v in r.values}
    cells = st.columns(5)
    if "volume_diameter_mean" in values:
        cells[0].metric("Mean volume diameter", values["volume_diameter_mean"].text(), help="Of the continuous distribution")
        cells[1].metric("Width (σ) of D_v", values["volume_diameter_width"].text())
    cells[2].metric("Number-weighted ⟨D_v⟩", f"{fit.mean_volume_diameter_angstrom:.2f} ± {fit.mean_volume_diameter_sigma:.2g} Å",
                    help="Σ w_k D_k over the members (volume-equivalent diameters), σ propagated")
    cells[3].metric("χ²_red", f"{r.chi2_reduced:.4g}", help=f"R_w {r.rw:.4f}, {r.weighting} weights, "
                                                             f"Q {r.x_min:.4g}–{r.x_max:.4g} 1/Å")
    best = fit.members[fit.best_member]
    cells[4].metric("Best single member", best.label, help=f"{best.n_atoms} atoms, D {best.volume_diameter_angstrom:.1f}"
                                                           f" Å, χ²_red alone {fit.single_chi2_reduced[fit.best_member]:.4g}")
    undetermined = r.undetermined()
    if undetermined:
        st.warning(f"Not determined by these data: {', '.join(undetermined)} (at a bound, or σ ≥ |value|).",
                   icon=":material/warning:")
    st.caption(f"Resolution: {md(fit.resolution)}; background c0 = {fit.background:.4g}; {r.message}.")
    left, right = st.columns([3, 2])
    name = f"cluster-fit-{slug(shape)}-{element}"
    with left:
        figure = go.Figure(go.Scatter(x=r.x, y=r.data, mode="markers", name="data", marker={"size": 4, "color": "#444"}))
        figure.add_trace(go.Scatter(x=r.x, y=r.fitted, mode="lines", name="fit", line={"color": "#d62728", "width": 2.5}))
        for k, member in enumerate(fit.members):
            if fit.fractions[k] > 1e-4:
                figure.add_trace(go.Scatter(x=r.x, y=fit.contributions[k], mode="lines", name=member.label,
                                            line={"dash": "dot", "width": 1.2, "color": COLORS[k % len(COLORS)]}))
        figure.update_xaxes(title_text="Q (1/Å)", type="log")
        figure.update_yaxes(title_text="I(Q) (data units)", type="log", exponentformat="power")
        figure.update_layout(title="Data, fit and each member's share", height=460,
                             margin={"l": 60, "r": 20, "t": 40, "b": 50})
        st.plotly_chart(figure, config=plot_config(name))
    with right:
        labels = [f"{m.label} ({m.volume_diameter_angstrom:.1f} Å)" for m in fit.members]
        bars = go.Figure(go.Bar(x=labels, y=fit.fractions, error_y={"type": "data", "array": fit.fractions_sigma},
                                marker_color="#1f77b4"))
        bars.update_layout(title="Number distribution (± σ)", height=460, yaxis_title="number fraction",
                           xaxis_title="member (volume-equivalent diameter)", margin={"l": 60, "r": 20, "t": 40, "b": 50})
        st.plotly_chart(bars, config=plot_config(name + "-distribution"))
    table = fit.member_columns()
    st.dataframe(table, hide_index=True)
    d = st.columns(3)
    with d[0]:
        download_csv("Cluster fit (CSV)", fit.curve_columns(), f"{name}.csv", key="saxs.c_dl_fit")
    with d[1]:
        download_csv("Member contributions (CSV)", fit.contribution_columns(), f"{name}-members-curves.csv",
                     key="saxs.c_dl_contrib")
    with d[2]:
        download_csv("Number distribution (CSV)", table, f"{name}-distribution.csv", key="saxs.c_dl_dist")
    pick = st.selectbox("View a member in Clusters", range(len(fit.members)), index=fit.best_member,
                        format_func=lambda k: f"{fit.members[k].label}: {fit.members[k].n_atoms} atoms",
                        key="saxs.c_view")
    member = fit.members[pick]
    st.page_link("pages/clusters.py", label=f"View {member.label} in Clusters", icon=":material/hub:",
                 query_params={"shape": member.shape, "el": element,
                               **{k: format_value(v) for k, v in member.parameters}})
