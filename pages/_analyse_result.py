"""The Analyse page's result: ranking with its best group, overlays, 3D, hand-offs, mixture, window and prior.

Not a page (``app.py`` lists the pages).  Reads an ``analyse`` job's result
(:class:`swaxs_lib.analyse.result.AnalysisResult`) and the stored fits it names.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages._cluster_widgets import UPLOAD, cluster_for_key, cluster_view
from pages._shared import (
    compare_handoff,
    download_csv,
    fit_figure,
    format_value,
    md,
    md_value,
    parse_number,
    plot_config,
    store,
    url_key,
    with_sigma,
)
from swaxs_lib.analyse.result import AnalysisResult, AnalysisRow
from swaxs_lib.candidates import ATTENUATED_CRYSTAL
from swaxs_lib.compare import compare_cluster
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.jobs import format_seconds, progress_of
from swaxs_lib.relax import EMT_ELEMENTS
from swaxs_lib.store.fits import read_fit
from swaxs_lib.structures.parameters import SHAPE_PARAMETERS
from swaxs_lib.sweep import Candidate
from swaxs_lib.views import compare_kwargs, compare_model_of_fit

PAGE = "analyse"
FAMILY_LABELS = {
    "icosahedron": "Mackay icosahedron", "decahedron": "decahedron (Ino, Marks)", "octahedron": "octahedron",
    "truncated-octahedron": "truncated octahedron", "cuboctahedron": "cuboctahedron",
    "sphere-fcc": "fcc sphere", "sphere-hcp": "hcp sphere", "sphere-bcc": "bcc sphere",
    "attenuated-crystal": "attenuated crystal",
}
BEST = "background-color: rgba(46, 160, 67, 0.22); font-weight: 600"
EQUIVALENT = "background-color: rgba(255, 193, 7, 0.14)"
COLORS = ("#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
#: Ranking columns shown first (the CSV has them all).
FIRST = ("group", "rank", "label", "stage", "n_atoms", "extent_angstrom", "volume_diameter_angstrom", "rw",
         "p_value_vs_best", "rw_screen", "energy_ev_per_atom")
HIDDEN = ("result_id", "best_group", "subfamily")


def show_result(record) -> list[str]:
    """The whole result of a finished analysis; returns the URL names it binds (``sel``, ``ov``)."""
    try:
        result = AnalysisResult.from_json(record.result or {})
    except SwaxsInputError as exc:
        st.error(f"This analysis's result cannot be read: {md(exc)}", icon=":material/error:")
        return []
    if not result.rows:
        st.info("The analysis finished without a ranked candidate.")
        return []
    args = dict(record.params.get("args") or {})
    dataset_id = args.get("dataset_id")
    try:
        measurement = store().get_dataset(dataset_id).measurement
    except SwaxsInputError:
        st.warning(f"Dataset “{md_value(dataset_id)}” is no longer stored: the fits are shown without hand-offs.",
                   icon=":material/warning:")
        measurement = None
    best = result.best
    st.success(f"{md(record.message)} · {len(result.screened)} screened, {len(result.rows)} ranked · best: "
               f"{md(best.label)}, R_w {best.rw:.4f}", icon=":material/check_circle:")
    headline(result)
    names = ranking(record, result)
    rank = int(st.session_state[f"{PAGE}.sel"])
    row = next(r for r in result.rows if r.rank == rank)
    names += selected(result, row, dataset_id, measurement)
    mixture_section(result, record.id, measurement)
    window_and_prior(result)
    undecided(result)
    with st.expander(f"The screen: {len(result.screened)} candidates", icon=":material/filter_alt:"):
        st.caption("Every candidate in the window, fitted with delta2 and Q damping held at 0 (G(r)), by screen "
                   "R_w. The best of each family, and those the screen cannot tell from its best, were refined.")
        screen = result.table(screened=True)
        st.dataframe(pd.DataFrame(screen).drop(columns=[c for c in HIDDEN if c in screen] + ["rank"]),
                     hide_index=True, column_config=titles(list(screen)))
        download_csv("Screen (CSV)", screen, f"swaxs-analyse-{record.id}-screen.csv", key=f"{PAGE}.screen_csv")
    for label, reason in result.skipped:
        st.caption(f"Left out {md(label)}: {md(reason)}")
    timings = ", ".join(f"{stage} {format_seconds(s)}" for stage, s in result.timings_s if s >= 0.05)
    st.caption(f"Total {format_seconds(progress_of(record).elapsed_s)} ({timings}); "
               f"{result.counts.get('from_cache', 0)} screen fits reused from the store.")
    return names


def headline(result: AnalysisResult) -> None:
    """R_w of the best, the best group's size, the best's size, the mixture's verdict (the best is named above)."""
    best, group = result.best, result.best_group
    cells = st.columns(4)  # each value on one line at 1280 px
    cells[0].metric("R_w (best)", f"{best.rw:.4f}", help=f"{best.label}: {FAMILY_LABELS.get(best.family, best.family)}, "
                                                         f"{best.stage}.")
    cells[1].metric("Best group", f"{len(group)} of {len(result.rows)}",
                    help="Candidates the data cannot tell from the best (F-test on R_w at α = "
                         f"{result.settings.get('alpha', 0.05):g}), the best included.")
    d = best.volume_diameter_angstrom
    cells[2].metric("Size (best)", "–" if not math.isfinite(d) else f"{d / 10:.2f} nm",
                    help="Volume-equivalent diameter of the best candidate (docs/sizes.md).")
    m = result.mixture
    cells[3].metric("Mixture", "–" if m is None else ("accepted" if m.accepted else "rejected"),
                    help="Whether a combination of the refined candidates fits significantly better than the best "
                         "one alone (the test is below).")


