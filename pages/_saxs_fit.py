"""SAXS page, section "Model fit": a sasmodels form factor with polydispersity, structure factor and smearing.

Widgets (model, polydispersity, structure factor, resolution: in the URL; the
parameter table built from the model's own table: starts, fix, bounds), one
library call (:func:`swaxs_lib.saxs.sasfit.fit_saxs`), then the result:
every value with its σ and flag, χ²_red, data + fit + residual (log-log),
CSV downloads and saving to the store.  A fit takes well under a second for a
sphere and most models, and runs in the button's callback; one the library
expects to take longer than :data:`JOB_ABOVE_S` (oriented three-axis shapes
with a size distribution: :func:`swaxs_lib.saxs.sasfit.expected_seconds`)
runs as a background job (``saxs-fit``), whose progress the page polls.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from pages._shared import (
    download_csv,
    md,
    parse_choice,
    parse_number,
    plot_config,
    show_job_failure,
    store,
    url_key,
    watch_job,
)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models.sasview import EFFECTIVE_RADIUS, POLYDISPERSITY, STRUCTURE_FACTORS, form_factor_names, saxs_spec

PAGE = "saxs"
KEEP = {"persist_state": "session"}
#: This section's URL parameters (its widgets' ``url_key`` names).
URL_NAMES: tuple[str, ...] = ("f_model", "f_pd", "f_sf", "f_reff", "f_res", "f_dqq", "f_slit")
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


def _parameter_table(spec) -> dict:
    """The model's table as an editable grid (start, refine, bounds); returns start, bounds, fix and free."""
    rows = [p for p in spec.parameters]
    frame = pd.DataFrame({
        "parameter": [p.label() for p in rows],
        "start": [None if p.name in spec.linear or p.unit == "Å" else p.start for p in rows],
        "refine": [p.refined for p in rows],
        "low": [p.low if math.isfinite(p.low) else None for p in rows],
        "high": [p.high if math.isfinite(p.high) else None for p in rows],
        "description": [p.description for p in rows],
    })
    st.caption("Empty start: automatic (sizes from a grid over the Q range, scale and background by linear least "
               "squares). SLDs in 1e-6/Å²; with I in 1/cm and the right SLDs the scale is the volume fraction.")
    edited = st.data_editor(frame, key=f"{PAGE}.f_table.{spec.name}", hide_index=True, disabled=("parameter",
                                                                                               "description"),
                            column_config={"start": st.column_config.NumberColumn(format="%.5g"),
                                           "low": st.column_config.NumberColumn(format="%.5g"),
                                           "high": st.column_config.NumberColumn(format="%.5g")})
    start, bounds, fix, free = {}, {}, [], []
    for p, (_, row) in zip(rows, edited.iterrows()):
        if row["start"] is not None and not pd.isna(row["start"]):
            start[p.name] = float(row["start"])
        low = p.low if row["low"] is None or pd.isna(row["low"]) else float(row["low"])
        high = p.high if row["high"] is None or pd.isna(row["high"]) else float(row["high"])
        if (low, high) != (p.low, p.high):
            bounds[p.name] = (low, high)
        if bool(row["refine"]) != p.refined:
            (free if row["refine"] else fix).append(p.name)
    return {"start": start, "bounds": bounds, "fix": fix, "free": free}


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


