"""Sweeps: refine a family of candidate clusters against one measurement and rank them by R_w.

A sweep is a shape, an element, a grid of the shape's size parameters and the
refinement options.  Every candidate is built, refined
(:func:`swaxs_lib.refine.cluster.refine_cluster`) and stored as a ``fit``
result whose cache key hashes everything that determines it (the
measurement's numbers, the candidate, the options, :data:`REFINE_VERSION`):
rerunning a sweep, or a larger one that contains it, computes only the
candidates not seen before.  Candidates are refined by an executor
(:mod:`swaxs_lib.executors`: parallel worker processes by default, this
process for one worker, or any executor passed in); each is stored as soon
as it is done, so an interrupted sweep keeps what it finished.

Grids
-----
``"p=3..7,q=1,r=0..3"``: each ``name=spec`` is a value, a list ``a|b|c``, or
a range ``a..b`` (step 1) or ``a..b:step``; the grid is their product, with
the shape's defaults for the names not given.  Combinations the shape's
rules reject (an octahedron's cutoff >= length/2) are left out and reported.
The default decahedron grid is the seed's 16 (p, q, r).

What the ranking can tell
-------------------------
A ranking by R_w reads as a verdict even when the data cannot decide.  Every
ranking therefore carries the test of :mod:`swaxs_lib.refine.significance`:
for each candidate its R_w ratio to the best, the critical ratio and p-value
of the F-test at ``alpha`` (0.05 unless set) with the Nyquist count of
independent points, and whether it is *indistinguishable from the best*;
each refined value's flag (fixed, stopped at a bound, or uncertainty >=
value); and, when the best candidate sits on the edge of the grid (its value
of a varied parameter is the grid's smallest or largest and the parameter
could go further), that edge and a grid text extended past it
(:func:`grid_edge`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, ClassVar, Iterable, Mapping, Sequence

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.executors import map_as_completed, open_executor
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.refine.significance import (
    DEFAULT_ALPHA,
    NYQUIST_METHOD,
    POINTS_METHOD,
    RankTest,
    rank_test,
)
from swaxs_lib.store.fits import StoredFit, read_fit, save_fit
from swaxs_lib.structures import build_cluster
from swaxs_lib.structures.parameters import (
    SHAPE_PARAMETERS,
    check_parameters,
    estimated_atom_count,
)
from swaxs_lib.tasks import register_task
from swaxs_lib.versioned import SCHEMA_KEY, as_mapping, fields_equal, plain, reading, schema_of

#: Bump when a refinement of the same inputs would give other numbers (invalidates cached fits).
#: refine-2: the particle's small-angle scattering is taken out of cluster G(r); summaries carry
#: n_refined, n_independent_points and each value's flag.
REFINE_VERSION = "refine-3"  # 3: the volume per atom from Voronoi cells

#: The seed's decahedron candidates (p, q, r).
DEFAULT_DECAHEDRA = ((3, 1, 2), (3, 1, 3), (4, 1, 0), (4, 1, 1), (4, 1, 2), (4, 1, 3), (5, 1, 0), (5, 1, 1),
                     (5, 1, 2), (5, 1, 3), (6, 1, 0), (6, 1, 1), (6, 1, 2), (7, 1, 0), (7, 1, 1), (7, 1, 2))
#: Default grids of the other families (shells, lengths, diameters in Å).
DEFAULT_GRIDS = {
    "icosahedron": "shells=3..8",
    "cuboctahedron": "shells=3..8",
    "octahedron": "length=4..12,cutoff=0",
    "truncated-octahedron": "length=6..15:3,cutoff=1..4",
    "sphere": "diameter_angstrom=10..40:2.5",
}
#: Largest candidate (atoms) a sweep accepts: each is refined hundreds of times.
MAX_CANDIDATE_ATOMS = 100_000
#: Grid steps a suggested grid reaches past the edge the best candidate sits on.
EDGE_EXTENSION_STEPS = 2
_RANGE = re.compile(r"^(-?[\d.]+)\.\.(-?[\d.]+)(?::([\d.]+))?$")


@dataclass(frozen=True)
class RefineOptions:
    """How each candidate is refined (see :func:`swaxs_lib.refine.cluster.refine_cluster`).

    Attributes
    ----------
    x_min, x_max : float or None
        Fit range (Å for G(r), 1/Å for I(Q)).
    q_min_inv_angstrom, q_max_inv_angstrom : float or None
        G(r): the experiment's Q range (default the file's header).
    background : str
        I(Q): none, constant or linear.
    fix : tuple of str
        Parameters held at their start.
    start : tuple of (str, float)
        Starting values.
    bounds : tuple of (str, float, float)
        Bounds (low, high) replacing the parameter table's.
    """

    x_min: float | None = None
    x_max: float | None = None
    q_min_inv_angstrom: float | None = None
    q_max_inv_angstrom: float | None = None
    background: str = "constant"
    fix: tuple[str, ...] = ()
    start: tuple[tuple[str, float], ...] = ()
    bounds: tuple[tuple[str, float, float], ...] = ()

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> "RefineOptions":
        values = dict(values or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise SwaxsInputError(f"options: unknown {', '.join(sorted(unknown))}; expected "
                                  f"{', '.join(cls.__dataclass_fields__)}")
        start = values.get("start") or ()
        start = tuple(sorted((str(k), float(v)) for k, v in (start.items() if isinstance(start, Mapping) else start)))
        bounds = values.get("bounds") or ()
        bounds = tuple(sorted((str(k), float(lo), float(hi)) for k, (lo, hi) in
                              (bounds.items() if isinstance(bounds, Mapping) else ((b[0], b[1:]) for b in bounds))))
        return cls(**{**values, "fix": tuple(sorted(values.get("fix") or ())), "start": start, "bounds": bounds})

    def refine_kwargs(self) -> dict[str, Any]:
        """These options as :func:`swaxs_lib.refine.cluster.refine_cluster`'s keyword arguments."""
        return {"x_min": self.x_min, "x_max": self.x_max, "q_min_inv_angstrom": self.q_min_inv_angstrom,
                "q_max_inv_angstrom": self.q_max_inv_angstrom, "background": self.background, "fix": self.fix,
                "start": dict(self.start), "bounds": {k: (lo, hi) for k, lo, hi in self.bounds}}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["fix"], out["start"] = list(self.fix), dict(self.start)
        out["bounds"] = {k: [lo, hi] for k, lo, hi in self.bounds}
        if not self.bounds:  # options without bounds keep the cache keys they had
            del out["bounds"]
        return out


