"""The ``relax`` command: ASE BFGS/FIRE on a cluster with EMT, traced per step, refitted against data.

``python -m swaxs_lib relax --shape decahedron --pqr 6,1,1 [--element Au] [--data ID_OR_FILE]
[--fmax 0.05] [--steps 200] [--refit-every K] --trace trace.csv --trajectory traj.extxyz``
writes one trace row per step (``step,energy_ev_per_atom,fmax_ev_per_angstrom,mean_nn_angstrom,
radius_of_gyration_angstrom,extent_angstrom,volume_diameter_angstrom,rw,...``), the trajectory (extended xyz, one frame a
step) and optionally the best-R_w structure (``--best best.xyz``).  ``--element`` may be left out
with ``--data`` whose header names the element (as the header's ``qmin``/``qmax`` give the refits'
Q window); the JSON line's ``from_header`` records what was taken.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from swaxs_lib.cli.common import out_path, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data
from swaxs_lib.cli.header import element_for_cluster, from_header, say_header
from swaxs_lib.cli.refine import ProgressBar, _fit_flags, _options
from swaxs_lib.cli.structure import _structure_args, cluster_from_args
from swaxs_lib.errors import SwaxsInputError


def _cmd_relax(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.relax import relax_cluster, trajectory_text
    from swaxs_lib.structures import structure_text

    trace_out = out_path(args.trace, (".csv",))
    traj_out = out_path(args.trajectory, (".extxyz", ".xyz")) if args.trajectory else None
    best_out = out_path(args.best, (".xyz",)) if args.best else None
    if not (math.isfinite(args.fmax) and args.fmax > 0):
        raise SwaxsInputError(f"--fmax: got {args.fmax}; expected a positive number (eV/Å)")
    if not 0 <= args.steps <= 10_000:
        raise SwaxsInputError(f"--steps: got {args.steps}; expected 0 to 10000")
    if args.refit_every < 1:
        raise SwaxsInputError(f"--refit-every: got {args.refit_every}; expected an integer >= 1")
    options = _options(args)
    measurement, dataset_id = (None, None) if args.data is None else load_data(args.data, args)
    taken: dict[str, Any] = {}
    if measurement is not None:
        facts, choice = element_for_cluster(args, measurement)
    cluster = cluster_from_args(args)
    if measurement is None and best_out is not None:
        raise SwaxsInputError("--best: needs --data (the best structure is the one with the lowest R_w)")
    if measurement is not None:
        taken = from_header(facts, choice, measurement, args)
        say_header(facts, choice, taken)
    say(f"relax: {cluster.info.n_atoms} atoms ({cluster.info.formula} {cluster.info.shape}), {args.optimizer} + "
        f"EMT to fmax {args.fmax} eV/Å or {args.steps} steps" + (f", refit against {dataset_id or args.data} "
                                                                   f"every {args.refit_every} steps" if measurement else ""))
    bar = ProgressBar("relax")
    start = time.perf_counter()
    writer = _TraceWriter(trace_out, tuple(cluster.atoms.get_chemical_symbols()), args.optimizer, args.fmax, args.steps)

    def on_step(step, progress) -> None:
        writer.add(step)
        bar(step.step, progress.max_steps,
            f"fmax {step.fmax_ev_per_angstrom:.3f}" + (f" R_w {step.rw:.4f}" if step.rw is not None else ""))

    trace = relax_cluster(
        cluster.atoms, optimizer=args.optimizer, fmax_ev_per_angstrom=args.fmax, max_steps=args.steps,
        measurement=measurement, refit_every=args.refit_every, refine_options=options, on_step=on_step,
    )
    seconds = time.perf_counter() - start
    write_csv(trace_out, trace.columns())
    if traj_out is not None:
        traj_out.write_text(trajectory_text(trace))
    best = trace.best_rw_step()
    if best_out is not None and best is not None:
        best_out.write_text(structure_text(trace.atoms(trace.steps.index(best)), "xyz"))
    first, last = trace.steps[0], trace.steps[-1]
    say(f"{last.step} steps in {seconds:.1f} s, {'converged' if trace.converged else 'not converged'}: "
        f"E {first.energy_ev_per_atom:.4f} -> {last.energy_ev_per_atom:.4f} eV/atom, mean NN "
        f"{first.mean_nn_angstrom:.4f} -> {last.mean_nn_angstrom:.4f} Å"
        + (f", R_w {first.rw:.4f} -> {last.rw:.4f} (best {best.rw:.4f} at step {best.step})" if best else ""))
    return {
        "trace": str(trace_out), "trajectory": None if traj_out is None else str(traj_out),
        "best": None if best_out is None else str(best_out), "steps": last.step, "converged": trace.converged,
        "optimizer": trace.optimizer, "calculator": trace.calculator, "seconds": round(seconds, 3),
        "n_atoms": len(trace.symbols),
        "energy_ev_per_atom": [first.energy_ev_per_atom, last.energy_ev_per_atom],
        "fmax_ev_per_angstrom": [first.fmax_ev_per_angstrom, last.fmax_ev_per_angstrom],
        "mean_nn_angstrom": [first.mean_nn_angstrom, last.mean_nn_angstrom],
        "extent_angstrom": [first.extent_angstrom, last.extent_angstrom],
        "volume_diameter_angstrom": [first.volume_diameter_angstrom, last.volume_diameter_angstrom],
        "rw": None if best is None else [first.rw, last.rw],
        "best_rw_step": None if best is None else best.step, "best_rw": None if best is None else best.rw,
        "dataset": dataset_id or args.data, "from_header": taken,
    }


class _TraceWriter:
    """The trace CSV written as the relaxation goes: a row appended per step, so an interrupted run (Ctrl-C, a
    kill, a time limit) leaves every step so far; the whole file is written again when columns are added."""

    def __init__(self, path, symbols: tuple[str, ...], optimizer: str, fmax: float, max_steps: int) -> None:
        self.path, self.symbols, self.optimizer, self.fmax, self.max_steps = path, symbols, optimizer, fmax, max_steps
        self.steps: list = []
        self.names: list[str] | None = None

    def _columns(self, steps) -> dict[str, list]:
        from swaxs_lib.relax import RelaxTrace

        return RelaxTrace(self.symbols, tuple(steps), self.optimizer, "", self.fmax, self.max_steps, False).columns()

    def add(self, step) -> None:
        from swaxs_lib.io.tables import csv_text

        if self.steps and self.steps[-1].step == step.step:  # the last step again, now with its refit
            self.steps.pop()
            self.names = None
        self.steps.append(step)
        row = self._columns([step])
        if self.names is not None and set(row) <= set(self.names):
            line = csv_text({name: row.get(name, [""]) for name in self.names}).split("\n", 1)[1]
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
        else:  # the first step, or new columns (a refit's values): the whole file again
            columns = self._columns(self.steps)
            self.path.write_text(csv_text(columns))
            self.names = list(columns)


def register(sub) -> None:
    """Add the relax command to ``sub``."""
    p = sub.add_parser("relax", help="relax a cluster (ASE BFGS/FIRE + EMT), trace every step, refit against data")
    _structure_args(p, with_data=True)
    p.add_argument("--data", metavar="ID_OR_FILE", help="refit each traced structure against this G(r) or I(Q)")
    p.add_argument("--optimizer", choices=["BFGS", "FIRE", "LBFGS"], default="BFGS", help="ASE optimiser (BFGS)")
    p.add_argument("--fmax", type=float, default=0.05, help="stop when every force is below this (eV/Å; 0.05)")
    p.add_argument("--steps", type=int, default=200, help="at most this many steps (200)")
    p.add_argument("--refit-every", type=int, default=1, help="refit every K steps (and at the first and last)")
    _fit_flags(p)
    add_db_flag(p)
    p.add_argument("--trace", required=True, metavar="FILE.csv", help="one row per step")
    p.add_argument("--trajectory", metavar="FILE.extxyz", help="every step's structure, extended xyz")
    p.add_argument("--best", metavar="FILE.xyz", help="the structure with the lowest R_w (needs --data)")
    p.set_defaults(func=_cmd_relax)
