"""Automatic starts of a form-factor fit: a grid over the free lengths (see :mod:`swaxs_lib.saxs.sasfit`)."""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models import ModelSpec
from swaxs_lib.saxs.sascurve import SasEvaluator

#: Points of the start grid over the common length factor.
GRID_POINTS = 48
#: The fine pass around the coarse best: its step in length (times 1/Q_max, Å) and its most factors.
FINE_STEP, FINE_POINTS = 0.8, 160
#: Minima whose grid χ² is at most this many times the best grid χ² are restart candidates.
RESTART_CHI2_RATIO = 10.0


def _shape_variants(base: Mapping[str, float], lengths: list[str]) -> list[tuple[str, dict[str, float]]]:
    """The lengths' starting proportions: the table's, and with two or more lengths also equal ones and the
    first 4 times longer or shorter than the others (a prolate or an oblate start)."""
    variants = [("table", {n: base[n] for n in lengths})]
    if len(lengths) >= 2:
        size = max(base[n] for n in lengths)
        variants += [("equal", {n: size for n in lengths}),
                     ("first x4", {n: size * (4.0 if k == 0 else 1.0) for k, n in enumerate(lengths)}),
                     ("first /4", {n: size * (0.25 if k == 0 else 1.0) for k, n in enumerate(lengths)})]
    return variants


def guinier_factor(evaluator: SasEvaluator, values: Mapping[str, float], lengths: list[str], q: np.ndarray,
                   y: np.ndarray, dy: np.ndarray) -> float | None:
    """The factor of the lengths at which the model's Guinier R_g is the data's; None without a Guinier region.

    The model's R_g scales with the factor (every length scaled together), so two evaluations fix it:
    at factor 1 and at the first estimate.
    """
    from swaxs_lib.saxs.guinier import guinier_fit

    try:
        rg_data = guinier_fit(q, y, dy).rg_angstrom
        f = 1.0
        for _ in range(2):
            model = evaluator({**values, **{n: values[n] * f for n in lengths}})
            f *= rg_data / guinier_fit(q, model).rg_angstrom
    except (SwaxsInputError, ValueError, FloatingPointError, ZeroDivisionError):
        return None
    return f if math.isfinite(f) and f > 0 else None


def fine_factors(seed: float, size: float, q_max: float, skip: set) -> list[float]:
    """Size factors from ``seed`` / 1.5 to 1.5 ``seed``, at most :data:`FINE_STEP` / Q_max apart in length.

    A monodisperse particle's χ² oscillates in its size with a period of about π / Q_max, so the
    coarse grid (~15 % steps) can pass over the right basin once the size exceeds a few times 1/Q_max
    (a 40 Å sphere measured to 0.4 1/Å ended at 70 Å, where a free background made a 141 Å sphere the
    coarse grid's best).  The seed is the size of the data's Guinier R_g (:func:`guinier_factor`).
    At most :data:`FINE_POINTS` factors; polydisperse curves lose nothing.
    """
    out, f = [], seed / 1.5
    step = max((1.5 - 1 / 1.5) * seed / FINE_POINTS, FINE_STEP / (q_max * size))
    while f <= 1.5 * seed and len(out) < FINE_POINTS:
        if f not in skip:
            out.append(f)
        f += step
    return out


def start_grid(spec: ModelSpec, evaluator: SasEvaluator, q: np.ndarray, y: np.ndarray, dy: np.ndarray,
                start: Mapping[str, float], bounds: Mapping[str, tuple[float, float]],
                refined: list[str]) -> list[tuple[str, dict[str, float]]]:
    """Starts from a grid over one factor of every free length (per shape variant): the best, then other
    local minima of χ² (module docstring)."""
    base = {p.name: float(start.get(p.name, p.start)) for p in spec.parameters if p.name not in spec.linear}
    lengths = [p.name for p in spec.parameters if p.unit == "Å" and p.name in refined and p.name not in start]
    w = 1.0 / dy**2
    free_background = "background" in refined and "background" not in start
    background0 = float(start.get("background", spec.parameter("background").start))

    def limits(n: str) -> tuple[float, float]:
        return bounds.get(n, (spec.parameter(n).low, spec.parameter(n).high))

    variants = _shape_variants(base, lengths)
    n_factors = GRID_POINTS if len(variants) == 1 else 2 * GRID_POINTS // 3
    rows: list[tuple[float, str, float, dict[str, float]]] = []

    def score(label: str, proportions: Mapping[str, float], f: float) -> None:
        values = {**base, **{n: proportions[n] * f for n in lengths}}
        if any(not limits(n)[0] <= values[n] <= limits(n)[1] for n in lengths):
            return
        model = evaluator(values)
        if not np.all(np.isfinite(model)):
            return
        if free_background:
            a = np.column_stack([model, np.ones_like(model)]) * np.sqrt(w)[:, None]
            (scale, background), *_ = np.linalg.lstsq(a, y * np.sqrt(w), rcond=None)
        else:
            background = background0
            scale = float(np.sum(w * model * (y - background)) / max(np.sum(w * model**2), 1e-300))
        if not (math.isfinite(scale) and scale > 0):
            return
        chi2 = float(np.sum(w * (y - scale * model - background) ** 2))
        rows.append((chi2, label, float(f), {**values, "scale": float(scale),
                                             **({"background": float(background)} if free_background else {})}))

    for label, proportions in variants:
        size = max(proportions.values(), default=0.0)
        factors = (np.geomspace(1.0 / (q.max() * size), 10.0 / (q.min() * size), n_factors)
                   if lengths and size > 0 else np.ones(1))
        for f in factors:
            score(label, proportions, f)
        seed = guinier_factor(evaluator, {**base, **proportions}, lengths, q, y, dy) if lengths and size > 0 else None
        if seed is not None:  # then finely around the size whose R_g is the data's (fine_factors)
            for f in fine_factors(seed, size, float(q.max()), set(factors)):
                score(label, proportions, f)
    if not rows:
        return []
    minima = []
    for label, _ in variants:  # local minima along each variant's size factor
        mine = sorted((r for r in rows if r[1] == label), key=lambda r: r[2])
        chi2s = [r[0] for r in mine]
        minima += [mine[k] for k in range(len(mine)) if (k == 0 or chi2s[k] <= chi2s[k - 1])
                   and (k == len(mine) - 1 or chi2s[k] <= chi2s[k + 1])]
    minima.sort(key=lambda r: r[0])
    distinct: list[tuple] = []
    for row in minima:  # a restart within 30 % in size of a kept start of the same shape finds the same minimum
        if all(row[1] != kept[1] or abs(math.log(row[2] / kept[2])) > math.log(1.3) for kept in distinct):
            distinct.append(row)
    # only minima whose grid χ² is within RESTART_CHI2_RATIO of the best are worth a restart
    distinct = [r for r in distinct if r[0] <= RESTART_CHI2_RATIO * distinct[0][0]]
    keep = {"scale", "background", *lengths}
    return [(f"grid {label} x{f:.3g}", {n: v for n, v in values.items() if n in keep})
            for _, label, f, values in distinct]


__all__ = ["FINE_POINTS", "FINE_STEP", "GRID_POINTS", "RESTART_CHI2_RATIO", "fine_factors", "guinier_factor", "start_grid"]
