"""How a measured curve is drawn (log/linear, Kratky, Porod and Guinier views, with units), and a fit as the
Compare page shows it (:class:`CompareModel`, what a hand-off link carries).

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

Hand-offs to Compare
--------------------
A page that opens a fit in Compare (Predict's library match, Refine's ranked
candidate, Relax's refit at a step) describes it as a :class:`CompareModel`:
the held values by the Compare page's names (``zoom``, one ``u`` or ``b`` for
every element, ``qdamp``, ``delta2``), the background, the fit range, the
G(r) transform's Q window and the small-angle switch.  :meth:`CompareModel.query`
is the text the link carries; :meth:`CompareModel.compare_kwargs` reads that
text back into the arguments of :func:`swaxs_lib.compare.compare_cluster`,
so the R_w a source page computes with them is the one Compare shows (scale
and background are fitted exactly there, as they are at the optimum of a
refinement).

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
from dataclasses import dataclass, field
from typing import Any, Mapping

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


#: The Compare page's backgrounds (``bg=``), as :data:`swaxs_lib.fit.linear.BACKGROUNDS`.
COMPARE_BACKGROUNDS = ("none", "constant", "linear")


@dataclass(frozen=True)
class CompareModel:
    """A cluster model as the Compare page holds it: what a link must carry for Compare to show the same fit.

    Attributes
    ----------
    kind : str
        The measurement's kind (``"gr"``, ``"iq"``, ``"sq"``, ``"fq"``).
    values : dict
        The held parameters by the Compare page's URL names: ``zoom``; ``u``
        (Å², G(r)) or ``b`` (Å², Q-space), one for every element; G(r) also
        ``qdamp`` (1/Å) and ``delta2`` (Å²).
    background : str
        ``"none"``, ``"constant"`` or ``"linear"`` (fitted exactly, with the scale).
    x_min, x_max : float
        The fit range (Å or 1/Å), inside the data's x range (the Compare slider's bounds).
    q_min_inv_angstrom, q_max_inv_angstrom : float or None
        The G(r) transform's Q window; None for Q-space data.
    small_angle : str or None
        ``"subtract"`` or ``"keep"`` for G(r); None otherwise.
    notes : tuple of str
        What Compare cannot hold exactly (per-element U or B that differ: Compare
        holds their mean); empty when the link reproduces the fit.

    Examples
    --------
    >>> import numpy as np
    >>> m = Measurement("gr", np.arange(1.0, 40.0, 0.01), np.ones(3900), None, "x.gr", "angstrom")
    >>> model = compare_model_of_fit(m, {"zoom": 0.99, "u_Au": 0.008, "delta2": 2.0, "qdamp": 0.04},
    ...                              {"x_min": 1.5, "x_max": 30.0, "q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 26})
    >>> model.query()
    {'zoom': '0.99', 'u': '0.008', 'delta2': '2', 'qdamp': '0.04', 'bg': 'none', 'xr': '1.5,30', 'qmin': '0.8', \
'qmax': '26', 'sas': '1'}
    >>> model.compare_kwargs()["values"]
    {'zoom': 0.99, 'u': 0.008, 'delta2': 2.0, 'qdamp': 0.04}
    """

    kind: str
    values: dict[str, float]
    background: str
    x_min: float
    x_max: float
    q_min_inv_angstrom: float | None = None
    q_max_inv_angstrom: float | None = None
    small_angle: str | None = None
    notes: tuple[str, ...] = field(default=())

    def query(self) -> dict[str, str]:
        """The Compare page's URL parameters (besides the dataset and the candidate): values, ``bg``, ``xr``,
        and for G(r) ``qmin``, ``qmax``, ``sas``."""
        # a refined value within 1e-10 of zero (Q damping 9e-19 1/Å) is zero to every curve: written as 0
        out = {name: _text(0.0 if abs(value) < 1e-10 else value) for name, value in self.values.items()}
        out["bg"] = self.background
        out["xr"] = ",".join(_range_text(self.x_min, self.x_max))
        if self.kind == "gr":
            out["qmin"] = _text(self.q_min_inv_angstrom)
            out["qmax"] = _text(self.q_max_inv_angstrom)
            out["sas"] = "1" if self.small_angle != "keep" else "0"
        return out

    def compare_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`swaxs_lib.compare.compare_cluster` read back from :meth:`query`'s text,
        as the Compare page reads its URL: R_w computed with them is the R_w Compare shows."""
        return compare_kwargs(self.kind, self.query())


def compare_kwargs(kind: str, query: Mapping[str, str]) -> dict[str, Any]:
    """The arguments of :func:`swaxs_lib.compare.compare_cluster` that a Compare link's text stands for.

    Parameters
    ----------
    kind : str
        The measurement's kind.
    query : mapping of str to str
        :meth:`CompareModel.query` (the values, ``bg``, ``xr``; for G(r) ``qmin``, ``qmax``, ``sas``).

    Examples
    --------
    >>> compare_kwargs("iq", {"zoom": "1.01", "b": "0.6", "bg": "constant", "xr": "0.02,10"})
    {'values': {'zoom': 1.01, 'b': 0.6}, 'background': 'constant', 'x_min': 0.02, 'x_max': 10.0}
    """
    x_min, x_max = (float(v) for v in query["xr"].split(","))
    names = [n for n in query if n not in ("bg", "xr", "qmin", "qmax", "sas")]
    kwargs: dict[str, Any] = {"values": {name: float(query[name]) for name in names},
                              "background": query["bg"], "x_min": x_min, "x_max": x_max}
    if kind == "gr":
        kwargs.update(q_min_inv_angstrom=float(query["qmin"]), q_max_inv_angstrom=float(query["qmax"]),
                      small_angle="subtract" if query.get("sas", "1") == "1" else "keep")
    return kwargs


def compare_model_of_fit(measurement: Measurement, values: Mapping[str, Any],
                         settings: Mapping[str, Any] | None = None) -> CompareModel:
    """The Compare page's model of a cluster fit: its refined values held, its range, background and Q window.

    Parameters
    ----------
    measurement : Measurement
        The data the fit was made against.
    values : mapping
        The fit's values by the model table's names (a fit summary, a relaxation
        step's ``refined``): ``zoom``, ``u_<El>`` or ``b_<El>`` (or ``u``/``b``),
        ``qdamp``, ``delta2``; others (``scale``, ``c0``, ``*_sigma``) are ignored:
        Compare fits scale and background exactly, which at a refinement's
        optimum gives the refined ones.
    settings : mapping, optional
        How the fit was made (a summary's ``settings``, or the options it was
        given): ``x_min``, ``x_max``, ``background``, ``q_min_inv_angstrom``,
        ``q_max_inv_angstrom``, ``small_angle``.  Missing ones take the defaults
        every refinement takes (:mod:`swaxs_lib.fit.window`; background constant
        for Q-space data, none for G(r); small-angle part subtracted).

    Returns
    -------
    CompareModel

    Raises
    ------
    SwaxsInputError
        A background Compare does not have, or a value that is not a number.
    """
    from swaxs_lib.fit.window import default_fit_range, transform_q_range
    from swaxs_lib.models import get_model

    settings = dict(settings or {})
    kind = measurement.kind
    spec = get_model("cluster", kind)
    held: dict[str, float] = {}
    notes: list[str] = []
    for row in spec.parameters:
        if row.name in spec.linear:
            continue
        if row.name in spec.per_element:
            per = {k: _number(v, k) for k, v in values.items()
                   if k.startswith(f"{row.name}_") and not k.endswith(("_sigma", "_flag")) and v is not None}
            if row.name in values and values[row.name] is not None:
                per.setdefault(row.name, _number(values[row.name], row.name))
            if per:
                held[row.name] = float(np.mean(list(per.values())))
                if max(per.values()) - min(per.values()) > 1e-12:
                    notes.append(f"{', '.join(f'{k} = {v:.4g}' for k, v in per.items())}: Compare holds one "
                                 f"{row.name} for every element, their mean {held[row.name]:.4g}; its R_w differs")
        elif values.get(row.name) is not None:
            held[row.name] = _number(values[row.name], row.name)
    x = np.asarray(measurement.x, dtype=float)
    lo_default, hi_default = default_fit_range(kind, x)
    x_min = settings.get("x_min")
    x_max = settings.get("x_max")
    x_min = lo_default if x_min is None else float(x_min)
    x_max = hi_default if x_max is None else float(x_max)
    background = settings.get("background") or ("none" if kind == "gr" else "constant")
    if background not in COMPARE_BACKGROUNDS:
        raise SwaxsInputError(f"background: got {background!r}; expected one of {', '.join(COMPARE_BACKGROUNDS)}")
    q_range = small_angle = None
    if kind == "gr":
        q_range = transform_q_range(measurement, settings.get("q_min_inv_angstrom"),
                                    settings.get("q_max_inv_angstrom"))
        small_angle = "keep" if settings.get("small_angle") == "keep" else "subtract"
    return CompareModel(
        kind=kind, values=held, background=str(background), x_min=max(x_min, float(x.min())),
        x_max=min(x_max, float(x.max())), q_min_inv_angstrom=None if q_range is None else q_range[0],
        q_max_inv_angstrom=None if q_range is None else q_range[1], small_angle=small_angle,
        notes=tuple(notes),
    )


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SwaxsInputError(f"{name}: got {value!r}; expected a number") from None
    if not math.isfinite(number):
        raise SwaxsInputError(f"{name}: got {value!r}; expected a finite number")
    return number


def _text(value: float) -> str:
    """A number as a link's text (6 significant digits, as the pages write their URLs)."""
    return f"{float(value):.6g}"


def _range_text(lo: float, hi: float) -> tuple[str, str]:
    """A fit range as a link's text that reads back to exactly these bounds (the same points in the fit):
    6 significant digits when they do, else in full."""
    return tuple(text if float(text := _text(v)) == v else repr(float(v)) for v in (lo, hi))


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
    "ALL_VIEWS", "COMPARE_BACKGROUNDS", "IQ_VIEWS", "VALUE_COLUMNS", "VIEWS", "VIEW_TITLES", "X_COLUMNS",
    "CompareModel", "CurveView", "compare_kwargs", "compare_model_of_fit", "intensity_unit", "measurement_columns",
    "reader_assumptions", "view_curve", "views_for",
]
