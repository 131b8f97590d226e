"""Train the shape, size and element models and keep them, with their library, in a model folder.

Models (scikit-learn pipelines on the features of :mod:`swaxs_lib.ml.features`):

=============  ======  ========================================================
name           window  predicts
=============  ======  ========================================================
shape_waxs     waxs    family, hence shape class (calibrated probabilities)
size_saxs      saxs    log diameter and log atom count (SAXS experts, SAXS gate)
joint_iq       iq      family and class; size (SAXS experts, gated on 0.02–10 1/Å)
element_waxs   waxs    element
joint_gr       gr      family and class; size (G(r) experts)
element_gr     gr      element
=============  ======  ========================================================

A classifier is ``StandardScaler`` -> ``PCA`` (120 components) -> estimator.
Shape models classify the *family* (:mod:`swaxs_lib.ml.experts`); class
probabilities are sums over families.  A size model is one expert regressor
per size group on the size window (SAXS for I(Q), the G(r) window for G(r)),
picked ("hard") or weighted ("soft") by the probabilities of the model's own
family classifier (for ``size_saxs`` one trained on SAXS alone, used only as
the gate).  The gate uses the classifier before calibration, so nothing the
size part is chosen or scored with has seen the calibration part.

Training (:func:`train_models`) splits the database's ``train`` split into a
fitting part (80 %) and a calibration part (20 %, stratified by family, seed
recorded).  For each model every candidate estimator of :data:`CLASSIFIERS`
(families, elements) or :data:`REGRESSORS` (the experts) is fitted on the
first part and scored on the second: log loss and accuracy for classifiers;
for size, with each gating, the share within one shell or 5 % of the true
diameter (the target of the held-out evaluation) and the mean absolute log
error.  The best (lowest log loss; highest share, then lowest error) is kept;
classifiers are then calibrated on the calibration part
(``CalibratedClassifierCV`` on the frozen estimator: isotonic, one
calibrator fitted on the whole part; a class absent from it leaves the
model uncalibrated, which the manifest records: tiny databases only).  For I(Q)
covering both windows the size comes from ``joint_iq`` or ``size_saxs``,
whichever did better on the calibration part (:func:`full_range_size_model`).
Size intervals are split-conformal: the 90 % quantile of the calibration
part's absolute log errors.  The novelty score of an input is its mean
distance to the 5 nearest of 2,000 fitting samples (drawn at random) in the
model's PCA space, divided by the 99.5 % quantile of the same score over the
calibration part: above 1 the input is unlike anything trained on.

A model folder holds ``manifest.json`` (windows, classes, families, size
groups, intervals, thresholds, the candidates' scores, the training seed and
database spec), one ``.skops`` file per model (skops never runs code when
loading; only the scikit-learn, numpy and scipy types listed in
:data:`TRUSTED_PREFIXES` are accepted, so a tampered file is refused, not
executed) and ``library.npz`` (the noise-free library curves, loaded with
``allow_pickle=False``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, family_names, size_groups
from swaxs_lib.ml.experts import (GATINGS, class_probabilities, expert_predictions, family_classes, family_labels,
                                  family_probabilities, fit_experts, gate, group_labels, group_probabilities,
                                  predict_size, widened_proba, within_shell_or_5_percent)
from swaxs_lib.ml.features import WINDOWS, features
from swaxs_lib.store.simulations import SampleTable

#: Model name -> (window, targets).  A model with a size target also holds a family classifier (its gate).
MODEL_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "shape_waxs": ("waxs", ("shape",)),
    "size_saxs": ("saxs", ("size",)),
    "joint_iq": ("iq", ("shape", "size")),
    "element_waxs": ("waxs", ("element",)),
    "joint_gr": ("gr", ("shape", "size")),
    "element_gr": ("gr", ("element",)),
}
#: A model's window -> the window its size experts read.
SIZE_WINDOWS: dict[str, str] = {"iq": "saxs", "saxs": "saxs", "gr": "gr"}
#: The folder shipped with the code, which ``predict`` uses by default.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "data" / "models" / "default"
#: Environment variable naming another default model folder.
MODELS_ENV_VAR = "SWAXS_MODELS"


def default_model_dir() -> Path:
    """``$SWAXS_MODELS`` if set, else :data:`DEFAULT_MODEL_DIR` (the shipped model)."""
    import os

    value = os.environ.get(MODELS_ENV_VAR)
    return Path(value) if value else DEFAULT_MODEL_DIR


#: The model folder layout this code reads and writes (2: family classifiers and size experts).
MODEL_FORMAT = 2
#: Type-name prefixes a model file may contain.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
#: Size interval coverage.
INTERVAL_COVERAGE = 0.90
#: Neighbours of the novelty score, and the calibration quantile that scores 1.
NOVELTY_NEIGHBOURS, NOVELTY_QUANTILE = 5, 0.995
#: Fitting samples kept (at random, seeded) as the novelty score's reference set.
NOVELTY_REFERENCE_SAMPLES = 2000
#: Models whose reference set is larger, stored as float16 (distances change < 1e-3 relative): the full-range
#: I(Q) model's, whose 2,000 left cubes and core-shell particles as near as held-out curves
#: (``benchmarks/ml_domain.py``; 10,000 of the 20,160 fitting curves keep the folder under 60 MB).
NOVELTY_REFERENCE_LARGER = {"joint_iq": 10000}
_PCA_COMPONENTS = 120
#: Principal components an expert regressor works in (a size group's curves vary in few ways).
_EXPERT_COMPONENTS = 15
#: Members of the ``mlp_ensemble`` candidate.
_ENSEMBLE_SIZE = 5


def _classifiers(seed: int) -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, VotingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier

    def mlp(k: int = 0):
        return MLPClassifier(hidden_layer_sizes=(512, 256), alpha=1e-3, max_iter=400, early_stopping=True,
                             random_state=seed + k)

    return {
        "logistic": lambda: LogisticRegression(C=1.0, max_iter=500),
        "mlp": mlp,
        # the mean probability of MLPs that differ only in their random start
        "mlp_ensemble": lambda: VotingClassifier([(f"mlp{k}", mlp(k)) for k in range(_ENSEMBLE_SIZE)], voting="soft"),
        "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1,
                                                                         early_stopping=True, random_state=seed),
        "random_forest": lambda: RandomForestClassifier(200, min_samples_leaf=2, random_state=seed),
        "knn": lambda: KNeighborsClassifier(7, weights="distance"),
    }


def _regressors(seed: int) -> dict[str, Callable[[int, int], Any]]:
    """Expert pipelines, each ``make(n_samples, n_features)``."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def pca(n: int, p: int):
        return PCA(max(1, min(_EXPERT_COMPONENTS, n - 1, p)), random_state=0)

    return {
        "ridge": lambda n, p: make_pipeline(StandardScaler(), Ridge(1.0)),
        "mlp": lambda n, p: make_pipeline(StandardScaler(), pca(n, p), StandardScaler(), MLPRegressor(
            hidden_layer_sizes=(128, 64), alpha=1e-4, max_iter=1000, early_stopping=n >= 50, random_state=seed)),
        # one booster per target (log diameter, log atom count)
        "hist_gradient_boosting": lambda n, p: make_pipeline(pca(n, p), MultiOutputRegressor(
            HistGradientBoostingRegressor(max_iter=300, learning_rate=0.1, early_stopping=n >= 100, random_state=seed))),
        # unscaled components: the curve's main variations weigh more than its noise
        "knn": lambda n, p: make_pipeline(pca(n, p), KNeighborsRegressor(min(7, n), weights="distance")),
    }


