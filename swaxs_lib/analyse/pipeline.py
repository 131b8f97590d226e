"""One-click structure analysis of a measured curve: every motif and size screened, the best refined and relaxed.

Stages (:data:`~swaxs_lib.analyse.result.STAGES`), as one job with progress and cancellation:

1. **window**: the sizes the data allow (:func:`swaxs_lib.size_window.size_window`: for a G(r) the
   coherence length where the signal dies into the noise, for an I(Q) the Guinier size of its
   small-angle part), as a window of the extent (largest atom-centre distance, docs/sizes.md).
2. **prior**: the shipped ML models' prediction (:func:`swaxs_lib.ml.predict.predict`): family
   probabilities and a 90 % extent interval.  When the models call the curve in their domain, the
   window is widened to include that interval (the prior can add candidates, never remove them:
   a wrong prior must not hide the truth); out of domain it is only reported.
3. **screen**: every candidate of every family in the window
   (:func:`swaxs_lib.candidates.candidates_in_window`: icosahedra, Marks decahedra over (p, q, r)
   with q > 1 and r > 0, octahedra, truncated octahedra, cuboctahedra, fcc/hcp/bcc spheres, at most
   ``max_per_family`` each, spread over the window) refined with delta2 and Q damping held at 0
   (G(r)); for I(Q) the screen already refines every parameter.  Fits are cached in the store
   (:func:`swaxs_lib.sweep.refine_candidates`): an analysis run again, or after a sweep with the same
   options, refits nothing.
4. **refine**: the ``keep_per_family`` best of each family by screen R_w, and every candidate the
   screen cannot tell from its best, refined with every parameter free.
5. **crystal** (G(r) of a metal, or with a cif): the attenuated crystal (a bulk crystal times a sphere
   envelope, :func:`swaxs_lib.refine.crystal.refine_crystal`) over the same fit range.
6. **relax**: the ``relax_top`` best clusters relaxed with ASE BFGS + EMT (:func:`swaxs_lib.relax.relax_cluster`)
   and refined again; relaxed and unrelaxed versions are ranked together, each with its EMT energy
   per atom.  The rows the data cannot tell from the best (F-test on R_w with the Nyquist count of
   independent points, :func:`swaxs_lib.refine.significance.rank_test`) form the *best group*.
7. **mixture**: the best non-negative combination of the refined candidates' curves, each with its
   own refined parameters (:func:`swaxs_lib.mixture.fit_mixture`: stepwise selection, nested F-test,
   Bonferroni over the candidates tried), accepted only when it beats the best single candidate.

References
----------
.. [1] A. Cervellino, C. Giannini and A. Guagliardi, J. Appl. Cryst. 36, 1148 (2003) (Debye-function
   population analysis).
.. [2] S. Banerjee et al., J. Phys. Chem. C 124, 18985 (2020) (cluster-mining of metal nanoparticle PDFs).

Validation: tests/test_analyse.py (synthetic curves of known family, size and mixture; the measured
Au144, Pt and CdSe PDFs of ../shared/data).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import warnings
from dataclasses import replace
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from swaxs_lib.analyse.fits import (
    atoms_of,
    crystal_row,
    emt_energies,
    fit_range_of,
    fit_row,
    relax_rows,
    structure_row,
    unscaled_curve,
)
from swaxs_lib.analyse.result import AnalysisResult, AnalysisRow
from swaxs_lib.candidates import ATTENUATED_CRYSTAL, FAMILIES, SizedCandidate, candidates_in_window
from swaxs_lib.candidates import SizeWindow as ExtentWindow
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.refine.significance import DEFAULT_ALPHA, NYQUIST_METHOD, POINTS_METHOD, rank_test
from swaxs_lib.store.fits import read_fit
from swaxs_lib.tasks import register_task
from swaxs_lib.versioned import plain
from swaxs_lib.sweep import REFINE_VERSION, Candidate, RefineOptions, refine_candidates

#: Candidates kept per family by the screen (besides those the screen cannot tell from its best).
DEFAULT_KEEP_PER_FAMILY = 3
#: Largest number of candidates refined after the screen.
MAX_REFINED = 40
#: Clusters relaxed by default.
DEFAULT_RELAX_TOP = 3
#: An open-ended data window (G(r) still above the noise at its last r) is closed at this many times its low edge.
OPEN_WINDOW_FACTOR = 2.0
#: Crystal spheres cut from a cif, per window.
CIF_SPHERES = 16

Report = Callable[[int, int, str], None]


def analyse(store, measurement: Measurement, *, element: str | None = None, families: Iterable[str] | None = None,
            relax_top: int = DEFAULT_RELAX_TOP, alpha: float = DEFAULT_ALPHA, cif_text: str | None = None,
            structures: Sequence[tuple[str, Any]] = (), window: tuple[float, float] | None = None,
            options: RefineOptions | Mapping[str, Any] | None = None, max_per_family: int = 60,
            keep_per_family: int = DEFAULT_KEEP_PER_FAMILY, use_prior: bool = True, relax_steps: int = 200,
            mixture: bool = True, dataset_id: str | None = None, workers: int | None = None, executor: Any = None,
            report: Report | None = None) -> AnalysisResult:
    """Screen every motif and size against ``measurement``, refine and relax the best, fit mixtures.

    Parameters
    ----------
    store : Store
        Fits are cached and stored here.
    measurement : Measurement
        A G(r) or an I(Q) (WAXS, or SAXS+WAXS).
    element : str
        Chemical symbol of the clusters (not needed with ``cif_text``).
    families : iterable of str, optional
        Among :data:`swaxs_lib.candidates.FAMILIES` (default all).
    relax_top : int
        Clusters relaxed with EMT (0 for none; elements without EMT parameters are not relaxed).
    alpha : float
        Significance level of the best group and of the mixture test.
    cif_text : str, optional
        A crystal (cif text): spheres cut from it across the window, and its attenuated crystal,
        replace the metal families (for compounds such as CdSe).
    structures : sequence of (name, ase.Atoms)
        Uploaded structures refined alongside.
    window : (low, high), optional
        Extent window (Å) instead of the data's.
    options : RefineOptions or mapping
        Fit range, Q window, background for every fit.
    max_per_family, keep_per_family : int
        Candidates screened per family; best kept per family after the screen.
    use_prior : bool
        Ask the shipped ML models (default).
    relax_steps : int
        BFGS steps at most per relaxation.
    mixture : bool
        Fit mixtures of the refined candidates.
    dataset_id : str, optional
        Recorded with every stored fit.
    workers, executor
        As :func:`swaxs_lib.sweep.sweep`.
    report : callable, optional
        ``report(done, total, note)``; the note starts with the stage.  What it raises (a job's
        cancellation) stops the analysis.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    SwaxsInputError
        Data of another kind, no element, an unknown family, a window with no candidate.
    """
    from swaxs_lib.structures.elements import check_element

    if measurement.kind not in ("gr", "iq"):
        raise SwaxsInputError(f"{measurement.source}: kind {measurement.kind!r}; expected a G(r) ('gr') or an "
                              "I(Q) ('iq') to analyse")
    families = _check_families(families)
    if not isinstance(relax_top, int) or not 0 <= relax_top <= 20:
        raise SwaxsInputError(f"relax_top: got {relax_top!r}; expected an integer from 0 to 20")
    if cif_text:
        from swaxs_lib.structures.readers import read_crystal_cell

        element = read_crystal_cell(str(cif_text).encode(), "crystal.cif").get_chemical_formula(
            mode="metal", empirical=True)
    elif element is None:
        raise SwaxsInputError("element: none given; expected the clusters' element (e.g. --element Au) or a cif")
    else:
        element = check_element(element)
    options = options if isinstance(options, RefineOptions) else RefineOptions.from_mapping(options)
    say = _stages(report)
    timings: list[tuple[str, float]] = []
    notes: list[str] = []

    with _timed(timings, "window"):
        say("window", 0, 1, "size window from the data")
        data_window, used = _window(measurement, window, notes)
    prior = None
    with _timed(timings, "prior"):
        if use_prior:
            say("prior", 0, 1, "ML prediction")
            held_qdamp = dict(options.start).get("qdamp") if "qdamp" in options.fix else None
            prior = _prior(measurement, None if cif_text else element, notes, held_qdamp)
            used = used if window is not None else _widen(used, prior, notes)  # a window given is kept
    with _timed(timings, "screen"):
        candidates = _enumerate(element, used, families, max_per_family, cif_text, data_window, notes)
        screen_options = options
        if measurement.kind == "gr":
            screen_options = replace(options, fix=tuple(sorted({*options.fix, "delta2", "qdamp"})))
        clusters = [c.candidate for c in candidates if c.family != ATTENUATED_CRYSTAL]  # refined apart, below
        screened, failures = refine_candidates(store, measurement, clusters,
                                               screen_options, dataset_id=dataset_id, workers=workers,
                                               executor=executor, report=say.bound("screen"), page="analyse")
    sized = {c.candidate: c for c in candidates}
    screen_rows = sorted((fit_row(sized[c], fit, rec, "screened", fit.rw) for c, fit, rec, _ in screened),
                         key=lambda r: (r.rw, r.label))
    if not screen_rows:
        raise SwaxsInputError(f"{measurement.source}: no candidate could be refined "
                              f"({failures[0][1] if failures else 'none in the window'})")
    with _timed(timings, "refine"):
        survivors = _survivors(screen_rows, measurement.kind, keep_per_family, alpha)
        if screen_options == options:
            refined = [t for t in screened if t[0] in survivors]
        else:
            refined, more = refine_candidates(store, measurement, survivors, options, dataset_id=dataset_id,
                                              workers=workers, executor=executor, report=say.bound("refine"),
                                              page="analyse")
            failures += more
        screen_rw = {r.candidate: r.rw for r in screen_rows}
        rows = [fit_row(sized[c], fit, rec, "refined", screen_rw.get(c, math.nan)) for c, fit, rec, _ in refined]
        rows += [structure_row(store, measurement, name, atoms, options, dataset_id) for name, atoms in structures]
    fit_range = fit_range_of(rows)
    crystal = [c for c in candidates if c.family == ATTENUATED_CRYSTAL]
    with _timed(timings, "crystal"):
        if crystal and measurement.kind == "gr":
            say("crystal", 0, 1, "attenuated crystal")
            row = crystal_row(store, measurement, crystal[0], element, cif_text, options, fit_range, dataset_id,
                              notes)
            rows += [row] if row is not None else []
    with _timed(timings, "relax"):
        rows.sort(key=lambda r: (r.rw, r.label))
        rows += relax_rows(store, measurement, rows, relax_top, relax_steps, options, element, dataset_id, workers,
                           executor, say, notes)
    rows.sort(key=lambda r: (r.rw, r.label))
    rows = emt_energies(store, rows, 10, element)
    rows, test = _ranked(rows, measurement.kind, alpha)
    result_mixture, labels = None, ()
    with _timed(timings, "mixture"):
        if mixture:
            say("mixture", 0, 1, "fitting mixtures")
            result_mixture, labels = _mixture(store, measurement, rows, fit_range, alpha, notes)
    notes += _undecided(rows, test, result_mixture, measurement.kind, options.fix)
    counts = {"candidates": len(candidates), "screened": len(screen_rows),
              "refined": sum(r.stage == "refined" for r in rows), "relaxed": sum(r.stage == "relaxed" for r in rows),
              "from_cache": sum(1 for *_, cached in screened if cached),
              "per_family": {f: sum(c.family == f for c in candidates) for f in (*FAMILIES, "structure")
                             if any(c.family == f for c in candidates)}}
    settings = {"element": element, "families": list(families), "relax_top": relax_top, "alpha": alpha,
                "max_per_family": max_per_family, "keep_per_family": keep_per_family, "use_prior": use_prior,
                "relax_steps": relax_steps, "options": options.to_dict(), "cif": bool(cif_text),
                "structures": [n for n, _ in structures], "x_min": fit_range[0], "x_max": fit_range[1],
                "refine_version": REFINE_VERSION}
    return AnalysisResult(
        kind=measurement.kind, element=element, settings=settings,
        window={**data_window, "used_extent_angstrom": list(used)}, prior=prior, rows=tuple(rows),
        screened=tuple(screen_rows), test=test, mixture=result_mixture, mixture_labels=labels,
        timings_s=tuple(timings), counts=counts, skipped=tuple(failures), warnings=tuple(dict.fromkeys(notes)),
        versions=versions())


# --- stages --------------------------------------------------------------------------------------------------------

def _window(measurement, window, notes) -> tuple[dict, tuple[float, float]]:
    from swaxs_lib.candidates import MAX_WINDOW_ANGSTROM
    from swaxs_lib.size_window import size_window

    try:
        found = size_window(measurement)
        data = found.to_dict()
        notes += list(found.warnings)
    except SwaxsInputError as exc:
        if window is None:
            raise
        data = {"method": "none", "rule": str(exc)}
    if window is not None:
        lo, hi = (float(v) for v in window)
        if not 0 < lo <= hi <= MAX_WINDOW_ANGSTROM:
            raise SwaxsInputError(f"window: got {lo:g}-{hi:g} Å; expected 0 < low <= high <= {MAX_WINDOW_ANGSTROM:g}")
        return {**data, "given": True}, (lo, hi)
    lo, hi = found.interval("extent_angstrom")
    if not math.isfinite(hi):
        hi = OPEN_WINDOW_FACTOR * lo
        notes.append(f"the data set only a lower bound on the size (extent >= {lo:.1f} Å: the G(r) is above the noise "
                     f"at its last r); candidates up to {hi:.1f} Å were screened")
    return data, (max(lo, 2.0), min(hi, MAX_WINDOW_ANGSTROM))


def _prior(measurement, element, notes, q_damp: float | None = None) -> dict | None:
    try:
        from swaxs_lib.ml.measured import domain_reasons
        from swaxs_lib.ml.models import default_model_dir, load_bundle
        from swaxs_lib.ml.predict import model_input, predict

        bundle = load_bundle(str(default_model_dir()))
        kind, x, values, more = model_input(measurement.kind, measurement.x, measurement.values, element)
        # what the file says (a composition outside the database, implausible units) as predict's own command uses it
        # and the instrument's Q damping when held (a calibrant's): the G(r) size check then tells bulk apart
        prediction = predict(bundle, kind, x, values, element=element, top=3,
                             domain_reasons=domain_reasons(measurement),
                             q_damp_inv_angstrom=q_damp if kind == "gr" else None)
    except (SwaxsInputError, OSError, ValueError) as exc:
        notes.append(f"no ML prior: {exc}")
        return None
    out = prediction.to_dict()
    out.pop("matches", None)
    out["warnings"] = list(more) + out["warnings"]
    return json.loads(json.dumps(plain(out)))  # as the job's JSON will hold it


def _widen(used: tuple[float, float], prior: dict | None, notes) -> tuple[float, float]:
    interval = (prior or {}).get("extent_interval_nm")
    if not interval:
        return used
    lo, hi = 10 * float(interval[0]), 10 * float(interval[1])
    if not prior.get("in_domain"):
        notes.append(f"the ML prior is out of its domain; its extent interval {lo:.1f}-{hi:.1f} Å was not used")
        return used
    if hi < used[0] or lo > used[1]:
        notes.append(f"the ML prior's extent interval {lo:.1f}-{hi:.1f} Å and the data's window "
                     f"{used[0]:.1f}-{used[1]:.1f} Å do not overlap; both were screened")
    return min(used[0], lo), max(used[1], hi)


def _enumerate(element, used, families, max_per_family, cif_text, data_window, notes) -> list[SizedCandidate]:
    if cif_text:
        return _cif_candidates(element, cif_text, used, data_window, families, max_per_family)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = candidates_in_window(element, ExtentWindow("extent_angstrom", *used), families, max_per_family)
    notes += [str(w.message) for w in caught]
    if not found:
        raise SwaxsInputError(f"window: no {element} cluster of the families {', '.join(families)} has an extent "
                              f"between {used[0]:.1f} and {used[1]:.1f} Å; expected a wider window or more families")
    return found


def _cif_candidates(formula, cif_text, used, data_window, families, max_per_family) -> list[SizedCandidate]:
    """Spheres cut from the crystal at volume diameters spanning the window, and its attenuated crystal.

    The window is the data's volume-diameter window, or ``used`` when the caller gave one (a sphere's
    extent and volume diameter differ by well under an atom); at most ``max_per_family`` spheres.
    """
    given = data_window.get("method") == "none" or data_window.get("given")
    lo = used[0] if given else (data_window.get("volume_diameter_low_angstrom") or used[0])
    hi = used[1] if given else data_window.get("volume_diameter_high_angstrom")
    hi = min(float(hi), 2 * used[1]) if hi is not None and math.isfinite(float(hi)) else used[1]
    n_spheres = max(2, min(CIF_SPHERES, max_per_family))
    out = []
    if any(f.startswith("sphere") for f in families):
        for d in np.linspace(float(lo), float(hi), n_spheres):
            c = Candidate("sphere", formula, (("diameter_angstrom", round(float(d), 2)),), str(cif_text))
            out.append(SizedCandidate(c, "sphere-crystal", "sphere-crystal", 0, math.nan, float(d)))
    if ATTENUATED_CRYSTAL in families:
        params = (("spdiameter_low_angstrom", round(float(lo), 3)), ("spdiameter_high_angstrom", round(float(hi), 3)))
        out.append(SizedCandidate(Candidate(ATTENUATED_CRYSTAL, formula, params, str(cif_text)), ATTENUATED_CRYSTAL,
                                  ATTENUATED_CRYSTAL, 0, math.nan, (lo + hi) / 2))
    return out


def _survivors(screen_rows: list[AnalysisRow], kind: str, keep: int, alpha: float) -> list[Candidate]:
    """The ``keep`` best of each family, then every row the screen cannot tell from its best, at most MAX_REFINED."""
    chosen: list[Candidate] = []
    per_family: dict[str, int] = {}
    for r in screen_rows:
        if per_family.get(r.family, 0) < keep:
            per_family[r.family] = per_family.get(r.family, 0) + 1
            chosen.append(r.candidate)
    _, test = _ranked(list(screen_rows), kind, alpha)
    if test is not None:
        for k in test.indistinguishable:
            if screen_rows[k].candidate not in chosen and len(chosen) < MAX_REFINED:
                chosen.append(screen_rows[k].candidate)
    return chosen[:max(MAX_REFINED, keep * len(per_family))]


def _ranked(rows: list[AnalysisRow], kind: str, alpha: float):
    """Ranks and the best group: every row against the best (same data, same fit range)."""
    finite = [r for r in rows if math.isfinite(r.rw)]
    if not finite:
        return rows, None
    n_ind = int(finite[0].settings.get("n_independent_points") or 0)
    test = rank_test([r.rw for r in finite], n_ind, [int(r.settings.get("n_refined") or 0) for r in finite], alpha,
                     method=NYQUIST_METHOD if kind == "gr" else POINTS_METHOD)
    out = [replace(r, rank=k + 1 if r.stage != "screened" else 0, best_group=bool(c.indistinguishable),
                   p_value=c.p_value) for k, (r, c) in enumerate(zip(finite, test.comparisons))]
    return out + [r for r in rows if not math.isfinite(r.rw)], test


def _mixture(store, measurement, rows, fit_range, alpha, notes):
    from swaxs_lib.analyse.populations import mixture_stage

    usable = [r for r in rows if r.stage in ("refined", "relaxed") and r.family != ATTENUATED_CRYSTAL and r.result_id
              and math.isfinite(r.rw)]
    atoms = [atoms_of(store, r) for r in usable]
    return mixture_stage(measurement, usable, atoms, fit_range, alpha,
                         lambda r: unscaled_curve(measurement, read_fit(store.get_result(r.result_id))), notes)


def _check_families(families) -> tuple[str, ...]:
    if families is None:
        return FAMILIES
    families = tuple(dict.fromkeys(str(f).strip() for f in families if str(f).strip()))
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise SwaxsInputError(f"families: got {', '.join(unknown) or 'none'}; expected some of {', '.join(FAMILIES)}")
    return families


class _stages:
    """``report(done, total, note)`` with the stage named first in the note."""

    def __init__(self, report: Report | None):
        self.report = report

    def __call__(self, stage: str, done: int, total: int, note: str) -> None:
        if self.report is not None:
            self.report(done, total, f"{stage}: {note}")

    def bound(self, stage: str) -> Report:
        return lambda done, total, note: self(stage, done, total, note)


@contextlib.contextmanager
def _timed(timings: list, stage: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings.append((stage, round(time.perf_counter() - start, 3)))


def _undecided(rows, test, mixture, kind: str, fixed) -> list[str]:
    """What the data cannot decide, in words."""
    out = []
    group = [r for r in rows if r.best_group]
    fams = sorted({r.family for r in group})
    if len(fams) > 1:
        out.append(f"the data cannot tell these families apart: {', '.join(fams)} (F-test at alpha, "
                   f"{len(group)} candidates in the best group)")
    sizes = [r.volume_diameter_angstrom for r in group if math.isfinite(r.volume_diameter_angstrom)]
    if len(sizes) > 1:
        out.append(f"sizes in the best group span {min(sizes):.1f}-{max(sizes):.1f} Å (volume-equivalent diameter)")
    if rows and rows[0].rw > 0.25:
        out.append(f"the best R_w is {rows[0].rw:.3f}: no candidate describes the data closely; read the ranking as "
                   "relative")
    for r in rows:
        if (r.best_group or r.family == ATTENUATED_CRYSTAL) and r.settings.get("undetermined"):
            out.append(f"not determined by the data: {', '.join(r.settings['undetermined'])} of {r.label} (at a "
                       "bound, or an uncertainty as large as the value)")
    if kind == "gr" and "qdamp" not in fixed:
        out.append("Q damping was refined with each candidate; in a G(r) it trades off against the particle size "
                   "(both damp the signal with r): fix it from a calibrant (--qdamp, or the page's settings) when known")
    if mixture is not None and mixture.accepted:
        out.append("an accepted mixture means the data prefer a combination of these curves; systematic misfit is "
                   "also absorbed by extra components, so it is not proof that the sample is this mixture")
    return out


def versions() -> dict[str, str]:
    """Versions of swaxs and the packages an analysis depends on."""
    import importlib.metadata as md
    import platform

    import swaxs_lib

    out = {"swaxs": swaxs_lib.__version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "ase", "numba", "diffpy.srfit", "diffpy.pdffit2", "scikit-learn", "duckdb"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[name] = md.version(name)
    return out


@register_task("analyse")
def analyse_task(store, args: Mapping[str, Any], report: Callable[..., None]) -> AnalysisResult:
    """The ``analyse`` job (:mod:`swaxs_lib.jobs`): args ``dataset_id``, ``element``, ``families``, ``relax_top``,
    ``alpha``, ``cif_text``, ``structures`` (``[{"name": "x.xyz", "text": ...}]``, uploaded clusters refined
    alongside), ``window``, ``options``, ``max_per_family``, ``use_prior``, ``workers``.

    The job stores :meth:`AnalysisResult.to_json`; :meth:`AnalysisResult.from_json` reads it back.  Its HTML
    report is stored as a blob (:func:`report_key`), so the page offers it without making it again.
    """
    record = store.get_dataset(args["dataset_id"])
    window = args.get("window")
    from swaxs_lib.structures.readers import read_structure_bytes  # the upload's checks: suffix, size, elements

    structures = [(str(s["name"]), read_structure_bytes(str(s["text"]).encode(), str(s["name"])).atoms)
                  for s in args.get("structures") or ()]
    result = analyse(store, record.measurement, element=args.get("element"), families=args.get("families"),
                     relax_top=int(args.get("relax_top", DEFAULT_RELAX_TOP)),
                     alpha=float(args.get("alpha") or DEFAULT_ALPHA), cif_text=args.get("cif_text"),
                     window=None if not window else tuple(window), options=args.get("options"),
                     structures=structures, max_per_family=int(args.get("max_per_family") or 60),
                     use_prior=bool(args.get("use_prior", True)),
                     dataset_id=record.id, workers=args.get("workers"), report=report)
    if args.get("job_id"):
        from swaxs_lib.analyse.report import report_html

        report(1, 1, "report: writing the HTML report")
        store.put_blob(report_key(args["job_id"]), report_html(result, record.measurement, store).encode())
    return result


def report_key(job_id: str) -> str:
    """The store's blob key of an ``analyse`` job's HTML report (:func:`swaxs_lib.analyse.report.report_html`)."""
    return f"analyse/{job_id}/report.html"
