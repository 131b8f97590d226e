"""SAXS page, section "Indexing": Bragg peaks of an ordered assembly and ranked lattice hypotheses.

Widgets (the lattices tried, the peak threshold, the peaks a lattice must index, how many hypotheses
to mark; in the URL as ``i_lat``, ``i_sig``, ``i_min``, ``i_show``, and ``i_hyp`` for the hypothesis
whose (hkl) the peak table shows), one library call (:func:`swaxs_lib.saxs.indexing.index_curve`), then
the curve (log-log) with the found peaks and the top hypotheses' lines with their (hkl), the curve over
its envelope with the fitted lines, the ranked table and the peak table, each downloadable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from pages._shared import download_csv, md, parse_number, plot_config, slug, store, url_key
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.saxs.lattices import DEFAULT_LATTICES, LATTICES, parse_lattices, reflections

PAGE = "saxs"
KEEP = {"persist_state": "session"}
#: This section's URL parameters (its widgets' ``url_key`` names).
URL_NAMES: tuple[str, ...] = ("i_lat", "i_sig", "i_min", "i_show", "i_hyp")
_COLORS = ("#d62728", "#1f77b4", "#2ca02c")


def _parse_lattices(text: str) -> list[str]:
    return list(parse_lattices(text, flag="i_lat"))


@st.cache_data(max_entries=32, show_spinner=False)
def _index(dataset_id: str, lattices: tuple[str, ...], min_significance: float, min_peaks: int, _measurement):
    """The indexing of a stored dataset (datasets never change once stored) for these settings."""
    from swaxs_lib.saxs.indexing import index_curve

    m = _measurement
    return index_curve(m.x, m.values, m.uncertainties, lattices=lattices, min_peaks=min_peaks,
                       min_significance=min_significance)


def _lengths(h) -> str:
    return ", ".join(f"{n.split('_')[0]} = {v:.4g} ± {s:.2g} Å" if np.isfinite(s) else f"{n.split('_')[0]} = {v:.4g} Å"
                     for n, v, s in zip(h.parameter_names, h.values_angstrom, h.sigmas_angstrom))


def _figure(result, shown) -> go.Figure:
    s = result.search
    rows = 3 if shown else 2
    heights = [0.55, 0.3, 0.15] if shown else [0.62, 0.38]
    figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, row_heights=heights, vertical_spacing=0.03)
    q = s.q_inv_angstrom
    figure.add_trace(go.Scatter(x=q, y=s.intensity, mode="markers", name="data", marker=dict(size=3, color="#444")),
                     row=1, col=1)
    figure.add_trace(go.Scatter(x=q, y=s.envelope, mode="lines", name="envelope",
                                line=dict(color="#888", dash="dash")), row=1, col=1)
    if s.peaks:
        qp = np.array([p.q_inv_angstrom for p in s.peaks])
        at = np.interp(qp, q, s.intensity)
        text = [f"Q = {p.q_inv_angstrom:.5g} ± {p.q_sigma_inv_angstrom:.2g} 1/Å<br>FWHM {p.fwhm_inv_angstrom:.3g} 1/Å"
                f"<br>{p.significance:.0f}σ" for p in s.peaks]
        figure.add_trace(go.Scatter(x=qp, y=at * 1.6, mode="markers", name="peaks found", text=text,
                                    hoverinfo="text", marker=dict(symbol="triangle-down", size=10, color="#ff7f0e")),
                         row=1, col=1)
    figure.add_trace(go.Scatter(x=q, y=s.ratio, mode="markers", name="I / envelope", showlegend=False,
                                marker=dict(size=3, color="#444")), row=2, col=1)
    figure.add_trace(go.Scatter(x=q, y=s.fitted_ratio, mode="lines", name="fitted lines",
                                line=dict(color="#ff7f0e", width=1.5)), row=2, col=1)
    for i, h in enumerate(shown):
        lines = reflections(h.lattice, h.values_angstrom, float(q[-1]))
        lines = [r for r in lines if r.q_inv_angstrom >= q[0]]
        color = _COLORS[i % len(_COLORS)]
        # faint lines through the curve itself, then the labelled ticks in the bottom row
        positive = s.intensity[s.intensity > 0]
        lo, hi = (float(positive.min()), float(positive.max())) if positive.size else (1.0, 10.0)
        xs = [v for r in lines for v in (r.q_inv_angstrom, r.q_inv_angstrom, None)]
        ys = [v for _ in lines for v in (lo, hi, None)]
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", showlegend=False, hoverinfo="skip",
                                    line=dict(color=color, width=0.7, dash="dot"), opacity=0.6), row=1, col=1)
        figure.add_trace(go.Scatter(
            x=[r.q_inv_angstrom for r in lines], y=[len(shown) - i] * len(lines), mode="markers+text",
            text=[r.label for r in lines], textposition="top center", textfont=dict(size=9, color=color),
            marker=dict(symbol="line-ns-open", size=14, color=color, line=dict(width=2)),
            name=f"{i + 1}. {h.lattice}", hovertext=[f"{h.lattice} ({r.label}), m = {r.multiplicity}, "
                                                     f"Q = {r.q_inv_angstrom:.5g} 1/Å" for r in lines],
            hoverinfo="text"), row=3, col=1)
    figure.update_xaxes(type="log", exponentformat="power")
    figure.update_xaxes(title_text="Q (1/Å)", row=rows, col=1)
    figure.update_yaxes(type="log", exponentformat="power", title_text="I(Q)", row=1, col=1)
    figure.update_yaxes(title_text="I / envelope", row=2, col=1)
    if shown:
        figure.update_yaxes(showticklabels=False, range=[0.5, len(shown) + 0.9], title_text="lines", row=3, col=1)
    figure.update_layout(height=720, margin=dict(l=10, r=10, t=30, b=10),
                         legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0))
    return figure


def render(dataset_id: str, measurement) -> None:
    """Draw this section for the stored I(Q) ``dataset_id`` (its ``measurement``, Q in 1/Å)."""
    from swaxs_lib.saxs.indexing import INDISTINGUISHABLE_DELTA, peak_table, ranking_table

    st.caption("Bragg peaks on the curve divided by its smooth envelope, fitted as pseudo-Voigt lines; then each "
               "lattice's lengths by least squares from the peaks it indexes, ranked by −2 ln of the evidence: "
               "position errors, unexplained peaks, missing lines below the last peak (each by how visible it "
               "was predicted to be) and an Occam factor for the lengths (lower is better; Δscore < "
               f"{INDISTINGUISHABLE_DELTA:g}: not distinguishable, the simpler lattice listed first). Lamellar, "
               "2D hexagonal and square, sc (also "
               "CsCl-type AB), bcc, fcc (also NaCl-type AB), hcp, AlB2 and MgZn2 binary superlattices.")
    lat_key = url_key(PAGE, "i_lat", list(DEFAULT_LATTICES), _parse_lattices)
    sig_key = url_key(PAGE, "i_sig", 5.0, parse_number(1.0, 100.0))
    min_key = url_key(PAGE, "i_min", 3, parse_number(1, 20, int))
    show_key = url_key(PAGE, "i_show", 2, parse_number(0, 3, int))
    cols = st.columns([3, 1, 1, 1])
    cols[0].multiselect("Lattices", list(LATTICES), key=lat_key, format_func=lambda n: LATTICES[n].title, **KEEP)
    cols[1].number_input("Peak threshold (σ)", min_value=1.0, max_value=100.0, step=0.5, key=sig_key,
                         help="Fitted height over its standard uncertainty a peak needs", **KEEP)
    cols[2].number_input("Min. peaks indexed", min_value=1, max_value=20, step=1, key=min_key, **KEEP)
    cols[3].number_input("Hypotheses marked", min_value=0, max_value=3, step=1, key=show_key, **KEEP)
    chosen = tuple(n for n in LATTICES if n in st.session_state[lat_key])
    if not chosen:
        st.info("Choose at least one lattice.")
        return
    try:
        result = _index(dataset_id, chosen, float(st.session_state[sig_key]), int(st.session_state[min_key]),
                        measurement)
    except SwaxsInputError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    hyps = result.hypotheses
    if not hyps:
        st.warning(md(result.message), icon=":material/block:")
    elif len(result.indistinguishable) > 1:
        st.warning(md(result.message), icon=":material/balance:")
    else:
        st.success(md(result.message), icon=":material/check_circle:")
    cols = st.columns(4)
    cols[0].metric("Peaks found", len(result.search.peaks),
                   help=f"at ≥ {result.search.min_significance:g}σ, FWHM ≤ {result.search.max_relative_width:g} Q; "
                        f"noise from the {result.search.noise}")
    if hyps:
        best = hyps[0]
        cols[1].metric("Best lattice", best.lattice, help=best.title)
        cols[2].metric("Lengths", _lengths(best))
        cols[3].metric("Indexed / unexplained / missing", f"{best.n_indexed} / {best.n_unexplained} / "
                                                          f"{len(best.missing)}")
    shown = hyps[:int(st.session_state[show_key])]
    stem = slug(store().get_dataset(dataset_id).name) if dataset_id else "curve"
    st.plotly_chart(_figure(result, shown), config=plot_config(f"{stem}-indexing"), key=f"{PAGE}.i_plot")
    s = result.search
    download_csv("Indexing curve (CSV)", {"q_inv_angstrom": s.q_inv_angstrom, "intensity": s.intensity,
                                          "envelope_intensity": s.envelope, "ratio": s.ratio,
                                          "fitted_ratio": s.fitted_ratio},
                 f"{stem}-indexing-curve.csv", key=f"{PAGE}.i_curve_csv")
    if hyps:
        st.subheader("Ranked lattices")
        ranking = ranking_table(result)
        st.dataframe(pd.DataFrame(ranking).dropna(axis=1, how="all"), hide_index=True)
        download_csv("Lattice ranking (CSV)", ranking, f"{stem}-lattices.csv", key=f"{PAGE}.i_rank_csv")
    st.subheader("Peaks")
    names = [h.lattice for h in hyps]
    hyp_key = url_key(PAGE, "i_hyp", names[0] if names else "", str)
    if names:
        if st.session_state[hyp_key] not in names:
            st.session_state[hyp_key] = names[0]
        st.selectbox("(hkl) under", names, key=hyp_key, format_func=lambda n: LATTICES[n].title, **KEEP)
        chosen_h = hyps[names.index(st.session_state[hyp_key])]
        table = peak_table(result, chosen_h)
    else:
        table = peak_table(result)
    st.dataframe(pd.DataFrame(table), hide_index=True)
    download_csv("Peaks (CSV)", table, f"{stem}-peaks.csv", key=f"{PAGE}.i_peaks_csv")
