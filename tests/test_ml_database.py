"""The simulated database: physics of its curves against independent references, and the build's bookkeeping.

References: the exact double-sum Debye formula on the cluster built directly
in the element (not the scaled gold template the database uses); closed forms
for the Gaussian resolution, the Poisson noise and the size distribution; the
bulk nearest-neighbour distance for the first G(r) peak.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, element_scale, families, family_of_class
from swaxs_lib.ml.database import PRESETS, BuildSpec, build_database, plan_batches, run_batch
from swaxs_lib.ml.simulate import (
    Q_GRID,
    R_GRID,
    clean_intensity,
    clean_pdf,
    clean_variant,
    draw_variant,
    ladder_weights,
    measured_intensity,
    smear,
)
from swaxs_lib.scattering.debye import debye_intensity
from swaxs_lib.store import Store
from swaxs_lib.structures import build_cluster
from swaxs_lib.structures.elements import nearest_neighbour_distance

TINY = PRESETS["tiny"]


@pytest.fixture(scope="module")
def small_ladders():
    return families(20.0)


def test_every_class_has_families_spanning_one_to_six_nm_for_every_element():
    ladders = families()
    for shape_class in SHAPE_CLASSES:
        members = [m for f in family_of_class(shape_class) for m in ladders[f]]
        assert members, shape_class
        d = np.array([m.diameter_angstrom for m in members])
        for element in ELEMENTS:
            scaled = d * element_scale(element)
            # nickel, the smallest (x 0.863), reaches 5.97 nm with icosahedra and 6.0-6.2 nm otherwise
            assert scaled.min() <= 12.5 and scaled.max() >= 59.5, (shape_class, element, scaled.min(), scaled.max())
    # the Marks families include q > 1 and r > 0, the Ino ones q > 1 with r = 0
    marks = [m.parameters for f in family_of_class("marks_decahedron") for m in ladders[f]]
    assert any(p["q"] > 1 and p["r"] > 0 for p in marks) and all(p["r"] > 0 for p in marks)
    assert all(m.parameters["r"] == 0 for f in family_of_class("ino_decahedron") for m in ladders[f])


@pytest.mark.parametrize("family, rung, element, expansion", [
    ("icosahedron", 1, "Ni", 0.02),
    ("decahedron q=2 r=1", 0, "Pt", -0.03),
    ("bcc sphere", 2, "Cu", 0.0),
    ("truncated octahedron", 1, "Ag", 0.01),
])
def test_scaled_template_curve_equals_exact_debye_of_the_cluster_built_in_that_element(
        small_ladders, family, rung, element, expansion):
    member = small_ladders[family][rung]
    params = member.parameters
    if member.shape == "sphere":  # the template's sphere, scaled, is the element's sphere of the scaled diameter
        params = {**params, "diameter_angstrom": params["diameter_angstrom"] * element_scale(element)}
    atoms = build_cluster(member.shape, element, **params).atoms
    assert len(atoms) == member.n_atoms
    atoms.positions *= 1.0 + expansion
    q = Q_GRID[::7]
    exact = debye_intensity(atoms, q, mode="exact", b_iso_angstrom2=0.8).intensity
    ours = clean_intensity(member, element, expansion, 0.8)[::7]
    np.testing.assert_allclose(ours, exact, rtol=2e-6)


def test_first_pdf_peak_sits_at_the_scaled_nearest_neighbour_distance(small_ladders):
    member = small_ladders["fcc sphere"][-1]
    for element in ("Au", "Ni"):
        variant = dataclasses.replace(clean_variant(element), expansion=0.01, pdf_q_max_inv_angstrom=26.0)
        g = clean_pdf(member, variant)
        near = (R_GRID > 2.0) & (R_GRID < 3.2)
        peak = R_GRID[near][np.argmax(g[near])]
        assert peak == pytest.approx(nearest_neighbour_distance(element) * 1.01, abs=0.03)


def test_gaussian_resolution_widens_a_gaussian_peak_in_quadrature():
    q = np.linspace(1.0, 3.0, 2001)
    s0, sigma = 0.02, 0.03
    peak = np.exp(-0.5 * ((q - 2.0) / s0) ** 2)
    smeared = smear(q, peak, 0.0, sigma)
    width = math.sqrt(np.sum(smeared * (q - 2.0) ** 2) / np.sum(smeared))
    assert width == pytest.approx(math.hypot(s0, sigma), rel=0.01)
    np.testing.assert_allclose(smear(q, np.full_like(q, 3.0), 0.02, 0.01), 3.0, rtol=1e-12)


def test_noise_has_the_poisson_variance_of_the_stated_counts():
    clean = np.full(len(Q_GRID), 7.0)
    variant = dataclasses.replace(clean_variant("Au"), counts_saxs=400.0, counts_waxs=2500.0)
    rng = np.random.default_rng(5)
    draws = np.array([measured_intensity(clean, variant, rng) for _ in range(400)])
    rel_sd = draws.std(axis=0) / draws.mean(axis=0)
    saxs = Q_GRID < 1.0
    # relative sd 1/sqrt(counts): 0.05 and 0.02; 400 draws give ~3.5 % on an sd
    assert np.median(rel_sd[saxs]) == pytest.approx(1 / 20, rel=0.05)
    assert np.median(rel_sd[~saxs]) == pytest.approx(1 / 50, rel=0.05)


def test_polydisperse_weights_are_a_normal_number_distribution_in_diameter():
    ladder = families()["fcc sphere"]
    centre = len(ladder) // 2  # far enough from both ends that the ladder does not cut the distribution
    for width in (0.1, 0.2):
        w = ladder_weights(ladder, centre, width)
        d = np.array([ladder[k].diameter_angstrom for k in w])
        p = np.array(list(w.values()))
        assert p.sum() == pytest.approx(1.0)
        d0 = ladder[centre].diameter_angstrom
        mean = (p * d).sum()
        sd = math.sqrt((p * (d - mean) ** 2).sum())
        # a normal cut at 2.5 sd keeps 0.973 of its sd; the 3 Å rungs discretise it (±10 %)
        assert sd == pytest.approx(0.973 * width * d0, rel=0.10)
        assert abs(mean - d0) < 0.05 * d0
    assert ladder_weights(ladder, 3, 0.0) == {3: 1.0}


def test_variants_stay_in_their_documented_ranges():
    rng = np.random.default_rng(0)
    draws = [draw_variant(rng, "train") for _ in range(500)]
    assert {v.element for v in draws} == set(ELEMENTS)
    assert all(-0.03 <= v.expansion <= 0.03 and 0.2 <= v.b_iso_angstrom2 <= 2.0 for v in draws)
    widths = np.array([v.polydispersity for v in draws])
    assert 0.25 < np.mean(widths == 0) < 0.45 and widths.max() <= 0.3 and widths.max() > 0.25
    assert all(v.polydispersity == 0.2 for v in (draw_variant(rng, "test-poly20") for _ in range(20)))


def test_a_batch_is_reproducible_and_the_test_splits_share_no_seed_with_training():
    spec = BuildSpec(train_per_class=4, test_per_class=2, max_diameter_angstrom=14.0, batch_size=4, library=False)
    plan = plan_batches(spec)
    assert {b.split for b in plan} == {"train", "test-mono", "test-poly20"}
    first = run_batch(plan[0])
    again = run_batch(plan[0])
    for a, b in zip(first["samples"], again["samples"]):
        assert np.array_equal(a["iq"], b["iq"]) and np.array_equal(a["gr"], b["gr"]) and a["seed_json"] == b["seed_json"]
    seeds = {b.split: b.seed for b in plan}
    assert len(set(seeds.values())) == 3  # each split has its own root seed


def test_build_resumes_after_an_interruption_and_gives_the_same_database(tmp_path):
    spec = dataclasses.replace(TINY, train_per_class=9, test_per_class=2)
    whole = Store(tmp_path / "whole.duckdb")
    reference = build_database(whole, "x", spec, workers=1)
    assert reference["batches_skipped"] == 0 and reference["curves_per_s"] > 0

    cut = Store(tmp_path / "cut.duckdb")

    def interrupted(run, batches):
        for k, batch in enumerate(batches):
            if k == 5:
                raise KeyboardInterrupt
            yield run(batch)

    with pytest.raises(KeyboardInterrupt):
        build_database(cut, "x", spec, map_batches=interrupted)
    assert len(cut.done_batches("x")) == 5
    seen = []
    resumed = build_database(cut, "x", spec, workers=1, progress=lambda d, t, n: seen.append((d, t)))
    assert resumed["batches_skipped"] == 5
    assert seen[0][0] > 0 and seen[-1][0] == seen[-1][1] == reference["samples_total"]
    a, b = whole.load_samples("x"), cut.load_samples("x")
    assert len(a) == len(b) == reference["samples_total"]
    assert np.array_equal(a.iq, b.iq) and np.array_equal(a.gr, b.gr)
    assert list(a.labels["variant_json"]) == list(b.labels["variant_json"])
    # nothing left to do: a third run computes nothing
    assert build_database(cut, "x", spec, workers=1)["curves"] == 0
    with pytest.raises(SwaxsInputError, match="other settings"):
        build_database(cut, "x", dataclasses.replace(spec, seed=1), workers=1)


def test_stored_samples_carry_labels_and_provenance(tmp_path):
    store = Store(tmp_path / "db.duckdb")
    build_database(store, "x", TINY, workers=1)
    table = store.load_samples("x")
    labels = table.labels
    assert set(labels["split"]) == {"train", "test-mono", "test-poly20", "library"}
    assert set(labels["shape_class"]) == set(SHAPE_CLASSES)
    assert table.iq.shape == (len(table), len(Q_GRID)) and table.gr.shape == (len(table), len(R_GRID))
    assert np.all(table.iq > 0) and np.all(np.isfinite(table.gr))
    row = 0
    params = json.loads(labels["parameters_json"][row])
    variant = json.loads(labels["variant_json"][row])
    assert variant["element"] == labels["element"][row] and params
    assert len(json.loads(labels["seed_json"][row])) == 5
    train = labels["split"] == "train"
    test = np.isin(labels["split"], ["test-mono", "test-poly20"])
    train_seeds = {s for s in labels["seed_json"][train]}
    assert not train_seeds & set(labels["seed_json"][test])
    # no test curve equals a training curve
    assert not any(np.array_equal(t, u) for t in table.iq[test] for u in table.iq[train])
    assert store.delete_build("x") == len(table) and store.list_builds() == []
