"""The rows of an analysis: fits read back from the store, the attenuated crystal, uploaded structures,
EMT relaxations (each refined again) and EMT energies.

Each function turns one stored fit into an :class:`~swaxs_lib.analyse.result.AnalysisRow`, or makes
and stores that fit first, cached by a key that hashes every input (the data's numbers, the structure,
the options, :data:`~swaxs_lib.sweep.REFINE_VERSION`): an analysis run again refits nothing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import re
from dataclasses import replace
from typing import Any

import numpy as np

from swaxs_lib.analyse.result import ROW_VALUES, AnalysisRow
from swaxs_lib.candidates import ATTENUATED_CRYSTAL, SizedCandidate
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.executors import map_as_completed, open_executor
from swaxs_lib.relax import EMT_ELEMENTS
from swaxs_lib.store.fits import StoredFit, read_fit, save_fit
from swaxs_lib.sweep import REFINE_VERSION, Candidate, RefineOptions, measurement_key

#: Parameters the clusters' options may fix or start that the attenuated crystal has too (the same for both).
SHARED_WITH_CRYSTAL = ("qdamp", "delta2")


def relax_rows(store, measurement, rows, relax_top, steps, options, element, dataset_id, workers, executor, say, notes):
    clusters = [r for r in rows if r.family not in (ATTENUATED_CRYSTAL, "structure") and r.stage == "refined"]
    if relax_top == 0 or not clusters:
        return []
    unknown = sorted({s for s in symbols_of(element)} - set(EMT_ELEMENTS))
    if unknown:
        notes.append(f"no relaxation: EMT has no parameters for {', '.join(unknown)}")
        return []
    todo = clusters[:relax_top]
    data_key = measurement_key(measurement)
    keys = {r.candidate: relax_key(data_key, r.candidate, options, steps) for r in todo}
    out: list[AnalysisRow] = []
    pending = []
    for r in todo:
        record = store.find_result(keys[r.candidate])
        if record is None:
            pending.append(r)
        else:
            out.append(relaxed_row(r, read_fit(record), record))
    say("relax", len(out), len(todo), f"{len(out)} of {len(todo)} from the cache" if out else "starting")
    if pending:
        job = functools.partial(relax_and_refine, measurement, options=options, steps=steps)
        with open_executor(workers, executor, n_tasks=len(pending)) as pool, \
                contextlib.closing(map_as_completed(pool, job, [r.candidate for r in pending])) as outcomes:
            by_candidate = {r.candidate: r for r in pending}
            for c, value, error in outcomes:
                r = by_candidate[c]
                if error is not None:
                    notes.append(f"{r.label}: relaxation failed ({error})")
                else:
                    fit, positions, symbols = value
                    from ase import Atoms

                    key = store.add_cluster(Atoms(symbols, positions=positions))
                    fit = replace(fit, cluster_hash=key, dataset_id=dataset_id,
                                  inputs={"page": "analyse", "relaxed_from": c.to_json(), "steps": steps,
                                          "options": options.to_dict(), "data_key": data_key})
                    record = save_fit(store, fit, cache_key=keys[c], message=f"{r.label} (EMT-relaxed): R_w {fit.rw:.4f}")
                    out.append(relaxed_row(r, fit, record))
                say("relax", len(out), len(todo), f"{r.label}: relaxed")
    return out


def relax_and_refine(measurement, candidate: Candidate, *, options: RefineOptions, steps: int):
    """Build, EMT-relax (BFGS, fmax 0.05 eV/Å) and refine one candidate; runs in a worker process.

    Returns the stored fit (its ``summary`` carries ``energy_ev_per_atom`` and
    ``energy_start_ev_per_atom``), the relaxed positions (Å) and the symbols.
    """
    from swaxs_lib.refine.cluster import refine_cluster
    from swaxs_lib.relax import relax_cluster
    from swaxs_lib.structures.metadata import describe

    atoms = candidate.build().atoms
    trace = relax_cluster(atoms, max_steps=steps)
    relaxed = trace.atoms()
    fit = refine_cluster(measurement, relaxed, **options.refine_kwargs())
    info = describe(relaxed, candidate.shape, {**dict(candidate.params), "relaxed": "EMT"})
    stored = StoredFit.from_fit(fit, producer="analyse", cluster=info)
    summary = {**stored.summary, "energy_ev_per_atom": trace.steps[-1].energy_ev_per_atom,
               "energy_start_ev_per_atom": trace.steps[0].energy_ev_per_atom, "relax_steps": trace.steps[-1].step,
               "relax_converged": trace.converged}
    return replace(stored, summary=summary), relaxed.positions.copy(), list(relaxed.get_chemical_symbols())


def cache_key(**fields: Any) -> str:
    """sha256 of ``fields`` (JSON, sorted keys) with :data:`~swaxs_lib.sweep.REFINE_VERSION`: a stored fit's key."""
    text = json.dumps({**fields, "version": REFINE_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def relax_key(data_key: str, candidate: Candidate, options: RefineOptions, steps: int) -> str:
    return cache_key(data=data_key, candidate=candidate.to_json(), options=options.to_dict(), steps=steps,
                     relax="EMT-BFGS-fmax0.05")


def crystal_row(store, measurement, sized: SizedCandidate, element, cif_text, options, fit_range, dataset_id,
                 notes) -> AnalysisRow | None:
    """The attenuated crystal over the clusters' fit range, cached like them."""
    from swaxs_lib.models.crystal import bulk_structure, read_crystal_text
    from swaxs_lib.refine.crystal import refine_crystal

    params = dict(sized.candidate.params)
    lo, hi = params["spdiameter_low_angstrom"], params["spdiameter_high_angstrom"]
    x_min, x_max = fit_range
    key = cache_key(data=measurement_key(measurement), crystal=sized.candidate.to_json(), options=options.to_dict(),
                    range=[x_min, x_max])
    record = store.find_result(key)
    if record is None:
        try:
            structure = read_crystal_text(cif_text) if cif_text else bulk_structure(element, "fcc")
            fit = refine_crystal(measurement, structure, nanoparticle=True, x_min=x_min, x_max=x_max,
                                 q_min_inv_angstrom=options.q_min_inv_angstrom,
                                 q_max_inv_angstrom=options.q_max_inv_angstrom,
                                 fix=[f for f in options.fix if f in SHARED_WITH_CRYSTAL],
                                 start={**{k: v for k, v in options.start if k in SHARED_WITH_CRYSTAL},
                                        "spdiameter": (lo + hi) / 2})
        except SwaxsInputError as exc:
            notes.append(f"attenuated crystal: not refined ({exc})")
            return None
        stored = StoredFit.from_fit(fit, producer="analyse", dataset_id=dataset_id,
                                    inputs={"page": "analyse", "candidate": sized.candidate.to_json(),
                                            "options": options.to_dict()})
        record = save_fit(store, stored, cache_key=key, message=f"{element} attenuated crystal: R_w {stored.rw:.4f}")
    fit = read_fit(record)
    d = fit.value("spdiameter") or math.nan
    label = f"{element} attenuated crystal" + (" (cif)" if cif_text else " (fcc)")
    return AnalysisRow(rank=0, label=label, family=ATTENUATED_CRYSTAL, subfamily=ATTENUATED_CRYSTAL, stage="refined",
                       candidate=sized.candidate, n_atoms=0, extent_angstrom=math.nan, volume_diameter_angstrom=d,
                       rw=fit.rw, values=fit_values(fit), result_id=record.id, settings=fit_settings(fit))


def structure_row(store, measurement, name: str, atoms, options: RefineOptions, dataset_id) -> AnalysisRow:
    """An uploaded structure, refined in this process and stored with its cluster."""
    from swaxs_lib.refine.cluster import refine_cluster
    from swaxs_lib.structures.metadata import describe

    key = store.add_cluster(atoms)
    fit_key_ = cache_key(data=measurement_key(measurement), cluster=key, options=options.to_dict())
    record = store.find_result(fit_key_)
    if record is None:
        fit = refine_cluster(measurement, atoms, **options.refine_kwargs())
        stored = StoredFit.from_fit(fit, producer="analyse", cluster=describe(atoms, "file", {"name": name}),
                                    cluster_hash=key, dataset_id=dataset_id,
                                    inputs={"page": "analyse", "structure": name, "options": options.to_dict()})
        record = save_fit(store, stored, cache_key=fit_key_, message=f"{name}: R_w {stored.rw:.4f}")
    fit = read_fit(record)
    info = fit.cluster
    return AnalysisRow(rank=0, label=name, family="structure", subfamily="structure", stage="refined",
                       candidate=Candidate("structure", info.formula, (("name", name),)), n_atoms=info.n_atoms,
                       extent_angstrom=info.extent_angstrom,
                       volume_diameter_angstrom=info.volume_diameter_angstrom or math.nan, rw=fit.rw,
                       values=fit_values(fit), result_id=record.id, cluster_key=key, settings=fit_settings(fit))


def emt_energies(store, rows: list[AnalysisRow], top: int, element: str) -> list[AnalysisRow]:
    """EMT energy per atom of the ``top`` best unrelaxed clusters (relaxed rows carry theirs)."""
    if symbols_of(element) - set(EMT_ELEMENTS):
        return rows
    from swaxs_lib.relax import emt_calculator

    out = []
    for k, r in enumerate(rows):
        if k < top and r.energy_ev_per_atom is None and r.family != ATTENUATED_CRYSTAL and r.stage != "screened":
            atoms = atoms_of(store, r).copy()
            atoms.calc = emt_calculator(atoms)
            r = replace(r, energy_ev_per_atom=float(atoms.get_potential_energy()) / len(atoms))
        out.append(r)
    return out



def fit_row(sized: SizedCandidate, fit: StoredFit, record, stage: str, rw_screen: float) -> AnalysisRow:
    info = fit.cluster
    return AnalysisRow(
        rank=0, label=sized.candidate.label(), family=sized.family, subfamily=sized.subfamily, stage=stage,
        candidate=sized.candidate, n_atoms=info.n_atoms if info else sized.n_atoms,
        extent_angstrom=info.extent_angstrom if info else sized.extent_angstrom,
        volume_diameter_angstrom=(info.volume_diameter_angstrom or math.nan) if info else sized.volume_diameter_angstrom,
        rw=fit.rw, rw_screen=rw_screen, values=fit_values(fit), result_id=record.id, settings=fit_settings(fit))


def relaxed_row(start: AnalysisRow, fit: StoredFit, record) -> AnalysisRow:
    info = fit.cluster
    return replace(start, label=f"{start.label} (EMT-relaxed)", stage="relaxed", rw=fit.rw, rw_screen=math.nan,
                   n_atoms=info.n_atoms, extent_angstrom=info.extent_angstrom,
                   volume_diameter_angstrom=info.volume_diameter_angstrom or math.nan, values=fit_values(fit),
                   result_id=record.id, cluster_key=fit.cluster_hash or "", relaxed_from=start.label,
                   energy_ev_per_atom=fit.summary.get("energy_ev_per_atom"), settings=fit_settings(fit))


def fit_values(fit: StoredFit) -> tuple:
    order = {b: k for k, b in enumerate(ROW_VALUES)}
    values = [(v.name, float(v.value), None if v.uncertainty is None else float(v.uncertainty), v.unit)
              for v in fit.values() if v.name.split("_")[0] in order and v.value is not None]
    return tuple(sorted(values, key=lambda v: order[v[0].split("_")[0]]))


def fit_settings(fit: StoredFit) -> dict:
    s = fit.settings
    return {"x_min": fit.x_min, "x_max": fit.x_max, "n_refined": fit.summary.get("n_refined"),
            "n_independent_points": fit.summary.get("n_independent_points") or fit.summary.get("n_points"),
            "q_min_inv_angstrom": s.get("q_min_inv_angstrom") or s.get("q_min"),
            "q_max_inv_angstrom": s.get("q_max_inv_angstrom") or s.get("q_max"),
            "background": s.get("background"), "small_angle": s.get("small_angle"),
            "undetermined": list(fit.summary.get("undetermined") or ())}


def fit_range_of(rows) -> tuple[float | None, float | None]:
    return (rows[0].settings.get("x_min"), rows[0].settings.get("x_max")) if rows else (None, None)


def unscaled_curve(measurement, fit: StoredFit) -> np.ndarray | None:
    """The fit's model without its scale and background, on every point of the measurement (NaN outside the fit)."""
    if fit.curves is None:
        return None
    scale = fit.value("scale")
    if not scale:
        return None
    x = fit.curves.x
    model = fit.curves.fitted - (fit.value("c0") or 0.0) - (fit.value("c1") or 0.0) * x
    out = np.full(len(measurement.x), np.nan)
    idx = np.searchsorted(measurement.x, x)
    ok = (idx < len(out)) & np.isclose(measurement.x[np.minimum(idx, len(out) - 1)], x, rtol=0, atol=1e-9)
    out[idx[ok]] = model[ok] / scale
    return out


def atoms_of(store, row: AnalysisRow):
    if row.cluster_key:
        return store.get_cluster(row.cluster_key).atoms
    return row.candidate.build().atoms


def symbols_of(formula: str) -> set[str]:
    return set(re.findall(r"[A-Z][a-z]?", formula))
