"""Predict page: shape, size and element of a stored curve from the trained models, and the closest library curves.

Widgets (dataset, element if known, which match to show), then one library call
(:func:`swaxs_lib.ml.predict.predict`, after :func:`~swaxs_lib.ml.predict.model_input`
turns S(Q) or F(Q) into I(Q)), then rendering: the class probabilities, size and
element with their intervals, the domain check's warnings, novelty, the top
matches overlaid on the data, the chosen match in 3D, and links that open it
in Compare, Refine or Clusters.  The model bundle is loaded once per server;
every choice lives in the URL.

The Compare link carries the library curve's whole model
(:func:`swaxs_lib.ml.predict.library_model`: B, Q damping, delta2, Q window,
background, fit range), and the R_w shown beside it is Compare's own
(:func:`swaxs_lib.compare.compare_cluster` with the link's values); the
search's R_w, on the library's grid, is in the table.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import streamlit as st

from pages._cluster_widgets import cluster_for_key, cluster_view
from pages._shared import (
    dataset_key,
    datasets_or_stop,
    download_csv,
    entry_guard,
    follow_default,
    format_value,
    md,
    parse_bool,
    parse_choice,
    parse_number,
    plot_config,
    show_url_warnings,
    store,
    sync_url,
    url_key,
)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.header import describe_use, header_facts
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, SHAPE_OF_CLASS
from swaxs_lib.ml.measured import domain_reasons
from swaxs_lib.ml.models import default_model_dir, load_bundle
from swaxs_lib.compare import compare_cluster
from swaxs_lib.ml.predict import (
    TOP_MATCHES,
    composition_elements,
    curve_resolution,
    library_model,
    matches_columns,
    model_input,
    predict,
    prediction_row,
)
from swaxs_lib.structures.sizes import SIZE_DEFINITIONS
from swaxs_lib.views import compare_kwargs

PAGE = "predict"
KEEP = {"persist_state": "session"}
UNKNOWN = "unknown"
ELEMENT_CHOICES = (UNKNOWN, *ELEMENTS)
#: One colour per coarse shape, so that fine classes of one shape (the three spheres) look alike.
SHAPE_COLORS = {"icosahedron": "#d62728", "decahedron": "#1f77b4", "octahedron": "#2ca02c",
                "truncated-octahedron": "#9467bd", "cuboctahedron": "#ff7f0e", "sphere": "#8c564b"}
MATCH_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")
VIEW_HEIGHT_PX = 380


@st.cache_resource(max_entries=2, show_spinner="Loading the models...")
def model_bundle(folder: str):
    """The trained models and library of ``folder``, loaded once per server (read-only, shared)."""
    return load_bundle(folder)


@st.cache_resource(max_entries=16, show_spinner=False)
def load_measurement(dataset_id: str):
    """A stored dataset's measurement (datasets never change once stored)."""
    return store().get_dataset(dataset_id).measurement


@st.cache_data(max_entries=32, show_spinner="Predicting...")
def prediction_for(folder: str, dataset_id: str, element: str | None, source: str = "user",
                   allowed: tuple[str, ...] | None = None, q_damp: float | None = None,
                   resolution: tuple[float, float] | None = None, monodisperse: bool = False):
    """(model kind, x, values, notes, Prediction) for a stored dataset; raises SwaxsInputError.
    ``resolution``: the instrument's (relative, absolute 1/Å) Q resolution, else the file's dQ if it has one;
    ``monodisperse``: the sample holds one size."""
    m = load_measurement(dataset_id)
    kind, x, values, notes = model_input(m.kind, m.x, m.values, element)
    dq = curve_resolution(m, kind, resolution)
    return kind, x, values, notes, predict(model_bundle(folder), kind, x, values, element=element,
                                           top=TOP_MATCHES, element_source=source, allowed_elements=allowed,
                                           domain_reasons=domain_reasons(m), q_damp_inv_angstrom=q_damp,
                                           q_resolution=dq, monodisperse=monodisperse)


def parameters_text(parameters: dict) -> str:
    return " ".join(f"{k}={format_value(v)}" for k, v in parameters.items())


