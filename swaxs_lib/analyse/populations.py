"""The analysis's mixture stage: which combination of refined candidates the data prefer, and how sure.

Every refined candidate was fitted *alone* to the whole curve.  In I(Q) its own refined expansion
and Debye-Waller B are close to those of its share of the sample, and the mixture is fitted on
those curves (:func:`swaxs_lib.mixture.fit_mixture`).  In G(r) they are not: one motif fitted to a
mixture broadens its peaks (U, delta2, Q damping) to cover the other motif's, so two such curves,
each too broad, recombine to the wrong fractions (on a 60/40 icosahedron/decahedron G(r): 15/85
with the best candidate's thermal parameters for every candidate, wrong decahedron chosen).
The G(r) mixture is therefore fitted in two steps:

1. every candidate evaluated with the *shared* U, delta2 and Q damping of the best single fit
   (thermal motion and the instrument are common to the particles of one sample) and its own
   expansion; stepwise selection as :func:`~swaxs_lib.mixture.fit_mixture` does it;
2. when two or more components entered, their shared U, delta2, Q damping and each one's
   expansion are refined jointly with the non-negative weights (scipy ``least_squares`` over the
   non-linear parameters, the weights by NNLS at each step); every candidate is then evaluated
   again with the refined shared parameters and the selection rerun.

The test reported is against the best single candidate *as it was refined* (its own five
parameters), not against its curve at the shared parameters: a nested F-test on χ², computed from
the R_w of both fits of the same data and range (χ² = R_w² Σ w y²), with P counting every refined
parameter (weights, shared U, delta2, Q damping, one expansion per component; the single fit's
scale, expansion, U, delta2, Q damping) and N_ind the Nyquist count.  The mixture is accepted when
this test and the Bonferroni-corrected entry of a second component both pass at alpha.

Validation: tests/test_analyse.py (60/40 mixtures in G(r) and I(Q) found with their motifs and
fractions within ±0.1; a pure motif not reported as a mixture).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

import numpy as np
from scipy import optimize, stats

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.mixture import MixtureCandidate, MixtureResult, fit_mixture
from swaxs_lib.models import get_model

#: The G(r) mixture's test, in words.
TEST = ("nested F-test on chi2 of the mixture (weights, shared U, delta2, Q damping, one expansion per component) "
        "against the best single candidate as refined, F(P_mix - P_single, N_ind - P_mix), one-sided; components "
        "entered stepwise, each entry Bonferroni-corrected for the candidates tried (Bevington & Robinson 2003; "
        "Hamilton 1965)")
#: Parameters shared by every particle of a sample in the G(r) mixture.
SHARED = ("u", "delta2", "qdamp")


def mixture_stage(measurement, rows: Sequence, atoms: Sequence, fit_range, alpha: float, curves_of_fit,
                  notes: list) -> tuple[MixtureResult | None, tuple[str, ...]]:
    """The mixture of ``rows`` (refined candidates, best first) the data prefer; None for fewer than two.

    ``atoms[k]`` is row k's structure; ``curves_of_fit(row)`` its own fitted model without scale and
    background on every point of the measurement (NaN outside the fit range), or None.
    """
    if len(rows) < 2:
        return None, ()
    x_min, x_max = fit_range
    q_max = rows[0].settings.get("q_max_inv_angstrom")
    labels = tuple(r.label for r in rows)
    try:
        if measurement.kind != "gr":
            cands = [MixtureCandidate.from_atoms(r.label, c, a) for r, a in zip(rows, atoms)
                     if (c := curves_of_fit(r)) is not None]
            background = rows[0].settings.get("background") or "constant"
            result = fit_mixture(measurement, cands, background=background, x_min=x_min, x_max=x_max, alpha=alpha)
            return result, tuple(c.label for c in cands)
        return _gr_mixture(measurement, rows, atoms, x_min, x_max, q_max, alpha, notes), labels
    except SwaxsInputError as exc:
        notes.append(f"no mixture fit: {exc}")
        return None, ()


def _gr_mixture(measurement, rows, atoms, x_min, x_max, q_max, alpha, notes) -> MixtureResult:
    from swaxs_lib.compare import compare_cluster, histogram_for

    best = rows[0]
    shared = {"u": _mean_u(best), "delta2": best.value("delta2") or 0.0, "qdamp": best.value("qdamp") or 0.0}
    zooms = [1.0 + (r.value("expansion") or 0.0) for r in rows]
    q_min = rows[0].settings.get("q_min_inv_angstrom")
    hists = [histogram_for(a, measurement, q_max_inv_angstrom=q_max) for a in atoms]

    def curve(k: int, zoom: float, values: dict) -> np.ndarray:
        c = compare_cluster(measurement, atoms[k], {"zoom": zoom, **values}, histogram=hists[k], x_min=x_min,
                            x_max=x_max, q_min_inv_angstrom=q_min, q_max_inv_angstrom=q_max)
        return c.model

    def select(values: dict, zs: list[float]) -> MixtureResult:
        cands = [MixtureCandidate.from_atoms(r.label, curve(k, zs[k], values), atoms[k]) for k, r in enumerate(rows)]
        return fit_mixture(measurement, cands, x_min=x_min, x_max=x_max, q_max_inv_angstrom=q_max, alpha=alpha)

    first = select(shared, zooms)
    chosen = [c.index for c in first.components]
    if len(chosen) >= 2:
        shared, zooms = _joint(measurement, x_min, x_max, chosen, curve, shared, zooms)
        first = select(shared, zooms)
    return _tested(first, best, shared, alpha, notes)


def _joint(measurement, x_min, x_max, chosen, curve, shared, zooms):
    """Refine the shared parameters and the chosen components' zooms with NNLS weights inside."""
    inside = (measurement.x >= x_min - 1e-9) & (measurement.x <= x_max + 1e-9)
    sigma = measurement.uncertainties
    w_sqrt = 1.0 / sigma[inside] if sigma is not None and np.all(sigma[inside] > 0) else np.ones(int(inside.sum()))
    y = measurement.values[inside] * w_sqrt  # weighted as the mixture fit weighs them (1/σ, or uniform)
    table = {p.name: p for p in get_model("cluster", "gr").parameters}  # the refinement's own bounds
    names = [*SHARED, *("zoom" for _ in chosen)]
    p0 = np.array([shared["u"], shared["delta2"], shared["qdamp"], *(zooms[k] for k in chosen)])
    lower = np.array([max(table[n].low, 1e-5) for n in names])
    upper = np.array([table[n].high for n in names])
    p0 = np.clip(p0, lower + 1e-9, upper - 1e-9)

    def residual(p):
        values = {"u": p[0], "delta2": p[1], "qdamp": p[2]}
        a = np.column_stack([curve(k, z, values)[inside] * w_sqrt for k, z in zip(chosen, p[3:])])
        w, _ = optimize.nnls(a, y)
        return a @ w - y

    fit = optimize.least_squares(residual, p0, bounds=(lower, upper), x_scale="jac", max_nfev=60)
    shared = {"u": float(fit.x[0]), "delta2": float(fit.x[1]), "qdamp": float(fit.x[2])}
    zooms = list(zooms)
    for k, z in zip(chosen, fit.x[3:]):
        zooms[k] = float(z)
    return shared, zooms


