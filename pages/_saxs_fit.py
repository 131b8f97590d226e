"""SAXS page, section "Model fit": a sasmodels form factor with polydispersity, structure factor and smearing.

Widgets (model, polydispersity, structure factor, resolution; the parameter
table built from the model's own table: starts, fix, bounds; all in the URL,
the table's changes as ``f_start``/``f_fix``/``f_free``/``f_bounds``:
:mod:`pages._saxs_fit_table`), one
library call (:func:`swaxs_lib.saxs.sasfit.fit_saxs`), then the result:
every value with its σ and flag, χ²_red, data + fit + residual (log-log) and
CSV downloads.  Every fit is stored (:mod:`swaxs_lib.saxs.stored`; the same
inputs again reuse it) and its id goes in the URL (``f_fit``): a link
reopens the fit, with its form, without refitting.  A fit takes well under a second for a
sphere and most models, and runs in the button's callback; one the library
expects to take longer than :data:`JOB_ABOVE_S` (oriented three-axis shapes
with a size distribution: :func:`swaxs_lib.saxs.sasfit.expected_seconds`)
runs as a background job (``saxs-fit``), whose progress the page polls
(its id in the URL as ``f_job`` until it is done).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages._saxs_fit_table import PARSERS, TABLE_NAMES, parameter_table, url_texts
from pages._shared import (
    download_csv,
    md,
    md_value,
    owner_name,
    parse_choice,
    parse_id,
    parse_number,
    plot_config,
    show_job_failure,
    store,
    url_given,
    url_key,
    watch_job,
    with_sigma,
)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models.sasview import EFFECTIVE_RADIUS, POLYDISPERSITY, STRUCTURE_FACTORS, form_factor_names, saxs_spec

PAGE = "saxs"
KEEP = {"persist_state": "session"}
#: This section's URL parameters (its widgets' ``url_key`` names; ``f_fit``: the stored fit shown).
#: ``f_job``: the background job of a slow fit while it runs.
URL_NAMES: tuple[str, ...] = ("f_model", "f_pd", "f_sf", "f_reff", "f_res", "f_dqq", "f_slit", *TABLE_NAMES,
                              "f_fit", "f_job")
RESOLUTION_TITLES = {"auto": "the data's dQ (if any)", "none": "none", "dq_over_q": "ΔQ/Q (1-σ)",
                     "slit": "slit length"}
#: A fit expected to take longer (s) runs as a background job (swaxs_lib.jobs), polled by the page.
JOB_ABOVE_S = 4.0
FLAG_TEXT = {"": "", "fixed": "fixed", "at_bound": "at a bound: not determined",
             "sigma_exceeds_value": "σ ≥ |value|: not determined",
             "correlated": "|correlation| > 0.95: only a combination is determined"}


@st.cache_resource(show_spinner=False)
def _form_factors() -> tuple[str, ...]:
    return form_factor_names()


def _controls() -> dict:
    """The URL-bound choices of the model and resolution."""
    names = _form_factors()
    left, middle, right = st.columns(3)
    model = left.selectbox("Form factor (sasmodels)", names, key=url_key(PAGE, "f_model", "sphere",
                                                                           parse_choice(names)), **KEEP,
                           help="The common shapes first, then every other sasmodels model by name.")
    pd_options = ["none", *POLYDISPERSITY]
    pd_type = middle.selectbox("Polydispersity of the size", pd_options,
                               key=url_key(PAGE, "f_pd", "gaussian", parse_choice(pd_options)), **KEEP,
                               help="Distribution of the model's first size (radius, ...): relative width σ/R")
    sf_options = ["none", *STRUCTURE_FACTORS]
    sf = right.selectbox("Structure factor", sf_options, key=url_key(PAGE, "f_sf", "none", parse_choice(sf_options)),
                         **KEEP, help="none: dilute particles; else sasmodels' product model P(Q)·S(Q)")
    left, middle, right = st.columns(3)
    reff = "form"
    if sf != "none":
        reff = left.selectbox("S(Q) radius", list(EFFECTIVE_RADIUS),
                              key=url_key(PAGE, "f_reff", "form", parse_choice(list(EFFECTIVE_RADIUS))), **KEEP,
                              format_func={"form": "the particle's", "free": "refined (radius_effective)"}.get)
    res_options = list(RESOLUTION_TITLES)
    res = middle.selectbox("Resolution smearing", res_options, format_func=RESOLUTION_TITLES.get,
                           key=url_key(PAGE, "f_res", "auto", parse_choice(res_options)), **KEEP)
    dqq = slit = None
    if res == "dq_over_q":
        dqq = right.number_input("ΔQ/Q (1-σ)", min_value=0.001, max_value=0.5, format="%.3g",
                                 key=url_key(PAGE, "f_dqq", 0.05, parse_number(0.001, 0.5)), **KEEP)
    elif res == "slit":
        slit = right.number_input("Slit length (1/Å)", min_value=1e-5, max_value=1.0, format="%.4g",
                                  key=url_key(PAGE, "f_slit", 0.01, parse_number(1e-5, 1.0)), **KEEP)
    return {"model": model, "polydispersity": None if pd_type == "none" else pd_type,
            "structure_factor": None if sf == "none" else sf, "effective_radius": reff, "resolution": res,
            "dq_over_q": dqq, "slit_length": slit}


def _figure(fit, measurement):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    columns = fit.columns()
    q = columns["q_inv_angstrom"]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    figure.add_trace(go.Scatter(x=q, y=columns["data_intensity"], mode="markers", name="data",
                                error_y=dict(array=columns["data_intensity_sigma"], thickness=1, width=0),
                                marker=dict(size=4, color="#444")), row=1, col=1)
    figure.add_trace(go.Scatter(x=q, y=columns["fitted_intensity"], mode="lines", name=fit.model,
                                line=dict(color="#d62728", width=2)), row=1, col=1)
    figure.add_trace(go.Scatter(x=q, y=columns["normalised_residual"], mode="markers", name="(data − fit)/σ",
                                marker=dict(size=4, color="#1f77b4")), row=2, col=1)
    unit = dict(measurement.metadata).get("y_unit", "")
    figure.update_xaxes(type="log", title_text="Q (1/Å)", row=2, col=1)
    figure.update_xaxes(type="log", row=1, col=1)
    figure.update_yaxes(type="log", title_text=f"I(Q) ({unit})" if unit else "I(Q)", row=1, col=1)
    figure.update_yaxes(title_text="(data − fit)/σ", row=2, col=1)
    figure.update_layout(height=560, margin=dict(l=60, r=20, t=30, b=50), legend=dict(x=0.99, xanchor="right"))
    return figure


def _result_table(fit) -> dict[str, list]:
    flags = fit.flags()
    values = fit.values
    return {
        "parameter": [v.name for v in values],
        "unit": [v.unit for v in values],
        "value": [v.value for v in values],
        "value_sigma": [v.uncertainty for v in values],
        "flag": [flags.get(v.name, "") for v in values],
    }


def _spec(options: dict):
    """The model's parameter table for these choices (raises SwaxsInputError)."""
    from swaxs_lib.models.sasview import size_parameters
    from swaxs_lib.saxs.sasfit import model_name

    name = model_name(options["model"], options["structure_factor"])
    pd_pars = size_parameters(name)[:1] if options["polydispersity"] else ()
    return saxs_spec(name, polydisperse=pd_pars, effective_radius=options["effective_radius"])