@dataclass(frozen=True)
class Candidate:
    """One cluster of a sweep: shape, element and the builder's parameters.

    A sphere cut from a crystal (a cif) carries the cif's text in ``crystal``
    and its formula (``CdSe``) as ``element``; the text is hashed into the
    fit's cache key but left out of labels and tables.
    """

    shape: str
    element: str
    params: tuple[tuple[str, Any], ...]
    crystal: str = ""

    def build(self):
        """The candidate's :class:`~swaxs_lib.structures.Cluster`."""
        if self.crystal:
            from swaxs_lib.structures.builders import crystal_sphere
            from swaxs_lib.structures.readers import read_crystal_cell

            cell = read_crystal_cell(self.crystal.encode(), f"{self.element}.cif")
            return crystal_sphere(cell, dict(self.params)["diameter_angstrom"])
        return build_cluster(self.shape, self.element, **dict(self.params))

    def label(self) -> str:
        if self.shape == "decahedron":
            p = dict(self.params)
            return f"{self.element} decahedron ({p['p']},{p['q']},{p['r']})"
        return f"{self.element} {self.shape} " + " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                                          for k, v in self.params)

    @classmethod
    def of_fit(cls, fit: StoredFit) -> "Candidate":
        """The candidate a sweep's stored fit refined (from the fit's inputs, its cif included)."""
        with reading("sweep fit inputs"):
            inputs = fit.inputs
            return cls(str(inputs["shape"]), str(inputs["element"]),
                       tuple((str(k), v) for k, v in dict(inputs["params"]).items()),
                       str(inputs.get("crystal_cif") or ""))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (versioned with the :class:`SweepRow` that holds it)."""
        return {"shape": self.shape, "element": self.element, "params": [[k, v] for k, v in self.params],
                "crystal": self.crystal}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Candidate":
        with reading("sweep candidate"):
            return cls(str(data["shape"]), str(data["element"]), tuple((str(k), v) for k, v in data["params"]),
                       str(data.get("crystal") or ""))


@dataclass(frozen=True)
class SweepRow:
    """One ranked candidate: its fit's summary, where it is stored, whether it was reused.

    Sizes as :mod:`swaxs_lib.structures.sizes` defines them: the largest atom-centre distance and the
    diameter of the sphere with the cluster's volume.
    """

    SCHEMA: ClassVar[int] = 1

    rank: int
    candidate: Candidate
    n_atoms: int
    extent_angstrom: float
    volume_diameter_angstrom: float
    rw: float
    summary: Mapping[str, Any]
    result_id: str
    from_cache: bool

    __eq__ = fields_equal  # NaN sizes (fits stored before the sizes were named) equal themselves

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (:mod:`swaxs_lib.versioned`); the summary as the fit's."""
        return {SCHEMA_KEY: self.SCHEMA, "rank": self.rank, "candidate": self.candidate.to_json(),
                "n_atoms": self.n_atoms, "extent_angstrom": self.extent_angstrom,
                "volume_diameter_angstrom": self.volume_diameter_angstrom, "rw": self.rw,
                "summary": plain(self.summary), "result_id": self.result_id, "from_cache": self.from_cache}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "SweepRow":
        data = as_mapping(data, "sweep row")
        schema_of(data, "sweep row", cls.SCHEMA)  # rows of version 0 exist only inside a ranking table
        with reading("sweep row"):
            return cls(rank=int(data["rank"]), candidate=Candidate.from_json(data["candidate"]),
                       n_atoms=int(data["n_atoms"]), extent_angstrom=float(data["extent_angstrom"]),
                       volume_diameter_angstrom=float(data["volume_diameter_angstrom"]), rw=float(data["rw"]),
                       summary=dict(data["summary"]), result_id=str(data["result_id"]),
                       from_cache=bool(data["from_cache"]))


