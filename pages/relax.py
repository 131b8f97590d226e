"""Relax page: relax a cluster with ASE (BFGS + EMT) in the background, watch energy, forces, size and R_w per step.

UI only: the relaxation is a job of :mod:`swaxs_lib.jobs` (task ``relax`` in
:mod:`swaxs_lib.relax`); its trace is read from the job's row while it runs
(the plots redraw every second), frames and refit curves from the store's
blobs.  The job id and the step shown are in the URL.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from pages._cluster_widgets import UPLOAD, cluster_controls
from pages._shared import (
    compare_handoff,
    datasets_for_viewer,
    download_csv,
    entry_guard,
    fit_figure,
    md,
    md_value,
    owner_name,
    parse_bool,
    parse_choice,
    parse_id,
    parse_number,
    plot_config,
    recent_jobs,
    show_job_failure,
    show_url_warnings,
    store,
    sync_url,
    url_given,
    url_key,
    watch_job,
)
from swaxs_lib.compare import compare_cluster
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.header import describe_use, header_facts
from swaxs_lib.jobs import (
    submit,
)
from swaxs_lib.relax import (
    EMT_ELEMENTS,
    OPTIMIZERS,
    RelaxTrace,
    decode_curves,
    decode_positions,
    fit_key,
    frame_key,
    job_trace,
)
from swaxs_lib.structures import structure_text
from swaxs_lib.structures.parameters import LATTICE_CONSTANT
from swaxs_lib.viewer import cluster_view_html, trajectory_view_html
from swaxs_lib.views import compare_kwargs, compare_model_of_fit

PAGE = "relax"
KEEP = dict(persist_state="session")
NO_DATA = "none"
#: At most this many frames go into the animation (every k-th step).
MAX_ANIMATION_FRAMES = 60


def start_relax(cluster: dict, dataset_id: str | None, optimizer: str, fmax: float, steps: int, every: int) -> None:
    """Button callback: submit the relax job, put its id in the URL."""
    if cluster["shape"] == UPLOAD:
        spec, label = {"key": cluster["key"]}, f"relax {cluster.get('name', 'upload')}"
    else:
        spec = {"shape": cluster["shape"], "element": cluster["element"], "params": cluster["params"]}
        label = f"relax {cluster['element']} {cluster['shape']} " + " ".join(
            f"{k}={v}" for k, v in cluster["params"].items())
    try:
        job = submit(store(), "relax", {"cluster": spec, "dataset_id": dataset_id, "optimizer": optimizer,
                                        "fmax": fmax, "steps": steps, "refit_every": every},
                     dataset_id=dataset_id, label=label, owner=owner_name())
    except SwaxsInputError as exc:
        st.session_state[f"{PAGE}._error"] = str(exc)
        return
    st.session_state[f"{PAGE}.job"] = job.id
    st.session_state[f"{PAGE}.step"] = 0


def relax_form() -> list[str]:
    st.markdown("**Cluster**")
    datasets = datasets_for_viewer()
    labels = {NO_DATA: "none (relax only)", **{d.id: f"{d.name} ({d.kind}, {d.n_points} points)" for d in datasets}}
    ds_key = url_key(PAGE, "ds", NO_DATA, str)
    if st.session_state[ds_key] not in labels:
        st.session_state[ds_key] = NO_DATA
    data = None if st.session_state[ds_key] == NO_DATA else store().get_dataset(st.session_state[ds_key]).measurement
    facts = None if data is None else header_facts(data)
    choice, names = cluster_controls(PAGE, sliders=True, element_default=(facts and facts.element) or "Au")
    st.selectbox("Refit against", list(labels), key=ds_key, format_func=labels.get, **KEEP,
                 help="Each traced structure is refined against this dataset (G(r) in real space, I(Q) by Debye).")
    if facts is not None:
        window = facts.q_range_inv_angstrom if data.domain == "r" else None
        elements = [choice["element"]] if choice and choice["shape"] != UPLOAD else []
        if said := describe_use(facts, elements=elements, q_min_inv_angstrom=window and window[0],
                                q_max_inv_angstrom=window and window[1]):
            st.caption(md(said))
    opt_key = url_key(PAGE, "opt", "BFGS", parse_choice(OPTIMIZERS))
    st.segmented_control("Optimiser", OPTIMIZERS, key=opt_key, **KEEP,
                         help="ASE's BFGS (the seed's), FIRE, or LBFGS (for thousands of atoms).")
    if st.session_state[opt_key] is None:
        st.session_state[opt_key] = "BFGS"
    left, right = st.columns(2)
    fmax_key = url_key(PAGE, "fmax", 0.05, parse_number(0.001, 5.0))
    left.number_input("fmax (eV/Å)", min_value=0.001, max_value=5.0, step=0.01, format="%.3f", key=fmax_key, **KEEP)
    steps_key = url_key(PAGE, "steps", 200, parse_number(1, 5000, int))
    right.number_input("Steps at most", min_value=1, max_value=5000, step=10, key=steps_key, **KEEP)
    every_key = url_key(PAGE, "every", 5, parse_number(1, 1000, int))
    st.number_input("Refit every k steps", min_value=1, max_value=1000, step=1, key=every_key, **KEEP,
                    help="And always at the first and the last step.", disabled=st.session_state[ds_key] == NO_DATA)
    names += ["ds", "opt", "fmax", "steps", "every"]
    if choice is None:
        return names
    if choice["shape"] != UPLOAD and choice["element"] not in EMT_ELEMENTS:
        st.warning(f"EMT has no parameters for {md_value(choice['element'])}; choose one of {', '.join(EMT_ELEMENTS)}.")
        return names
    st.button("Start the relaxation", type="primary", icon=":material/play_arrow:", on_click=start_relax,
              args=(choice, None if st.session_state[ds_key] == NO_DATA else st.session_state[ds_key],
                    st.session_state[opt_key], float(st.session_state[fmax_key]), int(st.session_state[steps_key]),
                    int(st.session_state[every_key])))
    if message := st.session_state.pop(f"{PAGE}._error", None):
        st.error(md(message), icon=":material/error:")
    return names


def trace_figure(trace: RelaxTrace) -> go.Figure:
    steps = [s.step for s in trace.steps]

    def of(name: str) -> list[float]:
        return [getattr(s, name) for s in trace.steps]

    figure = make_subplots(rows=5, cols=1, shared_xaxes=True, vertical_spacing=0.035,
                           subplot_titles=("energy (eV/atom)", "largest force (eV/Å)", "mean bond length (Å)",
                                           "extent, volume-equivalent diameter and Rg (Å)", "R_w of the refit"))
    # one line per panel is named by the panel's title; only the sizes' panel (three lines) has a legend
    alone = dict(mode="lines", showlegend=False)
    figure.add_trace(go.Scatter(x=steps, y=of("energy_ev_per_atom"), name="E/atom", **alone), row=1, col=1)
    figure.add_trace(go.Scatter(x=steps, y=of("fmax_ev_per_angstrom"), name="fmax", **alone), row=2, col=1)
    figure.add_trace(go.Scatter(x=steps, y=of("mean_nn_angstrom"), name="mean bond", **alone), row=3, col=1)
    figure.add_trace(go.Scatter(x=steps, y=of("extent_angstrom"), mode="lines", name="extent"), row=4, col=1)
    figure.add_trace(go.Scatter(x=steps, y=of("volume_diameter_angstrom"), mode="lines",
                                name="volume-equivalent diameter"), row=4, col=1)
    figure.add_trace(go.Scatter(x=steps, y=of("radius_of_gyration_angstrom"), mode="lines", name="Rg"),
                     row=4, col=1)
    fitted = [(s.step, s.rw) for s in trace.steps if s.rw is not None]
    if fitted:
        figure.add_trace(go.Scatter(x=[s for s, _ in fitted], y=[r for _, r in fitted], mode="lines+markers",
                                    name="R_w", showlegend=False), row=5, col=1)
    # 1, 2, 5 in each decade, written as numbers (plotly's own log ticks crowd a short range with bare digits)
    figure.update_yaxes(type="log", tickvals=[m * 10.0**e for e in range(-4, 4) for m in (1, 2, 5)],
                        tickformat="~g", row=2, col=1)
    figure.update_xaxes(title_text="step", row=5, col=1)
    low, high = figure.layout.yaxis4.domain
    figure.update_layout(height=860, margin=dict(l=60, r=20, t=40, b=40),
                         legend=dict(x=1, xanchor="right", y=(low + high) / 2, yanchor="middle",
                                     bgcolor="rgba(255, 255, 255, 0.8)"))
    return figure


@st.cache_data(max_entries=64, show_spinner=False)
def dataset_kind(dataset_id: str | None) -> str:
    """"gr" or "iq"... of a stored dataset (what a refit's curves are); "gr" if it is gone."""
    try:
        return store().get_dataset(dataset_id).measurement.kind
    except SwaxsInputError:
        return "gr"


@st.cache_data(max_entries=64, show_spinner=False)
def frame(job_id: str, step: int) -> np.ndarray | None:
    data = store().get_blob(frame_key(job_id, step))
    return None if data is None else decode_positions(data)


@st.cache_data(max_entries=64, show_spinner=False)
def fit_curves(job_id: str, step: int):
    data = store().get_blob(fit_key(job_id, step))
    return None if data is None else decode_curves(data)


def job_panel(job_id: str) -> list[str]:
    def draw_trace(now) -> None:
        trace = job_trace(now.result)
        if trace is not None:
            st.plotly_chart(trace_figure(trace), config=plot_config(f"swaxs-relax-{job_id}"), key=f"{PAGE}.trace")

    record = watch_job(job_id, cancel_key=f"{PAGE}.cancel", draw=draw_trace, at_most=True)
    if record is None:
        return []
    running = record.status in ("queued", "running")
    ended = show_job_failure(record, "relaxation")
    trace = None if running else job_trace(record.result)
    if trace is None:
        if not ended:
            st.caption("The relaxation runs on the server: this tab can close; the link brings it back.")
        return []
    symbols = list(trace.symbols)
    last = trace.steps[-1].step
    best = trace.best_rw_step()
    if record.status == "done":
        st.success(f"{md(record.message)} · {last} steps, "
                   f"{'converged' if trace.converged else 'stopped before fmax was reached'}"
                   + (f" · best R_w {best.rw:.4f} at step {best.step}" if best is not None else ""),
                   icon=":material/check_circle:")
    step_key = url_key(PAGE, "step", 0, parse_number(0, 100_000, int))
    st.session_state[step_key] = min(int(st.session_state[step_key] or 0), last)
    play_key = url_key(PAGE, "play", False, parse_bool)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.slider("Step", 0, max(last, 1), key=step_key, disabled=last == 0, **KEEP)
    right.toggle("Play", key=play_key, help="Animate the trajectory (up to 60 frames).", **KEEP)
    step = int(st.session_state[step_key])
    view, fit = st.columns(2)
    with view:
        if st.session_state[play_key]:
            stride = max(1, (last + 1) // MAX_ANIMATION_FRAMES)
            frames = [f for k in range(0, last + 1, stride) if (f := frame(job_id, k)) is not None]
            st.iframe(trajectory_view_html(symbols, frames, color_by="coordination", height=360), height=360)
        else:
            positions = frame(job_id, step)
            if positions is not None:
                from ase import Atoms

                st.iframe(cluster_view_html(Atoms(symbols, positions=positions), color_by="coordination",
                                            height=360), height=360)
        now = trace.at_step(step)
        st.caption(f"Step {step}: E {now.energy_ev_per_atom:.4f} eV/atom, fmax "
                   f"{now.fmax_ev_per_angstrom:.3f} eV/Å, mean bond {now.mean_nn_angstrom:.4f} Å, "
                   f"extent {now.extent_angstrom:.2f} Å, volume-equivalent diameter "
                   f"{now.volume_diameter_angstrom:.2f} Å")
    with fit:
        curves = fit_curves(job_id, step)
        if curves is None:
            refitted = [s.step for s in trace.steps if s.rw is not None]
            st.caption("No refit at this step" + (f"; refits at steps {', '.join(map(str, refitted[:12]))}"
                                                   + ("…" if len(refitted) > 12 else "") if refitted else "."))
        else:
            x, data, fitted = curves
            kind = dataset_kind(record.params.get("args", {}).get("dataset_id"))
            figure = fit_figure(x, data, fitted, name=f"step {step}", kind=kind, height=390)
            figure.update_layout(title=f"refit at step {step}" + (f": R_w {now.rw:.4f}" if now.rw is not None else ""))
            st.plotly_chart(figure, config=plot_config(f"swaxs-relax-{job_id}-fit-{step}"), key=f"{PAGE}.fit")
            compare_link(job_id, record.params.get("args", {}).get("dataset_id"), trace, now)
    buttons = st.columns(3)
    with buttons[0]:
        download_csv("Trace (CSV)", trace.columns(), f"swaxs-relax-{job_id}-trace.csv", key=f"{PAGE}.trace_csv")
    buttons[1].download_button("Trajectory (extxyz)", lambda: trajectory_text(job_id, trace),
                               file_name=f"swaxs-relax-{job_id}.extxyz", on_click="ignore",
                               icon=":material/download:", key=f"{PAGE}.traj")
    if best is not None and (positions := frame(job_id, best.step)) is not None:
        from ase import Atoms

        buttons[2].download_button(f"Step {best.step}, best R_w (xyz)",
                                   structure_text(Atoms(symbols, positions=positions), "xyz"),
                                   file_name=f"swaxs-relax-{job_id}-best.xyz", on_click="ignore",
                                   icon=":material/download:", key=f"{PAGE}.best")
    return ["step", "play"]


@st.cache_data(max_entries=64, show_spinner=False)
def stored_frame(job_id: str, step: int, symbols: tuple[str, ...]) -> str | None:
    """The structure at a step, stored as a cluster (shape "relaxed", its job and step as parameters): its hash."""
    from ase import Atoms

    from swaxs_lib.structures import Cluster, describe

    positions = frame(job_id, step)
    if positions is None:
        return None
    atoms = Atoms(symbols, positions=positions)
    return store().add_cluster(Cluster(atoms=atoms, info=describe(atoms, "relaxed", {"job": job_id, "step": step})))


@st.cache_data(max_entries=64, show_spinner="Fitting as Compare does...")
def compare_rw(dataset_id: str, cluster: str, query: tuple) -> float:
    """R_w of a stored cluster on the dataset with a Compare link's values: the number the Compare page shows."""
    m = store().get_dataset(dataset_id).measurement
    return compare_cluster(m, store().get_cluster(cluster).atoms, **compare_kwargs(m.kind, dict(query)),
                           store=store()).fit.rw


def compare_link(job_id: str, dataset_id: str | None, trace: RelaxTrace, now) -> None:
    """The R_w Compare shows for the refit at this step, and the link that opens the structure there with it.

    The step's structure is stored as a cluster (Compare opens it by hash, as an upload); the link holds
    the refit's values (:func:`swaxs_lib.views.compare_model_of_fit`) with the relaxation's refit options
    (fit range, background and Q window: the refinement's defaults where it gave none).
    """
    if now.rw is None or dataset_id is None:
        return
    try:
        measurement = store().get_dataset(dataset_id).measurement
        model = compare_model_of_fit(measurement, dict(now.refined), dict(trace.settings))
        cluster = stored_frame(job_id, now.step, tuple(trace.symbols))
        if cluster is None:
            return
        query = model.query()
        rw = compare_rw(dataset_id, cluster, tuple(query.items()))
    except SwaxsInputError as exc:
        st.caption(f"Cannot open this refit in Compare: {md(exc)}")
        return
    compare_handoff(rw, now.rw, model.notes, {"ds": dataset_id, "n": "1", "c1_shape": UPLOAD, "c1_cluster": cluster,
                                              **query},
                    what="refit", metric=f"R_w in Compare, step {now.step}", label="Open this structure in Compare")


def trajectory_text(job_id: str, trace: RelaxTrace) -> str:
    """Every stored frame as extended xyz (built on demand, when the button is clicked)."""
    from dataclasses import replace

    from swaxs_lib.relax import trajectory_text as text_of

    steps = tuple(replace(s, positions_angstrom=p) for s in trace.steps if (p := frame(job_id, s.step)) is not None)
    return text_of(replace(trace, steps=steps))


def restore_form(job_id: str) -> None:
    """A link (or a recent job) that names a relax job fills the form with its settings, not the defaults.

    The cluster (shape, element, parameters; or a stored structure by hash), the dataset refitted against,
    optimiser, fmax, steps and refit interval; a value the URL gives itself wins.
    """
    from swaxs_lib.jobs import get_job

    try:
        record = get_job(store(), job_id)
    except SwaxsInputError:
        return  # the panel says so
    if record.params.get("task") != "relax":
        return
    args = dict(record.params.get("args") or {})
    spec = dict(args.get("cluster") or {})
    values: dict = {"ds": args.get("dataset_id") or NO_DATA, "opt": args.get("optimizer", "BFGS"),
                    "fmax": float(args.get("fmax", 0.05)), "steps": int(args.get("steps", 200)),
                    "every": int(args.get("refit_every", 1)), "step": 0, "play": False}
    if "key" in spec:
        values.update(shape=UPLOAD, cluster=spec["key"])
    else:
        params = dict(spec.get("params") or {})
        values.update(shape=spec.get("shape"), el=spec.get("element"), a=params.pop(LATTICE_CONSTANT.name, None),
                      **params)
    for name, value in values.items():
        if st.query_params.get(name) is None and (value is not None or name == "a"):
            st.session_state[f"{PAGE}.{name}"] = value
    st.session_state[f"{PAGE}.el._auto"] = None  # the job's element, not the dataset header's


entry_guard()
st.title("Relax")
st.caption("Relax a cluster with ASE's BFGS (or FIRE) and EMT, and see energy, forces, size and, against a dataset, "
           "the refit's R_w at every step: does the relaxed structure fit better? Runs in the background.")
job_key = url_key(PAGE, "job", None, parse_id)
if st.session_state[job_key] is not None and url_given(PAGE, "job"):
    restore_form(st.session_state[job_key])
show_url_warnings()
form, results = st.columns([1, 2.6], gap="medium")
with form:
    with st.container(border=True):
        url_names = relax_form()
    recent_jobs("relax", "pages/relax.py", "Recent relaxations")
with results:
    if st.session_state[job_key] is None:
        st.info("Choose a cluster (and a dataset to refit against), then start. The trace appears here, step by step.",
                icon=":material/info:")
        extra: list[str] = []
    else:
        extra = job_panel(st.session_state[job_key])
sync_url(PAGE, url_names + ["job"] + extra)
