"""Data corrections on measured curves: background subtraction, trimming, rebinning.

Every function is pure: it takes :class:`~swaxs_lib.io.measurement.Measurement`
objects, never changes them, and returns a new one (``dataclasses.replace``)
whose ``metadata`` gains a ``("corrections", "...")`` entry saying what was done,
so a reduced curve carries its own recipe.

Background subtraction follows the standard SAXS reduction [1]_

    I(Q) = [ I_s(Q) / T_s  -  scale * I_b(Q) / T_b ] / d

with T the transmissions (dimensionless, default 1) and d the sample thickness
(cm, optional; with it the result is per cm).  The two curves rarely share a Q
grid, so one is linearly interpolated onto the other's points inside their
overlap.  Uncertainties (one standard deviation) add in quadrature; an
interpolated value y = w0 y0 + w1 y1 has sigma^2 = w0^2 sigma0^2 + w1^2 sigma1^2.
Neighbouring interpolated points share raw points and are therefore
correlated; only the marginal sigma is reported.  Transmissions, thickness and
scale are treated as exact.

Validation: tests/test_corrections.py checks the elementwise formula, a manual
``numpy.interp`` on shifted grids, the propagated sigma against the closed
form and a seeded Monte-Carlo estimate, and rebinning against closed forms
for linear functions and equal uncertainties.

References
----------
.. [1] B. R. Pauw, "Everything SAXS: small-angle scattering pattern collection
   and correction", J. Phys.: Condens. Matter 25, 383201 (2013).

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io.measurement import Measurement
>>> q = np.array([0.1, 0.2, 0.3])
>>> s = Measurement("iq", q, np.array([5.0, 4.0, 3.0]), None, "sample.dat", "inv_angstrom")
>>> b = Measurement("iq", q, np.array([1.0, 1.0, 1.0]), None, "buffer.dat", "inv_angstrom")
>>> subtract_background(s, b, scale=0.5).values
array([4.5, 3.5, 2.5])
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement

#: Grids a subtraction can be evaluated on.
GRIDS = ("sample", "background")

#: Bin-edge spacings for :func:`rebin`.
SPACINGS = ("log", "linear")


# ---------------------------------------------------------------- helpers


def _arrays(m: Measurement, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """x, values, uncertainties as float arrays, checked for shape and order."""
    if not isinstance(m, Measurement):
        raise SwaxsInputError(f"{name}: got {type(m).__name__}; expected a Measurement")
    x = np.asarray(m.x, dtype=float)
    y = np.asarray(m.values, dtype=float)
    if x.ndim != 1 or y.shape != x.shape:
        raise SwaxsInputError(
            f"{name} ({m.source}): x has shape {x.shape}, values {y.shape}; expected equal 1-D shapes"
        )
    if not np.all(np.isfinite(x)) or np.any(np.diff(x) <= 0):
        raise SwaxsInputError(f"{name} ({m.source}): x is not finite and strictly increasing")
    sigma = None
    if m.uncertainties is not None:
        sigma = np.asarray(m.uncertainties, dtype=float)
        if sigma.shape != x.shape:
            raise SwaxsInputError(
                f"{name} ({m.source}): uncertainties have shape {sigma.shape}; expected {x.shape}"
            )
    return x, y, sigma


def _real(value: object, name: str) -> float:
    """A finite float, or SwaxsInputError naming the parameter."""
    if isinstance(value, bool):
        raise SwaxsInputError(f"{name} = {value!r}; expected a finite number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SwaxsInputError(f"{name} = {value!r}; expected a finite number") from None
    if not math.isfinite(number):
        raise SwaxsInputError(f"{name} = {value!r}; expected a finite number")
    return number


def _transmission(value: float | None, name: str) -> float:
    if value is None:
        return 1.0
    t = _real(value, name)
    if not 0.0 < t <= 1.0:
        raise SwaxsInputError(f"{name} = {value!r}; expected a transmission in (0, 1]")
    return t


def _with_note(m: Measurement, note: str, **changes) -> Measurement:
    return replace(m, metadata=tuple(m.metadata) + (("corrections", note),), **changes)


def _interpolate(
    x_from: np.ndarray, y_from: np.ndarray, sigma_from: np.ndarray | None, x_to: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Linear interpolation of (y, sigma) onto ``x_to``, all within [x_from[0], x_from[-1]].

    y = w0 y[i] + w1 y[i+1] with w1 = (x - x[i]) / (x[i+1] - x[i]), w0 = 1 - w1;
    sigma^2 = w0^2 sigma[i]^2 + w1^2 sigma[i+1]^2.
    """
    i = np.clip(np.searchsorted(x_from, x_to, side="right") - 1, 0, len(x_from) - 2)
    w1 = (x_to - x_from[i]) / (x_from[i + 1] - x_from[i])
    w0 = 1.0 - w1
    y = w0 * y_from[i] + w1 * y_from[i + 1]
    if sigma_from is None:
        return y, None
    return y, np.sqrt((w0 * sigma_from[i]) ** 2 + (w1 * sigma_from[i + 1]) ** 2)


