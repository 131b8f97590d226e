"""Size from the Q range a SAXS instrument measures: models for the windows inside 0.02–1 1/Å.

The SAXS size model (:mod:`swaxs_lib.ml.models`, ``size_saxs``) reads the
whole 0.02–1 1/Å window; lab and beamline SAXS curves stop at Q_max 0.1–0.6
1/Å and may start above 0.02 1/Å.  This module keeps one small model per
window of a ladder, Q_lo in :data:`Q_LOS` × Q_hi in :data:`Q_HIS`, and
answers a curve with the widest ladder window inside its Q range
(:func:`ladder_window`): Q_lo the smallest ladder value ≥ the curve's Q_min
(0.02 for a curve starting lower: for the database's particles, R_g ≤ 28 Å,
Q < 0.02 1/Å lies in the Guinier region, which 0.02–0.05 1/Å already shows),
Q_hi the largest ≤ its Q_max.  A curve starting above 0.05 1/Å or ending
below 0.1 1/Å gets no size.

features
    log10 I at the database's Q points inside the window, minus their mean
    (the unknown scale), the curve interpolated linearly in log I.
model
    per window: PCA (15 components: a SAXS curve varies in few ways, and the
    projection averages the noise) fitted on 80 % of the database's
    ``train`` curves (noise, background, resolution and 0–30 % polydispersity
    as simulated; split by curve, seed recorded), then the 7 nearest of
    those curves in that space, weighted by 1/distance, give log extent (nm,
    the database's label), log atom count and log volume-equivalent diameter
    (nm, :mod:`swaxs_lib.structures.sizes`: what a SAXS sphere fit measures).
    Plain arrays (``size_window.npz``, read with ``allow_pickle=False``): a
    window's model is its PCA mean and components, the fitting curves'
    coordinates (float16) and their three labels.
shape gating
    where a WAXS part gives the shape (``shape_waxs``), the neighbours are
    sought within each size group (like families: an octahedron's extent is
    not a sphere's for the same SAXS curve) and mixed by the group
    probabilities (:func:`gated_knn`); where the user names the shape
    (``predict --shape``), among that shape's families only
    (:func:`restricted_knn`).
intervals
    split-conformal per window: the 90 % quantile of the other 20 %'s
    absolute log errors.
novelty
    as the other models': the mean distance to the 5 nearest fitting curves
    in the window's PCA space, over its 99.5 % quantile on the calibration
    part (above 1: unlike the training curves).

The models are stored beside the shipped ones as ``size_window.npz`` with
the manifest entry ``size_window``; they answer only where the full SAXS
window is not covered (there ``size_saxs`` / ``joint_iq`` answer).
Held-out accuracy per window class: ``benchmarks/ml_windows.py`` (its table
is in docs/ml_instruments.md).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.simulate import Q_GRID

#: Ladder of window starts and ends (1/Å).
Q_LOS = (0.02, 0.03, 0.05)
Q_HIS = (0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 1.0)
#: A window must start at or below this Q (1/Å) and end at or above Q_HI_MIN.
Q_LO_MAX, Q_HI_MIN = Q_LOS[-1], Q_HIS[0]
#: Principal components per window.
COMPONENTS = 15
INTERVAL_COVERAGE = 0.90
#: The novelty score as the other models' (:mod:`swaxs_lib.ml.models`): mean distance to the 5 nearest
#: fitting curves in the window's PCA space over the calibration part's 99.5 % quantile.
NOVELTY_NEIGHBOURS, NOVELTY_QUANTILE = 5, 0.995
#: Neighbours averaged for the size.
NEIGHBOURS = 7
#: The targets: log extent (nm), log atom count, log volume-equivalent diameter (nm).
TARGETS = ("extent", "atoms", "volume_diameter")


def window_name(q_lo: float, q_hi: float) -> str:
    return f"{q_lo:g}-{q_hi:g}"


def ladder_windows() -> list[tuple[float, float]]:
    """Every ladder window but 0.02–1 1/Å (the SAXS window itself, ``size_saxs``'s)."""
    return [(lo, hi) for lo in Q_LOS for hi in Q_HIS if (lo, hi) != (Q_LOS[0], Q_HIS[-1])]


def ladder_window(q_inv_angstrom: np.ndarray) -> tuple[float, float] | None:
    """The widest ladder window inside a curve's Q range (2 % slack at each end), or None."""
    q = np.asarray(q_inv_angstrom, float)
    if not len(q):
        return None
    q_min, q_max = float(q.min()), float(q.max())
    los = [lo for lo in Q_LOS if lo >= q_min / 1.02]
    his = [hi for hi in Q_HIS if hi <= q_max * 1.02]
    if not los or not his:
        return None
    window = (min(los), max(his))
    return window if window in ladder_windows() or window == (Q_LOS[0], Q_HIS[-1]) else None


def window_points(q_lo: float, q_hi: float) -> np.ndarray:
    """The database's Q points (1/Å) inside [q_lo, q_hi]."""
    return Q_GRID[(Q_GRID >= q_lo - 1e-9) & (Q_GRID <= q_hi + 1e-9)]


def window_features(q_inv_angstrom: np.ndarray, intensity: np.ndarray, q_lo: float, q_hi: float) -> np.ndarray:
    """Features (module docstring) of curve(s) on window [q_lo, q_hi]: (n_points,) or (m, n_points), float32.

    Raises
    ------
    SwaxsInputError
        I(Q) ≤ 0 inside the window.
    """
    q = np.asarray(q_inv_angstrom, float)
    rows = np.asarray(intensity, float)
    single = rows.ndim == 1
    rows = rows[None, :] if single else rows
    points = window_points(q_lo, q_hi)
    near = (q >= q_lo * 0.9) & (q <= q_hi * 1.1)
    if np.any(rows[:, near] <= 0):
        raise SwaxsInputError(f"Q window {q_lo:g}..{q_hi:g} 1/Å: I(Q) has values <= 0; expected a positive "
                              "intensity (subtract less background)")
    logs = np.log10(np.maximum(rows, 1e-300))
    if np.array_equal(q, Q_GRID):
        out = logs[:, np.searchsorted(Q_GRID, points - 1e-9)]
    else:
        out = np.array([np.interp(points, q, row) for row in logs])
    out = (out - out.mean(axis=1, keepdims=True)).astype(np.float32)
    return out[0] if single else out


def window_labels(labels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Extent (nm), atom count and volume-equivalent diameter (nm; the element's fcc atomic volume, as
    :func:`swaxs_lib.ml.predict.predict` converts) of database labels, and the shell step (nm)."""
    from swaxs_lib.structures.elements import lattice_constant
    from swaxs_lib.structures.sizes import volume_diameter

    atoms = labels["n_atoms"].astype(float)
    volume = {e: lattice_constant(e, "fcc") ** 3 / 4 for e in set(labels["element"])}
    vd = np.array([volume_diameter(n, volume[e]) for n, e in zip(atoms, labels["element"])]) / 10.0
    return {"extent": labels["diameter_angstrom"].astype(float) / 10.0, "atoms": atoms, "volume_diameter": vd,
            "step": labels["shell_step_angstrom"].astype(float) / 10.0}


def volume_step(truth: dict[str, np.ndarray]) -> np.ndarray:
    """One shell (one rung of the family's ladder) in volume-equivalent diameter (nm): the extent's step
    scaled by volume diameter / extent (the same relative step), for "within one shell or 5 %"."""
    return truth["step"] * truth["volume_diameter"] / truth["extent"]


def train_window_size(q: np.ndarray, iq: np.ndarray, targets: dict[str, np.ndarray], seed: int = 0,
                      progress=None, groups: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Fit the window models (module docstring).

    Parameters
    ----------
    q : numpy.ndarray
        The database's Q grid (1/Å).
    iq : numpy.ndarray (n, len(q))
        Training curves.
    targets : dict
        ``TARGETS`` -> (n,) log values.
    seed : int
    progress : callable, optional
        ``progress(done, total, window_name)``.
    groups : numpy.ndarray (n,), optional
        Size-group indices (:func:`swaxs_lib.ml.experts.group_labels`) of the curves, kept per window
        (``groups``) for the shape-gated prediction.

    Returns
    -------
    (arrays, entry)
        ``{f"{window}/{part}": array}`` (parts ``mean``, ``components``, ``coords``, ``targets``) and
        the manifest entry (seed, windows, conformal half-widths per window and target, novelty scales,
        the calibration part's scores).
    """
    from sklearn.decomposition import PCA

    if not np.array_equal(q, Q_GRID):
        raise SwaxsInputError("training curves: not on the database's Q grid")
    rng = np.random.default_rng(seed)
    n = len(iq)
    order = rng.permutation(n)
    fit, cal = np.sort(order[: int(0.8 * n)]), np.sort(order[int(0.8 * n):])
    y = np.column_stack([targets[t] for t in TARGETS]).astype(np.float32)
    arrays: dict[str, np.ndarray] = {}
    half: dict[str, dict[str, float]] = {}
    novelty_scale: dict[str, float] = {}
    scores: dict[str, dict[str, float]] = {}
    start = time.time()
    for k, (lo, hi) in enumerate(ladder_windows()):
        name = window_name(lo, hi)
        x = window_features(q, iq, lo, hi)
        pca = PCA(min(COMPONENTS, x.shape[1]), random_state=0).fit(x[fit])
        parts = {"mean": pca.mean_.astype(np.float32), "components": pca.components_.astype(np.float32),
                 "coords": pca.transform(x[fit]).astype(np.float16), "targets": y[fit]}
        if groups is not None:
            parts["groups"] = np.asarray(groups)[fit].astype(np.int8)
        arrays.update({f"{name}/{part}": value for part, value in parts.items()})
        predicted, distance = _knn(parts, x[cal])
        novelty_scale[name] = float(np.quantile(distance, NOVELTY_QUANTILE))
        err = np.abs(predicted - y[cal])
        half[name] = {t: round(float(np.quantile(err[:, j], INTERVAL_COVERAGE)), 5) for j, t in enumerate(TARGETS)}
        scores[name] = {f"{t}_within_5_percent": round(float(np.mean(err[:, j] <= math.log(1.05))), 4)
                        for j, t in enumerate(TARGETS)}
        if progress:
            progress(k + 1, len(ladder_windows()), name)
    entry = {"seed": seed, "windows": [window_name(lo, hi) for lo, hi in ladder_windows()],
             "q_los_inv_angstrom": list(Q_LOS), "q_his_inv_angstrom": list(Q_HIS), "components": COMPONENTS,
             "neighbours": NEIGHBOURS, "half_width_log": half, "novelty_scale": novelty_scale,
             "calibration_scores": scores, "n_fit_curves": len(fit), "n_calibration_curves": len(cal),
             "fit_s": round(time.time() - start, 1)}
    return arrays, entry


def _knn(parts: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted log targets (m, 3), novelty distance (m,)) of feature rows ``x`` on one window's model."""
    z = (x - parts["mean"]) @ parts["components"].T
    coords = parts["coords"].astype(np.float32)
    c2 = (coords**2).sum(axis=1)
    predicted, distance = [], []
    for chunk in np.array_split(z, max(1, len(z) // 256)):
        d = np.sqrt(np.maximum((chunk**2).sum(axis=1)[:, None] + c2[None, :] - 2 * chunk @ coords.T, 0.0))
        near = np.argpartition(d, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]
        dn = np.take_along_axis(d, near, axis=1)
        order = np.argsort(dn, axis=1)
        near, dn = np.take_along_axis(near, order, axis=1), np.take_along_axis(dn, order, axis=1)
        w = 1.0 / np.maximum(dn, 1e-9)
        predicted.append((w[:, :, None] * parts["targets"][near]).sum(axis=1) / w.sum(axis=1, keepdims=True))
        distance.append(dn[:, :NOVELTY_NEIGHBOURS].mean(axis=1))
    return np.concatenate(predicted), np.concatenate(distance)


def window_parts(arrays: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    """One window's arrays from the stored ``{f"{window}/{part}": array}``."""
    return {part: arrays[f"{name}/{part}"] for part in ("mean", "components", "coords", "targets", "groups")
            if f"{name}/{part}" in arrays}


def window_knn(arrays: dict[str, np.ndarray], q_inv_angstrom: np.ndarray, intensity: np.ndarray,
               q_lo: float, q_hi: float) -> np.ndarray:
    """The ungated window model's log targets (m, 3: :data:`TARGETS`) for curves ``intensity`` (m, len(q))
    on window [q_lo, q_hi] of the stored ``arrays`` (``size_window.npz``)."""
    parts = window_parts(arrays, window_name(q_lo, q_hi))
    return _knn(parts, window_features(q_inv_angstrom, intensity, q_lo, q_hi))[0]


def gated_knn(parts: dict[str, np.ndarray], x: np.ndarray, group_proba: np.ndarray) -> np.ndarray:
    """Predicted log targets (m, 3) with the neighbours sought within each size group, mixed by
    ``group_proba`` (m, n_groups): the shape, where another model knows it, picks the sizes' convention.

    Groups below 1 % probability, or with fewer fitting curves than :data:`NEIGHBOURS`, are left out
    (the rest renormalised); a window stored without groups gives the ungated prediction.
    """
    if "groups" not in parts:
        return _knn(parts, x)[0]
    total = np.zeros((len(x), len(TARGETS)))
    weight = np.zeros(len(x))
    for g in range(group_proba.shape[1]):
        rows = group_proba[:, g] >= 0.01
        inside = parts["groups"] == g
        if not rows.any() or inside.sum() < NEIGHBOURS:
            continue
        sub = {**parts, "coords": parts["coords"][inside], "targets": parts["targets"][inside]}
        predicted, _ = _knn(sub, x[rows])
        total[rows] += group_proba[rows, g][:, None] * predicted
        weight[rows] += group_proba[rows, g]
    missing = weight <= 0
    if missing.any():
        total[missing] = _knn(parts, x[missing])[0]
        weight[missing] = 1.0
    return total / weight[:, None]


def window_novelty(arrays: dict[str, np.ndarray], entry: dict[str, Any], q_inv_angstrom: np.ndarray,
                   intensity: np.ndarray) -> float | None:
    """The novelty of a curve's SAXS part on the widest ladder window inside its Q range (0.02–0.6 1/Å for
    a curve covering the whole SAXS window, which has no model here); None without one.

    The full-range models see the SAXS part among 345 or 120 features, the WAXS part weighing most;
    this score sees the SAXS shape alone, and finds rods (AUROC 1.0 in ``benchmarks/ml_domain.py``).
    """
    window = ladder_window(q_inv_angstrom)
    if window == (Q_LOS[0], Q_HIS[-1]):
        window = (Q_LOS[0], 0.6)
    if window is None or f"{window_name(*window)}/mean" not in arrays:
        return None
    name = window_name(*window)
    _, distance = _knn(window_parts(arrays, name), window_features(q_inv_angstrom, intensity, *window)[None, :])
    return float(distance[0]) / entry["novelty_scale"][name]


def restricted_knn(parts: dict[str, np.ndarray], x: np.ndarray, allowed_groups: np.ndarray) -> np.ndarray:
    """Predicted log targets (m, 3) with the neighbours sought among the fitting curves of the size groups
    ``allowed_groups`` (indices) only: a shape known beforehand (its groups, together)."""
    if "groups" not in parts:
        return _knn(parts, x)[0]
    inside = np.isin(parts["groups"], allowed_groups)
    return _knn({**parts, "coords": parts["coords"][inside], "targets": parts["targets"][inside]}, x)[0]


def predict_window_size(arrays: dict[str, np.ndarray], entry: dict[str, Any], q_inv_angstrom: np.ndarray,
                        intensity: np.ndarray, group_proba: np.ndarray | None = None,
                        allowed_groups: np.ndarray | None = None) -> dict[str, Any]:
    """Extent (nm), atom count and volume-equivalent diameter (nm), each with its 90 % interval, and the
    novelty, from the widest ladder window inside the curve's Q range; gated by size-group
    probabilities (:func:`gated_knn`) when given (a WAXS shape model's), or restricted to
    ``allowed_groups`` (:func:`restricted_knn`: a shape the user knows).  The intervals are the
    ungated model's (wider than a gated prediction needs).

    Raises
    ------
    SwaxsInputError
        No ladder window inside the curve's Q range.
    """
    window = ladder_window(q_inv_angstrom)
    if window is None or f"{window_name(*window)}/mean" not in arrays:
        raise SwaxsInputError(f"curve spans {np.min(q_inv_angstrom):.3g}..{np.max(q_inv_angstrom):.3g} 1/Å; "
                              f"expected Q_min <= {Q_LO_MAX} and Q_max >= {Q_HI_MIN} 1/Å for a size")
    name = window_name(*window)
    parts = window_parts(arrays, name)
    x = window_features(q_inv_angstrom, intensity, *window)[None, :]
    predicted, distance = _knn(parts, x)
    if group_proba is not None:
        predicted = gated_knn(parts, x, np.asarray(group_proba, float).reshape(1, -1))
    elif allowed_groups is not None:
        predicted = restricted_knn(parts, x, np.asarray(allowed_groups))
    out: dict[str, Any] = {"window_inv_angstrom": window,
                           "novelty": float(distance[0]) / entry["novelty_scale"][name]}
    for j, target in enumerate(TARGETS):
        h = entry["half_width_log"][name][target]
        value = float(predicted[0, j])
        out[target] = math.exp(value)
        out[f"{target}_interval"] = (math.exp(value - h), math.exp(value + h))
    return out


def window_scores(arrays: dict[str, np.ndarray], entry: dict[str, Any], q: np.ndarray, iq: np.ndarray,
                  labels: dict[str, np.ndarray], group_proba: np.ndarray | None = None,
                  allowed_groups: list[np.ndarray] | None = None) -> dict[str, dict[str, float]]:
    """Held-out scores of every ladder window on test curves ``iq`` (n, len(q)) with database ``labels``
    (gated by ``group_proba`` (n, n_groups) when given, :func:`gated_knn`; or each curve restricted to
    its ``allowed_groups[i]``, :func:`restricted_knn`).

    Returns
    -------
    dict
        ``{window_name: {"extent_within_shell_or_5_percent", "volume_diameter_within_5_percent",
        "volume_diameter_within_shell_or_5_percent" (one shell: :func:`volume_step`),
        "extent_median_abs_relative_error", "extent_interval_coverage", "n"}}``.
    """
    from swaxs_lib.ml.experts import within_shell_or_5_percent

    truth = window_labels(labels)
    out = {}
    for lo, hi in ladder_windows():
        name = window_name(lo, hi)
        parts, x = window_parts(arrays, name), window_features(q, iq, lo, hi)
        if group_proba is not None:
            predicted = gated_knn(parts, x, group_proba)
        elif allowed_groups is not None:
            predicted = np.zeros((len(x), len(TARGETS)))
            keys = [tuple(a) for a in allowed_groups]
            for key in set(keys):
                rows = np.array([k == key for k in keys])
                predicted[rows] = restricted_knn(parts, x[rows], np.array(key))
        else:
            predicted = _knn(parts, x)[0]
        extent, volume = np.exp(predicted[:, 0]), np.exp(predicted[:, 2])
        error = np.abs(predicted[:, 0] - np.log(truth["extent"]))
        out[name] = {
            "extent_within_shell_or_5_percent": float(np.mean(within_shell_or_5_percent(extent, truth["extent"],
                                                                                        truth["step"]))),
            "volume_diameter_within_5_percent": float(np.mean(np.abs(volume / truth["volume_diameter"] - 1) <= 0.05)),
            "volume_diameter_within_shell_or_5_percent": float(np.mean(within_shell_or_5_percent(
                volume, truth["volume_diameter"], volume_step(truth)))),
            "extent_median_abs_relative_error": float(np.median(np.abs(extent / truth["extent"] - 1))),
            "extent_interval_coverage": float(np.mean(error <= entry["half_width_log"][name]["extent"])),
            "n": int(len(iq))}
    return out


__all__ = ["window_knn", "window_scores", "volume_step", "COMPONENTS", "Q_HIS", "Q_HI_MIN", "Q_LOS", "Q_LO_MAX", "TARGETS", "ladder_window", "ladder_windows",
           "gated_knn", "predict_window_size", "restricted_knn", "window_novelty", "train_window_size", "window_features", "window_labels", "window_name", "window_parts", "window_points"]