def display_frame(result: AnalysisResult) -> tuple[pd.DataFrame, dict]:
    table = result.table()
    frame = pd.DataFrame(table)
    frame.insert(0, "group", ["★ best" if r.rank == 1 else "≈ best" if r.best_group else "" for r in result.rows])
    return frame, table


def titles(columns: list[str]) -> dict:
    """Column titles: the CSV's names (docs/csv.md) as words with units."""
    number, text = st.column_config.NumberColumn, st.column_config.TextColumn
    out = {"group": text("best group", help="★ the best; ≈ the data cannot tell it from the best"),
           "n_atoms": number("atoms", format="%d"), "rw": number("R_w", format="%.4f"),
           "rw_screen": number("R_w screen", format="%.4f"), "extent_angstrom": number("extent (Å)", format="%.2f"),
           "volume_diameter_angstrom": number("vol.-eq. diameter (Å)", format="%.2f"),
           "p_value_vs_best": text("p vs best"), "energy_ev_per_atom": number("E (eV/atom)", format="%.4f"),
           "scale": number("scale", format="%.4g"), "expansion": number("expansion", format="%.4f")}
    for name in columns:
        for suffix, unit in (("_angstrom2", "Å²"), ("_inv_angstrom", "1/Å"), ("_angstrom", "Å")):
            base = name.removesuffix("_sigma")
            if base.endswith(suffix) and name not in out:
                words = base.removesuffix(suffix) + (" σ" if name.endswith("_sigma") else "")
                out[name] = number(f"{words} ({unit})", format="%.4g")
                break
    return {k: v for k, v in out.items() if k in columns or k == "group"}


def ranking(record, result: AnalysisResult) -> list[str]:
    st.subheader("Ranking")
    verdict(result)
    frame, table = display_frame(result)
    shown = [c for c in FIRST if c in frame.columns] + [c for c in frame.columns
                                                          if c not in FIRST and c not in HIDDEN]
    ranks = [r.rank for r in result.rows]
    view = frame[shown].copy()
    view["p_value_vs_best"] = [f"{p:.3g}" if isinstance(p, float) and p == p else "–" for p in frame["p_value_vs_best"]]

    def style(row: pd.Series) -> list[str]:
        r = result.rows[row.name]
        return [BEST if r.rank == 1 else EQUIVALENT if r.best_group else ""] * len(row)

    sel_key = url_key(PAGE, "sel", 1, parse_number(1, max(ranks), int))
    if st.session_state[sel_key] not in ranks:
        st.session_state[sel_key] = 1
    event = st.dataframe(view.style.apply(style, axis=1), hide_index=True, on_select="rerun",
                         selection_mode="single-row", key=f"{PAGE}.table", column_config=titles(shown))
    rows = event.selection.rows if event is not None else []
    if rows:
        st.session_state[sel_key] = int(frame["rank"].iloc[rows[0]])
    legend(result)
    buttons = st.columns([1, 1, 2])
    with buttons[0]:
        download_csv("Ranking (CSV)", table, f"swaxs-analyse-{record.id}.csv", key=f"{PAGE}.ranking_csv")
    report_button(buttons[1], record, result)
    return ["sel"]


