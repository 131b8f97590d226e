"""One model layer and one fit engine (swaxs_lib.models, swaxs_lib.fit).

* The Compare page, ``compare`` and ``refine`` with only scale (and background)
  free give the same R_w for the same inputs, on a measured PDF (Pt JQ_S1) and
  on an I(Q) with a background.
* The exact linear path agrees with srfit's iterative refinement of the same
  free parameters (scale, background) to the optimiser's tolerance, and its
  uncertainties with numpy's covariance of a weighted polynomial fit.
* Every model module declares a complete table; the registry finds them all.
* Fit results survive JSON exactly.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from swaxs_lib.compare import compare_cluster, histogram_for
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.engine import linear_fit
from swaxs_lib.fit.result import RefinementResult
from swaxs_lib.fit.window import fit_window
from swaxs_lib.io import Measurement, read_measurement
from swaxs_lib.models import all_models, families, get_model
from swaxs_lib.models.parameters import UNIT_SUFFIX
from swaxs_lib.refine.cluster import refine_cluster
from swaxs_lib.scattering import debye_intensity
from swaxs_lib.structures import icosahedron

ROOT = Path(__file__).resolve().parents[1]
PT = ROOT / "tests/data/pt_np_jq_pdf/JQ_S1.gr"
HELD = {"zoom": 1.01, "u": 0.006, "delta2": 0.5, "qdamp": 0.04}


@pytest.fixture(scope="module")
def pt():
    return read_measurement(PT)


@pytest.fixture(scope="module")
def pt309():
    return icosahedron("Pt", 5).atoms


def test_compare_and_refine_with_only_the_scale_free_give_the_same_rw_on_a_measured_pdf(pt, pt309):
    compared = compare_cluster(pt, pt309, HELD)
    refined = refine_cluster(pt, pt309, start=HELD, fix=("zoom", "u", "delta2", "qdamp"))
    assert compared.result.x_min == refined.x_min == 1.5  # one default fit range for both
    assert compared.result.x_max == refined.x_max == 30.0
    assert refined.rw == compared.fit.rw
    assert refined.value("scale") == compared.fit.scale
    assert 0.05 < refined.rw < 1.0
    # the held values are reported as held, the scale with its uncertainty
    assert refined.uncertainty("u_Pt") is None and refined.value("u_Pt") == HELD["u"]
    assert refined.uncertainty("scale") > 0


def test_the_linear_path_is_what_srfit_converges_to(pt, pt309):
    """srfit's iterative least squares (zoom freed inside a 2e-12 wide bound, so that the srfit path runs)
    reaches the exact linear answer."""
    exact = refine_cluster(pt, pt309, start=HELD, fix=("zoom", "u", "delta2", "qdamp"))
    iterative = refine_cluster(pt, pt309, start=HELD, fix=("u", "delta2", "qdamp"),
                               bounds={"zoom": (HELD["zoom"] - 1e-12, HELD["zoom"] + 1e-12)})
    assert exact.message == "linear least squares (exact)" != iterative.message
    assert iterative.rw == pytest.approx(exact.rw, rel=1e-6)
    assert iterative.value("scale") == pytest.approx(exact.value("scale"), rel=1e-5)


def test_iq_with_a_background_same_rw_and_numpy_uncertainties():
    atoms = icosahedron("Au", 4).atoms
    q = np.linspace(0.6, 10.0, 300)
    rng = np.random.default_rng(7)
    clean = 2.0e-3 * debye_intensity(atoms, q, mode="exact", b_iso_angstrom2=0.7).intensity + 30.0
    sigma = 0.01 * clean
    data = Measurement("iq", q, clean + rng.normal(0, sigma), sigma, "noisy.dat", "inv_angstrom")
    compared = compare_cluster(data, atoms, {"b": 0.7}, background="constant")
    refined = refine_cluster(data, atoms, start={"b": 0.7}, fix=("zoom", "b"), background="constant")
    assert refined.rw == compared.fit.rw
    assert refined.weighting == "sigma"
    # independent reference: numpy's weighted least squares with its covariance (unscaled: cov="unscaled")
    model = compared.model
    design = np.column_stack([model, np.ones_like(q)]) / sigma[:, None]
    coef, *_ = np.linalg.lstsq(design, data.values / sigma, rcond=None)
    cov = np.linalg.inv(design.T @ design)
    chi2_red = np.sum(((data.values - np.column_stack([model, np.ones_like(q)]) @ coef) / sigma) ** 2) / (len(q) - 2)
    assert refined.value("scale") == pytest.approx(coef[0], rel=1e-10)
    assert refined.value("c0") == pytest.approx(coef[1], rel=1e-8)
    factor = math.sqrt(chi2_red) if chi2_red > 1 else 1.0
    assert refined.uncertainty("scale") == pytest.approx(math.sqrt(cov[0, 0]) * factor, rel=1e-8)
    assert refined.chi2_reduced == pytest.approx(chi2_red, rel=1e-10)


def test_the_compare_command_and_refine_command_agree(tmp_path, pt):
    common = ["--shape", "icosahedron", "--shells", "5", "--element", "Pt", "--db", str(tmp_path / "s.duckdb")]
    held = ",".join(f"{k}={v}" for k, v in HELD.items() if k != "qdamp")

    def run(*args):
        out = subprocess.run([sys.executable, "-m", "swaxs_lib", *args], capture_output=True, text=True, cwd=ROOT,
                             timeout=600)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    compared = run("compare", str(PT), *common, "--start", held, "--qdamp", str(HELD["qdamp"]),
                   "--out", str(tmp_path / "c.csv"))
    refined = run("refine", str(PT), *common, "--start", held, "--qdamp", str(HELD["qdamp"]),
                  "--fix", "zoom,u,delta2", "--out", str(tmp_path / "r.csv"))
    assert compared["rw"] == refined["rw"]
    assert compared["x_min"] == 1.5 and compared["x_max"] == 30.0


def test_relative_weights_leave_out_non_positive_intensities_the_same_way_in_both_paths():
    atoms = icosahedron("Au", 3).atoms
    q = np.linspace(0.5, 8.0, 200)
    y = 1e-3 * debye_intensity(atoms, q).intensity - 0.02 * debye_intensity(atoms, q).intensity.max() * 1e-3
    data = Measurement("iq", q, y, None, "bg-subtracted.dat", "inv_angstrom")
    assert np.any(y <= 0)
    with pytest.warns(UserWarning, match="I <= 0"):
        compared = compare_cluster(data, atoms, {"b": 0.5}, background="constant")
    with pytest.warns(UserWarning, match="I <= 0"):
        refined = refine_cluster(data, atoms, start={"b": 0.5}, fix=("zoom", "b"), background="constant")
    assert refined.rw == compared.fit.rw
    assert dict(refined.settings)["n_excluded"] == int(np.sum(y <= 0)) == compared.fit.n_excluded


def test_window_defaults_are_one_rule():
    r = np.arange(0.01, 50.0, 0.01)
    m = Measurement("gr", r, np.sin(r), None, "x.gr", "angstrom")
    w = fit_window(m)
    assert (w.x_min, w.x_max, w.weighting) == (1.5, 30.0, "uniform")
    with pytest.raises(SwaxsInputError, match="more than the 5 free"):
        fit_window(m, 10.0, 10.02, n_parameters=5)


def test_every_model_declares_a_complete_table_and_the_registry_finds_it():
    models = all_models()
    assert {m.name for m in models} >= {"cluster_gr", "cluster_iq", "crystal", "nanoparticle"}
    assert set(families()) == {"cluster", "crystal", "nanoparticle"}
    for m in models:
        assert "References" in m.doc and "Validation" in m.doc, m.name
        names = [p.name for p in m.parameters]
        assert len(set(names)) == len(names)
        assert set(m.per_element) <= set(names) and set(m.linear) <= set(names)
        assert {n for stage in m.stages for n in stage} <= set(names), m.name
        for p in m.parameters:
            assert p.unit in UNIT_SUFFIX and p.description.endswith("."), (m.name, p.name)
            if not math.isnan(p.start):
                assert p.low <= p.start <= p.high, (m.name, p.name)
    assert get_model("cluster", "iq").name == "cluster_iq"
    with pytest.raises(SwaxsInputError, match="fits gr"):
        get_model("crystal", "iq")


def test_a_fit_result_survives_json(pt, pt309):
    fit = refine_cluster(pt, pt309, start=HELD, fix=("delta2", "qdamp"), x_max=12.0)
    text = json.dumps(fit.to_json())
    back = RefinementResult.from_json(json.loads(text))
    for name in ("kind", "model", "rw", "chi2_reduced", "values", "x_min", "x_max", "weighting",
                 "n_evaluations", "converged", "message"):
        assert getattr(back, name) == getattr(fit, name), name
    for name in ("x", "data", "fitted"):
        assert getattr(back, name).tobytes() == getattr(fit, name).tobytes()
    assert back.summary() == json.loads(json.dumps(fit.summary()))
    assert RefinementResult.from_json(text) == back  # from the text too; equal field by field
    with pytest.raises(SwaxsInputError, match="newer swaxs"):
        RefinementResult.from_json({**fit.to_json(), "schema": 99})


def test_compare_refuses_what_the_table_refuses(pt, pt309):
    with pytest.raises(SwaxsInputError, match="u_Pt: got 0.5"):
        compare_cluster(pt, pt309, {"u": 0.5})
    with pytest.raises(SwaxsInputError, match="not a parameter"):
        compare_cluster(pt, pt309, {"temperature": 300})
    with pytest.raises(SwaxsInputError, match="energy_kev"):
        compare_cluster(pt, pt309, energy_kev=20.0)
    hist = histogram_for(pt309, pt)
    assert compare_cluster(pt, pt309, HELD, histogram=hist).fit.rw == compare_cluster(pt, pt309, HELD).fit.rw


def test_a_comparison_is_stored_in_the_one_fit_schema(tmp_path, pt, pt309):
    """What the Compare page's save button writes: a StoredFit row that read_fit gives back."""
    from swaxs_lib.store import Store
    from swaxs_lib.store.fits import StoredFit, read_fit, save_fit

    store = Store(tmp_path / "s.duckdb")
    comparison = compare_cluster(pt, pt309, HELD)
    record = save_fit(store, StoredFit.from_fit(comparison.result, producer="compare", inputs={"values": HELD}))
    fit = read_fit(store.get_result(record.id))
    assert fit.producer == "compare" and fit.kind == "gr" and fit.model == "cluster"
    assert fit.rw == comparison.fit.rw and fit.summary["u_Pt"] == HELD["u"]
    assert fit.summary["scale_sigma"] > 0 and fit.summary["u_Pt_sigma"] is None
