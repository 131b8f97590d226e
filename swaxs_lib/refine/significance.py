"""What a set of fits to the same data can and cannot tell: independent points, R_w ratio tests, weak parameters.

Independent points
------------------
A G(r) from PDFgetX3 or xPDFsuite is sampled every 0.01 Å, but it is the
sine transform of F(Q) measured up to Q_max: by the Nyquist-Shannon sampling
theorem it is fixed by its values every dr_N = pi / Q_max, and the finer
points are interpolations whose errors are correlated (Farrow et al. 2011).
The number of independent points in a fit range r_min..r_max is therefore::

    N_ind = floor((r_max - r_min) Q_max / pi)        (at most the point count)

(Egami & Billinge 2012, ch. 5; Farrow et al. 2011).  The Au lab PDF of
tests/data/au_np_scattbo (Q_max 10 1/Å, r 1.5-30 Å) has 2851 points but
N_ind = 90.  We use this estimate whether or not the file carries
uncertainties: the sigmas PDFgetX3 propagates are per point and ignore the
correlation, so the raw point count overstates the information with them
too.  A band-limited signal from Q_min to Q_max strictly carries
(r_max - r_min)(Q_max - Q_min)/pi values; we follow the literature's Q_max
count, the larger of the two, which makes the test slightly less willing to
call two fits equivalent.  Q-space data (I(Q), S(Q), F(Q)) are measured
intensities with independent counting errors: N_ind is their point count.

Ranking test
------------
The candidates of a sweep are non-nested models of the same data, usually
with the same number P of refined parameters.  Hamilton's R-factor ratio
test (Hamilton 1965) compares nested hypotheses; for non-nested ones we use
the F-test it derives from (Prince & Spiegelman 2006): if candidate i and the
best fit b were equally adequate, their weighted sums of squares chi2 would
each be a chi-squared variable with nu = N_ind - P degrees of freedom, and::

    F_i = (chi2_i / nu_i) / (chi2_b / nu_b) = (R_w,i / R_w,b)^2 nu_b / nu_i  ~  F(nu_i, nu_b)

(chi2 = R_w^2 sum w y^2, and sum w y^2 is the same for every candidate of the
same data, range and weights, so the unknown noise level cancels).  The best
is chosen *after* seeing the data, as the smaller of the two, so the test is
two-sided: the p-value is 2 min(P(F >= F_i), P(F <= F_i)) (at most 1), and
candidate i is *indistinguishable from the best* at significance level alpha
(default 0.05) when it exceeds alpha, i.e. when its R_w ratio is below the
critical ratio sqrt(F.ppf(1 - alpha/2, nu_i, nu_b) nu_i / nu_b).  (A
one-sided test would, for two equally good models, declare a difference
2 alpha of the time.)

Assumptions, and which way they err: Gaussian errors on N_ind independent
points; misfit that behaves like noise (with R_w ~ 0.6 the misfit is mostly
systematic, and the test then only says that two misfits are the same within
their own scatter); the two chi2 treated as independent although both are
fits to the same data (the positive correlation makes the test conservative:
it calls more candidates equivalent than an exact test would); no
correction for comparing the best with many candidates (the minimum of many
equally good fits is lower than that of two, which makes the test less
conservative the more candidates there are).  Read "indistinguishable" as
"the data do not decide", not as "equally right".

Weak parameters
---------------
A refined value is *not determined by the data* when it stopped at a bound
(no uncertainty can be computed there), or when its standard uncertainty is
at least its magnitude (the value is consistent with zero and its sign is
not known).  srfit and PDFgui compute uncertainties as if every point were
independent (scaled by sqrt(chi2_reduced) without measured sigmas); on an
oversampled G(r) that makes them too small.  Refitting the same curve on the
Nyquist grid (Farrow et al. 2011) gives, to first order, the uncertainties
times::

    sqrt((n - P) / (N_ind - P))        (uniform or relative weights)
    sqrt(n / N_ind)                    (measured sigmas)

and this *Nyquist factor* is used for the "sigma exceeds value" test
(it is 1 for Q-space data).  The expansion (zoom - 1) is exempt from that
test: zero is a physical value of it, not the absence of one, and zoom
itself carries the verdict.

References
----------
W. C. Hamilton, "Significance tests on the crystallographic R factor",
Acta Cryst. 18, 502-510 (1965).
E. Prince and C. H. Spiegelman, "Statistical significance tests",
International Tables for Crystallography Vol. C, ch. 8.4 (2006).
C. L. Farrow, M. Shaw, H. Kim, P. Juhás and S. J. L. Billinge, "Nyquist-Shannon
sampling theorem and the atomic pair distribution function", Phys. Rev. B 84,
134105 (2011).
T. Egami and S. J. L. Billinge, *Underneath the Bragg Peaks: Structural
Analysis of Complex Materials*, 2nd ed. (Pergamon, 2012), ch. 5.

Validation
----------
tests/test_significance.py: critical ratios and p-values against closed
forms of F(2, nu) and scipy.stats.f; on simulated band-limited noise (white in
Q up to Q_max, sampled every 0.01 Å) the chi2 of a fit has nu_eff = N_ind - P
to a few per cent, two equally good models are told apart at the rate alpha
(the raw point count would do it most of the time), and srfit-style
uncertainties times the Nyquist factor match the scatter of the refined
values; flags on hand-made values and on a refinement.

Examples
--------
>>> independent_points("gr", 1.5, 30.0, 2851, q_max_inv_angstrom=10.0)
90
>>> t = rank_test([0.608, 0.714, 1.2], n_independent=90, n_refined=[5, 5, 5])
>>> [c.indistinguishable for c in t.comparisons], round(t.comparisons[1].rw_ratio_critical, 3)
([True, True, False], 1.239)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from scipy import stats

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.versioned import SCHEMA_KEY, as_mapping, reading, schema_of

#: Significance level of the ranking test unless the user sets another.
DEFAULT_ALPHA = 0.05
#: What the rankings report as their test (JSON ``test``).
TEST_NAME = ("two-sided F-test on (R_w,i / R_w,best)^2 with nu = N_ind - P "
             "(Hamilton 1965; Prince & Spiegelman 2006)")
#: The method of the independent-point count (JSON ``n_independent_method``).
NYQUIST_METHOD = "Nyquist: floor((r_max - r_min) Q_max / pi), at most the point count (Farrow et al. 2011)"
POINTS_METHOD = "the measured points in the fit range"

#: Flags of a parameter: "" (determined), fixed by the user, stopped at a bound, uncertainty >= |value|.
FLAG_FIXED, FLAG_AT_BOUND, FLAG_SIGMA = "fixed", "at_bound", "sigma_exceeds_value"
#: Derived values whose zero is physical (the sigma test does not apply).
NO_SIGMA_TEST = ("expansion",)


def independent_points(kind: str, x_min: float, x_max: float, n_points: int,
                       q_max_inv_angstrom: float | None = None) -> int:
    """The number of independent points of a fit range (see the module docstring).

    Parameters
    ----------
    kind : {"gr", "iq", "sq", "fq"}
    x_min, x_max : float
        Fit range (Å for G(r)).
    n_points : int
        Points in the fit range.
    q_max_inv_angstrom : float, optional
        G(r): Q_max of the transform (1/Å); required for ``"gr"``.

    Returns
    -------
    int
        G(r): min(n_points, floor((x_max - x_min) Q_max / pi)); else n_points.

    Raises
    ------
    SwaxsInputError
        A G(r) without a positive Q_max, or an inverted range.
    """
    if not (math.isfinite(x_min) and math.isfinite(x_max) and x_max > x_min) or n_points < 0:
        raise SwaxsInputError(f"fit range {x_min!r}..{x_max!r} with {n_points} points; expected x_min < x_max")
    if kind != "gr":
        return int(n_points)
    if q_max_inv_angstrom is None or not (math.isfinite(q_max_inv_angstrom) and q_max_inv_angstrom > 0):
        raise SwaxsInputError(f"Q_max: got {q_max_inv_angstrom!r}; expected a positive number (1/Å) for G(r)")
    # the small tolerance keeps an exact multiple of pi/Q_max from losing a point to rounding
    nyquist = math.floor((x_max - x_min) * q_max_inv_angstrom / math.pi + 1e-9)
    return int(min(n_points, nyquist))


def sigma_nyquist_factor(n_points: int, n_independent: int, n_refined: int, weighting: str) -> float:
    """What srfit's uncertainties are multiplied by to count only independent points.

    Returns
    -------
    float
        sqrt((n - P) / (N_ind - P)) for ``"uniform"``/``"relative"`` weights,
        sqrt(n / N_ind) for ``"sigma"``, 1 when N_ind = n; ``inf`` when
        N_ind <= P (the data cannot determine the parameters at all).
    """
    if n_independent >= n_points:
        return 1.0
    if weighting == "sigma":
        return math.sqrt(n_points / n_independent) if n_independent > 0 else math.inf
    if n_independent <= n_refined:
        return math.inf
    return math.sqrt(max(n_points - n_refined, 1) / (n_independent - n_refined))


def parameter_flag(name: str, value: float | None, sigma: float | None, refined: bool,
                   factor: float = 1.0) -> str:
    """Why a reported value is not a measurement: ``""`` if it is one.

    Parameters
    ----------
    name : str
    value : float or None
    sigma : float or None
        srfit's standard uncertainty (None: fixed, or stopped at a bound).
    refined : bool
        False when the user held the value fixed.
    factor : float
        :func:`sigma_nyquist_factor` of the fit.

    Returns
    -------
    str
        :data:`FLAG_FIXED`, :data:`FLAG_AT_BOUND`, :data:`FLAG_SIGMA` or ``""``.

    Examples
    --------
    >>> parameter_flag("delta2", 0.0, None, True), parameter_flag("u_Au", 0.02, 0.001, True, factor=5.8)
    ('at_bound', '')
    >>> parameter_flag("qdamp", 0.01, 0.002, True, factor=5.8), parameter_flag("expansion", 1e-4, 1e-3, True)
    ('sigma_exceeds_value', '')
    """
    if not refined:
        return FLAG_FIXED
    if sigma is None or value is None or not math.isfinite(sigma) or sigma <= 0:
        return FLAG_AT_BOUND
    if name not in NO_SIGMA_TEST and sigma * factor >= abs(value):
        return FLAG_SIGMA
    return ""


@dataclass(frozen=True)
class RwComparison:
    """One candidate against the best fit.

    Attributes
    ----------
    rw_ratio : float
        R_w,i / R_w,best (1 for the best; inf when the best is exact).
    rw_ratio_critical : float or None
        The ratio at which the difference becomes significant at alpha (None if nu <= 0).
    p_value : float or None
        Two-sided: 2 min(P(F(nu_i, nu_best) >= F_i), P(F(nu_i, nu_best) <= F_i)), at most 1;
        None for the best itself and when nu <= 0.
    indistinguishable : bool
        p_value > alpha (True for the best, and for every candidate when nu <= 0).
    nu : int
        N_ind - P_i.
    """

    rw_ratio: float
    rw_ratio_critical: float | None
    p_value: float | None
    indistinguishable: bool
    nu: int

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (versioned with the :class:`RankTest` that holds it)."""
        return {"rw_ratio": self.rw_ratio, "rw_ratio_critical": self.rw_ratio_critical, "p_value": self.p_value,
                "indistinguishable": self.indistinguishable, "nu": self.nu}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RwComparison":
        with reading("R_w comparison"):
            critical, p = data.get("rw_ratio_critical"), data.get("p_value")
            return cls(float(data["rw_ratio"]), None if critical is None else float(critical),
                       None if p is None else float(p), bool(data["indistinguishable"]), int(data["nu"]))


