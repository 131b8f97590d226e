"""Analyse page: one button screens every motif and size against a curve, refines and relaxes the best, fits mixtures.

UI only: the analysis is a job of :mod:`swaxs_lib.jobs` (task ``analyse``, in
:mod:`swaxs_lib.analyse.pipeline`) that runs in a worker process outside this
script, so the tab can close; the job's id is in the URL (``job=``), and
reopening the link shows its progress by stage or its result.  A link that
names a job fills the form with that job's settings (issue 15, item 3).  The
result is drawn by :mod:`pages._analyse_result`.
"""

from __future__ import annotations

import streamlit as st

from pages._analyse_result import FAMILY_LABELS, show_result
from pages._shared import (
    dataset_key,
    datasets_or_stop,
    entry_guard,
    follow_default,
    md,
    md_value,
    owner_name,
    parse_bool,
    parse_choice,
    parse_id,
    parse_number,
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
from swaxs_lib.analyse.result import STAGES
from swaxs_lib.candidates import FAMILIES
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.window import default_fit_range
from swaxs_lib.io.header import describe_use, header_facts
from swaxs_lib.jobs import progress_of, submit
from swaxs_lib.structures.parameters import supported_elements
from swaxs_lib.structures.readers import read_crystal_cell, read_structure_bytes

PAGE = "analyse"
KEEP = dict(persist_state="session")
#: What each stage does, for the stage list's tooltips.
STAGE_HELP = {
    "window": "the sizes the data allow", "prior": "the ML models' family and size", "screen": "every candidate, "
    "fast fit", "refine": "the best of each family, every parameter free", "crystal": "the attenuated crystal",
    "relax": "the best clusters relaxed with EMT and refined again", "mixture": "combinations of the refined curves",
}
DEFAULTS = {"relax": 3, "alpha": 0.05, "maxfam": 60, "workers": 2, "prior": True}
#: Uploaded clusters an analysis takes at most.
MAX_STRUCTURES = 5


def parse_families(text: str) -> list[str]:
    """Parser of ``fam=icosahedron,decahedron``."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not names:
        raise ValueError(f"expected some of {', '.join(FAMILIES)}")
    return names


def start_analysis(dataset_id: str, element: str, families: list[str], settings: dict, cif: tuple | None,
                   structures: tuple = ()) -> None:
    """Button callback: submit the analysis job and put its id in the URL (``cif``: (name, text))."""
    if not families:
        st.session_state[f"{PAGE}._error"] = "Families: none chosen; expected at least one."
        return
    lo, hi = settings["wlo"], settings["whi"]
    if (lo is None) != (hi is None) or (lo is not None and not lo < hi):
        st.session_state[f"{PAGE}._error"] = (f"Size window: got {lo} to {hi} Å; expected both empty (the data's "
                                              "window) or low < high.")
        return
    args = {"dataset_id": dataset_id, "element": element, "families": list(families),
            "relax_top": int(settings["relax"]), "alpha": float(settings["alpha"]),
            "max_per_family": int(settings["maxfam"]), "workers": int(settings["workers"]),
            "use_prior": bool(settings["prior"]), "window": None if lo is None else [float(lo), float(hi)],
            "options": {"x_min": settings["xmin"], "x_max": settings["xmax"],
                        **({"fix": ["qdamp"], "start": {"qdamp": float(settings["qdamp"])}}
                           if settings.get("qdamp") is not None else {})}}
    if structures:
        args["structures"] = [{"name": name, "text": text} for name, text in structures]
    try:
        if scheduler := scheduler_of(PAGE):
            args["scheduler"] = scheduler
    except SwaxsInputError as exc:
        st.session_state[f"{PAGE}._error"] = str(exc)
        return
    what = element
    if cif is not None:
        args["cif_text"], what = cif[1], cif[0]
    try:
        if cif is not None:
            read_crystal_cell(cif[1].encode(), cif[0])  # its bounds before the job starts
        for name, text in structures:
            read_structure_bytes(text.encode(), name)
        label = f"analyse {what} vs {store().get_dataset(dataset_id).name}"
        job = submit(store(), "analyse", args, dataset_id=dataset_id, label=label, owner=owner_name())
    except SwaxsInputError as exc:
        st.session_state[f"{PAGE}._error"] = str(exc)
        return
    st.session_state[f"{PAGE}.job"] = job.id
    st.session_state[f"{PAGE}.sel"] = 1


def analyse_form(datasets) -> list[str]:
    """Dataset, element, families, the few settings that matter; the Analyse button."""
    names = ["ds", "el", "fam", "relax", "alpha", "maxfam", "wlo", "whi", "xmin", "xmax", "qdamp", "prior", "workers"]
    ds_key, labels = dataset_key(PAGE, datasets)
    st.selectbox("Dataset", list(labels), key=ds_key, format_func=labels.get, **KEEP)
    record = store().get_dataset(st.session_state[ds_key])
    m = record.measurement
    el_key = url_key(PAGE, "el", "Au", parse_choice(supported_elements()))
    facts = header_facts(m)
    follow_default(PAGE, "el", facts.element if facts.element in supported_elements() else "Au")
    st.selectbox("Element", supported_elements(), key=el_key, **KEEP,
                 help="Of the clusters (the file header's when it names one).")
    fam_key = url_key(PAGE, "fam", list(FAMILIES), parse_families)
    st.multiselect("Families", FAMILIES, key=fam_key, format_func=FAMILY_LABELS.get, **KEEP,
                   help="Motifs screened; every size of each in the size window.")
    window = facts.q_range_inv_angstrom if m.domain == "r" else None
    if said := describe_use(facts, elements=[st.session_state[el_key]], q_min_inv_angstrom=window and window[0],
                            q_max_inv_angstrom=window and window[1]):
        st.caption(md(said))
    values = {}
    with st.expander("Settings", icon=":material/tune:"):
        left, right = st.columns(2)
        for target, name, label, lo, hi, kind, step, help_ in (
                (left, "relax", "Relax the best", 0, 20, int, 1, "Clusters relaxed with EMT and refined again."),
                (right, "alpha", "Significance α", 0.001, 0.5, float, 0.01,
                 "Of the best group (F-test on R_w) and of the mixture test."),
                (left, "maxfam", "At most per family", 1, 500, int, 10,
                 "Candidates screened per family, spread over the window."),
                (right, "workers", "Worker processes", 1, 16, int, 1, "Candidates refined at once.")):
            key = url_key(PAGE, name, DEFAULTS[name], parse_number(lo, hi, kind))
            target.number_input(label, min_value=lo, max_value=hi, step=step, key=key, help=help_, **KEEP)
            values[name] = st.session_state[key]
        scheduler_input(PAGE)
        unit = "Å" if m.domain == "r" else "1/Å"
        x_lo, x_hi = default_fit_range(m.kind, m.x)
        for target, name, label, placeholder in (
                (left, "wlo", "Size window from (Å)", "the data's"), (right, "whi", "Size window to (Å)", "the data's"),
                (left, "xmin", f"Fit from ({unit})", f"{x_lo:.3g}"), (right, "xmax", f"Fit to ({unit})", f"{x_hi:.3g}")):
            key = url_key(PAGE, name, None, parse_number(0.0, 1e4))
            target.number_input(label, min_value=0.0, max_value=1e4, value=None, key=key, placeholder=placeholder,
                                help="Extent: the largest atom-centre distance (docs/sizes.md)." if name[0] == "w"
                                else None, **KEEP)
            values[name] = st.session_state[key]
        if m.kind == "gr":
            qdamp_key = url_key(PAGE, "qdamp", None, parse_number(0.0, 0.2))
            left.number_input("Q damping, held (1/Å)", min_value=0.0, max_value=0.2, value=None, step=0.001,
                              format="%.4f", key=qdamp_key, placeholder="refined", **KEEP,
                              help="From a calibrant (e.g. Ni or Si measured on the same set-up). Left empty it is "
                                   "refined with each candidate, where it trades off against the particle size.")
            values["qdamp"] = st.session_state[qdamp_key]
        prior_key = url_key(PAGE, "prior", True, parse_bool)
        st.toggle("Ask the ML models (prior)", key=prior_key, **KEEP,
                  help="Their size interval widens the window when the curve is in their domain; it never narrows it.")
        values["prior"] = st.session_state[prior_key]
        upload = st.file_uploader("Or cut spheres from a crystal (cif)", type=["cif"], key=f"{PAGE}.cif",
                                  help="For a compound (e.g. CdSe): spheres of the crystal and its attenuated "
                                       "crystal replace the metal families (at most 1 MB).")
        uploads = st.file_uploader("Add your own clusters (xyz, cif, pdb)", type=["xyz", "extxyz", "cif", "pdb"],
                                   accept_multiple_files=True, key=f"{PAGE}.structures",
                                   help="Refined alongside the screened motifs and ranked with them (at most "
                                        f"{MAX_STRUCTURES} files of 1 MB).")
    structures = []
    for item in (uploads or [])[:MAX_STRUCTURES]:
        if item.size > 2**20:
            st.error(f"{md_value(item.name)}: {item.size} bytes; expected at most 1 MB", icon=":material/error:")
            return names
        structures.append((item.name, item.getvalue().decode("utf-8", errors="replace")))
    if len(uploads or []) > MAX_STRUCTURES:
        st.warning(f"{len(uploads)} clusters uploaded; the first {MAX_STRUCTURES} are used.", icon=":material/warning:")
    cif = None
    if upload is not None:
        if upload.size > 2**20:
            st.error(f"{md_value(upload.name)}: {upload.size} bytes; expected at most 1 MB", icon=":material/error:")
            return names
        cif = (upload.name, upload.getvalue().decode("utf-8", errors="replace"))
    if m.kind not in ("gr", "iq"):
        st.warning("An analysis needs a G(r) or an I(Q); this dataset is "
                   f"{'an S(Q)' if m.kind == 'sq' else 'an F(Q)'}.", icon=":material/warning:")
        return names
    st.button("Analyse", type="primary", icon=":material/play_arrow:", on_click=start_analysis,
              args=(record.id, st.session_state[el_key], list(st.session_state[fam_key]), values, cif,
                    tuple(structures)))
    if message := st.session_state.pop(f"{PAGE}._error", None):
        st.error(md(message), icon=":material/error:")
    return names


def restore_form(job_id: str) -> None:
    """A link (or a recent job) that names an analysis fills the form with its settings, not the defaults.

    A value the URL gives itself wins (a link's own choice).
    """
    from swaxs_lib.jobs import get_job

    try:
        record = get_job(store(), job_id)
    except SwaxsInputError:
        return  # the panel says so
    if record.params.get("task") != "analyse":
        return
    args = dict(record.params.get("args") or {})
    options = dict(args.get("options") or {})
    window = args.get("window") or (None, None)
    values = {"ds": args.get("dataset_id"), "el": args.get("element"), "fam": list(args.get("families") or FAMILIES),
              "relax": int(args.get("relax_top", DEFAULTS["relax"])),
              "alpha": float(args.get("alpha") or DEFAULTS["alpha"]),
              "maxfam": int(args.get("max_per_family") or DEFAULTS["maxfam"]),
              "workers": int(args.get("workers") or DEFAULTS["workers"]), "prior": bool(args.get("use_prior", True)),
              "wlo": window[0], "whi": window[1], "xmin": options.get("x_min"), "xmax": options.get("x_max"),
              "qdamp": dict(options.get("start") or {}).get("qdamp") if "qdamp" in (options.get("fix") or ()) else None,
              "sel": 1}  # its ranking from the top, not another analysis's selected row
    for name, value in values.items():
        if st.query_params.get(name) is None and (value is not None or name in ("wlo", "whi", "xmin", "xmax", "qdamp")):
            st.session_state[f"{PAGE}.{name}"] = value
    if args.get("element"):
        st.session_state[f"{PAGE}.el._auto"] = None  # the job's element, not the file header's
    if args.get("structures"):
        names = ", ".join(str(s.get("name")) for s in args["structures"])
        st.session_state[f"{PAGE}._restored"] = (f"This analysis also refined uploaded clusters ({names}): upload "
                                                 "them again to start it anew.")
    if args.get("cif_text"):
        st.session_state[f"{PAGE}._restored"] = ("This analysis cut its spheres from an uploaded cif: upload it "
                                                 "again to start it anew.")


def stage_line(note: str, status: str) -> str:
    """The stages in order: done ones ticked, the running one highlighted, later ones grey."""
    current = note.split(":", 1)[0].strip() if status == "running" else ""
    at = STAGES.index(current) if current in STAGES else -1
    parts = []
    for k, stage in enumerate(STAGES):
        if k < at:
            parts.append(f":green[:material/check_circle: {stage}]")
        elif k == at:
            parts.append(f":blue-background[**:material/pending: {stage}**]")
        else:
            parts.append(f":gray[{stage}]")
    return " → ".join(parts)


def draw_stages(now) -> None:
    if now.status not in ("queued", "running"):
        return
    p = progress_of(now)
    st.markdown(stage_line(p.note or "", now.status))
    current = (p.note or "").split(":", 1)[0].strip()
    if current in STAGE_HELP:
        st.caption(f"Now: {md(current)}, {STAGE_HELP[current]}.")


def job_panel(job_id: str) -> list[str]:
    """Progress by stage while the analysis runs (polled every second), then its result."""
    record = watch_job(job_id, cancel_key=f"{PAGE}.cancel", draw=draw_stages)
    if record is None:
        return []
    if record.status in ("queued", "running"):
        st.caption("The analysis runs on the server: this tab can close; the link brings it back.")
        return []
    if show_job_failure(record, "analysis") or record.status != "done":
        return []
    return show_result(record)


entry_guard()
st.title("Analyse")
st.caption("One button: every motif and size the data allow is screened against the curve, the best refined, "
           "relaxed and ranked with a significance test, and mixtures tried. Runs in the background: share or "
           "reopen the link.")
all_datasets = datasets_or_stop()
job_key = url_key(PAGE, "job", None, parse_id)
if st.session_state[job_key] is not None and url_given(PAGE, "job"):
    restore_form(st.session_state[job_key])
show_url_warnings()
form, results = st.columns([1, 2.6], gap="medium")
with form:
    with st.container(border=True):
        if note := st.session_state.pop(f"{PAGE}._restored", None):
            st.info(md(note), icon=":material/upload_file:")
        url_names = analyse_form(all_datasets)
    show_url_warnings()  # the form's own link parameters are read inside it
    recent_jobs("analyse", "pages/analyse.py", "Recent analyses")
with results:
    if st.session_state[job_key] is None:
        st.info("Choose a dataset (and the element and families if you know them), then press Analyse. Its "
                "progress, stage by stage, and its ranking appear here.", icon=":material/info:")
        extra: list[str] = []
    else:
        extra = job_panel(st.session_state[job_key])
sync_url(PAGE, url_names + ["job"] + extra)