def _open_link(dataset_id: str, fit_key: str) -> None:
    """A link naming a stored fit (``f_fit``): the fit into the session, shown without refitting; a link
    with no form of its own (Home's: no ``f_model``) also fills the form with the fit's settings."""
    from swaxs_lib.saxs.stored import read_saxs_fit

    record_id = st.session_state[fit_key]
    if record_id is None or not url_given(PAGE, "f_fit"):
        return
    shown = st.session_state.get(f"{PAGE}.f_result")
    if shown is not None and shown[2] == record_id:
        return
    try:
        record = store().get_result(record_id)
        fit, form_factor, options = read_saxs_fit(record)
    except SwaxsInputError as exc:
        st.session_state.setdefault("_url_warnings", []).append(f"Link parameter f_fit={record_id!r} ignored ({exc}).")
        st.session_state[fit_key] = None
        return
    if record.dataset_id != dataset_id:
        st.session_state.setdefault("_url_warnings", []).append(
            f"Link parameter f_fit={record_id!r}: a fit of dataset {record.dataset_id}, not of {dataset_id}; "
            f"open it with ds={record.dataset_id}.")
        st.session_state[fit_key] = None
        return
    st.session_state[f"{PAGE}.f_result"] = (record.cache_key, fit, record.id, dataset_id)
    st.session_state.pop(f"{PAGE}.f_running", None)
    _seed_form(form_factor, options)


