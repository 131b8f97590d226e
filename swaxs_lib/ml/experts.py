"""Family probabilities, and size from one expert regressor per size group, gated by those probabilities.

The shape models classify a curve into its *family* (icosahedra, Marks
decahedra (p, 2, 1), fcc spheres ...; :func:`~swaxs_lib.ml.catalog.family_names`);
a fine class's probability is the sum over its families
(:func:`class_probabilities`).  Classifying families rather than classes
keeps the decahedron families apart, which the size needs.

Size is the diameter (largest atom–atom distance) and atom count.  How a SAXS
curve relates to them depends on the shape: an octahedron's vertices reach
far beyond what its SAXS curve suggests for a sphere, a flat decahedron
differs from an elongated one.  One regressor over all families must guess
the family from SAXS alone (about half of them right) and misses by
several shells where it guesses wrong.  Here one regressor (the *expert*) is
trained per size group (:func:`~swaxs_lib.ml.catalog.size_group`) on the
SAXS (or G(r)) window, and a family classifier on the widest window the
curve covers (the *gate*) picks the expert:

* ``hard`` gating: the expert of the most probable group;
* ``soft`` gating: the probability-weighted mean of every expert's log
  diameter and log atom count.

Which expert estimator and which gating a model uses is chosen on the
calibration part (:func:`swaxs_lib.ml.models.train_models`).  A size
estimator is stored as a plain dict, ``{"experts": {group: pipeline},
"gating": "hard" | "soft"}``, of scikit-learn objects only, so that model
files load without running code.

Validation: on the default database's held-out test splits
(``data/models/default/evaluation.json``), full-range I(Q) sizes fall within
one shell or 5 % for 99.5 % of monodisperse and 98.4 % of 20 %-polydisperse
curves, against 95.7 % and 86.1 % for the single kNN regressor on SAXS that
this replaced (trained on half as many curves).
``tests/test_ml_experts.py`` checks the gating on toy data with known answers.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from swaxs_lib.ml.catalog import SHAPE_CLASSES, class_of_family, family_names, size_group, size_groups

#: Gating modes.
GATINGS = ("hard", "soft")
#: Fewest training samples an expert is fitted on (a group with fewer has no expert; its
#: probability goes to the groups that have one).
MIN_EXPERT_SAMPLES = 4


def _index_map(names: tuple[str, ...], of: Callable[[str], str], targets: tuple[str, ...]) -> np.ndarray:
    return np.array([targets.index(of(name)) for name in names])


def widened_proba(classifier: Any, x: np.ndarray, n_labels: int) -> np.ndarray:
    """``classifier.predict_proba(x)`` widened to labels ``0 .. n_labels - 1`` (n, n_labels): labels the
    classifier never saw get 0."""
    proba = classifier.predict_proba(x)
    out = np.zeros((len(proba), n_labels))
    out[:, np.asarray(classifier.classes_, int)] = proba
    return out


def family_probabilities(classifier: Any, x: np.ndarray) -> np.ndarray:
    """Every family's probability (n, n_families) from a classifier whose labels are indices into
    :func:`~swaxs_lib.ml.catalog.family_names`."""
    return widened_proba(classifier, x, len(family_names()))


def family_classes() -> np.ndarray:
    """Each family's fine class, as an index into :data:`~swaxs_lib.ml.catalog.SHAPE_CLASSES`."""
    return _index_map(family_names(), class_of_family, SHAPE_CLASSES)


def class_probabilities(family_proba: np.ndarray) -> np.ndarray:
    """Fine-class probabilities (n, len(SHAPE_CLASSES)): the sum over each class's families."""
    return _sum_columns(family_proba, family_classes(), len(SHAPE_CLASSES))


def group_probabilities(family_proba: np.ndarray) -> np.ndarray:
    """Size-group probabilities (n, len(size_groups())): the sum over each group's families."""
    groups = size_groups()
    return _sum_columns(family_proba, _index_map(family_names(), size_group, groups), len(groups))


