"""Build the simulated database: plan independent batches, run them in worker processes, store each.

The plan is a pure function of the :class:`BuildSpec` (seed included): every
batch is one family of one split with up to ``batch_size`` samples, and each
sample's random numbers come from ``SeedSequence([seed, split, family,
chunk, index])``, so any batch can be recomputed anywhere, in any order, by
any scheduler (``run_batch`` takes and returns plain data: any executor of
:mod:`swaxs_lib.executors` runs it) and gives the same curves.
:func:`build_database` runs the batches not yet stored, stores each as it
finishes (one transaction), and reports progress; after an interruption it
resumes where it stopped.

Splits: ``train`` (polydispersity 0 with probability 0.35, else uniform
0–30 %), ``test-mono`` (monodisperse) and ``test-poly20`` (20 % polydisperse)
with their own seeds (``seed + 1`` and ``seed + 2``: no noise realisation,
variant or size mix is shared with training), and ``library`` (every rung,
every element, noise-free; the library-search baseline's references).
Within a split each class gets the same number of samples, spread over its
families; the centre rung is uniform over the family's ladder.

Examples
--------
>>> spec = BuildSpec(train_per_class=2, test_per_class=1, max_diameter_angstrom=14.0)
>>> len(plan_batches(spec)) > 0
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.executors import executor_width, map_as_completed, open_executor
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, element_scale, families, family_names, family_of_class
from swaxs_lib.ml.simulate import Q_GRID, R_GRID, clean_variant, draw_variant, simulate
from swaxs_lib.store import Store

#: Split name -> code in the seed sequence (and its seed offset).
SPLITS: dict[str, int] = {"train": 0, "test-mono": 1, "test-poly20": 2, "library": 3}

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildSpec:
    """What a database holds.

    Attributes
    ----------
    train_per_class : int
        Training samples per shape class.
    test_per_class : int
        Samples per class in each of the two test splits.
    seed : int
        Root seed (recorded with the build; test splits use seed + 1, + 2).
    max_diameter_angstrom : float
        Only ladder rungs up to this template (gold) diameter (Å): small test builds.
    batch_size : int
        Samples per batch at most.
    library : bool
        Include the noise-free library split.
    """

    train_per_class: int = 2800
    test_per_class: int = 200
    seed: int = 20261202
    max_diameter_angstrom: float = 72.0
    batch_size: int = 60
    library: bool = True

    def __post_init__(self) -> None:
        for name in ("train_per_class", "test_per_class", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (1 if name == "batch_size" else 0):
                raise SwaxsInputError(f"{name}: got {value!r}; expected a non-negative integer")
        if not (math.isfinite(self.max_diameter_angstrom) and self.max_diameter_angstrom >= 9.0):
            raise SwaxsInputError(f"max_diameter_angstrom: got {self.max_diameter_angstrom!r}; expected >= 9 Å")


#: Named sizes of :class:`BuildSpec` for the command line.
PRESETS: dict[str, BuildSpec] = {
    "default": BuildSpec(),
    "small": BuildSpec(train_per_class=120, test_per_class=30, max_diameter_angstrom=40.0),
    "tiny": BuildSpec(train_per_class=20, test_per_class=4, max_diameter_angstrom=16.0, batch_size=8),
}


@dataclass(frozen=True)
class Batch:
    """One unit of work: ``count`` samples of one family in one split."""

    key: str
    split: str
    family: str
    chunk: int
    start: int
    count: int
    seed: int
    max_diameter_angstrom: float


def ladders(max_diameter_angstrom: float) -> dict[str, tuple]:
    """Each family's ladder cut at ``max_diameter_angstrom`` (template Å), empty families dropped."""
    return {name: ladder for name, ladder in families(max_diameter_angstrom).items() if ladder}


def plan_batches(spec: BuildSpec) -> list[Batch]:
    """Every batch of ``spec``, in a fixed order."""
    fam = ladders(spec.max_diameter_angstrom)
    batches: list[Batch] = []
    counts = {"train": spec.train_per_class, "test-mono": spec.test_per_class, "test-poly20": spec.test_per_class}
    for split, per_class in counts.items():
        for shape_class in SHAPE_CLASSES:
            names = [f for f in family_of_class(shape_class) if f in fam]
            for k, family in enumerate(names):
                n = per_class // len(names) + (1 if k < per_class % len(names) else 0)
                for chunk, start in enumerate(range(0, n, spec.batch_size)):
                    batches.append(Batch(f"{split}/{family}/{chunk:04d}", split, family, chunk, start,
                                         min(spec.batch_size, n - start), spec.seed + SPLITS[split],
                                         spec.max_diameter_angstrom))
    if spec.library:
        for family, ladder in fam.items():
            batches.append(Batch(f"library/{family}/0000", "library", family, 0, 0, len(ladder) * len(ELEMENTS),
                                 spec.seed + SPLITS["library"], spec.max_diameter_angstrom))
    return batches


