"""Cluster structures: builders, readers and their metadata.

>>> from swaxs_lib.structures import build_cluster
>>> build_cluster("decahedron", "Au", p=2, q=2, r=1).info.n_atoms
75
"""

from __future__ import annotations

from typing import Any, Callable

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures.builders import (
    Cluster,
    cuboctahedron,
    decahedron,
    decahedron_atom_count,
    icosahedron,
    lattice_sphere,
    octahedron,
    truncated_octahedron,
)
from swaxs_lib.structures.metadata import (
    ClusterInfo,
    DistanceHistogram,
    coordination_numbers,
    describe,
    nn_distance_histogram,
)
from swaxs_lib.structures.parameters import (
    SHAPE_PARAMETERS,
    ShapeParameter,
    check_parameters,
    estimated_atom_count,
)
from swaxs_lib.structures.readers import read_structure, read_structure_bytes
from swaxs_lib.structures.writers import structure_text

#: Shape name -> builder.  The keys are the command line's ``--shape`` choices.
SHAPES: dict[str, Callable[..., Cluster]] = {
    "icosahedron": icosahedron,
    "decahedron": decahedron,
    "octahedron": octahedron,
    "cuboctahedron": cuboctahedron,
    "truncated-octahedron": truncated_octahedron,
    "sphere": lattice_sphere,
}


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
    Cluster
    """
    if shape not in SHAPES:
        raise SwaxsInputError(f"shape: got {shape!r}; expected one of {', '.join(SHAPES)}")
    try:
        return SHAPES[shape](element, **parameters)
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
