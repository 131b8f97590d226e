"""Page logic of the dashboard with Streamlit's AppTest (no browser): widgets, URL state, numbers shown.

The browser tests (``tests/browser/``) drive the same pages in Chromium; these
check the logic quickly.  Physics shown on a page is compared with
independent numbers: ASE's own builders for atom counts, and an exact
double-sum Debye I(Q) (not the pages' fast histogram path) for R_w.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from ase.cluster import Decahedron
from streamlit.testing.v1 import AppTest

from swaxs_lib.io import read_measurement_bytes
from swaxs_lib.scattering import debye_intensity
from swaxs_lib.store import Store
from swaxs_lib.structures import decahedron

TIMEOUT_S = 120
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path, monkeypatch) -> Store:
    """A fresh store that the pages open (through ``$SWAXS_DB``)."""
    path = tmp_path / "pages.duckdb"
    monkeypatch.setenv("SWAXS_DB", str(path))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield Store(path)
    st.cache_resource.clear()
    st.cache_data.clear()


def app(page: str) -> AppTest:
    """The dashboard (``app.py``, with its navigation and sidebar) opened at ``page``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    if page != "app.py":
        at.switch_page(page)
    return at


def run(page: str, **query: str) -> AppTest:
    """Open ``page`` with a link's query parameters; fail on any exception."""
    at = app(page)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def add_text_dataset(db: Store, name: str, x, y, filename: str = "curve.dat", header: str = "") -> str:
    raw = (header + "\n".join(f"{a:.8g} {b:.10g}" for a, b in zip(x, y)) + "\n").encode()
    return db.add_dataset(name, raw, filename, read_measurement_bytes(raw, filename)).id


def metric(at: AppTest, label_start: str) -> str:
    for m in at.metric:
        if m.label.startswith(label_start):
            return m.value
    raise AssertionError(f"no metric {label_start!r}: {[m.label for m in at.metric]}")


def test_home_lists_datasets_and_links_every_page(db):
    add_text_dataset(db, "Au run 7", np.linspace(0.1, 1, 20), np.linspace(5, 1, 20))
    at = run("app.py")
    assert any("Stored datasets (1)" in s.value for s in at.subheader)
    assert "Au run 7" in at.dataframe[0].value["name"].tolist()
    assert {"Data", "Clusters", "Compare"} <= {link.label for link in at.page_link}


def test_data_page_previews_a_linked_dataset_in_the_linked_view(db):
    q = np.linspace(0.01, 0.3, 50)
    dataset = add_text_dataset(db, "sphere", q, 1e4 * np.exp(-(q * 30) ** 2 / 5))
    at = run("pages/data.py", ds=dataset, view="kratky")
    assert at.selectbox(key="data.ds").value == dataset
    assert at.selectbox(key="data.view").value == "kratky"
    assert any(s.value == "sphere" for s in at.subheader)
    assert at.query_params["ds"] == [dataset] or at.query_params["ds"] == dataset


def test_data_page_reports_a_bad_link_parameter_and_uses_the_default(db):
    add_text_dataset(db, "x", np.linspace(0.1, 1, 10), np.ones(10))
    at = run("pages/data.py", view="sideways")
    assert any("view='sideways' ignored" in w.value for w in at.warning)
    assert not at.error


def test_data_page_rejects_a_bad_upload_with_the_readers_line_and_keeps_the_store(db):
    dataset = add_text_dataset(db, "kept", np.linspace(0.1, 1, 10), np.ones(10))
    at = app("pages/data.py")
    at.run()
    at.file_uploader(key="data.upload").upload("broken.dat", b"0.1 1.0\n0.2 abc\n", "text/plain").run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert messages and "broken.dat" in messages[0] and "line 2" in messages[0], messages
    assert [d.id for d in db.list_datasets()] == [dataset]


