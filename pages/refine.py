"""Refine page: sweep a family of clusters against a measurement in the background, rank by R_w, inspect a fit.

UI only: the sweep is a job of :mod:`swaxs_lib.jobs` (task ``sweep``, in
:mod:`swaxs_lib.sweep`) that runs in worker processes outside this script, so
the tab can close; the job's id is in the URL (``job=``), and reopening the
link shows its progress or its ranking.  Fits are read back from the store.
The ranking shows what the job's test found (:mod:`swaxs_lib.refine.significance`):
candidates indistinguishable from the best, values the data do not determine
(greyed), and a best candidate on the grid's edge (with a button that starts
the extended grid).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import numpy as np
import pandas as pd
import streamlit as st

from pages._cluster_widgets import SHAPE_LABELS, UPLOAD, cluster_for_key, cluster_view
from pages._shared import (
    compare_handoff,
    dataset_key,
    datasets_or_stop,
    download_csv,
    entry_guard,
    fit_figure,
    follow_default,
    format_value,
    md,
    md_value,
    owner_name,
    parse_choice,
    parse_id,
    parse_number,
    plot_config,
    recent_jobs,
    scheduler_input,
    scheduler_of,
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
    format_seconds,
    progress_of,
    submit,
)
from swaxs_lib.fit.window import default_fit_range
from swaxs_lib.models import get_model, with_units
from swaxs_lib.models.crystal import ADP_MODELS, CRYSTAL_PARAMETERS
from swaxs_lib.models.parameters import table_options
from swaxs_lib.refine.crystal import check_crystal_job
from swaxs_lib.refine.significance import RankTest
from swaxs_lib.store.fits import StoredFit, read_fit
from swaxs_lib.structures import structure_text
from swaxs_lib.structures.parameters import supported_elements
from swaxs_lib.structures.readers import read_crystal_cell
from swaxs_lib.sweep import DEFAULT_DECAHEDRA, DEFAULT_GRIDS, Candidate, SweepResult, parse_grid
from swaxs_lib.viewer import cluster_view_html
from swaxs_lib.views import compare_kwargs, compare_model_of_fit

PAGE = "refine"
FAMILIES = ("decahedron", "icosahedron", "cuboctahedron", "octahedron", "truncated-octahedron", "sphere")
KEEP = dict(persist_state="session")
#: Columns of the ranking shown first, as patterns (the CSV has them all, named as in docs/csv.md).
FIRST_COLUMNS = ("rank", "p", "q", "r", "shells", "length", "cutoff", "diameter_angstrom", "n_atoms",
                 "volume_diameter_angstrom", "rw",
                 "indistinguishable_from_best", "p_value_vs_best", "rw_ratio_to_best",
                 "expansion", "expansion_sigma", "u_*_angstrom2", "b_*_angstrom2", "delta2_angstrom2",
                 "qdamp_inv_angstrom", "scale")
#: Columns of the CSV not shown in the table (flags drive the styling; the rest are in the caption).
HIDDEN_COLUMNS = ("result_id", "rw_ratio_critical", "n_independent_points", "sigma_nyquist_factor")
#: Flags of values the data do not determine (:mod:`swaxs_lib.refine.significance`).
UNDETERMINED = ("at_bound", "sigma_exceeds_value")
GREY = "color: #9e9e9e; font-style: italic"
#: Flags as a table shows them (short enough for a narrow column).
FLAG_TEXT = {"at_bound": "at a bound", "sigma_exceeds_value": "σ ≥ |value|", "fixed": "fixed"}
EQUIVALENT = "background-color: rgba(255, 193, 7, 0.14)"


@st.cache_resource(max_entries=8, show_spinner=False)
def crystal_sphere_cluster(cif_text: str, diameter_angstrom: float):
    """A sweep's sphere cut from an uploaded crystal (rebuilt from the fit's stored cif)."""
    return Candidate("sphere", "", (("diameter_angstrom", float(diameter_angstrom)),), cif_text).build()


def default_grid_text(shape: str) -> str:
    if shape == "decahedron":
        return " ".join(f"({p},{q},{r})" for p, q, r in DEFAULT_DECAHEDRA)
    return DEFAULT_GRIDS[shape]


def start_sweep(dataset_id: str, shape: str, element: str, grid: str | None, options: dict, workers: int,
                cif: tuple | None = None) -> None:
    """Button callback: submit the sweep job and put its id in the URL (``cif``: (name, text) to cut spheres from)."""
    try:
        parse_grid(shape, grid)
        args = {"dataset_id": dataset_id, "shape": shape, "element": element, "grid": grid, "options": options,
                "workers": workers}
        if scheduler := scheduler_of(PAGE):
            args["scheduler"] = scheduler
        what = f"{element} {shape}"
        if cif is not None:
            read_crystal_cell(cif[1].encode(), cif[0])  # its bounds before the job starts
            args["cif_text"], args["element"], what = cif[1], None, f"{shape} of {cif[0]}"
        label = f"sweep {what} vs {store().get_dataset(dataset_id).name}"
        job = submit(store(), "sweep", args, dataset_id=dataset_id, label=label, owner=owner_name())
    except SwaxsInputError as exc:
        st.session_state[f"{PAGE}._error"] = str(exc)
        return
    st.session_state[f"{PAGE}.job"] = job.id
    st.session_state[f"{PAGE}.sel"] = 1


def extend_sweep(args: dict, grid: str) -> None:
    """Button callback: the finished sweep's family, element and options on the extended grid, started."""
    st.session_state[f"{PAGE}.shape"] = args["shape"]
    if args.get("element"):
        st.session_state[f"{PAGE}.el"] = args["element"]
    st.session_state[f"{PAGE}.grid"] = grid
    cif = ("the sweep's crystal", args["cif_text"]) if args.get("cif_text") else None
    start_sweep(args["dataset_id"], args["shape"], args.get("element"), grid, args.get("options") or {},
                int(args.get("workers") or 2), cif)


