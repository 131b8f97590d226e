"""Cluster structures: builders, readers and their metadata.

>>> from swaxs_lib.structures import build_cluster
>>> build_cluster("decahedron", "Au", p=2, q=2, r=1).info.n_atoms
75
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable

from swaxs_lib.errors import SwaxsInputError

if TYPE_CHECKING:
    from swaxs_lib.structures.builders import Cluster

#: Where each public name lives.  Read on first use (PEP 562), so that importing one light submodule
#: (``structures.elements``, ``structures.parameters``: what the command line's parser needs) does not load
#: the builders' ase.build and xraydb (~1 s) into every command.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Cluster", "cuboctahedron", "decahedron", "decahedron_atom_count", "icosahedron",
                     "lattice_sphere", "octahedron", "truncated_octahedron"), "builders"),
    **dict.fromkeys(("ClusterInfo", "DistanceHistogram", "coordination_numbers", "describe",
                     "nn_distance_histogram"), "metadata"),
    **dict.fromkeys(("SHAPE_PARAMETERS", "ShapeParameter", "check_parameters", "estimated_atom_count"), "parameters"),
    **dict.fromkeys(("read_structure", "read_structure_bytes"), "readers"),
    "structure_text": "writers",
}


def _shapes() -> dict[str, Callable[..., Any]]:
    """Shape name -> builder.  The keys are the command line's ``--shape`` choices."""
    from swaxs_lib.structures import builders

    return {
        "icosahedron": builders.icosahedron,
        "decahedron": builders.decahedron,
        "octahedron": builders.octahedron,
        "cuboctahedron": builders.cuboctahedron,
        "truncated-octahedron": builders.truncated_octahedron,
        "sphere": builders.lattice_sphere,
    }


def __getattr__(name: str) -> Any:
    if name == "SHAPES":
        value: Any = _shapes()
    elif name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def build_cluster(shape: str, element: str, **parameters: Any) -> Cluster:
    """Build a cluster by shape name.

    Parameters
    ----------
    shape : str
        One of :data:`SHAPES`.
    element : str
        Chemical symbol.
    **parameters
        The builder's keyword arguments (``shells``; ``p, q, r``;
        ``length, cutoff``; ``diameter_angstrom, lattice``;
        ``lattice_constant_angstrom``).

    Returns
    -------
    swaxs_lib.structures.builders.Cluster
    """
    shapes = __getattr__("SHAPES")
    if shape not in shapes:
        raise SwaxsInputError(f"shape: got {shape!r}; expected one of {', '.join(shapes)}")
    try:
        return shapes[shape](element, **parameters)
    except TypeError as exc:
        raise SwaxsInputError(f"{shape}: {exc}") from None


__all__ = [
    "SHAPES",
    "SHAPE_PARAMETERS",
    "Cluster",
    "ClusterInfo",
    "DistanceHistogram",
    "ShapeParameter",
    "build_cluster",
    "check_parameters",
    "coordination_numbers",
    "cuboctahedron",
    "decahedron",
    "decahedron_atom_count",
    "describe",
    "estimated_atom_count",
    "icosahedron",
    "lattice_sphere",
    "nn_distance_histogram",
    "octahedron",
    "read_structure",
    "read_structure_bytes",
    "structure_text",
    "truncated_octahedron",
]