# ---------------------------------------------------------------- public API


def subtract_background(
    sample: Measurement,
    background: Measurement,
    *,
    scale: float = 1.0,
    sample_transmission: float | None = None,
    background_transmission: float | None = None,
    thickness_cm: float | None = None,
    grid: str = "sample",
) -> Measurement:
    """Subtract a scaled, transmission-corrected background from a sample curve.

    I(Q) = [I_s(Q) / T_s - scale * I_b(Q) / T_b] / d

    Parameters
    ----------
    sample, background : Measurement
        Q-space curves of the same kind (``"iq"``, ``"sq"`` or ``"fq"``);
        Q in 1/Å.
    scale : float, optional
        Multiplier of the background (dimensionless, finite, >= 0), e.g. the
        solvent volume fraction.  Default 1.
    sample_transmission, background_transmission : float or None, optional
        T_s, T_b (dimensionless, in (0, 1]); None means 1 (no correction).
    thickness_cm : float or None, optional
        Sample thickness d (cm, > 0).  When given the values are divided by it
        and the result is per cm; the metadata records ``("values_unit",
        "per cm of sample thickness")``.
    grid : {"sample", "background"}, optional
        Whose Q points the result lies on.  The other curve is linearly
        interpolated onto those points; points outside the other curve's Q
        range are dropped.  Default ``"sample"``.

    Returns
    -------
    Measurement
        A copy of ``sample`` (same kind, source, header) with the subtracted
        values on the chosen grid's overlap.  Uncertainties (one standard
        deviation) add in quadrature, those of the interpolated curve
        propagated through the interpolation weights,
        sigma^2 = [sigma_s^2 / T_s^2 + scale^2 sigma_b^2 / T_b^2] / d^2;
        a curve without uncertainties contributes none, and the result has
        None only when neither curve had any.  Transmissions, thickness and
        scale count as exact.

    Raises
    ------
    SwaxsInputError
        G(r) data, kinds that differ, an unknown ``grid``, a negative or
        non-finite ``scale``, a transmission outside (0, 1], a thickness
        <= 0, or a Q overlap of fewer than 2 points (the message names both
        files).

    References
    ----------
    .. [1] B. R. Pauw, J. Phys.: Condens. Matter 25, 383201 (2013), Sec. 3.

    Examples
    --------
    >>> import numpy as np
    >>> from swaxs_lib.io.measurement import Measurement
    >>> s = Measurement("iq", np.array([0.1, 0.2, 0.3, 0.4]), np.array([9.0, 8.0, 7.0, 6.0]),
    ...                 None, "s.dat", "inv_angstrom")
    >>> b = Measurement("iq", np.array([0.15, 0.25, 0.35]), np.array([2.0, 4.0, 6.0]),
    ...                 None, "b.dat", "inv_angstrom")
    >>> out = subtract_background(s, b, sample_transmission=0.5)
    >>> out.x, out.values
    (array([0.2, 0.3]), array([13.,  9.]))
    >>> out.metadata[-1]
    ('corrections', 'subtract(b.dat, scale=1, sample_transmission=0.5)')
    """
    xs, ys, ss = _arrays(sample, "sample")
    xb, yb, sb = _arrays(background, "background")
    for name, m in (("sample", sample), ("background", background)):
        if m.domain != "q":
            raise SwaxsInputError(
                f"{name} ({m.source}): kind {m.kind!r} is r-space G(r); "
                "background subtraction needs a Q-space curve (iq, sq or fq)"
            )
    if sample.kind != background.kind:
        raise SwaxsInputError(
            f"background ({background.source}): kind {background.kind!r}; "
            f"expected {sample.kind!r}, the kind of sample ({sample.source})"
        )
    if grid not in GRIDS:
        raise SwaxsInputError(f"grid = {grid!r}; expected one of {', '.join(GRIDS)}")
    k = _real(scale, "scale")
    if k < 0:
        raise SwaxsInputError(f"scale = {scale!r}; expected a finite number >= 0")
    t_s = _transmission(sample_transmission, "sample_transmission")
    t_b = _transmission(background_transmission, "background_transmission")
    d = 1.0
    if thickness_cm is not None:
        d = _real(thickness_cm, "thickness_cm")
        if d <= 0:
            raise SwaxsInputError(f"thickness_cm = {thickness_cm!r}; expected a thickness > 0 cm")

    # The target grid keeps its own points; the other curve is interpolated.
    if grid == "sample":
        keep = (xs >= xb[0]) & (xs <= xb[-1])
        x = xs[keep]
    else:
        keep = (xb >= xs[0]) & (xb <= xs[-1])
        x = xb[keep]
    if x.size < 2:
        raise SwaxsInputError(
            f"sample ({sample.source}, Q {xs[0]:g}–{xs[-1]:g} 1/Å) and background "
            f"({background.source}, Q {xb[0]:g}–{xb[-1]:g} 1/Å) share {x.size} point(s) "
            f"on the {grid} grid; expected at least 2"
        )
    if grid == "sample":
        i_s, sig_s = ys[keep], None if ss is None else ss[keep]
        i_b, sig_b = _interpolate(xb, yb, sb, x)
    else:
        i_b, sig_b = yb[keep], None if sb is None else sb[keep]
        i_s, sig_s = _interpolate(xs, ys, ss, x)

    values = (i_s / t_s - k * i_b / t_b) / d
    if sig_s is None and sig_b is None:
        sigma = None
    else:
        var = np.zeros_like(values)
        if sig_s is not None:
            var += (sig_s / t_s) ** 2
        if sig_b is not None:
            var += (k * sig_b / t_b) ** 2
        sigma = np.sqrt(var) / d

    parts = [background.source, f"scale={k:g}"]
    if sample_transmission is not None:
        parts.append(f"sample_transmission={t_s:g}")
    if background_transmission is not None:
        parts.append(f"background_transmission={t_b:g}")
    if thickness_cm is not None:
        parts.append(f"thickness_cm={d:g}")
    if grid != "sample":
        parts.append(f"grid={grid}")
    out = _with_note(sample, f"subtract({', '.join(parts)})", x=x, values=values, uncertainties=sigma)
    if thickness_cm is not None:
        out = replace(out, metadata=out.metadata + (("values_unit", "per cm of sample thickness"),))
    return out