def sweep_form(datasets) -> list[str]:
    """Dataset, family, element, grid and fit options; the Start button."""
    names = ["ds", "shape", "el", "grid", "xmin", "xmax", "qdamp", "workers"]
    ds_key, labels = dataset_key(PAGE, datasets)
    st.selectbox("Dataset", list(labels), key=ds_key, format_func=labels.get, **KEEP)
    record = store().get_dataset(st.session_state[ds_key])
    m = record.measurement
    shape_key = url_key(PAGE, "shape", "decahedron", parse_choice(FAMILIES))
    st.selectbox("Family", FAMILIES, key=shape_key, format_func=SHAPE_LABELS.get, **KEEP)
    el_key = url_key(PAGE, "el", "Au", parse_choice(supported_elements()))
    facts = header_facts(m)
    follow_default(PAGE, "el", facts.element if facts.element in supported_elements() else "Au")
    st.selectbox("Element", supported_elements(), key=el_key, **KEEP)
    window = facts.q_range_inv_angstrom if m.domain == "r" else None
    if said := describe_use(facts, elements=[st.session_state[el_key]], q_min_inv_angstrom=window and window[0],
                            q_max_inv_angstrom=window and window[1]):
        st.caption(md(said))
    shape = st.session_state[shape_key]
    sphere_cif = None
    if shape == "sphere":
        upload = st.file_uploader("Cut the spheres from a crystal (cif)", type=["cif"], key=f"{PAGE}.sphere_cif",
                                  help="Instead of the element's fcc lattice: any crystal, e.g. wurtzite CdSe; its "
                                       "sites and elements are used (at most 1 MB). Compare the ranking with the "
                                       "attenuated crystal of the same cif below.")
        if upload is not None:
            if upload.size > 2**20:
                st.error(f"{md_value(upload.name)}: {upload.size} bytes; expected at most 1 MB", icon=":material/error:")
                return names
            sphere_cif = (upload.name, upload.getvalue().decode("utf-8", errors="replace"))
    grid_key = url_key(PAGE, "grid", "", str)
    st.text_input("Grid", key=grid_key, placeholder=default_grid_text(shape)[:80], **KEEP,
                  help='Empty: the default grid (shown). E.g. "p=3..7,q=1,r=0..3", "shells=3..8", '
                       '"diameter_angstrom=20..40:2.5"; a|b|c lists values.')
    unit = "Å" if m.domain == "r" else "1/Å"
    x_lo, x_hi = default_fit_range(m.kind, m.x)
    left, right = st.columns(2)
    xmin_key = url_key(PAGE, "xmin", None, parse_number(0.0, 1e4))
    xmax_key = url_key(PAGE, "xmax", None, parse_number(0.0, 1e4))
    left.number_input(f"Fit from ({unit})", min_value=0.0, max_value=1e4, value=None, key=xmin_key, **KEEP,
                      placeholder=f"{x_lo:.3g}")
    right.number_input(f"Fit to ({unit})", min_value=0.0, max_value=1e4, value=None, key=xmax_key, **KEEP,
                       placeholder=f"{x_hi:.3g}")
    options = {"x_min": st.session_state[xmin_key], "x_max": st.session_state[xmax_key], "fix": [], "start": {}}
    qdamp_key = url_key(PAGE, "qdamp", None, parse_number(0.0, 0.2))
    if m.domain == "r":
        st.number_input("Fix Q damping at (1/Å)", min_value=0.0, max_value=0.2, value=None, step=0.005,
                        format="%.4f", key=qdamp_key, placeholder="refined", **KEEP,
                        help="From a calibrant (e.g. Ni or CeO2) measured on the same instrument; empty: refined.")
        if st.session_state[qdamp_key] is not None:
            options["fix"], options["start"] = ["qdamp"], {"qdamp": st.session_state[qdamp_key]}
    else:
        options["background"] = "constant"
    starts_and_bounds(get_model("cluster", m.kind).parameters, options)
    workers_key = url_key(PAGE, "workers", 2, parse_number(1, 16, int))
    st.number_input("Worker processes", min_value=1, max_value=16, step=1, key=workers_key, **KEEP,
                    help="Candidates refined at once (low priority: the dashboard stays responsive).")
    scheduler_input(PAGE)
    grid = st.session_state[grid_key].strip() or None
    if grid and shape == "decahedron" and grid.startswith("("):
        grid = None
    try:
        n = len(parse_grid(shape, grid))
        st.caption(f"{n} candidate(s); each refined with scale, zoom, U, delta2"
                   + (", Q damping" if "qdamp" not in options["fix"] and m.domain == "r" else "")
                   + "; fits already in the store are reused.")
    except SwaxsInputError as exc:
        st.error(md(exc), icon=":material/error:")
        return names
    st.button("Start the sweep", type="primary", icon=":material/play_arrow:", on_click=start_sweep,
              args=(record.id, shape, st.session_state[el_key], grid, options, int(st.session_state[workers_key]),
                    sphere_cif))
    if message := st.session_state.pop(f"{PAGE}._error", None):
        st.error(md(message), icon=":material/error:")
    return names + crystal_form(options)