def verdict(result: AnalysisResult) -> None:
    group = result.best_group
    alpha = result.settings.get("alpha", 0.05)
    families = sorted({r.family for r in group})
    if len(group) == 1:
        st.info(f"The best candidate, {md(result.best.label)}, fits significantly better than every other "
                f"(α = {alpha:g}).", icon=":material/balance:")
    else:
        st.warning(f"The data cannot tell {len(group)} candidates apart (the best group, α = {alpha:g}): "
                   f"{md(', '.join(r.label for r in group))}"
                   + (f"; they span {len(families)} families." if len(families) > 1 else "."),
                   icon=":material/balance:")
    if result.test is not None and result.test.note:
        st.caption(md(result.test.note))


def legend(result: AnalysisResult) -> None:
    test = result.test
    text = ("**★ best** (green): the lowest R_w. **≈ best** (shaded): the data cannot tell it from the best — "
            "p vs best > α in a two-sided F-test on (R_w / R_w,best)²")
    if test is not None:
        text += (f" with {test.n_independent} independent points ({md(test.method)}) minus the refined parameters "
                 f"(α = {test.alpha:g}; Hamilton, Acta Cryst. 18, 502 (1965))")
    st.caption(text + ". *Stage*: refined (every parameter free), relaxed (EMT-relaxed, then refined); R_w screen is "
               "the fast fit that chose them. Click a row for its fit, 3D view and hand-offs.")


def report_button(target, record, result: AnalysisResult) -> None:
    """The HTML report the job stored with its result (made here for a job that stored none)."""
    from swaxs_lib.analyse.pipeline import report_key
    from swaxs_lib.analyse.report import report_html

    args = dict(record.params.get("args") or {})

    def build() -> bytes:
        stored = store().get_blob(report_key(record.id))
        if stored is not None:
            return stored
        return report_html(result, store().get_dataset(args.get("dataset_id")).measurement, store()).encode()

    target.download_button("Report (HTML)", build, file_name=f"swaxs-analyse-{record.id}.html", mime="text/html",
                           on_click="ignore", icon=":material/description:", key=f"{PAGE}.report")


# -- the selected row -----------------------------------------------------------------------------


def selected(result: AnalysisResult, row: AnalysisRow, dataset_id, measurement) -> list[str]:
    st.subheader(f"Rank {row.rank}: {md(row.label)}")
    by_rank = {r.rank: r for r in result.rows}
    others = [r.rank for r in result.rows if r.rank != row.rank]
    ov_key = url_key(PAGE, "ov", [], parse_ranks)
    st.session_state[ov_key] = [k for k in st.session_state[ov_key] if k in others]
    plot, side = st.columns([3, 2], gap="medium")
    with side:
        st.multiselect("Overlay other rows", others, key=ov_key, format_func=lambda k: f"{k}: {by_rank[k].label}",
                       placeholder="none", persist_state="session")
        view_3d(row)
    with plot:
        overlay(result, [row] + [by_rank[k] for k in st.session_state[ov_key]], row.rank)
    values, links = st.columns([3, 2], gap="medium")
    with values:
        values_table(row, result.kind)
    with links:
        handoffs(result, row, dataset_id, measurement)
    return ["ov"] if st.session_state[ov_key] else []


def parse_ranks(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t.strip()]


@st.cache_data(max_entries=64, show_spinner=False)
def fit_curves(result_id: str):
    """x, data, fitted of a stored fit (Å or 1/Å), its summary and settings."""
    fit = read_fit(store().get_result(result_id))
    c = fit.curves
    return c.x, c.data, c.fitted, fit.kind