@st.cache_data(max_entries=32, show_spinner="Fitting the match as Compare does...")
def compare_rw(dataset_id: str, cluster_key: tuple, query: tuple) -> float:
    """R_w of the cluster on the dataset with a Compare link's values: the number the Compare page shows."""
    m = load_measurement(dataset_id)
    return compare_cluster(m, cluster_for_key(cluster_key).atoms, **compare_kwargs(m.kind, dict(query)),
                           store=store()).fit.rw


def match_links(match, dataset_id: str) -> dict[str, dict[str, str]]:
    """Query parameters that open ``match`` on the Compare (with the library curve's model), Refine and Clusters
    pages."""
    params = {k: format_value(v) for k, v in match.parameters.items()}
    return {
        "compare": {"ds": dataset_id, "n": "1", "c1_shape": match.shape, "c1_el": match.element,
                    **{f"c1_{k}": v for k, v in params.items()},
                    **library_model(match, load_measurement(dataset_id)).query()},
        # a one-candidate sweep: the grid is exactly this candidate
        "refine": {"ds": dataset_id, "shape": match.shape, "el": match.element,
                   "grid": ",".join(f"{k}={v}" for k, v in params.items())},
        "clusters": {"shape": match.shape, "el": match.element, **params},
    }


def _model_caption(match, model) -> str:
    """The search's own R_w and the model the Compare link carries, in words."""
    v = model.values
    if model.kind == "gr":
        what = (f"U {v['u']:.4g} Å² (B {v['u'] * 8 * math.pi ** 2:.2g} Å²), Q damping {v['qdamp']:g} 1/Å, "
                f"delta2 {v['delta2']:g} Å², Q window {model.q_min_inv_angstrom:g}–"
                f"{model.q_max_inv_angstrom:g} 1/Å, fit {model.x_min:g}–{model.x_max:g} Å")
    else:
        what = f"B {v['b']:g} Å², {model.background} background, fit {model.x_min:g}–{model.x_max:g} 1/Å"
    return (f"Library search: R_w {match.rw:.4f} (the table's; data interpolated onto the library's grid). "
            f"Compare opens the library curve's model: {what}, zoom {v['zoom']:g}.")


def headline(p) -> None:
    """Shape, size, element and domain as metrics; every warning."""
    cells = st.columns([2.6, 1.2, 1.4, 1.1, 0.9, 0.9])  # "4.73 nm" on one line at 1280 px
    cells[0].metric("Shape", p.shape or "–", help="Most probable shape, its fine classes summed.")
    cells[0].caption(f"class {p.shape_class}, family {p.family} ({p.family_probability:.0%})" if p.shape_class
                     else "not predicted")
    cells[1].metric("Shape probability", "–" if p.shape_probability is None else f"{p.shape_probability:.0%}",
                    help="Calibrated (isotonic) probability of this shape.")
    if p.primary_size == "volume_diameter" and p.volume_diameter_nm is not None:
        # SAXS alone, no shape: the size the curve determines leads; the extent depends on the unknown shape
        cells[2].metric("Volume-equivalent diameter", f"{p.volume_diameter_nm:.2f} nm",
                        help=f"{SIZE_DEFINITIONS['volume_diameter_angstrom']}. What a SAXS curve without a shape "
                             "determines; the interval covers 90 % of held-out samples (conformal).")
        cells[2].caption(("" if not p.volume_diameter_interval_nm else
                          f"90 %: {p.volume_diameter_interval_nm[0]:.2f}–{p.volume_diameter_interval_nm[1]:.2f} nm; ")
                         + ("" if p.outer_diameter_nm is None else
                            f"outer diameter {p.outer_diameter_nm:.2f} nm if the shape is typical (not determined)")
                         + ("" if not p.size_physics else
                            f"; extent {p.extent_nm:.2f} nm, {p.size_physics['extent_probability']:.0%} probable "
                            "within one shell or 5 %"),
                         help=SIZE_DEFINITIONS["outer_diameter_angstrom"])
    else:
        cells[2].metric("Outer diameter", "–" if p.outer_diameter_nm is None else f"{p.outer_diameter_nm:.2f} nm",
                        help=f"{SIZE_DEFINITIONS['outer_diameter_angstrom']}. The models predict the "
                             "extent (atom centre to atom centre); the interval covers 90 % of held-out samples "
                             "(conformal).")
        if p.outer_diameter_interval_nm:
            cells[2].caption(f"90 %: {p.outer_diameter_interval_nm[0]:.2f}–{p.outer_diameter_interval_nm[1]:.2f} nm; "
                             f"extent {p.extent_nm:.2f} nm"
                             + ("" if p.volume_diameter_nm is None else
                                f"; volume-equivalent {p.volume_diameter_nm:.2f} nm"),
                             help=SIZE_DEFINITIONS["volume_diameter_angstrom"])
    cells[3].metric("Atoms", "–" if p.n_atoms is None else f"{p.n_atoms:,}",
                    help="Predicted atom count, with its 90 % interval.")
    if p.n_atoms_interval:
        cells[3].caption(f"90 %: {p.n_atoms_interval[0]:,}–{p.n_atoms_interval[1]:,}")
    cells[4].metric("Element", p.element or "–", help="The element given (Element box) or taken from the file "
                    "header, which replaces the model's answer; else the most probable element of the six in the "
                    "database (of those the header's composition allows).")
    if p.element_source in ("user", "header"):
        own = max(p.element_model_probabilities, key=p.element_model_probabilities.get, default=None)
        cells[4].caption(("from the header" if p.element_source == "header" else "given")
                         + (f"; the model alone: {own} {p.element_model_probabilities[own]:.0%}" if own else ""))
    elif p.element_probability is not None:
        cells[4].caption(f"probability {p.element_probability:.0%}"
                         + ("" if len(p.allowed_elements) == len(ELEMENTS) else
                            f" (of {', '.join(p.allowed_elements)}, from the header)"))
    cells[5].metric("In domain", "yes" if p.in_domain else "no",
                    help="No: the curve misses a model's window, or is unlike the training data; see the warnings.")


