"""Compare page: the Debye I(Q) (or G(r)) of candidate clusters over a measured curve, live.

Widgets, then one library call per candidate (``swaxs_lib.compare.compare_cluster``),
then plotting.  The candidates, model sliders and plot sit in one fragment, so a
slider move reruns only that; each candidate's pair histogram is built once per
server (``st.cache_resource``) and model curves go through the store's cache.

The plot is drawn in the browser (``pages/_live_plot.py``): it holds the pieces of
:mod:`swaxs_lib.live` (I(Q), S(Q), F(Q): form-factor coefficients and the pair sinc
sums on a grid; G(r): the pair histogram's node weights for the refinement's
real-space algorithm) and redraws model, scale and background fit, residuals and
R_w (in the legend) the moment a model slider moves (zoom and B; for G(r) zoom,
U, delta2 and Q damping), in the same frame; the rerun that follows brings the
metrics, table, downloads and URL.  What the browser does not compute comes with
the rerun: a change of candidate, data, fit range, background, Q window,
small-angle toggle or axes (new pieces are sent and the plot redrawn whole), and
per-element B or U (the page has one value for all elements).
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from pages._cluster_widgets import UPLOAD, cluster_controls, cluster_summary_line, get_cluster
from pages._live_plot import live_plot
from pages._shared import (
    dataset_key,
    datasets_or_stop,
    download_csv,
    entry_guard,
    md,
    owner_name,
    parse_bool,
    parse_choice,
    parse_number,
    parse_range,
    plot_config,
    show_url_warnings,
    store,
    sync_url,
    url_key,
    url_params,
)
from swaxs_lib.compare import (
    DEFAULT_PDF_Q_RANGE,
    compare_cluster,
    histogram_for,
    pdf_q_range,
)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.linear import BACKGROUNDS
from swaxs_lib.fit.window import Q_MAX_LIMIT, default_fit_range, fit_window, uncertainty_note
from swaxs_lib.live import live_model, live_pdf
from swaxs_lib.refine import realspace
from swaxs_lib.scattering import envelope
from swaxs_lib.scattering.histogram import time_estimate
from swaxs_lib.models import get_model
from swaxs_lib.store.fits import StoredFit, save_fit
from swaxs_lib.io.header import describe_use, header_facts

PAGE = "compare"
MAX_CANDIDATES = 3
#: Above this estimated time (s) of a candidate's first pair histogram, say how long it takes.
SLOW_SECONDS = 2.0
COLORS = ("#d62728", "#1f77b4", "#2ca02c")
Y_LABELS = {"iq": "I(Q) (a.u.)", "sq": "S(Q)", "fq": "F(Q) (1/Å)", "gr": "G(r) (1/Å²)"}
RESIDUAL_LABELS = {"iq": "(data − fit)/data (%)", "sq": "data − fit", "fq": "data − fit (1/Å)",
                   "gr": "data − fit (1/Å²)"}
KEEP = dict(persist_state="session")
#: Model sliders the browser follows live, by the data's domain; their widget keys are compare.<name>.
LIVE_SLIDERS = {"q": ("zoom", "b"), "r": ("zoom", "u", "delta2", "qdamp")}
#: Up to this many plotted points the figure is SVG (faster to redraw), above it WebGL.
SVG_MAX_POINTS = 20_000


@st.cache_resource(max_entries=16, show_spinner=False)
def load_measurement(dataset_id: str):
    """A stored dataset's measurement (datasets never change once stored)."""
    return store().get_dataset(dataset_id).measurement


@st.cache_resource(max_entries=32, show_spinner="Binning pair distances...")
def cluster_histogram(choice_key: tuple, dataset_id: str, q_max_inv_angstrom: float | None):
    """The candidate's pair-distance histogram, fine enough for this dataset."""
    return histogram_for(get_cluster(_choice(choice_key)).atoms, load_measurement(dataset_id),
                         q_max_inv_angstrom=q_max_inv_angstrom)