def _open_job_link(dataset_id: str, job_key: str) -> None:
    """A link naming a running (or finished) fit job (``f_job``): polled by the page as if started here;
    a link with no form of its own also fills the form with the job's settings."""
    from swaxs_lib.jobs import get_job
    from swaxs_lib.saxs.stored import fit_cache_key

    job_id = st.session_state[job_key]
    if job_id is None or not url_given(PAGE, "f_job"):
        return
    running = st.session_state.get(f"{PAGE}.f_running")
    if running is not None and running[1] == job_id:
        return
    try:
        record = get_job(store(), job_id)
        args = dict(record.params.get("args") or {})
        if record.params.get("task") != "saxs-fit" or args.get("dataset_id") != dataset_id:
            raise SwaxsInputError(f"job {job_id!r} is not a SAXS model fit of dataset {dataset_id}")
        options = dict(args.get("options") or {})
        options["bounds"] = {k: (float(lo), float(hi)) for k, (lo, hi) in (options.get("bounds") or {}).items()}
        form_factor = str(args.get("model", "sphere"))
    except (SwaxsInputError, TypeError, ValueError) as exc:
        st.session_state.setdefault("_url_warnings", []).append(f"Link parameter f_job={job_id!r} ignored ({exc}).")
        st.session_state[job_key] = None
        return
    st.session_state[f"{PAGE}.f_running"] = (fit_cache_key(dataset_id, form_factor, options), job_id, dataset_id,
                                             form_factor, options)
    _seed_form(form_factor, options)


def _seed_form(form_factor: str, options: dict) -> None:
    """Set the form to a stored fit's or job's settings, unless the link gives a form of its own (``f_model``:
    then the link wins, and a different form shows the fit as stale)."""
    if url_given(PAGE, "f_model"):
        return
    form = {"f_model": form_factor, "f_pd": options.get("polydispersity") or "none",
            "f_sf": options.get("structure_factor") or "none", "f_reff": options.get("effective_radius") or "form",
            "f_res": options.get("resolution") or "auto", "f_dqq": options.get("dq_over_q"),
            "f_slit": options.get("slit_length")}
    for name, value in form.items():
        if value is not None:
            st.session_state[f"{PAGE}.{name}"] = value
    try:
        spec = _spec({"model": form_factor, "polydispersity": options.get("polydispersity"),
                      "structure_factor": options.get("structure_factor"),
                      "effective_radius": options.get("effective_radius") or "form"})
    except SwaxsInputError:
        return
    table = {k: options.get(k) or ({} if k in ("start", "bounds") else []) for k in ("start", "bounds", "fix", "free")}
    for name, text in url_texts(spec, table).items():
        st.session_state[f"{PAGE}.{name}"] = text