def test_data_page_upload_and_save_stores_the_file(db):
    at = app("pages/data.py")
    at.run()
    text = "# Q (1/nm) I\n" + "\n".join(f"{q:.3f} {np.exp(-q):.5f}" for q in np.linspace(0.1, 3, 30))
    at.file_uploader(key="data.upload").upload("run3.dat", text.encode(), "text/plain").run()
    assert not at.exception and not at.error
    save = [b for b in at.button if b.label == "Save to store"]
    save[0].click().run()
    stored = db.list_datasets()
    assert [d.filename for d in stored] == ["run3.dat"]
    m = db.get_dataset(stored[0].id).measurement
    # Q given in 1/nm is stored in 1/Å: 0.1 1/nm = 0.01 1/Å
    assert m.x[0] == pytest.approx(0.01) and m.x[-1] == pytest.approx(0.3)


@pytest.mark.parametrize("p, q, r", [(3, 1, 2), (4, 2, 1), (5, 1, 0)])
def test_clusters_page_shows_the_atom_count_of_ases_decahedron(db, p, q, r):
    at = run("pages/clusters.py", shape="decahedron", el="Au", p=str(p), q=str(q), r=str(r))
    expected = len(Decahedron("Au", p=p, q=q, r=r))
    assert metric(at, "Atoms") == f"{expected:,}"
    assert at.query_params["p"] in (str(p), [str(p)])
    assert any("Au" in c.value and "decahedron" in c.value for c in at.caption)


def test_clusters_page_reports_an_impossible_octahedron(db):
    at = run("pages/clusters.py", shape="octahedron", length="5", cutoff="3")
    assert any("cutoff" in e.value for e in at.error)


def test_clusters_page_reads_an_uploaded_xyz(db):
    at = app("pages/clusters.py")
    at.query_params["shape"] = "upload"
    at.run()
    xyz = "3\n\nAu 0 0 0\nAu 2.88 0 0\nAu 1.44 2.494 0\n"
    at.file_uploader(key="clusters.upload").upload("tri.xyz", xyz.encode(), "chemical/x-xyz").run()
    assert not at.exception
    assert metric(at, "Atoms") == "3"
    assert metric(at, "Mean bond") == "2.880 Å"
    assert len(at.query_params["cluster"][0] if isinstance(at.query_params["cluster"], list)
               else at.query_params["cluster"]) == 64


@pytest.fixture
def expanded_decahedron_iq(db):
    """Synthetic I(Q) of an Au (3,1,1) decahedron with distances 2 % longer, from the exact double sum."""
    atoms = decahedron("Au", 3, 1, 1).atoms
    stretched = atoms.copy()
    stretched.positions *= 1.02
    q = np.linspace(0.5, 8.0, 300)
    intensity = 3.0 * debye_intensity(stretched, q, mode="exact", b_iso_angstrom2=0.5).intensity
    return add_text_dataset(db, "synthetic Au dh", q, intensity, header="# Q (1/A) I\n")


def test_compare_page_rw_vanishes_at_the_true_expansion(expanded_decahedron_iq):
    common = dict(ds=expanded_decahedron_iq, c1_shape="decahedron", c1_el="Au", c1_p="3", c1_q="1", c1_r="1",
                  b="0.5", bg="none")
    right = float(metric(run("pages/compare.py", zoom="1.02", **common), "R_w"))
    wrong = float(metric(run("pages/compare.py", zoom="1", **common), "R_w"))
    # fast mode vs the exact sum agree to ~1e-7 relative (tests/test_debye.py): R_w is that small
    assert right < 1e-5
    assert wrong > 0.05


def test_compare_page_slider_move_changes_rw_and_the_url(expanded_decahedron_iq):
    at = run("pages/compare.py", ds=expanded_decahedron_iq, c1_shape="decahedron", c1_p="3", c1_q="1", c1_r="1",
             zoom="1.02", b="0.5", bg="none")
    before = float(metric(at, "R_w"))
    at.slider(key="compare.b").set_value(2.0).run()
    assert not at.exception
    after = float(metric(at, "R_w"))
    assert after > before + 1e-3
    assert at.query_params["b"] in ("2", ["2"])


