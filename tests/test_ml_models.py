"""Models, prediction and evaluation on a tiny database, and the command line around them.

The accuracy of the shipped model is checked in ``test_ml_shipped.py``; here
the machinery: features, training, saving without code execution, routing
by Q coverage, the library search, calibration error, the commands.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml import models as ml_models
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, class_of_family
from swaxs_lib.ml.database import PRESETS
from swaxs_lib.ml.evaluate import evaluate, expected_calibration_error
from swaxs_lib.ml.features import WINDOWS, features
from swaxs_lib.ml.models import load_bundle, save_bundle, train_models
from swaxs_lib.ml.predict import library_rw, model_input, predict
from swaxs_lib.ml.simulate import Q_GRID
from swaxs_lib.store import Store
from swaxs_lib.structures import SHAPES
from tests.inprocess import Ran, run_main

ROOT = Path(__file__).resolve().parents[1]


def swaxs(*args, db: Path) -> Ran:
    """``python -m swaxs_lib ARGS --db DB`` run as ``main([...])`` in this process (a subprocess would spend
    seconds importing); tests/test_readme_commands.py runs build-db, train, evaluate and predict as subprocesses."""
    return run_main(*args, "--db", db)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tiny database, built once for the module by ``build-db --size tiny`` (= ``PRESETS["tiny"]``)."""
    folder = tmp_path_factory.mktemp("ml")
    return folder, swaxs("build-db", "--size", "tiny", "--name", "tiny", "--workers", "1", db=folder / "ml.duckdb")


@pytest.fixture(scope="module")
def tiny(built):
    folder, _ = built
    store = Store(folder / "ml.duckdb")
    table = store.load_samples("tiny")
    bundle = train_models(table, classifiers=("logistic", "knn"), regressors=("ridge", "knn"), library=table)
    save_bundle(bundle, folder / "models")
    return store, table, bundle, folder


def test_features_do_not_depend_on_the_scale_and_need_the_window_covered():
    rng = np.random.default_rng(1)
    intensity = np.exp(-Q_GRID) + rng.uniform(0.1, 0.2, len(Q_GRID))
    for name in ("saxs", "waxs", "iq"):
        np.testing.assert_allclose(features(WINDOWS[name], Q_GRID, 1e6 * intensity),
                                   features(WINDOWS[name], Q_GRID, intensity), atol=1e-5)
    # interpolated from another grid, in 1/Å, it matches the on-grid value within the interpolation error
    q = np.linspace(0.01, 12.0, 5000)
    smooth = np.exp(-q) + 0.15
    np.testing.assert_allclose(features(WINDOWS["iq"], q, smooth),
                               features(WINDOWS["iq"], Q_GRID, np.exp(-Q_GRID) + 0.15), atol=1e-4)
    with pytest.raises(SwaxsInputError, match=r"waxs window: the curve spans 0.01..5"):
        features(WINDOWS["waxs"], q[q < 5], smooth[q < 5])
    with pytest.raises(SwaxsInputError, match="values <= 0"):
        features(WINDOWS["saxs"], q, smooth - 0.5)


def test_expected_calibration_error_by_hand():
    conf = np.array([0.9, 0.9, 0.9, 0.9, 0.6, 0.6])
    correct = np.array([1, 1, 1, 0, 1, 0], bool)
    # bins: 0.9 (4 samples, accuracy 0.75) and 0.6 (2 samples, accuracy 0.5)
    assert expected_calibration_error(conf, correct) == pytest.approx(4 / 6 * 0.15 + 2 / 6 * 0.1)
    assert expected_calibration_error(np.ones(5), np.ones(5, bool)) == 0.0


def test_training_compares_candidates_calibrates_and_records_what_it_did(tiny):
    _, _, bundle, _ = tiny
    manifest = bundle.manifest
    assert set(manifest["models"]) == set(ml_models.MODEL_SPECS)
    shape = manifest["models"]["shape_waxs"]
    assert set(shape["candidates"]["family"]) == {"logistic", "knn"} and shape["chosen"]["family"] in ("logistic", "knn")
    assert all("fit_s" in v and "class_accuracy" in v for v in shape["candidates"]["family"].values())
    size = manifest["models"]["size_saxs"]
    assert len(size["size_half_width_log"]) == 2 and all(h > 0 for h in size["size_half_width_log"])
    assert manifest["n_fit"] + manifest["n_calibration"] == 9 * PRESETS["tiny"].train_per_class
    from sklearn.calibration import CalibratedClassifierCV

    assert isinstance(bundle.estimators["joint_iq"]["family"], CalibratedClassifierCV)