@st.cache_resource(max_entries=16, show_spinner=False)
def live_pieces(choice_key: tuple, dataset_id: str):
    """The candidate's :class:`~swaxs_lib.live.LiveModel` on this dataset's points (the browser's model)."""
    measurement = load_measurement(dataset_id)
    return live_model(cluster_histogram(choice_key, dataset_id, None), measurement.x, measurement.kind)


@st.cache_resource(max_entries=16, show_spinner=False)
def live_pdf_pieces(choice_key: tuple, dataset_id: str, q_max_option: float | None, q_range: tuple, small_angle: str):
    """The candidate's :class:`~swaxs_lib.live.LivePDF` on this G(r)'s points and Q window (the browser's model)."""
    measurement = load_measurement(dataset_id)
    return live_pdf(cluster_histogram(choice_key, dataset_id, q_max_option), measurement.x, *q_range,
                    small_angle=small_angle)


def _key(choice: dict) -> tuple:
    return tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in choice.items()))


def _choice(key: tuple) -> dict:
    return {k: dict(v) if k == "params" else v for k, v in key}


def _reset_dataset_views() -> None:
    """A new dataset has another x range: drop the range and Q widgets so they take its defaults."""
    for name in ("xr", "qmin", "qmax", "bg", "logy", "logx"):
        st.session_state.pop(f"{PAGE}.{name}", None)


def _clusters_link_params(slot: str, names: list[str]) -> dict[str, str]:
    """The Clusters page's URL parameters for a candidate (its ``c1_shape`` is ``shape`` there)."""
    mine = [name for name in names if name.startswith(slot)]
    return {name[len(slot):]: value for name, value in url_params(PAGE, mine).items()}


def model_controls(measurement, x_lo: float, x_hi: float) -> tuple[dict, list[str]]:
    """The model's parameters (from its table), background, fit range and (for G(r)) the transform's Q range."""
    domain = measurement.domain
    spec = get_model("cluster", measurement.kind)
    values, names = {}, []
    for row in spec.parameters:  # the model's table: held at the slider's value; scale and background are fitted
        if row.name in spec.linear:
            continue
        default = 0.0 if row.name == "qdamp" else row.start
        key = url_key(PAGE, row.name, default, parse_number(row.low, row.high))
        st.slider(row.widget_label(), row.low, row.high, step=_nice_step((row.high - row.low) / 160), key=key, **KEEP,
                  format="%.4g", help=md(row.description))
        values[row.name] = st.session_state[key]
        names.append(row.name)
    bg_key = url_key(PAGE, "bg", "constant" if domain == "q" else "none", parse_choice(BACKGROUNDS))
    st.segmented_control("Background", BACKGROUNDS, key=bg_key, **KEEP,
                         help="Fitted by least squares together with the scale: c0, or c0 + c1·x.")
    if st.session_state[bg_key] is None:  # a segmented control can be clicked off
        st.session_state[bg_key] = "none"
    step = _nice_step((x_hi - x_lo) / 300)
    lo_default, hi_default = default_fit_range(measurement.kind, measurement.x)
    lo_default, hi_default = max(lo_default, x_lo), min(hi_default, x_hi)
    xr_key = url_key(PAGE, "xr", (lo_default, hi_default), parse_range(x_lo, x_hi))
    unit = "1/Å" if domain == "q" else "Å"
    st.slider(f"Fit range ({'Q' if domain == 'q' else 'r'}, {unit})", x_lo, x_hi, step=step, key=xr_key, **KEEP,
              format="%.4g")
    names += ["bg", "xr"]
    options = dict(values=values, background=st.session_state[bg_key])
    if domain == "r":
        header = pdf_q_range(measurement)
        q_default = header or DEFAULT_PDF_Q_RANGE
        left, right = st.columns(2)
        qmin_key = url_key(PAGE, "qmin", float(q_default[0]), parse_number(0.0, 50.0))
        left.number_input("Q_min (1/Å)", 0.0, 50.0, step=0.1, key=qmin_key, **KEEP,
                          help="Of the measured G(r)'s Fourier transform: " +
                               ("from the file header." if header else "the file gives none, set it."))
        # Q_max up to the limit every fit takes, so that a header's or a Refine link's Q_max is not refused
        qmax_key = url_key(PAGE, "qmax", float(q_default[1]), parse_number(1.0, Q_MAX_LIMIT))
        right.number_input("Q_max (1/Å)", 1.0, Q_MAX_LIMIT, step=0.5, key=qmax_key, **KEEP,
                           help="Termination ripples of the model follow this Q_max.")
        sas_key = url_key(PAGE, "sas", True, lambda t: t in ("1", "true", "True"))
        st.toggle("Take out the particle's small-angle scattering", key=sas_key, **KEEP,
                  help="As PDF extraction does with the data: a measured G(r) holds no small-angle part "
                       "(Farrow & Billinge 2009). Off: the plain Debye transform, whose smooth hump from 2 to 20 Å "
                       "a fit would have to absorb.")
        names += ["qmin", "qmax", "sas"]
        options.update(q_min_inv_angstrom=st.session_state[qmin_key], q_max_inv_angstrom=st.session_state[qmax_key],
                       small_angle="subtract" if st.session_state[sas_key] else "keep")
    options["x_range"] = st.session_state[xr_key]
    return options, names


