"""Does a curve look as if its abscissa was read in the right unit?  Checks from the curve's own features.

A wrong abscissa unit is a factor of 10 (Q in 1/nm read as 1/Å, r in nm read as Å, or the
reverse), and a curve's shape does not change when its axis is stretched: only features whose
*absolute* place physics fixes can tell the readings apart.  :func:`check_x_unit` looks at
those features, in the units the reader produced (Q in 1/Å, r in Å):

G(r)
    The first strong peak: the first peak of G (smoothed; prominence at least 5 % of G's
    range) whose height above G's median reaches 70 % of the highest peak's.  It is a
    nearest-neighbour distance (or, where that peak is weak, the next shell), expected at
    0.9–8 Å: from O–H 0.96 Å and C–C 1.54 Å [1]_ up to the nearest-neighbour distance of
    bcc caesium, about 5.3 Å [2]_, and second shells such as Cd–Cd 4.3 Å in CdSe.
S(Q), F(Q)
    The first strong peak of S(Q), or of F(Q)/Q = S(Q) − 1, chosen as for G(r).  By the
    Ehrenfest relation [3]_ it sits at Q₁ ≈ 7.7/r₁ for a nearest-neighbour distance r₁ (the
    first maximum of the Debye pair term sin(Qr)/(Qr) is at Qr = 7.725),
    expected at 0.75–7 1/Å (amorphous polymers and molecular liquids near 1–1.5 1/Å,
    close-packed metals near 2.5–3.1 1/Å).
I(Q)
    The Guinier radius of gyration, when the curve starts below 0.3 1/Å (a small-angle curve;
    the falling start of a wide-angle curve is not a Guinier region) and has a Guinier region:
    ln I linear in Q² from the lowest Q (Q·R_g at most 0.65 there) up to a Q with Q·R_g
    between 0.8 and 1.3 (at least 5 points, the fit's r.m.s. residual under a tenth of the
    fall of ln I) [4]_.  Expected R_g ≥ 2 Å:
    a 13-atom metal cluster, the smallest this project models, has R_g ≈ 2.6 Å (12 atoms
    2.7 Å from the centre: 2.7 √(12/13)).
Every Q-space kind
    Q ≤ 4π/λ when the wavelength is known (a hard limit: sin θ ≤ 1), and Q ≤ 60 1/Å
    (total-scattering instruments reach about 50 1/Å).

Every band spans less than a factor of 10, so a feature read ten times off always falls
outside it.  When the feature is outside, the other units of the same domain are tried and
the one that brings it inside is suggested.

What the curve cannot decide: a small-angle curve without a Guinier region (a power law, or
a structure-factor peak at the lowest Q) looks the same at any scale, and a Guinier radius
above 2 Å read ten times too large is as plausible as the right one.  Such curves are
``"undecided"``; when the file did not state the unit either, that is said too.

References
----------
.. [1] F. H. Allen et al., "Tables of bond lengths determined by X-ray and neutron
   diffraction", J. Chem. Soc., Perkin Trans. 2 (1987) S1-S19.
.. [2] C. Kittel, *Introduction to Solid State Physics*, 8th ed., Wiley (2005), ch. 1
   (the table of crystal structures and nearest-neighbour distances of the elements).
.. [3] B. E. Warren, *X-Ray Diffraction*, Addison-Wesley (1969; Dover 1990): the first
   peak of a gas's, liquid's or glass's S(Q) at Q₁ r₁ ≈ 1.23 · 2π (Ehrenfest).
.. [4] A. Guinier and G. Fournet, *Small-Angle Scattering of X-Rays*, Wiley (1955):
   I(Q) ≈ I(0) exp(−Q² R_g² / 3) for Q R_g ≲ 1.3.

Validation
----------
tests/test_io_plausibility.py: the 9 measured G(r) files, the measured S(Q) and the two
measured small-angle curves in tests/data, each as read and with x scaled by 10 and by 0.1
(every scaled PDF/S(Q) is flagged, no file as read is); the Guinier radius of a sphere's
closed-form I(Q) against R_g = √(3/5) R.

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io.measurement import Measurement
>>> r = np.arange(0.01, 20, 0.01)
>>> g = np.exp(-((r - 2.77) / 0.1) ** 2) - 0.05 * r  # one Pt–Pt peak on the -4πρ₀r baseline
>>> check_x_unit(Measurement("gr", r, g, None, "pt.gr", "angstrom")).verdict
'plausible'
>>> wrong = check_x_unit(Measurement("gr", r / 10, g, None, "pt.gr", "angstrom"))
>>> wrong.verdict, wrong.suggested_x_unit, round(wrong.value, 3)
('implausible', 'nm', 0.277)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from swaxs_lib.io.measurement import Measurement
from swaxs_lib.io.units import UNIT_DOMAIN, UNIT_TEXT

#: Where the first strong peak of G(r) may sit (Å).
G_PEAK_BAND_ANGSTROM = (0.9, 8.0)
#: Where the first strong peak of S(Q) or F(Q)/Q may sit (1/Å).
S_PEAK_BAND_INV_ANGSTROM = (0.75, 7.0)
#: Smallest plausible Guinier radius of gyration (Å).
MIN_RG_ANGSTROM = 2.0
#: Largest Q any instrument measures (1/Å).
MAX_Q_INV_ANGSTROM = 60.0
#: An I(Q) is searched for a Guinier region only when it starts below this Q (1/Å): a small-angle curve.
SMALL_ANGLE_Q_INV_ANGSTROM = 0.3
#: Guinier window: Q·R_g at its upper end, at least and at most.
GUINIER_QRG = (0.8, 1.3)
#: Guinier window: Q·R_g at the lowest Q, at most (the curve must start on the Guinier plateau).
GUINIER_START_QRG = 0.65

#: Library-unit value of 1 file unit, per abscissa unit (2θ is not a scale and is never suggested).
_SCALE = {"inv_angstrom": 1.0, "inv_nm": 0.1, "angstrom": 1.0, "nm": 10.0}
_PEAK_FRACTION = 0.7
_PROMINENCE = 0.05


@dataclass(frozen=True)
class UnitCheck:
    """What a curve's own features say about the unit its abscissa was read in.

    Attributes
    ----------
    verdict : {"plausible", "implausible", "undecided"}
        ``"undecided"``: the curve has no feature that fixes its scale.
    feature : str
        The feature looked at, in words (``"first strong G(r) peak"``, ``"Guinier R_g"``,
        ``"highest Q"``), or ``""`` when none was found.
    value : float or None
        The feature in the reader's units: Å for peaks in r and for R_g, 1/Å for Q.
    value_unit : str
        ``"Å"`` or ``"1/Å"`` (``""`` with no feature).
    expected : str
        The expected range in words, e.g. ``"0.9–8 Å"``.
    x_unit : str
        The unit the curve was read in (:data:`~swaxs_lib.io.measurement.X_UNITS`).
    unit_assumed : bool
        The file did not state the unit; the reader assumed 1/Å or Å.
    suggested_x_unit : str or None
        Another unit of the same domain under which the feature would be plausible.
    message : str
        One or two sentences naming the file, what was found, what was expected and what
        to do; ``""`` when the reading is plausible and the unit was stated.
    """

    verdict: str
    feature: str
    value: float | None
    value_unit: str
    expected: str
    x_unit: str
    unit_assumed: bool
    suggested_x_unit: str | None
    message: str

    @property
    def warn(self) -> bool:
        """Whether a person should look before saving (implausible, or the unit was assumed)."""
        return self.verdict == "implausible" or self.unit_assumed


@dataclass(frozen=True)
class _Finding:
    feature: str
    value: float
    value_unit: str
    band: tuple[float, float]
    power: int = 1  # how the feature scales with x: 1 for a place on the x axis, -1 for R_g from Q

    def at(self, scale: float) -> float:
        """The feature's value had x been ``scale`` times what was read."""
        return self.value * scale**self.power

    def inside(self, scale: float = 1.0) -> bool:
        low, high = self.band
        return low <= self.at(scale) <= high

    @property
    def expected(self) -> str:
        low, high = self.band
        if math.isinf(high):
            return f"at least {low:g} {self.value_unit}"
        if low <= 0:
            return f"at most {high:g} {self.value_unit}"
        return f"{low:g}–{high:g} {self.value_unit}"


