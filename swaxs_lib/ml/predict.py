"""Predict shape, size and element of a measured curve, with the library search beside it.

Which models answer depends on what the curve covers (:mod:`swaxs_lib.ml.features`):
I(Q) covering 0.02–10 1/Å uses ``joint_iq`` for shape and ``joint_iq`` or
``size_saxs`` for size (whichever did better in calibration); otherwise
``shape_waxs`` answers shape where 2.4–10 1/Å is covered and ``size_saxs``
size where 0.02–1 1/Å is; G(r) covering 2–30 Å uses ``joint_gr``.  What is
not covered is left out and said in ``warnings``.

The library search (the baseline) fits every noise-free library curve to the
data with a least-squares scale (and, for I(Q), a constant background) over
the covered windows and ranks them by

    R_w = sqrt( sum w (y - s m - b)^2 / sum w y^2 ),

with w = 1 / y^2 for I(Q) (relative residuals: intensities span decades) and
w = 1 for G(r); the scale must be positive and the background non-negative
(where the free fit breaks that, the scale alone is fitted; a curve that
still needs a negative scale gets R_w = inf).

A match opened in Compare (:func:`library_model`) is the library curve's own
model: the member built in its element at the element's lattice constant,
the library's B (Å²), Q damping, delta2 and, for G(r), its transform window,
fitted over the search's window(s) with Compare's exact least-squares scale
(and background) on the data's own points.  Its R_w is close to the
search's (for G(r) within about 0.005: the search interpolates the data
onto the library's grid, and its scale must be positive; for I(Q) the
range also covers the gap between the SAXS and WAXS windows and Compare
weights by the data's uncertainties when it has them): the page shows both.

``in_domain`` is False, with the reason in ``warnings``, when the curve
misses a model's window, the element given is not one of the database's,
the predicted diameter lies outside the database's sizes, the curve's
Guinier radius lies outside the training curves' (:mod:`swaxs_lib.ml.domain`:
then no size is given at all, rather than the top of the range), or the novelty
score (:mod:`swaxs_lib.ml.models`) of any model used exceeds 1, or the caller found a model-free
reason in the file (``domain_reasons``: :mod:`swaxs_lib.ml.measured`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, SHAPE_OF_CLASS, family_names
from swaxs_lib.ml.domain import temper
from swaxs_lib.ml.experts import class_probabilities, family_classes, group_probabilities
from swaxs_lib.ml.features import WINDOWS, features
from swaxs_lib.ml.models import ModelBundle, full_range_size_model
from swaxs_lib.ml.windows import Q_HI_MIN, Q_LO_MAX, ladder_window, predict_window_size, window_novelty

if TYPE_CHECKING:
    from swaxs_lib.views import CompareModel

#: Matches reported.
TOP_MATCHES = 5
#: The novelty a model-free out-of-domain reason counts as when tempering (λ = 0.64: the answer keeps
#: its ranking, not its confidence; :func:`swaxs_lib.ml.domain.temper_weight`).
KNOWN_OUT_NOVELTY = 2.0


@dataclass(frozen=True)
class Match:
    """One library curve and how well it fits.

    ``parameters`` are the builder's keyword arguments of the member in its
    element (:func:`member_parameters`): ``build_cluster(shape, element,
    **parameters)`` gives the library's atoms.  ``index`` is its row in the library.
    """

    rank: int
    shape_class: str
    shape: str
    family: str
    parameters: dict[str, Any]
    element: str
    extent_nm: float
    n_atoms: int
    rw: float
    scale: float
    background: float
    index: int


@dataclass(frozen=True)
class Prediction:
    """What the models say about one curve.

    Attributes
    ----------
    kind : str
        ``"iq"`` or ``"gr"``.
    shape : str or None
        The ``cluster`` command's shape name of the most probable class.
    shape_class : str or None
        The fine class (``marks_decahedron``, ``fcc_sphere`` ...).
    family, family_probability
        The most probable family of ``shape_class`` (``decahedron q=2 r=1``,
        ``fcc sphere`` ...; :func:`~swaxs_lib.ml.catalog.family_names`) and its probability.
    shape_probability : float or None
        Calibrated probability of ``shape`` (summed over its fine classes).
    probabilities : dict
        Every fine class's calibrated probability.
    shape_probabilities : dict
        Every ``shape`` name's probability.
    extent_nm, extent_interval_nm
        Predicted extent (largest distance between atom centres, nm: the
        database's label) and its 90 % interval.
    outer_diameter_nm, outer_diameter_interval_nm
        The extent plus one atomic diameter (the element's bulk
        nearest-neighbour distance; Au's when no element is known or
        predicted): what a particle image (TEM) measures.
    volume_diameter_nm, volume_diameter_interval_nm
        Diameter of the sphere with the volume of ``n_atoms`` atoms of the
        element's bulk volume: what a SAXS sphere fit or a PDF sphere envelope
        measures.  The sizes are defined in :mod:`swaxs_lib.structures.sizes`.
    n_atoms, n_atoms_interval
        Predicted atom count and its 90 % interval.
    element, element_probability, element_probabilities
        The element: the element model's answer over the allowed elements
        only (``element_source`` "model"), or the one given by the user or
        the file header (``element_source`` "user" / "header"), which then
        replaces the model's answer; None if neither gives one.
    element_source : str or None
        ``"model"``, ``"user"`` or ``"header"``: where ``element`` came from.
    allowed_elements : tuple of str
        The elements the prediction was restricted to (all six when nothing constrained it).
    element_model_probabilities : dict
        The element model's own probabilities, before the constraint (empty
        when no element model answered): kept to show a disagreement.
    size_window_inv_angstrom : (float, float) or None
        Where the size came from the window size model
        (:mod:`swaxs_lib.ml.windows`: a SAXS curve not covering 0.02–1 1/Å),
        the Q window it read (1/Å).
    tempering : dict
        Per model, the weight λ of the training prior mixed into its
        probabilities by its novelty (:func:`swaxs_lib.ml.domain.temper`; for
        the shape model the larger of its own and ``saxs_window``'s):
        the shape and element probabilities above are the tempered ones.
    size_range : dict
        The model-free size check of an I(Q) (:mod:`swaxs_lib.ml.domain`):
        ``status`` (inside, above, below, unknown; None when not checked),
        ``rg_angstrom``, ``sphere_diameter_nm`` and ``reason``.  Above or
        below the ladder, no size is given (the sizes are None) and
        ``size_out_of_range`` is True.
    in_domain : bool
    novelty : dict
        Novelty score per model used (<= 1: like the training data), and for
        an I(Q) sized by another model ``saxs_window``: its SAXS part's own
        (:func:`swaxs_lib.ml.windows.window_novelty`).
    warnings : tuple of str
    models : tuple of str
        The models that answered.
    matches : tuple of Match
        The closest library curves, best first.
    """

    kind: str
    shape: str | None
    shape_class: str | None
    family: str | None
    family_probability: float | None
    shape_probability: float | None
    probabilities: dict[str, float]
    shape_probabilities: dict[str, float]
    extent_nm: float | None
    extent_interval_nm: tuple[float, float] | None
    n_atoms: int | None
    n_atoms_interval: tuple[int, int] | None
    element: str | None
    element_probability: float | None
    element_probabilities: dict[str, float]
    in_domain: bool
    novelty: dict[str, float]
    warnings: tuple[str, ...]
    models: tuple[str, ...]
    matches: tuple[Match, ...] = field(default=())
    outer_diameter_nm: float | None = None
    outer_diameter_interval_nm: tuple[float, float] | None = None
    volume_diameter_nm: float | None = None
    volume_diameter_interval_nm: tuple[float, float] | None = None
    element_source: str | None = None
    allowed_elements: tuple[str, ...] = ELEMENTS
    element_model_probabilities: dict[str, float] = field(default_factory=dict)
    size_range: dict[str, Any] = field(default_factory=dict)
    tempering: dict[str, float] = field(default_factory=dict)
    size_window_inv_angstrom: tuple[float, float] | None = None

    @property
    def size_out_of_range(self) -> bool:
        return self.size_range.get("status") in ("above", "below")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the command's output line."""
        out = {k: getattr(self, k) for k in ("kind", "shape", "shape_class", "family", "family_probability",
                                              "shape_probability", "probabilities",
                                              "shape_probabilities", "extent_nm", "extent_interval_nm",
                                              "outer_diameter_nm", "outer_diameter_interval_nm", "volume_diameter_nm",
                                              "volume_diameter_interval_nm", "n_atoms", "n_atoms_interval", "element", "element_probability",
                                              "element_probabilities", "element_source", "element_model_probabilities",
                                              "in_domain", "novelty", "tempering", "models",
                                              "size_window_inv_angstrom")}
        out["allowed_elements"] = list(self.allowed_elements)
        out["size_out_of_range"] = self.size_out_of_range
        out["size_range"] = dict(self.size_range)
        out["warnings"] = list(self.warnings)
        out["matches"] = [m.__dict__ for m in self.matches]
        return out


def model_input(kind: str, x: np.ndarray, values: np.ndarray, element: str | None = None
                ) -> tuple[str, np.ndarray, np.ndarray, tuple[str, ...]]:
    """The (kind, x, values, notes) the models take for a measured curve of ``kind``.

    I(Q) passes as it is; so does G(r), except that a G(r) ending before the
    window's 30 Å whose last 2 Å are below 5 % of its largest |G| (the particle
    is smaller than r_max) is continued with zeros to 30 Å, as a note says.  S(Q) and F(Q) become I(Q) = f(Q)^2 S(Q)
    (S = 1 + F / Q) with the form factor of ``element`` (gold when not given,
    which the notes say): for one element, I(Q) per atom is f^2 S.

    Raises
    ------
    SwaxsInputError
        An unknown kind.
    """
    from swaxs_lib.scattering.form_factors import form_factor

    if kind == "gr":
        return _extend_decayed_pdf(np.asarray(x, float), np.asarray(values, float))
    if kind == "iq":
        return kind, np.asarray(x, float), np.asarray(values, float), ()
    if kind not in ("sq", "fq"):
        raise SwaxsInputError(f"kind: got {kind!r}; expected iq, sq, fq or gr")
    q = np.asarray(x, float)
    s = np.asarray(values, float)
    notes: tuple[str, ...] = ()
    if kind == "fq":
        s = 1.0 + s / np.where(q > 0, q, np.inf)
    elif _is_s_minus_one(q, s):
        notes = (f"S(Q) has negative values, which S(Q) cannot have, and its upper half averages "
                 f"{float(np.mean(s[q >= np.median(q)])):.2f}, not 1: read as S(Q) − 1",)
        s = s + 1.0
    symbol = element if element in ELEMENTS else "Au"
    f2 = np.abs(form_factor(symbol, q)) ** 2
    notes += (f"{kind.upper()} converted to I(Q) = f(Q)² S(Q) with the form factor of {symbol}"
              + ("" if element in ELEMENTS else " (element not given)"),)
    return "iq", q, f2 * s, notes


def _is_s_minus_one(q: np.ndarray, s: np.ndarray) -> bool:
    """Whether an "S(Q)" is S(Q) − 1 (xPDFsuite writes either): S(Q) >= 0 and -> 1 at high Q, so a curve with
    negative values whose upper half in Q averages within 0.3 of 0 is the difference."""
    upper = s[q >= np.median(q)]
    return bool(len(s) >= 10 and np.min(s) < 0 and abs(float(np.mean(upper))) < 0.3)


def _extend_decayed_pdf(r: np.ndarray, g: np.ndarray) -> tuple[str, np.ndarray, np.ndarray, tuple[str, ...]]:
    high = WINDOWS["gr"].high
    if len(r) < 10 or r.max() >= high or r.max() < 10.0:
        return "gr", r, g, ()
    tail = g[r >= r.max() - 2.0]
    if float(np.sqrt(np.mean(tail**2))) >= 0.05 * float(np.max(np.abs(g))):
        return "gr", r, g, ()
    step = float(np.median(np.diff(r)))
    extra = np.arange(r.max() + step, high + step, step)
    note = (f"G(r) ends at {r.max():.3g} Å and has decayed there (< 5 % of its maximum): taken as 0 "
            f"from there to {high:g} Å (the particle is smaller than {r.max():.3g} Å)")
    return "gr", np.concatenate((r, extra)), np.concatenate((g, np.zeros(len(extra)))), (note,)


def predict(bundle: ModelBundle, kind: str, x: np.ndarray, values: np.ndarray, *, element: str | None = None,
            top: int = TOP_MATCHES, element_source: str = "user",
            allowed_elements: tuple[str, ...] | None = None, shape_hint: str | None = None,
            domain_reasons: tuple[str, ...] = ()) -> Prediction:
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

    Returns
    -------
    Prediction

    Raises
    ------
    SwaxsInputError
        ``kind`` unknown, a constant (or all-zero) curve, or the curve covers none of the windows of that kind.
    """
    if kind not in ("iq", "gr"):
        raise SwaxsInputError(f"kind: got {kind!r}; expected iq (I(Q)) or gr (G(r)); convert S(Q) or F(Q) first")
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    order = np.argsort(x)
    x, values = x[order], values[order]
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
    allowed = _allowed_elements(element, allowed_elements)
    plan = _plan(kind, x, full_range_size_model(bundle.manifest), "size_window" in bundle.extras)
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
    size_range = _size_range(bundle, kind, x, values) if plan["size"] else {}
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
    elif plan["size"]:
        log_d, log_n = run(plan["size"], "size")
        half = bundle.manifest["models"][plan["size"]]["size_half_width_log"]
        diameter = round(float(math.exp(log_d)), 4)
        interval = (round(float(math.exp(log_d - half[0])), 4), round(float(math.exp(log_d + half[0])), 4))
        n_atoms = int(round(math.exp(log_n)))
        n_interval = (int(round(math.exp(log_n - half[1]))), int(round(math.exp(log_n + half[1]))))
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
    sizes = _instrument_sizes(diameter, interval, n_atoms, n_interval, element or element_pred)
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
        element_probabilities=element_probs, in_domain=not warnings, novelty=novelty, warnings=tuple(warnings),
        models=tuple(used), matches=matches, element_source=source, allowed_elements=allowed,
        element_model_probabilities=model_probs, size_range=size_range, tempering=tempering,
        size_window_inv_angstrom=size_window, **sizes,
    )


def shape_groups(shape: str) -> np.ndarray:
    """The size groups (indices into :func:`~swaxs_lib.ml.catalog.size_groups`) of a ``cluster`` shape name.

    Raises
    ------
    SwaxsInputError
        An unknown shape name.
    """
    names = sorted(set(SHAPE_OF_CLASS.values()))
    if shape not in names:
        raise SwaxsInputError(f"--shape: got {shape!r}; expected one of {', '.join(names)}")
    mine = np.array([SHAPE_OF_CLASS[SHAPE_CLASSES[c]] == shape for c in family_classes()], float)
    return np.nonzero(group_probabilities(mine[None, :])[0] > 0)[0]


def family_prior() -> np.ndarray:
    """The training set's family balance: classes equally often, each class's families equally often."""
    classes = family_classes()
    counts = np.bincount(classes, minlength=len(SHAPE_CLASSES))
    return 1.0 / (len(SHAPE_CLASSES) * counts[classes])


def _size_range(bundle: ModelBundle, kind: str, x: np.ndarray, values: np.ndarray) -> dict[str, Any]:
    """The model-free size check (:func:`swaxs_lib.ml.domain.check_size_range`) of an I(Q) reaching below
    0.1 1/Å, against the manifest's training R_g range; {} when not checked."""
    from swaxs_lib.ml.domain import check_size_range

    rg_range = bundle.manifest.get("guinier_rg_range_angstrom")
    if kind != "iq" or rg_range is None or float(np.min(x)) > 0.1:
        return {}
    check = check_size_range(x, values, tuple(rg_range))
    return {"status": check.status, "rg_angstrom": None if check.rg_angstrom is None else round(check.rg_angstrom, 3),
            "sphere_diameter_nm": check.sphere_diameter_nm, "reason": check.reason}


def _allowed_elements(element: str | None, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    if element is not None:
        return (element,) if element in ELEMENTS else ELEMENTS
    if allowed is None:
        return ELEMENTS
    bad = [e for e in allowed if e not in ELEMENTS]
    if bad or not allowed:
        raise SwaxsInputError(f"allowed_elements: got {list(allowed)}; expected some of {', '.join(ELEMENTS)}")
    return tuple(e for e in ELEMENTS if e in allowed)


def composition_elements(facts) -> tuple[str, ...] | None:
    """The database elements a header's composition allows when it names no single cluster element
    (an alloy, ``composition = Au Ag``): two or more of :data:`ELEMENTS`; else None."""
    if facts.element is not None:
        return None
    found = tuple(e for e in ELEMENTS if e in facts.elements)
    return found if len(found) >= 2 else None


def constrained_probabilities(probabilities: dict[str, float], allowed: tuple[str, ...]) -> dict[str, float]:
    """Element probabilities conditioned on the element being one of ``allowed``.

    P(e | x, e in A) = P(e | x) / sum_{a in A} P(a | x) for e in A, 0 elsewhere;
    uniform over A when the model gives A no probability at all.

    Examples
    --------
    >>> constrained_probabilities({"Au": 0.2, "Ag": 0.3, "Pt": 0.5}, ("Au", "Ag"))
    {'Au': 0.4, 'Ag': 0.6, 'Pt': 0.0}
    """
    total = sum(p for e, p in probabilities.items() if e in allowed)
    return {e: (round(p / total, 6) if total > 0 else round(1.0 / len(allowed), 6)) if e in allowed else 0.0
            for e, p in probabilities.items()}


def _instrument_sizes(extent, extent_interval, n_atoms, n_interval, element) -> dict[str, Any]:
    """The outer and volume-equivalent diameters (nm) of a predicted extent and atom count (fcc bulk values)."""
    from swaxs_lib.structures.elements import lattice_constant
    from swaxs_lib.structures.sizes import volume_diameter

    a = lattice_constant(element if element in ELEMENTS else "Au", "fcc")
    nn_nm, v = a / math.sqrt(2) / 10.0, a**3 / 4
    out: dict[str, Any] = {}
    if extent is not None:
        out["outer_diameter_nm"] = round(extent + nn_nm, 4)
        out["outer_diameter_interval_nm"] = tuple(round(x + nn_nm, 4) for x in extent_interval)
    if n_atoms is not None:
        out["volume_diameter_nm"] = round(volume_diameter(n_atoms, v) / 10.0, 4)
        out["volume_diameter_interval_nm"] = tuple(round(volume_diameter(n, v) / 10.0, 4) for n in n_interval)
    return out


def _plan(kind: str, x: np.ndarray, full_range_size: str, window_model: bool = False) -> dict[str, Any]:
    covers = {name: w.covered_by(x) for name, w in WINDOWS.items() if w.kind == kind}
    missing = []
    if kind == "gr":
        ok = covers["gr"]
        return {"shape": "joint_gr" if ok else None, "size": "joint_gr" if ok else None,
                "element": "element_gr" if ok else None, "missing": missing}
    if covers["iq"]:
        return {"shape": "joint_iq", "size": full_range_size, "element": "element_waxs", "missing": missing}
    if not covers["waxs"]:
        missing.append(f"no shape: the curve does not cover the WAXS window {WINDOWS['waxs'].low}..{WINDOWS['waxs'].high} 1/Å")
    size = "size_saxs" if covers["saxs"] else None
    if size is None and window_model and ladder_window(x) is not None:
        size = "size_window"
    if size is None:
        missing.append(f"no size: the curve does not cover the SAXS window {WINDOWS['saxs'].low}..{WINDOWS['saxs'].high} 1/Å"
                       + (f" nor start at or below {Q_LO_MAX} and end at or above {Q_HI_MIN} 1/Å" if window_model else ""))
    return {"shape": "shape_waxs" if covers["waxs"] else None, "size": size,
            "element": "element_waxs" if covers["waxs"] else None, "missing": missing}


def member_parameters(shape: str, element: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A library member's builder parameters in its element, from the gold template's (the library's labels).

    The library scales each gold template by the ratio of nearest-neighbour
    distances (:func:`swaxs_lib.ml.catalog.element_scale`): a shell count stays,
    a sphere's diameter (Å) scales with it (6 significant digits, which cut the
    same atoms: checked for Ni spheres up to 72 Å of every lattice).

    Examples
    --------
    >>> member_parameters("sphere", "Ni", {"diameter_angstrom": 27.0, "lattice": "bcc"})
    {'diameter_angstrom': 23.2941, 'lattice': 'bcc'}
    >>> member_parameters("icosahedron", "Ni", {"shells": 4})
    {'shells': 4}
    """
    from swaxs_lib.ml.catalog import element_scale

    out = dict(parameters)
    if "diameter_angstrom" in out:
        out["diameter_angstrom"] = float(f"{float(out['diameter_angstrom']) * element_scale(element):.6g}")
    return out


def library_search(bundle: ModelBundle, kind: str, x: np.ndarray, values: np.ndarray, *,
                   element: str | None = None, top: int = TOP_MATCHES,
                   allowed_elements: tuple[str, ...] | None = None) -> tuple[Match, ...]:
    """The ``top`` library curves closest to the data by R_w (see the module docstring), of ``element``
    (or of ``allowed_elements``) when given."""
    lib = bundle.library
    if not lib:
        return ()
    rw, scale, background = library_rw(lib, kind, x, values)
    candidates = np.arange(len(rw))
    if element is not None and element in ELEMENTS:
        candidates = candidates[lib["element"] == element]
    elif allowed_elements is not None:
        candidates = candidates[np.isin(lib["element"], list(allowed_elements))]
    candidates = candidates[np.isfinite(rw[candidates])]
    best = candidates[np.argsort(rw[candidates])[:top]]
    return tuple(
        Match(rank=k + 1, shape_class=str(lib["shape_class"][i]), shape=str(lib["shape"][i]),
              family=str(lib["family"][i]),
              parameters=member_parameters(str(lib["shape"][i]), str(lib["element"][i]),
                                           json.loads(str(lib["parameters_json"][i]))),
              element=str(lib["element"][i]), extent_nm=round(float(lib["diameter_angstrom"][i]) / 10.0, 4),
              n_atoms=int(lib["n_atoms"][i]), rw=round(float(rw[i]), 6), scale=float(scale[i]),
              background=float(background[i]), index=int(i))
        for k, i in enumerate(best)
    )


def library_rw(lib: dict[str, np.ndarray], kind: str, x: np.ndarray, values: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R_w, scale and background of every library curve against one curve (on the covered windows)."""
    if kind == "iq":
        grid = lib["q_inv_angstrom"]
        keep = np.zeros(len(grid), bool)
        for name in ("saxs", "waxs"):
            w = WINDOWS[name]
            if w.covered_by(x):
                keep |= (grid >= w.low - 1e-9) & (grid <= w.high + 1e-9)
        models = lib["iq"][:, keep].astype(float)
        y = np.interp(grid[keep], x, values)
        weight = 1.0 / np.maximum(np.abs(y), 1e-300) ** 2
        # per library curve: min over (s, b) of sum w (y - s m - b)^2, the 2x2 normal equations
        sw, sy = weight.sum(), (weight * y).sum()
        sm = models @ weight
        smm = (models**2) @ weight
        smy = models @ (weight * y)
        det = smm * sw - sm**2
        s = np.where(det > 0, (smy * sw - sm * sy) / np.where(det > 0, det, 1.0), 0.0)
        b = np.where(det > 0, (smm * sy - sm * smy) / np.where(det > 0, det, 1.0), 0.0)
        # a physical fit has scale > 0 and background >= 0: where the free fit breaks that, scale alone
        alone = smy / np.where(smm > 0, smm, 1.0)
        refit = (s <= 0) | (b < 0)
        s = np.where(refit, alone, s)
        b = np.where(refit, 0.0, b)
        resid = y[None, :] - s[:, None] * models - b[:, None]
    else:
        grid = lib["r_angstrom"]
        w = WINDOWS["gr"]
        keep = (grid >= w.low - 1e-9) & (grid <= w.high + 1e-9)
        models = lib["gr"][:, keep].astype(float)
        y = np.interp(grid[keep], x, values)
        weight = np.ones_like(y)
        smm = (models**2).sum(axis=1)
        s = np.where(smm > 0, models @ y / np.where(smm > 0, smm, 1.0), 0.0)
        b = np.zeros_like(s)
        resid = y[None, :] - s[:, None] * models
    rw = np.sqrt((resid**2 @ weight) / max(float((weight * y * y).sum()), 1e-300))
    rw = np.where(s > 0, rw, np.inf)  # a curve that only fits upside down does not match
    return rw, s, b


def library_model(match: Match, measurement) -> "CompareModel":
    """The library curve of ``match`` as a Compare page model (module docstring): what its hand-off link carries.

    Parameters
    ----------
    match : Match
    measurement : Measurement
        The measured curve the match was found for (any kind; S(Q) and F(Q)
        are compared as they are, not converted).

    Returns
    -------
    swaxs_lib.views.CompareModel
        zoom 1 + the library's expansion (0); ``u`` = B / 8π² (G(r)) or ``b`` = B
        (Q-space) with the library's B; G(r) also its ``qdamp``, ``delta2`` and
        Q window, no background, fit range its window (2–30 Å); Q-space a
        constant background (as the search) over the covered windows' span.

    Examples
    --------
    >>> import numpy as np
    >>> from swaxs_lib.io import Measurement
    >>> m = Measurement("gr", np.arange(0.5, 40.0, 0.01), np.ones(3950), None, "x.gr", "angstrom")
    >>> match = Match(1, "fcc_octahedron", "octahedron", "octahedron", {"length": 5}, "Pt", 1.1, 85, 0.2, 1.0, 0.0, 0)
    >>> library_model(match, m).query()
    {'zoom': '1', 'u': '0.00759909', 'delta2': '0', 'qdamp': '0.03', 'bg': 'none', 'xr': '2,30', 'qmin': '1', \
'qmax': '22', 'sas': '1'}
    """
    from swaxs_lib.ml.simulate import clean_variant
    from swaxs_lib.views import compare_model_of_fit

    variant = clean_variant(match.element)
    x = np.asarray(measurement.x, dtype=float)
    if measurement.kind == "gr":
        window = WINDOWS["gr"]
        values = {"zoom": 1.0 + variant.expansion, "u": variant.b_iso_angstrom2 / (8 * math.pi**2),
                  "delta2": variant.delta2_angstrom2, "qdamp": variant.q_damp_inv_angstrom}
        settings = {"x_min": window.low, "x_max": window.high, "background": "none",
                    "q_min_inv_angstrom": variant.pdf_q_min_inv_angstrom,
                    "q_max_inv_angstrom": variant.pdf_q_max_inv_angstrom, "small_angle": "subtract"}
    else:
        covered = [w for w in (WINDOWS["saxs"], WINDOWS["waxs"]) if w.covered_by(x)] or [WINDOWS["iq"]]
        values = {"zoom": 1.0 + variant.expansion, "b": variant.b_iso_angstrom2}
        settings = {"x_min": min(w.low for w in covered), "x_max": max(w.high for w in covered),
                    "background": "constant"}
    return compare_model_of_fit(measurement, values, settings)


def prediction_row(result: dict[str, Any]) -> dict[str, Any]:
    """One CSV row of a prediction (``Prediction.to_dict()`` plus ``data``, the input's id or file):
    the summary, every class's probability, the best match."""
    interval = result["extent_interval_nm"] or (math.nan, math.nan)
    n_interval = result["n_atoms_interval"] or (math.nan, math.nan)
    outer = result.get("outer_diameter_interval_nm") or (math.nan, math.nan)
    volume = result.get("volume_diameter_interval_nm") or (math.nan, math.nan)
    row = {"data": result.get("data", ""), "kind": result["kind"], "shape": result["shape"] or "",
           "shape_class": result["shape_class"] or "", "family": result.get("family") or "",
           "shape_probability": _number(result["shape_probability"]),
           "extent_nm": _number(result["extent_nm"]), "extent_low_nm": interval[0],
           "extent_high_nm": interval[1], "outer_diameter_nm": _number(result.get("outer_diameter_nm")),
           "outer_diameter_low_nm": outer[0], "outer_diameter_high_nm": outer[1],
           "volume_diameter_nm": _number(result.get("volume_diameter_nm")), "volume_diameter_low_nm": volume[0],
           "volume_diameter_high_nm": volume[1], "n_atoms": _number(result["n_atoms"]), "n_atoms_low": n_interval[0],
           "n_atoms_high": n_interval[1], "element": result["element"] or "",
           "element_probability": _number(result["element_probability"]),
           "element_source": result.get("element_source") or "", "in_domain": result["in_domain"],
           "size_out_of_range": bool(result.get("size_out_of_range", False))}
    for name, p in result["probabilities"].items():
        row[f"p_{name}"] = p
    best = result["matches"][0] if result["matches"] else None
    row["best_match"] = "" if best is None else (
        f"{best['shape']} {json.dumps(best['parameters'], sort_keys=True)} {best['element']}")
    row["best_match_rw"] = math.nan if best is None else best["rw"]
    row["warnings"] = " | ".join(result["warnings"])
    return row


def matches_columns(matches: tuple[Match, ...]) -> dict[str, list]:
    """The matches as CSV columns; ``parameters`` as the builder's keyword arguments in sorted JSON."""
    keys = ("rank", "shape_class", "shape", "family", "parameters", "element", "extent_nm", "n_atoms", "rw",
            "scale", "background")
    return {k: [json.dumps(m.parameters, sort_keys=True) if k == "parameters" else getattr(m, k) for m in matches]
            for k in keys}


def _number(value) -> float:
    return math.nan if value is None else value


__all__ = ["TOP_MATCHES", "Match", "Prediction", "composition_elements", "shape_groups", "constrained_probabilities", "library_model", "library_rw", "library_search", "matches_columns",
           "member_parameters", "model_input", "predict", "prediction_row"]