def start_crystal(dataset_id: str, element: str, lattice: str, nanoparticle: bool, cif: tuple | None,
                  options: dict) -> None:
    """Button callback: submit the crystal-model refinement job, put its id in the URL."""
    try:
        grid = table_options(CRYSTAL_PARAMETERS, *crystal_grid_values())
    except SwaxsInputError as exc:
        st.session_state[f"{PAGE}._cerror"] = str(exc)
        return
    # from the sweep's form only the calibrant's Q damping carries over (the rest are the cluster model's)
    fix = sorted({*(f for f in options.get("fix", ()) if f == "qdamp"), *grid["fix"]} - set(grid["free"]))
    start = {**{k: v for k, v in options.get("start", {}).items() if k == "qdamp"}, **grid["start"]}
    if not st.session_state.get(f"{PAGE}.cxyz", True):
        fix.append("xyz")
    crystal_options = {"x_min": options.get("x_min"), "x_max": options.get("x_max"), "fix": fix,
                       "free": grid["free"], "start": start, "bounds": grid["bounds"],
                       "q_min_inv_angstrom": st.session_state.get(f"{PAGE}.cqmin"),
                       "adp": st.session_state.get(f"{PAGE}.cadp") or "isotropic"}
    args = {"dataset_id": dataset_id, "element": element, "lattice": lattice, "nanoparticle": nanoparticle,
            "options": crystal_options}
    what = f"{element} {lattice}"
    if cif is not None:
        args["cif_text"], what = cif[1], cif[0]
    try:
        # the cif's bounds and pdffit2's pairs per evaluation, before the job is queued
        check_crystal_job(store(), args, cif_name=what)
    except SwaxsInputError as exc:
        st.session_state[f"{PAGE}._cerror"] = str(exc)
        return
    label = f"{'nanoparticle' if nanoparticle else 'crystal'} {what} vs {store().get_dataset(dataset_id).name}"
    job = submit(store(), "crystal", args, dataset_id=dataset_id, label=label, owner=owner_name())
    st.session_state[f"{PAGE}.cjob"] = job.id


#: Rows of the crystal table offered on the page (free coordinates have their own switch).
#: The crystal table's rows shown as inputs (free coordinates depend on the structure: refined by default).
CRYSTAL_ROWS = tuple(name for name in CRYSTAL_PARAMETERS if name != "xyz")


def crystal_grid_values() -> tuple[dict, dict, dict, dict]:
    """(refined, starts, lows, highs) as the start-and-bounds grid holds them (None: not given)."""
    state = st.session_state
    refined = {n: bool(state.get(f"{PAGE}.cp.{n}.on", CRYSTAL_PARAMETERS[n].refined)) for n in CRYSTAL_ROWS
               if CRYSTAL_PARAMETERS[n].refinable}
    starts = {n: state.get(f"{PAGE}.cp.{n}.start") for n in CRYSTAL_ROWS}
    lows = {n: state.get(f"{PAGE}.cp.{n}.low") for n in CRYSTAL_ROWS if CRYSTAL_PARAMETERS[n].refinable}
    highs = {n: state.get(f"{PAGE}.cp.{n}.high") for n in CRYSTAL_ROWS if CRYSTAL_PARAMETERS[n].refinable}
    return refined, starts, lows, highs


def crystal_grid(options: dict) -> None:
    """Refine / start / low / high for every parameter of the crystal table, units in the labels."""
    st.caption("Empty: the table's default (start from the structure for a, b, c; from a least-squares scale). "
               "b and c apply to cells that have them, spdiameter to the nanoparticle, sratio to pairs closer "
               "than rcut (a setting, never refined).")
    fixed_qdamp = "qdamp" in options.get("fix", ())
    for name in CRYSTAL_ROWS:
        row = CRYSTAL_PARAMETERS[name]
        label = row.label("u_<El>" if name == "u" else name)
        on, start, low, high = st.columns([1.3, 1, 1, 1], vertical_alignment="bottom")
        if row.refinable:
            default = row.refined and not (name == "qdamp" and fixed_qdamp)
            on.checkbox(label, value=default, key=f"{PAGE}.cp.{name}.on", help=md(row.description), **KEEP)
        else:
            on.markdown(label, help=md(row.description))
        default_start = options.get("start", {}).get(name, row.start)
        auto = name == "scale" or default_start != default_start  # NaN: from the structure
        start.number_input(f"{label} start", value=None, format="%.6g", key=f"{PAGE}.cp.{name}.start",
                           placeholder="auto" if auto else f"{default_start:g}", **KEEP)
        if row.refinable:
            low.number_input(f"{label} low", value=None, format="%.6g", key=f"{PAGE}.cp.{name}.low",
                             placeholder=f"{row.low:g}", **KEEP)
            high.number_input(f"{label} high", value=None, format="%.6g", key=f"{PAGE}.cp.{name}.high",
                              placeholder=f"{row.high:g}", **KEEP)


