"""SAXS page, section "Size distribution": a sphere-size distribution with no assumed shape of distribution.

Widgets (method, Q range, diameter bins, backgrounds, contrast, weighting, repeats; all in the
URL with the prefix ``d_``), then one library call
(:func:`swaxs_lib.saxs.sizedist.size_distribution`, cached by the data's content and the
settings), then the volume and number distributions with their bands, the observable window
shaded and the bins outside it greyed, the fit over the data, the metrics and the CSV downloads.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages._shared import (download_csv, md, parse_bool, parse_choice, parse_number, plot_config, slug, url_key,
                           with_sigma)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.saxs.sizedist import METHODS, size_distribution

PAGE = "saxs"
KEEP = {"persist_state": "session"}
METHOD_TITLES = {"maxent": "Maximum entropy", "montecarlo": "Monte Carlo (McSAS-like)"}
#: This section's URL parameters (its widgets' ``url_key`` names).
URL_NAMES: tuple[str, ...] = ("d_method", "d_qmin", "d_qmax", "d_dmin", "d_dmax", "d_bins", "d_flat", "d_pls",
                              "d_ple", "d_contrast", "d_wf", "d_sky", "d_reps", "d_fitbg")
INSIDE, OUTSIDE, BAND = "#1f77b4", "#b0b0b0", "rgba(31,119,180,0.22)"


@st.cache_data(max_entries=32, show_spinner="Computing the size distribution...")
def distribution(q, intensity, sigma, settings: tuple):
    """The library's result, cached by the arrays' content and the settings (datasets never change)."""
    return size_distribution(q, intensity, sigma, **dict(settings))


def _controls(q) -> dict:
    method_key = url_key(PAGE, "d_method", "maxent", parse_choice(list(METHODS)))
    st.segmented_control("Method", list(METHODS), key=method_key, format_func=METHOD_TITLES.get, required=True,
                         **KEEP, help="Maximum entropy (Irena, SasView's algorithm) or a McSAS-like Monte Carlo "
                                      "of equal-volume spheres")
    keys = {
        "q_min_inv_angstrom": url_key(PAGE, "d_qmin", None, parse_number(0.0, 100.0)),
        "q_max_inv_angstrom": url_key(PAGE, "d_qmax", None, parse_number(0.0, 100.0)),
        "diameter_min_angstrom": url_key(PAGE, "d_dmin", 25.0, parse_number(1.0, 1e6)),
        "diameter_max_angstrom": url_key(PAGE, "d_dmax", 10000.0, parse_number(1.0, 1e6)),
        "n_bins": url_key(PAGE, "d_bins", 100, parse_number(3, 1000, int)),
        "flat_background": url_key(PAGE, "d_flat", 0.0, parse_number(-1e12, 1e12)),
        "power_law_scale": url_key(PAGE, "d_pls", 0.0, parse_number(-1e12, 1e12)),
        "power_law_exponent": url_key(PAGE, "d_ple", 4.0, parse_number(0.0, 6.0)),
        "contrast_1e20_per_cm4": url_key(PAGE, "d_contrast", 1.0, parse_number(1e-12, 1e12)),
        "weight_factor": url_key(PAGE, "d_wf", 1.0, parse_number(1e-6, 1e6)),
        "sky_background": url_key(PAGE, "d_sky", None, parse_number(1e-30, 1e6)),
        "n_repeats": url_key(PAGE, "d_reps", 10, parse_number(1, 50, int)),
        "fit_flat_background": url_key(PAGE, "d_fitbg", True, parse_bool),  # else tiny spheres take the flat tail
    }
    row = st.columns(5)
    row[0].number_input("Q min (1/Å)", 0.0, 100.0, value=None, format="%.3e", key=keys["q_min_inv_angstrom"],
                        placeholder=f"{q.min():.4g}", **KEEP)
    row[1].number_input("Q max (1/Å)", 0.0, 100.0, value=None, format="%.3e", key=keys["q_max_inv_angstrom"],
                        placeholder=f"{q.max():.4g}", **KEEP)
    row[2].number_input("D min (Å)", 1.0, 1e6, format="%.4g", key=keys["diameter_min_angstrom"], **KEEP)
    row[3].number_input("D max (Å)", 1.0, 1e6, format="%.4g", key=keys["diameter_max_angstrom"], **KEEP)
    row[4].number_input("Bins (log)", 3, 1000, step=10, key=keys["n_bins"], **KEEP)
    row = st.columns(5)
    row[0].number_input("Flat background", -1e12, 1e12, format="%.6g", key=keys["flat_background"], **KEEP,
                        help="Subtracted, in the data's units")
    row[1].number_input("Power-law scale", -1e12, 1e12, format="%.4g", key=keys["power_law_scale"], **KEEP,
                        help="Background scale·Q^-exponent subtracted (Q in 1/Å)")
    row[2].number_input("Power-law exponent", 0.0, 6.0, step=0.5, key=keys["power_law_exponent"], **KEEP)
    row[3].number_input("Contrast Δρ² (10²⁰ cm⁻⁴)", 1e-12, 1e12, format="%.4g",
                        key=keys["contrast_1e20_per_cm4"], **KEEP,
                        help="Volume fractions are absolute when I is in 1/cm and this is the true contrast")
    row[4].number_input("Weight factor", 1e-6, 1e6, format="%.4g", key=keys["weight_factor"], **KEEP,
                        help="σ = factor × dI; the fit aims at χ²/N = 1 with these σ (Irena's weight factor)")
    row = st.columns(5)
    row[0].number_input("Repeats (band)", 1, 50, key=keys["n_repeats"], **KEEP,
                        help="Solutions whose spread is the band: MaxEnt on data + noise of dI; "
                             "Monte Carlo from independent random starts")
    row[2].checkbox("Fit a flat background too", key=keys["fit_flat_background"], **KEEP,
                    help="A constant found by non-negative least squares with the bins, added to the flat "
                         "background above and then held; poorly determined when Q_max is below the decay "
                         "of the smallest sizes")
    if st.session_state[method_key] == "maxent":
        row[1].number_input("Sky background", 1e-30, 1e6, value=None, format="%.3e", key=keys["sky_background"],
                            placeholder="auto", **KEEP,
                            help="MaxEnt default model per bin (volume fraction); empty: 1e-4 × NNLS total / bins")
    settings = {name: st.session_state[key] for name, key in keys.items()}
    settings["method"] = st.session_state[method_key]
    if settings["method"] != "maxent":
        settings["sky_background"] = None
    return settings


def _distribution_figure(result, values, sigma, title: str, unit: str):
    d = result.diameter_angstrom
    fig = go.Figure()
    lo, hi = result.window_diameter_min_angstrom, result.window_diameter_max_angstrom
    fig.add_vrect(x0=lo, x1=hi, fillcolor="rgba(44,160,44,0.10)", line_width=0, layer="below")
    # On a log axis an annotation's x is log10 of the value (a shape's is the value itself).
    fig.add_annotation(x=math.log10(math.sqrt(lo * hi)), y=1, yref="paper", yanchor="bottom", showarrow=False,
                       text=f"observable window {lo:.3g}–{hi:.4g} Å", font=dict(size=11, color="#2ca02c"))
    fig.add_trace(go.Scatter(x=np.concatenate([d, d[::-1]]),
                             y=np.concatenate([values + sigma, np.clip(values - sigma, 0, None)[::-1]]),
                             fill="toself", fillcolor=BAND, line_width=0, name="± 1σ (repeats)", hoverinfo="skip"))
    inside = result.in_window
    fig.add_trace(go.Scatter(x=d, y=np.where(inside, values, np.nan), mode="lines+markers", line_color=INSIDE,
                             marker_size=4, name="inside the window"))
    fig.add_trace(go.Scatter(x=d, y=np.where(inside, np.nan, values), mode="markers", marker_color=OUTSIDE,
                             marker_size=4, name="outside: not determined"))
    fig.update_layout(title=title, height=360, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.25), xaxis_title="diameter D (Å)", yaxis_title=unit)
    fig.update_xaxes(type="log", range=[math.log10(d[0]) - 0.05, math.log10(d[-1]) + 0.05])
    return fig


def _fit_figure(result):
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=result.q_inv_angstrom, y=result.intensity, mode="markers", name="data",
                             error_y=dict(array=result.intensity_sigma, thickness=1, width=0), marker_size=4,
                             marker_color="#555555"))
    fig.add_trace(go.Scatter(x=result.q_inv_angstrom, y=result.model_intensity, mode="lines", name="model + background",
                             line_color="#d62728"))
    if np.any(result.background != 0):
        fig.add_trace(go.Scatter(x=result.q_inv_angstrom, y=result.background, mode="lines",
                                 line_dash="dot", line_color="#7f7f7f", name="background"))
    fig.update_layout(title="Fit over the data", height=380, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title="Q (1/Å)", yaxis_title="I (data units)", legend=dict(orientation="h", y=-0.25))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig


def render(dataset_id: str, measurement) -> None:
    """Draw this section for the stored I(Q) ``dataset_id`` (its ``measurement``, Q in 1/Å)."""
    st.caption("Spheres on log-spaced diameter bins, no assumed shape of distribution. The observable window is "
               "D = π/Q_max to π/Q_min of the fitted points (Q·D = π); sizes outside it are greyed and not used "
               "for the means and modes. The band is the spread of repeated solutions.")
    if measurement.uncertainties is None:
        st.info("This dataset has no dI column: the size distribution is weighted by dI, so it needs one.")
        return
    settings = _controls(measurement.x)
    try:
        result = distribution(measurement.x, measurement.values, measurement.uncertainties,
                              tuple(sorted(settings.items())))
    except SwaxsInputError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    for warning in result.warnings:
        st.warning(md(warning), icon=":material/warning:")
    cells = st.columns(6)
    cells[0].metric("Volume fraction (total)", with_sigma(result.total_volume_fraction, result.total_volume_fraction_sigma),
                    help="Σ over all bins; absolute only with I in 1/cm and the true contrast")
    cells[1].metric("… inside the window", with_sigma(result.window_volume_fraction, result.window_volume_fraction_sigma))
    cells[2].metric("Mean D, volume-weighted", with_sigma(result.mean_diameter_volume_angstrom,
                                                    result.mean_diameter_volume_angstrom_sigma) + " Å")
    cells[3].metric("Mean D, number-weighted", with_sigma(result.mean_diameter_number_angstrom,
                                                    result.mean_diameter_number_angstrom_sigma) + " Å")
    window = f"{result.window_diameter_min_angstrom:.3g}–{result.window_diameter_max_angstrom:.4g} Å"
    cells[4].metric("Window (D)", window)
    cells[5].metric("χ²/N", f"{result.chi2_reduced:.3f}",
                    help=f"{result.n_converged} of {result.n_repeats} solutions reached χ²/N = 1")
    fitted = (f" Fitted flat background: {result.flat_background_fitted:.4g}."
              if st.session_state.get(f"{PAGE}.d_fitbg") else "")
    st.caption(f"Modes inside the window: {result.mode_diameter_volume_angstrom:.4g} Å (volume), "
               f"{result.mode_diameter_number_angstrom:.4g} Å (number). {METHOD_TITLES[result.method]}, "
               f"{len(result.q_inv_angstrom)} points, {len(result.diameter_angstrom)} bins.{fitted}")
    name = f"swaxs-sizedist-{dataset_id}"
    left, right = st.columns(2)
    with left:
        st.plotly_chart(_distribution_figure(result, result.volume_fraction_per_angstrom,
                                             result.volume_fraction_per_angstrom_sigma, "Volume distribution",
                                             "volume fraction per Å"),
                        config=plot_config(name + "-volume"), key="d-volume-plot")
    with right:
        st.plotly_chart(_distribution_figure(result, result.number_density_per_cm3_per_angstrom,
                                             result.number_density_per_cm3_per_angstrom_sigma, "Number distribution",
                                             "number per cm³ per Å"),
                        config=plot_config(name + "-number"), key="d-number-plot")
    st.plotly_chart(_fit_figure(result), config=plot_config(name + "-fit"), key="d-fit-plot")
    summary = result.summary()
    summary["warnings"] = "; ".join(summary["warnings"])
    cols = st.columns(3)
    with cols[0]:
        download_csv("Size distribution (CSV)", result.table(), f"{slug(name)}.csv", key="d-dl-dist")
    with cols[1]:
        download_csv("Distribution fit (CSV)", result.fit_table(), f"{slug(name)}-fit.csv", key="d-dl-fit")
    with cols[2]:
        download_csv("Distribution summary (CSV)", {k: [v] for k, v in summary.items()}, f"{slug(name)}-summary.csv",
                     key="d-dl-summary")
