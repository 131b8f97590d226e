"""Sweeps: refine a family of candidate clusters against one measurement and rank them by R_w.

A sweep is a shape, an element, a grid of the shape's size parameters and the
refinement options.  Every candidate is built, refined
(:func:`swaxs_lib.refine.cluster.refine_cluster`) and stored as a ``fit``
result whose cache key hashes everything that determines it (the
measurement's numbers, the candidate, the options, :data:`REFINE_VERSION`):
rerunning a sweep, or a larger one that contains it, computes only the
candidates not seen before.  Candidates are refined in parallel worker
processes (:func:`swaxs_lib.jobs.worker_pool`); each is stored as soon as it
is done, so an interrupted sweep keeps what it finished.

Grids
-----
``"p=3..7,q=1,r=0..3"``: each ``name=spec`` is a value, a list ``a|b|c``, or
a range ``a..b`` (step 1) or ``a..b:step``; the grid is their product, with
the shape's defaults for the names not given.  Combinations the shape's
rules reject (an octahedron's cutoff >= length/2) are left out and reported.
The default decahedron grid is the seed's 16 (p, q, r).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.structures import build_cluster
from swaxs_lib.structures.parameters import (
    SHAPE_PARAMETERS,
    check_parameters,
    estimated_atom_count,
)

#: Bump when a refinement of the same inputs would give other numbers (invalidates cached fits).
REFINE_VERSION = "refine-1"

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
    """

    x_min: float | None = None
    x_max: float | None = None
    q_min_inv_angstrom: float | None = None
    q_max_inv_angstrom: float | None = None
    background: str = "constant"
    fix: tuple[str, ...] = ()
    start: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> "RefineOptions":
        values = dict(values or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise SwaxsInputError(f"options: unknown {', '.join(sorted(unknown))}; expected "
                                  f"{', '.join(cls.__dataclass_fields__)}")
        start = values.get("start") or ()
        start = tuple(sorted((str(k), float(v)) for k, v in (start.items() if isinstance(start, Mapping) else start)))
        return cls(**{**values, "fix": tuple(sorted(values.get("fix") or ())), "start": start})

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["fix"], out["start"] = list(self.fix), dict(self.start)
        return out


@dataclass(frozen=True)
class Candidate:
    """One cluster of a sweep: shape, element and the builder's parameters."""

    shape: str
    element: str
    params: tuple[tuple[str, Any], ...]

    def label(self) -> str:
        if self.shape == "decahedron":
            p = dict(self.params)
            return f"{self.element} decahedron ({p['p']},{p['q']},{p['r']})"
        return f"{self.element} {self.shape} " + " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                                          for k, v in self.params)


@dataclass(frozen=True)
class SweepRow:
    """One ranked candidate: its fit's summary, where it is stored, whether it was reused."""

    rank: int
    candidate: Candidate
    n_atoms: int
    diameter_angstrom: float
    rw: float
    summary: Mapping[str, Any]
    result_id: str
    from_cache: bool


@dataclass(frozen=True)
class SweepResult:
    """Candidates ranked by R_w (best first), and those that could not be built or refined."""

    rows: tuple[SweepRow, ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())
    computed: int = 0
    reused: int = 0

    def table(self) -> dict[str, list]:
        """The ranking as CSV columns: rank, parameters, atoms, size, rw, refined values and sigmas.

        Each column appears once.  A grid parameter keeps its name and the
        grid's value (as in ``--grid`` and the sweep's ``best.params``); a
        derived column of the same name is left out: in a sphere sweep
        ``diameter_angstrom`` is the sphere's nominal diameter, the grid value,
        not the built cluster's largest centre-to-centre distance.
        """
        value_names: list[str] = []
        for row in self.rows:
            for key in row.summary:
                if _is_value(key) and key not in value_names:
                    value_names.append(key)
        param_names: list[str] = []
        for row in self.rows:
            for name, _ in row.candidate.params:
                if name not in param_names:
                    param_names.append(name)
        table: dict[str, list] = {}
        for row in self.rows:
            params = {n: dict(row.candidate.params).get(n, "") for n in param_names}
            values = {"rank": row.rank, "shape": row.candidate.shape, "element": row.candidate.element, **params,
                      "n_atoms": row.n_atoms, "diameter_angstrom": round(row.diameter_angstrom, 4), "rw": row.rw,
                      **{n: "" if row.summary.get(n) is None else row.summary[n] for n in value_names},
                      "result_id": row.result_id}
            values.update(params)  # a grid parameter keeps the grid's value over a derived column of its name
            for name, value in values.items():
                table.setdefault(name, []).append(value)
        return table


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


def candidates_for(shape: str, element: str, grid: Iterable[Mapping[str, Any]]) -> tuple[list[Candidate],
                                                                                       list[tuple[str, str]]]:
    """Valid candidates of a grid, and (label, reason) for the combinations left out."""
    valid, skipped = [], []
    for values in grid:
        label = f"{element} {shape} " + " ".join(f"{k}={v}" for k, v in values.items())
        try:
            params = check_parameters(shape, values)
            n = estimated_atom_count(shape, element, params)
        except SwaxsInputError as exc:
            skipped.append((label, str(exc)))
            continue
        if n > MAX_CANDIDATE_ATOMS:
            skipped.append((label, f"{n} atoms; a sweep takes at most {MAX_CANDIDATE_ATOMS}"))
            continue
        valid.append(Candidate(shape, element, tuple(params.items())))
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
    text = json.dumps({"data": data_key, "shape": candidate.shape, "element": candidate.element,
                       "params": [[k, v] for k, v in candidate.params], "options": options.to_dict(),
                       "version": REFINE_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def refine_candidate(measurement: Measurement, candidate: Candidate, options: RefineOptions) -> dict[str, Any]:
    """Build and refine one candidate; a JSON-friendly dict (summary, curves, cluster facts).

    Runs in a worker process: everything it returns is plain data.
    """
    from swaxs_lib.refine.cluster import refine_cluster

    cluster = build_cluster(candidate.shape, candidate.element, **dict(candidate.params))
    fit = refine_cluster(
        measurement, cluster.atoms, x_min=options.x_min, x_max=options.x_max,
        q_min_inv_angstrom=options.q_min_inv_angstrom, q_max_inv_angstrom=options.q_max_inv_angstrom,
        background=options.background, fix=options.fix, start=dict(options.start),
    )
    from swaxs_lib.store import cluster_hash

    return {
        "summary": fit.summary(),
        "curves": {"x": fit.x.tolist(), "data": fit.data.tolist(), "fitted": fit.fitted.tolist()},
        "cluster": cluster.info.to_dict(), "cluster_hash": cluster_hash(cluster),
    }


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
) -> SweepResult:
    """Refine every candidate of a grid against ``measurement`` and rank them by R_w.

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
        ``report(done, total, note)`` after each candidate.

    Returns
    -------
    SweepResult
    """
    from swaxs_lib.structures.elements import check_element

    element = check_element(element)
    options = options if isinstance(options, RefineOptions) else RefineOptions.from_mapping(options)
    sets = parse_grid(shape, grid) if grid is None or isinstance(grid, str) else [dict(g) for g in grid]
    candidates, skipped = candidates_for(shape, element, sets)
    if not candidates:
        raise SwaxsInputError(f"--grid: no valid {shape} in the grid ({len(skipped)} left out: "
                              f"{skipped[0][1] if skipped else 'empty'})")
    data_key = measurement_key(measurement)
    keys = {c: fit_key(data_key, c, options) for c in candidates}
    found = {c: store.find_result(keys[c]) for c in candidates}
    todo = [c for c in candidates if found[c] is None]
    total, done = len(candidates), len(candidates) - len(todo)
    note = lambda c, what: f"{c.label()}: {what}"  # noqa: E731
    if report is not None:
        report(done, total, f"{done} of {total} from the cache" if done else "starting")
    records = {c: r for c, r in found.items() if r is not None}

    def save(candidate: Candidate, out: dict[str, Any]):
        summary = out["summary"]
        return store.add_result(
            "fit", {"page": "sweep", "shape": candidate.shape, "element": candidate.element,
                    "params": dict(candidate.params), "options": options.to_dict(), "data_key": data_key,
                    "version": REFINE_VERSION},
            result={**out}, message=f"{candidate.label()}: R_w {summary['rw']:.4f}", dataset_id=dataset_id,
            cluster_hash=out["cluster_hash"], cache_key=keys[candidate],
        )

    failures: list[tuple[str, str]] = []
    if todo:
        n_workers = max(1, min(int(workers or 0) or _cores(), len(todo)))
        if n_workers == 1:
            for c in todo:
                try:
                    records[c] = save(c, refine_candidate(measurement, c, options))
                except SwaxsInputError as exc:
                    failures.append((c.label(), str(exc)))
                done += 1
                if report is not None:
                    report(done, total, note(c, "refined"))
        else:
            from swaxs_lib.jobs import worker_pool

            with worker_pool(n_workers) as pool:
                futures = {pool.submit(refine_candidate, measurement, c, options): c for c in todo}
                import concurrent.futures

                try:
                    for future in concurrent.futures.as_completed(futures):
                        c = futures[future]
                        try:
                            records[c] = save(c, future.result())
                        except SwaxsInputError as exc:
                            failures.append((c.label(), str(exc)))
                        done += 1
                        if report is not None:
                            report(done, total, note(c, "refined"))
                except BaseException:  # cancelled or interrupted: do not wait for the queue
                    for f in futures:
                        f.cancel()
                    raise
    rows = []
    for c, record in records.items():
        out = record.result or {}
        rows.append((float(out["summary"].get("rw") or math.inf), c, out, record))
    rows.sort(key=lambda item: (item[0], item[1].label()))
    ranked = tuple(
        SweepRow(rank=k + 1, candidate=c, n_atoms=int(out["cluster"]["n_atoms"]),
                 diameter_angstrom=float(out["cluster"]["diameter_angstrom"]), rw=rw, summary=out["summary"],
                 result_id=record.id, from_cache=c in found and found[c] is not None)
        for k, (rw, c, out, record) in enumerate(rows)
    )
    return SweepResult(rows=ranked, skipped=tuple(skipped + failures), computed=len(todo) - len(failures),
                       reused=len(candidates) - len(todo))


def sweep_task(store, args: Mapping[str, Any], report: Callable[[int, int, str], None]) -> dict[str, Any]:
    """The ``sweep`` job (:mod:`swaxs_lib.jobs`): args dataset_id, shape, element, grid, options, workers."""
    record = store.get_dataset(args["dataset_id"])
    result = sweep(store, record.measurement, args["shape"], args["element"], args.get("grid"),
                   args.get("options"), dataset_id=record.id, workers=args.get("workers"), report=report)
    return {"ranking": result.table(), "skipped": [list(s) for s in result.skipped], "computed": result.computed,
            "reused": result.reused, "best": result.rows[0].candidate.label() if result.rows else None}


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
                       "converged", "n_evaluations", "settings")


def _cores() -> int:
    import os

    return max(1, os.cpu_count() or 1)


__all__ = ["DEFAULT_DECAHEDRA", "DEFAULT_GRIDS", "REFINE_VERSION", "Candidate", "RefineOptions", "SweepResult",
           "SweepRow", "candidates_for", "fit_key", "measurement_key", "parse_grid", "refine_candidate", "sweep",
           "sweep_task"]
