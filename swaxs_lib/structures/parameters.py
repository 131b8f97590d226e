"""The parameter table of every cluster shape: names, units, defaults and bounds.

One table per shape drives the dashboard's widgets (labels, bounds, URL
parsing) and names the same keyword arguments as the builders and the command
line's flags (``--shells``, ``--pqr`` for ``p, q, r``, ``--length``,
``--cutoff``, ``--diameter-angstrom``, ``--lattice``).  The bounds are those of
an interactive session: wide enough for clusters from 1 to ~20 nm, narrow
enough that the metals of interest build in seconds (a 200 Å Au sphere has
~250 000 atoms; light elements or a small lattice-constant override give more,
and the builders refuse more than their 2 million atom limit).

>>> from swaxs_lib.structures.parameters import SHAPE_PARAMETERS, check_parameters
>>> [p.name for p in SHAPE_PARAMETERS["decahedron"]]
['p', 'q', 'r']
>>> check_parameters("decahedron", {"p": 2, "q": 2, "r": 1})
{'p': 2, 'q': 2, 'r': 1}
>>> estimated_atom_count("decahedron", "Au", {"p": 2, "q": 2, "r": 1})
75
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from ase.data import chemical_symbols

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures.builders import decahedron_atom_count
from swaxs_lib.structures.elements import check_element, hcp_c_over_a, lattice_constant

_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)

#: Elements offered first: the metals the project is about.
COMMON_ELEMENTS = ("Au", "Ag", "Pt", "Pd", "Cu", "Ni")


@dataclass(frozen=True)
class ShapeParameter:
    """One builder parameter: what it is called, its unit, default and bounds.

    Attributes
    ----------
    name : str
        The builder's keyword argument (and, with ``-`` for ``_``, the command
        line's flag; ``p, q, r`` share ``--pqr``).
    label : str
        Short human label, unit included (``"diameter (Å)"``).
    kind : {"int", "float", "choice"}
        Value type.
    default : int, float or str
        Value used when none is given.
    minimum, maximum : int, float or None
        Inclusive bounds of a number (None for a choice).
    unit : str
        Unit symbol, ``""`` for counts and choices.
    help : str
        One sentence for a tooltip or ``--help``.
    choices : tuple of str
        Allowed values of a choice (empty for numbers).
    """

    name: str
    label: str
    kind: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    help: str = ""
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> Any:
        """Return ``value`` as this parameter's type, or raise if out of bounds.

        Parameters
        ----------
        value : int, float, str
            A number (integral for ``"int"``; numeric text is accepted) or one
            of ``choices``.

        Returns
        -------
        int, float or str

        Raises
        ------
        SwaxsInputError
            Naming the parameter, the value received and the allowed range.
        """
        if self.kind == "choice":
            if value not in self.choices:
                raise SwaxsInputError(f"{self.name}: got {value!r}; expected one of {', '.join(self.choices)}")
            return value
        expected = (f"an integer from {self.minimum:g} to {self.maximum:g}" if self.kind == "int"
                    else f"a number from {self.minimum:g} to {self.maximum:g}{' ' + self.unit if self.unit else ''}")
        if isinstance(value, bool):
            raise SwaxsInputError(f"{self.name}: got {value!r}; expected {expected}")
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            raise SwaxsInputError(f"{self.name}: got {value!r}; expected {expected}") from None
        if not math.isfinite(x) or not (self.minimum <= x <= self.maximum):
            raise SwaxsInputError(f"{self.name}: got {value!r}; expected {expected}")
        if self.kind == "int":
            if not x.is_integer():
                raise SwaxsInputError(f"{self.name}: got {value!r}; expected {expected}")
            return int(x)
        return x

    def parse(self, text: str) -> Any:
        """Read the value from text (a URL query parameter); same rules as :meth:`check`.

        Numbers must be plain ASCII decimals (``4``, ``4.0``, ``2.5e1``):
        Python's ``float`` would also take ``1_0`` or Arabic-Indic digits.
        """
        text = str(text).strip()
        if self.kind != "choice" and not _DECIMAL.fullmatch(text):
            raise SwaxsInputError(f"{self.name}: got {text!r}; expected a decimal number")
        return self.check(text)


_SHELLS = ShapeParameter(
    "shells", "shells", "int", 4, 2, 30,
    help="Closed shells, the central atom counting as shell 1: 2, 3, 4 give 13, 55, 147 atoms.",
)
_LENGTH_HELP = "Atoms along an edge of the untruncated octahedron."
_CUTOFF_HELP = "Atomic layers cut from each of the six vertices; cutoff < length/2."

#: Shape name -> its parameters, in the order the builder takes them.
SHAPE_PARAMETERS: dict[str, tuple[ShapeParameter, ...]] = {
    "icosahedron": (_SHELLS,),
    "decahedron": (
        ShapeParameter("p", "p", "int", 4, 1, 30,
                       help="Atoms along the (100) facet edges perpendicular to the five-fold axis."),
        ShapeParameter("q", "q", "int", 1, 1, 30, help="Atoms along the (100) facet edges parallel to the five-fold axis."),
        ShapeParameter("r", "r", "int", 2, 0, 10, help="Depth of the Marks re-entrance (0: Ino decahedron)."),
    ),
    "octahedron": (
        ShapeParameter("length", "length (atoms)", "int", 7, 2, 60, help=_LENGTH_HELP),
        ShapeParameter("cutoff", "cutoff (layers)", "int", 2, 0, 29, help=_CUTOFF_HELP + " 0: regular octahedron."),
    ),
    "cuboctahedron": (_SHELLS,),
    "truncated-octahedron": (
        ShapeParameter("length", "length (atoms)", "int", 10, 3, 60, help=_LENGTH_HELP),
        ShapeParameter("cutoff", "cutoff (layers)", "int", 3, 1, 29,
                       help=_CUTOFF_HELP + " (length - 1)/3 gives the regular truncation."),
    ),
    "sphere": (
        ShapeParameter("diameter_angstrom", "diameter (Å)", "float", 30.0, 5.0, 200.0, "Å",
                       help="Sphere diameter; all lattice sites within it, centred on a site."),
        ShapeParameter("lattice", "lattice", "choice", "fcc", choices=("fcc", "bcc", "hcp"),
                       help="Bulk lattice the sphere is cut from."),
    ),
}

#: The optional lattice-constant override every shape takes (None: the element's own).
LATTICE_CONSTANT = ShapeParameter(
    "lattice_constant_angstrom", "lattice constant a (Å)", "float", None, 1.0, 20.0, "Å",
    help="Overrides the element's bulk lattice constant (for hcp spheres the basal a).",
)


def check_parameters(shape: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check a shape's parameters against its table; return the builder's keyword arguments.

    Parameters
    ----------
    shape : str
        A key of :data:`SHAPE_PARAMETERS`.
    values : mapping
        Parameter name -> value.  Missing parameters take the table's
        default; ``lattice_constant_angstrom`` may be given (None or absent:
        the element's own).

    Returns
    -------
    dict
        Typed values for :func:`~swaxs_lib.structures.build_cluster`, in the
        table's order.

    Raises
    ------
    SwaxsInputError
        Unknown shape or parameter name, a value out of its bounds, or
        ``cutoff >= length/2`` for (truncated) octahedra.

    Examples
    --------
    >>> check_parameters("octahedron", {"length": 7, "cutoff": 4})
    Traceback (most recent call last):
    ...
    swaxs_lib.errors.SwaxsInputError: cutoff: got 4 with length 7; expected cutoff < length/2 (at most 3)
    """
    if shape not in SHAPE_PARAMETERS:
        raise SwaxsInputError(f"shape: got {shape!r}; expected one of {', '.join(SHAPE_PARAMETERS)}")
    table = SHAPE_PARAMETERS[shape]
    known = {p.name for p in table} | {LATTICE_CONSTANT.name}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SwaxsInputError(
            f"{unknown[0]}: not a parameter of the {shape}; expected {', '.join(p.name for p in table)}"
        )
    out = {p.name: p.check(values.get(p.name, p.default)) for p in table}
    if "cutoff" in out and 2 * out["cutoff"] + 1 > out["length"]:
        raise SwaxsInputError(
            f"cutoff: got {out['cutoff']} with length {out['length']}; "
            f"expected cutoff < length/2 (at most {(out['length'] - 1) // 2})"
        )
    a = values.get(LATTICE_CONSTANT.name)
    if a is not None:
        out[LATTICE_CONSTANT.name] = LATTICE_CONSTANT.check(a)
    return out