def plot_controls(measurement) -> tuple[bool, bool, list[str]]:
    is_iq = measurement.kind == "iq"
    logy_key = url_key(PAGE, "logy", is_iq, parse_bool)
    logx_key = url_key(PAGE, "logx", False, parse_bool)
    left, right = st.columns(2)
    left.toggle("log I", key=logy_key, disabled=not is_iq, **KEEP)
    right.toggle("log Q", key=logx_key, disabled=measurement.domain != "q", **KEEP)
    return bool(st.session_state[logy_key]) and is_iq, bool(st.session_state[logx_key]), ["logy", "logx"]


entry_guard()
st.title("Compare")
st.caption("Debye scattering of candidate clusters over your data: least-squares scale (and background), R_w, "
           "residuals. Every slider redraws live; the link holds every choice.")

datasets = datasets_or_stop()

ds_key, labels = dataset_key(PAGE, datasets)
show_url_warnings()
top = st.columns([4, 1])
dataset_id = top[0].selectbox("Dataset", list(labels), key=ds_key, format_func=labels.get,
                              on_change=_reset_dataset_views, **KEEP)
n_key = url_key(PAGE, "n", 1, parse_number(1, MAX_CANDIDATES, int))
top[1].number_input("Candidates", min_value=1, max_value=MAX_CANDIDATES, step=1, key=n_key, **KEEP)
measurement = load_measurement(dataset_id)
facts = header_facts(measurement)
x_lo, x_hi = float(measurement.x.min()), float(measurement.x.max())
if note := uncertainty_note(measurement):
    st.info(md(note), icon=":material/info:")


@st.fragment
def live_panel() -> None:
    """Candidates, model sliders, plot, table: reruns alone when any of them changes."""
    names: list[str] = ["ds", "n"]
    n = int(st.session_state[n_key])
    controls, view = st.columns([1, 2.6], gap="medium")
    choices = []
    with controls:
        tabs = st.tabs([f"Candidate {i + 1}" for i in range(n)])
        for i, tab in enumerate(tabs):
            with tab:
                choice, used = cluster_controls(PAGE, slot=f"c{i + 1}_", sliders=True,
                                                element_default=facts.element or "Au")
                names += used
                choices.append(choice)
        with st.container(border=True):
            st.markdown("**Model and fit**")
            options, used = model_controls(measurement, x_lo, x_hi)
            names += used
            log_y, log_x, used = plot_controls(measurement)
            names += used
    sync_url(PAGE, names)

    x_min, x_max = options.pop("x_range")
    results = []
    start = time.perf_counter()
    with view:
        show_url_warnings()  # the sliders' own link values, read just above (the page's were shown before)
        said = describe_use(facts, elements=[c["element"] for c in choices if c and c["shape"] != UPLOAD],
                            q_min_inv_angstrom=options.get("q_min_inv_angstrom"),
                            q_max_inv_angstrom=options.get("q_max_inv_angstrom"))
        if said:
            st.caption(md(said))
        for i, choice in enumerate(choices):
            if choice is None:
                continue
            try:
                cluster = get_cluster(choice)
                if eta := time_estimate(cluster.info.n_atoms, threshold_s=SLOW_SECONDS):
                    st.caption(f"Candidate {i + 1} has {cluster.info.n_atoms:,} atoms ({eta}): its first curve "
                               "takes that long; later slider moves reuse it.")
                hist = cluster_histogram(_key(choice), dataset_id, options.get("q_max_inv_angstrom"))
                comparison = compare_cluster(measurement, cluster.atoms, x_min=x_min, x_max=x_max, histogram=hist,
                                             store=store(), **options)
            except SwaxsInputError as exc:
                st.error(f"Candidate {i + 1}: {md(exc)}", icon=":material/error:")
                continue
            results.append((i, choice, cluster, comparison))
        elapsed_ms = (time.perf_counter() - start) * 1e3
        if not results:
            st.info("Choose a valid candidate on the left.", icon=":material/info:")
            return
        _metrics(results, names)
        _live_figure(measurement, results, options, x_min, x_max, log_y, log_x, dataset_id)
        st.caption(f"Models and fits in {elapsed_ms:.0f} ms ({sum(len(c.atoms) for *_, c, _ in results):,} atoms, "
                   f"{measurement.n_points:,} points; weights: {results[0][3].fit.weighting}).")
        _downloads(results, dataset_id)
        _save_button(results, dataset_id)