def overlay(result: AnalysisResult, rows: list[AnalysisRow], rank: int) -> None:
    """Data, the selected row's fit and difference; other chosen rows' on top."""
    first, *more = rows
    x, data, fitted, kind = fit_curves(first.result_id)
    figure = fit_figure(x, data, fitted, name=f"{first.rank}: R_w {first.rw:.4f}", kind=kind, height=460)
    for k, r in enumerate(more):
        x2, data2, fitted2, _ = fit_curves(r.result_id)
        color = COLORS[(k + 1) % len(COLORS)]
        figure.add_trace(go.Scatter(x=x2, y=fitted2, mode="lines", name=f"{r.rank}: R_w {r.rw:.4f}",
                                    line=dict(color=color, width=1.5)), row=1, col=1)
        figure.add_trace(go.Scatter(x=x2, y=np.asarray(data2) - np.asarray(fitted2), mode="lines", showlegend=False,
                                    line=dict(color=color, width=1)), row=2, col=1)
    st.plotly_chart(figure, config=plot_config(f"swaxs-analyse-rank-{rank}"), key=f"{PAGE}.fit_plot")


def row_cluster(row: AnalysisRow) -> tuple[tuple, dict] | None:
    """The cluster a row fitted, as a :func:`pages._cluster_widgets.choice_key` and Compare's ``c1_`` link."""
    if row.family == ATTENUATED_CRYSTAL:
        return None
    if row.cluster_key:  # relaxed, or an uploaded structure: stored atoms
        return (UPLOAD, row.cluster_key), {"c1_shape": UPLOAD, "c1_cluster": row.cluster_key}
    c = row.candidate
    if c.crystal:
        key = stored_candidate(json.dumps(c.to_json(), sort_keys=True))
        return (UPLOAD, key), {"c1_shape": UPLOAD, "c1_cluster": key}
    params = dict(c.params)
    return ((c.shape, c.element, tuple(sorted(params.items()))),
            {"c1_shape": c.shape, "c1_el": c.element, **{f"c1_{k}": format_value(v) for k, v in params.items()}})


@st.cache_data(max_entries=16, show_spinner=False)
def stored_candidate(candidate_json: str) -> str:
    """A sphere cut from a crystal, stored as a cluster (Compare opens it by hash): its hash."""
    return store().add_cluster(Candidate.from_json(json.loads(candidate_json)).build())


def view_3d(row: AnalysisRow) -> None:
    found = row_cluster(row)
    if found is None:
        st.caption("The attenuated crystal is a bulk crystal times a sphere envelope: no cluster to draw; its "
                   f"refined spdiameter is {row.volume_diameter_angstrom / 10:.2f} nm.")
        return
    try:
        html = cluster_view(found[0], "sphere", "coordination", "100%", 300)
    except SwaxsInputError as exc:
        st.caption(f"No 3D view: {md(exc)}")
        return
    st.iframe(html, height=300)
    st.caption(f"{row.n_atoms:,} atoms, extent {row.extent_angstrom / 10:.2f} nm, volume-equivalent diameter "
               f"{row.volume_diameter_angstrom / 10:.2f} nm" + (", EMT energy "
               f"{row.energy_ev_per_atom:.4f} eV/atom" if row.energy_ev_per_atom is not None else ""))


def values_table(row: AnalysisRow, kind: str) -> None:
    st.markdown("**Refined values**")
    st.dataframe(pd.DataFrame({"parameter": [n for n, *_ in row.values],
                               "value": [with_sigma(v, s, u) for _, v, s, u in row.values]}), hide_index=True)
    s = row.settings
    lo, hi = s.get("x_min"), s.get("x_max")
    parts = [f"R_w {row.rw:.4f}"]
    if lo is not None and hi is not None:
        parts.append(f"fit {lo:g}–{hi:g} " + ("Å" if kind == "gr" else "1/Å"))
    if s.get("q_max_inv_angstrom"):
        parts.append(f"Q window {s.get('q_min_inv_angstrom') or 0:g}–{s['q_max_inv_angstrom']:g} 1/Å")
    if s.get("n_refined"):
        parts.append(f"{s['n_refined']} refined")
    st.caption(" · ".join(parts))


@st.cache_data(max_entries=32, show_spinner="Fitting as Compare does...")
def compare_rw(dataset_id: str, cluster_key: tuple, query: tuple) -> float:
    """R_w of the cluster on the dataset with a Compare link's values: the number the Compare page shows."""
    m = store().get_dataset(dataset_id).measurement
    return compare_cluster(m, cluster_for_key(cluster_key).atoms, **compare_kwargs(m.kind, dict(query)),
                           store=store()).fit.rw