def starts_and_bounds(rows, options: dict) -> None:
    """Start values and bounds of the cluster model's parameters (its table's rows), for every candidate."""
    with st.expander("Cluster model: start values and bounds", icon=":material/tune:"):
        st.caption("For every candidate; empty fields keep the defaults shown. U (or B) applies to every element.")
        for row in rows:
            name, default, low, high, label = row.name, row.start, row.low, row.high, row.label()
            cells = st.columns(3)
            start = cells[0].number_input(f"{label} start", value=None, format="%.5g", key=f"{PAGE}.start_{name}",
                                          placeholder=f"{default:g}" if name != "scale" else "auto",
                                          help=md(row.description))
            lo = cells[1].number_input(f"{label} low", value=None, format="%.5g", key=f"{PAGE}.low_{name}",
                                       placeholder=f"{low:g}")
            hi = cells[2].number_input(f"{label} high", value=None, format="%.5g", key=f"{PAGE}.high_{name}",
                                       placeholder=f"{high:g}")
            if start is not None and name not in options["start"]:
                options["start"][name] = start
            if lo is not None or hi is not None:
                options.setdefault("bounds", {})[name] = (low if lo is None else lo, high if hi is None else hi)


def crystal_form(options: dict) -> list[str]:
    """The attenuated-crystal (or bulk) model of the same G(r): a piece of crystal instead of a cluster."""
    record = store().get_dataset(st.session_state[f"{PAGE}.ds"])
    if record.measurement.kind != "gr":
        return []
    with st.expander("Piece of crystal instead (attenuated-crystal model)", icon=":material/grid_on:"):
        st.caption("A periodic structure (pdffit2) times a sphere of refined diameter, as PDFgui's spdiameter: "
                   "compare its R_w with the clusters'.")
        lat_key = url_key(PAGE, "lat", "fcc", parse_choice(("fcc", "bcc")))
        st.segmented_control("Lattice", ("fcc", "bcc"), key=lat_key, **KEEP)
        if st.session_state[lat_key] is None:
            st.session_state[lat_key] = "fcc"
        np_key = url_key(PAGE, "np", True, lambda t: t in ("1", "true"))
        st.toggle("Spherical envelope (nanoparticle)", key=np_key, **KEEP)
        upload = st.file_uploader("or a cif", type=["cif"], key=f"{PAGE}.cif",
                                  help="Another crystal structure (at most 1 MB); its atoms and cell are used.")
        cif = None
        if upload is not None:
            if upload.size > 2**20:
                st.error(f"{md_value(upload.name)}: {upload.size} bytes; expected at most 1 MB", icon=":material/error:")
                return ["lat", "np"]
            cif = (upload.name, upload.getvalue().decode("utf-8", errors="replace"))
        left, right = st.columns(2)
        left.selectbox("Displacements (U per element)", ADP_MODELS, key=f"{PAGE}.cadp", **KEEP,
                       help="isotropic: truly isotropic U; diagonal: PDFgui's u11 = u22 = u33 with zero cross "
                            "terms (the same for cubic cells, not for hexagonal ones)")
        right.number_input("Q_min of the transform (1/Å)", min_value=0.0, max_value=20.0, value=None,
                           format="%.3g", key=f"{PAGE}.cqmin", placeholder="0 (as PDFgui)", **KEEP,
                           help="pdffit2 has none; a value takes the model's F(Q) below it out, as the data's "
                                "transform did")
        st.session_state.setdefault(f"{PAGE}.cxyz", True)  # not value=True: a job link may have set it (_seed)
        st.toggle("Refine the coordinates the space group leaves free", key=f"{PAGE}.cxyz", **KEEP,
                  help="e.g. z of Se in wurtzite; the symmetry is found from the atoms")
        if st.toggle("Start values and bounds", key=f"{PAGE}.cgrid", **KEEP):
            crystal_grid(options)
        st.button("Refine the crystal model", icon=":material/play_arrow:", on_click=start_crystal,
                  args=(record.id, st.session_state[f"{PAGE}.el"], st.session_state[lat_key],
                        bool(st.session_state[np_key]), cif, options))
        if message := st.session_state.pop(f"{PAGE}._cerror", None):
            st.error(md(message), icon=":material/error:")
    return ["lat", "np"]


