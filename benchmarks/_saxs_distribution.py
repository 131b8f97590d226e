"""Benchmark of size distributions: our MaxEnt and Monte Carlo against McSAS3 and Irena on the alumina USAXS data.

Data and settings: tests/data/alumina_usaxs (SasView's test data; Irena's settings from
InputParametersUsed4AluminaData.csv: points 13–94, diameters 25–10000 Å on 100 log bins, flat
background 0.121176, power law 2.55e-7·Q⁻⁴, σ = 1.9033·dI, contrast 1).  In the same run:

``ours maxent`` / ``ours montecarlo``
    :func:`swaxs_lib.saxs.sizedist.size_distribution`, 10 repeats each.
``McSAS3``
    ``mcsas3`` (McHat + McAnalysis, sasmodels ``sphere``, sld 1, 300 contributions, convergence at
    χ²/N = 1, 10 repetitions on one core, radius 12.5–5000 Å) on the same background-subtracted
    points and σ; it fits its own flat background too.  It writes its state to an HDF5 file (a
    temporary one here).  Its volumes are in "1/(m sr) for dimensions in nm" units
    (``McModelHistogrammer._correctionFactor`` = 1e-5 relative to sasmodels' 1/cm with Å), so they
    are divided by 1e-5 to compare with ours.
``Irena (reference)``
    Irena's ten-shot MaxEnt result (AluminaUSAXS_IrenaTenShotsResults.csv); no time.

Agreement columns are computed over the same observable window (diameters π/Q_max–π/Q_min =
29.6–4566 Å): the volume fraction inside it, the volume-weighted mean diameter inside it, and their
ratio to Irena's; for ours (Irena's diameter grid) also the share of the window's bins whose volume
distribution lies within Irena's ten-shot error bar.  ``rows()`` returns the table (for benchmarks/saxs_fit.py); run this file to print it::

    .venv/bin/python benchmarks/_saxs_distribution.py          # ~30 s on 2 idle cores
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.saxs.sizedist import observable_window_angstrom, size_distribution  # noqa: E402

DATA = REPO / "tests" / "data" / "alumina_usaxs"
FIRST, LAST = 13, 94  # points fitted (0-based, inclusive)
SETTINGS = dict(diameter_min_angstrom=25.0, diameter_max_angstrom=10000.0, n_bins=100, flat_background=0.121176,
                power_law_scale=2.55e-7, power_law_exponent=4.0, weight_factor=1.9033, contrast_1e20_per_cm4=1.0)
#: McSAS3's volume unit relative to ours (mcsas3.mc_model_histogrammer.McModelHistogrammer._correctionFactor).
MCSAS_UNIT = 1e-5


def _data():
    q, i, di = np.loadtxt(DATA / "Alumina_usaxs_irena_input.csv", delimiter=",").T
    return q, i, di


def _window():
    q = _data()[0]
    return observable_window_angstrom(q[FIRST], q[LAST])


def _row(method, seconds, volume, volume_sigma, window_volume, mean_d, mean_d_sigma, chi2, reference=None):
    row = {"method": method, "time_s": seconds, "total_volume_fraction": volume,
           "total_volume_fraction_sigma": volume_sigma, "window_volume_fraction": window_volume,
           "mean_diameter_volume_angstrom": mean_d, "mean_diameter_volume_angstrom_sigma": mean_d_sigma,
           "chi2_reduced": chi2}
    if reference is not None:
        row["window_volume_ratio_to_irena"] = window_volume / reference["window_volume_fraction"]
        row["mean_diameter_ratio_to_irena"] = mean_d / reference["mean_diameter_volume_angstrom"]
    return row


def irena_row() -> dict:
    ref = np.loadtxt(DATA / "AluminaUSAXS_IrenaTenShotsResults.csv", delimiter=",", skiprows=1)
    d, v = ref[:, 0], ref[:, 4]
    lo, hi = _window()
    inside = (d >= lo) & (d <= hi)
    width = np.gradient(np.log(d)) * d  # log grid: ΔD = D Δln D
    total = float(np.trapezoid(v, d))
    window = float(np.sum((v * width)[inside]))
    mean_d = float(np.sum((v * width * d)[inside]) / window)
    return _row("Irena (reference)", math.nan, total, math.nan, window, mean_d, math.nan, math.nan)


def ours_row(method: str, reference: dict) -> dict:
    q, i, di = _data()
    start = time.perf_counter()
    r = size_distribution(q, i, di, method=method, q_min_inv_angstrom=q[FIRST], q_max_inv_angstrom=q[LAST],
                          sky_background=1.94e-5 if method == "maxent" else None, n_repeats=10, seed=0, **SETTINGS)
    seconds = time.perf_counter() - start
    row = _row(f"ours {method}", seconds, r.total_volume_fraction, r.total_volume_fraction_sigma,
               r.window_volume_fraction, r.mean_diameter_volume_angstrom, r.mean_diameter_volume_angstrom_sigma,
               r.chi2_reduced, reference)
    # Bin by bin (the same diameters as Irena's): the window's share of bins within Irena's ten-shot error bar.
    ref = np.loadtxt(DATA / "AluminaUSAXS_IrenaTenShotsResults.csv", delimiter=",", skiprows=1)
    within = np.abs(r.volume_fraction_per_angstrom - ref[:, 4]) <= ref[:, 3]
    row["window_bins_within_irena_sigma"] = float(np.mean(within[r.in_window]))
    return row


def mcsas3_row(reference: dict, n_rep: int = 10) -> dict:
    import pandas
    from mcsas3 import mc_data_1d, mc_hat
    from mcsas3.mc_analysis import McAnalysis

    q, i, di = _data()
    q, i, di = q[FIRST:LAST + 1], i[FIRST:LAST + 1], di[FIRST:LAST + 1]
    i = i - SETTINGS["flat_background"] - SETTINGS["power_law_scale"] * q ** -SETTINGS["power_law_exponent"]
    frame = pandas.DataFrame({"Q": q, "I": i, "ISigma": SETTINGS["weight_factor"] * di})
    lo, hi = _window()
    ranges = pandas.DataFrame([
        dict(parameter="radius", nBin=100, binScale="log", presetRangeMin=12.5, presetRangeMax=5000.0,
             binWeighting="vol", autoRange=False),
        dict(parameter="radius", nBin=50, binScale="log", presetRangeMin=lo / 2, presetRangeMax=hi / 2,
             binWeighting="vol", autoRange=False),
    ])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        state = Path(tmp) / "mcsas3.h5"
        data = mc_data_1d.McData1D(df=frame, nbins=0, IEmin=0.0).measData.copy()
        hat = mc_hat.McHat(modelName="sphere", nContrib=300, modelDType="default",
                           fitParameterLimits={"radius": (12.5, 5000.0)},
                           staticParameters={"background": 0, "scale": 1, "sld": 1, "sld_solvent": 0},
                           maxIter=100000, convCrit=1, nRep=n_rep, nCores=1, seed=None)
        hat.run(data, state)
        analysis = McAnalysis(state, data, ranges, store=False)
    seconds = time.perf_counter() - start
    modes = analysis._averagedModes  # one row per range: totalValue and mean (radius, volume-weighted)
    total, total_sd = (modes.loc[0, ("totalValue", k)] / MCSAS_UNIT for k in ("valMean", "valStd"))
    window = modes.loc[1, ("totalValue", "valMean")] / MCSAS_UNIT
    mean_d, mean_d_sd = (2 * modes.loc[1, ("mean", k)] for k in ("valMean", "valStd"))
    chi2 = analysis._averagedOpts.loc["gof", "valMean"]
    return _row("McSAS3 (sasmodels sphere)", seconds, float(total), float(total_sd), float(window), float(mean_d),
                float(mean_d_sd), float(chi2), reference)


def rows() -> list[dict]:
    """One row per method on the alumina USAXS data: time, volume fractions, mean diameter, agreement with Irena."""
    reference = irena_row()
    out = [reference, ours_row("maxent", reference), ours_row("montecarlo", reference)]
    try:
        out.append(mcsas3_row(reference))
    except Exception as exc:  # McSAS3 is a peer, not a dependency: say why it did not run
        out.append({"method": f"McSAS3: did not run ({type(exc).__name__}: {exc})"})
    return out


def main() -> int:
    table = rows()
    columns = ["method", "time_s", "total_volume_fraction", "total_volume_fraction_sigma", "window_volume_fraction",
               "window_volume_ratio_to_irena", "mean_diameter_volume_angstrom", "mean_diameter_volume_angstrom_sigma",
               "mean_diameter_ratio_to_irena", "window_bins_within_irena_sigma", "chi2_reduced"]
    lo, hi = _window()
    print(f"alumina USAXS, points {FIRST}-{LAST}, window {lo:.1f}-{hi:.0f} Å (diameter π/Q_max-π/Q_min), contrast 1")
    print(" | ".join(columns))
    for row in table:
        cells = []
        for c in columns:
            v = row.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) and not math.isnan(v) else ("" if isinstance(v, float)
                                                                                       else str(v)))
        print(" | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