def test_a_saved_bundle_loads_without_code_and_predicts_the_same(tiny, monkeypatch):
    _, table, bundle, folder = tiny
    loaded = load_bundle(folder / "models")
    x = ml_models.model_features(table, "waxs")[:10]
    np.testing.assert_allclose(loaded.estimators["shape_waxs"]["family"].predict_proba(x),
                               bundle.estimators["shape_waxs"]["family"].predict_proba(x), rtol=1e-12)
    assert loaded.manifest == json.loads((folder / "models" / "manifest.json").read_text())
    # a file holding a type outside the allowed libraries is refused, not loaded
    monkeypatch.setattr(ml_models, "TRUSTED_PREFIXES", ("numpy.",))
    with pytest.raises(SwaxsInputError, match="refused, not loaded"):
        load_bundle(folder / "models")
    with pytest.raises(SwaxsInputError, match="no manifest.json"):
        load_bundle(folder)


def test_saving_drops_only_the_optimiser_state_of_perceptrons_nested_anywhere():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import VotingClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    y = (x[:, 0] > 0).astype(int)
    voting = VotingClassifier([(f"m{k}", MLPClassifier((8,), max_iter=300, random_state=k)) for k in range(2)],
                              voting="soft")
    calibrated = CalibratedClassifierCV(FrozenEstimator(make_pipeline(StandardScaler(), voting).fit(x, y)),
                                        method="isotonic").fit(x, y)
    regressor = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=300, random_state=0)).fit(x, x[:, 1])
    parts = {"family": calibrated, "size": {"experts": {"a": regressor}, "gating": "hard"}}
    before = calibrated.predict_proba(x), regressor.predict(x)
    mlps = [*calibrated.estimator.estimator[-1].estimators_, regressor[-1]]
    assert all(m._optimizer is not None for m in mlps)
    ml_models.release_training_state(parts)
    assert all(m._optimizer is None for m in mlps)
    np.testing.assert_array_equal(calibrated.predict_proba(x), before[0])
    np.testing.assert_array_equal(regressor.predict(x), before[1])


def test_prediction_routes_by_coverage_and_reports_every_field(tiny):
    _, table, bundle, _ = tiny
    row = int(np.nonzero(table.labels["split"] == "test-mono")[0][0])
    q, iq = table.q_inv_angstrom, table.iq[row].astype(float)
    full = predict(bundle, "iq", q, iq)
    assert full.models[0] == "joint_iq" and full.shape in SHAPES and full.shape_class in SHAPE_CLASSES
    assert class_of_family(full.family) == full.shape_class and 0 < full.family_probability <= full.shape_probability
    assert sum(full.probabilities.values()) == pytest.approx(1.0, abs=5e-6)  # nine values rounded to 6 decimals
    assert full.shape_probability == pytest.approx(max(full.shape_probabilities.values()))
    lo, hi = full.extent_interval_nm
    assert lo < full.extent_nm < hi and full.n_atoms_interval[0] <= full.n_atoms <= full.n_atoms_interval[1]
    assert full.element in ELEMENTS and len(full.matches) == 5
    assert [m.rank for m in full.matches] == [1, 2, 3, 4, 5]
    assert all(a.rw <= b.rw for a, b in zip(full.matches, full.matches[1:]))
    waxs = q >= 2.0
    only_waxs = predict(bundle, "iq", q[waxs], iq[waxs])
    assert only_waxs.extent_nm is None and only_waxs.shape is not None
    assert any("no size" in w for w in only_waxs.warnings)
    others = [w for w in only_waxs.warnings if "no size" not in w]
    assert only_waxs.in_domain == (not others)  # a window not covered is a note, not a reason
    saxs = q <= 1.0
    only_saxs = predict(bundle, "iq", q[saxs], iq[saxs])
    assert only_saxs.shape is None and only_saxs.extent_nm is not None
    with pytest.raises(SwaxsInputError, match="expected it to cover"):
        predict(bundle, "iq", q[(q > 1.2) & (q < 2)], iq[(q > 1.2) & (q < 2)])
    gr = predict(bundle, "gr", table.r_angstrom, table.gr[row].astype(float), element="Au")
    assert gr.models[0] == "joint_gr" and all(m.element == "Au" for m in gr.matches)
    strange = predict(bundle, "gr", table.r_angstrom, np.sin(table.r_angstrom * 7.0) * 40.0)
    assert not strange.in_domain and any("novelty" in w for w in strange.warnings)


def test_library_search_finds_a_library_curve_itself_at_rw_zero(tiny):
    _, _, bundle, _ = tiny
    lib = bundle.library
    k = 17
    x, y = lib["q_inv_angstrom"], lib["iq"][k].astype(float) * 3.0 + 0.5
    rw, scale, background = library_rw(lib, "iq", x, y)
    assert np.argmin(rw) == k and rw[k] < 1e-6
    assert scale[k] == pytest.approx(3.0, rel=1e-5) and background[k] == pytest.approx(0.5, rel=1e-3, abs=1e-3)
    rw, scale, _ = library_rw(lib, "gr", lib["r_angstrom"], lib["gr"][k].astype(float) * 0.7)
    assert np.argmin(rw) == k and scale[k] == pytest.approx(0.7, rel=1e-6)


