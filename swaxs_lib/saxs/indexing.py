"""Lattice indexing of ordered assemblies: ranked lattice hypotheses for the Bragg peaks of a SAXS curve.

For each hypothesis (:data:`swaxs_lib.saxs.lattices.LATTICES`) the lattice
lengths are found by trying every assignment of one low-order observed peak
(two for the hexagonal lattices with free c/a) to a low-order allowed line,
then alternating (i) assignment of every peak to its nearest allowed line and
(ii) weighted least squares for the lengths, linear in x_j = 1/length_j²
(Q² = Σ_j T_j(hkl) x_j), with σ(Q²) = 2 Q σ_Q.

Each hypothesis is scored by a simple generative model of a peak list, as −2 ln of
its evidence (lower is better):

- an indexed peak: Gaussian position error, χ²_i = ((Q_i − Q_hkl) / σ_i)², with
  σ_i² = σ_Q,i² + (f Q_i)²: the fit's σ plus a relative floor f (default 0.3 %) for
  what a peak fit cannot see (the envelope's slope shifting maxima, strain);
- an unexplained peak: uniform over the searched window [Q_lo, Q_hi], costing
  2 ln((Q_hi − Q_lo) / (√(2π) σ_i)) (≈ 8 for f = 0.3 %); a peak is indexed only when
  its χ²_i is below this, i.e. within ≈ 3σ;
- every allowed line between the first usable Q of the data and the last peak is
  seen with probability p_j: a seen line costs −2 ln p (p = 0.9 by default), a missing
  one −2 ln(1 − p_j).  Without a curve p_j = p (a missing line costs 4.6).  With one
  (:func:`index_curve`), p_j = p Φ(H_j/σ_A(Q_j) − z) follows the line's predicted
  signal-to-noise (:func:`_detection`): height H_j ∝ multiplicity × Q^−(d−1) × a decay
  fitted to the indexed peaks, σ_A(Q) the height uncertainty a peak would have at Q
  from the local noise of I/B (:func:`height_noise`), z the peak-acceptance threshold.
  A strong low-order line that is missing where the data are quiet costs up to 4.6; one
  near a form-factor minimum (low envelope, noisy I/B) or predicted weak costs ≈ 0;
- the lengths: an Occam factor, the Laplace approximation of the evidence (MacKay
  2003, ch. 28), −2 ln(√det(2π Σ) / V): Σ the least-squares covariance of the ln
  lengths, V the prior volume — ln a uniform over ln(Q_hi/Q_lo), ln(c/a) over the
  lattice's c/a bounds.  This replaces the BIC's k ln n, which with 6 peaks charged an
  extra length (AlB2's c) only ln 6 = 1.8; the Occam factor charges it ≈ 7 (a
  c/a range of ln(1.35/0.75) over a posterior width of ~0.2 %).

The lengths of each hypothesis are those with the lowest score over the starting assignments.
Δscore between hypotheses is 2 ln of their evidence ratio; a difference below
2 is "not worth more than a bare mention" (Kass & Raftery 1995), and the result
says the top hypotheses cannot be distinguished, listing the one with fewer lengths
first.  A binary superlattice (AlB2, MgZn2: the structure factor depends on the
unknown size ratio, so any line may be weak) that indexes the same peaks at the same
lengths as the best hypothesis is also reported as indistinguishable from it (hcp and
MgZn2, whose lines include hcp's).  de Wolff's figure of merit
M_N = Q²_N / (2 ε̄ N_calc) (ε̄ the mean |Q_i² − Q_hkl²| over indexed peaks,
N_calc the allowed lines up to the last indexed peak) is reported alongside.

Not modelled: structure-factor weights of multi-particle bases (|F|² = 1 for every allowed
line in H_j), so the intensity term only decides how much a missing line counts; measured
relative intensities are not fitted.

References
----------
de Wolff, P. M. (1968). A simplified criterion for the reliability of a powder pattern indexing.
J. Appl. Cryst. 1, 108–113.
Schwarz, G. (1978). Estimating the dimension of a model. Ann. Statist. 6, 461–464.
Kass, R. E. & Raftery, A. E. (1995). Bayes factors. J. Am. Stat. Assoc. 90, 773–795.
MacKay, D. J. C. (2003). Information Theory, Inference, and Learning Algorithms, ch. 28 (Occam factors).
Förster, S. et al. (2005). Calculation of scattering patterns of ordered nano- and mesoscale materials.
J. Phys. Chem. B 109, 1347–1360 (the powder factor Q^−(d−1)).

Validation: tests/test_saxs_indexing.py indexes a simulated silver behenate curve (d001 = 58.380 Å, Huang et
al. 1993) and simulated fcc, bcc and 2D-hexagonal assemblies whose lines come from a brute-force structure
factor sum, recovering the lattice and its length within 1 %, including bcc whose lines near the spheres'
form-factor minima are lost, held-out sizes/seeds/Debye–Waller factors, an AlB2 and an hcp assembly
(the latter reported as indistinguishable from MgZn2); benchmarks/saxs_indexing.py tabulates 37 curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from scipy.special import erf

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.saxs.lattices import (
    LATTICES,
    Lattice,
    Reflection,
    enumerate_hkl,
    line_positions,
    line_terms,
    metric_terms,
    reflections,
)
from swaxs_lib.saxs.peaks import Peak, PeakSearch, find_peaks

#: A score difference below this cannot rank two hypotheses (2 ln B < 2, Kass & Raftery 1995).
INDISTINGUISHABLE_DELTA = 2.0


@dataclass(frozen=True)
class IndexedPeak:
    """One observed peak under a hypothesis: its (hkl) and calculated Q, or ``hkl=None`` when unexplained."""

    q_inv_angstrom: float
    hkl: str | None
    q_calc_inv_angstrom: float | None
    multiplicity: int | None


@dataclass(frozen=True)
class Hypothesis:
    """One lattice hypothesis refined against the peaks.

    ``values_angstrom``/``sigmas_angstrom`` follow ``parameter_names``; a σ of
    ``nan`` means the peaks do not determine that length (e.g. c from (hk0) lines only).
    """

    lattice: str
    title: str
    parameter_names: tuple[str, ...]
    values_angstrom: tuple[float, ...]
    sigmas_angstrom: tuple[float, ...]
    peaks: tuple[IndexedPeak, ...]
    missing: tuple[Reflection, ...]
    n_indexed: int
    n_unexplained: int
    chi2: float
    score: float
    delta_score: float
    m_de_wolff: float
    note: str

    @property
    def unexplained_q_inv_angstrom(self) -> tuple[float, ...]:
        return tuple(p.q_inv_angstrom for p in self.peaks if p.hkl is None)


@dataclass(frozen=True)
class IndexingResult:
    """Peaks and ranked hypotheses (best first) with the verdict on the top two."""

    search: PeakSearch | None
    hypotheses: tuple[Hypothesis, ...]
    indistinguishable: tuple[str, ...]  # the lattices within INDISTINGUISHABLE_DELTA of the best (best included)
    message: str
    relative_position_floor: float
    detection_probability: float
    min_peaks: int


def _candidates_1(lattice: Lattice, q_obs: np.ndarray) -> list[np.ndarray]:
    unit = line_positions(lattice, (1.0,), 2 * math.pi * 12)[:12] ** 2  # T of the first 12 lines at length 1
    return [np.array([qi**2 / t]) for qi in q_obs[:4] for t in unit]


def _candidates_2(lattice: Lattice, q_obs: np.ndarray) -> list[np.ndarray]:
    h, k, l, _ = enumerate_hkl(lattice, (1.0, 1.0), 2 * math.pi * 3.5)
    small = (h * h + h * k + k * k <= 4) & (np.abs(l) <= 3)
    terms = np.unique(metric_terms(lattice, h[small], k[small], l[small]), axis=0)
    lo, hi = lattice.c_over_a
    out = []
    obs = q_obs[:4]
    for i in range(obs.size):
        for j in range(i + 1, obs.size):
            for t1 in terms:
                for t2 in terms:
                    m = np.array([t1, t2])
                    if abs(np.linalg.det(m)) < 1e-9:
                        continue
                    x = np.linalg.solve(m, [obs[i] ** 2, obs[j] ** 2])
                    if np.all(x > 0) and lo <= math.sqrt(x[0] / x[1]) <= hi:
                        out.append(x)
    if not out:
        return []
    xs = np.unique(np.round(np.log(np.array(out)), 3), axis=0)  # same lengths to 0.1 %: one candidate
    return list(np.exp(xs))


def _assign(q_obs, sig, pen, lines):
    """Nearest allowed line of each peak; indexed when χ² < its unexplained penalty, one peak per line."""
    pos = np.clip(np.searchsorted(lines, q_obs), 1, lines.size - 1) if lines.size > 1 else np.zeros(q_obs.size, int)
    if lines.size > 1:
        left = lines[pos - 1]
        right = lines[pos]
        pos = np.where(np.abs(q_obs - left) <= np.abs(q_obs - right), pos - 1, pos)
    chi2 = ((q_obs - lines[pos]) / sig) ** 2 if lines.size else np.full(q_obs.size, np.inf)
    ok = chi2 < pen
    for line in np.unique(pos[ok]):  # two peaks on one line: the closer one is indexed
        both = np.flatnonzero(ok & (pos == line))
        if both.size > 1:
            ok[both[chi2[both] != chi2[both].min()]] = False
    return pos, chi2, ok


def _refine(lattice, x, q_obs, sig, pen, q_hi):
    """Alternate assignment and weighted least squares in x = 1/length²; (x, cov, pos, chi2, ok, lines)."""
    k = len(lattice.parameters)
    cov = np.full((k, k), np.nan)
    for _ in range(4):
        lines, terms = line_terms(lattice, tuple(x ** -0.5), q_hi)
        if lines.size == 0:
            return None
        pos, chi2, ok = _assign(q_obs, sig, pen, lines)
        if not ok.any():
            return None
        hkl_terms = terms[pos[ok]]
        w = 1.0 / (2 * q_obs[ok] * sig[ok])
        a = hkl_terms * w[:, None]
        b = q_obs[ok] ** 2 * w
        if np.linalg.matrix_rank(a) < k:  # e.g. hexagonal with (hk0) lines only: c held
            col = np.flatnonzero(np.any(hkl_terms != 0, axis=0))
            if col.size == 0:
                return None
            fixed = np.setdiff1d(np.arange(k), col)
            sol, *_ = np.linalg.lstsq(a[:, col], b - a[:, fixed] @ x[fixed], rcond=None)
            x_new = x.copy()
            x_new[col] = sol
            cov = np.full((k, k), np.nan)
            cov[np.ix_(col, col)] = np.linalg.pinv(a[:, col].T @ a[:, col])
        else:
            x_new, *_ = np.linalg.lstsq(a, b, rcond=None)
            cov = np.linalg.pinv(a.T @ a)
        if np.any(x_new <= 0):
            return None
        if lattice.c_over_a is not None and not (lattice.c_over_a[0] <= math.sqrt(x_new[0] / x_new[1])
                                                 <= lattice.c_over_a[1]):
            return None
        converged = np.allclose(x_new, x, rtol=1e-10)
        x = x_new
        if converged:
            break
    lines = line_positions(lattice, tuple(x ** -0.5), q_hi)
    pos, chi2, ok = _assign(q_obs, sig, pen, lines)
    return x, cov, pos, chi2, ok, lines


def _occam(lattice: Lattice, x: np.ndarray, cov: np.ndarray, log_q_range: float) -> float:
    """−2 ln of the Occam factor of the lengths (Laplace approximation of the evidence; MacKay 2003, ch. 28).

    Prior: ln a uniform over ln(Q_hi/Q_lo) (any length whose first line falls in the window), and ln(c/a)
    uniform over the lattice's c/a bounds.  Posterior: the least-squares covariance of the ln lengths (ln a
    = −½ ln x).  A length the peaks do not determine (σ nan) has posterior = prior and costs nothing.
    """
    ranges = [log_q_range] + ([math.log(lattice.c_over_a[1] / lattice.c_over_a[0])] if lattice.c_over_a else [])
    cov_ln = 0.25 * cov / np.outer(x, x)
    det = np.isfinite(np.diag(cov_ln)) & (np.diag(cov_ln) > 0)
    if not det.any():
        return 0.0
    sub = cov_ln[np.ix_(det, det)]
    volume = float(np.prod(np.asarray(ranges)[det]))
    log_post = 0.5 * det.sum() * math.log(2 * math.pi) + 0.5 * math.log(max(np.linalg.det(sub), 1e-300))
    return max(0.0, -2.0 * (log_post - math.log(volume)))


def _detection(lattice: Lattice, values, window, near, ok, q_obs, heights, height_noise, p, z_min):
    """Detection probability of each allowed line in the window from its predicted signal-to-noise.

    Predicted height of a line (in y = I/B): H = C m q^−(d−1) exp(−b q²) — multiplicity m, the powder
    (Lorentz) factor of Förster et al. (2005) eq. 3, a Debye–Waller-like decay b ≥ 0 — with C, b fitted in
    ln H to the indexed peaks (a peak's m sums the lines under it; |F|² = 1 for every allowed line, exact for
    one particle per primitive cell, a rough guess for the AB2 and hcp bases).  p_j = p Φ(H_j/σ_A(q_j) − z_min)
    with σ_A(q) the height uncertainty a peak would have at q (large near a form-factor minimum, where the
    envelope is low and I/B noisy).
    """
    refl = reflections(lattice, tuple(values), float(window.max()) * (1 + 1e-9)) if window.size else []
    by_q = np.array([r.q_inv_angstrom for r in refl])
    mult = np.array([refl[int(np.argmin(np.abs(by_q - w)))].multiplicity for w in window], dtype=float)
    dim = {"lamellar": 1, "hex2d": 2, "square2d": 2}.get(lattice.metric, 3)
    m_peak = near.T.astype(float) @ mult  # lines under each peak
    use = ok & (m_peak > 0) & (heights > 0)
    if use.sum() == 0:
        return np.full(window.size, p)
    lhs = np.log(heights[use] / m_peak[use]) + (dim - 1) * np.log(q_obs[use])
    b = 0.0
    if use.sum() >= 3:
        design = np.stack([np.ones(use.sum()), -q_obs[use] ** 2], axis=1)
        (ln_c, b), *_ = np.linalg.lstsq(design, lhs, rcond=None)
    if b <= 0 or use.sum() < 3:
        b, ln_c = 0.0, float(np.mean(lhs))
    predicted = np.exp(ln_c) * mult * window ** (1 - dim) * np.exp(-b * window**2)
    snr = predicted / height_noise(window)
    return p * 0.5 * (1 + erf((snr - z_min) / math.sqrt(2)))


def index_peaks(peaks: Sequence[Peak], q_window_inv_angstrom: tuple[float, float],
                lattices: Sequence[str] = tuple(LATTICES), *, min_peaks: int = 2,
                relative_position_floor: float = 0.003, detection_probability: float = 0.9,
                height_noise=None, min_significance: float = 5.0) -> list[Hypothesis]:
    """Ranked lattice hypotheses (best first) for a list of peaks; see the module docstring for the score.

    ``q_window_inv_angstrom`` is the Q range where peaks could have been found (the data's, 1/Å).
    Hypotheses that index fewer than ``min_peaks`` peaks are left out.  ``height_noise`` (a function of Q,
    1/Å, giving the σ a fitted peak height would have there) turns on the intensity-aware detection
    probability of each line (:func:`_detection`); without it every line has ``detection_probability``.
    """
    for name in lattices:
        if name not in LATTICES:
            raise SwaxsInputError(f"lattices: got {name!r}; expected one of {', '.join(LATTICES)}")
    if not (0 < detection_probability < 1):
        raise SwaxsInputError(f"detection_probability: got {detection_probability}; expected a number in (0, 1)")
    if not (0 <= relative_position_floor < 0.1):
        raise SwaxsInputError(f"relative_position_floor: got {relative_position_floor}; expected 0 to 0.1")
    if min_peaks < 1:
        raise SwaxsInputError(f"min_peaks: got {min_peaks}; expected an integer >= 1")
    peaks = sorted(peaks, key=lambda p: p.q_inv_angstrom)
    if len(peaks) < max(1, min_peaks):
        return []
    q_obs = np.array([p.q_inv_angstrom for p in peaks])
    heights = np.array([p.height for p in peaks])
    sig = np.hypot([p.q_sigma_inv_angstrom for p in peaks], relative_position_floor * q_obs)
    half = np.maximum(3 * sig, 0.5 * np.array([p.fwhm_inv_angstrom for p in peaks]))
    q_lo = q_window_inv_angstrom[0]
    q_top = float(q_obs.max() + 3 * sig[-1])
    span = max(q_window_inv_angstrom[1], q_top) - q_lo
    log_q_range = math.log(max(q_window_inv_angstrom[1], q_top) / q_lo)
    pen = 2 * np.log(span / (math.sqrt(2 * math.pi) * sig))
    seen_cost, miss_cost = -2 * math.log(detection_probability), -2 * math.log(1 - detection_probability)
    out = []
    for name in lattices:
        lattice = LATTICES[name]
        k = len(lattice.parameters)
        cands = _candidates_1(lattice, q_obs) if k == 1 else _candidates_2(lattice, q_obs)
        best = None
        for x0 in cands:
            got = _refine(lattice, np.asarray(x0, dtype=float), q_obs, sig, pen, q_top)
            if got is None:
                continue
            x, cov, pos, chi2, ok, lines = got
            if ok.sum() < min_peaks:
                continue
            window = lines[lines >= q_lo]
            near = np.abs(q_obs[None, :] - window[:, None]) <= half[None, :]
            seen = np.any(near, axis=1)
            if height_noise is not None:
                p_line = _detection(lattice, x ** -0.5, window, near, ok, q_obs, heights, height_noise,
                                    detection_probability, min_significance)
                lines_cost = seen.sum() * seen_cost - 2 * np.log1p(-p_line[~seen]).sum()
            else:
                lines_cost = seen.sum() * seen_cost + (~seen).sum() * miss_cost
            score = chi2[ok].sum() + pen[~ok].sum() + lines_cost + _occam(lattice, x, cov, log_q_range)
            if best is None or score < best[0] - 1e-9:
                best = (score, x, cov, pos, chi2, ok, lines, window[~seen])
        if best is None:
            continue
        out.append(_hypothesis(lattice, best, q_obs, sig, len(peaks)))
    out.sort(key=lambda h: h.score)
    if out:
        top = out[0].score
        out = [_replace_delta(h, h.score - top) for h in out]
    return out


def _replace_delta(h: Hypothesis, delta: float) -> Hypothesis:
    return replace(h, delta_score=float(delta))


def _hypothesis(lattice: Lattice, best, q_obs, sig, n_peaks) -> Hypothesis:
    score, x, cov, pos, chi2, ok, lines, missing_q = best
    k = len(lattice.parameters)
    values = tuple(float(v) for v in x ** -0.5)
    n_idx = int(ok.sum())
    birge = math.sqrt(max(1.0, chi2[ok].sum() / (n_idx - k))) if n_idx > k else 1.0
    sx = np.sqrt(np.clip(np.diag(cov), 0, None)) * birge
    sigmas = tuple(float(0.5 * xi ** -1.5 * s) if np.isfinite(s) else float("nan") for xi, s in zip(x, sx))
    refl = reflections(lattice, values, float(lines.max()) * (1 + 1e-9))
    by_q = np.array([r.q_inv_angstrom for r in refl])
    indexed = []
    for i, q in enumerate(q_obs):
        if ok[i]:
            r = refl[int(np.argmin(np.abs(by_q - lines[pos[i]])))]
            indexed.append(IndexedPeak(float(q), r.label, r.q_inv_angstrom, r.multiplicity))
        else:
            indexed.append(IndexedPeak(float(q), None, None, None))
    missing = tuple(refl[int(np.argmin(np.abs(by_q - mq)))] for mq in missing_q)
    # de Wolff's M_N in Q² (∝ 1/d²): the last indexed line's Q², the mean |ΔQ²|, the lines up to it
    q_idx = q_obs[ok]
    q_calc = lines[pos[ok]]
    eps = float(np.mean(np.abs(q_idx**2 - q_calc**2)))
    n_calc = int(np.sum(lines <= q_idx.max() * (1 + 1e-9)))
    m = float(q_idx.max() ** 2 / (2 * eps * n_calc)) if eps > 0 else float("inf")
    return Hypothesis(lattice.name, lattice.title, lattice.parameters, values, sigmas, tuple(indexed), missing,
                      n_idx, int((~ok).sum()), float(chi2[ok].sum()), float(score), 0.0, m, lattice.note)


def index_curve(q_inv_angstrom, intensity, sigma=None, *, lattices: Sequence[str] = tuple(LATTICES),
                min_peaks: int = 3, min_significance: float = 5.0, relative_position_floor: float = 0.003,
                detection_probability: float = 0.9, max_relative_width: float = 0.15) -> IndexingResult:
    """Find the Bragg peaks of I(Q) (:func:`swaxs_lib.saxs.peaks.find_peaks`) and rank the lattice hypotheses.

    Parameters
    ----------
    q_inv_angstrom, intensity, sigma : array_like
        The curve (Q in 1/Å) and, optionally, its one-σ uncertainties.
    lattices : sequence of str
        Names from :data:`swaxs_lib.saxs.lattices.LATTICES` (default: all).
    min_peaks : int
        Peaks a hypothesis must index to be ranked (default 3); with fewer peaks found, nothing is ranked.
    min_significance, max_relative_width : float
        Peak acceptance (height / σ, FWHM / Q).
    relative_position_floor, detection_probability : float
        Score settings (module docstring).

    Returns
    -------
    IndexingResult

    Examples
    --------
    >>> q = np.linspace(0.03, 0.6, 900)
    >>> lines = sum(np.exp(-0.5 * ((q - n * 2 * np.pi / 58.38) / 0.0015) ** 2) for n in (1, 2, 3, 4, 5))
    >>> noise = 1 + 0.02 * np.random.default_rng(0).normal(size=q.size)
    >>> r = index_curve(q, (1e-3 * q**-3 + 0.05 + lines) * noise)
    >>> r.hypotheses[0].lattice, round(r.hypotheses[0].values_angstrom[0], 1)
    ('lamellar', 58.4)
    """
    search = find_peaks(q_inv_angstrom, intensity, sigma, min_significance=min_significance,
                        max_relative_width=max_relative_width)
    q = search.q_inv_angstrom
    window = (float(q[min(3, q.size - 1)]), float(q[max(0, q.size - 4)]))
    hyps = index_peaks(search.peaks, window, lattices, min_peaks=min_peaks,
                       relative_position_floor=relative_position_floor, detection_probability=detection_probability,
                       height_noise=height_noise(search), min_significance=min_significance)
    if len(search.peaks) < min_peaks:
        message = f"{len(search.peaks)} peaks found (at least {min_significance:g}σ); {min_peaks} needed to index"
        close: tuple[str, ...] = ()
    elif not hyps:
        message = f"no lattice indexes {min_peaks} of the {len(search.peaks)} peaks"
        close = ()
    else:
        tied = [h for h in hyps if h.delta_score < INDISTINGUISHABLE_DELTA or _same_on_positions(hyps[0], h)]
        # within the tie threshold the data do not rank: the hypothesis with fewer lengths is listed first
        tied.sort(key=lambda h: (len(h.parameter_names), h.score))
        hyps = tied + [h for h in hyps if h not in tied]
        close = tuple(h.lattice for h in tied)
        if len(close) > 1:
            simpler = (f"; {close[0]} listed first as the simpler ({len(tied[0].parameter_names)} length"
                       f"{'s' if len(tied[0].parameter_names) > 1 else ''})"
                       if len(tied[0].parameter_names) < len(tied[-1].parameter_names) else "")
            same = [h.lattice for h in tied if h.delta_score >= INDISTINGUISHABLE_DELTA]
            why = (f"scores within {INDISTINGUISHABLE_DELTA:g} (2 ln of the likelihood ratio)"
                   if len(same) < len(tied) - 1 else "")
            if same:
                why += ("; " if why else "") + (f"{', '.join(same)} index{'es' if len(same) == 1 else ''} the same "
                                                "peaks at the same lengths (extra lines of a binary lattice may "
                                                "be too weak to see)")
            message = f"{' and '.join(close)} cannot be distinguished: {why}{simpler}"
        else:
            nxt = f"; next {hyps[1].lattice} at Δscore {hyps[1].delta_score:.1f}" if len(hyps) > 1 else ""
            message = f"best: {hyps[0].lattice}{nxt}"
    return IndexingResult(search, tuple(hyps), close, message, relative_position_floor, detection_probability,
                          min_peaks)


#: Binary superlattices whose structure factor depends on the unknown size ratio (and, for MgZn2, positions):
#: any of their lines may be weak, so lines missing under them are no evidence against them.
FREE_STRUCTURE_FACTOR = ("alb2", "mgzn2")


def _same_on_positions(best: Hypothesis, other: Hypothesis) -> bool:
    """True when ``other`` (a binary superlattice) indexes the same peaks as ``best`` at the same lengths: its
    score differs only by its extra lines' absence, which its unknown structure factor can explain (e.g. hcp
    and MgZn2, whose lines include hcp's)."""
    if other is best or other.lattice not in FREE_STRUCTURE_FACTOR or best.parameter_names != other.parameter_names:
        return False
    indexed = [tuple(p.q_inv_angstrom for p in h.peaks if p.hkl is not None) for h in (best, other)]
    return indexed[0] == indexed[1] and bool(np.allclose(best.values_angstrom, other.values_angstrom, rtol=1e-3))


def height_noise(search: PeakSearch, half_points: int = 25):
    """σ(Q) a fitted peak height would have at Q, from the curve: None when no peak calibrates it.

    The scatter of y = I/B about the fitted profile (1.4826 × the running median absolute deviation over
    2·``half_points``+1 points) times κ = median over the found peaks of σ(A_j) / scatter(Q_j).  Near a
    form-factor minimum the envelope B is low, I/B noisy, and so a line there is hard to see.
    """
    if not search.peaks:
        return None
    from scipy.ndimage import median_filter

    resid = search.ratio - search.fitted_ratio
    size = min(2 * half_points + 1, resid.size)
    scatter = 1.4826 * median_filter(np.abs(resid - median_filter(resid, size=size, mode="nearest")), size=size,
                                     mode="nearest") + 1e-12
    q = search.q_inv_angstrom
    at_peaks = np.interp([p.q_inv_angstrom for p in search.peaks], q, scatter)
    kappa = float(np.median(np.array([p.height_sigma for p in search.peaks]) / at_peaks))
    return lambda q_new: kappa * np.interp(q_new, q, scatter)


def _num(v: float | None) -> float | None:
    """A finite number to 12 significant digits, or None (an empty CSV cell, a JSON null)."""
    return None if v is None or not math.isfinite(v) else float(f"{v:.12g}")


def peak_table(result: IndexingResult, hypothesis: Hypothesis | None = None) -> dict[str, list]:
    """The peaks as CSV columns, with their (hkl) under ``hypothesis`` (default: the best one).

    Columns: ``peak, q_inv_angstrom, q_inv_angstrom_sigma, fwhm_inv_angstrom, fwhm_inv_angstrom_sigma, height,
    height_sigma, significance, hkl, q_calc_inv_angstrom`` (height in units of the envelope, I/B − c).
    """
    peaks = result.search.peaks if result.search is not None else ()
    if hypothesis is None and result.hypotheses:
        hypothesis = result.hypotheses[0]
    assigned = hypothesis.peaks if hypothesis is not None else [None] * len(peaks)
    return {
        "peak": list(range(1, len(peaks) + 1)),
        "q_inv_angstrom": [_num(p.q_inv_angstrom) for p in peaks],
        "q_inv_angstrom_sigma": [_num(p.q_sigma_inv_angstrom) for p in peaks],
        "fwhm_inv_angstrom": [_num(p.fwhm_inv_angstrom) for p in peaks],
        "fwhm_inv_angstrom_sigma": [_num(p.fwhm_sigma_inv_angstrom) for p in peaks],
        "height": [_num(p.height) for p in peaks],
        "height_sigma": [_num(p.height_sigma) for p in peaks],
        "significance": [_num(p.significance) for p in peaks],
        "hkl": [a.hkl if a is not None else None for a in assigned],
        "q_calc_inv_angstrom": [_num(a.q_calc_inv_angstrom) if a is not None else None for a in assigned],
    }


#: The lengths any hypothesis can have, in the ranking table's column order.
LENGTHS = ("a_angstrom", "c_angstrom", "d_angstrom")


def ranking_table(result: IndexingResult) -> dict[str, list]:
    """The ranked hypotheses as CSV columns (one row each, best first).

    Columns: ``rank, lattice, {a,c,d}_angstrom, ..._sigma, n_indexed, n_unexplained, n_missing, chi2, score,
    delta_score, indistinguishable_from_best, m_de_wolff, indexed, unexplained_q_inv_angstrom, missing``; a
    length the lattice does not have is empty, as is a σ the peaks do not determine.
    """
    hyps = result.hypotheses
    table: dict[str, list] = {"rank": list(range(1, len(hyps) + 1)), "lattice": [h.lattice for h in hyps]}
    for name in LENGTHS:
        values = [dict(zip(h.parameter_names, zip(h.values_angstrom, h.sigmas_angstrom))).get(name) for h in hyps]
        table[name] = [_num(v[0]) if v else None for v in values]
        table[f"{name}_sigma"] = [_num(v[1]) if v else None for v in values]
    table.update({
        "n_indexed": [h.n_indexed for h in hyps],
        "n_unexplained": [h.n_unexplained for h in hyps],
        "n_missing": [len(h.missing) for h in hyps],
        "chi2": [_num(h.chi2) for h in hyps],
        "score": [_num(h.score) for h in hyps],
        "delta_score": [_num(h.delta_score) for h in hyps],
        "indistinguishable_from_best": [int(h.lattice in result.indistinguishable) for h in hyps],
        "m_de_wolff": [_num(h.m_de_wolff) for h in hyps],
        "indexed": [" ".join(p.hkl for p in h.peaks if p.hkl) for h in hyps],
        "unexplained_q_inv_angstrom": [" ".join(f"{q:.5g}" for q in h.unexplained_q_inv_angstrom) for h in hyps],
        "missing": [" ".join(m.label for m in h.missing) for h in hyps],
    })
    return table


def result_summary(result: IndexingResult) -> dict:
    """The result as JSON-able data: settings, the peaks, the ranked lattices with their indexed peaks."""
    peaks = peak_table(result, hypothesis=None) if result.search is not None else {}
    n = len(peaks.get("peak", []))
    lattices = []
    for h in result.hypotheses:
        entry: dict = {"lattice": h.lattice, "title": h.title}
        for name, v, s in zip(h.parameter_names, h.values_angstrom, h.sigmas_angstrom):
            entry[name], entry[f"{name}_sigma"] = _num(v), _num(s)
        entry.update({
            "n_indexed": h.n_indexed, "n_unexplained": h.n_unexplained, "chi2": _num(h.chi2),
            "score": _num(h.score), "delta_score": _num(h.delta_score), "m_de_wolff": _num(h.m_de_wolff),
            "peaks": [{"q_inv_angstrom": _num(p.q_inv_angstrom), "hkl": p.hkl,
                       "q_calc_inv_angstrom": _num(p.q_calc_inv_angstrom), "multiplicity": p.multiplicity}
                      for p in h.peaks if p.hkl is not None],
            "unexplained_q_inv_angstrom": [_num(q) for q in h.unexplained_q_inv_angstrom],
            "missing": [{"hkl": m.label, "q_inv_angstrom": _num(m.q_inv_angstrom)} for m in h.missing],
            "note": h.note,
        })
        lattices.append(entry)
    search = result.search
    return {
        "message": result.message,
        "indistinguishable": list(result.indistinguishable),
        "settings": {"min_significance": search.min_significance if search else None,
                     "max_relative_width": search.max_relative_width if search else None,
                     "noise": search.noise if search else None, "min_peaks": result.min_peaks,
                     "relative_position_floor": result.relative_position_floor,
                     "detection_probability": result.detection_probability,
                     "indistinguishable_delta_score": INDISTINGUISHABLE_DELTA},
        "peaks": [{k: peaks[k][i] for k in ("q_inv_angstrom", "q_inv_angstrom_sigma", "fwhm_inv_angstrom",
                                            "fwhm_inv_angstrom_sigma", "height", "height_sigma", "significance")}
                  for i in range(n)],
        "lattices": lattices,
    }