def crystal_panel(job_id: str) -> None:
    record = watch_job(job_id)
    if record is None or record.status in ("queued", "running"):
        return
    if show_job_failure(record, "crystal refinement") or record.status != "done":
        return
    try:
        fit = StoredFit.from_json(record.result or {})
    except SwaxsInputError as exc:
        st.error(f"This fit cannot be read: {md(exc)}", icon=":material/error:")
        return
    settings = fit.settings
    c = fit.curves
    with st.container(border=True):
        st.markdown(f"**{md(record.params.get('label'))}**: R_w **{fit.rw:.4f}** over "
                    f"{fit.x_min:g}–{fit.x_max:g} Å")
        if "space_group" in settings:
            st.caption(f"Space group {md(settings['space_group'])}; free coordinates: "
                       f"{md(', '.join(settings.get('free_coordinates') or []) or 'none')}; "
                       f"U {md(settings.get('adp', 'diagonal'))}; "
                       f"Q_min {settings.get('q_min_inv_angstrom', 0):g} 1/Å; "
                       f"{len(settings.get('starts', []))} start(s) of the last stage")
        left, right = st.columns([1, 1])
        figure = fit_figure(c.x, c.data, c.fitted, name=fit.model, height=400)
        left.plotly_chart(figure, config=plot_config(f"swaxs-crystal-{job_id}"), key=f"{PAGE}.crystal_plot")
        values, flags = fit.values(), fit.flags()
        # "fixed" is in the value's text already; the other flags in words short enough for the column
        right.dataframe({"parameter": [v.name for v in values], "value": [v.text() for v in values],
                         "flag": ["" if (f := flags.get(v.name, "")) == "fixed" else FLAG_TEXT.get(f, f)
                                  for v in values]}, hide_index=True)
        with right:
            download_csv("Crystal fit (CSV)", fit.columns(), f"swaxs-crystal-{job_id}.csv", key=f"{PAGE}.crystal_csv")
            if values:
                download_csv("Parameters (CSV)", {k: ["" if v is None else v] for k, v in fit.parameter_row().items()},
                             f"swaxs-crystal-{job_id}-parameters.csv", key=f"{PAGE}.crystal_params_csv")


def job_panel(job_id: str) -> None:
    """Progress while the sweep runs (polled every second), then the ranking."""
    record = watch_job(job_id, cancel_key=f"{PAGE}.cancel")
    if record is None:
        return
    if record.status in ("queued", "running"):
        st.caption("The sweep runs on the server: this tab can close; the link brings it back.")
        return
    if show_job_failure(record, "sweep") or record.status != "done":
        return
    show_ranking(record)


def show_ranking(record) -> None:
    try:
        result = SweepResult.from_json(record.result or {})
    except SwaxsInputError as exc:
        st.error(f"This sweep's result cannot be read: {md(exc)}", icon=":material/error:")
        return
    if not result.rows:
        st.info("The sweep finished without a valid candidate.")
        return
    table = with_units(result.table(), "cluster")  # the command line's names (docs/csv.md)
    frame = pd.DataFrame(table).replace("", np.nan).infer_objects()
    first = list(dict.fromkeys(c for pattern in FIRST_COLUMNS for c in frame.columns if fnmatchcase(c, pattern)))
    shown = first + [c for c in frame.columns if c not in first and c not in HIDDEN_COLUMNS and not c.endswith("_flag")]
    st.success(f"{md(record.message)} · {result.computed} refined, {result.reused} reused from the "
               f"store · best: {md(result.best.candidate.label())}", icon=":material/check_circle:")
    for label, reason in result.skipped:
        st.caption(f"Left out {md(label)}: {md(reason)}")
    verdict(result, len(frame))
    edge = result.edge
    if edge is not None:
        st.warning(md(edge.message()), icon=":material/border_outer:")
        if edge.extended_grid:
            st.button("Sweep the extended grid", icon=":material/open_in_full:", on_click=extend_sweep,
                      args=(record.params.get("args", {}), edge.extended_grid), key=f"{PAGE}.extend",
                      help=f"Starts the same sweep on {edge.extended_grid}; fits already in the store are reused.")
    sel_key = url_key(PAGE, "sel", 1, parse_number(1, len(frame), int))
    event = st.dataframe(styled(frame, shown), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key=f"{PAGE}.table", column_config={
                             "indistinguishable_from_best": st.column_config.CheckboxColumn(
                                 "≈ best", help="Statistically indistinguishable from rank 1 (see the legend)"),
                             "p_value_vs_best": st.column_config.TextColumn("p vs best"),
                             "rw_ratio_to_best": st.column_config.NumberColumn("R_w / best", format="%.4f"),
                             **ranking_titles(shown)})
    legend(result.test, frame)
    rows = event.selection.rows if event is not None else []
    if rows:
        st.session_state[sel_key] = int(frame["rank"].iloc[rows[0]])
    rank = int(st.session_state[sel_key])
    download_csv("Ranking (CSV)", table, f"swaxs-sweep-{record.id}.csv", key=f"{PAGE}.ranking_csv")
    st.caption(f"Click a row to see its fit; showing rank {rank}. "
               f"Total {format_seconds(progress_of(record).elapsed_s)}.")
    row = next(r for r in result.rows if r.rank == rank)
    show_fit(store().get_result(row.result_id), rank, record.params.get("args", {}))


