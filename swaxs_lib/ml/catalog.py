"""The cluster classes of the simulated database and the size ladder of each family.

A *family* is one way of growing a shape (icosahedra by shells, Marks
decahedra (p, 2, 1) by p, fcc spheres by diameter ...); its *ladder* is its
members from about 0.9 to 7.2 nm (gold), in order of size.  Polydisperse
samples mix neighbouring rungs of one ladder, and "one shell" of a size error
means one rung.

Every member is built once, in gold at its own lattice constant (the
*template*); the other elements are the same geometry scaled by the ratio of
nearest-neighbour distances, so one pair-distance histogram serves all six
(:func:`template_histogram`).  For gold the ladder spans 0.9–7.2 nm, for
nickel (the smallest) 0.8–6.2 nm.

Classes (the ``shape_class`` label; ``shape`` is the ``cluster`` command's name):

=====================  =====================  =====================================
shape_class            shape                  families
=====================  =====================  =====================================
icosahedron            icosahedron            shells 3..14
marks_decahedron       decahedron             (p,1,1) (p,2,1) (p,1,2) (p,2,2) (p,p,1)
ino_decahedron         decahedron             (p,1,0) regular, (p,2,0), (p,p,0)
octahedron             octahedron             length, cutoff 0
truncated_octahedron   truncated-octahedron   length, regular cutoff (length-1)//3
cuboctahedron          cuboctahedron          shells
fcc_sphere             sphere (fcc)           diameter 9..72 Å by 3 Å
bcc_sphere             sphere (bcc)           same
hcp_sphere             sphere (hcp)           same
=====================  =====================  =====================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering.histogram import PairHistogram, fast_bin_width, pair_histogram
from swaxs_lib.structures import build_cluster, decahedron_atom_count
from swaxs_lib.structures.elements import nearest_neighbour_distance

#: The elements of the database.
ELEMENTS: tuple[str, ...] = ("Au", "Ag", "Pt", "Pd", "Cu", "Ni")

#: The fine shape classes, in a fixed order (the classifiers' label order).
SHAPE_CLASSES: tuple[str, ...] = (
    "icosahedron",
    "marks_decahedron",
    "ino_decahedron",
    "octahedron",
    "truncated_octahedron",
    "cuboctahedron",
    "fcc_sphere",
    "bcc_sphere",
    "hcp_sphere",
)

#: Fine class -> the ``cluster`` command's shape name.
SHAPE_OF_CLASS: dict[str, str] = {
    "icosahedron": "icosahedron",
    "marks_decahedron": "decahedron",
    "ino_decahedron": "decahedron",
    "octahedron": "octahedron",
    "truncated_octahedron": "truncated-octahedron",
    "cuboctahedron": "cuboctahedron",
    "fcc_sphere": "sphere",
    "bcc_sphere": "sphere",
    "hcp_sphere": "sphere",
}

#: The element every template is built in.
TEMPLATE_ELEMENT = "Au"
#: Ladder limits for the template (gold), Å.
MIN_DIAMETER_ANGSTROM, MAX_DIAMETER_ANGSTROM = 9.0, 72.0
#: Largest Q (1/Å) a template histogram serves, at any element's scale (<= 1).
TEMPLATE_Q_MAX_INV_ANGSTROM = 20.0
_SPHERE_STEP_ANGSTROM = 3.0
_MAX_P = 40


@dataclass(frozen=True)
class Member:
    """One rung of a family's ladder, as built in the template element.

    Attributes
    ----------
    shape_class : str
        One of :data:`SHAPE_CLASSES`.
    family : str
        e.g. ``"decahedron q=2 r=1"``.
    index : int
        Rung, 0 = smallest.
    shape : str
        The ``cluster`` command's shape name.
    parameters_json : str
        The builder's keyword arguments (sorted JSON, no element).
    n_atoms : int
    diameter_angstrom : float
        Largest atom–atom distance of the template (gold), Å.
    """

    shape_class: str
    family: str
    index: int
    shape: str
    parameters_json: str
    n_atoms: int
    diameter_angstrom: float

    @property
    def parameters(self) -> dict[str, Any]:
        return json.loads(self.parameters_json)


def element_scale(element: str) -> float:
    """Distance factor from the gold template to ``element`` (ratio of bulk nearest-neighbour distances)."""
    return nearest_neighbour_distance(element) / nearest_neighbour_distance(TEMPLATE_ELEMENT)


def _decahedron_family(q: Callable[[int], int], r: int) -> Callable[[int], dict[str, int] | None]:
    def member(p: int) -> dict[str, int] | None:
        return {"p": p, "q": q(p), "r": r}

    return member


def _family_specs() -> list[tuple[str, str, str, Callable[[int], dict[str, Any] | None], range]]:
    # (shape_class, family, shape, parameters of step n, steps)
    spheres = range(int(MIN_DIAMETER_ANGSTROM / _SPHERE_STEP_ANGSTROM), int(MAX_DIAMETER_ANGSTROM / _SPHERE_STEP_ANGSTROM) + 1)
    specs: list[tuple[str, str, str, Callable[[int], dict[str, Any] | None], range]] = [
        ("icosahedron", "icosahedron", "icosahedron", lambda n: {"shells": n}, range(2, 30)),
        ("octahedron", "octahedron", "octahedron", lambda n: {"length": n, "cutoff": 0}, range(2, 40)),
        ("truncated_octahedron", "truncated octahedron", "truncated-octahedron",
         lambda n: {"length": n, "cutoff": (n - 1) // 3}, range(4, 40)),
        ("cuboctahedron", "cuboctahedron", "cuboctahedron", lambda n: {"shells": n}, range(2, 30)),
    ]
    for q_name, q, r in (("1", lambda p: 1, 1), ("2", lambda p: 2, 1), ("1", lambda p: 1, 2), ("2", lambda p: 2, 2),
                         ("p", lambda p: p, 1)):
        specs.append(("marks_decahedron", f"decahedron q={q_name} r={r}", "decahedron", _decahedron_family(q, r),
                      range(1, _MAX_P)))
    for q_name, q in (("1", lambda p: 1), ("2", lambda p: 2), ("p", lambda p: p)):
        specs.append(("ino_decahedron", f"decahedron q={q_name} r=0", "decahedron", _decahedron_family(q, 0),
                      range(1, _MAX_P)))
    for lattice in ("fcc", "bcc", "hcp"):
        specs.append((f"{lattice}_sphere", f"{lattice} sphere", "sphere",
                      lambda n, lattice=lattice: {"diameter_angstrom": n * _SPHERE_STEP_ANGSTROM, "lattice": lattice},
                      spheres))
    return specs


def family_names() -> tuple[str, ...]:
    """Every family's name, sorted (the seed sequence's family index is a position in it)."""
    return tuple(sorted(spec[1] for spec in _family_specs()))


def class_of_family(family: str) -> str:
    """The fine shape class a family belongs to."""
    for spec in _family_specs():
        if spec[1] == family:
            return spec[0]
    raise SwaxsInputError(f"family: got {family!r}; expected one of {', '.join(family_names())}")


def size_group(family: str) -> str:
    """The size group of a family: the family itself, except decahedra, grouped by their q rule over r.

    A size expert (:mod:`swaxs_lib.ml.experts`) is trained per group.  The
    decahedra of one q rule and r = 0, 1, 2 (Ino and Marks) are the families
    noisy curves tell apart worst, and at a given SAXS curve their diameters
    differ little, so one expert serves them; every other family differs in
    how its diameter (largest atom–atom distance) relates to its SAXS curve
    and gets its own.
    """
    if family.startswith("decahedron q="):
        return family.split(" r=")[0]
    return family


def size_groups() -> tuple[str, ...]:
    """Every size group, sorted (the experts' order)."""
    return tuple(sorted({size_group(f) for f in family_names()}))


@lru_cache(maxsize=4)
def families(max_diameter_angstrom: float = MAX_DIAMETER_ANGSTROM) -> dict[str, tuple[Member, ...]]:
    """Every family's ladder up to ``max_diameter_angstrom`` (template Å), smallest first, keyed by family name.

    Builds each member once per process (~8 s for the full ladders).

    Returns
    -------
    dict of str to tuple of Member (empty for a family with no member that small)
    """
    limit = min(float(max_diameter_angstrom), MAX_DIAMETER_ANGSTROM)
    out: dict[str, tuple[Member, ...]] = {}
    for shape_class, family, shape, params_of, steps in _family_specs():
        members: list[Member] = []
        for n in steps:
            params = params_of(n)
            if shape == "decahedron" and decahedron_atom_count(params["p"], params["q"], params["r"]) > 20_000:
                break
            info = build_cluster(shape, TEMPLATE_ELEMENT, **params).info
            if info.extent_angstrom > limit:
                break
            if info.extent_angstrom < MIN_DIAMETER_ANGSTROM:
                continue
            members.append(Member(shape_class, family, len(members), shape, json.dumps(params, sort_keys=True),
                                  info.n_atoms, info.extent_angstrom))
        out[family] = tuple(members)
    return out


def family_of_class(shape_class: str) -> list[str]:
    """The family names of a fine class."""
    return [spec[1] for spec in _family_specs() if spec[0] == shape_class]


@lru_cache(maxsize=64)
def template_histogram(shape: str, parameters_json: str) -> PairHistogram:
    """The pair-distance histogram of a member built in gold (cached per process).

    Fine enough for Q up to :data:`TEMPLATE_Q_MAX_INV_ANGSTROM` after scaling to
    any element of :data:`ELEMENTS` (all scale factors are <= 1) with up to
    5 % expansion.
    """
    atoms = build_cluster(shape, TEMPLATE_ELEMENT, **json.loads(parameters_json)).atoms
    return pair_histogram(atoms, fast_bin_width(TEMPLATE_Q_MAX_INV_ANGSTROM * 1.05))


__all__ = [
    "ELEMENTS",
    "SHAPE_CLASSES",
    "SHAPE_OF_CLASS",
    "TEMPLATE_ELEMENT",
    "Member",
    "class_of_family",
    "element_scale",
    "families",
    "family_names",
    "family_of_class",
    "size_group",
    "size_groups",
    "template_histogram",
]
