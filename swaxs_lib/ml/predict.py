"""Predict shape, size and element of a measured curve, with the library search beside it.

Which models answer depends on what the curve covers (:mod:`swaxs_lib.ml.features`):
I(Q) covering 0.02–10 1/Å uses ``joint_iq`` for shape and ``joint_iq`` or
``size_saxs`` for size (whichever did better in calibration); otherwise
``shape_waxs`` answers shape where 2.4–10 1/Å is covered and ``size_saxs``
size where 0.02–1 1/Å is; G(r) covering 2–30 Å uses ``joint_gr``.  What is
not covered is left out and said in ``warnings``.

``in_domain`` is False, with the reason in ``warnings``, when the element given is not one of the database's,
the predicted diameter lies outside the database's sizes, the curve's
Guinier radius lies outside the training curves' (:mod:`swaxs_lib.ml.domain`:
then no size is given at all, rather than the top of the range), or the novelty
score (:mod:`swaxs_lib.ml.models`) of any model used exceeds 1, or the caller found a model-free
reason in the file (``domain_reasons``: :mod:`swaxs_lib.ml.measured`).  A window the curve does not
cover is said in ``warnings`` too (``"no shape: ..."``, ``"no size: ..."``, :data:`~swaxs_lib.ml.routing.COVERAGE_NOTES`) but
leaves ``in_domain`` alone: a SAXS-only curve of a gold cluster is in the models' domain, it only gets
no shape (it read "out of domain" for every SAXS-only curve before).

The parts live beside this module: the records (:mod:`swaxs_lib.ml.prediction`), the library search
(:mod:`swaxs_lib.ml.library`), the input conversion, routing and gates (:mod:`swaxs_lib.ml.routing`);
their public names are importable from here as before.
"""

from __future__ import annotations

import math

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, SHAPE_OF_CLASS, family_names
from swaxs_lib.ml.domain import temper
from swaxs_lib.ml.experts import class_probabilities, family_classes, group_probabilities
from swaxs_lib.ml.features import WINDOWS, features
from swaxs_lib.ml.library import TOP_MATCHES, library_model, library_rw, library_search, member_parameters
from swaxs_lib.ml.models import ModelBundle, full_range_size_model
from swaxs_lib.ml.prediction import Match, Prediction, matches_columns, prediction_row
from swaxs_lib.ml import routing
from swaxs_lib.ml.routing import (COVERAGE_NOTES, composition_elements, constrained_probabilities, family_prior, instrument_sizes,
                                  model_input, shape_groups)
from swaxs_lib.ml.routing import plan as route_plan
from swaxs_lib.ml.saxs_physics import MISFIT_LIMIT, MONODISPERSE_DOUBT, Q_HI_MAX, physics_for, resolution_sigma
from swaxs_lib.ml.windows import Q_HI_MIN, Q_LO_MAX, predict_window_size, window_novelty

#: The novelty a model-free out-of-domain reason (``domain_reasons``, a size check's "above" or "below")
#: counts as when tempering (λ = 0.64: the answer keeps its ranking, not its confidence;
#: :func:`swaxs_lib.ml.domain.temper_weight`).
KNOWN_OUT_NOVELTY = 2.0