def trim(m: Measurement, x_min: float | None = None, x_max: float | None = None) -> Measurement:
    """Keep the points with x_min <= x <= x_max (both ends inclusive).

    Parameters
    ----------
    m : Measurement
        Any kind; x is Q (1/Å) or r (Å).
    x_min, x_max : float or None, optional
        Bounds in the units of ``m.x``; None leaves that side open.

    Returns
    -------
    Measurement
        A copy of ``m`` holding the kept points (uncertainties sliced alike).

    Raises
    ------
    SwaxsInputError
        A non-finite bound, x_min > x_max, or fewer than 2 points left.

    Examples
    --------
    >>> import numpy as np
    >>> from swaxs_lib.io.measurement import Measurement
    >>> m = Measurement("gr", np.arange(1.0, 6.0), np.zeros(5), None, "g.gr", "angstrom")
    >>> trim(m, 2.0, 4.0).x
    array([2., 3., 4.])
    """
    x, y, sigma = _arrays(m, "m")
    lo = -np.inf if x_min is None else _real(x_min, "x_min")
    hi = np.inf if x_max is None else _real(x_max, "x_max")
    if lo > hi:
        raise SwaxsInputError(f"x_min = {x_min!r} > x_max = {x_max!r}; expected x_min <= x_max")
    keep = (x >= lo) & (x <= hi)
    n = int(keep.sum())
    if n < 2:
        raise SwaxsInputError(
            f"{m.source}: trim(x_min={x_min!r}, x_max={x_max!r}) leaves {n} point(s) of "
            f"x {x[0]:g}–{x[-1]:g}; expected at least 2"
        )
    note = f"trim(x_min={'None' if x_min is None else f'{lo:g}'}, x_max={'None' if x_max is None else f'{hi:g}'})"
    return _with_note(
        m, note, x=x[keep], values=y[keep], uncertainties=None if sigma is None else sigma[keep]
    )