@dataclass(frozen=True)
class GridEdge:
    """The best candidate sits on the edge of the grid: the optimum may lie beyond it.

    Attributes
    ----------
    edges : tuple of (parameter, side, value)
        ``side`` is ``"lowest"`` or ``"highest"``: the best candidate's value is
        the grid's smallest (largest) of a parameter the grid varies, and the
        parameter's bounds allow going further.
    extended_grid : str or None
        Grid text (:func:`parse_grid`) reaching :data:`EDGE_EXTENSION_STEPS`
        steps past each such edge, the other parameters as in the grid (a
        product grid); None if it would exceed the grid limit.
    """

    SCHEMA: ClassVar[int] = 1

    edges: tuple[tuple[str, str, Any], ...]
    extended_grid: str | None

    def message(self) -> str:
        where = ", ".join(f"{name} = {_fmt(value)} is the {side} tried" for name, side, value in self.edges)
        text = f"The best candidate lies on the edge of the grid ({where}): the optimum may lie beyond it."
        if self.extended_grid:
            text += f" Extended grid: {self.extended_grid}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"edges": [{"parameter": n, "side": side, "value": v} for n, side, v in self.edges],
                "extended_grid": self.extended_grid, "message": self.message()}

    def to_json(self) -> dict[str, Any]:
        """:meth:`to_dict` with the schema version (:mod:`swaxs_lib.versioned`)."""
        return {SCHEMA_KEY: self.SCHEMA, **self.to_dict()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "GridEdge":
        """What :meth:`to_json` or :meth:`to_dict` wrote (version 0: a ranking's ``best_on_grid_edge``)."""
        data = as_mapping(data, "grid edge")
        schema_of(data, "grid edge", cls.SCHEMA)
        with reading("grid edge"):
            return cls(tuple((str(e["parameter"]), str(e["side"]), e["value"]) for e in data["edges"]),
                       data.get("extended_grid"))


@dataclass(frozen=True)
class SweepResult:
    """Candidates ranked by R_w (best first), those that could not be built or refined, and what the data decide.

    ``test`` compares every row with the best (:func:`~swaxs_lib.refine.significance.rank_test`,
    in row order); ``edge`` is set when the best candidate lies on the edge of the grid.
    """

    SCHEMA: ClassVar[int] = 1

    rows: tuple[SweepRow, ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())
    computed: int = 0
    reused: int = 0
    test: RankTest | None = None
    edge: GridEdge | None = None

    def significance(self) -> dict[str, Any]:
        """JSON-friendly: the test, alpha, N_ind, the candidates indistinguishable from the best, the grid edge."""
        out: dict[str, Any] = {"test": None, "alpha": None, "n_independent_points": None,
                               "n_independent_method": None, "rw_ratio_critical": None,
                               "indistinguishable_from_best": [], "n_indistinguishable": 0, "test_note": "",
                               "best_on_grid_edge": self.edge.to_dict() if self.edge is not None else None}
        if self.test is not None:
            t = self.test
            out.update(test=t.test, alpha=t.alpha, n_independent_points=t.n_independent,
                       n_independent_method=t.method, rw_ratio_critical=t.comparisons[t.best].rw_ratio_critical,
                       indistinguishable_from_best=[self.rows[i].candidate.label() for i in t.indistinguishable],
                       n_indistinguishable=len(t.indistinguishable), test_note=t.note)
        out["size"] = self.size_window()
        return out

    def size_window(self) -> dict[str, Any] | None:
        """The sizes the data allow: the best candidate's volume-equivalent diameter and the range of those of
        the candidates indistinguishable from it (docs/sizes.md), or None before a test or without sizes."""
        if not self.rows or self.test is None:
            return None
        sizes = [self.rows[i].volume_diameter_angstrom for i in (0, *self.test.indistinguishable)
                 if i < len(self.rows)]
        sizes = [d for d in sizes if math.isfinite(d)]
        if not sizes:
            return None
        return {"measure": "volume_diameter_angstrom", "best": round(self.rows[0].volume_diameter_angstrom, 3),
                "window": [round(min(sizes), 3), round(max(sizes), 3)],
                "note": "the candidates statistically indistinguishable from the best span this window"}

    def table(self) -> dict[str, list]:
        """The ranking as CSV columns: rank, parameters, atoms, sizes, rw, the test against the best,
        refined values with sigmas and flags, the undetermined parameters.

        Each column appears once: the grid's parameters (a sphere's ``diameter_angstrom`` is the cut
        sphere) are named apart from the built cluster's sizes (``extent_angstrom``,
        ``volume_diameter_angstrom``: :mod:`swaxs_lib.structures.sizes`).
        """
        bases: list[str] = []
        for row in self.rows:
            for key in row.summary:
                base = key.removesuffix("_sigma").removesuffix("_flag")
                if _is_value(key) and base not in bases:
                    bases.append(base)
        # each value, then its sigma and its flag (stored summaries come back with sorted keys)
        value_names = [n for b in bases for n in (b, f"{b}_sigma", f"{b}_flag")
                       if any(n in row.summary for row in self.rows)]
        param_names: list[str] = []
        for row in self.rows:
            for name, _ in row.candidate.params:
                if name not in param_names:
                    param_names.append(name)
        table: dict[str, list] = {"rank": [], "shape": [], "element": [], **{n: [] for n in param_names},
                                  "n_atoms": [], "extent_angstrom": [], "volume_diameter_angstrom": [], "rw": [],
                                  **{n: [] for n in value_names}, "result_id": []}
        tested = self.test is not None and len(self.test.comparisons) == len(self.rows)
        if tested:
            test_columns = {"rw_ratio_to_best": [], "rw_ratio_critical": [], "p_value_vs_best": [],
                            "indistinguishable_from_best": [], "n_independent_points": []}
            table = _insert_after(table, "rw", test_columns)
        table = _insert_after(table, "result_id", {"undetermined": [], "sigma_nyquist_factor": []}, before=True)
        for k, row in enumerate(self.rows):
            params = dict(row.candidate.params)
            table["rank"].append(row.rank)
            table["shape"].append(row.candidate.shape)
            table["element"].append(row.candidate.element)
            for n in param_names:
                table[n].append(params.get(n, ""))
            table["n_atoms"].append(row.n_atoms)
            table["extent_angstrom"].append(round(row.extent_angstrom, 4))
            table["volume_diameter_angstrom"].append(round(row.volume_diameter_angstrom, 4))
            table["rw"].append(row.rw)
            if tested:
                c = self.test.comparisons[k]
                table["rw_ratio_to_best"].append(round(c.rw_ratio, 6) if math.isfinite(c.rw_ratio) else "")
                table["rw_ratio_critical"].append("" if c.rw_ratio_critical is None else round(c.rw_ratio_critical, 6))
                table["p_value_vs_best"].append("" if c.p_value is None else float(f"{c.p_value:.4g}"))
                table["indistinguishable_from_best"].append(bool(c.indistinguishable))
                table["n_independent_points"].append(self.test.n_independent)
            table["undetermined"].append(" ".join(row.summary.get("undetermined") or ()))
            factor = row.summary.get("sigma_nyquist_factor")
            table["sigma_nyquist_factor"].append("" if factor is None else round(float(factor), 4))
            for n in value_names:
                v = row.summary.get(n)
                table[n].append("" if v is None else v)
            table["result_id"].append(row.result_id)
        return table

    @property
    def best(self) -> SweepRow | None:
        """The best-ranked row (None when no candidate was refined)."""
        return self.rows[0] if self.rows else None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (:mod:`swaxs_lib.versioned`): what a sweep job stores."""
        return {SCHEMA_KEY: self.SCHEMA, "rows": [r.to_json() for r in self.rows],
                "skipped": [[label, reason] for label, reason in self.skipped], "computed": self.computed,
                "reused": self.reused, "test": None if self.test is None else self.test.to_json(),
                "edge": None if self.edge is None else self.edge.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "SweepResult":
        """What :meth:`to_json` wrote; a sweep job's result stored before the schema key (its ranking as CSV
        columns) is migrated (:func:`swaxs_lib.legacy_rows.sweep_result`)."""
        data = as_mapping(data, "sweep result")
        if schema_of(data, "sweep result", cls.SCHEMA) == 0:
            from swaxs_lib.legacy_rows import sweep_result

            return sweep_result(data)
        with reading("sweep result"):
            return cls(rows=tuple(SweepRow.from_json(r) for r in data["rows"]),
                       skipped=tuple((str(label), str(reason)) for label, reason in data.get("skipped") or ()),
                       computed=int(data["computed"]), reused=int(data["reused"]),
                       test=None if data.get("test") is None else RankTest.from_json(data["test"]),
                       edge=None if data.get("edge") is None else GridEdge.from_json(data["edge"]))


def parse_grid(shape: str, text: str | None) -> list[dict[str, Any]]:
    """The parameter sets of a grid text (see the module docstring); the shape's default grid for None.

    Raises
    ------
    SwaxsInputError
        Unknown shape or parameter name, unreadable spec, an empty grid, or
        more than 500 combinations.

    Examples
    --------
    >>> [tuple(d.values()) for d in parse_grid("decahedron", "p=3..4,q=1,r=0|2")]
    [(3, 1, 0), (3, 1, 2), (4, 1, 0), (4, 1, 2)]
    >>> len(parse_grid("decahedron", None))
    16
    """
    if shape not in SHAPE_PARAMETERS:
        raise SwaxsInputError(f"shape: got {shape!r}; expected one of {', '.join(SHAPE_PARAMETERS)}")
    table = {p.name: p for p in SHAPE_PARAMETERS[shape]}
    if text is None or not str(text).strip():
        if shape == "decahedron":
            return [dict(p=p, q=q, r=r) for p, q, r in DEFAULT_DECAHEDRA]
        text = DEFAULT_GRIDS[shape]
    axes: dict[str, list[Any]] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        name, _, spec = part.partition("=")
        name, spec = name.strip(), spec.strip()
        if name not in table:
            raise SwaxsInputError(f"--grid: {name!r} is not a parameter of the {shape}; expected {', '.join(table)}")
        if not spec:
            raise SwaxsInputError(f"--grid: {part.strip()!r}; expected name=value, name=a..b[:step] or name=a|b|c")
        axes[name] = _values(table[name], spec)
    names = list(table)
    lists = [axes.get(n, [table[n].default]) for n in names]
    combos = [dict(zip(names, values)) for values in itertools.product(*lists)]
    if len(combos) > 500:
        raise SwaxsInputError(f"--grid: {len(combos)} combinations; expected at most 500")
    return combos


def candidates_for(shape: str, element: str, grid: Iterable[Mapping[str, Any]], crystal: str = ""
                   ) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Valid candidates of a grid, and (label, reason) for the combinations left out.

    With ``crystal`` (a cif's text) the shape must be a sphere: it is cut from
    that crystal, and ``element`` is its formula.
    """
    per_atom = None
    if crystal:
        from swaxs_lib.structures.readers import read_crystal_cell

        if shape != "sphere":
            raise SwaxsInputError(f"--cif: a sweep cuts spheres from a crystal; got --shape {shape}")
        cell = read_crystal_cell(crystal.encode(), f"{element}.cif")
        per_atom = abs(cell.cell.volume) / len(cell)
    valid, skipped = [], []
    for values in grid:
        label = f"{element} {shape} " + " ".join(f"{k}={v}" for k, v in values.items())
        if per_atom is not None and values.get("lattice", "fcc") != "fcc":  # parse_grid fills in the default
            raise SwaxsInputError(f"--grid: lattice={values['lattice']} with --cif; expected diameter_angstrom only "
                                  "(the crystal sets the lattice)")
        try:
            params = check_parameters(shape, values)
            if per_atom is not None:
                params = {"diameter_angstrom": params["diameter_angstrom"]}
                n = round(math.pi / 6 * params["diameter_angstrom"] ** 3 / per_atom)
            else:
                n = estimated_atom_count(shape, element, params)
        except SwaxsInputError as exc:
            skipped.append((label, str(exc)))
            continue
        if n > MAX_CANDIDATE_ATOMS:
            skipped.append((label, f"{n} atoms; a sweep takes at most {MAX_CANDIDATE_ATOMS}"))
            continue
        valid.append(Candidate(shape, element, tuple(params.items()), crystal))
    return valid, skipped


