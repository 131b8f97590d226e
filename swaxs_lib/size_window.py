"""A particle-size window from the measured curve alone: a G(r)'s coherence length, a SAXS I(Q)'s Guinier size.

The window is the first step of the one-click analysis (issue 17): the range of sizes in which candidate
structures are built.  It uses nothing but the data (no model, no ML prior); the analysis intersects it
with the prior's interval (:meth:`SizeWindow.intersect`).  Sizes follow docs/sizes.md
(:mod:`swaxs_lib.structures.sizes`): ``extent_angstrom`` (largest atom–atom distance) and
``volume_diameter_angstrom`` (the sphere of the particle's volume).

G(r): the coherence length rule
-------------------------------
1. Nearest-neighbour distance *d*: the position of the largest maximum of G(r) for r < 4 Å.
2. Envelope E(r): the running r.m.s. of G over a centred window one *d* wide (one period of the
   structure's slowest strong oscillation, so E does not follow single peaks).
3. Noise N: the r.m.s. of G over the tail's last half; the tail is the last :data:`TAIL_FRACTION`
   (25 %) of the r range, split in quarters (the floor, where a size distribution's last pairs
   have died too).
   Random errors of G(r) are nearly independent of r (Toby & Egami 1992: G = (2/π)∫F(Q) sin(Qr) dQ
   of errors white in Q has a variance independent of r), so one level serves the whole range.  When
   the file gives σ the level is max(that r.m.s., median σ of the tail): the point σ that PDF
   reduction programs write ignore the correlations between points and the systematic errors, and
   are often far below the scatter (CdSe 3 nm: σ 0.001, tail r.m.s. 0.010 1/Å²).
4. Coherence length L: the last r where E(r) > k N with k = :data:`K_NOISE` (3).  A one-*d* window
   of band-limited noise holds about d Q_max / π ≈ 20 independent values, so the chance that pure
   noise lifts the windowed r.m.s. to 3 times its level is negligible, while a real signal 3 times
   the noise is still unmistakable in a plot.
5. The signal is still strong at the end (no noise floor reached, G(r) of a particle larger than
   the r range, or bulk) when the tail r.m.s. exceeds :data:`OPEN_TAIL_RATIO` (5 %) of the largest
   envelope, or G still falls across the tail (the r.m.s. of its first quarter over its last >
   :data:`OPEN_DECAY_RATIO`, 3; a noise floor stays within ~1.5).  The window is then open: low
   bound = the r range minus d, high = inf.  A flat tail above 5 % is read the same way (a bulk
   G(r) with little damping, CdSe bulk, Ni neutron), though very noisy data land there too: the
   warning says so.

From L to the window (the margins were set on simulated clusters, tests/test_size_window.py): a
particle's G(r) signal ends at its extent (the largest pair distance), but it dies into the noise
before that: the sphere's characteristic function falls as (1 − r/D)² near D (Guinier & Fournet
1955), Q_damp multiplies by exp(−(Q_damp r)²/2) (Farrow & Billinge 2009; PDFgui manual), and
disorder or a size distribution (largest particles rare) damp the last pairs further.  The noise
edge can also run a little beyond the extent, by the envelope's half width and termination
ripples.  So the extent window is [L − LOW_MARGIN_D·d, HIGH_FACTOR·L + HIGH_MARGIN_D·d].  The
volume-equivalent diameter of a compact cluster lies between about 0.85 of the extent (a
decahedron, a flat particle) and the extent plus one d (a lattice sphere), so its window is
[0.85 low, high + d].

I(Q): the SAXS part when present (any usable Guinier region below Q = 0.5 1/Å): R_g from
:func:`swaxs_lib.saxs.guinier.guinier_fit`, the sphere of that R_g, diameter 2√(5/3) R_g, is a
volume-equivalent diameter; the window is that ± max(3σ, 15 %) (a non-spherical particle has a
larger R_g than the sphere of its volume: up to ~15 % for the shapes built here).  WAXS only:
a Scherrer estimate from the most significant peak at Q ≥ 1 1/Å (the weak ones
of a small particle are often its size fringes, narrower than the Bragg peaks),
D = 2π K / FWHM_Q with K = 1.0747 for the volume-equivalent sphere diameter (Langford & Wilson
1978).  Instrumental and strain broadening make it a lower bound: window [0.8 D, 3 D], with a
warning.  No peak: an open window with a warning.

References
----------
.. [1] B. H. Toby and T. Egami, "Accuracy of pair distribution function analysis applied to
   crystalline and non-crystalline materials", Acta Cryst. A48, 336 (1992).
.. [2] C. L. Farrow and S. J. L. Billinge, "Relationship between the atomic pair distribution
   function and small-angle scattering", Acta Cryst. A65, 232 (2009).
.. [3] A. Guinier and G. Fournet, Small-Angle Scattering of X-rays (Wiley, 1955).
.. [4] J. I. Langford and A. J. C. Wilson, "Scherrer after sixty years", J. Appl. Cryst. 11, 102 (1978).

Validation: tests/test_size_window.py (measured CdSe, Pt, Au144 and Ni PDFs against published and
attenuated-crystal sizes; 24 seeded simulated clusters of known extent, out of the margins' calibration
seeds: all 24 windows hold the extent and volume diameter, median width 0.82 x the extent; log-normal size
distributions up to 25 %: the window holds the number- and atom-weighted mean extents).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError

#: Fraction of the r range whose r.m.s. is the noise level.
TAIL_FRACTION = 0.25
#: The envelope must exceed K_NOISE times the noise for the signal to count.
K_NOISE = 3.0
#: Tail r.m.s. above this fraction of the largest envelope: the signal has not died (open window).
OPEN_TAIL_RATIO = 0.05
#: R.m.s. of the tail's first quarter over its last quarter above this: still decaying (open window).
OPEN_DECAY_RATIO = 3.0
#: Extent window [L - LOW_MARGIN_D d, HIGH_FACTOR L + HIGH_MARGIN_D d] (set on simulated clusters).
LOW_MARGIN_D = 1.0
HIGH_FACTOR = 1.75
HIGH_MARGIN_D = 1.0
#: Volume-equivalent diameter between VOLUME_LOW_FACTOR x extent and extent + d.
VOLUME_LOW_FACTOR = 0.85
#: Q below which an I(Q) has a SAXS part (1/Å).
SAXS_Q_MAX = 0.5
#: Lowest Q (1/Å) whose peaks are read as Bragg peaks for a Scherrer size.
WAXS_Q_MIN = 1.0
#: Scherrer constant for the FWHM and a sphere's volume-equivalent diameter (Langford & Wilson 1978).
SCHERRER_K_SPHERE = 1.0747

GR_RULE = (f"coherence length L = last r where the running r.m.s. of G(r) over one nearest-neighbour distance d "
           f"exceeds {K_NOISE:g} x the noise (r.m.s. of the last {TAIL_FRACTION / 2:.1%} of the r range, or the "
           f"file's median σ if larger); extent in [L - {LOW_MARGIN_D:g} d, {HIGH_FACTOR:g} L + {HIGH_MARGIN_D:g} d] "
           f"(damping, the sphere's (1 - r/D)^2 edge, size distribution; set on simulated clusters); "
           f"volume-equivalent diameter in [{VOLUME_LOW_FACTOR:g} x low, high + d]")


@dataclass(frozen=True)
class SizeWindow:
    """Sizes the data allow, in the conventions of docs/sizes.md (Å); ``inf`` high bound = open-ended.

    Attributes
    ----------
    method : str
        ``"coherence_length"`` (G(r)), ``"guinier"`` (SAXS), ``"scherrer"`` (WAXS peaks) or ``"none"``.
    extent_low_angstrom, extent_high_angstrom : float
        Window of the largest atom–atom distance.
    volume_diameter_low_angstrom, volume_diameter_high_angstrom : float
        Window of the volume-equivalent sphere diameter.
    estimate_angstrom : float
        The rule's central number: the coherence length (an extent), the Guinier sphere diameter or
        the Scherrer size (volume-equivalent diameters); NaN when the data give none.
    open_ended : bool
        True when the data give only a lower bound (or nothing).
    noise_level : float
        The noise level the rule used (G(r): 1/Å²; NaN otherwise).
    nearest_neighbour_angstrom : float
        *d* (G(r) only; NaN otherwise).
    rule : str
        The rule in words, with its constants.
    warnings : tuple of str
        What the data cannot decide.
    """

    method: str
    extent_low_angstrom: float
    extent_high_angstrom: float
    volume_diameter_low_angstrom: float
    volume_diameter_high_angstrom: float
    estimate_angstrom: float
    open_ended: bool
    noise_level: float
    nearest_neighbour_angstrom: float
    rule: str
    warnings: tuple[str, ...] = ()

    def interval(self, size: str = "extent_angstrom") -> tuple[float, float]:
        """(low, high) of ``"extent_angstrom"`` or ``"volume_diameter_angstrom"``."""
        if size == "extent_angstrom":
            return self.extent_low_angstrom, self.extent_high_angstrom
        if size == "volume_diameter_angstrom":
            return self.volume_diameter_low_angstrom, self.volume_diameter_high_angstrom
        raise SwaxsInputError(f"size: got {size!r}; expected 'extent_angstrom' or 'volume_diameter_angstrom'")

    def intersect(self, low: float, high: float, size: str = "extent_angstrom") -> tuple[float, float] | None:
        """This window's ``size`` interval intersected with (low, high) (e.g. the ML prior's); None if disjoint."""
        a, b = self.interval(size)
        lo, hi = max(a, float(low)), min(b, float(high))
        return (lo, hi) if lo <= hi else None

    def to_dict(self) -> dict:
        """JSON-able dict (inf written as None)."""
        return {k: (list(v) if isinstance(v, tuple) else (None if isinstance(v, float) and math.isinf(v) else v))
                for k, v in self.__dict__.items()}


def size_window(measurement) -> SizeWindow:
    """The size window of a :class:`~swaxs_lib.io.Measurement`: G(r) by coherence length, I(Q) by Guinier/Scherrer.

    Raises
    ------
    SwaxsInputError
        For S(Q) and F(Q) curves (no size rule here) and for curves the rules cannot read.

    Examples
    --------
    >>> from swaxs_lib.io import read_measurement
    >>> w = size_window(read_measurement("tests/data/cdse_np_pdfgui/CdSe-3nm.gr"))
    >>> w.method, round(w.estimate_angstrom), [round(x) for x in w.interval("volume_diameter_angstrom")]
    ('coherence_length', 28, [22, 55])
    >>> w.intersect(20.0, 40.0, "volume_diameter_angstrom") is not None   # e.g. with the ML prior's interval
    True
    """
    if measurement.kind == "gr":
        sigma = None if measurement.uncertainties is None else measurement.uncertainties
        return gr_size_window(measurement.x, measurement.values, sigma, source=measurement.source)
    if measurement.kind == "iq":
        return iq_size_window(measurement.x, measurement.values, measurement.uncertainties, source=measurement.source)
    raise SwaxsInputError(f"{measurement.source}: kind {measurement.kind!r}; expected a G(r) ('gr') or an I(Q) ('iq')")


def _nearest_neighbour(r: np.ndarray, g: np.ndarray, source: str) -> float:
    inside = (r > 1.5) & (r < 4.0)
    if inside.sum() < 5:
        raise SwaxsInputError(f"{source}: G(r) has {int(inside.sum())} points between 1.5 and 4 Å; expected the "
                              "first coordination shell to be sampled")
    return float(r[inside][np.argmax(g[inside])])


def gr_size_window(r_angstrom, g, sigma=None, *, source: str = "G(r)") -> SizeWindow:
    """The size window of a measured G(r) from its coherence length (the rule of the module docstring).

    Parameters
    ----------
    r_angstrom : array_like (n,)
        r (Å), increasing and evenly spaced.
    g : array_like (n,)
        G(r) (1/Å²).
    sigma : array_like (n,), optional
        The file's σ of G; used as a floor of the noise level.
    source : str
        Name used in messages.

    Returns
    -------
    SizeWindow
    """
    r = np.asarray(r_angstrom, dtype=float)
    g = np.asarray(g, dtype=float)
    if r.shape != g.shape or r.ndim != 1 or len(r) < 50 or not (np.all(np.isfinite(r)) and np.all(np.isfinite(g))):
        raise SwaxsInputError(f"{source}: got {len(g)} G(r) values; expected at least 50 finite (r, G) pairs")
    dr = np.diff(r)
    if np.any(dr <= 0) or dr.max() > 1.5 * dr.min() + 1e-9:
        raise SwaxsInputError(f"{source}: r steps from {dr.min():.4g} to {dr.max():.4g} Å; expected an even, "
                              "increasing grid")
    step = float(np.median(dr))
    d = _nearest_neighbour(r, g, source)
    width = max(3, int(round(d / step)))
    envelope = np.sqrt(np.convolve(g**2, np.ones(width) / width, mode="same"))
    tail = r >= r[-1] - TAIL_FRACTION * (r[-1] - r[0])
    if tail.sum() < width:
        raise SwaxsInputError(f"{source}: r range {r[0]:.3g}–{r[-1]:.3g} Å; expected a tail of at least one "
                              f"nearest-neighbour distance ({d:.3g} Å) in its last {TAIL_FRACTION:.0%}")
    quarters = [np.sqrt(np.mean(g[part] ** 2)) for part in np.array_split(np.flatnonzero(tail), 4)]
    noise = float(np.sqrt((quarters[2] ** 2 + quarters[3] ** 2) / 2))  # the tail's last half: the floor
    warnings = []
    if sigma is not None:
        s = np.asarray(sigma, dtype=float)[tail]
        s = s[np.isfinite(s) & (s > 0)]
        if len(s):
            noise = max(noise, float(np.median(s)))
    decay = float(quarters[0] / max(quarters[3], 1e-300))
    peak = float(envelope[r > 1.0].max())
    if noise > OPEN_TAIL_RATIO * peak or decay > OPEN_DECAY_RATIO:
        r_max = float(r[-1])
        warnings.append(f"G(r) is still strong at the end of the data (tail r.m.s. {noise / peak:.1%} of the largest "
                        f"envelope, falling by {decay:.2f}x across the tail): the particle may be larger than the r "
                        f"range ({r_max:.1f} Å) or bulk; the window is open-ended")
        if decay <= OPEN_DECAY_RATIO:
            warnings.append("the tail is flat: it may also be noise too strong to show where the signal ends "
                            f"(signal-to-noise {peak / noise:.0f}); then the data give no size at all")
        return SizeWindow("coherence_length", r_max - LOW_MARGIN_D * d, math.inf,
                          VOLUME_LOW_FACTOR * (r_max - LOW_MARGIN_D * d), math.inf, math.nan, True, noise, d,
                          GR_RULE, tuple(warnings))
    above = np.flatnonzero((envelope > K_NOISE * noise) & (r > 1.0))
    length = float(r[above[-1]])
    low = max(length - LOW_MARGIN_D * d, d)
    high = HIGH_FACTOR * length + HIGH_MARGIN_D * d
    if length > r[tail][0]:
        warnings.append(f"the coherence length ({length:.1f} Å) lies in the tail used for the noise level: the noise "
                        "may be overestimated and the window too small; measure to larger r")
    warnings.append("the coherence length is the size of the ordered part: a disordered shell (ligands, oxide, "
                    "a strained surface) or a broad size distribution can make the particle larger than the window")
    return SizeWindow("coherence_length", low, high, VOLUME_LOW_FACTOR * low, high + d, length, False, noise, d,
                      GR_RULE, tuple(warnings))


def iq_size_window(q_inv_angstrom, intensity, sigma=None, *, source: str = "I(Q)") -> SizeWindow:
    """The size window of an I(Q): Guinier on a SAXS part, else Scherrer on WAXS peaks (module docstring).

    Parameters
    ----------
    q_inv_angstrom, intensity : array_like (n,)
        Q (1/Å, increasing) and I(Q).
    sigma : array_like (n,), optional
        σ of I.
    source : str
        Name used in messages.

    Returns
    -------
    SizeWindow
    """
    import warnings as _warnings

    from swaxs_lib.saxs.guinier import GuinierRefusal, guinier_fit
    from swaxs_lib.saxs.peaks import find_peaks

    q = np.asarray(q_inv_angstrom, dtype=float)
    i = np.asarray(intensity, dtype=float)
    notes = []
    if len(q) and q[0] < SAXS_Q_MAX:
        try:
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore")
                fit = guinier_fit(q, i, sigma)
        except GuinierRefusal as exc:
            notes.append(f"no Guinier region: {exc}")
        else:
            diameter = 2.0 * fit.sphere_radius_angstrom
            margin = max(3.0 * 2.0 * fit.sphere_radius_angstrom_sigma, 0.15 * diameter)
            lo, hi = max(diameter - margin, 0.0), diameter + margin
            rule = ("Guinier R_g -> sphere diameter 2 sqrt(5/3) R_g as the volume-equivalent diameter, +- max(3 sigma, "
                    "15 %); extent taken in [0.85 low, high + 3 Å] (one atomic diameter beyond)")
            return SizeWindow("guinier", 0.85 * lo, hi + 3.0, lo, hi, diameter, False, math.nan, math.nan, rule,
                              tuple(fit.warnings) + ("R_g is the electron density's: a ligand shell or solvent "
                                                     "contrast changes it",))
    else:
        notes.append(f"no SAXS part (Q_min {q[0]:.3g} 1/Å >= {SAXS_Q_MAX})" if len(q) else "empty curve")
    wide = q >= WAXS_Q_MIN  # Bragg peaks only: a SAXS structure-factor or lamellar peak is no crystallite size
    search = None
    if wide.sum() >= 50:
        try:
            search = find_peaks(q[wide], i[wide], None if sigma is None else np.asarray(sigma, dtype=float)[wide])
        except SwaxsInputError as exc:
            notes.append(f"no peaks: {exc}")
    else:
        notes.append(f"fewer than 50 points at Q >= {WAXS_Q_MIN} 1/Å: no Bragg peaks to read a Scherrer size from")
    if search is not None and search.peaks:
        strongest = max(search.peaks, key=lambda p: p.significance)
        size = 2.0 * math.pi * SCHERRER_K_SPHERE / strongest.fwhm_inv_angstrom
        notes.append(f"Scherrer size from the most significant peak (Q = {strongest.q_inv_angstrom:.3f} 1/Å): "
                     "instrumental and strain broadening make it a lower bound; the window reaches 3 times it")
        rule = (f"Scherrer D = 2 pi K / FWHM_Q, K = {SCHERRER_K_SPHERE} (sphere, volume-equivalent diameter), most "
                "significant peak (weak ones are often a small particle's size fringes); window [0.8 D, 3 D]")
        return SizeWindow("scherrer", 0.8 * size * VOLUME_LOW_FACTOR, 3.0 * size + 3.0, 0.8 * size, 3.0 * size, size,
                          False, math.nan, math.nan, rule, tuple(notes))
    notes.append("the data give no size: open window")
    return SizeWindow("none", 0.0, math.inf, 0.0, math.inf, math.nan, True, math.nan, math.nan,
                      "no SAXS part and no significant peak: no size from the data", tuple(notes))