def saxs_only_size_note(window: tuple[float, float], held_out: dict | None,
                        held_out_physics: dict | None = None, resolution_given: bool = False) -> str:
    """Why a SAXS-only curve's volume-equivalent diameter comes first, with the held-out figures of its window.

    ``held_out`` is ``evaluation.json``'s ``windows`` (``ModelBundle.extras["held_out_windows"]``, the window
    model's); ``held_out_physics`` its ``windows_physics`` (``windows_physics_resolution_given`` with
    ``resolution_given``: the curve's dQ was used), given where the extent came from the physics
    sizer.  Without figures for this window (a folder ``evaluate`` has not seen), the note says so instead of
    quoting another's.
    """
    name = f"{window[0]:g}-{window[1]:g}"
    splits = ("test-mono", "test-poly20")
    figures = [(held_out or {}).get(split, {}).get(name) for split in splits]
    extent_figures = ([(held_out_physics or {}).get(split, {}).get(name) for split in splits]
                      if held_out_physics is not None else figures)
    note = (f"SAXS alone (Q {window[0]:g}-{window[1]:g} 1/Å) determines the volume-equivalent diameter "
            "(volume_diameter_nm, reported first); the extent (largest atom-to-atom distance) also depends on the "
            "particle's shape, which this curve does not show: give the shape (--shape) or measure a WAXS part to "
            "size the extent")
    if all(figures) and all(extent_figures):
        mono, poly = figures
        note += (f". Held out on this window, within one shell or 5 %: volume-equivalent diameter "
                 f"{mono['volume_diameter_within_shell_or_5_percent']:.2f} of monodisperse and "
                 f"{poly['volume_diameter_within_shell_or_5_percent']:.2f} of 20 % polydisperse curves, extent "
                 f"{extent_figures[0]['extent_within_shell_or_5_percent']:.2f} / "
                 f"{extent_figures[1]['extent_within_shell_or_5_percent']:.2f}"
                 + (" with each curve's dQ given, as this curve's" if resolution_given else ""))
    else:
        note += ". No held-out figures for this window in the model folder (run `python -m swaxs_lib evaluate`)"
    return note


def curve_resolution(measurement, kind: str, resolution: tuple[float, float] | None = None) -> np.ndarray | None:
    """The 1-sigma dQ (1/Å) per point of ``measurement`` that :func:`predict` takes as ``q_resolution``: the
    instrument's ``resolution`` (relative, absolute 1/Å; sigma_Q = sqrt((relative Q)² + absolute²)) where the
    user states it, else the file's dQ column (``x_resolution``), else None; None for a ``kind`` other than
    I(Q) (the models' kind, :func:`~swaxs_lib.ml.routing.model_input`)."""
    if kind != "iq":
        return None
    return measurement.x_resolution if resolution is None else resolution_sigma(measurement.x, resolution)