def measurement_key(measurement: Measurement) -> str:
    """sha256 of a measurement's numbers (kind, x, values, uncertainties): the same data, the same key."""
    h = hashlib.sha256(measurement.kind.encode())
    for array in (measurement.x, measurement.values, measurement.uncertainties):
        if array is not None:
            h.update(np.ascontiguousarray(array, dtype="<f8").tobytes())
        h.update(b"|")
    return h.hexdigest()


def fit_key(data_key: str, candidate: Candidate, options: RefineOptions) -> str:
    """The cache key of one candidate's refinement."""
    fields = {"data": data_key, "shape": candidate.shape, "element": candidate.element,
              "params": [[k, v] for k, v in candidate.params], "options": options.to_dict(),
              "version": REFINE_VERSION}
    if candidate.crystal:
        fields["crystal"] = hashlib.sha256(candidate.crystal.encode()).hexdigest()
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def refine_candidate(measurement: Measurement, candidate: Candidate, options: RefineOptions) -> StoredFit:
    """Build and refine one candidate: its fit as the store keeps it (summary, curves, cluster facts).

    Runs in a worker process: what it returns is plain data and arrays.
    """
    from swaxs_lib.refine.cluster import refine_cluster

    cluster = candidate.build()
    fit = refine_cluster(measurement, cluster.atoms, **options.refine_kwargs())
    from swaxs_lib.store import cluster_hash

    return StoredFit.from_fit(fit, producer="sweep", cluster=cluster.info, cluster_hash=cluster_hash(cluster))