def test_compare_page_with_measured_pdf_and_two_candidates(db):
    path = ROOT / "tests/data/au144_pdf/Au144PET_100K-00000.gr"
    raw = path.read_bytes()
    dataset = db.add_dataset("Au144", raw, "Au144PET_100K-00000.gr", read_measurement_bytes(raw, path.name)).id
    at = run("pages/compare.py", ds=dataset, n="2", c1_shape="icosahedron", c1_shells="4",
             c2_shape="decahedron", c2_p="3", c2_q="1", c2_r="1")
    rws = [float(metric(at, f"R_w, candidate {i}")) for i in (1, 2)]
    assert all(0 < rw < 1.5 for rw in rws)
    assert at.number_input(key="compare.qmax").value > 0
    table = at.dataframe[0].value
    assert list(table["candidate"]) == [1, 2]


def test_compare_page_takes_out_the_particles_small_angle_part_unless_told_to_keep_it(db):
    # Pt JQ_S1: a 3.5 nm sphere fits far better without the small-angle hump (measured R_w
    # 0.262 with it taken out, against 0.731 kept, from the Q_min 0.1 1/Å that xPDFsuite headers often give,
    # at U 0.0115 Å² (B 0.9 Å²), Q damping 0.04 1/Å)
    path = ROOT / "tests/data/pt_np_jq_pdf/JQ_S1.gr"
    raw = path.read_bytes()
    dataset = db.add_dataset("Pt", raw, path.name, read_measurement_bytes(raw, path.name)).id
    at = run("pages/compare.py", ds=dataset, n="1", c1_shape="sphere", c1_diameter_angstrom="35", c1_el="Pt",
             u="0.0115", qdamp="0.04", qmin="0.1")
    assert at.toggle(key="compare.sas").value is True
    taken_out = float(metric(at, "R_w"))
    at.toggle(key="compare.sas").set_value(False).run()
    kept = float(metric(at, "R_w"))
    assert at.query_params["sas"] in ("0", ["0"])
    assert taken_out < 0.7 * kept, (taken_out, kept)


def test_compare_page_unknown_dataset_link_falls_back_with_a_warning(db):
    dataset = add_text_dataset(db, "only", np.linspace(0.5, 5, 50), np.linspace(10, 1, 50))
    at = run("pages/compare.py", ds="NoSuchDatasetIdxxxxxxx")
    assert any("not in this store" in w.value for w in at.warning)
    assert at.selectbox(key="compare.ds").value == dataset


def test_compare_page_without_datasets_points_to_the_data_page(db):
    at = run("pages/compare.py")
    assert any("No datasets" in i.value for i in at.info)


def test_data_page_renames_and_deletes_only_after_confirmation(db):
    keep = add_text_dataset(db, "keep me", np.linspace(0.1, 1, 10), np.ones(10))
    doomed = add_text_dataset(db, "old name", np.linspace(0.1, 1, 10), np.arange(1, 11.0))
    at = run("pages/data.py", ds=doomed)
    at.text_input(key="data.rename_to").input("new <b>name</b>")
    [b for b in at.button if b.label == "Rename"][0].click().run()
    assert db.get_dataset(doomed).name == "new <b>name</b>"
    # the name is shown escaped: no HTML or markdown from a user's text
    assert any("new \\<b\\>name\\</b\\>" in s.value for s in at.success)

    [b for b in at.button if b.label == "Delete…"][0].click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    assert {d.id for d in db.list_datasets()} == {keep, doomed}
    [b for b in at.button if b.label == "Cancel"][0].click().run()
    assert {d.id for d in db.list_datasets()} == {keep, doomed}

    [b for b in at.button if b.label == "Delete…"][0].click().run()
    [b for b in at.button if b.label == "Yes, delete"][0].click().run()
    assert not at.exception
    assert [d.id for d in db.list_datasets()] == [keep]
    assert any("Deleted" in s.value for s in at.success)


