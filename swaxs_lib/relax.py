"""Relax a cluster with an ASE optimiser and trace every step: energy, forces, size, and the refit against data.

The seed's question: a decahedron relaxed with a force field contracts; does
the relaxed structure fit the measured PDF better?  :func:`relax_cluster`
runs ASE's ``BFGS`` (or ``FIRE``, ``LBFGS``) with ASE's EMT calculator (Al,
Cu, Ag, Au, Ni, Pd, Pt; any other ASE calculator can be passed), and at every
step records a :class:`RelaxStep`: energy per atom (eV), largest force
(eV/Å), mean nearest-neighbour distance, radius of gyration, extent and
volume-equivalent diameter (Å; :mod:`swaxs_lib.structures.sizes`),
the positions, and -- when a measurement is given, at the first and last
step and every ``refit_every`` steps -- the R_w and refined parameters of
the refinement of that step's structure (:func:`swaxs_lib.refine.cluster.refine_cluster`:
G(r) in real space, I(Q) by the Debye equation), exactly as a standalone
refinement of the same structure would give them.

Frames are written to an extended-xyz trajectory (energy and forces
included), which ``ase.io.read(path, ":")`` reads back.
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, ClassVar, Mapping

import numpy as np
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures.metadata import describe
from swaxs_lib.tasks import register_task
from swaxs_lib.versioned import (
    SCHEMA_KEY,
    array_from_json,
    array_to_json,
    as_mapping,
    fields_equal,
    plain,
    reading,
    schema_of,
)

#: Elements ASE's EMT has parameters for.
EMT_ELEMENTS = ("Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt")
OPTIMIZERS = ("BFGS", "FIRE", "LBFGS")
#: Parameters of a refit reported in the trace (those present).
TRACE_VALUES = ("scale", "zoom", "u", "delta2", "qdamp", "b", "c0")


@dataclass(frozen=True)
class RelaxStep:
    """One step of a relaxation.

    Attributes
    ----------
    step : int
        0 is the starting structure.
    energy_ev_per_atom : float
    fmax_ev_per_angstrom : float
        Largest force on an atom.
    mean_nn_angstrom, radius_of_gyration_angstrom, extent_angstrom, volume_diameter_angstrom : float
        Sizes as :mod:`swaxs_lib.structures.sizes` defines them.
    positions_angstrom : numpy.ndarray (n, 3) or None
        None when kept apart: a relax job stores every step's positions as a blob
        (:func:`frame_key`) and its trace without them.
    rw : float or None
        R_w of the refit of this structure, when one was made.
    refined : tuple of (str, float)
        The refit's values (scale, zoom, u_Au, ...); empty without a refit.
    elapsed_s : float
        Since the start of the relaxation.
    fit : RefinementResult or None
        The refit itself (curves included), when one was made; not part of the
        JSON nor of equality (a relax job stores its curves as blobs, :func:`fit_key`).
    """

    step: int
    energy_ev_per_atom: float
    fmax_ev_per_angstrom: float
    mean_nn_angstrom: float
    radius_of_gyration_angstrom: float
    extent_angstrom: float
    volume_diameter_angstrom: float
    positions_angstrom: np.ndarray | None
    rw: float | None = None
    refined: tuple[tuple[str, float], ...] = ()
    elapsed_s: float = 0.0
    fit: Any = field(default=None, compare=False)

    __eq__ = fields_equal  # positions element by element, NaN sizes equal

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (versioned with the :class:`RelaxTrace` that holds it); positions as (n, 3) lists or None."""
        return {"step": self.step, "energy_ev_per_atom": self.energy_ev_per_atom,
                "fmax_ev_per_angstrom": self.fmax_ev_per_angstrom, "mean_nn_angstrom": self.mean_nn_angstrom,
                "radius_of_gyration_angstrom": self.radius_of_gyration_angstrom,
                "extent_angstrom": self.extent_angstrom, "volume_diameter_angstrom": self.volume_diameter_angstrom,
                "positions_angstrom": None if self.positions_angstrom is None
                else array_to_json(self.positions_angstrom),
                "rw": self.rw, "refined": [[name, value] for name, value in self.refined], "elapsed_s": self.elapsed_s}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RelaxStep":
        with reading("relaxation step"):
            positions = data.get("positions_angstrom")
            rw = data.get("rw")
            return cls(
                step=int(data["step"]), energy_ev_per_atom=float(data["energy_ev_per_atom"]),
                fmax_ev_per_angstrom=float(data["fmax_ev_per_angstrom"]),
                mean_nn_angstrom=float(data["mean_nn_angstrom"]),
                radius_of_gyration_angstrom=float(data["radius_of_gyration_angstrom"]),
                extent_angstrom=float(data["extent_angstrom"]),
                volume_diameter_angstrom=float(data["volume_diameter_angstrom"]),
                positions_angstrom=None if positions is None
                else array_from_json(positions, "relaxation step positions").reshape(-1, 3),
                rw=None if rw is None else float(rw),
                refined=tuple((str(name), float(value)) for name, value in data.get("refined") or ()),
                elapsed_s=float(data.get("elapsed_s", 0.0)),
            )