def sweep(
    store,
    measurement: Measurement,
    shape: str,
    element: str,
    grid: str | Sequence[Mapping[str, Any]] | None = None,
    options: RefineOptions | Mapping[str, Any] | None = None,
    *,
    dataset_id: str | None = None,
    workers: int | None = None,
    report: Callable[[int, int, str], None] | None = None,
    alpha: float = DEFAULT_ALPHA,
    crystal: str | None = None,
    executor: Any = None,
) -> SweepResult:
    """Refine every candidate of a grid against ``measurement``, rank them by R_w, say what the data decide.

    Parameters
    ----------
    store : Store
        Where fits are cached and stored.
    measurement : Measurement
    shape, element : str
    grid : str, sequence of mappings, or None
        Grid text (:func:`parse_grid`), explicit parameter sets, or the default grid.
    options : RefineOptions or mapping
    dataset_id : str, optional
        Recorded with each fit.
    workers : int, optional
        Worker processes (default: the number of cores; 1 refines in this process).
    report : callable, optional
        ``report(done, total, note)`` after each candidate; an exception it
        raises (the job runner's ``JobCancelled``) stops the sweep, the
        candidates not yet started cancelled, those finished kept.
    alpha : float
        Significance level of the test against the best (:mod:`swaxs_lib.refine.significance`).
    crystal : str, optional
        The text of a cif: spheres (``shape="sphere"``) are cut from that
        crystal (:func:`~swaxs_lib.structures.builders.crystal_sphere`);
        ``element`` is then ignored and the crystal's formula used.
    executor : concurrent.futures.Executor or distributed.Client, optional
        Runs the refinements instead of local workers (``workers`` is then
        ignored) and is left running (:func:`swaxs_lib.executors.open_executor`).

    Returns
    -------
    SweepResult
        With ``test`` (every row against the best) and ``edge`` (None unless
        the best lies on the grid's edge).
    """
    from swaxs_lib.refine.significance import _check_alpha
    from swaxs_lib.structures.elements import check_element

    _check_alpha(alpha)
    if crystal:
        from swaxs_lib.structures.readers import read_crystal_cell

        element = read_crystal_cell(str(crystal).encode(), "crystal.cif").get_chemical_formula(
            mode="metal", empirical=True)
    else:
        element = check_element(element)
    options = options if isinstance(options, RefineOptions) else RefineOptions.from_mapping(options)
    sets = parse_grid(shape, grid) if grid is None or isinstance(grid, str) else [dict(g) for g in grid]
    candidates, skipped = candidates_for(shape, element, sets, str(crystal or ""))
    if not candidates:
        raise SwaxsInputError(f"--grid: no valid {shape} in the grid ({len(skipped)} left out: "
                              f"{skipped[0][1] if skipped else 'empty'})")
    refined, failures = refine_candidates(store, measurement, candidates, options, dataset_id=dataset_id,
                                          workers=workers, report=report, executor=executor)
    rows = [(fit.rw, c, fit, record, reused) for c, fit, record, reused in refined]
    rows.sort(key=lambda item: (item[0], item[1].label()))
    ranked = tuple(
        SweepRow(rank=k + 1, candidate=c, n_atoms=fit.cluster.n_atoms, extent_angstrom=fit.cluster.extent_angstrom,
                 volume_diameter_angstrom=fit.cluster.volume_diameter_angstrom or math.nan,
                 rw=rw, summary=fit.summary, result_id=record.id, from_cache=reused)
        for k, (rw, c, fit, record, reused) in enumerate(rows)
    )
    test = ranking_test(ranked, measurement.kind, alpha) if ranked else None
    edge = grid_edge(shape, [c.params for c in candidates], ranked[0].candidate.params) if ranked else None
    reused = sum(1 for *_, r in rows if r)
    return SweepResult(rows=ranked, skipped=tuple(skipped + failures), computed=len(rows) - reused,
                       reused=reused, test=test, edge=edge)