#: Candidate names, in the order they are tried.
CLASSIFIERS = ("logistic", "mlp", "mlp_ensemble", "hist_gradient_boosting", "random_forest", "knn")
#: What ``train`` tries unless told: every classifier but the random forest (slow, and ~30 MB a model).
DEFAULT_CLASSIFIERS = ("logistic", "mlp", "mlp_ensemble", "hist_gradient_boosting", "knn")
REGRESSORS = ("ridge", "mlp", "hist_gradient_boosting", "knn")


@dataclass(frozen=True)
class ModelBundle:
    """Trained models, their settings and the reference library.

    Attributes
    ----------
    manifest : dict
        See the module docstring.
    estimators : dict of str to dict of str to estimator
        ``estimators[model]["family" | "element" | "size"]``: calibrated
        classifiers (labels: indices into ``manifest["families"]`` or
        ``manifest["elements"]``) and the size estimator of
        :func:`swaxs_lib.ml.experts.predict_size` (log diameter in nm, log atom count).
    transforms : dict of str to estimator
        ``transforms[model]``: the scaler+PCA the novelty score works in.
    neighbours : dict of str to numpy.ndarray
        The fitting samples in that space (float32).
    library : dict of str to numpy.ndarray
        ``iq`` (n, n_q) on ``q_inv_angstrom``, ``gr`` (n, n_r) on ``r_angstrom``, and labels.
    extras : dict
        Models trained apart from :func:`train_models`: ``size_window``
        (:mod:`swaxs_lib.ml.windows`: plain arrays), when the folder holds ``size_window.npz``;
        ``saxs_structures``, the ladder's structure factors the physics SAXS-only sizer reads
        (:func:`swaxs_lib.ml.saxs_physics.structure_table`), when it holds ``saxs_structures.npz``;
        ``held_out_windows``, ``evaluation.json``'s held-out accuracy per split and SAXS window
        (``{"test-mono": {"0.02-0.3": {...}}}``), when ``evaluate`` has written it, and
        ``held_out_windows_physics``, the physics sizer's (``windows_physics``), and
        ``held_out_windows_physics_resolution_given``, its with each curve's dQ given.
    """

    manifest: dict[str, Any]
    estimators: dict[str, dict[str, Any]]
    transforms: dict[str, Any]
    neighbours: dict[str, np.ndarray]
    library: dict[str, np.ndarray]
    extras: dict[str, Any] = field(default_factory=dict)

    def window(self, model: str, part: str = "family") -> str:
        """The window ``model`` reads for ``part`` (the size experts read ``size_window``)."""
        entry = self.manifest["models"][model]
        return entry["size_window"] if part == "size" else entry["window"]

    def family_proba(self, model: str, x: np.ndarray) -> np.ndarray:
        """Calibrated family probabilities (n, n_families) from features ``x`` on the model's window."""
        return family_probabilities(self.estimators[model]["family"], x)

    def element_proba(self, model: str, x: np.ndarray) -> np.ndarray:
        """Calibrated element probabilities (n, len(ELEMENTS))."""
        return widened_proba(self.estimators[model]["element"], x, len(ELEMENTS))

    def log_size(self, model: str, x_gate: np.ndarray, x_size: np.ndarray) -> np.ndarray:
        """Log diameter (nm) and log atom count (n, 2): the experts on ``x_size`` (the size window),
        gated by the uncalibrated family classifier on ``x_gate`` (the model's window)."""
        gate_proba = family_probabilities(gate_classifier(self.estimators[model]["family"]), x_gate)
        return predict_size(self.estimators[model]["size"], gate_proba, x_size)