def probability_figure(p) -> go.Figure:
    classes = list(SHAPE_CLASSES)[::-1]  # first class on top
    probs = [p.probabilities.get(c, 0.0) for c in classes]
    colors = [SHAPE_COLORS[SHAPE_OF_CLASS[c]] for c in classes]
    figure = go.Figure(go.Bar(
        x=probs, y=classes, orientation="h", marker={"color": colors, "line": {
            "color": ["#000" if c == p.shape_class else "rgba(0,0,0,0)" for c in classes], "width": 2}},
        text=[f"{v:.0%}" if v >= 0.005 else "" for v in probs], textposition="outside", cliponaxis=False,
        customdata=[SHAPE_OF_CLASS[c] for c in classes],
        hovertemplate="%{y} (%{customdata}): %{x:.3f}<extra></extra>",
    ))
    figure.update_layout(title="Shape class probabilities", height=360, margin={"l": 10, "r": 40, "t": 40, "b": 40},
                         xaxis={"title": "probability", "range": [0, 1.08], "tickformat": ".0%"})
    return figure


def matches_figure(kind: str, x, values, matches, library, chosen: int) -> go.Figure:
    """The data and each match's library curve × its fitted scale (+ background)."""
    grid = library["q_inv_angstrom"] if kind == "iq" else library["r_angstrom"]
    curves = library["iq"] if kind == "iq" else library["gr"]
    inside = (grid >= x.min()) & (grid <= x.max())
    figure = go.Figure(go.Scatter(x=x, y=values, mode="markers", name="data", marker={"size": 3, "color": "#444"}))
    for m in matches:
        model = m.scale * curves[m.index][inside].astype(float) + m.background
        figure.add_trace(go.Scatter(
            x=grid[inside], y=model, mode="lines", name=f"{m.rank}: {m.element} {m.shape_class} "
                                                         f"{parameters_text(m.parameters)} (R_w {m.rw:.3f})",
            line={"color": MATCH_COLORS[(m.rank - 1) % len(MATCH_COLORS)], "width": 3 if m.rank == chosen else 1.2},
            opacity=1.0 if m.rank == chosen else 0.75))
    if kind == "iq":
        figure.update_xaxes(title_text="Q (1/Å)", type="log")
        figure.update_yaxes(title_text="I(Q) (a.u.)", type="log", exponentformat="power")
    else:
        figure.update_xaxes(title_text="r (Å)")
        figure.update_yaxes(title_text="G(r) (1/Å²)")
    figure.update_layout(title="Top library matches over the data", height=460,
                         margin={"l": 60, "r": 20, "t": 40, "b": 50}, legend={"x": 0.99, "xanchor": "right", "y": 0.99})
    return figure


