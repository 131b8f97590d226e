"""Checks shared by every format: kind, x unit, wavelength, finite and monotonic x.

The rules are stated in :mod:`swaxs_lib.io.readers`.
"""

from __future__ import annotations

import math

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.columns import PDF_EXTENSIONS
from swaxs_lib.io.measurement import KINDS, MAX_X, Measurement, x_range_problem
from swaxs_lib.io.raw import RawCurve
from swaxs_lib.io.units import (
    PLAUSIBLE_WAVELENGTH_ANGSTROM,
    UNIT_DOMAIN,
    UNIT_TEXT,
    to_library_units,
)

_DOMAIN_TEXT = {"q": "Q-space", "r": "r-space"}
_QUANTITY_DOMAIN = {"q": "q", "two_theta": "q", "r": "r"}


def _resolve_kind(raw: RawCurve, extension: str, kind_arg: str | None, metadata: list) -> str:
    extension_kind = PDF_EXTENSIONS.get(extension)
    if kind_arg is not None:
        if extension_kind is not None and extension_kind != kind_arg:
            metadata.append(("kind_from_extension", extension_kind))
        metadata.append(("kind_source", "explicit"))
        return kind_arg
    if extension_kind is not None:
        metadata.append(("kind_source", f"extension {extension}"))
        return extension_kind
    if raw.x_quantity == "r":
        metadata.append(("kind_source", "header (x column is r)"))
        return "gr"
    metadata.append(("kind_source", "default"))
    return "iq"


def _resolve_unit(raw: RawCurve, filename: str, kind: str, unit_arg: str | None, metadata: list) -> str:
    domain = KINDS[kind]
    stated = list(dict.fromkeys(u for u, _, _ in raw.unit_statements))
    if raw.x_unsupported is not None:
        where, what = raw.x_unsupported
        if unit_arg is None:
            raise SwaxsInputError(
                f"{filename}: {where}: {what} is not read; expected Q (1/Å or 1/nm), 2θ (degrees) "
                "or r (Å or nm), or an explicit x_unit"
            )
        metadata.append(("x_unit_conflict", f"explicit x_unit={unit_arg} overrides {what} ({where})"))
    if unit_arg is not None:
        if UNIT_DOMAIN[unit_arg] != domain:
            raise SwaxsInputError(
                f"{filename}: x_unit={unit_arg!r} ({UNIT_TEXT[unit_arg]}) with kind={kind!r}; "
                f"expected a {_DOMAIN_TEXT[domain]} unit for {kind}"
            )
        others = [u for u in stated if u != unit_arg]
        if others:
            metadata.append(("x_unit_header", ",".join(stated)))
            conflict = f"explicit x_unit={unit_arg} overrides the header's {','.join(others)}"
            metadata.append(("x_unit_conflict", conflict))
        metadata.append(("x_unit_source", "explicit"))
        return unit_arg
    if len(stated) > 1:
        said = "; ".join(f"{where} says {UNIT_TEXT[u]} ({text[:60]!r})" for u, where, text in raw.unit_statements)
        raise SwaxsInputError(f"{filename}: unit-ambiguous: {said}; expected one x unit (or pass x_unit=...)")
    if stated:
        unit = stated[0]
        where = raw.unit_statements[0][1]
        if UNIT_DOMAIN[unit] != domain:
            raise SwaxsInputError(
                f"{filename}: {where}: the header gives x as {UNIT_TEXT[unit]} but the kind is {kind!r} "
                f"({_DOMAIN_TEXT[domain]}); expected kind={'gr' if UNIT_DOMAIN[unit] == 'r' else 'iq'!r} "
                "or an explicit x_unit"
            )
        metadata.append(("x_unit_source", f"header {where}"))
        return unit
    if raw.x_quantity is not None and _QUANTITY_DOMAIN[raw.x_quantity] != domain:
        raise SwaxsInputError(
            f"{filename}: the header's x column {raw.x_label!r} is {_DOMAIN_TEXT[_QUANTITY_DOMAIN[raw.x_quantity]]} "
            f"but the kind is {kind!r} ({_DOMAIN_TEXT[domain]}); expected a matching kind or an explicit x_unit"
        )
    if raw.x_quantity == "two_theta":
        unit = "two_theta_deg"
    else:
        unit = "inv_angstrom" if domain == "q" else "angstrom"
    metadata.append(("x_unit_assumed", "true"))
    metadata.append(("x_unit_source", f"assumed {UNIT_TEXT[unit]} (no unit stated)"))
    return unit


