"""Size from the Q range a SAXS instrument measures: one model for any window inside 0.02–1 1/Å.

The SAXS size model (:mod:`swaxs_lib.ml.models`, ``size_saxs``) reads the
whole 0.02–1 1/Å window; lab and beamline SAXS curves stop at Q_max 0.1–0.6
1/Å and may start above 0.02 1/Å.  This model reads any window
[Q_lo, Q_hi] with Q_lo ≤ :data:`Q_LO_MAX` and Q_hi ≥ :data:`Q_HI_MIN`:

features
    log10 I at the :data:`GRID` points (60, log-spaced 0.02–1 1/Å, every
    second point of the SAXS window) inside [Q_lo, Q_hi], minus their mean;
    NaN at the points outside (gradient-boosted trees send a missing value
    down a learned branch); then log10 Q_lo and log10 Q_hi.  Data below
    0.02 1/Å are not read: for the database's particles (R_g ≤ 28 Å) they
    lie in the Guinier region, which 0.02–0.05 1/Å already shows.
training
    every ``train`` curve of the database (noise, background, resolution and
    0–30 % polydispersity as simulated) seen through :data:`WINDOWS_PER_CURVE`
    random windows: Q_lo = 0.02 for half of them (a curve starting lower),
    else log-uniform in 0.02–0.05; Q_hi log-uniform in 0.1–1.0.
    ``HistGradientBoostingRegressor`` for log extent (nm) and for log atom
    count, fitted on 80 % of the curves (by curve: a curve's windows never
    straddle the split), seed recorded.
intervals
    split-conformal per window class (Q_hi bins :data:`Q_HI_EDGES`): the 90 %
    quantile of the other 20 %'s absolute log errors.

The model is stored beside the shipped ones as ``size_window.skops`` with its
entry ``size_window`` in the manifest; it answers only where the full SAXS
window is not covered (there ``size_saxs`` / ``joint_iq`` answer).
Held-out accuracy per window class: ``benchmarks/ml_windows.py`` (its table
is in docs/ml_windows.md).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.simulate import Q_GRID

#: Feature points: every second point of the SAXS window 0.02–1 1/Å (60 log-spaced points).
GRID = Q_GRID[(Q_GRID >= 0.02 - 1e-9) & (Q_GRID <= 1.0 + 1e-9)][::2].copy()
#: A window must start at or below this Q (1/Å) ...
Q_LO_MAX = 0.05
#: ... and end at or above this one (1/Å).
Q_HI_MIN = 0.1
#: Random windows per training curve.
WINDOWS_PER_CURVE = 4
#: Q_hi bin edges (1/Å) of the per-window conformal intervals.
Q_HI_EDGES = (0.1, 0.15, 0.25, 0.4, 0.7, 1.01)
INTERVAL_COVERAGE = 0.90


def window_of(q_inv_angstrom: np.ndarray) -> tuple[float, float] | None:
    """The window [Q_lo, Q_hi] (1/Å) this model reads of a curve's Q range, or None if it cannot."""
    q = np.asarray(q_inv_angstrom, float)
    if not len(q):
        return None
    lo, hi = max(float(q.min()), GRID[0]), min(float(q.max()), GRID[-1])
    if lo > Q_LO_MAX * 1.02 or hi < Q_HI_MIN * 0.98:
        return None
    return lo, hi


def window_features(q_inv_angstrom: np.ndarray, intensity: np.ndarray, q_lo: float, q_hi: float) -> np.ndarray:
    """The feature vector(s) of curve(s) on window [q_lo, q_hi] (module docstring).

    Parameters
    ----------
    q_inv_angstrom : numpy.ndarray (n,)
    intensity : numpy.ndarray (n,) or (m, n)
        I(Q), positive inside the window.
    q_lo, q_hi : float
        The window (1/Å).

    Returns
    -------
    numpy.ndarray (len(GRID) + 2,) or (m, len(GRID) + 2), float32

    Raises
    ------
    SwaxsInputError
        Fewer than 5 grid points inside the window, or I(Q) ≤ 0 there.
    """
    q = np.asarray(q_inv_angstrom, float)
    rows = np.asarray(intensity, float)
    single = rows.ndim == 1
    rows = rows[None, :] if single else rows
    inside = (GRID >= q_lo * (1 - 1e-9)) & (GRID <= q_hi * (1 + 1e-9))
    if inside.sum() < 5:
        raise SwaxsInputError(f"Q window {q_lo:.3g}..{q_hi:.3g} 1/Å: {int(inside.sum())} feature points; "
                              "expected a window spanning at least a factor 1.4 in Q")
    near = (q >= q_lo * 0.9) & (q <= q_hi * 1.1)
    if np.any(rows[:, near] <= 0):
        raise SwaxsInputError(f"Q window {q_lo:.3g}..{q_hi:.3g} 1/Å: I(Q) has values <= 0; expected a positive "
                              "intensity (subtract less background)")
    logs = np.log10(np.maximum(rows, 1e-300))
    out = np.full((len(rows), len(GRID) + 2), np.nan)
    out[:, :-2][:, inside] = np.array([np.interp(GRID[inside], q, row) for row in logs])
    out[:, :-2] -= np.nanmean(out[:, :-2], axis=1, keepdims=True)
    out[:, -2], out[:, -1] = math.log10(q_lo), math.log10(q_hi)
    out = out.astype(np.float32)
    return out[0] if single else out