def _sum_columns(proba: np.ndarray, target: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((len(proba), n))
    for column, to in enumerate(target):
        out[:, to] += proba[:, column]
    return out


def family_labels(family: np.ndarray) -> np.ndarray:
    """Family names -> indices into :func:`~swaxs_lib.ml.catalog.family_names` (the classifiers' labels)."""
    names = family_names()
    return np.array([names.index(f) for f in family])


def group_labels(family: np.ndarray) -> np.ndarray:
    """Family names -> indices into :func:`~swaxs_lib.ml.catalog.size_groups`."""
    groups = size_groups()
    return np.array([groups.index(size_group(f)) for f in family])


def fit_experts(x: np.ndarray, y: np.ndarray, groups: np.ndarray, make: Callable[[int], Any]) -> dict[str, Any]:
    """One fitted regressor per size group with at least :data:`MIN_EXPERT_SAMPLES` samples.

    Parameters
    ----------
    x : numpy.ndarray (n, n_features)
    y : numpy.ndarray (n, 2)
        log diameter (nm), log atom count.
    groups : numpy.ndarray (n,) of int
        Indices into :func:`~swaxs_lib.ml.catalog.size_groups` (:func:`group_labels`).
    make : callable
        ``make(n_samples)`` -> an unfitted regressor (pipeline).

    Returns
    -------
    dict of group name to fitted regressor
    """
    experts = {}
    for k, name in enumerate(size_groups()):
        sel = groups == k
        if sel.sum() >= MIN_EXPERT_SAMPLES:
            experts[name] = make(int(sel.sum())).fit(x[sel], y[sel])
    return experts


def expert_predictions(experts: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Every expert's prediction (n, n_groups, 2); NaN for groups without an expert."""
    groups = size_groups()
    out = np.full((len(x), len(groups), 2), np.nan)
    for name, expert in experts.items():
        out[:, groups.index(name)] = expert.predict(x)
    return out


def gate(per_group: np.ndarray, group_proba: np.ndarray, gating: str) -> np.ndarray:
    """Combine :func:`expert_predictions` by ``gating`` with the group probabilities (n, 2)."""
    if gating not in GATINGS:
        raise ValueError(f"gating: got {gating!r}; expected one of {GATINGS}")
    has = ~np.isnan(per_group[0, :, 0]) if len(per_group) else np.zeros(per_group.shape[1], bool)
    weight = np.where(has[None, :], group_proba, 0.0)
    total = weight.sum(axis=1, keepdims=True)
    # a curve whose probable groups all lack an expert: every expert counts alike
    weight = np.where(total > 0, weight / np.where(total > 0, total, 1.0), has[None, :] / max(has.sum(), 1))
    values = np.nan_to_num(per_group)
    if gating == "soft":
        return np.einsum("ng,ngk->nk", weight, values)
    return values[np.arange(len(values)), weight.argmax(axis=1)]


def within_shell_or_5_percent(predicted_nm: np.ndarray, true_nm: np.ndarray, step_nm: np.ndarray) -> np.ndarray:
    """Whether each predicted diameter is within one shell (``step_nm``, one rung of the family's ladder)
    or within 5 % of the true diameter: the size target of the held-out evaluation."""
    err = np.abs(np.asarray(predicted_nm) - np.asarray(true_nm))
    return (err <= 0.05 * np.asarray(true_nm)) | (err <= np.asarray(step_nm))


def predict_size(size_estimator: dict[str, Any], family_proba: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Log diameter (nm) and log atom count (n, 2) of a stored size estimator (see the module docstring)."""
    per_group = expert_predictions(size_estimator["experts"], x)
    return gate(per_group, group_probabilities(family_proba), size_estimator["gating"])


__all__ = [
    "GATINGS",
    "MIN_EXPERT_SAMPLES",
    "class_probabilities",
    "expert_predictions",
    "family_classes",
    "family_labels",
    "family_probabilities",
    "fit_experts",
    "gate",
    "group_labels",
    "group_probabilities",
    "predict_size",
    "widened_proba",
    "within_shell_or_5_percent",
]