def show_match(match, dataset_id: str) -> None:
    """The chosen match in 3D and the links that open it on the other pages."""
    view, side = st.columns([3, 2], gap="medium")
    key = (match.shape, match.element, tuple(sorted(match.parameters.items())))
    with view:
        st.markdown(f"**Match {match.rank}: {md(match.element)} {md(match.shape)}** "
                    f"{md(parameters_text(match.parameters))} ({md(match.family)})")
        try:
            with st.spinner("Preparing the 3D view..."):
                html = cluster_view(key, "sphere", "element", "100%", VIEW_HEIGHT_PX)
        except SwaxsInputError as exc:
            st.error(md(exc), icon=":material/error:")
        else:
            st.iframe(html, height=VIEW_HEIGHT_PX + 10)
    with side:
        links = match_links(match, dataset_id)
        model = library_model(match, load_measurement(dataset_id))
        try:
            rw = compare_rw(dataset_id, key, tuple(model.query().items()))
        except SwaxsInputError as exc:
            st.error(f"Compare cannot fit this match: {md(exc)}", icon=":material/error:")
        else:
            st.metric("R_w in Compare", f"{rw:.4f}",
                      help="What Compare shows for this match: the library curve's model (below) on the data's own "
                           "points, scale and background fitted exactly.")
        st.caption(_model_caption(match, model))
        st.caption(f"{match.n_atoms:,} atoms, extent {match.extent_nm:.2f} nm (the library member, in "
                   f"{md(match.element)} at its own lattice constant)")
        st.page_link("pages/compare.py", label="Open in Compare", icon=":material/compare:",
                     query_params=links["compare"])
        st.page_link("pages/refine.py", label="Refine this candidate", icon=":material/tune:",
                     query_params=links["refine"])
        st.page_link("pages/clusters.py", label="View in Clusters", icon=":material/hub:",
                     query_params=links["clusters"])


entry_guard()
st.title("Predict")
st.caption("Shape, size and element of a cluster sample from its I(Q) or G(r), by models trained on simulated "
           "curves, and the closest curves of the reference library. Check a prediction in Compare or Refine.")
datasets = datasets_or_stop()
ds_key, labels = dataset_key(PAGE, datasets)
el_key = url_key(PAGE, "el", UNKNOWN, parse_choice(ELEMENT_CHOICES))
match_key = url_key(PAGE, "match", 1, parse_number(1, TOP_MATCHES, int))
show_url_warnings()
facts = header_facts(load_measurement(st.session_state[ds_key]))
follow_default(PAGE, "el", facts.element if facts.element in ELEMENTS else UNKNOWN)
top = st.columns([4, 1, 1], vertical_alignment="bottom")
dataset_id = top[0].selectbox("Dataset", list(labels), key=ds_key, format_func=labels.get, **KEEP)
top[1].selectbox("Element (if known)", ELEMENT_CHOICES, key=el_key, **KEEP,
                 help="Replaces the element model's answer (its own probabilities stay beside it), restricts the library "
                      "search to it and checks the domain. "
                      "S(Q) and F(Q) are turned into I(Q) with its form factor (gold if unknown). "
                      "Set from the file header's composition until you choose.")
top[2].page_link("pages/data.py", label="Upload data", icon=":material/upload_file:")
if said := describe_use(facts, elements=[st.session_state[el_key]]):
    st.caption(md(said))
url_names = ["ds", "el", "match"]
element = None if st.session_state[el_key] == UNKNOWN else st.session_state[el_key]
q_damp = None
if load_measurement(dataset_id).kind == "gr":
    qdamp_key = url_key(PAGE, "qdamp", None, parse_number(0.0, 0.2))
    st.columns([1, 3])[0].number_input(
        "Instrument Q damping (1/Å)", min_value=0.0, max_value=0.2, value=None, step=0.001, format="%.4f",
        key=qdamp_key, placeholder="unknown", **KEEP,
        help="From a calibrant (Ni or Si measured on the same set-up). With it, the G(r)'s envelope tells a bulk "
             "sample or a particle larger than the database's from one inside it; without it, a G(r) that dies away "
             "as a damped bulk crystal's gets a size that is only a lower bound.")
    q_damp = st.session_state[qdamp_key]
    url_names.append("qdamp")