def full_range_size_model(manifest: dict[str, Any]) -> str:
    """The size model for I(Q) covering both windows: ``joint_iq`` or ``size_saxs``, whichever scored
    better on the calibration part (never on test data)."""
    scores = {}
    for name in ("joint_iq", "size_saxs"):
        entry = manifest["models"].get(name)
        if entry and "size" in entry.get("chosen", {}):
            scores[name] = _size_rank(entry["candidates"]["size"][entry["chosen"]["size"]])
    return min(scores, key=scores.get) if scores else "joint_iq"


def _size_rank(score: dict[str, float]) -> tuple[float, float]:
    return (-score["within_shell_or_5_percent"], score["mean_abs_log_diameter"])


def gate_classifier(classifier: Any) -> Any:
    """The family classifier before calibration (what the size gate uses, see the module docstring)."""
    from sklearn.calibration import CalibratedClassifierCV

    return classifier.estimator.estimator if isinstance(classifier, CalibratedClassifierCV) else classifier


def _pipeline(estimator, n_features: int, n_samples: int | None = None):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    components = min(_PCA_COMPONENTS, n_features, n_samples or n_features)
    return make_pipeline(StandardScaler(), PCA(components, random_state=0), estimator)


def _targets(table: SampleTable) -> dict[str, np.ndarray]:
    labels = table.labels
    return {
        "family": family_labels(labels["family"]),
        "group": group_labels(labels["family"]),
        "element": np.array([ELEMENTS.index(e) for e in labels["element"]]),
        "size": np.column_stack((np.log(labels["diameter_angstrom"].astype(float) / 10.0),
                                 np.log(labels["n_atoms"].astype(float)))),
        "step_nm": labels["shell_step_angstrom"].astype(float) / 10.0,
    }


