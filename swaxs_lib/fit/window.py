"""What a fit sees of the data: the fit range, the weights, and a G(r)'s transform Q window.

Every fit in swaxs (the Compare page and ``compare``, ``refine``, ``sweep``,
relaxation refits, crystal refinements) takes its data through this module,
so that they agree on one set of defaults:

Fit range (:data:`GR_FIT_RANGE_ANGSTROM`)
    G(r): from 1.5 Å (below the first neighbour peak G(r) is the -4πρ₀r
    baseline plus termination ripples) to the smaller of the last point and
    30 Å.  I(Q), S(Q), F(Q): the whole curve.  Both inclusive.
Weights (``weighting``)
    ``"sigma"``: w = 1/σ² from the data's uncertainties;
    ``"relative"``: w = 1/y² (every point's relative misfit counts the same:
    I(Q) over decades without σ); ``"uniform"``: w = 1 (G(r), S(Q), F(Q)
    without σ); ``"auto"`` (default): ``"sigma"`` when the data have
    uncertainties above 0 in range, otherwise ``"relative"`` for I(Q) and
    ``"uniform"`` for the rest (with a warning when an uncertainty column is
    all 0).  With σ weights, points whose σ is 0 (an exact value: an infinite
    weight) are left out, counted in :attr:`FitWindow.n_excluded` and warned
    about, naming the first; the others keep 1/σ² (negative σ is refused
    when the file is read).  With relative weights, points with y <= 0 carry
    no weight: they are left out, counted and warned about likewise.
Signal
    A fit range whose values are all 0 (R_w undefined) or all equal (a
    background alone fits it: R_w 0, every other parameter undetermined)
    is refused.
Transform window (:data:`DEFAULT_PDF_Q_RANGE`)
    A G(r)'s Q_min..Q_max: the file header's (PDFgetX3 ``qmin``/``qmax``),
    else 0.5..25 1/Å; 0 <= Q_min < Q_max <= 100 1/Å.
Points
    A fit needs more points in range than it has free parameters.

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io import Measurement
>>> r = np.arange(0.5, 40.0, 0.5)
>>> window = fit_window(Measurement("gr", r, np.sin(r), None, "x.gr", "angstrom"))
>>> window.x_min, window.x_max, window.weighting, int(window.mask.sum())
(1.5, 30.0, 'uniform', 58)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.header import header_q_range
from swaxs_lib.io.measurement import Measurement

#: Default G(r) fit range (Å): from the first value to the smaller of the last point and the second.
GR_FIT_RANGE_ANGSTROM = (1.5, 30.0)
#: Q range (1/Å) of a G(r)'s transform when the file's header gives none.
DEFAULT_PDF_Q_RANGE = (0.5, 25.0)
#: Largest Q_max (1/Å) of a transform window.
Q_MAX_LIMIT = 100.0
WEIGHTINGS = ("auto", "sigma", "relative", "uniform")


@dataclass(frozen=True)
class FitWindow:
    """The points a fit uses and their weights.

    Attributes
    ----------
    x_min, x_max : float
        The fit range (inclusive; Å or 1/Å).
    mask : numpy.ndarray of bool
        Over all the measurement's points: which enter the fit.
    weighting : str
        ``"sigma"``, ``"relative"`` or ``"uniform"`` (never ``"auto"``).
    dy : numpy.ndarray
        Over all points: the weight's σ (w = 1/dy²): the uncertainties, |y|, or 1.
    n_excluded : int
        Points in range left out: σ = 0 with σ weights, y <= 0 with relative weights.
    """

    x_min: float
    x_max: float
    mask: np.ndarray
    weighting: str
    dy: np.ndarray
    n_excluded: int = 0

    @property
    def n_points(self) -> int:
        return int(self.mask.sum())

    @property
    def weights(self) -> np.ndarray:
        """w = 1/dy² on the points in the fit, 0 elsewhere."""
        w = np.zeros_like(self.dy)
        w[self.mask] = 1.0 / self.dy[self.mask] ** 2
        return w


def uncertainty_note(measurement: Measurement) -> str | None:
    """What fits do with the file's uncertainties, in one sentence, when some cannot weight a point; else None.

    The same rule as :func:`fit_window`'s ``"auto"`` weighting: a σ of 0 (or negative, or not a number)
    claims an exact value, so that point is left out of σ-weighted fits; when no σ is usable the fit
    weights by |I| (I(Q)) or uniformly (G(r)).  Pages show it beside the data, where the fit's own
    warning would only reach the server's log.

    Examples
    --------
    >>> m = Measurement("iq", np.array([0.1, 0.2, 0.3]), np.array([3.0, 2.0, 1.0]), np.array([0.1, 0.0, 0.1]),
    ...                 "a.dat", "inv_angstrom")
    >>> for part in uncertainty_note(m).split("): "):
    ...     print(part)
    a.dat: 1 of 3 points have uncertainty 0 or none (the first at x = 0.2
    σ-weighted fits leave them out; the others keep their 1/σ² weights.
    """
    sigma = measurement.uncertainties
    if sigma is None:
        return None
    bad = ~_usable(sigma)
    if not bad.any():
        return None
    if bad.all():
        instead = "relative (1/I²)" if measurement.kind == "iq" else "uniform"
        return f"{measurement.source}: every uncertainty is 0 or none: fits use {instead} weights instead."
    first = float(np.asarray(measurement.x, dtype=float)[int(np.argmax(bad))])
    return (f"{measurement.source}: {int(bad.sum())} of {bad.size} points have uncertainty 0 or none (the first at "
            f"x = {first:g}): σ-weighted fits leave them out; the others keep their 1/σ² weights.")


def _usable(sigma) -> np.ndarray:
    """Which uncertainties can weight a point: finite and above 0 (σ = 0 would claim an exact value)."""
    sigma = np.asarray(sigma, dtype=float)
    return np.isfinite(sigma) & (sigma > 0)


def default_fit_range(kind: str, x: np.ndarray) -> tuple[float, float]:
    """(x_min, x_max) a fit uses when the user gives none (module docstring)."""
    x = np.asarray(x, dtype=float)
    if kind == "gr":
        return GR_FIT_RANGE_ANGSTROM[0], min(float(np.nanmax(x)), GR_FIT_RANGE_ANGSTROM[1])
    return float(np.nanmin(x)), float(np.nanmax(x))


def fit_window(measurement: Measurement, x_min: float | None = None, x_max: float | None = None, *,
               weighting: str = "auto", n_parameters: int = 1) -> FitWindow:
    """The points and weights of a fit of ``measurement`` (module docstring for the defaults).

    Parameters
    ----------
    measurement : Measurement
    x_min, x_max : float, optional
        Fit range in the data's units; defaults: :func:`default_fit_range`.
    weighting : {"auto", "sigma", "relative", "uniform"}
    n_parameters : int
        Free parameters of the fit: it needs more points than these.

    Returns
    -------
    FitWindow

    Raises
    ------
    SwaxsInputError
        An unknown weighting, ``"sigma"`` without uncertainties above 0, a
        non-finite or inverted range, values all 0 or all equal in range, or
        too few usable points.
    """
    if weighting not in WEIGHTINGS:
        raise SwaxsInputError(f"weighting: got {weighting!r}; expected one of {', '.join(WEIGHTINGS)}")
    x = np.asarray(measurement.x, dtype=float)
    y = np.asarray(measurement.values, dtype=float)
    lo_default, hi_default = default_fit_range(measurement.kind, x)
    lo = lo_default if x_min is None else float(x_min)
    hi = hi_default if x_max is None else float(x_max)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise SwaxsInputError(f"fit range: got {lo:g}..{hi:g}; expected x_min < x_max")
    mask = (x >= lo) & (x <= hi) & np.isfinite(y)
    if int(mask.sum()) > n_parameters:  # fewer points: the count's own message below
        _check_signal(measurement, y[mask], lo, hi)
    sigma = measurement.uncertainties
    usable_sigma = None if sigma is None else _usable(sigma)
    has_sigma = usable_sigma is not None and bool(np.any(usable_sigma[mask]))
    if weighting == "sigma" and not has_sigma:
        raise SwaxsInputError(f"weighting: got 'sigma' but {measurement.source} has no uncertainty above 0 in the fit "
                              "range; expected relative or uniform")
    used = weighting if weighting != "auto" else (
        "sigma" if has_sigma else "relative" if measurement.kind == "iq" else "uniform")
    if sigma is not None and weighting == "auto" and not has_sigma:
        warnings.warn(f"{measurement.source}: every uncertainty in the fit range {lo:g}..{hi:g} is 0: not used; "
                      f"{used} weights instead", stacklevel=2)
    n_excluded = 0
    if used == "sigma":
        s = np.asarray(sigma, dtype=float)
        zero = mask & ~usable_sigma
        if zero.any():  # σ = 0 claims an exact value: an infinite weight no fit can honour
            n_excluded = int(zero.sum())
            first = int(np.argmax(zero))
            warnings.warn(f"{measurement.source}: {n_excluded} point(s) in the fit range with uncertainty 0 "
                          f"(the first at x = {x[first]:g}) are left out; the others keep their 1/σ² weights",
                          stacklevel=2)
        mask &= usable_sigma
        dy = np.where(usable_sigma, s, 1.0)
    elif used == "relative":
        n_excluded = int(np.sum(mask & (y <= 0)))
        mask &= y > 0
        dy = np.where(y > 0, np.abs(y), 1.0)
        if n_excluded:
            warnings.warn(f"{measurement.source}: {n_excluded} point(s) with I <= 0 in the fit range "
                          f"{lo:g}..{hi:g} carry no relative weight and are left out", stacklevel=2)
    else:
        dy = np.ones_like(y)
    n = int(mask.sum())
    if n <= n_parameters:
        raise SwaxsInputError(f"fit range {lo:g}..{hi:g}: has {n} usable points of {measurement.source}; "
                              f"expected more than the {n_parameters} free parameter(s)")
    return FitWindow(x_min=lo, x_max=hi, mask=mask, weighting=used, dy=dy, n_excluded=n_excluded)


def _check_signal(measurement: Measurement, y: np.ndarray, lo: float, hi: float) -> None:
    """Refuse a fit range whose values are all equal: zero (R_w = |d − f|/|d| is 0/0) or a constant (any model
    with a background fits it exactly, R_w 0, every other parameter undetermined)."""
    if y.size == 0:
        return
    top = float(np.max(np.abs(y)))
    if top == 0.0:
        raise SwaxsInputError(f"{measurement.source}: every value in the fit range {lo:g}..{hi:g} is 0; "
                              "expected a curve with signal (R_w is undefined for an all-zero curve)")
    if float(np.ptp(y)) <= 1e-12 * top:
        raise SwaxsInputError(f"{measurement.source}: every value in the fit range {lo:g}..{hi:g} is {y[0]:.6g}; "
                              "expected a curve that varies (a constant has no shape to fit: a background "
                              "alone fits it, every other parameter undetermined)")


def transform_q_range(measurement: Measurement, q_min: float | None = None, q_max: float | None = None,
                      *, q_min_default: float | None = None) -> tuple[float, float]:
    """(Q_min, Q_max) in 1/Å of a G(r)'s transform: given values, else the header's, else the default.

    ``q_min_default`` replaces the header's Q_min when given (the crystal
    models' Q_min defaults to 0, PDFgui's model).

    Raises
    ------
    SwaxsInputError
        Not 0 <= Q_min < Q_max <= :data:`Q_MAX_LIMIT`.
    """
    header = header_q_range(measurement) or DEFAULT_PDF_Q_RANGE
    lo = header[0] if q_min_default is None else q_min_default
    lo = float(lo if q_min is None else q_min)
    hi = float(header[1] if q_max is None else q_max)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi <= Q_MAX_LIMIT):
        raise SwaxsInputError(f"Q range: got {lo:g}..{hi:g} 1/Å; expected 0 <= Q_min < Q_max <= {Q_MAX_LIMIT:g}")
    return lo, hi


__all__ = ["DEFAULT_PDF_Q_RANGE", "FitWindow", "GR_FIT_RANGE_ANGSTROM", "Q_MAX_LIMIT", "WEIGHTINGS",
           "default_fit_range", "fit_window", "transform_q_range", "uncertainty_note"]