def estimated_atom_count(shape: str, element: str, params: Mapping[str, Any]) -> int:
    """Number of atoms a shape will have, without building it.

    Exact for the polyhedra (closed forms: Mackay's (10k³ + 15k² + 11k + 3)/3
    for k = shells - 1, octahedral numbers minus six vertex pyramids, and
    :func:`~swaxs_lib.structures.decahedron_atom_count`); for a sphere, the
    sphere's volume over the volume per atom: within about 2 d_nn/d of the
    built count (±30 % at 10 Å, ±12 % at 20 Å), 5 % above 40 Å and 1 %
    above 100 Å (tests/test_structure_parameters.py).

    Parameters
    ----------
    shape : str
        A key of :data:`SHAPE_PARAMETERS`.
    element : str
        Chemical symbol (a sphere's volume per atom depends on it).
    params : mapping
        As for :func:`check_parameters`.

    Returns
    -------
    int

    Raises
    ------
    SwaxsInputError
        As :func:`check_parameters`, or an unknown element.

    Examples
    --------
    >>> [estimated_atom_count("icosahedron", "Au", {"shells": k}) for k in (2, 3, 4)]
    [13, 55, 147]
    """
    v = check_parameters(shape, params)
    symbol = check_element(element)
    if shape in ("icosahedron", "cuboctahedron"):
        k = v["shells"] - 1
        return (10 * k**3 + 15 * k**2 + 11 * k + 3) // 3
    if shape == "decahedron":
        return decahedron_atom_count(v["p"], v["q"], v["r"])
    if shape in ("octahedron", "truncated-octahedron"):
        n, c = v["length"], v["cutoff"]
        return n * (2 * n * n + 1) // 3 - c * (c + 1) * (2 * c + 1)
    lattice = v["lattice"]
    a = v.get(LATTICE_CONSTANT.name) or lattice_constant(symbol, lattice)
    per_atom = {"fcc": a**3 / 4, "bcc": a**3 / 2, "hcp": math.sqrt(3) / 4 * a**3 * hcp_c_over_a(symbol)}[lattice]
    return max(1, round(math.pi / 6 * v["diameter_angstrom"] ** 3 / per_atom))


@lru_cache(maxsize=1)
def supported_elements() -> tuple[str, ...]:
    """Chemical symbols the builders accept: :data:`COMMON_ELEMENTS` first, then by atomic number.

    An element is accepted when ASE can build its bulk reference crystal
    (72 of them with ASE 3.29).

    Returns
    -------
    tuple of str
    """
    others = []
    for symbol in chemical_symbols[1:]:
        if symbol in COMMON_ELEMENTS:
            continue
        try:
            check_element(symbol)
        except SwaxsInputError:
            continue
        others.append(symbol)
    return COMMON_ELEMENTS + tuple(others)


__all__ = [
    "COMMON_ELEMENTS",
    "LATTICE_CONSTANT",
    "SHAPE_PARAMETERS",
    "ShapeParameter",
    "check_parameters",
    "estimated_atom_count",
    "supported_elements",
]