def test_refine_page_runs_a_sweep_in_the_background_and_shows_the_ranking(db):
    import time

    from swaxs_lib.jobs import cancel, get_job

    path = ROOT / "tests/data/au144_pdf/Au144PET_100K-00000.gr"
    raw = path.read_bytes()
    dataset = db.add_dataset("Au144", raw, path.name, read_measurement_bytes(raw, path.name)).id
    at = run("pages/refine.py", ds=dataset, grid="p=2..3,q=1,r=0", workers="1")
    assert any("2 candidate(s)" in c.value for c in at.caption)
    [b for b in at.button if b.label == "Start the sweep"][0].click().run()
    assert not at.exception
    job_id = at.session_state["refine.job"]
    deadline = time.time() + 120
    while get_job(db, job_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    assert get_job(db, job_id).status == "done", get_job(db, job_id).message
    # a fresh session opened from the link (the tab was closed) shows the result
    again = run("pages/refine.py", job=job_id)
    assert any("done" in s.value for s in again.success)
    ranking = again.dataframe[0].value
    assert list(ranking["rank"]) == [1, 2] and set(ranking["p"]) == {2, 3}
    assert list(ranking["rw"]) == sorted(ranking["rw"])
    assert any(link.label == "Open in Compare" for link in again.page_link)
    # what the data can tell: the test's column and its legend, flags used for styling but not shown
    from swaxs_lib.sweep import SweepResult

    result = SweepResult.from_json(get_job(db, job_id).result)
    assert list(ranking["indistinguishable_from_best"]) == [c.indistinguishable for c in result.test.comparisons]
    assert ranking["indistinguishable_from_best"].iloc[0] and not any(c.endswith("_flag") for c in ranking.columns)
    assert "undetermined" in ranking.columns
    legend = " ".join(c.value for c in again.caption)
    assert "≈ best" in legend and "235 independent points" in legend and "Grey italic" in legend
    verdicts = [m.value for m in [*again.info, *again.warning]]
    assert any("cannot tell these candidates apart" in v or "significantly better" in v for v in verdicts)
    # p = 2..3: the best is on the edge of the grid; the button starts the sweep on the extended grid
    edge = result.edge
    assert any("edge of the grid" in w.value for w in again.warning)
    [b for b in again.button if b.label == "Sweep the extended grid"][0].click().run()
    assert not again.exception
    extended = again.session_state["refine.job"]
    assert extended != job_id and again.session_state["refine.grid"] == edge.extended_grid
    assert get_job(db, extended).params["args"]["grid"] == edge.extended_grid
    cancel(db, extended)


def test_refine_page_sends_start_values_and_bounds_to_every_candidate(db):
    from swaxs_lib.jobs import get_job

    dataset = add_text_dataset(db, "g", np.linspace(1, 20, 200), np.sin(np.linspace(1, 20, 200)), "x.gr")
    at = run("pages/refine.py", ds=dataset, grid="p=2..3,q=1,r=0", workers="1")
    at.number_input(key="refine.start_delta2").set_value(2.0).run()
    at.number_input(key="refine.high_u").set_value(0.03).run()
    [b for b in at.button if b.label == "Start the sweep"][0].click().run()
    assert not at.exception
    options = get_job(db, at.session_state["refine.job"]).params["args"]["options"]
    assert options["start"] == {"delta2": 2.0} and options["bounds"] == {"u": [0.0, 0.03]}


def test_refine_page_reports_a_bad_grid(db):
    dataset = add_text_dataset(db, "g", np.linspace(1, 20, 200), np.sin(np.linspace(1, 20, 200)), "x.gr")
    at = run("pages/refine.py", ds=dataset, grid="p=1..3,s=2")
    assert any("not a parameter" in e.value for e in at.error)
    assert not [b for b in at.button if b.label == "Start the sweep"]


def test_relax_page_runs_a_relaxation_and_shows_its_trace_fit_and_downloads(db):
    import time

    from swaxs_lib.jobs import get_job

    path = ROOT / "tests/data/au144_pdf/Au144PET_100K-00000.gr"
    raw = path.read_bytes()
    dataset = db.add_dataset("Au144", raw, path.name, read_measurement_bytes(raw, path.name)).id
    at = run("pages/relax.py", shape="decahedron", p="2", q="1", r="1", ds=dataset, steps="12", every="4")
    [b for b in at.button if b.label == "Start the relaxation"][0].click().run()
    assert not at.exception
    job_id = at.session_state["relax.job"]
    deadline = time.time() + 120
    while get_job(db, job_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    record = get_job(db, job_id)
    assert record.status == "done", record.message
    again = run("pages/relax.py", job=job_id, step="0")
    assert any("best R_w" in s.value for s in again.success)
    labels = {b.label for b in again.get("download_button")}
    assert {"Trace (CSV)", "Trajectory (extxyz)"} <= labels and any(lbl.endswith("best R_w (xyz)") for lbl in labels)
    from swaxs_lib.relax import job_trace

    last = job_trace(record.result).steps[-1].step
    again.slider(key="relax.step").set_value(last).run()
    assert not again.exception
    assert again.query_params["step"] in (str(last), [str(last)])


def test_relax_page_refuses_an_element_emt_does_not_know(db):
    at = run("pages/relax.py", shape="icosahedron", el="Fe", shells="3")
    assert any("EMT has no parameters for Fe" in w.value for w in at.warning)
    assert not [b for b in at.button if b.label == "Start the relaxation"]


def test_refine_page_fits_a_piece_of_crystal_to_the_same_pdf(db):
    import time

    from swaxs_lib.jobs import get_job

    path = ROOT / "tests/data/ni_srfit/ni-q27r60-xray.gr"
    raw = path.read_bytes()
    dataset = db.add_dataset("Ni", raw, path.name, read_measurement_bytes(raw, path.name)).id
    at = run("pages/refine.py", ds=dataset, el="Ni", np="0", xmax="20")
    [b for b in at.button if b.label == "Refine the crystal model"][0].click().run()
    job_id = at.session_state["refine.cjob"]
    deadline = time.time() + 120
    while get_job(db, job_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    record = get_job(db, job_id)
    assert record.status == "done", record.message
    from swaxs_lib.store.fits import StoredFit

    assert StoredFit.from_json(record.result).value("a") == pytest.approx(3.527, abs=0.005)  # as test_refine_crystal
    again = run("pages/refine.py", cjob=job_id)
    assert any("crystal Ni fcc" in m.value and "R_w" in m.value for m in again.markdown)


def test_refine_page_sends_the_start_values_and_bounds_of_the_crystal_grid(db):
    import time

    from swaxs_lib.jobs import get_job

    path = ROOT / "tests/data/ni_srfit/ni-q27r60-xray.gr"
    raw = path.read_bytes()
    dataset = db.add_dataset("Ni", raw, path.name, read_measurement_bytes(raw, path.name)).id
    at = run("pages/refine.py", ds=dataset, el="Ni", np="0", xmax="10")
    at.toggle(key="refine.cgrid").set_value(True).run()
    labels = {n.label for n in at.number_input}
    assert {"a (Å) start", "u_<El> (Å²) high", "qbroad (1/Å) low", "rcut (Å) start"} <= labels
    at.number_input(key="refine.cp.u.high").set_value(0.004)
    at.number_input(key="refine.cp.rcut.start").set_value(2.6)
    at.checkbox(key="refine.cp.qbroad.on").check()
    at.checkbox(key="refine.cp.delta2.on").uncheck().run()
    [b for b in at.button if b.label == "Refine the crystal model"][0].click().run()
    assert not at.exception
    record = get_job(db, at.session_state["refine.cjob"])
    options = record.params["args"]["options"]
    assert options["bounds"] == {"u": [0.0, 0.004]}  # the low side stays the table's
    assert options["free"] == ["qbroad"] and "delta2" in options["fix"] and options["start"]["rcut"] == 2.6
    deadline = time.time() + 120
    while get_job(db, record.id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    record = get_job(db, record.id)
    assert record.status == "done", record.message
    from swaxs_lib.store.fits import StoredFit

    fit = StoredFit.from_json(record.result)
    assert fit.value("u_Ni") == pytest.approx(0.004) and fit.value("delta2") == 0.0  # the bound binds; delta2 held
    assert fit.value("qbroad") > 0 and fit.summary["sratio_sigma"] > 0
    again = run("pages/refine.py", cjob=record.id)
    assert "Parameters (CSV)" in {b.label for b in again.get("download_button")}


# -- Predict ------------------------------------------------------------------------------------------

def _model_present() -> bool:
    from swaxs_lib.ml.models import default_model_dir

    return (default_model_dir() / "manifest.json").is_file()


needs_model = pytest.mark.skipif(not _model_present(), reason="no trained model: data/models/default (or "
                                 "$SWAXS_MODELS) has no manifest.json")
AU144_GR = ROOT / "tests/data/au144_pdf/Au144PET_100K-00000.gr"


def _plotly(at: AppTest, index: int) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _query(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


@pytest.fixture
def icosahedron_iq(db):
    """Synthetic I(Q) of a 147-atom Au icosahedron on Q 0.02..12 1/Å (covers the SAXS and WAXS windows)."""
    from ase.cluster import Icosahedron

    q = np.linspace(0.02, 12.0, 600)
    intensity = debye_intensity(Icosahedron("Au", 4), q, mode="exact", b_iso_angstrom2=0.5).intensity
    return add_text_dataset(db, "synthetic Au147 ico", q, intensity, header="# Q (1/A) I\n")


def _check_prediction_page(at: AppTest) -> None:
    """Structure every prediction shows: metrics, a probability chart summing to 1, 5 ranked matches, the 3D view."""
    for label in ("Shape", "Shape probability", "Outer diameter", "Atoms", "Element", "In domain"):
        metric(at, label)
    bars = _plotly(at, 0)["data"][0]
    assert bars["type"] == "bar" and bars["orientation"] == "h"
    from swaxs_lib.ml.catalog import SHAPE_CLASSES

    assert sorted(bars["y"]) == sorted(SHAPE_CLASSES)
    assert sum(bars["x"]) == pytest.approx(1.0, abs=1e-4)
    matches = at.dataframe[1].value
    assert list(matches["rank"]) == [1, 2, 3, 4, 5]
    assert list(matches["rw"]) == sorted(matches["rw"])
    assert {"shape_class", "shape", "family", "parameters", "element", "extent_nm", "n_atoms"} <= set(matches.columns)
    overlay = _plotly(at, 1)
    assert overlay["data"][0]["name"] == "data" and len(overlay["data"]) == 6
    assert at.get("iframe"), "no 3D view"
    labels = {b.label for b in at.get("download_button")}
    assert {"Class probabilities (CSV)", "Prediction summary (CSV)", "Matches (CSV)"} <= labels


@needs_model
def test_predict_page_for_an_iq_dataset_keeps_its_choices_in_the_url(icosahedron_iq):
    at = run("pages/predict.py", ds=icosahedron_iq, el="Au", match="2")
    _check_prediction_page(at)
    matches = at.dataframe[1].value
    assert set(matches["element"]) == {"Au"}  # a known element restricts the library search
    overlay = _plotly(at, 1)["layout"]
    assert overlay["xaxis"]["type"] == "log" and overlay["yaxis"]["type"] == "log"
    assert overlay["xaxis"]["title"]["text"] == "Q (1/Å)" and overlay["yaxis"]["title"]["text"] == "I(Q) (a.u.)"
    # the chosen match (2) is drawn thicker than the others
    widths = [t["line"]["width"] for t in _plotly(at, 1)["data"][1:]]
    assert widths[1] == max(widths) and widths.count(max(widths)) == 1
    assert any(m.value.startswith("**Match 2:") for m in at.markdown)
    assert (_query(at, "ds"), _query(at, "el"), _query(at, "match")) == (icosahedron_iq, "Au", "2")
    assert at.selectbox(key="predict.ds").value == icosahedron_iq
    # a change of element goes into the URL
    at.selectbox(key="predict.el").set_value("unknown").run()
    assert not at.exception
    assert _query(at, "el") == "unknown"


@needs_model
def test_predict_page_for_a_measured_pdf_hands_the_match_to_compare_and_refine(db):
    from urllib.parse import parse_qsl

    raw = AU144_GR.read_bytes()
    dataset = db.add_dataset("Au144", raw, AU144_GR.name, read_measurement_bytes(raw, AU144_GR.name)).id
    at = run("pages/predict.py", ds=dataset)
    _check_prediction_page(at)
    layout = _plotly(at, 1)["layout"]
    assert layout["xaxis"]["title"]["text"] == "r (Å)" and layout["yaxis"]["title"]["text"] == "G(r) (1/Å²)"
    # the header's composition (Au144 S60 C180) gives the element: the library search is restricted to Au
    assert _query(at, "el") == "Au" and _query(at, "match") == "1"
    assert any("element Au (composition = Au144 S60 C180; ligand elements S, C ignored" in c.value.replace("\\", "")
               for c in at.caption)
    best = at.dataframe[1].value.iloc[0]
    assert best["element"] == "Au"
    links = {link.label: dict(parse_qsl(link.proto.query_string)) for link in at.page_link}

    compare = run("pages/compare.py", **links["Open in Compare"])
    assert compare.selectbox(key="compare.ds").value == dataset
    assert compare.selectbox(key="compare.c1_shape").value == best["shape"]
    assert compare.selectbox(key="compare.c1_el").value == best["element"]
    assert 0 < float(metric(compare, "R_w")) < 2

    refine = run("pages/refine.py", **links["Refine this candidate"])
    assert refine.selectbox(key="refine.shape").value == best["shape"]
    assert refine.selectbox(key="refine.el").value == best["element"]
    assert any("1 candidate(s)" in c.value for c in refine.caption)


@needs_model
def test_predict_page_converts_sq_with_the_chosen_elements_form_factor(db):
    from ase.cluster import Icosahedron

    q = np.linspace(0.02, 12.0, 600)
    s = debye_intensity(Icosahedron("Pt", 4), q, mode="exact", b_iso_angstrom2=0.5).structure_factor
    dataset = add_text_dataset(db, "Pt S(Q)", q, s, filename="pt.sq")
    at = run("pages/predict.py", ds=dataset, el="Pt")
    assert any("converted to I(Q)" in w.value and "Pt" in w.value for w in at.warning)
    _check_prediction_page(at)


@needs_model
def test_predict_page_reports_bad_links_and_an_uncovered_curve_without_a_traceback(db):
    q = np.linspace(0.5, 1.5, 50)
    dataset = add_text_dataset(db, "narrow", q, np.exp(-q), header="# Q (1/A) I\n")
    at = run("pages/predict.py", ds=dataset, el="Fe", match="9")
    assert any("el='Fe' ignored" in w.value for w in at.warning)
    assert any("match='9' ignored" in w.value for w in at.warning)
    assert any("expected it to cover" in e.value for e in at.error)
    assert _query(at, "el") == "unknown"