resolution, monodisperse = None, False
if load_measurement(dataset_id).kind != "gr":
    has_dq = load_measurement(dataset_id).x_resolution is not None
    rel_key = url_key(PAGE, "dqrel", None, parse_number(0.0, 0.5))
    abs_key = url_key(PAGE, "dqabs", None, parse_number(0.0, 0.1))
    res_cols = st.columns([1, 1, 2])
    res_cols[0].number_input(
        "Q resolution dQ/Q (1σ)", min_value=0.0, max_value=0.5, value=None, step=0.005, format="%.3f",
        key=rel_key, placeholder="the file's dQ" if has_dq else "unknown", **KEEP,
        help="The instrument's Gaussian Q resolution, σ_Q = √((dQ/Q · Q)² + dQ_abs²). A SAXS-only curve is sized "
             "with it instead of the database's range of resolutions, and held out is right more often. "
             "Empty: the file's dQ column if it has one.")
    res_cols[1].number_input(
        "+ absolute dQ (1/Å)", min_value=0.0, max_value=0.1, value=None, step=0.001, format="%.4f",
        key=abs_key, placeholder="0", **KEEP, help="The Q-independent part of σ_Q (beam size, pixel).")
    if st.session_state[rel_key] is not None or st.session_state[abs_key] is not None:
        resolution = (st.session_state[rel_key] or 0.0, st.session_state[abs_key] or 0.0)
    mono_key = url_key(PAGE, "mono", False, parse_bool)
    res_cols[2].checkbox("One size (atomically precise clusters)", key=mono_key, **KEEP,
                         help="The sample holds one size (from mass spectrometry, say): a SAXS-only curve is then "
                              "sized without a spread of sizes. Wrong for an ordinary synthesis, whose sizes spread.")
    monodisperse = st.session_state[mono_key]
    url_names += ["dqrel", "dqabs", "mono"]
folder = str(default_model_dir())

try:
    model_bundle(folder)
except SwaxsInputError as exc:
    st.error(f"{md(exc)}. Set `SWAXS_MODELS` to a model folder, or train one with "
             "`python -m swaxs_lib build-db` and `python -m swaxs_lib train`.", icon=":material/error:")
    sync_url(PAGE, url_names)
    st.stop()
try:
    kind, x, values, notes, p = prediction_for(
        folder, dataset_id, element, "header" if element is not None and element == facts.element else "user",
        composition_elements(facts) if element is None else None, q_damp, resolution, monodisperse)
except SwaxsInputError as exc:
    st.error(md(exc), icon=":material/error:")
    sync_url(PAGE, url_names)
    st.stop()

headline(p)
for message in (*notes, *p.warnings):
    st.warning(md(message), icon=":material/warning:")

chart, numbers = st.columns([3, 2], gap="medium")
with chart:
    if p.probabilities:
        st.plotly_chart(probability_figure(p), config=plot_config(f"swaxs-predict-{dataset_id}-classes"),
                        key=f"{PAGE}.classes")
    else:
        st.info("No shape prediction for this curve's range (see the warnings).", icon=":material/info:")