def _resolve_wavelength(
    raw: RawCurve, filename: str, x_unit: str, wavelength_arg: tuple[float, str] | None, metadata: list
) -> float | None:
    low, high = PLAUSIBLE_WAVELENGTH_ANGSTROM
    plausible = [w for w in raw.wavelengths if low <= w[0] <= high and math.isfinite(w[0])]
    for value, where, said in raw.wavelengths:
        if (value, where, said) not in plausible:
            metadata.append(("wavelength_header_ignored", f"{where}: {said} (not a plausible X-ray wavelength)"))
    # A wavelength statement outranks an energy one; the first of each kind counts.
    ranked = [w for w in plausible if w[2].startswith("wavelength")] + [
        w for w in plausible if not w[2].startswith("wavelength")
    ]
    header = ranked[0] if ranked else None
    if header is not None:
        metadata.append(("wavelength_header", f"{header[0]:.6g} Å ({header[1]}: {header[2]})"))
    if wavelength_arg is not None:
        value, parameter = wavelength_arg
        metadata.append(("wavelength_source", parameter))
        if header is not None and abs(header[0] - value) > 5e-3 * value:
            conflict = f"{parameter} {value:.6g} Å overrides the header's {header[0]:.6g} Å"
            metadata.append(("wavelength_conflict", conflict))
        return value
    if header is None:
        if x_unit == "two_theta_deg":
            raise SwaxsInputError(
                f"{filename}: x is 2θ (degrees) and the file states no wavelength; "
                "expected wavelength_angstrom or energy_kev"
            )
        return None
    for value, where, said in ranked[1:]:
        if abs(value - header[0]) > 5e-3 * header[0]:
            if x_unit == "two_theta_deg":
                raise SwaxsInputError(
                    f"{filename}: the header states two wavelengths, {header[0]:.6g} Å ({header[1]}: {header[2]}) "
                    f"and {value:.6g} Å ({where}: {said}); expected one (or pass wavelength_angstrom)"
                )
            # Not needed to read Q or r: neither is recorded, whatever the order of the lines.
            metadata.append(("wavelength_conflict", f"{header[0]:.6g} Å ({header[1]}) and {value:.6g} Å ({where}); "
                                                    "neither recorded"))
            return None
    metadata.append(("wavelength_source", f"header {header[1]}"))
    return header[0]


def _check_points(raw: RawCurve, filename: str, x_unit: str) -> None:
    n = raw.x.size
    if n < 2:
        where = f" ({raw.where(0)})" if n else ""
        raise SwaxsInputError(f"{filename}: {n} data point{'' if n == 1 else 's'}{where}; expected at least 2")
    columns = [("x", raw.x), ("y", raw.y)] + ([("uncertainty", raw.dy)] if raw.dy is not None else [])
    bad_rows = ~np.isfinite(raw.x) | ~np.isfinite(raw.y)
    if raw.dy is not None:
        bad_rows |= ~np.isfinite(raw.dy)
    if bad_rows.any():
        i = int(np.argmax(bad_rows))
        what = next(f"{label} = {values[i]}" for label, values in columns if not np.isfinite(values[i]))
        raise SwaxsInputError(f"{filename}: {raw.where(i)}: {what}; expected finite numbers")
    if (raw.x < 0).any():
        i = int(np.argmax(raw.x < 0))
        quantity = {"q": "Q", "r": "r"}[UNIT_DOMAIN[x_unit]] if x_unit != "two_theta_deg" else "2θ"
        raise SwaxsInputError(f"{filename}: {raw.where(i)}: negative {quantity} ({raw.x[i]:g}); expected x >= 0")
    if x_unit == "two_theta_deg" and (raw.x > 180).any():
        i = int(np.argmax(raw.x > 180))
        raise SwaxsInputError(f"{filename}: {raw.where(i)}: 2θ = {raw.x[i]:g} degrees; expected 0 to 180")
    if raw.dy is not None and (raw.dy < 0).any():
        i = int(np.argmax(raw.dy < 0))
        raise SwaxsInputError(f"{filename}: {raw.where(i)}: uncertainty {raw.dy[i]:g}; expected >= 0")