def _fit_arguments(options: dict, table: dict) -> dict:
    """The keyword arguments of fit_saxs for the form's choices and table."""
    return {"polydispersity": options["polydispersity"], "structure_factor": options["structure_factor"],
            "effective_radius": options["effective_radius"], "resolution": options["resolution"],
            "dq_over_q": options["dq_over_q"], "slit_length": options["slit_length"], **table}


def render(dataset_id: str, measurement) -> None:
    """Draw this section for the stored I(Q) ``dataset_id`` (its ``measurement``, Q in 1/Å)."""
    from swaxs_lib.saxs.stored import fit_cache_key

    st.caption("Fit any sasmodels model (sphere, core–shell sphere, ellipsoid, cylinder, parallelepiped, ...) "
               "with a size distribution, an optional structure factor and resolution smearing; weights 1/σ² from "
               "the data's uncertainties. Every fit is stored (listed on Home); its link reopens it.")
    if measurement.x_resolution is not None:
        st.caption(f"This dataset has a dQ column (1-σ, {np.median(measurement.x_resolution):.3g} 1/Å median).")
    fit_key = url_key(PAGE, "f_fit", None, parse_id)
    job_key = url_key(PAGE, "f_job", None, parse_id)
    for name in TABLE_NAMES:
        url_key(PAGE, name, None, PARSERS[name])
    _open_link(dataset_id, fit_key)
    _open_job_link(dataset_id, job_key)
    options = _controls()
    try:
        spec = _spec(options)
    except SwaxsInputError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    with st.expander("Parameters: start, refine, bounds", icon=":material/tune:"):
        table = parameter_table(spec)
    key = f"{PAGE}.f_result"
    inputs = fit_cache_key(dataset_id, options["model"], _fit_arguments(options, table))
    # a callback (not the button's return value): it runs before the script, as the Refine page's buttons do
    st.button("Fit", icon=":material/play_arrow:", type="primary", key=f"{PAGE}.f_go", on_click=_fit,
              args=(dataset_id, measurement, options, table, inputs))
    if message := st.session_state.pop(f"{PAGE}.f_error", None):
        st.error(md(message), icon=":material/error:")
        return
    job = st.session_state.get(f"{PAGE}.f_running")
    st.session_state[job_key] = job[1] if job is not None and job[2] == dataset_id else None
    if job is not None and job[2] == dataset_id:
        from swaxs_lib.saxs.sasfit import SaxsFit
        from swaxs_lib.saxs.stored import read_saxs_fit, save_saxs_fit

        record = watch_job(job[1], cancel_key=f"{PAGE}.f_cancel")
        if record is None or record.status in ("queued", "running") or show_job_failure(record, "SAXS fit"):
            return
        if (saved := store().find_result(job[0])) is not None:  # this job's fit, stored by another session
            fit = read_saxs_fit(saved)[0]
        else:
            fit = SaxsFit.from_json(record.result)
            saved = save_saxs_fit(store(), fit, dataset_id=dataset_id, form_factor=job[3], options=job[4],
                                  cache_key=job[0], owner=owner_name())
        st.session_state[key] = (job[0], fit, saved.id, dataset_id)
        st.session_state[fit_key] = saved.id
        st.session_state[job_key] = None
        st.session_state.pop(f"{PAGE}.f_running", None)
    shown = st.session_state.get(key)
    if shown is None or shown[3] != dataset_id:
        st.session_state[fit_key] = None
        st.info("Choose the model and press Fit.")
        return
    st.session_state[fit_key] = shown[2]
    if shown[0] != inputs:
        st.warning("The choices changed since this fit: press Fit to refit.", icon=":material/update:")
    _show(shown[1], shown[2], measurement)


