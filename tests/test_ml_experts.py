"""Family probabilities, size groups and gated size experts, on toy inputs with answers known by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsRegressor

from swaxs_lib.ml.catalog import SHAPE_CLASSES, class_of_family, family_names, family_of_class, size_group, size_groups
from swaxs_lib.ml.experts import (
    class_probabilities,
    expert_predictions,
    family_labels,
    fit_experts,
    gate,
    group_labels,
    group_probabilities,
    predict_size,
    within_shell_or_5_percent,
)


def one_hot(family: str) -> np.ndarray:
    out = np.zeros((1, len(family_names())))
    out[0, family_names().index(family)] = 1.0
    return out


def test_every_family_belongs_to_one_class_and_one_size_group():
    assert len(family_names()) == 15 and len(size_groups()) == 10
    for shape_class in SHAPE_CLASSES:
        assert all(class_of_family(f) == shape_class for f in family_of_class(shape_class))
    # decahedra share an expert per q rule, over r (Ino r = 0 and Marks r = 1, 2 alike)
    assert size_group("decahedron q=2 r=0") == size_group("decahedron q=2 r=1") == "decahedron q=2"
    assert size_group("decahedron q=p r=1") == "decahedron q=p" != size_group("decahedron q=1 r=1")
    assert size_group("octahedron") == "octahedron" and size_group("fcc sphere") == "fcc sphere"


def test_class_and_group_probabilities_are_sums_over_families():
    p = class_probabilities(one_hot("decahedron q=2 r=1"))[0]
    assert p[SHAPE_CLASSES.index("marks_decahedron")] == 1.0 and p.sum() == 1.0
    p = class_probabilities(one_hot("decahedron q=p r=0"))[0]
    assert p[SHAPE_CLASSES.index("ino_decahedron")] == 1.0
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(15), size=20)
    np.testing.assert_allclose(class_probabilities(proba).sum(axis=1), 1.0)
    groups = group_probabilities(proba)
    np.testing.assert_allclose(groups.sum(axis=1), 1.0)
    q2 = [family_names().index(f) for f in ("decahedron q=2 r=0", "decahedron q=2 r=1", "decahedron q=2 r=2")]
    np.testing.assert_allclose(groups[:, size_groups().index("decahedron q=2")], proba[:, q2].sum(axis=1))
    labels = group_labels(np.array(["icosahedron", "decahedron q=1 r=2"]))
    assert [size_groups()[k] for k in labels] == ["icosahedron", "decahedron q=1"]
    assert family_labels(np.array(["octahedron"]))[0] == family_names().index("octahedron")


def test_gating_picks_or_weights_the_experts_and_skips_missing_ones():
    n_groups = len(size_groups())
    per_group = np.full((2, n_groups, 2), np.nan)
    per_group[:, 0] = [1.0, 10.0]
    per_group[:, 1] = [3.0, 30.0]
    proba = np.zeros((2, n_groups))
    proba[0, :2] = [0.75, 0.25]
    proba[1, 1], proba[1, 5] = 0.4, 0.6  # group 5 has no expert: its weight goes to the others
    np.testing.assert_allclose(gate(per_group, proba, "hard"), [[1.0, 10.0], [3.0, 30.0]])
    np.testing.assert_allclose(gate(per_group, proba, "soft"), [[1.5, 15.0], [3.0, 30.0]])
    # no probability on any group with an expert: the experts count alike
    lost = np.zeros((1, n_groups))
    lost[0, 7] = 1.0
    np.testing.assert_allclose(gate(per_group[:1], lost, "soft"), [[2.0, 20.0]])
    with pytest.raises(ValueError, match="gating"):
        gate(per_group, proba, "vote")


def test_experts_trained_per_group_recover_what_one_regressor_over_all_groups_cannot():
    # two groups whose target depends on the same feature in opposite ways
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (400, 1))
    groups = np.repeat([size_groups().index("icosahedron"), size_groups().index("octahedron")], 200)
    y = np.where(groups[:, None] == groups[0], np.hstack([x, 2 * x]), np.hstack([1 - x, 2 - 2 * x]))
    experts = fit_experts(x, y, groups, lambda n: KNeighborsRegressor(5))
    assert set(experts) == {"icosahedron", "octahedron"}
    probe = np.array([[0.2], [0.2]])
    family_proba = np.vstack([one_hot("icosahedron"), one_hot("octahedron")])
    got = predict_size({"experts": experts, "gating": "hard"}, family_proba, probe)
    np.testing.assert_allclose(got, [[0.2, 0.4], [0.8, 1.6]], atol=0.02)
    per_group = expert_predictions(experts, probe)
    assert np.isnan(per_group[:, size_groups().index("fcc sphere")]).all()
    one = KNeighborsRegressor(5).fit(x, y).predict(probe)
    assert np.abs(one - got).max() > 0.2  # the mixture of both relations


def test_within_one_shell_or_five_percent_by_hand():
    predicted = np.array([2.09, 2.3, 5.0, 6.0])
    true = np.array([2.0, 2.0, 5.3, 5.0])
    step = np.array([0.05, 0.35, 0.2, 0.5])
    # 4.5 % off; one shell (0.3 <= 0.35); 5.7 % and 0.3 > 0.2; 20 % and 1.0 > 0.5
    assert within_shell_or_5_percent(predicted, true, step).tolist() == [True, True, False, False]