def ranking_titles(columns: list[str]) -> dict:
    """Column titles of the shown ranking: the CSV's names (docs/csv.md) as words with units, sensible digits."""
    number = st.column_config.NumberColumn
    titles = {"n_atoms": number("atoms", format="%d"), "rw": number("R_w", format="%.4f"),
              "extent_angstrom": number("extent (Å)", format="%.2f"),
              "volume_diameter_angstrom": number("vol.-eq. diameter (Å)", format="%.2f"),
              "diameter_angstrom": number("sphere diameter (Å)", format="%.4g"),
              "expansion": number("expansion", format="%.4f"), "scale": number("scale", format="%.4g")}
    for name in columns:
        for suffix, unit in (("_angstrom2", "Å²"), ("_inv_angstrom", "1/Å")):
            base = name.removesuffix("_sigma")
            if base.endswith(suffix):
                words = base.removesuffix(suffix) + (" σ" if name.endswith("_sigma") else "")
                titles[name] = number(f"{words} ({unit})", format="%.4g")
    return {name: config for name, config in titles.items() if name in columns}


def verdict(result: SweepResult, n_rows: int) -> None:
    """One line on what the data decide among the ranked candidates."""
    test = result.test
    if test is None:
        return
    k = len(test.indistinguishable)
    if test.note:
        st.warning(md(test.note), icon=":material/balance:")
    elif n_rows > 1 and k == n_rows - 1:
        st.warning(f"The data cannot tell these candidates apart: all {n_rows} are statistically "
                   f"indistinguishable from the best (α = {test.alpha:g}). Read the ranking as a list of "
                   "candidates consistent with the data, not as a verdict.", icon=":material/balance:")
    elif k:
        st.info(f"{k} of the other {n_rows - 1} candidates are statistically indistinguishable from the best "
                f"(α = {test.alpha:g}, marked ≈ best).", icon=":material/balance:")
    elif n_rows > 1:
        st.info(f"The best candidate is significantly better than every other (α = {test.alpha:g}).",
                icon=":material/balance:")
    if (size := result.size_window()) and n_rows > 1:
        st.caption(f"Size: volume-equivalent diameter {size['best'] / 10:.2f} nm; the candidates the data cannot "
                   f"tell from the best span {size['window'][0] / 10:.2f}–{size['window'][1] / 10:.2f} nm "
                   "(docs/sizes.md).")


def styled(frame: pd.DataFrame, shown: list[str]):
    """The ranking's shown columns: rows indistinguishable from the best shaded, undetermined values greyed."""
    flags = {c.removesuffix("_flag"): frame[c] for c in frame.columns if c.endswith("_flag")}
    same = frame["indistinguishable_from_best"].fillna(False).astype(bool) if (
        "indistinguishable_from_best" in frame.columns) else pd.Series(False, index=frame.index)

    def style(column: pd.Series) -> list[str]:
        base = column.name.removesuffix("_sigma")
        weak = flags[base].isin(UNDETERMINED) if base in flags else pd.Series(False, index=frame.index)
        return [";".join(s for s in (EQUIVALENT if eq else "", GREY if w else "") if s)
                for eq, w in zip(same, weak)]

    table = frame[shown].copy()
    if "p_value_vs_best" in shown:  # rank 1 is not compared with itself: a dash, not "None"
        table["p_value_vs_best"] = [f"{p:.3g}" if p == p else "–" for p in table["p_value_vs_best"]]
    return table.style.apply(style, axis=0)


def legend(test: RankTest | None, frame: pd.DataFrame) -> None:
    """What the shading, the greyed values and the test columns mean, with the test's numbers."""
    parts = []
    if test is not None:
        factor = frame["sigma_nyquist_factor"].dropna() if "sigma_nyquist_factor" in frame.columns else []
        critical = test.comparisons[test.best].rw_ratio_critical
        parts.append(f"**≈ best** (shaded): statistically indistinguishable from rank 1 — p vs best > α = "
                     f"{test.alpha:g} in a two-sided F-test on (R_w / R_w,best)² with "
                     f"{test.n_independent} independent points "
                     f"({md(test.method)}) minus the refined parameters; "
                     + (f"ratios below {critical:.3f} are within the noise. " if critical else "")
                     + "Hamilton, Acta Cryst. 18, 502 (1965).")
        parts.append("*Grey italic*: not determined by the data (stopped at a bound, or uncertainty ≥ |value|"
                     + (f", the uncertainty taken × {float(factor.iloc[0]):.3g} for the oversampled G(r)"
                        if len(factor) and float(factor.iloc[0]) > 1 else "")
                     + "); such parameters are also listed under *undetermined*.")
    else:
        parts.append("This sweep ran before rankings carried a significance test: run it again to see which "
                     "candidates the data can tell apart (its fits are reused).")
    st.caption(" ".join(parts))


