"""Is a curve's particle inside the size ladder the models were trained on?  A model-free check.

A regressor trained on extents of 0.8–7.2 nm answers with a size inside that
range whatever the curve: a 10 nm sphere came back as 7.16 nm [6.86, 7.48],
the top of the ladder.  This module measures the size without the models, by
the Guinier radius of the curve's low-Q end (:func:`swaxs_lib.saxs.guinier.guinier_fit`,
automatic range), and compares it with the Guinier radii of the training
curves measured the same way (:func:`guinier_rg_range`, stored in the model
manifest as ``guinier_rg_range_angstrom``):

* R_g > :data:`RG_MARGIN` × the largest training R_g: **above** the ladder;
* R_g < the smallest training R_g / :data:`RG_MARGIN`: **below** it;
* no Guinier region, and ln I falls steeper over the first tenth of the
  log-Q range than a homogeneous sphere's with R_g :data:`RG_MARGIN` × the
  largest training R_g on the same points (:func:`reference_slope`):
  **above** (the curve starts past the Guinier region of any training
  particle);
* otherwise **inside** (or **unknown** when there is no Guinier region and
  the start is not steep: a structure-factor peak, a rising low-Q edge).

The R_g of the training curves includes their polydispersity (up to 30 %),
background and noise: the largest is 27.5 Å for the shipped database (a
sphere of radius √(5/3)·27.5 = 35.5 Å), the smallest 2.8 Å.  A monodisperse
10 nm sphere has R_g = √(3/5)·50 Å = 38.7 Å.

Probabilities are widened by the novelty score (:func:`temper`): a curve
unlike the training set falls back towards the prior instead of reading 1.00.

Validation: analytic sphere form factors of 10 and 50 nm diameter are above,
one of 5 nm is inside (``tests/test_ml_shipped.py``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError

#: A curve's R_g must exceed the training range by this factor to be called outside it.
RG_MARGIN = 1.15
#: Guinier fits read Q up to this (1/Å): every training particle's Guinier region ends below it.
GUINIER_Q_MAX = 0.3


@dataclass(frozen=True)
class SizeRangeCheck:
    """The model-free size check of one I(Q).

    Attributes
    ----------
    status : str
        ``"inside"``, ``"above"``, ``"below"`` or ``"unknown"`` (see the module docstring).
    rg_angstrom : float or None
        The curve's Guinier radius (Å); None without a Guinier region.
    sphere_diameter_nm : float or None
        The homogeneous sphere with that R_g: 2 √(5/3) R_g (nm).
    reason : str or None
        Why the curve is outside (or not checked); None when inside.
    """

    status: str
    rg_angstrom: float | None
    sphere_diameter_nm: float | None
    reason: str | None

    @property
    def outside(self) -> bool:
        return self.status in ("above", "below")


def curve_guinier_rg(q_inv_angstrom: np.ndarray, intensity: np.ndarray) -> float | None:
    """The automatic Guinier R_g (Å) of the curve's points below :data:`GUINIER_Q_MAX`; None if refused."""
    from swaxs_lib.saxs.guinier import guinier_fit

    q = np.asarray(q_inv_angstrom, float)
    i = np.asarray(intensity, float)
    keep = (q <= GUINIER_Q_MAX) & np.isfinite(i) & (i > 0) & (q > 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(guinier_fit(q[keep], i[keep]).rg_angstrom)
    except SwaxsInputError:
        return None


def low_q_slope(q_inv_angstrom: np.ndarray, intensity: np.ndarray) -> float | None:
    """d ln I / d ln Q fitted over the first tenth of the curve's log-Q range (at least 5 points)."""
    q = np.asarray(q_inv_angstrom, float)
    i = np.asarray(intensity, float)
    ok = (q > 0) & (i > 0) & np.isfinite(i)
    q, i = q[ok], i[ok]
    if len(q) < 5:
        return None
    edge = q[0] * (q[-1] / q[0]) ** 0.1
    n = max(5, int(np.sum(q <= edge)))
    return float(np.polyfit(np.log(q[:n]), np.log(i[:n]), 1)[0])


def check_size_range(q_inv_angstrom: np.ndarray, intensity: np.ndarray,
                     rg_range_angstrom: tuple[float, float]) -> SizeRangeCheck:
    """Whether the particle of one I(Q) lies inside the training ladder (module docstring).

    Parameters
    ----------
    q_inv_angstrom, intensity : numpy.ndarray
        The curve, Q (1/Å) increasing.
    rg_range_angstrom : (float, float)
        The training curves' smallest and largest Guinier R_g (Å), :func:`guinier_rg_range`.

    Returns
    -------
    SizeRangeCheck

    Examples
    --------
    >>> q = np.geomspace(0.01, 0.5, 200)
    >>> x = q * 50.0  # a sphere of radius 50 Å: R_g 38.7 Å
    >>> i = (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2
    >>> check_size_range(q, i, (2.8, 27.5)).status
    'above'
    """
    low, high = rg_range_angstrom
    rg = curve_guinier_rg(q_inv_angstrom, intensity)
    if rg is not None:
        diameter = round(2 * math.sqrt(5 / 3) * rg / 10.0, 3)
        if rg > RG_MARGIN * high:
            return SizeRangeCheck("above", rg, diameter, (
                f"size out of range: the Guinier radius {rg:.1f} Å (a sphere of diameter {diameter:.1f} nm) exceeds "
                f"the training curves' largest, {high:.1f} Å, by more than {RG_MARGIN - 1:.0%}: the particle is larger "
                "than the database's sizes, so no size is given (a size model would answer the top of its range)"))
        if rg < low / RG_MARGIN:
            return SizeRangeCheck("below", rg, diameter, (
                f"size out of range: the Guinier radius {rg:.1f} Å is below the training curves' smallest, "
                f"{low:.1f} Å: the particle is smaller than the database's sizes, so no size is given"))
        return SizeRangeCheck("inside", rg, diameter, None)
    slope = low_q_slope(q_inv_angstrom, intensity)
    limit = reference_slope(q_inv_angstrom, high)
    if slope is not None and limit is not None and slope < limit:
        return SizeRangeCheck("above", None, None, (
            f"size out of range: no Guinier region, and I(Q) falls as Q^{slope:.1f} from the curve's first point "
            f"({float(np.min(q_inv_angstrom)):.3g} 1/Å), steeper than a sphere of R_g {RG_MARGIN * high:.1f} Å "
            f"(Q^{limit:.1f}), {RG_MARGIN - 1:.0%} beyond the training curves' largest: the particle is larger than "
            "the database's sizes, so no size is given"))
    return SizeRangeCheck("unknown", None, None,
                          "no Guinier region at the curve's low-Q end: the size range could not be checked")


def reference_slope(q_inv_angstrom: np.ndarray, rg_max_angstrom: float) -> float | None:
    """:func:`low_q_slope` of a homogeneous sphere with R_g = :data:`RG_MARGIN` × ``rg_max_angstrom`` on the
    same Q points: a curve that starts steeper holds a larger particle (within the sphere's first lobe, the
    slope steepens monotonically with Q·R)."""
    q = np.asarray(q_inv_angstrom, float)
    q = q[q > 0]
    x = q * math.sqrt(5 / 3) * RG_MARGIN * rg_max_angstrom
    amplitude = 3 * (np.sin(x) - x * np.cos(x)) / x**3
    return low_q_slope(q, np.maximum(amplitude**2, 1e-300))


#: Share of the prior mixed into every probability, however familiar the curve (a calibration measured on
#: simulated curves does not carry to 1 in 100 beyond the simulator).
TEMPER_FLOOR = 0.01


def temper_weight(novelty: float) -> float:
    """λ of :func:`temper`: ``TEMPER_FLOOR`` up to novelty 1, then rising towards 1 as 1 − (1 − floor) e^−(s−1).

    Novelty s is the distance to the training set in units of its 99.5 % calibration quantile
    (:mod:`swaxs_lib.ml.models`): at s = 1.5 λ = 0.40, at s = 2 λ = 0.64, at s = 3 λ = 0.87.

    Examples
    --------
    >>> round(temper_weight(0.3), 3), round(temper_weight(2.0), 3)
    (0.01, 0.636)
    """
    return 1.0 - (1.0 - TEMPER_FLOOR) * math.exp(-max(0.0, float(novelty) - 1.0))


def temper(probabilities: np.ndarray, novelty: float, prior: np.ndarray) -> tuple[np.ndarray, float]:
    """Probabilities widened towards the training prior by the novelty score: (1 − λ) p + λ prior.

    A curve unlike the training set should not read 1.00: the calibrated
    probabilities hold on curves like the calibration part's, and the farther
    a curve lies from them, the more the answer falls back on the prior (the
    class balance of the training set).  The floor keeps every probability
    below 1 − floor (1 − prior).

    Parameters
    ----------
    probabilities : numpy.ndarray (k,)
    novelty : float
    prior : numpy.ndarray (k,), sums to 1

    Returns
    -------
    (numpy.ndarray, float)
        The tempered probabilities and λ.

    Examples
    --------
    >>> p, lam = temper(np.array([1.0, 0.0]), 2.0, np.array([0.5, 0.5]))
    >>> np.round(p, 3).tolist(), round(lam, 3)
    ([0.682, 0.318], 0.636)
    """
    lam = temper_weight(novelty)
    return (1.0 - lam) * np.asarray(probabilities, float) + lam * np.asarray(prior, float), lam


def guinier_rg_range(q_inv_angstrom: np.ndarray, iq: np.ndarray) -> tuple[float, float]:
    """The smallest and largest Guinier R_g (Å) of training curves ``iq`` (n, len(q)), as
    :func:`curve_guinier_rg` measures them (refused fits skipped): the manifest's ``guinier_rg_range_angstrom``."""
    values = [curve_guinier_rg(q_inv_angstrom, row) for row in np.asarray(iq)]
    found = np.array([v for v in values if v is not None])
    if not len(found):
        raise SwaxsInputError("training curves: no Guinier region in any; expected small-angle curves")
    return round(float(found.min()), 3), round(float(found.max()), 3)


__all__ = ["GUINIER_Q_MAX", "RG_MARGIN", "TEMPER_FLOOR", "temper", "temper_weight", "SizeRangeCheck", "check_size_range", "curve_guinier_rg",
           "guinier_rg_range", "low_q_slope", "reference_slope"]