def refine_candidates(store, measurement: Measurement, candidates: Sequence[Candidate],
                      options: RefineOptions, *, dataset_id: str | None = None, workers: int | None = None,
                      report: Callable[[int, int, str], None] | None = None, executor: Any = None,
                      page: str = "sweep") -> tuple[list[tuple[Candidate, StoredFit, Any, bool]], list[tuple[str, str]]]:
    """Refine each candidate against ``measurement`` (or take its fit from the store), storing each as it is done.

    The engine of :func:`sweep` and of :mod:`swaxs_lib.analyse`: fits are
    cached by :func:`fit_key` (the data's numbers, the candidate, the options,
    :data:`REFINE_VERSION`), so a candidate seen before by any sweep or
    analysis with the same options is read, not refined.

    Returns
    -------
    refined : list of (Candidate, StoredFit, ResultRecord, bool)
        Every candidate refined or found, in no particular order; the bool is
        True when its fit came from the store.
    failures : list of (str, str)
        Label and reason of candidates that could not be built or refined.
    """
    data_key = measurement_key(measurement)
    keys = {c: fit_key(data_key, c, options) for c in candidates}
    found = {c: store.find_result(keys[c]) for c in candidates}
    todo = [c for c in candidates if found[c] is None]
    total, done = len(candidates), len(candidates) - len(todo)
    if report is not None:
        report(done, total, f"{done} of {total} from the cache" if done else "starting")
    records = {c: r for c, r in found.items() if r is not None}

    def save(candidate: Candidate, fit: StoredFit):
        inputs = {"page": page, "shape": candidate.shape, "element": candidate.element,
                  "params": dict(candidate.params), "options": options.to_dict(), "data_key": data_key,
                  "version": REFINE_VERSION, **({"crystal_cif": candidate.crystal} if candidate.crystal else {})}
        return save_fit(store, replace(fit, inputs=inputs, dataset_id=dataset_id), cache_key=keys[candidate],
                        message=f"{candidate.label()}: R_w {fit.rw:.4f}")

    failures: list[tuple[str, str]] = []
    if todo:
        refine = functools.partial(refine_candidate, measurement, options=options)
        with open_executor(workers, executor, n_tasks=len(todo)) as pool, \
                contextlib.closing(map_as_completed(pool, refine, todo)) as outcomes:
            for c, out, error in outcomes:
                try:
                    if error is not None:
                        raise error
                    records[c] = save(c, out)
                except SwaxsInputError as exc:
                    failures.append((c.label(), str(exc)))
                done += 1
                if report is not None:
                    report(done, total, f"{c.label()}: refined")
    refined = [(c, read_fit(record), record, found[c] is not None)  # fits stored by earlier versions included
               for c, record in records.items()]
    return refined, failures