@dataclass(frozen=True)
class RelaxTrace:
    """A relaxation: its steps and how it was run.

    Attributes
    ----------
    symbols : tuple of str
    steps : tuple of RelaxStep
    optimizer, calculator : str
    fmax_target_ev_per_angstrom : float
    max_steps : int
    converged : bool
        The last step's fmax is below the target.
    settings : tuple of (str, Any)
    """

    SCHEMA: ClassVar[int] = 1

    symbols: tuple[str, ...]
    steps: tuple[RelaxStep, ...]
    optimizer: str
    calculator: str
    fmax_target_ev_per_angstrom: float
    max_steps: int
    converged: bool
    settings: tuple[tuple[str, Any], ...] = field(default=())

    __eq__ = fields_equal

    def atoms(self, step: int = -1) -> Atoms:
        """The structure at a step (default the last).

        Raises
        ------
        SwaxsInputError
            The trace was stored without positions (a job's: read its frames, :func:`frame_key`).
        """
        positions = self.steps[step].positions_angstrom
        if positions is None:
            raise SwaxsInputError(f"relaxation step {self.steps[step].step}: stored without positions; expected "
                                  "a trace with them (a job keeps them apart, under frame_key)")
        return Atoms(self.symbols, positions=positions)

    def at_step(self, step: int) -> RelaxStep:
        """The traced step numbered ``step`` (IndexError when it was not traced)."""
        for s in self.steps:
            if s.step == step:
                return s
        raise IndexError(f"step {step} is not in this trace")

    def without_positions(self) -> "RelaxTrace":
        """The trace with every step's positions left out (what a relax job stores; its frames are blobs)."""
        return replace(self, steps=tuple(replace(s, positions_angstrom=None) for s in self.steps))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (:mod:`swaxs_lib.versioned`); positions included unless left out (:meth:`without_positions`)."""
        return {SCHEMA_KEY: self.SCHEMA, "symbols": list(self.symbols), "steps": [s.to_json() for s in self.steps],
                "optimizer": self.optimizer, "calculator": self.calculator,
                "fmax_target_ev_per_angstrom": self.fmax_target_ev_per_angstrom, "max_steps": self.max_steps,
                "converged": self.converged, "settings": [[k, plain(v)] for k, v in self.settings]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "RelaxTrace":
        """What :meth:`to_json` wrote; a relax job's result stored before the schema key (its trace as CSV
        columns) is migrated (:func:`swaxs_lib.legacy_rows.relax_trace`)."""
        data = as_mapping(data, "relaxation trace")
        if schema_of(data, "relaxation trace", cls.SCHEMA) == 0:
            from swaxs_lib.legacy_rows import relax_trace

            return relax_trace(data)
        with reading("relaxation trace"):
            return cls(symbols=tuple(str(x) for x in data["symbols"]),
                       steps=tuple(RelaxStep.from_json(s) for s in data["steps"]),
                       optimizer=str(data["optimizer"]), calculator=str(data["calculator"]),
                       fmax_target_ev_per_angstrom=float(data["fmax_target_ev_per_angstrom"]),
                       max_steps=int(data["max_steps"]), converged=bool(data["converged"]),
                       settings=tuple((str(k), v) for k, v in data.get("settings") or ()))

    def best_rw_step(self) -> RelaxStep | None:
        """The refitted step with the lowest R_w."""
        fitted = [s for s in self.steps if s.rw is not None]
        return min(fitted, key=lambda s: s.rw) if fitted else None

    @staticmethod
    def upgrade_columns(columns: Mapping[str, list]) -> dict[str, list]:
        """A stored trace's columns under today's names: traces stored before the sizes were named
        (:mod:`swaxs_lib.structures.sizes`) have ``diameter_angstrom`` (the extent) and no volume diameter."""
        out = dict(columns)
        if "extent_angstrom" not in out and "diameter_angstrom" in out:
            out["extent_angstrom"] = out.pop("diameter_angstrom")
            out.setdefault("volume_diameter_angstrom", [math.nan] * len(out["extent_angstrom"]))
        return out

    def columns(self) -> dict[str, list]:
        """The trace as CSV columns, one row per step (``rw`` and refined values empty without a refit).

        The refined values are named with their units (``u_Pt_angstrom2``,
        ``qdamp_inv_angstrom``: :func:`swaxs_lib.models.unit_column`).
        """
        from swaxs_lib.models import unit_column

        names: list[str] = []
        for s in self.steps:
            for k, _ in s.refined:
                if k not in names:
                    names.append(k)
        out: dict[str, list] = {
            "step": [s.step for s in self.steps],
            "energy_ev_per_atom": [s.energy_ev_per_atom for s in self.steps],
            "fmax_ev_per_angstrom": [s.fmax_ev_per_angstrom for s in self.steps],
            "mean_nn_angstrom": [s.mean_nn_angstrom for s in self.steps],
            "radius_of_gyration_angstrom": [s.radius_of_gyration_angstrom for s in self.steps],
            "extent_angstrom": [s.extent_angstrom for s in self.steps],
            "volume_diameter_angstrom": [s.volume_diameter_angstrom for s in self.steps],
            "rw": ["" if s.rw is None else s.rw for s in self.steps],
        }
        for name in names:
            out[unit_column(name, "cluster")] = [dict(s.refined).get(name, "") for s in self.steps]
        out["elapsed_s"] = [round(s.elapsed_s, 4) for s in self.steps]
        return out


def emt_calculator(atoms: Atoms):
    """ASE's EMT, after checking it covers every element of ``atoms``."""
    from ase.calculators.emt import EMT

    missing = sorted(set(atoms.get_chemical_symbols()) - set(EMT_ELEMENTS))
    if missing:
        raise SwaxsInputError(f"calculator emt: no parameters for {', '.join(missing)}; expected only "
                              f"{', '.join(EMT_ELEMENTS)} (or pass another ASE calculator)")
    return EMT()


