"""Fit parameters as a table (name, unit, start, bounds, description) and the user's starts and bounds.

One table per model drives the recipe, the command line's ``--start``,
``--bounds``, ``--fix`` (and ``--free``) and the Refine page's inputs, as
:mod:`swaxs_lib.structures.parameters` does for cluster builders.  Per-element
and per-site parameters share a base name: ``u`` stands for every ``u_<El>``,
``xyz`` for every free coordinate (``z_Se1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

from swaxs_lib.errors import SwaxsInputError

#: Suffix that puts a unit into a CSV column or JSON key.
UNIT_SUFFIX = {"Å": "_angstrom", "Å²": "_angstrom2", "1/Å": "_inv_angstrom", "": "",
               # sasmodels' units (swaxs_lib.models.sasview): SLDs, angles, thermodynamic settings
               "Å³": "_angstrom3", "1/Å²": "_inv_angstrom2", "1e-6/Å²": "_1e-6_inv_angstrom2",
               "1e-15/Å²": "_1e-15_inv_angstrom2", "1e-6/Å": "_1e-6_inv_angstrom", "deg": "_deg", "K": "_kelvin",
               "mol/L": "_molar", "kT": "_kt", "e": "_elementary_charge", "1/cm": "_inv_cm",
               "diameters": "_diameters"}


@dataclass(frozen=True)
class FitParameter:
    """One row of a model's parameter table.

    Attributes
    ----------
    name : str
        Base name (``u`` for ``u_<El>``).
    unit : str
        ``"Å"``, ``"Å²"``, ``"1/Å"`` or ``""``.
    start, low, high : float
        Default start and bounds (NaN: taken from the structure).
    description : str
        One sentence for ``--help``, tooltips and the docs.
    refined : bool
        Refined unless fixed (``False``: held unless freed).
    refinable : bool
        ``False`` for a setting that no optimiser can move (pdffit2's ``rcut``).
    title : str
        A few words for a widget (``"Debye–Waller B"``); default the name.
    """

    name: str
    unit: str
    start: float
    low: float
    high: float
    description: str
    refined: bool = True
    refinable: bool = True
    title: str = ""

    def label(self, name: str | None = None) -> str:
        """``"u_Cd (Å²)"``: the name with its unit, for widgets and tables."""
        name = name or self.name
        return f"{name} ({self.unit})" if self.unit else name

    def widget_label(self) -> str:
        """``"Debye–Waller B (Å²)"``: the title (or name) with its unit, for a page's slider."""
        return self.label(self.title or self.name)


def column_name(name: str, unit: str) -> str:
    """The CSV/JSON name of a value: ``a`` in Å -> ``a_angstrom``; dimensionless names unchanged."""
    return name + UNIT_SUFFIX.get(unit, "")


def check_names(what: str, names: Iterable[str], known: Iterable[str]) -> None:
    """Raise when a name in ``names`` (from ``--start``, ``--bounds``, ``--fix``) is not in ``known``."""
    known = list(dict.fromkeys(known))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SwaxsInputError(f"{what}: unknown parameter(s) {', '.join(unknown)}; expected some of "
                              f"{', '.join(known)}")


def resolve_bounds(name: str, base: str, default: tuple[float, float],
                   bounds: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
    """The bounds of ``name``: its own, else its base name's (``u`` for ``u_Cd``), else ``default``.

    Raises
    ------
    SwaxsInputError
        Low not below high, or a NaN.
    """
    low, high = bounds.get(name, bounds.get(base, default))
    low, high = float(low), float(high)
    if math.isnan(low) or math.isnan(high) or not low < high:
        raise SwaxsInputError(f"bounds {name}: got {low:g}:{high:g}; expected LOW < HIGH")
    return low, high


def clip_default(value: float, low: float, high: float) -> float:
    """A default (not user-given) start moved inside bounds the user narrowed."""
    return float(min(max(float(value), low), high))


def check_start(name: str, value, low: float, high: float) -> float:
    """``value`` as a float inside [low, high], or a SwaxsInputError naming the parameter."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SwaxsInputError(f"start {name}: got {value!r}; expected a number") from None
    if not math.isfinite(v) or not (low <= v <= high):
        raise SwaxsInputError(f"start {name}: got {value!r}; expected a number from {low:g} to {high:g} "
                              f"(change the bounds with --bounds {name}=LOW:HIGH)")
    return v


def table_options(table: Mapping[str, FitParameter], refined: Mapping[str, bool],
                  starts: Mapping[str, float | None], lows: Mapping[str, float | None],
                  highs: Mapping[str, float | None]) -> dict[str, object]:
    """``fix``, ``free``, ``start`` and ``bounds`` from a form built on ``table`` (None: not given).

    A parameter refined against its table default goes to ``free``, one held
    against it to ``fix``; a bound given on one side only keeps the table's
    other side.

    Raises
    ------
    SwaxsInputError
        A name not in ``table``, or bounds with LOW >= HIGH.
    """
    check_names("form", [*refined, *starts, *lows, *highs], list(table))
    fix = [n for n, on in refined.items() if table[n].refinable and table[n].refined and not on]
    free = [n for n, on in refined.items() if table[n].refinable and not table[n].refined and on]
    start = {n: float(v) for n, v in starts.items() if v is not None}
    bounds: dict[str, tuple[float, float]] = {}
    for name in dict.fromkeys([*lows, *highs]):
        low, high = lows.get(name), highs.get(name)
        if low is None and high is None:
            continue
        low = table[name].low if low is None else float(low)
        high = table[name].high if high is None else float(high)
        if not low < high:
            raise SwaxsInputError(f"bounds {name}: got {low:g}:{high:g}; expected LOW < HIGH")
        bounds[name] = (low, high)
    return {"fix": fix, "free": free, "start": start, "bounds": bounds}


def split_items(items: list[str] | None) -> list[str]:
    """Items of a repeatable, comma-separated flag (``--start a=1,b=2 --start c=3``)."""
    return [part.strip() for item in (items or []) for part in str(item).split(",") if part.strip()]


def parse_starts(items: list[str] | None) -> dict[str, float]:
    """``--start NAME=VALUE`` (repeatable, or comma-separated) as a mapping.

    Raises
    ------
    SwaxsInputError
        An item is not NAME=VALUE with a finite number.
    """
    out: dict[str, float] = {}
    for part in split_items(items):
        name, sep, text = part.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not sep or not name.strip() or not math.isfinite(value):
            raise SwaxsInputError(f"--start: got {part!r}; expected NAME=VALUE with a number, e.g. --start u=0.01")
        out[name.strip()] = value
    return out


def parse_bounds(items: list[str] | None) -> dict[str, tuple[float, float]]:
    """``--bounds NAME=LOW:HIGH`` (repeatable, or comma-separated; ``inf`` allowed) as a mapping.

    Raises
    ------
    SwaxsInputError
        An item is not NAME=LOW:HIGH with numbers, LOW < HIGH.
    """
    out: dict[str, tuple[float, float]] = {}
    for part in split_items(items):
        name, sep, text = part.partition("=")
        low_text, colon, high_text = text.partition(":")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            low = high = math.nan
        if not sep or not colon or not name.strip() or not low < high:
            raise SwaxsInputError(f"--bounds: got {part!r}; expected NAME=LOW:HIGH with LOW < HIGH, "
                                  "e.g. --bounds spdiameter=10:80")
        out[name.strip()] = (low, high)
    return out



def table_help(rows: Iterable[FitParameter]) -> str:
    """``scale, zoom, u (Å²), ...``: the names a flag accepts, with units, for ``--help``."""
    return ", ".join(p.label() for p in rows)


__all__ = ["FitParameter", "UNIT_SUFFIX", "check_names", "check_start", "clip_default", "column_name",
           "parse_bounds", "parse_starts", "resolve_bounds", "split_items", "table_help", "table_options"]