def test_structure_factor_input_becomes_intensity_with_the_form_factor():
    from swaxs_lib.scattering.form_factors import form_factor

    q = np.linspace(1.0, 12.0, 50)
    s = 1.0 + 0.1 * np.sin(q)
    kind, x, values, notes = model_input("sq", q, s, "Pt")
    assert kind == "iq" and np.allclose(values, np.abs(form_factor("Pt", q)) ** 2 * s) and "Pt" in notes[0]
    kind, _, from_f, _ = model_input("fq", q, q * (s - 1.0), "Pt")
    np.testing.assert_allclose(from_f, values)
    assert "element not given" in model_input("sq", q, s)[3][0]


def test_evaluation_reports_targets_confusion_and_baseline(tiny):
    _, table, bundle, _ = tiny
    test = table.labels["split"] != "train"
    from swaxs_lib.store.simulations import SampleTable

    sub = SampleTable({k: v[test] for k, v in table.labels.items()}, table.iq[test], table.gr[test],
                      table.q_inv_angstrom, table.r_angstrom)
    report = evaluate(bundle, sub)
    mono = report["splits"]["test-mono"]["iq"]
    assert np.array(mono["confusion"]).sum() == report["n"]["test-mono"] == 36
    assert 0 <= mono["ece"] <= 1 and 0 <= mono["shape_accuracy"] <= 1
    assert set(report["baseline"]["test-mono"]["iq"]) >= {"shape_accuracy", "size_within_shell_or_5_percent"}
    assert set(report["targets"]) and all("goal" in t for t in report["targets"].values())


def last_json(result: Ran) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_commands_build_train_evaluate_and_predict(built, tmp_path):
    folder, first_build = built
    db = folder / "ml.duckdb"
    built = last_json(first_build)
    assert built["curves_per_s"] > 0 and built["samples_total"] == sum(built["samples"].values())
    assert "curves/s" in swaxs("build-db", "--size", "tiny", "--name", "tiny", "--workers", "1", db=db).stderr
    models = tmp_path / "models"
    trained = last_json(swaxs("train", "--name", "tiny", "--out-dir", models, "--classifiers", "logistic",
                              "--regressors", "ridge", db=db))
    chosen = trained["chosen"]["joint_iq"]
    assert chosen["family"] == "logistic" and chosen["size"] in ("ridge hard", "ridge soft")
    assert (models / "evaluation.json").is_file() and (models / "library.npz").is_file()
    report = tmp_path / "report.json"
    evaluated = last_json(swaxs("evaluate", "--name", "tiny", "--models", models, "--report", report, db=db))
    assert json.loads(report.read_text())["targets"].keys() == evaluated["targets"].keys()
    # train wrote the ladder's structure factors (its database's members), and evaluate scored the physics sizer
    physics = json.loads(report.read_text())["windows_physics"]["test-mono"]["0.02-0.3"]
    assert (models / "saxs_structures.npz").is_file() and physics["n"] > 0
    assert 0.0 <= physics["extent_within_shell_or_5_percent"] <= 1.0
    given = json.loads(report.read_text())["windows_physics_resolution_given"]["test-mono"]["0.02-0.3"]
    assert given["n"] == physics["n"] and 0.0 <= given["extent_within_shell_or_5_percent"] <= 1.0
    skipped = tmp_path / "skipped.json"
    swaxs("evaluate", "--name", "tiny", "--models", models, "--report", skipped, "--physics-curves", "0", db=db)
    assert not {"windows_physics", "windows_physics_resolution_given"} & set(json.loads(skipped.read_text()))
    bad = swaxs("evaluate", "--name", "tiny", "--models", models, "--physics-curves", "-1", db=db)
    assert bad.returncode == 2 and "--physics-curves: got -1" in bad.stderr
    out, matches = tmp_path / "p.csv", tmp_path / "m.csv"
    data = ROOT / "tests/data/au144_pdf/Au144PET_100K-00000.gr"
    result = last_json(swaxs("predict", data, "--models", models, "--out", out, "--matches", matches, db=db))
    for key in ("shape", "shape_probability", "probabilities", "extent_nm", "extent_interval_nm", "outer_diameter_nm", "volume_diameter_nm", "n_atoms",
                "element", "in_domain", "matches"):
        assert key in result
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1 and rows[0]["shape"] == result["shape"]
    assert float(rows[0]["extent_low_nm"]) <= float(rows[0]["extent_nm"]) <= float(rows[0]["extent_high_nm"])
    assert len(list(csv.DictReader(matches.open()))) == 5
    bad = swaxs("predict", data, "--models", tmp_path, db=db)
    assert bad.returncode == 2 and "no manifest.json" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    bad = swaxs("train", "--name", "nope", "--out-dir", models, db=db)
    assert bad.returncode == 2 and "no database 'nope'" in bad.stderr
    bad = swaxs("train", "--name", "tiny", "--classifiers", "svm", db=db)
    assert bad.returncode == 2 and "--classifiers" in bad.stderr
    bad = swaxs("build-db", "--size", "tiny", "--name", "tiny", "--seed", "3", db=db)
    assert bad.returncode == 2 and "other settings" in bad.stderr