def ranking_test(rows: Sequence[SweepRow], kind: str, alpha: float = DEFAULT_ALPHA) -> RankTest:
    """Every ranked fit against the best: the F-test of :func:`~swaxs_lib.refine.significance.rank_test`.

    All rows are fits of the same data over the same range, so the best row's
    independent-point count holds for all; each row's own P is used.
    """
    best = rows[0].summary
    n_ind = int(best.get("n_independent_points") or best.get("n_points") or 0)
    n_refined = [int(r.summary.get("n_refined") or 0) for r in rows]
    return rank_test([r.rw for r in rows], n_ind, n_refined, alpha,
                     method=NYQUIST_METHOD if kind == "gr" else POINTS_METHOD)


def grid_edge(shape: str, grid: Sequence[Sequence[tuple[str, Any]]], best: Sequence[tuple[str, Any]]
              ) -> GridEdge | None:
    """Whether the best candidate lies on the edge of the grid, and the grid extended past that edge.

    Parameters
    ----------
    shape : str
    grid : sequence of parameter items
        Every candidate's ``params`` (the grid need not be a product, e.g. the default decahedra).
    best : parameter items
        The best candidate's.

    Returns
    -------
    GridEdge or None
        None when, for every numeric parameter the grid varies, the best value
        is inside the tried range or at a bound of the parameter itself (r = 0 of
        a decahedron is a shape, not a grid limit).

    Examples
    --------
    >>> grid = [(("p", p), ("q", 1), ("r", r)) for p in (3, 4, 5) for r in (0, 1, 2)]
    >>> edge = grid_edge("decahedron", grid, (("p", 5), ("q", 1), ("r", 0)))
    >>> edge.edges, edge.extended_grid
    ((('p', 'highest', 5),), 'p=3..7,q=1,r=0..2')
    >>> grid_edge("decahedron", grid, (("p", 4), ("q", 1), ("r", 1))) is None
    True
    """
    table = {p.name: p for p in SHAPE_PARAMETERS[shape]}
    best = dict(best)
    axes: dict[str, list[Any]] = {}
    for params in grid:
        for name, value in params:
            if name in table and value is not None and value not in axes.setdefault(name, []):
                axes[name].append(value)
    edges, texts = [], []
    for name, values in axes.items():
        parameter = table[name]
        if parameter.kind == "choice" or len(values) < 2:
            texts.append(f"{name}={'|'.join(map(_fmt, values))}")
            continue
        values = sorted(values)
        step = min(b - a for a, b in zip(values, values[1:]))
        low, high = [], []
        if best.get(name) == values[0] and values[0] > parameter.minimum:
            edges.append((name, "lowest", values[0]))
            low = [v for k in range(EDGE_EXTENSION_STEPS, 0, -1)
                   if (v := _round(values[0] - k * step)) >= parameter.minimum]
        if best.get(name) == values[-1] and values[-1] < parameter.maximum:
            edges.append((name, "highest", values[-1]))
            high = [v for k in range(1, EDGE_EXTENSION_STEPS + 1)
                    if (v := _round(values[-1] + k * step)) <= parameter.maximum]
        texts.append(_axis_text(name, [*low, *values, *high], step, parameter.kind))
    if not edges:
        return None
    extended = ",".join(texts)
    try:
        parse_grid(shape, extended)
    except SwaxsInputError:
        extended = None
    return GridEdge(tuple(edges), extended)