def handoffs(result: AnalysisResult, row: AnalysisRow, dataset_id, measurement) -> None:
    """Compare (every refined value, the same R_w), Refine (a sweep around it), Relax (it, or further)."""
    st.markdown("**Hand-offs**")
    found = row_cluster(row)
    if measurement is None or found is None:
        if found is None:
            st.caption("Compare, Refine and Relax take clusters; refine the attenuated crystal on the Refine page "
                       "(Piece of crystal).")
        return
    key, link = found
    try:
        fit = read_fit(store().get_result(row.result_id))
        model = compare_model_of_fit(measurement, fit.summary, fit.settings)
        query = model.query()
        rw = compare_rw(dataset_id, key, tuple(query.items()))
    except SwaxsInputError as exc:
        st.caption(f"Cannot open this fit in Compare: {md(exc)}")
    else:
        compare_handoff(rw, fit.rw, model.notes, {"ds": dataset_id, "n": "1", **link, **query}, what="refinement",
                        bound_note=" (at a bound: Compare lets the scale go negative)")
    c = row.candidate
    if not row.cluster_key and not c.crystal:
        grid = around(c)
        st.page_link("pages/refine.py", label="Sweep around it in Refine", icon=":material/tune:",
                     query_params={"ds": dataset_id, "shape": c.shape, "el": c.element, "grid": grid,
                                   **fit_range(row)},
                     help=f"A sweep of the {c.shape} family over {grid}, against the same data.")
    if key[0] == UPLOAD:
        relax = {"shape": UPLOAD, "cluster": key[1], "ds": dataset_id}
    elif c.element in EMT_ELEMENTS:
        relax = {"shape": c.shape, "el": c.element, "ds": dataset_id,
                 **{k: format_value(v) for k, v in c.params}}
    else:
        st.caption(f"EMT has no parameters for {md(c.element)}: no relaxation.")
        return
    st.page_link("pages/relax.py", label="Relax further in Relax" if row.stage == "relaxed" else "Relax it in Relax",
                 icon=":material/compress:", query_params=relax)


def fit_range(row: AnalysisRow) -> dict[str, str]:
    s = row.settings
    return {name: format_value(float(s[k])) for name, k in (("xmin", "x_min"), ("xmax", "x_max"))
            if s.get(k) is not None}


def around(candidate: Candidate) -> str:
    """A Refine grid of the candidate's family around its size: each size parameter ±1 step, choices held."""
    table = {p.name: p for p in SHAPE_PARAMETERS[candidate.shape]}
    parts = []
    for name, value in candidate.params:
        p = table.get(name)
        if p is None or p.kind == "choice":
            parts.append(f"{name}={value}")
        elif p.kind == "int":
            lo, hi = max(int(p.minimum), int(value) - 1), min(int(p.maximum), int(value) + 1)
            parts.append(f"{name}={lo}..{hi}" if lo < hi else f"{name}={lo}")
        else:
            lo, hi = max(float(p.minimum), float(value) - 5.0), min(float(p.maximum), float(value) + 5.0)
            parts.append(f"{name}={lo:g}..{hi:g}:2.5")
    return ",".join(parts)


# -- mixture, window, prior, what the data cannot decide --------------------------------------------


def mixture_columns(mixture) -> dict[str, list]:
    """The mixture's components as CSV columns (docs/csv.md)."""
    comps = mixture.components
    out: dict[str, list] = {"candidate": [c.label for c in comps]}
    for name in ("number_fraction", "atom_fraction", "mass_fraction", "weight"):
        out[name] = [getattr(c, name) for c in comps]
        out[f"{name}_sigma"] = [getattr(c, f"{name}_sigma") for c in comps]
    return out


def mixture_words(m) -> str:
    if m.accepted:
        return (f"**A mixture of {len(m.components)} candidates fits significantly better** than the best single "
                f"one ({md(m.best_single_label)}): R_w {m.rw:.4f} against {m.rw_single:.4f}, "
                f"F = {m.f_value:.3g}, p = {m.p_value:.2g} < α = {m.alpha:g} ({md(m.test)}).")
    text = (f"**No mixture fits significantly better** than the best single candidate "
            f"({md(m.best_single_label)}, R_w {m.rw_single:.4f})")
    tried = [s for s in m.steps if not s.entered and s.p_adjusted == s.p_adjusted]
    if tried:
        s = tried[-1]
        text += (f": adding the most useful other, {md(s.label)}, lowers R_w to {s.rw:.4f} with p = {s.p_adjusted:.2g} "
                 f"after Bonferroni over {s.n_tried} tried, not below α = {m.alpha:g}")
    return text + "."