def rebin(
    m: Measurement,
    n_points: int,
    spacing: str = "log",
    x_min: float | None = None,
    x_max: float | None = None,
) -> Measurement:
    """Average a curve into ``n_points`` bins with log- or linear-spaced edges.

    The edges split [x_min, x_max] into ``n_points`` bins, equal in x
    (``"linear"``) or in log x (``"log"``).  Bin k holds the points with
    edge[k] <= x < edge[k+1]; the last bin also holds x = x_max.  Each
    non-empty bin gives one point:

    * x = the mean of the x in the bin (not the bin centre, so that a curve
      linear within a bin keeps its value there, however the points fall);
    * value = the mean of the values;
    * uncertainty = sqrt(sum sigma_i^2) / n, the standard deviation of the
      mean of n independent values, or None when ``m`` had none (the scatter
      within a bin is not turned into an uncertainty).

    Empty bins are dropped, so the result may have fewer than ``n_points``.

    Parameters
    ----------
    m : Measurement
        Any kind; x is Q (1/Å) or r (Å).
    n_points : int
        Number of bins (>= 2).
    spacing : {"log", "linear"}, optional
        Spacing of the edges.  Default ``"log"``, which needs x_min > 0.
    x_min, x_max : float or None, optional
        Range to bin, in the units of ``m.x``; default the first and last x.
        Points outside are discarded.

    Returns
    -------
    Measurement
        A copy of ``m`` with the binned points.

    Raises
    ------
    SwaxsInputError
        ``n_points`` not an integer >= 2, an unknown ``spacing``, a
        non-finite range or x_min >= x_max, x_min <= 0 with log spacing, or
        fewer than 2 non-empty bins.

    Examples
    --------
    >>> import numpy as np
    >>> from swaxs_lib.io.measurement import Measurement
    >>> m = Measurement("iq", np.arange(1.0, 9.0), np.arange(1.0, 9.0), np.ones(8),
    ...                 "s.dat", "inv_angstrom")
    >>> out = rebin(m, 2, "linear")
    >>> out.x, out.values, out.uncertainties
    (array([2.5, 6.5]), array([2.5, 6.5]), array([0.5, 0.5]))
    """
    x, y, sigma = _arrays(m, "m")
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise SwaxsInputError(f"n_points = {n_points!r}; expected an integer >= 2")
    if spacing not in SPACINGS:
        raise SwaxsInputError(f"spacing = {spacing!r}; expected one of {', '.join(SPACINGS)}")
    lo = float(x[0]) if x_min is None else _real(x_min, "x_min")
    hi = float(x[-1]) if x_max is None else _real(x_max, "x_max")
    if lo >= hi:
        raise SwaxsInputError(f"x_min = {lo:g}, x_max = {hi:g}; expected x_min < x_max")
    if spacing == "log" and lo <= 0:
        raise SwaxsInputError(
            f"x_min = {lo:g}{' (the first x of ' + m.source + ')' if x_min is None else ''}; "
            "log spacing needs x_min > 0 (pass x_min or spacing='linear')"
        )
    edges = np.geomspace(lo, hi, n_points + 1) if spacing == "log" else np.linspace(lo, hi, n_points + 1)
    edges[0], edges[-1] = lo, hi

    inside = (x >= lo) & (x <= hi)
    xi, yi = x[inside], y[inside]
    # searchsorted "right" puts x == edge[k] into bin k; x == x_max joins the last bin.
    index = np.minimum(np.searchsorted(edges, xi, side="right") - 1, n_points - 1)
    counts = np.bincount(index, minlength=n_points)
    filled = counts > 0
    if int(filled.sum()) < 2:
        raise SwaxsInputError(
            f"{m.source}: rebin(n_points={n_points}, spacing={spacing!r}) over x {lo:g}–{hi:g} "
            f"fills {int(filled.sum())} bin(s); expected at least 2"
        )
    n = counts[filled]
    x_new = np.bincount(index, weights=xi, minlength=n_points)[filled] / n
    y_new = np.bincount(index, weights=yi, minlength=n_points)[filled] / n
    s_new = None
    if sigma is not None:
        s_new = np.sqrt(np.bincount(index, weights=sigma[inside] ** 2, minlength=n_points)[filled]) / n
    note = f"rebin(n_points={n_points}, spacing={spacing}, x_min={lo:g}, x_max={hi:g})"
    return _with_note(m, note, x=x_new, values=y_new, uncertainties=s_new)