def _axis_text(name: str, values: list[Any], step: float, kind: str) -> str:
    """``name=a..b[:step]`` for evenly spaced values, else ``name=a|b|c``."""
    even = all(abs((b - a) - step) <= 1e-9 * max(1.0, abs(step)) for a, b in zip(values, values[1:]))
    if not even:
        return f"{name}={'|'.join(map(_fmt, values))}"
    if kind == "int" and step == 1:
        return f"{name}={_fmt(values[0])}..{_fmt(values[-1])}"
    return f"{name}={_fmt(values[0])}..{_fmt(values[-1])}:{_fmt(step)}"


def _round(x: Any) -> Any:
    return x if isinstance(x, int) else round(float(x), 9)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _insert_after(table: dict[str, list], key: str, new: dict[str, list], before: bool = False) -> dict[str, list]:
    """``table`` with the columns of ``new`` right after (or before) column ``key``."""
    out: dict[str, list] = {}
    for name, column in table.items():
        if before and name == key:
            out.update(new)
        out[name] = column
        if not before and name == key:
            out.update(new)
    return out


@register_task("sweep")
def sweep_task(store, args: Mapping[str, Any], report: Callable[[int, int, str], None]) -> SweepResult:
    """The ``sweep`` job (:mod:`swaxs_lib.jobs`): args dataset_id, shape, element, grid, options, workers, alpha.

    The job stores the result's :meth:`~SweepResult.to_json`; :meth:`SweepResult.from_json` reads it back.
    """
    record = store.get_dataset(args["dataset_id"])
    return sweep(store, record.measurement, args["shape"], args.get("element"), args.get("grid"),
                 args.get("options"), dataset_id=record.id, workers=args.get("workers"), report=report,
                 alpha=float(args.get("alpha") or DEFAULT_ALPHA), crystal=args.get("cif_text"))


def _values(parameter, spec: str) -> list[Any]:
    try:
        if "|" in spec:
            values = [parameter.check(v.strip()) for v in spec.split("|") if v.strip()]
        elif (m := _RANGE.match(spec)):
            lo, hi = float(m.group(1)), float(m.group(2))
            step = float(m.group(3) or 1)
            if step <= 0 or hi < lo or (hi - lo) / step > 1000:
                raise SwaxsInputError(f"--grid: {parameter.name}={spec}; expected a..b[:step] with a <= b, step > 0")
            n = int(math.floor((hi - lo) / step + 1e-9)) + 1
            values = [parameter.check(lo + k * step) for k in range(n)]
        else:
            values = [parameter.check(spec)]
    except SwaxsInputError as exc:
        raise SwaxsInputError(f"--grid: {parameter.name}={spec}: {exc}") from None
    if not values:
        raise SwaxsInputError(f"--grid: {parameter.name}={spec}; expected at least one value")
    return values


def _is_value(key: str) -> bool:
    return key not in ("kind", "model", "rw", "chi2_reduced", "x_min", "x_max", "n_points", "weighting",
                       "converged", "n_evaluations", "settings", "n_independent_points", "n_refined",
                       "sigma_nyquist_factor", "undetermined")


__all__ = ["DEFAULT_DECAHEDRA", "DEFAULT_GRIDS", "EDGE_EXTENSION_STEPS", "REFINE_VERSION", "Candidate", "GridEdge",
           "RefineOptions", "SweepResult", "SweepRow", "candidates_for", "fit_key", "grid_edge", "measurement_key",
           "parse_grid", "ranking_test", "refine_candidate", "refine_candidates", "sweep", "sweep_task"]
