"""The SAXS page's model-fit section in its links (AppTest, no browser): the parameter table and the stored fit.

The data: a polydisperse sphere I(Q) computed here by sasmodels directly (R = 35 Å, σ/R = 0.06, the gold
nanoparticle of tests/test_saxs_fit.py) with 2 % seeded noise.  What is asserted is that the link's table
reaches the fit (a held background is reported fixed; an upper radius bound below the true 35 Å leaves the
radius at that bound), and that a fit's link shows, in a fresh session and without refitting, the χ²_red and
values of the fit the library makes with the same settings (to 1e-9: the same stored numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.test_pages import db, metric, run  # noqa: F401  (db is a fixture)
from tests.test_saxs_fit import noisy, sasmodels_curve

TRUTH = {"radius": 35.0, "radius_pd": 0.06, "scale": 1e-4, "sld": 119.0, "sld_solvent": 8.0,
         "radius_pd_type": "gaussian", "radius_pd_n": 35, "radius_pd_nsigma": 3, "background": 0.02}


@pytest.fixture
def gold_id(db):  # noqa: F811
    from swaxs_lib.io import read_measurement_bytes

    q = np.geomspace(0.01, 0.4, 100)
    y, sigma = noisy(sasmodels_curve("sphere", q, TRUTH), seed=3, floor=0.002)
    raw = ("# q_inv_angstrom I sigma\n" + "".join(f"{a:.10g} {b:.10g} {c:.10g}\n" for a, b, c in zip(q, y, sigma))
           ).encode()
    return db.add_dataset("gold", raw, "gold.dat", read_measurement_bytes(raw, "gold.dat")).id


def _values(at) -> pd.DataFrame:
    """The result table (value, σ, flag) indexed by parameter."""
    return next(d.value for d in at.dataframe if "value_sigma" in d.value.columns).set_index("parameter")


def test_a_link_with_start_fix_and_bounds_restores_the_table_and_the_fit_uses_it(gold_id):
    link = {"ds": gold_id, "section": "fit", "f_model": "sphere", "f_pd": "gaussian",
            "f_start": "radius:25,sld:119", "f_fix": "background", "f_bounds": "radius:5:30"}
    at = run("pages/saxs.py", **link)
    grid = at.data_editor[0].value.set_index("parameter")
    row = next(i for i in grid.index if i.startswith("radius ("))
    assert grid.loc[row, "start"] == 25 and grid.loc[row, "low"] == 5 and grid.loc[row, "high"] == 30
    assert not grid.loc[next(i for i in grid.index if i.startswith("background")), "refine"]
    assert grid.loc[next(i for i in grid.index if i.startswith("sld (")), "start"] == 119
    # the URL keeps the table's changes, in the table's order
    assert at.query_params["f_start"] == "sld:119,radius:25" and at.query_params["f_fix"] == "background"
    assert at.query_params["f_bounds"] == "radius:5:30"
    at.button(key="saxs.f_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    table = _values(at)
    assert table.loc["background", "flag"] == "fixed"
    assert table.loc["radius", "value"] == pytest.approx(30.0, abs=1e-3)  # held by the bound below the true 35 Å
    assert table.loc["radius", "flag"].startswith("at a bound")


def test_a_fits_link_reopens_it_in_a_fresh_session_without_refitting(gold_id, db, monkeypatch):  # noqa: F811
    from swaxs_lib.io import Measurement
    from swaxs_lib.saxs.sasfit import fit_saxs

    link = {"ds": gold_id, "section": "fit", "f_model": "sphere", "f_pd": "gaussian", "f_bounds": "radius:10:80"}
    at = run("pages/saxs.py", **link)
    at.button(key="saxs.f_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    fit_id = at.query_params["f_fit"]
    chi2, values = metric(at, "χ²_red"), _values(at)
    assert [r.id for r in db.list_results(kind="fit")] == [fit_id]
    # the library's own fit with the same settings: the numbers shown are its numbers
    measurement = db.get_dataset(gold_id).measurement
    reference = fit_saxs(Measurement("iq", measurement.x, measurement.values, measurement.uncertainties,
                                     "gold.dat", "inv_angstrom"), "sphere", polydispersity="gaussian",
                         bounds={"radius": (10.0, 80.0)})
    assert float(chi2) == pytest.approx(reference.chi2_reduced, rel=1e-3)
    assert values.loc["radius", "value"] == pytest.approx(reference.value("radius"), rel=1e-6)

    import swaxs_lib.saxs.sasfit as sasfit

    monkeypatch.setattr(sasfit, "fit_saxs", lambda *a, **k: pytest.fail("refitted"))
    # Home's link: dataset, section and the fit only; the form comes back from the stored fit
    fresh = run("pages/saxs.py", ds=gold_id, section="fit", f_fit=fit_id)
    assert metric(fresh, "χ²_red") == chi2
    pd.testing.assert_frame_equal(_values(fresh), values)  # values, σ (NaN for the fixed) and flags
    assert fresh.selectbox(key="saxs.f_pd").value == "gaussian"
    assert fresh.query_params["f_bounds"] == "radius:10:80" and fresh.query_params["f_model"] == "sphere"
    assert not [w for w in fresh.warning if "changed" in w.value]
    # the full link copied from the first session: the same, not stale
    full = run("pages/saxs.py", **{k: at.query_params[k] for k in at.query_params})
    assert metric(full, "χ²_red") == chi2 and not [w for w in full.warning if "changed" in w.value]
    # a link whose table differs from the fit's: the fit is shown as stale
    stale = run("pages/saxs.py", **{**{k: at.query_params[k] for k in at.query_params}, "f_bounds": "radius:10:90"})
    assert any("changed" in w.value for w in stale.warning)
    # pressing Fit with the fit's own inputs finds the stored fit (fit_saxs would fail the test)
    full.button(key="saxs.f_go").click().run()
    assert not full.exception and metric(full, "χ²_red") == chi2 and len(db.list_results(kind="fit")) == 1
    # Home links the fit to this view
    home = run("app.py")
    listed = next(d.value for d in home.dataframe if "summary" in d.value.columns)
    assert f"saxs?ds={gold_id}&section=fit&f_fit={fit_id}" in listed["open"].tolist()


@pytest.mark.parametrize("name, value, says", [
    ("f_start", "radius:abc", "f_start"),
    ("f_start", "radius=35", "name:value"),
    ("f_bounds", "radius:80:10", "low < high"),
    ("f_bounds", "radius:10", "name:low:high"),
    ("f_fix", "sld solvent", "parameter names"),
    ("f_fix", "nonsense", "not parameters of sphere"),
    ("f_start", "radius:-5", "start within them"),
    ("f_fit", "abc", "f_fit"),
    ("f_fit", "AAAAAAAAAAAAAAAAAAAAAA", "f_fit"),
])
def test_bad_link_values_give_a_warning_not_an_exception(gold_id, name, value, says):
    at = run("pages/saxs.py", ds=gold_id, section="fit", f_model="sphere", **{name: value})
    warnings = [w.value for w in at.warning]
    assert any(says in w.replace("\\", "") for w in warnings), warnings  # the link's value is shown escaped
    assert at.data_editor  # the section still drawn, with the table's defaults


def test_edits_of_the_table_go_to_the_url_and_the_grid_keeps_them(gold_id):
    # the browser sends the grid's edits as one accumulated delta under the grid's key (set here as it would)
    at = run("pages/saxs.py", ds=gold_id, section="fit", f_model="sphere", f_pd="gaussian")
    grid = at.data_editor[0]
    names = [p.split(" (")[0] for p in grid.value["parameter"]]
    radius, background = names.index("radius"), names.index("background")
    at.session_state[grid.key] = {"edited_rows": {radius: {"start": 25.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert at.query_params["f_start"] == "radius:25"
    # a second edit: the grid was not rebuilt under another key, so the first edit still counts
    assert at.data_editor[0].key == grid.key
    at.session_state[grid.key] = {"edited_rows": {radius: {"start": 25.0, "high": 70.0},
                                                  background: {"refine": False}},
                                  "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    url = {k: at.query_params[k] for k in ("f_start", "f_fix", "f_bounds")}
    assert url == {"f_start": "radius:25", "f_fix": "background", "f_bounds": "radius::70"}
    # and that link, opened afresh, shows the same table
    again = run("pages/saxs.py", ds=gold_id, section="fit", f_model="sphere", f_pd="gaussian", **url)
    shown = again.data_editor[0].value
    assert shown.loc[radius, "start"] == 25 and shown.loc[radius, "high"] == 70 and shown.loc[radius, "low"] == 0
    assert not shown.loc[background, "refine"]


def test_a_slow_fits_job_is_in_the_link_and_its_fit_stored_once(gold_id, db, monkeypatch):  # noqa: F811
    import time

    import pages._saxs_fit as section

    monkeypatch.setattr(section, "JOB_ABOVE_S", 0.0)  # every fit counts as slow here
    at = run("pages/saxs.py", ds=gold_id, section="fit", f_model="sphere", f_pd="gaussian",
             f_bounds="radius:10:80")
    at.button(key="saxs.f_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    job_id = at.query_params["f_job"]
    # Home's link to the job (dataset, section, job only): the form from the job, then its fit
    other = run("pages/saxs.py", ds=gold_id, section="fit", f_job=job_id)
    assert other.query_params["f_bounds"] == "radius:10:80"
    deadline = time.time() + 90
    while not other.metric and time.time() < deadline:
        time.sleep(1.0)
        other.run()
    assert not other.exception, [e.message for e in other.exception]
    fits = db.list_results(kind="fit")
    assert len(fits) == 1 and other.query_params["f_fit"] == fits[0].id and "f_job" not in other.query_params
    at.run()  # the first session finds the same stored fit
    assert at.query_params["f_fit"] == fits[0].id and metric(at, "χ²_red") == metric(other, "χ²_red")
    assert len(db.list_results(kind="fit")) == 1
    home = run("app.py")
    listed = next(d.value for d in home.dataframe if "summary" in d.value.columns)
    assert f"saxs?ds={gold_id}&section=fit&f_job={job_id}" in listed["open"].tolist()