def model_features(table: SampleTable, window_name: str) -> np.ndarray:
    """Features of every sample of ``table`` on window ``window_name``."""
    window = WINDOWS[window_name]
    if window.kind == "iq":
        return features(window, table.q_inv_angstrom, table.iq)
    return features(window, table.r_angstrom, table.gr)


def train_models(
    table: SampleTable,
    *,
    models: tuple[str, ...] | None = None,
    classifiers: tuple[str, ...] = DEFAULT_CLASSIFIERS,
    regressors: tuple[str, ...] = REGRESSORS,
    seed: int = 0,
    library: SampleTable | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    database: dict[str, Any] | None = None,
) -> ModelBundle:
    """Fit every model of :data:`MODEL_SPECS` (or ``models``) on the ``train`` samples of ``table``.

    Parameters
    ----------
    table : SampleTable
        Training samples (rows whose split is not ``train`` are ignored).
    models : tuple of str, optional
        A subset of :data:`MODEL_SPECS`.
    classifiers, regressors : tuple of str
        Candidate estimators to compare (subsets of :data:`CLASSIFIERS`, :data:`REGRESSORS`).
    seed : int
        Seed of the fitting/calibration split and of the estimators.
    library : SampleTable, optional
        Noise-free reference curves for the library search.
    progress : callable, optional
        ``progress(done, total, note)``, per candidate fitted.
    database : dict, optional
        The database's name and spec, recorded in the manifest.

    Returns
    -------
    ModelBundle
    """
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import NearestNeighbors

    names = tuple(models or MODEL_SPECS)
    for name in names:
        if name not in MODEL_SPECS:
            raise SwaxsInputError(f"models: got {name!r}; expected some of {', '.join(MODEL_SPECS)}")
    bad = [c for c in classifiers if c not in CLASSIFIERS] + [r for r in regressors if r not in REGRESSORS]
    if bad or not classifiers or not regressors:
        raise SwaxsInputError(f"estimators: got {bad or 'none'}; expected some of {', '.join(CLASSIFIERS)} "
                              f"(classifiers) and {', '.join(REGRESSORS)} (regressors)")
    train = table.labels["split"] == "train"
    if train.sum() < 20:
        raise SwaxsInputError(f"database: {int(train.sum())} training samples; expected at least 20 (build a bigger one)")
    targets = {k: v[train] for k, v in _targets(table).items()}
    index = np.arange(int(train.sum()))
    fit_idx, cal_idx = train_test_split(index, test_size=0.2, random_state=seed,
                                        stratify=_stratum(targets["family"]))
    total = sum(len(classifiers) * (_has_family(n) + ("element" in MODEL_SPECS[n][1]))
                + len(regressors) * ("size" in MODEL_SPECS[n][1]) for n in names)
    manifest: dict[str, Any] = {
        "format": MODEL_FORMAT, "seed": seed, "database": database or {}, "classes": list(SHAPE_CLASSES),
        "families": list(family_names()), "size_groups": list(size_groups()), "elements": list(ELEMENTS),
        "models": {}, "n_fit": len(fit_idx), "n_calibration": len(cal_idx),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    fitter = _Fitter(table, train, targets, fit_idx, cal_idx, classifiers, regressors, seed,
                     _Progress(progress, total))
    estimators: dict[str, dict[str, Any]] = {}
    transforms, neighbours = {}, {}
    for name in names:
        window_name, kinds = MODEL_SPECS[name]
        x = fitter.features(window_name)
        entry: dict[str, Any] = {"window": window_name, "targets": list(kinds), "candidates": {}, "chosen": {}}
        estimators[name] = {}
        parts = (["family"] if _has_family(name) else []) + [k for k in kinds if k in ("element", "size")]
        for part in parts:
            if part == "size":
                estimator, scores, best, extra = fitter.size(name, window_name, estimators[name]["family"])
                entry["size_window"] = SIZE_WINDOWS[window_name]
            else:
                estimator, scores, best, extra = fitter.classifier(name, part, x)
            estimators[name][part] = estimator
            entry["candidates"][part] = scores
            entry["chosen"][part] = best
            entry.update(extra)
        transform = _pipeline(None, x.shape[1], len(fit_idx))[:-1].fit(x[fit_idx])
        n_reference = NOVELTY_REFERENCE_LARGER.get(name, NOVELTY_REFERENCE_SAMPLES)
        reference = np.random.default_rng(seed).permutation(fit_idx)[:n_reference]
        space = transform.transform(x[np.sort(reference)]).astype(
            np.float16 if n_reference > NOVELTY_REFERENCE_SAMPLES else np.float32)
        nn = NearestNeighbors(n_neighbors=min(NOVELTY_NEIGHBOURS, len(space))).fit(space.astype(np.float32))
        cal_scores = nn.kneighbors(transform.transform(x[cal_idx]))[0].mean(axis=1)
        entry["novelty_scale"] = float(np.quantile(cal_scores, NOVELTY_QUANTILE))
        transforms[name] = transform
        neighbours[name] = space
        manifest["models"][name] = entry
    lib = _library_arrays(library) if library is not None else {}
    return ModelBundle(manifest, estimators, transforms, neighbours, lib)


def _has_family(name: str) -> bool:
    return bool({"shape", "size"} & set(MODEL_SPECS[name][1]))


def _stratum(labels: np.ndarray) -> np.ndarray | None:
    """Stratify the fit/calibration split by ``labels`` where every label present has two samples at least."""
    counts = np.bincount(labels)
    return labels if counts[counts > 0].min() >= 2 else None


class _Progress:
    def __init__(self, callback, total: int):
        self.callback, self.total, self.done = callback, total, 0

    def step(self, note: str) -> None:
        self.done += 1
        if self.callback:
            self.callback(self.done, self.total, note)


class _Fitter:
    """Fits and scores the candidates of one training run (features and experts shared between models)."""

    def __init__(self, table, train, targets, fit_idx, cal_idx, classifiers, regressors, seed, progress):
        self.table, self.train, self.targets = table, train, targets
        self.fit_idx, self.cal_idx = fit_idx, cal_idx
        self.classifiers, self.regressors, self.seed, self.progress = classifiers, regressors, seed, progress
        self._features: dict[str, np.ndarray] = {}
        self._experts: dict[tuple[str, str], tuple[dict[str, Any], np.ndarray, float]] = {}

    def features(self, window_name: str) -> np.ndarray:
        if window_name not in self._features:
            self._features[window_name] = model_features(self.table, window_name)[self.train]
        return self._features[window_name]

    def classifier(self, name: str, part: str, x: np.ndarray):
        """Compare the classifier candidates for ``part`` (family or element); calibrate the best."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator
        from sklearn.metrics import log_loss

        y = self.targets[part]
        fit, cal = self.fit_idx, self.cal_idx
        pool = _classifiers(self.seed)
        scores, fitted = {}, {}
        for cand in self.classifiers:
            start = time.perf_counter()
            model = _pipeline(pool[cand](), x.shape[1], len(fit)).fit(x[fit], y[fit])
            seconds = time.perf_counter() - start
            proba = model.predict_proba(x[cal])
            predicted = model.classes_[proba.argmax(1)]
            scores[cand] = {"log_loss": float(log_loss(y[cal], proba, labels=model.classes_)),
                            "accuracy": float(np.mean(predicted == y[cal])), "fit_s": round(seconds, 2)}
            if part == "family":
                predicted_class = class_probabilities(family_probabilities(model, x[cal])).argmax(1)
                scores[cand]["class_accuracy"] = float(np.mean(predicted_class == family_classes()[y[cal]]))
            fitted[cand] = model
            self.progress.step(f"{name} {part}: {cand} {_short(scores[cand])}")
        best = min(scores, key=lambda c: scores[c]["log_loss"])
        model = fitted[best]
        if set(model.classes_) - set(y[cal]):
            # a class never seen in the calibration part cannot be calibrated (tiny databases only)
            return model, scores, best, {f"{part}_calibrated": False}
        # the estimator is frozen: one isotonic calibrator on the whole calibration part
        whole = np.arange(len(cal))
        calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="isotonic", cv=[(whole, whole)]).fit(
            x[cal], y[cal])
        return calibrated, scores, best, {f"{part}_calibrated": True}

    def size(self, name: str, window_name: str, family_classifier: Any):
        """Compare the expert candidates x gatings on the calibration part; keep the best and its interval."""
        size_window = SIZE_WINDOWS[window_name]
        x_size = self.features(size_window)
        y, step = self.targets["size"], self.targets["step_nm"]
        cal = self.cal_idx
        group_proba = group_probabilities(family_probabilities(gate_classifier(family_classifier),
                                                               self.features(window_name)[cal]))
        scores, kept = {}, {}
        for cand in self.regressors:
            experts, per_group, seconds = self._fitted_experts(size_window, cand, x_size)
            for gating in GATINGS:
                pred = gate(per_group, group_proba, gating)
                err = np.abs(pred - y[cal])
                hits = within_shell_or_5_percent(np.exp(pred[:, 0]), np.exp(y[cal, 0]), step[cal])
                key = f"{cand} {gating}"
                scores[key] = {"within_shell_or_5_percent": float(hits.mean()),
                               "mean_abs_log_diameter": float(err[:, 0].mean()),
                               "within_5_percent": float(np.mean(err[:, 0] <= math.log(1.05))), "fit_s": seconds}
                kept[key] = ({"experts": experts, "gating": gating}, err)
            self.progress.step(f"{name} size: {cand} " + ", ".join(
                f"{g} {scores[f'{cand} {g}']['within_shell_or_5_percent']:.3f}" for g in GATINGS))
        best = min(scores, key=lambda k: _size_rank(scores[k]))
        estimator, err = kept[best]
        # split-conformal: the ceil((n+1) q)/n empirical quantile
        n = len(err)
        level = min(1.0, math.ceil((n + 1) * INTERVAL_COVERAGE) / n)
        half = [float(np.quantile(err[:, k], level, method="higher")) for k in range(2)]
        return estimator, scores, best, {"size_half_width_log": half}

    def _fitted_experts(self, size_window: str, cand: str, x: np.ndarray):
        key = (size_window, cand)
        if key not in self._experts:
            make = _regressors(self.seed)[cand]
            fit = self.fit_idx
            start = time.perf_counter()
            experts = fit_experts(x[fit], self.targets["size"][fit], self.targets["group"][fit],
                                  lambda n: make(n, x.shape[1]))
            seconds = round(time.perf_counter() - start, 2)
            self._experts[key] = (experts, expert_predictions(experts, x[self.cal_idx]), seconds)
        return self._experts[key]


def _short(score: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in score.items() if k != "fit_s")


def _library_arrays(library: SampleTable) -> dict[str, np.ndarray]:
    keep = library.labels["split"] == "library"
    # the curves on the models' windows only: Q up to 10 1/Å, r on the G(r) window's points
    q_keep = library.q_inv_angstrom <= WINDOWS["iq"].high + 1e-9
    r_keep = np.isin(np.round(library.r_angstrom, 6), np.round(WINDOWS["gr"].points, 6))
    out = {
        "q_inv_angstrom": library.q_inv_angstrom[q_keep],
        "r_angstrom": library.r_angstrom[r_keep],
        "iq": library.iq[keep][:, q_keep].astype(np.float32),
        "gr": library.gr[keep][:, r_keep].astype(np.float32),
    }
    for column in ("shape_class", "shape", "family", "element", "parameters_json"):
        out[column] = library.labels[column][keep].astype(str)
    for column in ("diameter_angstrom", "n_atoms", "rung"):
        out[column] = library.labels[column][keep].astype(float)
    return out


def release_training_state(obj: Any, _seen: set[int] | None = None) -> None:
    """Drop, in place, what only further training of ``obj``'s estimators needs.

    That is the Adam optimiser of every multilayer perceptron inside ``obj``
    (estimators, pipelines, ensembles, calibrated classifiers, dicts and lists
    of them): its two moment arrays per weight would triple a model file.
    Prediction is unchanged; ``partial_fit`` would restart the optimiser.
    """
    from sklearn.base import BaseEstimator
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        children = list(obj)
    elif isinstance(obj, BaseEstimator):
        if isinstance(obj, (MLPClassifier, MLPRegressor)):
            obj._optimizer = None
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        release_training_state(child, seen)


def save_bundle(bundle: ModelBundle, folder: str | Path) -> Path:
    """Write ``bundle`` to ``folder`` (created; zip-compressed skops files); returns it.

    The bundle's perceptrons lose their optimiser state (:func:`release_training_state`)."""
    import skops.io as sio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, parts in bundle.estimators.items():
        release_training_state(parts)
        sio.dump({"estimators": parts, "transform": bundle.transforms[name]}, folder / f"{name}.skops",
                 compression=zipfile.ZIP_DEFLATED)
        np.save(folder / f"{name}.neighbours.npy", bundle.neighbours[name], allow_pickle=False)
    if bundle.library:
        np.savez_compressed(folder / "library.npz", **bundle.library)
    if "size_window" in bundle.extras:
        np.savez_compressed(folder / "size_window.npz", **bundle.extras["size_window"])
    if "saxs_structures" in bundle.extras:
        np.savez_compressed(folder / "saxs_structures.npz", **bundle.extras["saxs_structures"])
    (folder / "manifest.json").write_text(json.dumps(bundle.manifest, indent=1, sort_keys=True) + "\n")
    return folder


#: Model folders read in this process, by a hash of their files' bytes: a batch predicts file after file.
_LOADED: dict[str, "ModelBundle"] = {}


def _folder_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        h.update(path.name.encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def load_bundle(folder: str | Path | None = None) -> ModelBundle:
    """Read a model folder written by :func:`save_bundle` (default :func:`default_model_dir`).

    A folder read before in this process, with the same bytes, is not read again (0.1 s to hash
    55 MB against ~5 s to load): the estimators are only used to predict, never changed.

    Raises
    ------
    SwaxsInputError
        No model there, or a file holding types other than scikit-learn's,
        numpy's and scipy's (it is refused, never executed).
    """
    import skops.io as sio

    folder = Path(folder) if folder is not None else default_model_dir()
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise SwaxsInputError(f"models {folder}: no manifest.json; expected a folder written by "
                              "`python -m swaxs_lib train`")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != MODEL_FORMAT:
        raise SwaxsInputError(f"models {folder}: format {manifest.get('format')}; expected {MODEL_FORMAT} "
                              "(retrain with `python -m swaxs_lib train`)")
    digest = _folder_digest(folder) + repr(TRUSTED_PREFIXES)  # what was trusted is part of what was loaded
    if digest in _LOADED:
        return _LOADED[digest]
    estimators, transforms, neighbours = {}, {}, {}

    def trusted_load(path: Path):
        untrusted = sio.get_untrusted_types(file=path)
        foreign = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if foreign:
            raise SwaxsInputError(f"models {path}: holds types {foreign[:3]}; expected only scikit-learn, numpy "
                                  "and scipy objects (refused, not loaded)")
        return sio.load(path, trusted=untrusted)

    for name in manifest["models"]:
        content = trusted_load(folder / f"{name}.skops")
        estimators[name] = content["estimators"]
        transforms[name] = content["transform"]
        neighbours[name] = np.load(folder / f"{name}.neighbours.npy", allow_pickle=False)
    library: dict[str, np.ndarray] = {}
    if (folder / "library.npz").is_file():
        with np.load(folder / "library.npz", allow_pickle=False) as data:
            library = {k: data[k] for k in data.files}
    extras = {}
    if "size_window" in manifest and (folder / "size_window.npz").is_file():
        with np.load(folder / "size_window.npz", allow_pickle=False) as data:
            extras["size_window"] = {k: data[k] for k in data.files}
    if (folder / "saxs_structures.npz").is_file():  # the physics SAXS-only sizer's (swaxs_lib.ml.saxs_physics)
        with np.load(folder / "saxs_structures.npz", allow_pickle=False) as data:
            extras["saxs_structures"] = {k: data[k] for k in data.files}
    if (folder / "evaluation.json").is_file():  # held-out figures per SAXS window, quoted with a window's size
        evaluation = json.loads((folder / "evaluation.json").read_text())
        for key, extra in (("windows", "held_out_windows"), ("windows_physics", "held_out_windows_physics"),
                           ("windows_physics_resolution_given", "held_out_windows_physics_resolution_given")):
            if isinstance(evaluation.get(key), dict):
                extras[extra] = evaluation[key]
    bundle = ModelBundle(manifest, estimators, transforms, neighbours, library, extras)
    if len(_LOADED) >= 2:  # a model folder or two per process (the shipped one, one being trained)
        _LOADED.clear()
    _LOADED[digest] = bundle
    return bundle


__all__ = [
    "CLASSIFIERS",
    "DEFAULT_CLASSIFIERS",
    "DEFAULT_MODEL_DIR",
    "MODELS_ENV_VAR",
    "MODEL_SPECS",
    "REGRESSORS",
    "ModelBundle",
    "load_bundle",
    "model_features",
    "release_training_state",
    "save_bundle",
    "default_model_dir",
    "full_range_size_model",
    "gate_classifier",
    "train_models",
]