def _fit(dataset_id: str, measurement, options: dict, table: dict, inputs: str) -> None:
    """The Fit button's callback: the stored fit of the same inputs if there is one, else one library
    call (a background job when it would take over :data:`JOB_ABOVE_S`), stored; the result, the job or
    the error into the session."""
    from swaxs_lib.saxs.sasfit import expected_seconds, fit_saxs
    from swaxs_lib.saxs.stored import read_saxs_fit, save_saxs_fit

    kwargs = _fit_arguments(options, table)
    st.session_state.pop(f"{PAGE}.f_result", None)
    st.session_state.pop(f"{PAGE}.f_running", None)
    st.session_state[f"{PAGE}.f_fit"] = st.session_state[f"{PAGE}.f_job"] = None
    try:
        if (found := store().find_result(inputs)) is not None:
            st.session_state[f"{PAGE}.f_result"] = (inputs, read_saxs_fit(found)[0], found.id, dataset_id)
            return
        if expected_seconds(measurement, options["model"], polydispersity=options["polydispersity"],
                            structure_factor=options["structure_factor"]) > JOB_ABOVE_S:
            from swaxs_lib.jobs import submit

            bounds = {k: list(v) for k, v in kwargs["bounds"].items()}
            record = submit(store(), "saxs-fit", {"dataset_id": dataset_id, "model": options["model"],
                                                  "options": {**kwargs, "bounds": bounds}},
                            dataset_id=dataset_id, label=f"SAXS fit: {options['model']}", owner=owner_name())
            st.session_state[f"{PAGE}.f_running"] = (inputs, record.id, dataset_id, options["model"], kwargs)
            st.session_state[f"{PAGE}.f_job"] = record.id
            return
        fit = fit_saxs(measurement, options["model"], **kwargs)
    except SwaxsInputError as exc:
        st.session_state[f"{PAGE}.f_error"] = str(exc)
        return
    saved = save_saxs_fit(store(), fit, dataset_id=dataset_id, form_factor=options["model"], options=kwargs,
                          cache_key=inputs)
    st.session_state[f"{PAGE}.f_result"] = (inputs, fit, saved.id, dataset_id)


def _show(fit, record_id: str, measurement) -> None:
    summary = fit.summary()
    cells = st.columns(4)
    cells[0].metric("χ²_red", f"{fit.chi2_reduced:.4g}")
    size = next((v for v in fit.values if v.unit == "Å" and v.refined), None)
    if size is not None:
        cells[1].metric(f"{size.name} (Å)", with_sigma(size.value, size.uncertainty))
    cells[2].metric("Points", f"{len(fit.x)}")
    cells[3].metric("Resolution", str(summary["settings"].get("resolution", "")))
    if summary["misfit"]:
        st.warning(md(summary["misfit"]), icon=":material/warning:")
    if summary["undetermined"]:
        st.warning("Not determined by these data: " + ", ".join(md(n) for n in summary["undetermined"])
                   + " (at a bound, σ ≥ |value|, or |correlation| > 0.95 with another parameter).",
                   icon=":material/help:")
    table = _result_table(fit)
    st.dataframe(pd.DataFrame({**table, "flag": [FLAG_TEXT.get(f, f) for f in table["flag"]]}), hide_index=True,
                 column_config={"value": st.column_config.NumberColumn(format="%.6g"),
                                "value_sigma": st.column_config.NumberColumn("σ", format="%.2g")})
    st.plotly_chart(_figure(fit, measurement), config=plot_config("saxs-fit"), key=f"{PAGE}.f_plot")
    left, middle, right = st.columns(3)
    with left:
        download_csv("Fit curves (CSV)", fit.columns(), "saxs-fit-curves.csv", key=f"{PAGE}.f_csv_curves")
    with middle:
        row = fit.parameter_row()
        download_csv("Fit parameters (CSV)", {k: [v] for k, v in row.items()}, "saxs-fit-parameters.csv",
                     key=f"{PAGE}.f_csv_params")
    right.caption(f"Stored as {md_value(record_id)}: listed on Home; this page's link reopens it.")