@dataclass(frozen=True)
class RankTest:
    """The ranking test of a list of fits, in the order given (the best is the smallest R_w).

    Attributes
    ----------
    comparisons : tuple of RwComparison
    best : int
        Index of the best fit.
    alpha : float
    n_independent : int
    test, method : str
        What the test is, how N_ind was counted.
    note : str
        ``""``, or why the test could not be made (nu <= 0).
    """

    SCHEMA: ClassVar[int] = 1

    comparisons: tuple[RwComparison, ...]
    best: int
    alpha: float
    n_independent: int
    test: str = TEST_NAME
    method: str = NYQUIST_METHOD
    note: str = ""

    @property
    def indistinguishable(self) -> tuple[int, ...]:
        """Indices of the fits the data cannot tell from the best (the best excluded)."""
        return tuple(i for i, c in enumerate(self.comparisons) if c.indistinguishable and i != self.best)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON with the schema version (:mod:`swaxs_lib.versioned`)."""
        return {SCHEMA_KEY: self.SCHEMA, "comparisons": [c.to_json() for c in self.comparisons], "best": self.best,
                "alpha": self.alpha, "n_independent": self.n_independent, "test": self.test, "method": self.method,
                "note": self.note}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "RankTest":
        """What :meth:`to_json` wrote (rankings stored before it kept the test in their table's columns:
        :func:`swaxs_lib.legacy_rows.sweep_result` reads those)."""
        data = as_mapping(data, "rank test")
        schema_of(data, "rank test", cls.SCHEMA)
        with reading("rank test"):
            return cls(tuple(RwComparison.from_json(c) for c in data["comparisons"]), int(data["best"]),
                       float(data["alpha"]), int(data["n_independent"]), str(data["test"]), str(data["method"]),
                       str(data.get("note") or ""))


def critical_rw_ratio(nu: float, nu_best: float, alpha: float = DEFAULT_ALPHA) -> float:
    """The R_w ratio above which a fit is significantly worse than the best at level ``alpha`` (two-sided).

    sqrt(F.ppf(1 - alpha/2, nu, nu_best) nu / nu_best); for nu = nu_best simply
    sqrt(F.ppf(1 - alpha/2, nu, nu)).

    Examples
    --------
    >>> round(critical_rw_ratio(85, 85), 4)
    1.2386
    """
    _check_alpha(alpha)
    if nu <= 0 or nu_best <= 0:
        raise SwaxsInputError(f"degrees of freedom: got {nu}, {nu_best}; expected N_ind > P")
    return math.sqrt(float(stats.f.ppf(1.0 - alpha / 2, nu, nu_best)) * nu / nu_best)


def rank_test(rws: Sequence[float], n_independent: int, n_refined: Sequence[int],
              alpha: float = DEFAULT_ALPHA, method: str = NYQUIST_METHOD) -> RankTest:
    """Compare every fit of the same data with the best one (see the module docstring).

    Parameters
    ----------
    rws : sequence of float
        R_w of each fit (same data, fit range and weights; inf for a failed fit).
    n_independent : int
        :func:`independent_points` of the common fit range.
    n_refined : sequence of int
        Refined parameters of each fit (P).
    alpha : float
        Significance level, 0 < alpha < 1.
    method : str
        How ``n_independent`` was counted (reported).

    Returns
    -------
    RankTest

    Raises
    ------
    SwaxsInputError
        No fits, lengths that differ, alpha outside (0, 1), a negative or NaN R_w.
    """
    _check_alpha(alpha)
    rws = [float(r) for r in rws]
    if not rws or len(rws) != len(n_refined):
        raise SwaxsInputError(f"rank test: got {len(rws)} R_w and {len(n_refined)} parameter counts; "
                              "expected the same number, at least one")
    if any(math.isnan(r) or r < 0 for r in rws):
        raise SwaxsInputError(f"rank test: R_w values {rws}; expected numbers >= 0")
    best = min(range(len(rws)), key=lambda i: rws[i])
    nus = [int(n_independent) - int(p) for p in n_refined]
    if nus[best] <= 0:
        note = (f"{n_independent} independent points for {n_refined[best]} refined parameters: "
                "the data cannot tell any of these fits apart")
        return RankTest(tuple(RwComparison(_ratio(r, rws[best]), None, None, True, nu) for r, nu in zip(rws, nus)),
                        best, alpha, int(n_independent), method=method, note=note)
    out = []
    for i, (rw, nu) in enumerate(zip(rws, nus)):
        ratio = _ratio(rw, rws[best])
        if i == best:
            out.append(RwComparison(1.0, critical_rw_ratio(nu, nus[best], alpha), None, True, nu))
        elif nu <= 0:
            out.append(RwComparison(ratio, None, None, True, nu))
        else:
            f_value = ratio**2 * nus[best] / nu
            tail = min(stats.f.sf(f_value, nu, nus[best]), stats.f.cdf(f_value, nu, nus[best]))
            p = min(1.0, 2.0 * float(tail)) if math.isfinite(f_value) else 0.0
            out.append(RwComparison(ratio, critical_rw_ratio(nu, nus[best], alpha), p, p > alpha, nu))
    return RankTest(tuple(out), best, alpha, int(n_independent), method=method)


def _ratio(rw: float, rw_best: float) -> float:
    if rw == rw_best:  # the best itself, a tie, or every fit failed (inf)
        return 1.0
    return rw / rw_best if rw_best > 0 else math.inf


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise SwaxsInputError(f"--alpha: got {alpha!r}; expected a significance level between 0 and 1, e.g. 0.05")


__all__ = ["DEFAULT_ALPHA", "FLAG_AT_BOUND", "FLAG_FIXED", "FLAG_SIGMA", "NYQUIST_METHOD", "POINTS_METHOD",
           "RankTest", "RwComparison", "TEST_NAME", "critical_rw_ratio", "independent_points", "parameter_flag",
           "rank_test", "sigma_nyquist_factor"]