def show_fit(record, rank: int, args: dict) -> None:
    fit = read_fit(record)  # fits stored by earlier versions included
    candidate = Candidate.of_fit(fit)
    c, info = fit.curves, fit.cluster
    plot = st.container()
    with plot:
        figure = fit_figure(c.x, c.data, c.fitted, name=f"rank {rank} (R_w {fit.rw:.4f})", kind=fit.kind)
        st.plotly_chart(figure, config=plot_config(f"swaxs-fit-{record.id}"), key=f"{PAGE}.fit_plot")
        download_csv("This fit (CSV)", fit.columns(), f"swaxs-fit-{record.id}.csv", key=f"{PAGE}.fit_csv")
    view, numbers = st.columns([3, 5])
    with view:
        params = dict(candidate.params)
        key = (candidate.shape, candidate.element, tuple(sorted(params.items())))
        st.markdown(f"**{md(candidate.element)} {md(candidate.shape)}** "
                    f"{md(' '.join(f'{k}={v}' for k, v in params.items()))}: {info.n_atoms:,} atoms, "
                    f"{info.extent_angstrom / 10:.2f} nm atom-centre extent, "
                    f"{(info.volume_diameter_angstrom or float('nan')) / 10:.2f} nm volume-equivalent diameter")
        if candidate.crystal:
            sphere = crystal_sphere_cluster(candidate.crystal, params["diameter_angstrom"])
            st.iframe(cluster_view_html(sphere.atoms, style="sphere", color_by="element", height=300), height=300)
            st.download_button("This sphere (xyz)", structure_text(sphere.atoms, "xyz"),
                               f"swaxs-sphere-{record.id}.xyz", key=f"{PAGE}.sphere_xyz", icon=":material/download:")
        else:
            st.iframe(cluster_view(key, "sphere", "coordination", "100%", 300), height=300)
    with numbers:
        values, flags = fit.values(), fit.flags()
        table = pd.DataFrame({"parameter": [v.name for v in values],
                              "value": [f"{v.value:.5g}" + (f" {v.unit}" if v.unit else "") for v in values],
                              "sigma": ["" if v.uncertainty is None else f"{v.uncertainty:.2g}" for v in values],
                              "flag": [FLAG_TEXT.get(flags.get(v.name, ""), flags.get(v.name, "")) for v in values]})
        weak = [flags.get(v.name, "") in UNDETERMINED for v in values]
        st.dataframe(table.style.apply(lambda col: [GREY if w else "" for w in weak], axis=0), hide_index=True)
        if any(weak):
            st.caption("Grey: not determined by the data (at a bound, or uncertainty ≥ |value|).")
        compare_link(fit, candidate, args.get("dataset_id"))


@st.cache_data(max_entries=32, show_spinner="Fitting as Compare does...")
def compare_rw(dataset_id: str, cluster_key: tuple, query: tuple) -> float:
    """R_w of the cluster on the dataset with a Compare link's values: the number the Compare page shows."""
    m = store().get_dataset(dataset_id).measurement
    return compare_cluster(m, cluster_for_key(cluster_key).atoms, **compare_kwargs(m.kind, dict(query)),
                           store=store()).fit.rw


@st.cache_data(max_entries=16, show_spinner=False)
def stored_sphere(cif_text: str, diameter_angstrom: float) -> str:
    """A sphere cut from a crystal, stored as a cluster (Compare opens it by hash): its hash."""
    return store().add_cluster(crystal_sphere_cluster(cif_text, diameter_angstrom))


def compare_link(fit: StoredFit, candidate: Candidate, dataset_id: str | None) -> None:
    """The R_w Compare shows for this fit, and the link that opens it there with every refined value.

    The link holds the candidate (a sphere cut from a crystal as its stored atoms), the refined values
    (:func:`swaxs_lib.views.compare_model_of_fit`), the fit range, background and Q window.
    """
    try:
        measurement = store().get_dataset(dataset_id).measurement
        model = compare_model_of_fit(measurement, fit.summary, fit.settings)
    except SwaxsInputError as exc:
        st.caption(f"Cannot open this fit in Compare: {md(exc)}")
        return
    params = dict(candidate.params)
    if candidate.crystal:
        cluster_key: tuple = (UPLOAD, stored_sphere(candidate.crystal, params["diameter_angstrom"]))
        link = {"c1_shape": UPLOAD, "c1_cluster": cluster_key[1]}
    else:
        cluster_key = (candidate.shape, candidate.element, tuple(sorted(params.items())))
        link = {"c1_shape": candidate.shape, "c1_el": candidate.element,
                **{f"c1_{k}": format_value(v) for k, v in params.items()}}
    query = model.query()
    try:
        rw = compare_rw(dataset_id, cluster_key, tuple(query.items()))
    except SwaxsInputError as exc:
        st.caption(f"Compare cannot fit these values: {md(exc)}")
        return
    compare_handoff(rw, fit.rw, model.notes, {"ds": dataset_id, "n": "1", **link, **query}, what="refinement",
                    bound_note=" (at a bound: Compare lets the scale go negative)")


def _seed(values: dict) -> None:
    """Set form widgets to a job's settings; a value the URL gives itself wins (a link's own choice)."""
    for name, value in values.items():
        if st.query_params.get(name) is None:
            st.session_state[f"{PAGE}.{name}"] = value
    if "el" in values:
        st.session_state[f"{PAGE}.el._auto"] = None  # the job's element, not the file header's


def _table_fields(rows, start: dict, bounds: dict, key: str) -> dict:
    """The start/low/high inputs (``key`` formats their names from ``field`` and ``name``) of a parameter
    table's rows for a job's starts and bounds; None where the job took the default."""
    fields = {}
    for row in rows:
        low, high = bounds.get(row.name) or (None, None)
        fields[key.format(field="start", name=row.name)] = start.get(row.name)
        fields[key.format(field="low", name=row.name)] = None if low is None or low == row.low else float(low)
        fields[key.format(field="high", name=row.name)] = None if high is None or high == row.high else float(high)
    return fields