def predict(bundle: ModelBundle, kind: str, x: np.ndarray, values: np.ndarray, *, element: str | None = None,
            top: int = TOP_MATCHES, element_source: str = "user",
            allowed_elements: tuple[str, ...] | None = None, shape_hint: str | None = None,
            domain_reasons: tuple[str, ...] = (), q_damp_inv_angstrom: float | None = None,
            q_resolution: np.ndarray | None = None, monodisperse: bool = False) -> Prediction:
    """Predict from one curve.

    Parameters
    ----------
    bundle : ModelBundle
    kind : {"iq", "gr"}
        I(Q) (Q in 1/Å) or G(r) (r in Å).
    x, values : numpy.ndarray
        The curve.
    element : str, optional
        The sample's element if known: it replaces the element model's answer
        (whose own probabilities stay in ``element_model_probabilities``),
        restricts the library search and checks the domain.
    top : int
        Library matches to report.
    element_source : {"user", "header"}
        Where ``element`` came from (reported as ``element_source``).
    allowed_elements : tuple of str, optional
        Without ``element``: the elements the sample may be of (an alloy's
        composition, e.g. ``("Au", "Ag")``); the element model's
        probabilities are renormalised over them and the library search is
        restricted to them.
    shape_hint : str, optional
        The particle's shape if known (a ``cluster`` shape name, from TEM say): the
        SAXS-window size model then seeks its neighbours among that shape's families
        (the sizes' convention depends on the shape) where no WAXS part gives the shape.
    domain_reasons : tuple of str
        Model-free reasons the curve is outside the database, found by the caller in what the file says
        (:func:`swaxs_lib.ml.measured.domain_reasons`: a composition with no element of the database,
        implausible units): each is a warning (so ``in_domain`` is False), and the probabilities are
        tempered as at a novelty of at least :data:`KNOWN_OUT_NOVELTY`.
    q_damp_inv_angstrom : float, optional
        G(r) only: the instrument's Q damping (1/Å), refined on a calibrant.  The G(r)'s envelope is then
        judged with that damping divided out (:mod:`swaxs_lib.ml.pdf_extent`): a bulk sample or a particle
        larger than the database's is refused a size, and its probabilities are tempered as for
        ``domain_reasons``.  Without it, a G(r) that dies away as a damped bulk crystal's is
        warned about ("size not bounded"): its size is only a lower bound.
    q_resolution : numpy.ndarray, optional
        I(Q) only: the 1-sigma Q resolution dQ (1/Å) of each point of ``x`` (a file's dQ column,
        :attr:`swaxs_lib.io.measurement.Measurement.x_resolution`): the physics SAXS-only sizer then tries
        multiples of it instead of the database's range of resolutions (held out: right more often,
        ``evaluation.json`` → ``windows_physics_resolution_given``).
    monodisperse : bool
        The sample holds one size (atomically precise clusters): the physics SAXS-only sizer weighs no
        spread of sizes (``size_physics["monodisperse_told"]``); a curve that favours a spread is warned about
        (:data:`swaxs_lib.ml.saxs_physics.MONODISPERSE_DOUBT`).

    Returns
    -------
    Prediction

    Raises
    ------
    SwaxsInputError
        ``kind`` unknown, a constant (or all-zero) curve, the curve covers none of the windows of that kind,
        or a Q damping outside 0–0.2 1/Å or given with an I(Q).
    """
    if kind not in ("iq", "gr"):
        raise SwaxsInputError(f"kind: got {kind!r}; expected iq (I(Q)) or gr (G(r)); convert S(Q) or F(Q) first")
    if q_damp_inv_angstrom is not None and (kind != "gr" or not 0.0 <= q_damp_inv_angstrom <= 0.2):
        curve = "a G(r)" if kind == "gr" else "an I(Q)"
        raise SwaxsInputError(f"--qdamp: got {q_damp_inv_angstrom:g} 1/Å for {curve}; expected the instrument's "
                              "Q damping of a G(r), 0-0.2 1/Å")
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    if q_resolution is not None:
        q_resolution = np.asarray(q_resolution, dtype=float)
        if kind != "iq" or q_resolution.shape != x.shape:
            raise SwaxsInputError(f"q_resolution: {q_resolution.size} values for {'an' if kind == 'iq' else 'a'} "
                                  f"{kind} of {x.size} points; expected one dQ (1/Å) per point of an I(Q)")
    order = np.argsort(x)
    x, values = x[order], values[order]
    q_resolution = None if q_resolution is None else q_resolution[order]
    top_value = float(np.max(np.abs(values))) if values.size else 0.0
    if values.size and float(np.ptp(values)) <= 1e-12 * top_value:  # also all 0
        raise SwaxsInputError(f"curve: every value is {values[0]:.6g}; expected a curve that varies (the models read "
                              "its shape, and a constant or all-zero curve has none)")
    warnings: list[str] = list(domain_reasons)
    floor = KNOWN_OUT_NOVELTY if domain_reasons else 0.0
    if element is not None and element not in ELEMENTS:
        warnings.append(f"element {element} is not in the database ({', '.join(ELEMENTS)}): predictions are extrapolated")
    if element_source not in ("user", "header"):
        raise SwaxsInputError(f"element_source: got {element_source!r}; expected user or header")
    allowed = routing.allowed_elements(element, allowed_elements)
    plan = route_plan(kind, x, full_range_size_model(bundle.manifest), "size_window" in bundle.extras)
    if not plan["shape"] and not plan["size"]:
        names = ["saxs", "waxs"] if kind == "iq" else ["gr"]
        also = (f" (or, for a size, start at or below {Q_LO_MAX} and end at or above {Q_HI_MIN} 1/Å)"
                if kind == "iq" and "size_window" in bundle.extras else "")
        raise SwaxsInputError(
            f"curve spans {x.min():.3g}..{x.max():.3g} {'1/Å' if kind == 'iq' else 'Å'}; expected it to cover "
            + " or ".join(f"{WINDOWS[n].low}..{WINDOWS[n].high}" for n in names) + also
        )
    for missing in plan["missing"]:
        warnings.append(missing)
    novelty: dict[str, float] = {}
    used: list[str] = []

    def run(model: str, part: str) -> np.ndarray:
        window_name = bundle.window(model)
        feats = features(WINDOWS[window_name], x, values)[None, :]
        if model not in novelty:
            space = bundle.transforms[model].transform(feats)
            d = np.sqrt(((bundle.neighbours[model] - space.astype(np.float32)) ** 2).sum(axis=1))
            k = min(5, len(d))
            novelty[model] = round(float(np.sort(d)[:k].mean() / bundle.manifest["models"][model]["novelty_scale"]), 4)
            used.append(model)
        if part == "family":
            return bundle.family_proba(model, feats)[0]
        if part == "element":
            return bundle.element_proba(model, feats)[0]
        size_feats = features(WINDOWS[bundle.window(model, "size")], x, values)[None, :]
        return bundle.log_size(model, feats, size_feats)[0]

    size_range = routing.size_range(bundle, kind, x, values, q_damp_inv_angstrom) if plan["size"] else {}
    if size_range.get("status") in ("above", "below"):  # a particle the database does not hold: no confident shape
        floor = max(floor, KNOWN_OUT_NOVELTY)
    probabilities: dict[str, float] = {}
    shape_probs: dict[str, float] = {}
    shape_class = shape = family = None
    shape_p = family_p = None
    tempering: dict[str, float] = {}
    if kind == "iq" and "size_window" in bundle.extras and plan["size"] != "size_window":
        # the SAXS part's own novelty: the full-range models hardly see a rod's SAXS shape
        saxs_novelty = window_novelty(bundle.extras["size_window"], bundle.manifest["size_window"], x, values)
        if saxs_novelty is not None:
            novelty["saxs_window"] = round(saxs_novelty, 4)
    if plan["shape"]:
        family_raw = run(plan["shape"], "family")
        family_proba, tempering[plan["shape"]] = temper(
            family_raw, max(novelty[plan["shape"]], novelty.get("saxs_window", 0.0), floor), family_prior())
        proba = class_probabilities(family_proba[None, :])[0]
        probabilities = {c: round(float(p), 6) for c, p in zip(SHAPE_CLASSES, proba)}
        for c, p in probabilities.items():
            shape_probs[SHAPE_OF_CLASS[c]] = round(shape_probs.get(SHAPE_OF_CLASS[c], 0.0) + p, 6)
        shape_class = max(probabilities, key=probabilities.get)
        shape = SHAPE_OF_CLASS[shape_class]
        shape_p = shape_probs[shape]
        # the most probable family of that class (a class's families may each be less likely than another's)
        best = int(np.argmax(np.where(family_classes() == SHAPE_CLASSES.index(shape_class), family_proba, -1.0)))
        family, family_p = family_names()[best], round(float(family_proba[best]), 6)
    diameter = interval = n_atoms = n_interval = size_window = None
    size_physics: dict = {}
    primary, size_note = ("extent" if plan["size"] else None), None
    if size_range.get("status") == "unbounded":  # a size is given, and said to be a lower bound
        warnings.append(size_range["reason"])
    if size_range.get("status") in ("above", "below"):
        warnings.append(size_range["reason"])
    elif plan["size"] == "size_window":
        gate_proba = group_probabilities(family_proba[None, :])[0] if plan["shape"] else None
        allowed_groups = None if shape_hint is None or gate_proba is not None else shape_groups(shape_hint)
        got = predict_window_size(bundle.extras["size_window"], bundle.manifest["size_window"], x, values,
                                  group_proba=gate_proba, allowed_groups=allowed_groups)
        used.append("size_window")
        diameter = round(got["extent"], 4)
        interval = tuple(round(v, 4) for v in got["extent_interval"])
        n_atoms = int(round(got["atoms"]))
        n_interval = tuple(int(round(v)) for v in got["atoms_interval"])
        size_window = got["window_inv_angstrom"]
        novelty["size_window"] = round(got["novelty"], 4)
        # without a shape, the extent from physics: held out, right more often than the window model's (with a
        # shape both are right as often: benchmarks/ml_saxs_sizer.py --shape-known)
        no_shape = gate_proba is None and allowed_groups is None
        physics = physics_for(bundle) if no_shape and size_window[1] <= Q_HI_MAX else None
        if physics is not None:
            est = physics.estimate(x, values, size_window, element=element if element in ELEMENTS else None,
                                   q_resolution=q_resolution, monodisperse=monodisperse)
            used.append("saxs_physics")
            size_physics = {"extent_probability": round(est.extent_probability, 4),
                            "monodisperse_probability": round(est.monodisperse_probability, 4),
                            "misfit": round(est.misfit, 3), "hypotheses": est.hypotheses,
                            "resolution_given": est.resolution_given, "monodisperse_told": monodisperse,
                            "window_model_extent_nm": diameter}
            diameter = round(est.extent_nm, 4)
            interval = tuple(round(v, 4) for v in est.extent_interval_nm)
            if monodisperse and est.monodisperse_probability < MONODISPERSE_DOUBT:
                warnings.append(f"told one size, but the SAXS window favours a spread of sizes (posterior on none "
                                f"{est.monodisperse_probability:.1%} without the claim): the size assumes the claim")
            if est.misfit > MISFIT_LIMIT:
                warnings.append(f"no cluster of the database describes the SAXS window: residuals "
                                f"{math.sqrt(est.misfit):.0f} times its own scatter (misfit {est.misfit:.3g} > "
                                f"{MISFIT_LIMIT:g})")
        if gate_proba is None and allowed_groups is None:  # no shape: the size SAXS determines comes first
            primary = "volume_diameter"
            # the figures with each curve's dQ given where the curve's was used and evaluate scored this window so
            name = f"{size_window[0]:g}-{size_window[1]:g}"
            dq_figures = bundle.extras.get("held_out_windows_physics_resolution_given") or {}
            with_dq = (size_physics.get("resolution_given", False)
                       and all(name in dq_figures.get(split, {}) for split in ("test-mono", "test-poly20")))
            physics_figures = (None if not size_physics else dq_figures if with_dq
                               else bundle.extras.get("held_out_windows_physics"))
            size_note = saxs_only_size_note(size_window, bundle.extras.get("held_out_windows"), physics_figures,
                                            resolution_given=with_dq)
    elif plan["size"]:
        log_d, log_n = run(plan["size"], "size")
        half = bundle.manifest["models"][plan["size"]]["size_half_width_log"]
        diameter = round(float(math.exp(log_d)), 4)
        interval = (round(float(math.exp(log_d - half[0])), 4), round(float(math.exp(log_d + half[0])), 4))
        n_atoms = int(round(math.exp(log_n)))
        n_interval = (int(round(math.exp(log_n - half[1]))), int(round(math.exp(log_n + half[1]))))
    if monodisperse and not size_physics:  # a claim the user made: say where it went
        warnings.append(f"not used: one size informs only the physics size of a SAXS-only curve without a shape "
                        f"(Q_max <= {Q_HI_MAX:g} 1/Å); this curve is sized without it")
    element_probs: dict[str, float] = {}
    model_probs: dict[str, float] = {}
    element_pred = element_p = source = None
    if plan["element"]:
        proba, tempering[plan["element"]] = temper(run(plan["element"], "element"), max(novelty[plan["element"]], floor),
                                                   np.full(len(ELEMENTS), 1.0 / len(ELEMENTS)))
        model_probs = {e: round(float(p), 6) for e, p in zip(ELEMENTS, proba)}
        element_probs = constrained_probabilities(model_probs, allowed)
        element_pred = max(element_probs, key=element_probs.get)
        element_p, source = element_probs[element_pred], "model"
        given_p = sum(model_probs[e] for e in allowed)
        if len(allowed) < len(ELEMENTS) and given_p < 0.05:
            warnings.append(f"the element model gives {', '.join(allowed)} a probability of {given_p:.2f} only "
                            f"(its own answer: {max(model_probs, key=model_probs.get)}): check the element")
    if element in ELEMENTS:
        element_pred, element_p, source = element, 1.0, element_source
        element_probs = {e: (1.0 if e == element else 0.0) for e in ELEMENTS}
    elif allowed != ELEMENTS and source is None:
        element_probs = {e: (round(1.0 / len(allowed), 6) if e in allowed else 0.0) for e in ELEMENTS}
    lo, hi = bundle.manifest.get("diameter_range_nm", [0.75, 7.3])  # extents, as the labels
    if diameter is not None and not lo <= diameter <= hi:
        warnings.append(f"predicted extent {diameter:.2f} nm is outside the database's {lo}..{hi} nm")
    top_extent = hi / 1.05  # the range is the labels' widened by 5 %
    if (diameter is not None and diameter >= 0.95 * top_extent
            and (size_range.get("status") != "inside" or any(v > 1.0 for v in novelty.values()))):
        warnings.append(f"predicted extent {diameter:.2f} nm is at the top of the database's sizes (up to "
                        f"{top_extent:.2f} nm) and the curve is not known to lie inside them: a larger particle "
                        "would get this same answer")
    sizes = instrument_sizes(diameter, interval, n_atoms, n_interval, element or element_pred)
    if size_window is not None:  # the window model predicts the volume-equivalent diameter itself
        sizes["volume_diameter_nm"] = round(got["volume_diameter"], 4)
        sizes["volume_diameter_interval_nm"] = tuple(round(v, 4) for v in got["volume_diameter_interval"])
    for model, score in novelty.items():
        if score > 1.0:
            warnings.append(f"novelty {score:.2f} for {model}: the curve is unlike the training data (> 1)")
    matches = library_search(bundle, kind, x, values, element=element, top=top, allowed_elements=allowed)
    return Prediction(
        kind=kind, shape=shape, shape_class=shape_class, family=family, family_probability=family_p,
        shape_probability=shape_p, probabilities=probabilities,
        shape_probabilities=shape_probs, extent_nm=diameter, extent_interval_nm=interval, n_atoms=n_atoms,
        n_atoms_interval=n_interval, element=element_pred, element_probability=element_p,
        element_probabilities=element_probs, in_domain=not [w for w in warnings if not w.startswith(COVERAGE_NOTES)],
        novelty=novelty, warnings=tuple(warnings),
        models=tuple(used), matches=matches, element_source=source, allowed_elements=allowed,
        element_model_probabilities=model_probs, size_range=size_range, tempering=tempering,
        size_window_inv_angstrom=size_window, primary_size=primary, size_note=size_note, size_physics=size_physics,
        **sizes,
    )


# Re-exported: callers import these from here (the records, the library search, the input conversion, the gates).
__all__ = ["KNOWN_OUT_NOVELTY", "saxs_only_size_note", "TOP_MATCHES", "Match", "Prediction", "composition_elements",
           "curve_resolution", "shape_groups",
           "constrained_probabilities", "family_prior", "library_model", "library_rw", "library_search",
           "matches_columns", "member_parameters", "model_input", "predict", "prediction_row"]