def _tested(result: MixtureResult, best, shared: dict, alpha: float, notes: list) -> MixtureResult:
    """The mixture against the best single candidate as it was refined (module docstring)."""
    k = len(result.components)
    rw_single = float(best.rw)
    p_single = int(best.settings.get("n_refined") or 5)
    p_mix = k + len(SHARED) + k  # weights, shared parameters, one expansion each
    n_ind = result.n_independent
    chi2_single = result.chi2 * (rw_single / result.rw) ** 2 if result.rw > 0 else math.inf
    f_value = p_value = None
    accepted = False
    if k >= 2 and p_mix > p_single and n_ind > p_mix and result.rw < rw_single:
        f_value = ((chi2_single - result.chi2) / (p_mix - p_single)) / (result.chi2 / (n_ind - p_mix))
        p_value = float(stats.f.sf(f_value, p_mix - p_single, n_ind - p_mix))
        accepted = bool(result.accepted and p_value < alpha)
    note = (f"shared U {shared['u']:.4g} Å², delta2 {shared['delta2']:.3g} Å², Q damping {shared['qdamp']:.3g} 1/Å "
            f"refined with the components' expansions; tested against the best single candidate as refined "
            f"(R_w {rw_single:.4f}, {p_single} parameters) with {p_mix} parameters")
    if k >= 2 and not accepted:
        notes.append(f"the best mixture (R_w {result.rw:.4f}) does not beat the best single candidate "
                     f"(R_w {rw_single:.4f}) significantly")
    return replace(result, accepted=accepted, f_value=f_value, p_value=p_value, rw_single=rw_single,
                   chi2_single=chi2_single, best_single=0, best_single_label=best.label, note=note,
                   test=TEST)


def _mean_u(row) -> float:
    us = [v for n, v, _, _ in row.values if n == "u" or n.startswith("u_")]
    return float(np.mean(us)) if us else 0.005