def _grid_logs(q: np.ndarray, iq: np.ndarray) -> np.ndarray:
    index = np.searchsorted(q, GRID - 1e-9)
    if not np.allclose(q[index], GRID):
        raise SwaxsInputError("training curves: not on the database's Q grid")
    return np.log10(np.maximum(iq[:, index], 1e-300))


def random_windows(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random windows (n, 2) as the module docstring draws them."""
    lo = np.where(rng.random(n) < 0.5, GRID[0], np.exp(rng.uniform(math.log(GRID[0]), math.log(Q_LO_MAX), n)))
    hi = np.exp(rng.uniform(math.log(Q_HI_MIN), math.log(GRID[-1]), n))
    return np.column_stack((lo, hi))


def features_on_windows(logs: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Features of grid log-intensities ``logs`` (m, len(GRID)) each on its window (m, 2) (fast path)."""
    inside = (GRID[None, :] >= windows[:, :1] * (1 - 1e-9)) & (GRID[None, :] <= windows[:, 1:] * (1 + 1e-9))
    # a window's ends between grid points: interpolation onto the grid inside equals the grid values there
    x = np.where(inside, logs, np.nan)
    x -= np.nanmean(x, axis=1, keepdims=True)
    return np.column_stack((x, np.log10(windows))).astype(np.float32)


def train_window_size(q: np.ndarray, iq: np.ndarray, log_extent_nm: np.ndarray, log_atoms: np.ndarray,
                      seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the window size model on training curves (module docstring).

    Returns
    -------
    (estimators, entry)
        ``{"extent": ..., "atoms": ...}`` and the manifest entry (seed, windows, conformal half-widths
        per Q_hi bin for log extent and log atoms, calibration scores, fit time).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(seed)
    logs = _grid_logs(q, iq)
    n = len(logs)
    order = rng.permutation(n)
    fit, cal = order[: int(0.8 * n)], order[int(0.8 * n):]
    rows = np.repeat(fit, WINDOWS_PER_CURVE)
    windows = random_windows(len(rows), rng)
    x = features_on_windows(logs[rows], windows)
    start = time.time()
    estimators = {}
    for name, y in (("extent", log_extent_nm), ("atoms", log_atoms)):
        model = HistGradientBoostingRegressor(max_iter=600, learning_rate=0.08, max_leaf_nodes=63,
                                              min_samples_leaf=20, l2_regularization=1e-3, random_state=seed)
        estimators[name] = model.fit(x, y[rows])
    fit_s = round(time.time() - start, 1)
    cal_rows = np.repeat(cal, WINDOWS_PER_CURVE)
    cal_windows = random_windows(len(cal_rows), rng)
    xc = features_on_windows(logs[cal_rows], cal_windows)
    bins = np.digitize(cal_windows[:, 1], Q_HI_EDGES[1:-1])
    half: dict[str, list[float]] = {}
    for name, y in (("extent", log_extent_nm), ("atoms", log_atoms)):
        err = np.abs(estimators[name].predict(xc) - y[cal_rows])
        half[name] = [round(float(np.quantile(err[bins == b], INTERVAL_COVERAGE)), 5)
                      for b in range(len(Q_HI_EDGES) - 1)]
    entry = {"seed": seed, "grid_points": len(GRID), "windows_per_curve": WINDOWS_PER_CURVE,
             "q_lo_max_inv_angstrom": Q_LO_MAX, "q_hi_min_inv_angstrom": Q_HI_MIN,
             "q_hi_edges_inv_angstrom": list(Q_HI_EDGES), "half_width_log": half, "n_fit_curves": len(fit),
             "n_calibration_curves": len(cal), "fit_s": fit_s}
    return estimators, entry


def predict_window_size(estimators: dict[str, Any], entry: dict[str, Any], q_inv_angstrom: np.ndarray,
                        intensity: np.ndarray) -> dict[str, Any]:
    """Extent (nm) and atom count with their 90 % intervals from a curve's own SAXS window.

    Raises
    ------
    SwaxsInputError
        The curve's Q range holds no window this model reads (:func:`window_of`).
    """
    window = window_of(q_inv_angstrom)
    if window is None:
        raise SwaxsInputError(f"curve spans {np.min(q_inv_angstrom):.3g}..{np.max(q_inv_angstrom):.3g} 1/Å; "
                              f"expected Q_min <= {Q_LO_MAX} and Q_max >= {Q_HI_MIN} 1/Å for a size")
    x = window_features(q_inv_angstrom, intensity, *window)[None, :]
    b = int(np.digitize(window[1], entry["q_hi_edges_inv_angstrom"][1:-1]))
    log_d = float(estimators["extent"].predict(x)[0])
    log_n = float(estimators["atoms"].predict(x)[0])
    hd, hn = entry["half_width_log"]["extent"][b], entry["half_width_log"]["atoms"][b]
    return {"window_inv_angstrom": (round(window[0], 5), round(window[1], 5)),
            "extent_nm": math.exp(log_d), "extent_interval_nm": (math.exp(log_d - hd), math.exp(log_d + hd)),
            "n_atoms": math.exp(log_n), "n_atoms_interval": (math.exp(log_n - hn), math.exp(log_n + hn))}


__all__ = ["GRID", "Q_HI_MIN", "Q_LO_MAX", "features_on_windows", "predict_window_size", "random_windows",
           "train_window_size", "window_features", "window_of"]
