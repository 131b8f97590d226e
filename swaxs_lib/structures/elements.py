"""Element lookups: bulk reference states and lattice constants from ASE.

ASE's ``ase.data.reference_states`` gives, for each element, the crystal
structure and lattice constant of its bulk reference state.  A cluster of a
lattice other than the element's own (an fcc icosahedron of Fe, a bcc sphere of
Au) keeps the element's nearest-neighbour distance, so that bond lengths stay
physical; a user who knows better passes the lattice constant explicitly.
"""

from __future__ import annotations

import math

from ase.data import atomic_numbers, chemical_symbols, reference_states

from swaxs_lib.errors import SwaxsInputError

#: Lattices a sphere can be cut from, with the nearest-neighbour distance as a
#: multiple of the cubic (or hexagonal basal) lattice constant a.
NN_PER_LATTICE_CONSTANT = {
    "fcc": 1.0 / math.sqrt(2.0),
    "bcc": math.sqrt(3.0) / 2.0,
    "hcp": 1.0,
}

_IDEAL_HCP_C_OVER_A = math.sqrt(8.0 / 3.0)


def check_element(element: str) -> str:
    """Return the chemical symbol of ``element`` or raise.

    Parameters
    ----------
    element : str
        Chemical symbol, case-insensitive (``"au"`` and ``"Au"`` both work).

    Returns
    -------
    str
        The symbol as ASE spells it.

    Raises
    ------
    SwaxsInputError
        If the symbol is unknown or ASE has no bulk reference state for it.
    """
    text = str(element).strip()
    symbol = text[:1].upper() + text[1:].lower()
    if symbol not in atomic_numbers or symbol == "X":
        raise SwaxsInputError(
            f"element: got {element!r}; expected a chemical symbol such as Au, Ag, Pt, Pd, Cu or Ni"
        )
    state = reference_states[atomic_numbers[symbol]]
    if state is None or state.get("symmetry") not in _SYMMETRIES_WITH_NN:
        kind = None if state is None else state.get("symmetry")
        raise SwaxsInputError(
            f"element: {symbol} has no bulk crystal reference state in ASE (got {kind!r}); "
            f"expected an element whose reference state is one of {sorted(_SYMMETRIES_WITH_NN)}"
        )
    return symbol


def nearest_neighbour_distance(element: str) -> float:
    """Nearest-neighbour distance of the element's bulk reference state.

    Parameters
    ----------
    element : str
        Chemical symbol.

    Returns
    -------
    float
        Distance in Å (2.885 Å for Au, from a = 4.08 Å).
    """
    symbol = check_element(element)
    state = reference_states[atomic_numbers[symbol]]
    return _SYMMETRIES_WITH_NN[state["symmetry"]](state)


def lattice_constant(element: str, lattice: str = "fcc") -> float:
    """Lattice constant a (Å) of ``element`` in ``lattice``.

    The element's own reference value when its bulk state is that lattice;
    otherwise the value that keeps its nearest-neighbour distance.

    Parameters
    ----------
    element : str
        Chemical symbol.
    lattice : {"fcc", "bcc", "hcp"}
        Lattice type.

    Returns
    -------
    float
        Lattice constant in Å (for hcp, the basal constant a).
    """
    symbol = check_element(element)
    check_lattice(lattice)
    state = reference_states[atomic_numbers[symbol]]
    if state["symmetry"] == lattice:
        return float(state["a"])
    return nearest_neighbour_distance(symbol) / NN_PER_LATTICE_CONSTANT[lattice]


def hcp_c_over_a(element: str) -> float:
    """c/a of the element's hcp reference state, or the ideal sqrt(8/3)."""
    symbol = check_element(element)
    state = reference_states[atomic_numbers[symbol]]
    if state["symmetry"] == "hcp":
        return float(state["c/a"])
    return _IDEAL_HCP_C_OVER_A


def check_lattice(lattice: str) -> str:
    """Return ``lattice`` if it is one of fcc, bcc, hcp, else raise."""
    if lattice not in NN_PER_LATTICE_CONSTANT:
        raise SwaxsInputError(
            f"lattice: got {lattice!r}; expected one of {', '.join(NN_PER_LATTICE_CONSTANT)}"
        )
    return lattice


def symbol_of(number: int) -> str:
    """Chemical symbol of atomic number ``number``."""
    return chemical_symbols[int(number)]


def _nn_cubic(factor: float):
    return lambda state: float(state["a"]) * factor


def _nn_hcp(state: dict) -> float:
    a = float(state["a"])
    c = a * float(state.get("c/a", _IDEAL_HCP_C_OVER_A))
    return min(a, math.sqrt(a * a / 3.0 + c * c / 4.0))


_SYMMETRIES_WITH_NN = {
    "fcc": _nn_cubic(1.0 / math.sqrt(2.0)),
    "bcc": _nn_cubic(math.sqrt(3.0) / 2.0),
    "sc": _nn_cubic(1.0),
    "diamond": _nn_cubic(math.sqrt(3.0) / 4.0),
    "hcp": _nn_hcp,
}