def restore_sweep_form(args: dict) -> None:
    """The sweep form as the job was started: dataset, family, element, grid, fit range, Q damping, starts, bounds."""
    options = dict(args.get("options") or {})
    start = dict(options.get("start") or {})
    values = {"ds": args.get("dataset_id"), "shape": args.get("shape"), "grid": args.get("grid") or "",
              "xmin": options.get("x_min"), "xmax": options.get("x_max"), "workers": int(args.get("workers") or 2),
              "qdamp": start.pop("qdamp") if "qdamp" in (options.get("fix") or ()) and "qdamp" in start else None,
              "sel": 1}  # its ranking from the top, not another sweep's selected rank
    if args.get("element"):
        values["el"] = args["element"]
    try:
        kind = store().get_dataset(args.get("dataset_id")).measurement.kind
    except SwaxsInputError:
        kind = "gr"
    values.update(_table_fields(get_model("cluster", kind).parameters, start, options.get("bounds") or {},
                                "{field}_{name}"))
    _seed({k: v for k, v in values.items() if v is not None or k not in ("ds", "shape")})
    if args.get("cif_text"):
        st.session_state[f"{PAGE}._restored"] = ("This sweep cut its spheres from an uploaded cif: upload it again "
                                                 "to start it anew.")


def restore_crystal_form(args: dict) -> None:
    """The crystal form as the job was started: dataset, element, lattice, envelope, fit range, the table's grid."""
    options = dict(args.get("options") or {})
    fix, free = set(options.get("fix") or ()), set(options.get("free") or ())
    start = dict(options.get("start") or {})
    values = {"ds": args.get("dataset_id"), "lat": args.get("lattice") or "fcc",
              "np": bool(args.get("nanoparticle", True)), "xmin": options.get("x_min"), "xmax": options.get("x_max"),
              "cadp": options.get("adp") or "isotropic", "cqmin": options.get("q_min_inv_angstrom"),
              "cxyz": "xyz" not in fix,
              "qdamp": start.pop("qdamp") if "qdamp" in fix and "qdamp" in start else None}
    if args.get("element"):
        values["el"] = args["element"]
    rows = [CRYSTAL_PARAMETERS[n] for n in CRYSTAL_ROWS]
    grid = _table_fields(rows, start, options.get("bounds") or {}, "cp.{name}.{field}")
    for row in rows:
        if row.refinable:
            on = row.name in free or (row.refined and row.name not in fix)
            if row.name == "qdamp" and values["qdamp"] is not None:
                on = False
            grid[f"cp.{row.name}.on"] = on
    changed = any(v is not None for k, v in grid.items() if not k.endswith(".on")) or any(
        grid[f"cp.{r.name}.on"] != r.refined for r in rows if r.refinable and r.name != "qdamp")
    values.update(grid, cgrid=changed)
    _seed({k: v for k, v in values.items() if v is not None or k not in ("ds", "lat")})
    if args.get("cif_text"):
        st.session_state[f"{PAGE}._restored"] = ("This crystal model used an uploaded cif: upload it again to "
                                                 "refine it anew.")


def restore_from_links(job_key: str, cjob_key: str) -> None:
    """A link (or a recent job) that names a job fills the form with that job's settings, not the defaults."""
    from swaxs_lib.jobs import get_job

    for name, key, restore in (("cjob", cjob_key, restore_crystal_form), ("job", job_key, restore_sweep_form)):
        if st.session_state[key] is None or not url_given(PAGE, name):
            continue
        try:
            record = get_job(store(), st.session_state[key])
        except SwaxsInputError:
            continue  # the panel says so
        if record.params.get("task") == {"cjob": "crystal", "job": "sweep"}[name]:
            restore(dict(record.params.get("args") or {}))


entry_guard()
st.title("Refine")
st.caption("Refine a family of clusters against a measurement (diffpy.srfit recipes with our real-space and "
           "Debye calculators) and rank them by R_w. Sweeps run in the background: share or reopen the link.")
all_datasets = datasets_or_stop()
job_key = url_key(PAGE, "job", None, parse_id)
cjob_key = url_key(PAGE, "cjob", None, parse_id)
restore_from_links(job_key, cjob_key)
show_url_warnings()
form, results = st.columns([1, 2.6], gap="medium")
with form:
    with st.container(border=True):
        if note := st.session_state.pop(f"{PAGE}._restored", None):
            st.info(md(note), icon=":material/upload_file:")
        url_names = sweep_form(all_datasets)
    recent_jobs("sweep", "pages/refine.py", "Recent sweeps")
url_names = url_names + ["job", "sel", "cjob"]
with results:
    if st.session_state[cjob_key] is not None:
        crystal_panel(st.session_state[cjob_key])
    if st.session_state[job_key] is None:
        st.info("Choose a dataset and a family, then start the sweep. Its progress and ranking appear here.",
                icon=":material/info:")
    else:
        job_panel(st.session_state[job_key])
sync_url(PAGE, url_names)