def first_strong_peak(x: np.ndarray, y: np.ndarray) -> float | None:
    """x of the first strong peak of y (see the module docstring), or None without a peak.

    Parameters
    ----------
    x, y : numpy.ndarray (n,)
        Strictly increasing x and the curve.

    Examples
    --------
    >>> x = np.linspace(0, 10, 1001)
    >>> y = 0.5 * np.exp(-((x - 1) / 0.1) ** 2) + np.exp(-((x - 3) / 0.1) ** 2) + 0.9 * np.exp(-((x - 6) / 0.1) ** 2)
    >>> round(first_strong_peak(x, y), 2)
    3.0
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.size < 5:
        return None
    width = max(1, y.size // 300) | 1  # odd: a centred moving average
    smooth = np.convolve(y, np.ones(width) / width, mode="same") if width > 1 else y
    span = float(np.ptp(smooth))
    if not np.isfinite(span) or span <= 0:
        return None
    peaks, _ = find_peaks(smooth, prominence=_PROMINENCE * span)
    peaks = peaks[(peaks >= width) & (peaks < y.size - width)]  # the averaging distorts the ends
    if peaks.size == 0:
        return None
    height = smooth[peaks] - np.median(smooth)
    if height.max() <= 0:
        return None
    strong = peaks[height >= _PEAK_FRACTION * height.max()]
    return float(x[strong[0]])


def guinier_radius(q_inv_angstrom: np.ndarray, intensity: np.ndarray) -> float | None:
    """Radius of gyration from the Guinier region at the lowest Q, or None without one.

    Fits ln I = ln I(0) − (R_g²/3) Q² over the first n ≥ 5 points (positive I only) and
    keeps the longest window whose first point has Q·R_g ≤ 0.65, whose last point has
    Q·R_g in [0.8, 1.3], and whose r.m.s. residual is under a tenth of the fall of ln I
    across it.

    Parameters
    ----------
    q_inv_angstrom, intensity : numpy.ndarray (n,)
        Q (1/Å, strictly increasing) and I(Q).

    Returns
    -------
    float or None
        R_g in Å (in 1/(unit of q) if q is in another unit).

    Examples
    --------
    >>> q = np.linspace(0.005, 0.3, 200)
    >>> qr = q * 20.0
    >>> sphere = (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2  # R = 20 Å: R_g = 15.49 Å
    >>> round(guinier_radius(q, sphere), 1)  # 2 % above: the Guinier law's own error for a sphere at Q·R_g <= 1.3
    15.8
    """
    q = np.asarray(q_inv_angstrom, dtype=float)
    i = np.asarray(intensity, dtype=float)
    positive = np.isfinite(i) & (i > 0)
    end = q.size if positive.all() else int(np.argmin(positive))  # the region ends at the first I <= 0
    if end < 5:
        return None
    t, y = q[:end] ** 2, np.log(i[:end])
    # least squares of y = a + b t over the first n points, for every n at once
    n = np.arange(1, end + 1, dtype=float)
    st, sy, stt, sty = np.cumsum(t), np.cumsum(y), np.cumsum(t * t), np.cumsum(t * y)
    denominator = n * stt - st**2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (n * sty - st * sy) / denominator
        intercept = (sy - slope * st) / n
        rg = np.sqrt(-3.0 * slope)
    best = None
    for k in range(4, end):  # windows of k + 1 >= 5 points
        if not slope[k] < 0:
            continue
        qrg = q[k] * rg[k]
        if qrg > GUINIER_QRG[1] and best is not None:
            break  # the longest window that fits has been seen
        if not GUINIER_QRG[0] <= qrg <= GUINIER_QRG[1]:
            continue
        if q[0] * rg[k] > GUINIER_START_QRG:
            continue
        fall = -slope[k] * (t[k] - t[0])
        rms = math.sqrt(np.mean((y[: k + 1] - (intercept[k] + slope[k] * t[: k + 1])) ** 2))
        if rms <= 0.1 * fall:
            best = float(rg[k])
    return best


def _findings(m: Measurement) -> list[_Finding]:
    """The features that fix the scale (a peak, R_g) first, then the limits on Q."""
    if m.kind == "gr":
        peak = first_strong_peak(m.x, m.values)
        return [] if peak is None else [_Finding("first strong G(r) peak", peak, "Å", G_PEAK_BAND_ANGSTROM)]
    q = m.x
    found = []
    if m.kind in ("sq", "fq"):
        y = m.values if m.kind == "sq" else np.divide(m.values, q, out=np.zeros_like(q), where=q > 0)
        peak = first_strong_peak(q, y)
        if peak is not None:
            found.append(_Finding(f"first strong {'S(Q)' if m.kind == 'sq' else 'F(Q)/Q'} peak", peak, "1/Å",
                                  S_PEAK_BAND_INV_ANGSTROM))
    elif q[0] < SMALL_ANGLE_Q_INV_ANGSTROM and (rg := guinier_radius(q, m.values)) is not None:
        found.append(_Finding("Guinier R_g", rg, "Å", (MIN_RG_ANGSTROM, math.inf), power=-1))
    if m.wavelength_angstrom:
        found.append(_Finding("highest Q", float(q[-1]), "1/Å", (0.0, 4 * math.pi / m.wavelength_angstrom)))
    found.append(_Finding("highest Q", float(q[-1]), "1/Å", (0.0, MAX_Q_INV_ANGSTROM)))
    return found


def check_x_unit(measurement: Measurement) -> UnitCheck:
    """Say whether the curve's features are plausible in the unit it was read in.

    Parameters
    ----------
    measurement : Measurement
        As a reader returned it (x in 1/Å or Å; ``x_unit`` the file's unit; metadata
        ``x_unit_assumed = "true"`` when the file did not state it).

    Returns
    -------
    UnitCheck
        ``verdict`` ``"implausible"`` when a feature is outside its band (the first such
        feature is reported), ``"plausible"`` when a scale-fixing feature (a peak or R_g)
        is inside, else ``"undecided"``.

    Examples
    --------
    >>> q = np.linspace(0.01, 0.5, 300)   # a sphere of R = 20 Å with Q in 1/nm, read as 1/Å
    >>> qr = q * 20.0
    >>> i = (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2
    >>> m = Measurement("iq", q * 10, i, None, "np.dat", "inv_angstrom", metadata=(("x_unit_assumed", "true"),))
    >>> c = check_x_unit(m)
    >>> c.verdict, c.suggested_x_unit, round(c.value, 2)
    ('implausible', 'inv_nm', 1.58)
    """
    m = measurement
    assumed = dict(m.metadata).get("x_unit_assumed") == "true"
    findings = _findings(m)
    name = m.source
    domain = m.domain
    unit_word = "Q" if domain == "q" else "r"
    current = UNIT_TEXT[m.x_unit]
    alternatives = [u for u in _SCALE if UNIT_DOMAIN[u] == domain and u != m.x_unit]

    bad = next((f for f in findings if not f.inside()), None)
    if bad is not None:
        suggestion = None
        if m.x_unit in _SCALE:
            for unit in alternatives:
                scale = _SCALE[unit] / _SCALE[m.x_unit]
                if all(f.inside(scale) for f in findings):
                    suggestion = unit
                    break
        how = f"{current}, assumed (the file does not say)" if assumed else current
        verb = "is at" if "peak" in bad.feature else "is"
        message = f"{name}: read with {how}, the {bad.feature} {verb} {bad.value:.4g} {bad.value_unit}; " \
                  f"expected {bad.expected}."
        if suggestion is not None:
            scale = _SCALE[suggestion] / _SCALE[m.x_unit]
            message += (f" With {UNIT_TEXT[suggestion]} it would {'be at' if 'peak' in bad.feature else 'be'} "
                        f"{bad.at(scale):.4g} {bad.value_unit}: set the x unit to {UNIT_TEXT[suggestion]} "
                        "if the file is in it.")
        elif m.x_unit == "two_theta_deg":
            message += " Check the wavelength (2θ was converted with λ = " f"{m.wavelength_angstrom:g} Å)."
        else:
            message += f" No other unit of {unit_word} puts it there: check the file's {unit_word} column."
        return UnitCheck("implausible", bad.feature, bad.value, bad.value_unit, bad.expected, m.x_unit, assumed,
                         suggestion, message)

    deciding = [f for f in findings if f.feature != "highest Q"]
    if deciding:
        f = deciding[0]
        verdict, feature, value, value_unit, expected = "plausible", f.feature, f.value, f.value_unit, f.expected
        if assumed:
            others = [u for u in alternatives if all(g.inside(_SCALE[u] / _SCALE[m.x_unit]) for g in findings)]
            if others:
                other = UNIT_TEXT[others[0]]
                message = (f"{name}: the file does not state the unit of {unit_word}; read as {current}. "
                           f"The curve cannot tell: its {f.feature} is {f.value:.4g} {f.value_unit}, plausible read "
                           f"with {current} or with {other}. Set the x unit if it is not {current}.")
                verdict = "undecided"
            else:
                message = (f"{name}: the file does not state the unit of {unit_word}; read as {current}. "
                           f"The curve agrees: its {f.feature} is at {f.value:.4g} {f.value_unit} "
                           f"(expected {f.expected}).")
        else:
            message = ""
        return UnitCheck(verdict, feature, value, value_unit, expected, m.x_unit, assumed, None, message)

    message = ""
    if assumed:
        what = "no Guinier region" if m.kind == "iq" else "no strong peak"
        message = (f"{name}: the file does not state the unit of {unit_word}; read as {current}. The curve cannot "
                   f"tell: it has {what}, and its range, {m.x[0]:.4g}–{m.x[-1]:.4g}, is plausible in either unit. "
                   f"Set the x unit if it is not {current}.")
    return UnitCheck("undecided", "", None, "", "", m.x_unit, assumed, None, message)


__all__ = ["G_PEAK_BAND_ANGSTROM", "MAX_Q_INV_ANGSTROM", "MIN_RG_ANGSTROM", "S_PEAK_BAND_INV_ANGSTROM", "UnitCheck",
           "check_x_unit", "first_strong_peak", "guinier_radius"]