def relax_cluster(
    atoms: Atoms,
    *,
    calculator: str | Callable[[Atoms], Any] | Any = "emt",
    optimizer: str = "BFGS",
    fmax_ev_per_angstrom: float = 0.05,
    max_steps: int = 200,
    measurement=None,
    refit_every: int = 1,
    refine_options: Mapping[str, Any] | None = None,
    on_step: Callable[[RelaxStep, "RelaxProgress"], None] | None = None,
) -> RelaxTrace:
    """Relax ``atoms`` and trace every step (see the module docstring).

    Parameters
    ----------
    atoms : ase.Atoms
        The starting cluster (not modified).
    calculator : "emt", a callable atoms -> ASE calculator, or an ASE calculator
    optimizer : {"BFGS", "FIRE", "LBFGS"}
    fmax_ev_per_angstrom : float
        Stop when every force is below this (eV/Å), > 0.
    max_steps : int
        Stop after this many optimiser steps (0..10000).
    measurement : Measurement, optional
        Refit each traced structure against it.
    refit_every : int
        Refit at step 0, the last step and every this many steps (>= 1).
    refine_options : mapping, optional
        Passed to :func:`~swaxs_lib.refine.cluster.refine_cluster` (x_min, x_max,
        q_min_inv_angstrom, q_max_inv_angstrom, background, fix, start).
    on_step : callable, optional
        ``on_step(step, progress)`` after every step (progress reports; a
        job's cancel raises from here).

    Returns
    -------
    RelaxTrace

    Raises
    ------
    SwaxsInputError
        Unknown optimiser, a calculator without the elements, bad limits.
    """
    if optimizer not in OPTIMIZERS:
        raise SwaxsInputError(f"optimizer: got {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
    if not (isinstance(fmax_ev_per_angstrom, (int, float)) and math.isfinite(fmax_ev_per_angstrom)
            and fmax_ev_per_angstrom > 0):
        raise SwaxsInputError(f"fmax: got {fmax_ev_per_angstrom!r}; expected a positive number (eV/Å)")
    if not (isinstance(max_steps, int) and 0 <= max_steps <= 10_000):
        raise SwaxsInputError(f"steps: got {max_steps!r}; expected an integer from 0 to 10000")
    if not (isinstance(refit_every, int) and refit_every >= 1):
        raise SwaxsInputError(f"refit_every: got {refit_every!r}; expected an integer >= 1")
    if len(atoms) < 2:
        raise SwaxsInputError("atoms: expected a cluster of at least two atoms")
    work = Atoms(atoms.get_chemical_symbols(), positions=np.array(atoms.positions, dtype=float))
    if calculator == "emt":
        calc, calc_name = emt_calculator(work), "EMT"
    elif isinstance(calculator, str):
        raise SwaxsInputError(f"calculator: got {calculator!r}; expected 'emt' or an ASE calculator")
    elif callable(calculator) and not hasattr(calculator, "get_forces"):
        calc = calculator(work)
        calc_name = type(calc).__name__
    else:
        calc, calc_name = calculator, type(calculator).__name__
    work.calc = calc
    opt = _optimizer(optimizer, work)
    options = dict(refine_options or {})
    progress = RelaxProgress(max_steps=max_steps, start=time.time())
    steps: list[RelaxStep] = []

    def record(k: int, last: bool) -> RelaxStep:
        forces = work.get_forces()
        info = describe(work, "relaxed", {})
        refit = measurement is not None and (k == 0 or last or k % refit_every == 0)
        rw, refined, fit = None, (), None
        if refit:
            rw, refined, fit = _refit(measurement, work, options)
        step = RelaxStep(
            step=k, energy_ev_per_atom=float(work.get_potential_energy()) / len(work),
            fmax_ev_per_angstrom=float(np.sqrt((forces**2).sum(axis=1)).max()),
            mean_nn_angstrom=float(info.mean_nn_distance_angstrom or math.nan),
            radius_of_gyration_angstrom=float(info.radius_of_gyration_angstrom),
            extent_angstrom=float(info.extent_angstrom),
            volume_diameter_angstrom=float(info.volume_diameter_angstrom or math.nan), positions_angstrom=work.positions.copy(),
            rw=rw, refined=refined, elapsed_s=time.time() - progress.start, fit=fit,
        )
        return step

    steps.append(record(0, max_steps == 0))
    if on_step is not None:
        on_step(steps[0], progress)
    converged = steps[0].fmax_ev_per_angstrom < fmax_ev_per_angstrom
    k = 0
    if not converged and max_steps > 0:
        for _ in opt.irun(fmax=fmax_ev_per_angstrom, steps=max_steps):
            # irun yields once before the first step (the start) and after each step
            if opt.nsteps == 0:
                continue
            k = opt.nsteps
            fmax_now = float(np.sqrt((work.get_forces() ** 2).sum(axis=1)).max())
            last = fmax_now < fmax_ev_per_angstrom or k >= max_steps
            steps.append(record(k, last))
            if on_step is not None:
                on_step(steps[-1], progress)
            if last:
                break
    converged = steps[-1].fmax_ev_per_angstrom < fmax_ev_per_angstrom
    if measurement is not None and steps[-1].rw is None:  # the optimiser stopped on its own
        rw, refined, fit = _refit(measurement, Atoms(work.get_chemical_symbols(),
                                                     positions=steps[-1].positions_angstrom), options)
        from dataclasses import replace

        steps[-1] = replace(steps[-1], rw=rw, refined=refined, fit=fit)
        if on_step is not None:
            on_step(steps[-1], progress)
    return RelaxTrace(
        symbols=tuple(work.get_chemical_symbols()), steps=tuple(steps), optimizer=optimizer, calculator=calc_name,
        fmax_target_ev_per_angstrom=float(fmax_ev_per_angstrom), max_steps=max_steps, converged=converged,
        settings=tuple(sorted(plain({"refit_every": refit_every, **options}).items())),  # JSON types: round trips
    )


@dataclass
class RelaxProgress:
    """What :func:`relax_cluster` passes to ``on_step`` besides the step."""

    max_steps: int
    start: float


def trajectory_text(trace: RelaxTrace) -> str:
    """Every step as extended xyz (energy per atom, fmax and R_w in each frame's comment)."""
    from ase.io import write

    out = io.StringIO()
    for s in trace.steps:
        frame = Atoms(trace.symbols, positions=s.positions_angstrom)
        frame.info.update(step=s.step, energy_ev_per_atom=s.energy_ev_per_atom,
                          fmax_ev_per_angstrom=s.fmax_ev_per_angstrom)
        if s.rw is not None:
            frame.info["rw"] = s.rw
        write(out, frame, format="extxyz", columns=["symbols", "positions"], write_info=True)
    return out.getvalue()


def frame_key(job_id: str, step: int) -> str:
    """The store's blob key of a relaxation job's frame (positions of one step)."""
    return f"relax/{job_id}/frame/{step:06d}"


def encode_positions(positions: np.ndarray) -> bytes:
    """(n, 3) float64 positions as zlib-compressed little-endian bytes."""
    import zlib

    return zlib.compress(np.ascontiguousarray(positions, dtype="<f8").tobytes(), 3)


def decode_positions(data: bytes) -> np.ndarray:
    import zlib

    return np.frombuffer(zlib.decompress(data), dtype="<f8").reshape(-1, 3).copy()


@register_task("relax")
def relax_task(store, args: Mapping[str, Any], report: Callable[..., None]) -> RelaxTrace:
    """The ``relax`` job (:mod:`swaxs_lib.jobs`).

    ``args``: ``cluster`` ({"shape", "element", "params"} or {"key": store
    hash}), optional ``dataset_id``, ``optimizer``, ``fmax``, ``steps``,
    ``refit_every``, ``options`` (refinement), and ``job_id`` (for the frame
    keys).  Every step's positions go to the store as a blob
    (:func:`frame_key`), and its refit's curves too (:func:`fit_key`); the
    trace, without positions, is in the job's result (:meth:`RelaxTrace.to_json`),
    so far while it runs (a page draws it live; :func:`job_trace` reads it).
    """
    from swaxs_lib.structures import build_cluster

    max_steps = int(args.get("steps", 200))
    report(0, max_steps, "building the cluster", force=True)  # the total from the start, not "0 of 0"
    spec = dict(args["cluster"])
    if "key" in spec:
        atoms = store.get_cluster(spec["key"]).atoms
    else:
        atoms = build_cluster(spec["shape"], spec["element"], **dict(spec.get("params", {}))).atoms
    measurement = store.get_dataset(args["dataset_id"]).measurement if args.get("dataset_id") else None
    job_id = args["job_id"]
    fmax = float(args.get("fmax", 0.05))
    rows: list[RelaxStep] = []
    symbols = tuple(atoms.get_chemical_symbols())

    def on_step(step: RelaxStep, progress: RelaxProgress) -> None:
        store.put_blob(frame_key(job_id, step.step), encode_positions(step.positions_angstrom))
        if step.fit is not None:
            store.put_blob(fit_key(job_id, step.step), encode_curves(step.fit))
        if rows and rows[-1].step == step.step:  # the last step again, now with its refit
            rows.pop()
        rows.append(replace(step, positions_angstrom=None, fit=None))  # both are blobs now
        partial = RelaxTrace(symbols, tuple(rows), args.get("optimizer", "BFGS"), "", fmax, progress.max_steps, False)
        note = f"step {step.step}: fmax {step.fmax_ev_per_angstrom:.3f} eV/Å" + (
            f", R_w {step.rw:.4f}" if step.rw is not None else "")
        report(step.step, progress.max_steps, note, extra=partial.to_json(), force=step.rw is not None)

    trace = relax_cluster(
        atoms, optimizer=args.get("optimizer", "BFGS"), fmax_ev_per_angstrom=fmax,
        max_steps=max_steps, measurement=measurement, refit_every=int(args.get("refit_every", 1)),
        refine_options=args.get("options"), on_step=on_step,
    )
    return trace.without_positions()  # the job stores its to_json


def _discard_unreported_frames(store, record) -> None:
    """A relaxation that did not finish keeps the frames and refits of the steps its stored trace reaches
    (the page shows them); those written after its last progress report are removed."""
    trace = job_trace(record.result)
    last = -1 if trace is None else max(s.step for s in trace.steps)
    for key in store.blob_keys(f"relax/{record.id}/"):
        try:
            step = int(key.rsplit("/", 1)[1])
        except ValueError:
            continue
        if step > last:
            store.delete_blobs(key)


relax_task.discard_unfinished = _discard_unreported_frames


def job_trace(result: Mapping[str, Any] | None) -> RelaxTrace | None:
    """The trace in a relax job's result (the steps so far while it runs), None before its first step.

    Results stored before traces carried a schema version are read too (:meth:`RelaxTrace.from_json`).
    """
    if not result or not (result.get("steps") or (result.get("trace") or {}).get("step")):
        return None
    return RelaxTrace.from_json(result)


def _refit(measurement, atoms: Atoms, options: Mapping[str, Any]):
    from swaxs_lib.refine.cluster import refine_cluster

    fit = refine_cluster(measurement, Atoms(atoms.get_chemical_symbols(), positions=atoms.positions.copy()),
                         **dict(options))
    refined = tuple((v.name, float(v.value)) for v in fit.values if v.name.split("_")[0] in TRACE_VALUES)
    return float(fit.rw), refined, fit


def fit_key(job_id: str, step: int) -> str:
    """The store's blob key of a relaxation job's refit curves at one step."""
    return f"relax/{job_id}/fit/{step:06d}"


def encode_curves(fit) -> bytes:
    """x, data and fitted of a refit as zlib-compressed little-endian float64 (3, n)."""
    import zlib

    return zlib.compress(np.ascontiguousarray(np.vstack([fit.x, fit.data, fit.fitted]), dtype="<f8").tobytes(), 3)


def decode_curves(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import zlib

    x, y, fitted = np.frombuffer(zlib.decompress(data), dtype="<f8").reshape(3, -1)
    return x.copy(), y.copy(), fitted.copy()


def _optimizer(name: str, atoms: Atoms):
    from ase import optimize

    cls = getattr(optimize, name)
    return cls(atoms, logfile=None)


__all__ = ["EMT_ELEMENTS", "OPTIMIZERS", "RelaxProgress", "RelaxStep", "RelaxTrace", "decode_curves",
           "decode_positions", "emt_calculator", "encode_curves", "encode_positions", "fit_key", "frame_key",
           "job_trace", "relax_cluster", "relax_task", "trajectory_text"]