def render(dataset_id: str, measurement) -> None:
    """Draw this section for the stored I(Q) ``dataset_id`` (its ``measurement``, Q in 1/Å)."""
    st.caption("Fit any sasmodels model (sphere, core–shell sphere, ellipsoid, cylinder, parallelepiped, ...) "
               "with a size distribution, an optional structure factor and resolution smearing; weights 1/σ² from "
               "the data's uncertainties.")
    if measurement.x_resolution is not None:
        st.caption(f"This dataset has a dQ column (1-σ, {np.median(measurement.x_resolution):.3g} 1/Å median).")
    options = _controls()
    try:
        from swaxs_lib.saxs.sasfit import model_name
        from swaxs_lib.models.sasview import size_parameters

        name = model_name(options["model"], options["structure_factor"])
        pd_pars = size_parameters(name)[:1] if options["polydispersity"] else ()
        spec = saxs_spec(name, polydisperse=pd_pars, effective_radius=options["effective_radius"])
    except SwaxsInputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    with st.expander("Parameters: start, refine, bounds", icon=":material/tune:"):
        table = _parameter_table(spec)
    key = f"{PAGE}.f_result"
    inputs = repr((dataset_id, sorted(options.items(), key=str), sorted(table.items(), key=str)))
    # a callback (not the button's return value): it runs before the script, as the Refine page's buttons do
    st.button("Fit", icon=":material/play_arrow:", type="primary", key=f"{PAGE}.f_go", on_click=_fit,
              args=(dataset_id, measurement, options, table, inputs))
    if message := st.session_state.pop(f"{PAGE}.f_error", None):
        st.error(message, icon=":material/error:")
        return
    job = st.session_state.get(f"{PAGE}.f_job")
    if job is not None and job[0].startswith(repr((dataset_id,))[:-2]):
        from swaxs_lib.saxs.sasfit import SaxsFit

        record = watch_job(job[1], cancel_key=f"{PAGE}.f_cancel")
        if record is None or record.status in ("queued", "running") or show_job_failure(record, "SAXS fit"):
            return
        st.session_state[key] = (job[0], SaxsFit.from_json(record.result))
        st.session_state.pop(f"{PAGE}.f_job", None)
    shown = st.session_state.get(key)
    if shown is None or not shown[0].startswith(repr((dataset_id,))[:-2]):
        st.info("Choose the model and press Fit.")
        return
    stale, fit = shown[0] != inputs, shown[1]
    if stale:
        st.warning("The choices changed since this fit: press Fit to refit.", icon=":material/update:")
    _show(fit, dataset_id, measurement)


def _fit(dataset_id: str, measurement, options: dict, table: dict, inputs: str) -> None:
    """The Fit button's callback: one library call (a background job when it would take over
    :data:`JOB_ABOVE_S`); the result, the job or the error into the session."""
    from swaxs_lib.saxs.sasfit import expected_seconds, fit_saxs

    kwargs = {"polydispersity": options["polydispersity"], "structure_factor": options["structure_factor"],
              "effective_radius": options["effective_radius"], "resolution": options["resolution"],
              "dq_over_q": options["dq_over_q"], "slit_length": options["slit_length"], **table}
    st.session_state.pop(f"{PAGE}.f_result", None)
    st.session_state.pop(f"{PAGE}.f_job", None)
    try:
        if expected_seconds(measurement, options["model"], polydispersity=options["polydispersity"],
                            structure_factor=options["structure_factor"]) > JOB_ABOVE_S:
            from swaxs_lib.jobs import submit

            bounds = {k: list(v) for k, v in kwargs.pop("bounds").items()}
            record = submit(store(), "saxs-fit", {"dataset_id": dataset_id, "model": options["model"],
                                                  "options": {**kwargs, "bounds": bounds}},
                            dataset_id=dataset_id, label=f"SAXS fit: {options['model']}")
            st.session_state[f"{PAGE}.f_job"] = (inputs, record.id)
            return
        fit = fit_saxs(measurement, options["model"], **kwargs)
    except SwaxsInputError as exc:
        st.session_state[f"{PAGE}.f_error"] = str(exc)
        return
    st.session_state[f"{PAGE}.f_result"] = (inputs, fit)


def _save(fit, dataset_id: str) -> None:
    """The Save button's callback: the fit as a store row (listed on Home)."""
    from swaxs_lib.store.fits import StoredFit, save_fit

    stored = StoredFit.from_fit(fit, producer="saxs", dataset_id=dataset_id,
                                inputs={"page": "saxs", "model": fit.model})
    record = save_fit(store(), stored, message=f"SAXS fit: {fit.model} χ²_red {fit.chi2_reduced:.4g}")
    st.session_state[f"{PAGE}.f_saved"] = record.id


def _show(fit, dataset_id: str, measurement) -> None:
    summary = fit.summary()
    cells = st.columns(4)
    cells[0].metric("χ²_red", f"{fit.chi2_reduced:.4g}")
    size = next((v for v in fit.values if v.unit == "Å" and v.refined), None)
    if size is not None:
        sigma = f" ± {size.uncertainty:.2g}" if size.uncertainty else ""
        cells[1].metric(f"{size.name} (Å)", f"{size.value:.4g}{sigma}")
    cells[2].metric("Points", f"{len(fit.x)}")
    cells[3].metric("Resolution", str(summary["settings"].get("resolution", "")))
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
    right.button("Save to store", icon=":material/save:", key=f"{PAGE}.f_save", on_click=_save,
                 args=(fit, dataset_id))
    if saved := st.session_state.pop(f"{PAGE}.f_saved", None):
        st.success(f"Saved as {saved}; listed on Home.", icon=":material/check:")
