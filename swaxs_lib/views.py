"""How a measured curve is drawn: log/linear, Kratky, Porod and Guinier views, with units.

A view turns a :class:`~swaxs_lib.io.measurement.Measurement` into the (x, y)
that a plot shows, the axis labels with their units, whether each axis is
logarithmic, and the CSV column names (units in the names) of the same numbers.
Pages draw a :class:`CurveView`; they compute nothing themselves.

I(Q) views (Q in 1/Å, I in the measurement's units, "a.u." when the file does not
say):

========== ============== ============== =====================================
view       x              y              reads off
========== ============== ============== =====================================
log-log    Q (log)        I (log)        power laws as straight lines
lin-lin    Q              I
log-lin    Q              I (log)        exponential decays
kratky     Q              Q² I           folded (peak) vs unfolded (plateau)
porod      Q              Q⁴ I           Porod plateau 2π Δρ² S/V of sharp
                                         interfaces
guinier    Q²             ln I           slope -Rg²/3 at Q Rg < 1.3
========== ============== ============== =====================================

S(Q) (dimensionless), F(Q) (1/Å) and G(r) (1/Å²) have one linear view,
``"lin-lin"``.  Uncertainties (one standard deviation) are carried through each
transformation to first order: sigma(Q^n I) = Q^n sigma(I) and
sigma(ln I) = sigma(I) / I.  Points that a logarithmic axis cannot show
(I <= 0, Q <= 0) are dropped and counted in :attr:`CurveView.n_dropped`.

References
----------
.. [1] O. Glatter and O. Kratky (eds.), *Small Angle X-ray Scattering*,
   Academic Press (1982), ch. 2 (Guinier law) and ch. 3 (Porod law).
.. [2] B. R. Pauw, J. Phys.: Condens. Matter 25, 383201 (2013).

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io.measurement import Measurement
>>> m = Measurement("iq", np.array([0.1, 0.2]), np.array([50.0, 4.0]), None, "au.dat", "inv_angstrom")
>>> v = view_curve(m, "kratky")
>>> v.x_label, v.y_label, v.y.round(6).tolist()
('Q (1/Å)', 'Q² I(Q) (1/Å² · a.u.)', [0.5, 0.16])
>>> list(v.columns())
['q_inv_angstrom', 'q2_intensity_inv_angstrom2']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import KINDS, VALUE_COLUMNS, X_COLUMNS, Measurement

#: Views of an I(Q) curve, the first the default.
IQ_VIEWS = ("log-log", "lin-lin", "log-lin", "kratky", "porod", "guinier")

#: Views per kind, the first of each the default.
VIEWS = {"iq": IQ_VIEWS, "sq": ("lin-lin",), "fq": ("lin-lin",), "gr": ("lin-lin",)}

#: Every view name any kind has.
ALL_VIEWS = IQ_VIEWS

#: What each view is called in a menu.
VIEW_TITLES = {
    "log-log": "log I vs log Q",
    "lin-lin": "linear",
    "log-lin": "log I vs Q",
    "kratky": "Kratky (Q² I vs Q)",
    "porod": "Porod (Q⁴ I vs Q)",
    "guinier": "Guinier (ln I vs Q²)",
}


#: Axis label of the values, per kind, for the kinds whose unit is fixed.
_VALUE_LABELS = {"sq": "S(Q)", "fq": "F(Q) (1/Å)", "gr": "G(r) (1/Å²)"}

#: Units a reader may record for intensities (``metadata["y_unit"]``), as axis text.
_INTENSITY_UNITS = {"1/cm": "1/cm", "cm^-1": "1/cm", "1/m": "1/m", "m^-1": "1/m", "a.u.": "a.u.",
                    "arb": "a.u.", "arbitrary": "a.u.", "counts": "counts"}


#: Formats that hold I(Q) by definition, so a default kind is no guess.
_IQ_FORMATS = ("canSAS XML", "NXcanSAS")


@dataclass(frozen=True)
class CurveView:
    """A curve as one view draws it.

    Attributes
    ----------
    view : str
        The view's name, one of :data:`VIEWS` for the measurement's kind.
    x, y : numpy.ndarray (n,)
        What the axes show (already transformed, e.g. Q² and ln I for Guinier).
    y_uncertainty : numpy.ndarray (n,) or None
        One standard deviation of ``y``, in ``y``'s units; None when the
        measurement had none.
    x_label, y_label : str
        Axis titles with units, e.g. ``"Q (1/Å)"``, ``"Q² I(Q) (1/Å² · a.u.)"``.
    x_log, y_log : bool
        Whether the axis is logarithmic.
    x_column, y_column : str
        CSV column names with units, e.g. ``"q2_inv_angstrom2"``, ``"ln_intensity"``.
    n_dropped : int
        Points of the measurement (inside the x range) that a logarithmic
        axis could not show (non-positive value or abscissa).
    """

    view: str
    x: np.ndarray
    y: np.ndarray
    y_uncertainty: np.ndarray | None
    x_label: str
    y_label: str
    x_log: bool
    y_log: bool
    x_column: str
    y_column: str
    n_dropped: int = 0

    def columns(self) -> dict[str, np.ndarray]:
        """The plotted numbers as CSV columns (``<y column>_sigma``: one standard deviation of y)."""
        columns = {self.x_column: self.x, self.y_column: self.y}
        if self.y_uncertainty is not None:
            columns[f"{self.y_column}_sigma"] = self.y_uncertainty
        return columns


def views_for(kind: str) -> tuple[str, ...]:
    """The views a kind of curve has, the default first.

    Raises
    ------
    SwaxsInputError
        An unknown kind.

    Examples
    --------
    >>> views_for("gr")
    ('lin-lin',)
    >>> views_for("iq")[0]
    'log-log'
    """
    if kind not in VIEWS:
        raise SwaxsInputError(f"kind {kind!r}; expected one of {', '.join(KINDS)}")
    return VIEWS[kind]


def intensity_unit(measurement: Measurement) -> str:
    """The unit of an I(Q) curve's values as axis text: what the file said, else ``"a.u."``.

    A curve divided by a sample thickness (``metadata["values_unit"]``, from
    :func:`~swaxs_lib.corrections.subtract_background`) gains ``" per cm"``.

    Examples
    --------
    >>> import numpy as np
    >>> m = Measurement("iq", np.array([0.1, 0.2]), np.ones(2), None, "s.xml", "inv_angstrom",
    ...                 metadata=(("y_unit", "1/cm"),))
    >>> intensity_unit(m)
    '1/cm'
    """
    meta = dict(measurement.metadata)
    said = meta.get("y_unit", "").strip()
    unit = _INTENSITY_UNITS.get(said.lower(), said) if said else "a.u."
    if "per cm" in meta.get("values_unit", ""):
        unit += " per cm"
    return unit


def view_curve(
    measurement: Measurement,
    view: str | None = None,
    *,
    x_min: float | None = None,
    x_max: float | None = None,
) -> CurveView:
    """Draw a measurement in one view, optionally on part of its x range.

    Parameters
    ----------
    measurement : Measurement
        Any kind; x is Q (1/Å) or r (Å).
    view : str, optional
        One of ``views_for(measurement.kind)``; default the first
        (``"log-log"`` for I(Q), ``"lin-lin"`` otherwise).
    x_min, x_max : float or None, optional
        Keep the points with x_min <= x <= x_max, in the measurement's x unit
        (Q in 1/Å, r in Å) whatever the view's abscissa; None leaves that side
        open.

    Returns
    -------
    CurveView
        The transformed points, labels with units and CSV names.

    Raises
    ------
    SwaxsInputError
        A view the kind does not have, a non-finite bound or x_min >= x_max,
        or no point left to draw (the message names the file).

    Examples
    --------
    Guinier view of I = exp(-Q² Rg² / 3) with Rg = 10 Å: a line of slope -Rg²/3.

    >>> import numpy as np
    >>> q = np.linspace(0.01, 0.1, 10)
    >>> m = Measurement("iq", q, np.exp(-(q * 10.0) ** 2 / 3), None, "g.dat", "inv_angstrom")
    >>> v = view_curve(m, "guinier")
    >>> v.x_label, v.y_label
    ('Q² (1/Å²)', 'ln I(Q) (I in a.u.)')
    >>> round(float(np.polyfit(v.x, v.y, 1)[0]), 6)
    -33.333333
    >>> view_curve(m, "kratky", x_min=0.05).x.round(3).tolist()
    [0.05, 0.06, 0.07, 0.08, 0.09, 0.1]
    """
    if not isinstance(measurement, Measurement):
        raise SwaxsInputError(f"measurement: got {type(measurement).__name__}; expected a Measurement")
    allowed = views_for(measurement.kind)
    if view is None:
        view = allowed[0]
    if view not in allowed:
        raise SwaxsInputError(
            f"view {view!r} for a {measurement.kind} curve ({measurement.source}); expected one of {', '.join(allowed)}"
        )
    lo = _bound(x_min, "x_min", -math.inf)
    hi = _bound(x_max, "x_max", math.inf)
    if lo >= hi:
        raise SwaxsInputError(f"x_min = {x_min!r}, x_max = {x_max!r}; expected x_min < x_max")

    x = np.asarray(measurement.x, dtype=float)
    y = np.asarray(measurement.values, dtype=float)
    sigma = None if measurement.uncertainties is None else np.asarray(measurement.uncertainties, dtype=float)
    keep = (x >= lo) & (x <= hi)
    x, y = x[keep], y[keep]
    sigma = None if sigma is None else sigma[keep]
    n_in_range = int(x.size)

    domain = measurement.domain
    x_column = X_COLUMNS[domain]
    x_label = "Q (1/Å)" if domain == "q" else "r (Å)"
    x_log = y_log = False
    if measurement.kind != "iq":
        y_label, y_column = _VALUE_LABELS[measurement.kind], VALUE_COLUMNS[measurement.kind]
    else:
        unit = intensity_unit(measurement)
        y_column = "intensity"
        y_label = f"I(Q) ({unit})"
        if view == "log-log":
            x_log = y_log = True
        elif view == "log-lin":
            y_log = True
        elif view in ("kratky", "porod"):
            power = 2 if view == "kratky" else 4
            factor = x ** power
            sup = "²" if power == 2 else "⁴"
            y = factor * y
            sigma = None if sigma is None else factor * sigma
            y_label = f"Q{sup} I(Q) (1/Å{sup} · {unit})"
            y_column = f"q{power}_intensity_inv_angstrom{power}"
        elif view == "guinier":
            positive = y > 0
            x, y = x[positive], y[positive]
            sigma = None if sigma is None else sigma[positive]
            sigma = None if sigma is None else sigma / y
            y = np.log(y)
            x = x ** 2
            x_label, x_column = "Q² (1/Å²)", "q2_inv_angstrom2"
            y_label, y_column = f"ln I(Q) (I in {unit})", "ln_intensity"
    if x_log or y_log:
        drawable = np.ones(x.shape, dtype=bool)
        if x_log:
            drawable &= x > 0
        if y_log:
            drawable &= y > 0
        x, y = x[drawable], y[drawable]
        sigma = None if sigma is None else sigma[drawable]
    if x.size == 0:
        raise SwaxsInputError(
            f"{measurement.source}: no point to draw in view {view!r} with x_min = {x_min!r}, x_max = {x_max!r} "
            f"(data x {measurement.x[0]:g}–{measurement.x[-1]:g}); expected at least one point"
        )
    return CurveView(
        view=view, x=x, y=y, y_uncertainty=sigma, x_label=x_label, y_label=y_label, x_log=x_log, y_log=y_log,
        x_column=x_column, y_column=y_column, n_dropped=n_in_range - int(x.size),
    )


def measurement_columns(measurement: Measurement) -> dict[str, np.ndarray]:
    """A measurement as CSV columns with units in their names (x, values, their sigma if any).

    Examples
    --------
    >>> m = Measurement("gr", np.array([1.0, 2.0]), np.array([0.5, -0.5]), np.array([0.1, 0.1]), "au.gr",
    ...                 "angstrom")
    >>> list(measurement_columns(m))
    ['r_angstrom', 'g_inv_angstrom2', 'g_inv_angstrom2_sigma']
    """
    value = VALUE_COLUMNS[measurement.kind]
    columns = {X_COLUMNS[measurement.domain]: measurement.x, value: measurement.values}
    if measurement.uncertainties is not None:
        columns[f"{value}_sigma"] = measurement.uncertainties
    return columns


def reader_assumptions(measurement: Measurement) -> tuple[str, ...]:
    """Sentences saying what the reader guessed because the file did not say it.

    Covers the abscissa's unit (``x_unit_assumed``) and a kind taken as the
    default I(Q) (``kind_source = "default"``) from a column-text file (canSAS
    XML and NXcanSAS hold I(Q) by definition); each sentence says how to
    override it.

    Examples
    --------
    >>> m = Measurement("iq", np.array([0.1, 0.2]), np.ones(2), None, "run.dat", "inv_angstrom",
    ...                 metadata=(("kind_source", "default"), ("x_unit_assumed", "true")))
    >>> for line in reader_assumptions(m):
    ...     print(line)
    run.dat: the file does not say what the curve is; read as I(Q). Set the kind if it is S(Q), F(Q) or G(r).
    run.dat: the file does not state the unit of Q; read as 1/Å. Set the x unit if it is 1/nm or 2θ.
    """
    meta = dict(measurement.metadata)
    notes = []
    if meta.get("kind_source") == "default" and meta.get("format") not in _IQ_FORMATS:
        notes.append(
            f"{measurement.source}: the file does not say what the curve is; read as I(Q). "
            "Set the kind if it is S(Q), F(Q) or G(r)."
        )
    if meta.get("x_unit_assumed") == "true":
        if measurement.domain == "q":
            notes.append(
                f"{measurement.source}: the file does not state the unit of Q; read as 1/Å. "
                "Set the x unit if it is 1/nm or 2θ."
            )
        else:
            notes.append(
                f"{measurement.source}: the file does not state the unit of r; read as Å. "
                "Set the x unit if it is nm."
            )
    return tuple(notes)


def _bound(value, name: str, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SwaxsInputError(f"{name} = {value!r}; expected a finite number or None") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise SwaxsInputError(f"{name} = {value!r}; expected a finite number or None")
    return number


__all__ = [
    "ALL_VIEWS", "IQ_VIEWS", "VALUE_COLUMNS", "VIEWS", "VIEW_TITLES", "X_COLUMNS", "CurveView",
    "intensity_unit", "measurement_columns", "reader_assumptions", "view_curve", "views_for",
]
