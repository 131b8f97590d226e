"""Train the shape, size and element models and keep them, with their library, in a model folder.

Models (each a scikit-learn pipeline: ``StandardScaler`` -> ``PCA`` -> estimator,
on the features of :mod:`swaxs_lib.ml.features`):

=============  ======  ==============================================
name           window  predicts
=============  ======  ==============================================
shape_waxs     waxs    shape class (calibrated probabilities)
size_saxs      saxs    log diameter and log atom count
joint_iq       iq      shape class and log diameter, log atom count
element_waxs   waxs    element
shape_gr       gr      shape class
size_gr        gr      log diameter, log atom count
element_gr     gr      element
=============  ======  ==============================================

Training (:func:`train_models`) splits the database's ``train`` split into a
fitting part (80 %) and a calibration part (20 %, stratified by class, seed
recorded).  For each model every candidate estimator of :data:`CLASSIFIERS` or
:data:`REGRESSORS` is fitted on the first part and scored on the second (log
loss and accuracy, or mean absolute log error); the best is kept and then
calibrated on the calibration part (``CalibratedClassifierCV`` on the frozen
estimator, isotonic).  For I(Q) covering both windows the shape comes from
``joint_iq`` and the size from ``joint_iq`` or ``size_saxs``, whichever did
better on the calibration part (:func:`full_range_size_model`).  Size intervals are split-conformal: the 90 % quantile
of the calibration part's absolute log errors.  The novelty score of an input
is its mean distance to the 5 nearest of 2,000 fitting samples (drawn at
random) in the model's PCA space, divided by the 99.5 % quantile of the same score over the calibration
part: above 1 the input is unlike anything trained on.

A model folder holds ``manifest.json`` (windows, classes, intervals,
thresholds, the candidates' scores, the training seed and database spec),
one ``.skops`` file per model (skops never runs code when loading; only the
scikit-learn, numpy and scipy types listed in :data:`TRUSTED_PREFIXES` are
accepted, so a tampered file is refused, not executed) and ``library.npz``
(the noise-free library curves, loaded with ``allow_pickle=False``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES
from swaxs_lib.ml.features import WINDOWS, features
from swaxs_lib.store.simulations import SampleTable

#: Model name -> (window, targets).
MODEL_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "shape_waxs": ("waxs", ("shape",)),
    "size_saxs": ("saxs", ("size",)),
    "joint_iq": ("iq", ("shape", "size")),
    "element_waxs": ("waxs", ("element",)),
    "shape_gr": ("gr", ("shape",)),
    "size_gr": ("gr", ("size",)),
    "element_gr": ("gr", ("element",)),
}
#: The folder shipped with the code, which ``predict`` uses by default.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "data" / "models" / "default"
#: Environment variable naming another default model folder.
MODELS_ENV_VAR = "SWAXS_MODELS"


def default_model_dir() -> Path:
    """``$SWAXS_MODELS`` if set, else :data:`DEFAULT_MODEL_DIR` (the shipped model)."""
    import os

    value = os.environ.get(MODELS_ENV_VAR)
    return Path(value) if value else DEFAULT_MODEL_DIR
#: Type-name prefixes a model file may contain.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
#: Size interval coverage.
INTERVAL_COVERAGE = 0.90
#: Neighbours of the novelty score, and the calibration quantile that scores 1.
NOVELTY_NEIGHBOURS, NOVELTY_QUANTILE = 5, 0.995
#: Fitting samples kept (at random, seeded) as the novelty score's reference set.
NOVELTY_REFERENCE_SAMPLES = 2000
_PCA_COMPONENTS = 60


def _classifiers(seed: int) -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier

    return {
        "logistic": lambda: LogisticRegression(C=1.0, max_iter=500),
        "mlp": lambda: MLPClassifier(hidden_layer_sizes=(256, 128), alpha=1e-3, max_iter=400, early_stopping=True,
                                     random_state=seed),
        "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1,
                                                                         early_stopping=True, random_state=seed),
        "random_forest": lambda: RandomForestClassifier(200, min_samples_leaf=2, random_state=seed),
        "knn": lambda: KNeighborsClassifier(7, weights="distance"),
    }


def _regressors(seed: int) -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.neural_network import MLPRegressor

    return {
        "ridge": lambda: Ridge(1.0),
        "mlp": lambda: MLPRegressor(hidden_layer_sizes=(256, 128), alpha=1e-3, max_iter=600, early_stopping=True,
                                    random_state=seed),
        # one booster per target (log diameter, log atom count)
        "hist_gradient_boosting": lambda: MultiOutputRegressor(HistGradientBoostingRegressor(
            max_iter=400, learning_rate=0.1, early_stopping=True, random_state=seed)),
        "knn": lambda: KNeighborsRegressor(7, weights="distance"),
    }


#: Candidate names, in the order they are tried.
CLASSIFIERS = ("logistic", "mlp", "hist_gradient_boosting", "random_forest", "knn")
REGRESSORS = ("ridge", "mlp", "hist_gradient_boosting", "knn")


@dataclass(frozen=True)
class ModelBundle:
    """Trained models, their settings and the reference library.

    Attributes
    ----------
    manifest : dict
        See the module docstring.
    estimators : dict of str to dict of str to estimator
        ``estimators[model]["shape" | "element" | "size"]``; size predicts
        (log diameter in nm, log atom count).
    transforms : dict of str to estimator
        ``transforms[model]``: the scaler+PCA the novelty score works in.
    neighbours : dict of str to numpy.ndarray
        The fitting samples in that space (float32).
    library : dict of str to numpy.ndarray
        ``iq`` (n, n_q) on ``q_inv_angstrom``, ``gr`` (n, n_r) on ``r_angstrom``, and labels.
    """

    manifest: dict[str, Any]
    estimators: dict[str, dict[str, Any]]
    transforms: dict[str, Any]
    neighbours: dict[str, np.ndarray]
    library: dict[str, np.ndarray]


def full_range_size_model(manifest: dict[str, Any]) -> str:
    """The size model for I(Q) covering both windows: ``joint_iq`` or ``size_saxs``, whichever scored
    the lower mean absolute log-diameter error on the calibration part (never on test data)."""
    scores = {}
    for name in ("joint_iq", "size_saxs"):
        entry = manifest["models"].get(name)
        if entry and "size" in entry.get("chosen", {}):
            scores[name] = entry["candidates"]["size"][entry["chosen"]["size"]]["mean_abs_log_diameter"]
    return min(scores, key=scores.get) if scores else "joint_iq"


def _pipeline(estimator, n_features: int):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), PCA(min(_PCA_COMPONENTS, n_features), random_state=0), estimator)


def _targets(table: SampleTable) -> dict[str, np.ndarray]:
    labels = table.labels
    return {
        "shape": np.array([SHAPE_CLASSES.index(c) for c in labels["shape_class"]]),
        "element": np.array([ELEMENTS.index(e) for e in labels["element"]]),
        "size": np.column_stack((np.log(labels["diameter_angstrom"].astype(float) / 10.0),
                                 np.log(labels["n_atoms"].astype(float)))),
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
    classifiers: tuple[str, ...] = CLASSIFIERS,
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
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import KFold, train_test_split
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
    fit_idx, cal_idx = train_test_split(index, test_size=0.2, random_state=seed, stratify=targets["shape"])
    total = sum(len(classifiers if t != "size" else regressors) for n in names for t in MODEL_SPECS[n][1])
    done = 0
    manifest: dict[str, Any] = {
        "format": 1, "seed": seed, "database": database or {}, "classes": list(SHAPE_CLASSES),
        "elements": list(ELEMENTS), "models": {}, "n_fit": len(fit_idx), "n_calibration": len(cal_idx),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    estimators: dict[str, dict[str, Any]] = {}
    transforms, neighbours = {}, {}
    feature_cache: dict[str, np.ndarray] = {}
    for name in names:
        window_name, kinds = MODEL_SPECS[name]
        if window_name not in feature_cache:
            feature_cache[window_name] = model_features(table, window_name)[train]
        x = feature_cache[window_name]
        entry: dict[str, Any] = {"window": window_name, "targets": list(kinds), "candidates": {}}
        estimators[name] = {}
        for kind in kinds:
            y = targets[kind]
            scores = {}
            fitted = {}
            pool = _regressors(seed) if kind == "size" else _classifiers(seed)
            for cand in (regressors if kind == "size" else classifiers):
                start = time.perf_counter()
                model = _pipeline(pool[cand](), x.shape[1]).fit(x[fit_idx], y[fit_idx])
                seconds = time.perf_counter() - start
                if kind == "size":
                    err = np.abs(model.predict(x[cal_idx]) - y[cal_idx])
                    scores[cand] = {"mean_abs_log_diameter": float(err[:, 0].mean()),
                                    "within_5_percent": float(np.mean(err[:, 0] <= math.log(1.05))),
                                    "fit_s": round(seconds, 2)}
                else:
                    proba = model.predict_proba(x[cal_idx])
                    scores[cand] = {"log_loss": float(log_loss(y[cal_idx], proba, labels=model.classes_)),
                                    "accuracy": float(accuracy_score(y[cal_idx], model.classes_[proba.argmax(1)])),
                                    "fit_s": round(seconds, 2)}
                fitted[cand] = model
                done += 1
                if progress:
                    progress(done, total, f"{name} {kind}: {cand} {scores[cand]}")
            key = "mean_abs_log_diameter" if kind == "size" else "log_loss"
            best = min(scores, key=lambda c: scores[c][key])
            model = fitted[best]
            if kind == "size":
                err = np.abs(model.predict(x[cal_idx]) - y[cal_idx])
                # split-conformal: the ceil((n+1) q)/n empirical quantile
                n = len(err)
                level = min(1.0, math.ceil((n + 1) * INTERVAL_COVERAGE) / n)
                entry["size_half_width_log"] = [float(np.quantile(err[:, k], level, method="higher")) for k in range(2)]
            else:
                # the estimator is frozen: the folds only split the calibration set, all of it is used
                model = CalibratedClassifierCV(FrozenEstimator(model), method="isotonic", cv=KFold(2)).fit(
                    x[cal_idx], y[cal_idx])
            estimators[name][kind] = model
            entry["candidates"][kind] = scores
            entry["chosen"] = {**entry.get("chosen", {}), kind: best}
        transform = _pipeline(None, x.shape[1])[:-1].fit(x[fit_idx])
        reference = np.random.default_rng(seed).permutation(fit_idx)[:NOVELTY_REFERENCE_SAMPLES]
        space = transform.transform(x[np.sort(reference)]).astype(np.float32)
        nn = NearestNeighbors(n_neighbors=NOVELTY_NEIGHBOURS).fit(space)
        cal_scores = nn.kneighbors(transform.transform(x[cal_idx]))[0].mean(axis=1)
        entry["novelty_scale"] = float(np.quantile(cal_scores, NOVELTY_QUANTILE))
        transforms[name] = transform
        neighbours[name] = space
        manifest["models"][name] = entry
    lib = _library_arrays(library) if library is not None else {}
    return ModelBundle(manifest, estimators, transforms, neighbours, lib)


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


def save_bundle(bundle: ModelBundle, folder: str | Path) -> Path:
    """Write ``bundle`` to ``folder`` (created); returns it."""
    import skops.io as sio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, parts in bundle.estimators.items():
        sio.dump({"estimators": parts, "transform": bundle.transforms[name]}, folder / f"{name}.skops")
        np.save(folder / f"{name}.neighbours.npy", bundle.neighbours[name], allow_pickle=False)
    if bundle.library:
        np.savez_compressed(folder / "library.npz", **bundle.library)
    (folder / "manifest.json").write_text(json.dumps(bundle.manifest, indent=1, sort_keys=True) + "\n")
    return folder


def load_bundle(folder: str | Path | None = None) -> ModelBundle:
    """Read a model folder written by :func:`save_bundle` (default :func:`default_model_dir`).

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
    estimators, transforms, neighbours = {}, {}, {}
    for name in manifest["models"]:
        path = folder / f"{name}.skops"
        untrusted = sio.get_untrusted_types(file=path)
        foreign = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if foreign:
            raise SwaxsInputError(f"models {path}: holds types {foreign[:3]}; expected only scikit-learn, numpy "
                                  "and scipy objects (refused, not loaded)")
        content = sio.load(path, trusted=untrusted)
        estimators[name] = content["estimators"]
        transforms[name] = content["transform"]
        neighbours[name] = np.load(folder / f"{name}.neighbours.npy", allow_pickle=False)
    library: dict[str, np.ndarray] = {}
    if (folder / "library.npz").is_file():
        with np.load(folder / "library.npz", allow_pickle=False) as data:
            library = {k: data[k] for k in data.files}
    return ModelBundle(manifest, estimators, transforms, neighbours, library)


__all__ = [
    "CLASSIFIERS",
    "DEFAULT_MODEL_DIR",
    "MODELS_ENV_VAR",
    "MODEL_SPECS",
    "REGRESSORS",
    "ModelBundle",
    "load_bundle",
    "model_features",
    "save_bundle",
    "default_model_dir",
    "full_range_size_model",
    "train_models",
]