def mixture_section(result: AnalysisResult, job_id: str, measurement) -> None:
    st.subheader("Mixture")
    m = result.mixture
    if m is None:
        st.caption("No mixture was fitted (fewer than two refined clusters)."
                   + "".join(f" {md(w)}" for w in result.warnings if w.startswith("no mixture")))
        return
    (st.success if m.accepted else st.info)(mixture_words(m), icon=":material/join_inner:")
    if m.note:
        st.caption(md(m.note))
    columns = mixture_columns(m)

    def shown(name: str) -> list[str]:
        return [with_sigma(v, s) for v, s in zip(columns[name], columns[f"{name}_sigma"])]

    st.dataframe(pd.DataFrame({"candidate": columns["candidate"], "number fraction": shown("number_fraction"),
                               "atom fraction": shown("atom_fraction"), "mass fraction": shown("mass_fraction")}),
                 hide_index=True)
    st.caption(f"{m.n_candidates} refined candidates offered; fractions of particles, atoms and mass ± 1 σ "
               f"({m.weighting} weighting, " + ("no background)." if m.background_model == "none" else
                                             f"{m.background_model} background)."))
    download_csv("Mixture (CSV)", columns, f"swaxs-analyse-{job_id}-mixture.csv", key=f"{PAGE}.mixture_csv")
    if not m.accepted:
        st.caption("The reported fit is then the best single candidate's: rank 1 above.")
    elif measurement is not None and m.fitted is not None and len(m.fitted) == len(measurement.x):
        inside = np.isfinite(m.fitted)
        figure = fit_figure(measurement.x[inside], measurement.values[inside], m.fitted[inside],
                            name=f"mixture (R_w {m.rw:.4f})",
                            kind=measurement.kind, height=380)
        st.plotly_chart(figure, config=plot_config(f"swaxs-analyse-{job_id}-mixture"), key=f"{PAGE}.mixture_plot")


def window_and_prior(result: AnalysisResult) -> None:
    st.subheader("Size window and ML prior")
    w, prior = result.window, result.prior
    used = w.get("used_extent_angstrom") or [None, None]
    cells = st.columns(3)
    if used[0] is not None:
        cells[0].metric("Extents screened", f"{used[0] / 10:.2f}–{used[1] / 10:.2f} nm",
                        help="Largest atom-centre distance of the candidates (docs/sizes.md): the data's window, "
                             "widened by the prior when it is in its domain.")
    lo, hi = w.get("extent_low_angstrom"), w.get("extent_high_angstrom")
    if lo is not None:
        cells[1].metric("Extent from the data", f"≥ {lo / 10:.2f} nm" if hi is None else
                        f"{lo / 10:.2f}–{hi / 10:.2f} nm", help=md(w.get("rule") or ""))
    if prior is None:
        cells[2].metric("ML prior", "not asked" if not result.settings.get("use_prior", True) else "none",
                        help="No model could answer (the reason is below)" if result.settings.get("use_prior", True)
                        else None)
    else:
        interval = prior.get("extent_interval_nm") or [math.nan, math.nan]
        cells[2].metric("ML prior", f"{prior.get('family', '?')} {float(prior.get('family_probability') or 0):.0%}",
                        help=f"Extent {interval[0]:.2f}–{interval[1]:.2f} nm (90 %); "
                             + ("in its domain" if prior.get("in_domain") else "out of its domain: only reported"))
        st.caption(f"ML prior: {md(prior.get('family'))} (probability {float(prior.get('family_probability') or 0):.2f}), "
                   f"extent {interval[0]:.2f}–{interval[1]:.2f} nm (90 % interval), "
                   + ("in its domain: the window includes its interval." if prior.get("in_domain") else
                      "out of its domain: reported, not used."))
    if w.get("rule"):
        st.caption(f"Window rule ({md(w.get('method', ''))}): {md(w['rule'])}")


def undecided(result: AnalysisResult) -> None:
    st.subheader("What the data cannot decide")
    if not result.warnings:
        st.caption("Nothing was flagged.")
        return
    st.markdown("\n".join(f"- {md(w)}" for w in result.warnings))