def run_batch(batch: Batch) -> dict[str, Any]:
    """Simulate one batch (no store involved): ``{"key", "split", "samples", "n_curves", "compute_s"}``.

    Takes a :class:`Batch` (a few hundred bytes pickled) and returns plain
    data: labels, and each sample's ``iq`` and ``gr`` as float32 arrays, the
    precision the store keeps (:meth:`~swaxs_lib.store.Store.put_batch`).
    """
    start = time.perf_counter()
    family_index = family_names().index(batch.family)
    ladder = ladders(batch.max_diameter_angstrom)[batch.family]
    samples, n_curves = [], 0
    for i in range(batch.count):
        entropy = [batch.seed, SPLITS[batch.split], family_index, batch.chunk, i]
        rng = np.random.default_rng(np.random.SeedSequence(entropy))
        if batch.split == "library":
            centre, variant = i // len(ELEMENTS), clean_variant(ELEMENTS[i % len(ELEMENTS)])
        else:
            centre, variant = int(rng.integers(len(ladder))), draw_variant(rng, batch.split)
        sim = simulate(ladder, centre, variant, rng)
        n_curves += 2 * len(sim["weights"])
        member = ladder[centre]
        samples.append({
            "split": batch.split, "shape_class": member.shape_class, "shape": member.shape, "family": batch.family,
            "rung": centre, "element": variant.element, "diameter_angstrom": float(sim["diameter_angstrom"]),
            "n_atoms": float(sim["n_atoms"]), "shell_step_angstrom": shell_step(ladder, centre, variant),
            "parameters_json": member.parameters_json, "variant_json": variant.to_json(),
            "weights_json": _json(sim["weights"]), "seed_json": _json(entropy),
            # as the store keeps them (little-endian float32): half the bytes a worker sends back, same stored values
            "iq": np.asarray(sim["iq"], "<f4"), "gr": np.asarray(sim["gr"], "<f4"),
        })
    return {"key": batch.key, "split": batch.split, "samples": samples, "n_curves": n_curves,
            "compute_s": time.perf_counter() - start}


def shell_step(ladder: tuple, centre: int, variant) -> float:
    """The diameter (Å, in the sample's element and expansion) between rungs next to ``centre``: one "shell"."""
    d = [m.diameter_angstrom for m in ladder]
    if len(d) == 1:
        step = d[0] * 0.2
    elif centre == 0:
        step = d[1] - d[0]
    elif centre == len(d) - 1:
        step = d[-1] - d[-2]
    else:
        step = (d[centre + 1] - d[centre - 1]) / 2
    return float(step * element_scale(variant.element) * (1.0 + variant.expansion))


def build_database(
    store: Store,
    name: str = "default",
    spec: BuildSpec | None = None,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    map_batches: Callable[[Callable, Iterable[Batch]], Iterable[dict]] | None = None,
    executor: Any = None,
) -> dict[str, Any]:
    """Build (or resume) database ``name`` in ``store``.

    Parameters
    ----------
    store : Store
    name : str
        The build's name; an existing build with the same spec is resumed.
    spec : BuildSpec, optional
        :data:`PRESETS` ``"default"`` if omitted.
    workers : int, optional
        Worker processes (default: the number of cores); 1 runs in this process.
    progress : callable, optional
        ``progress(done_samples, total_samples, note)``; an exception it raises
        stops the build, the batches not yet started cancelled, those stored kept.
    map_batches : callable, optional
        ``map_batches(run_batch, batches)`` yielding results as they finish:
        for a caller that schedules the batches itself.  Prefer ``executor``.
    executor : concurrent.futures.Executor or distributed.Client, optional
        Runs the batches instead of local workers (``workers`` is then
        ignored) and is left running (:func:`swaxs_lib.executors.open_executor`).

    Returns
    -------
    dict
        ``name``, ``samples`` (stored now, per split), ``curves`` computed now,
        ``seconds``, ``curves_per_s``, ``samples_total`` and ``batches_skipped``.
    """
    spec = spec or PRESETS["default"]
    store.open_build(name, dataclasses.asdict(spec), Q_GRID, R_GRID)
    plan = plan_batches(spec)
    done_keys = store.done_batches(name)
    todo = [b for b in plan if b.key not in done_keys]
    total = sum(b.count for b in plan)
    done = total - sum(b.count for b in todo)
    start = time.perf_counter()
    curves, samples = 0, {}
    if progress:
        progress(done, total, f"{len(todo)} of {len(plan)} batches to compute")
    for result in _run(todo, workers, map_batches, executor):
        store.put_batch(name, result["key"], result["split"], result["samples"], result["n_curves"], result["compute_s"])
        curves += result["n_curves"]
        done += len(result["samples"])
        samples[result["split"]] = samples.get(result["split"], 0) + len(result["samples"])
        if progress:
            rate = curves / max(time.perf_counter() - start, 1e-9)
            progress(done, total, f"{result['key']} ({rate:.0f} curves/s)")
    seconds = time.perf_counter() - start
    return {"name": name, "samples": samples, "curves": curves, "seconds": round(seconds, 3),
            "curves_per_s": round(curves / seconds, 2) if seconds > 0 and curves else None,
            "samples_total": total, "batches_skipped": len(plan) - len(todo)}


def _run(todo: list[Batch], workers: int | None, map_batches, executor) -> Iterable[dict]:
    if not todo:
        return
    if map_batches is not None:
        yield from map_batches(run_batch, todo)
        return
    with open_executor(workers, executor, n_tasks=len(todo)) as pool:
        # several at a time: big families first, so the last batches to finish are short ones;
        # one at a time: the plan's order
        order = todo if executor_width(pool) == 1 else sorted(todo, key=_cost, reverse=True)
        with contextlib.closing(map_as_completed(pool, run_batch, order)) as outcomes:
            for _, result, error in outcomes:
                if error is not None:
                    raise error
                yield result


def _cost(batch: Batch) -> int:
    """A batch's relative cost: its samples, twice for spheres (the largest clusters)."""
    return batch.count * (1 + ("sphere" in batch.family))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


__all__ = ["PRESETS", "SPLITS", "Batch", "BuildSpec", "build_database", "ladders", "plan_batches", "run_batch",
           "shell_step"]