def _monotonic_order(raw: RawCurve, filename: str) -> bool:
    """True when x is strictly decreasing (to be reversed); an error unless strictly monotonic."""
    step = np.diff(raw.x)
    if (step > 0).all():
        return False
    if (step < 0).all():
        return True
    direction = 1.0 if step[0] > 0 else -1.0
    i = int(np.argmax((step == 0) | (np.sign(step) != direction))) if step[0] != 0 else 0
    if step[i] == 0:
        problem = f"x = {raw.x[i + 1]:g} repeats {raw.where(i)} (x = {raw.x[i]:g})"
    else:
        turn = "decreases" if direction > 0 else "increases"
        problem = f"x {turn} from {raw.x[i]:g} ({raw.where(i)}) to {raw.x[i + 1]:g}"
    raise SwaxsInputError(
        f"{filename}: {raw.where(i + 1)}: {problem}; expected x strictly increasing or strictly decreasing"
    )


def _x_resolution(raw: RawCurve, x_unit: str, metadata: list) -> np.ndarray | None:
    """The Q resolution (1-σ dQ) in 1/Å, or None (with the reason recorded) when it cannot be used."""
    if raw.dx is None:
        return None
    dx = np.asarray(raw.dx, dtype=float)
    if x_unit not in ("inv_angstrom", "inv_nm"):
        metadata.append(("x_resolution_dropped", f"a Q resolution needs Q in 1/Å or 1/nm; x is {UNIT_TEXT[x_unit]}"))
        return None
    if not (np.all(np.isfinite(dx)) and np.all(dx >= 0)):
        metadata.append(("x_resolution_dropped", "not finite and >= 0 on every point"))
        return None
    return np.ascontiguousarray(to_library_units(dx, x_unit), dtype=float)


def finish(
    raw: RawCurve,
    filename: str,
    source: str,
    extension: str,
    kind_arg: str | None,
    unit_arg: str | None,
    wavelength_arg: tuple[float, str] | None,
) -> Measurement:
    """Resolve kind, unit and wavelength, check the points, convert, and build the Measurement."""
    metadata = list(raw.metadata)
    kind = _resolve_kind(raw, extension, kind_arg, metadata)
    x_unit = _resolve_unit(raw, filename, kind, unit_arg, metadata)
    wavelength = _resolve_wavelength(raw, filename, x_unit, wavelength_arg, metadata)
    _check_points(raw, filename, x_unit)
    if _monotonic_order(raw, filename):
        raw.x, raw.y = raw.x[::-1], raw.y[::-1]
        raw.dy = None if raw.dy is None else raw.dy[::-1]
        raw.dx = None if raw.dx is None else raw.dx[::-1]
        raw.line_numbers = None if raw.line_numbers is None else raw.line_numbers[::-1]
        metadata.append(("x_reversed", "true"))
    x = to_library_units(raw.x, x_unit, wavelength)
    beyond = ~(np.abs(x) <= MAX_X[KINDS[kind]])
    if beyond.any():
        i = int(np.argmax(beyond))
        said = f" ({raw.x[i]:.4g} {UNIT_TEXT[x_unit]})" if x_unit not in ("inv_angstrom", "angstrom") else ""
        raise SwaxsInputError(f"{filename}: {raw.where(i)}: {x_range_problem(KINDS[kind], float(x[i]))}{said}")
    step = np.diff(x)
    if not (np.isfinite(x).all() and (step > 0).all()):
        i = int(np.argmax(~(step > 0))) + 1 if step.size else 0
        raise SwaxsInputError(
            f"{filename}: {raw.where(i)}: x = {raw.x[i]:g} is not above the previous point after conversion "
            f"from {UNIT_TEXT[x_unit]}; expected distinct x values"
        )
    return Measurement(
        x_resolution=_x_resolution(raw, x_unit, metadata),
        kind=kind,
        x=np.ascontiguousarray(x, dtype=float),
        values=np.ascontiguousarray(raw.y, dtype=float),
        uncertainties=None if raw.dy is None else np.ascontiguousarray(raw.dy, dtype=float),
        source=source,
        x_unit=x_unit,
        wavelength_angstrom=wavelength,
        header=tuple(raw.header),
        metadata=tuple(metadata),
    )