with numbers:
    st.markdown("**Novelty** (≤ 1: like the training data)")
    st.dataframe({"model": list(p.novelty), "novelty": list(p.novelty.values())}, hide_index=True)
    if p.tempering:
        st.caption("Probabilities tempered towards the training prior by the novelty, or as at novelty 2 for a "
                   "reason found without the models (header, units, size check): λ "
                   + ", ".join(f"{v:.2f} ({m})" for m, v in p.tempering.items())
                   + " (p → (1 − λ) p + λ prior; λ = 0.01 up to novelty 1).")
    if p.size_window_inv_angstrom:
        lo, hi = p.size_window_inv_angstrom
        if p.size_physics:
            st.caption(f"Size from the SAXS window {lo:g}–{hi:g} 1/Å alone: the extent from physics (every ladder "
                       "cluster, size scale, spread and Q resolution fitted to the curve; "
                       f"{p.size_physics['extent_probability']:.0%} of the posterior within one shell or 5 % of it, "
                       f"{p.size_physics['monodisperse_probability']:.0%} on no spread of sizes, misfit "
                       f"{p.size_physics['misfit']:.3g}; Q resolution: "
                       + ("the one given, 0.7–1.4× of it tried" if p.size_physics.get("resolution_given") else
                          "unknown, none to the database's largest tried")
                       + ("; told one size" if p.size_physics.get("monodisperse_told") else "")
                       + "), the volume-equivalent diameter and atom count from the "
                       f"window size model (its extent: {p.size_physics['window_model_extent_nm']:.2f} nm).")
        else:
            st.caption(f"Size from the SAXS window {lo:g}–{hi:g} 1/Å alone (the window size model).")
    if p.size_note:
        st.caption(p.size_note)
    if p.size_range.get("rg_angstrom") is not None:
        st.caption(f"Size check: Guinier R_g {p.size_range['rg_angstrom']:.1f} Å (a sphere of "
                   f"{p.size_range['sphere_diameter_nm']:.2f} nm), {p.size_range['status']} the training range.")
    if p.size_range.get("r_max_angstrom") is not None:
        st.caption(f"Size check: the G(r)'s envelope to {p.size_range['r_max_angstrom']:.0f} Å"
                   + ("" if q_damp is None else f" with the instrument's Q damping {q_damp:g} 1/Å divided out")
                   + f": {p.size_range['status']} (inside: a particle the database holds; above: larger or bulk; "
                     "unbounded: as a damped bulk crystal's).")
    if p.element_probabilities:
        st.caption("Element probabilities: " + ", ".join(f"{e} {v:.0%}" for e, v in p.element_probabilities.items()))
    st.caption(f"Models: {md(', '.join(p.models))}; from {md(folder)}.")
    download_csv("Class probabilities (CSV)",
                 {"shape_class": list(SHAPE_CLASSES), "shape": [SHAPE_OF_CLASS[c] for c in SHAPE_CLASSES],
                  "probability": [p.probabilities.get(c) for c in SHAPE_CLASSES]},
                 f"swaxs-predict-{dataset_id}-classes.csv", key=f"{PAGE}.classes_csv")
    summary = prediction_row({**p.to_dict(), "warnings": [*notes, *p.warnings], "data": dataset_id})
    download_csv("Prediction summary (CSV)", {k: [v] for k, v in summary.items()}, f"swaxs-predict-{dataset_id}.csv",
                 key=f"{PAGE}.summary_csv")

st.subheader("Closest library curves")
if not p.matches:
    st.info("No matches: the curve covers neither window the library is matched on (SAXS 0.02–1, WAXS 2.4–10 1/Å)."
            if model_bundle(folder).library else "The model folder holds no library: no matches.",
            icon=":material/info:")
    sync_url(PAGE, url_names)
    st.stop()
if st.session_state[match_key] > len(p.matches):
    st.session_state[match_key] = 1
table = matches_columns(p.matches)
shown = {k: v for k, v in table.items() if k not in ("scale", "background")}
shown["parameters"] = [parameters_text(m.parameters) for m in p.matches]
event = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row",
                     key=f"{PAGE}.table.{dataset_id}.{st.session_state[el_key]}",
                     column_config={"rw": st.column_config.NumberColumn(
                         "R_w (search)", format="%.4f", help="On the library's grid and windows; the match's R_w "
                                                             "in Compare is shown with it below.")})
rows = event.selection.rows if event is not None else []
if rows:
    st.session_state[match_key] = int(table["rank"][rows[0]])
chosen = int(st.session_state[match_key])
download_csv("Matches (CSV)", table, f"swaxs-predict-{dataset_id}-matches.csv", key=f"{PAGE}.matches_csv")
st.caption(f"Click a row to show that match below; showing match {chosen}. "
           + ("Restricted to " + md(element) + "." if element else "All six elements searched."))
negative = [m.rank for m in p.matches if m.scale <= 0]
if negative:
    st.warning(f"Match(es) {', '.join(map(str, negative))} fit with a negative scale (the background carries the "
               "curve): they do not resemble the data, whatever their R_w.", icon=":material/warning:")
st.plotly_chart(matches_figure(kind, x, values, p.matches, model_bundle(folder).library, chosen),
                config=plot_config(f"swaxs-predict-{dataset_id}-matches"), key=f"{PAGE}.matches_plot")
show_match(p.matches[chosen - 1], dataset_id)
sync_url(PAGE, url_names)