def _metrics(results, names: list[str]) -> None:
    columns = st.columns(len(results))
    for column, (i, choice, cluster, comparison) in zip(columns, results):
        with column:
            st.metric(f"R_w, candidate {i + 1}", f"{comparison.fit.rw:.4f}",
                      help="sqrt(Σ w (data − fit)² / Σ w data²) over the fit range (Toby 2006).")
            st.caption(f"{md(cluster_summary_line(cluster))}; scale {comparison.fit.scale:.4g}")
            st.page_link("pages/clusters.py", label="View in 3D", icon=":material/view_in_ar:",
                         query_params=_clusters_link_params(f"c{i + 1}_", names))


def _live_figure(measurement, results, options: dict, x_min: float, x_max: float, log_y: bool, log_x: bool,
                 dataset_id: str) -> None:
    """The figure, drawn (and redrawn while the model sliders move) in the browser."""
    background = options["background"]
    weights = fit_window(measurement, x_min, x_max, n_parameters=1 + BACKGROUNDS.index(background)).weights
    arrays = {"x": measurement.x, "y": measurement.values, "w": weights}
    if measurement.uncertainties is not None:
        arrays["sigma"] = measurement.uncertainties
    candidates = []
    for k, (i, choice, cluster, comparison) in enumerate(results):
        entry = {"index": i + 1, "label": f"{i + 1}: {cluster.info.formula}", "color": COLORS[i % len(COLORS)]}
        if measurement.domain == "q":
            pieces = live_pieces(_key(choice), dataset_id)
            arrays.update({f"c{k}_offset": pieces.offset, f"c{k}_coefficients": pieces.coefficients,
                           f"c{k}_grid": pieces.sinc_grid})
            entry.update(n_grid=int(pieces.sinc_grid.shape[1]), grid_start=pieces.grid_start_inv_angstrom,
                         grid_step=pieces.grid_step_inv_angstrom, n_elements=len(pieces.elements))
        else:
            pieces = live_pdf_pieces(_key(choice), dataset_id, options.get("q_max_inv_angstrom"),
                                     tuple(comparison.q_range_inv_angstrom), options["small_angle"])
            arrays.update({f"c{k}_nodes": pieces.node_weights, f"c{k}_pair_weights": pieces.pair_weights})
            n_grid = int(round(pieces.length_angstrom / pieces.grid_step_angstrom))
            volume = pieces.atomic_volume_angstrom3
            entry.update(n_nodes=int(pieces.node_weights.shape[1]), dr=pieces.bin_width_angstrom,
                         n_grid_pdf=1 << (n_grid - 1).bit_length(), q_min=pieces.q_min_inv_angstrom,
                         q_max=pieces.q_max_inv_angstrom, self_weight=pieces.self_weight,
                         volume=None if np.isnan(volume) else volume, n_elements=pieces.n_elements)
        entry["pairs"] = [list(p) for p in pieces.pairs]
        candidates.append(entry)
    sliders = LIVE_SLIDERS[measurement.domain]
    config = dict(plot_config(f"swaxs-compare-{dataset_id}"), responsive=True)
    spec = {"kind": measurement.kind, "n_points": measurement.n_points, "candidates": candidates,
            "n_background": BACKGROUNDS.index(background),
            "values": {name: float(options["values"][name]) for name in sliders},
            "sliders": {name: f"st-key-{PAGE}-{name}" for name in sliders},
            "x_min": x_min, "x_max": x_max, "log_x": log_x, "log_y": log_y,
            "relative_residual": measurement.kind == "iq",
            "x_label": "Q (1/Å)" if measurement.domain == "q" else "r (Å)", "y_label": Y_LABELS[measurement.kind],
            "residual_label": RESIDUAL_LABELS[measurement.kind], "height": 620, "config": config,
            "webgl": measurement.n_points * (2 * len(results) + 1) > SVG_MAX_POINTS,
            # realspace_pdf's constants (swaxs_lib/refine/realspace.py, swaxs_lib/scattering/envelope.py)
            "pdf": {"grid_step": realspace.GRID_STEP_ANGSTROM, "floor_steps": realspace.FLOOR_STEPS,
                    "gauss_cut": realspace.GAUSS_CUT, "min_width_factor": realspace.MIN_WIDTH_FACTOR,
                    "sas_cutoff": envelope.SAS_CUTOFF, "sas_taper_start": envelope.SAS_TAPER_START}}
    live_plot(spec, arrays, key="compare-live-plot")


