"""Element lookups: bulk reference states and lattice constants from ASE.

ASE's ``ase.data.reference_states`` gives, for each element, the crystal
structure and lattice constant of its bulk reference state.  A cluster of a
lattice other than the element's own (an fcc icosahedron of Fe, a bcc sphere of
Au) keeps the element's nearest-neighbour distance, so that bond lengths stay
physical; a user who knows better passes the lattice constant explicitly.
"""

from __future__ import annotations

import math
from functools import lru_cache

from ase.data import atomic_numbers, reference_states

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
        If the symbol is unknown or ASE cannot build its bulk reference state.
    """
    text = str(element).strip()
    symbol = text[:1].upper() + text[1:].lower()
    if symbol not in atomic_numbers or symbol == "X":
        raise SwaxsInputError(
            f"element: got {element!r}; expected a chemical symbol such as Au, Ag, Pt, Pd, Cu or Ni"
        )
    _bulk_nn_distance(symbol)
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
    return _bulk_nn_distance(check_element(element))


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


@lru_cache(maxsize=None)
def _bulk_nn_distance(symbol: str) -> float:
    # Shortest distance in a 3x3x3 supercell of ASE's bulk reference crystal.
    try:
        from ase.build import bulk  # ase.build takes ~0.4 s to import: only where a crystal is built

        crystal = bulk(symbol).repeat(3)
    except Exception as exc:  # ASE raises ValueError/RuntimeError/KeyError for these
        state = reference_states[atomic_numbers[symbol]]
        kind = None if state is None else state.get("symmetry")
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()
        raise SwaxsInputError(
            f"element: ASE has no bulk crystal to build for {symbol} (reference state {kind!r}: {reason}); "
            "expected an element with a simple bulk reference state such as Au, Ag, Pt, Pd, Cu, Ni, Fe or Co"
        ) from None
    d = crystal.get_all_distances(mic=True)
    return float(d[d > 1e-6].min())