def _table(results) -> dict[str, list]:
    """One row per candidate: identifiers, then every parameter with its unit and sigma (the fit's own names), R_w."""
    rows = []
    for i, _, cluster, comparison in results:
        info, fit = cluster.info, comparison.fit
        row = {"candidate": i + 1, "shape": info.shape, "formula": info.formula,
               "parameters": " ".join(f"{k}={v}" for k, v in info.parameters), "n_atoms": info.n_atoms,
               "extent_angstrom": round(info.extent_angstrom, 3),
               "volume_diameter_angstrom": None if info.volume_diameter_angstrom is None
               else round(info.volume_diameter_angstrom, 3)}
        row.update({k: v for k, v in comparison.result.parameter_row().items() if k != "rw"})
        row.update(rw=fit.rw, fit_points=fit.n_points)
        rows.append(row)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return {c: [row.get(c) for row in rows] for c in columns}


def _downloads(results, dataset_id: str) -> None:
    table = _table(results)
    st.dataframe(table, hide_index=True)
    columns = st.columns(len(results) + 1)
    with columns[0]:
        download_csv("Table (CSV)", table, f"swaxs-compare-{dataset_id}.csv", key="compare-table-csv")
    for column, (i, _, cluster, comparison) in zip(columns[1:], results):
        with column:
            download_csv(f"Curves {i + 1} (CSV)", comparison.columns(),
                         f"swaxs-compare-{dataset_id}-candidate{i + 1}.csv", key=f"compare-curves-{i}")


def _save_button(results, dataset_id: str) -> None:
    if st.button("Save these fits to the store", icon=":material/save:"):
        for i, _, cluster, comparison in results:
            fit = comparison.fit
            save_fit(store(), StoredFit.from_fit(
                comparison.result, producer="compare", cluster=cluster.info, dataset_id=dataset_id,
                inputs={"page": "compare", "cluster": cluster.info.to_dict(), "values": comparison.values,
                        "background": fit.background_model, "x_min": fit.x_min, "x_max": fit.x_max,
                        "q_range_inv_angstrom": comparison.q_range_inv_angstrom}),
                message=f"{cluster.info.formula} {cluster.info.shape}: R_w {fit.rw:.4f}", owner=owner_name())
        st.toast(f"Saved {len(results)} fit(s); they are listed on the Home page.")


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    power = 10 ** np.floor(np.log10(max(raw, 1e-9)))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return float(m * power)
    return float(10 * power)


live_panel()
