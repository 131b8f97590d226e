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


def plain(markdown: str) -> str:
    """A message's text as shown: user text in it is escaped (``pages._shared.md``), backslashes and word joiners."""
    return markdown.replace("\\", "").replace("\u2060", "")


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


@pytest.mark.parametrize("xyz, shown", [
    ("2\n\nAu 0 0 0\nAu 0 0 0\n", "error"),  # overlapping atoms: refused (structures.bounds)
    ("2\n\nAu 0 0 0\nAu 0 0 1.5\n", "warning"),  # 0.55 of the covalent bond: read, and warned
])
def test_clusters_page_refuses_overlapping_atoms_and_warns_of_close_ones(db, xyz, shown):
    at = app("pages/clusters.py")
    at.query_params["shape"] = "upload"
    at.run()
    at.file_uploader(key="clusters.upload").upload("pair.xyz", xyz.encode(), "chemical/x-xyz").run()
    assert not at.exception
    messages = [e.value for e in getattr(at, shown)]
    assert any("pair.xyz: atoms 1 and 2 are" in m.replace("\\", "") for m in messages), messages


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


def test_refine_page_refuses_a_crystal_cif_out_of_bounds_naming_the_upload_and_queues_nothing(db):
    from tests.hostile_cif import cif_text

    path = ROOT / "tests/data/ni_srfit/ni-q27r60-xray.gr"
    raw = path.read_bytes()
    dataset = db.add_dataset("Ni", raw, path.name, read_measurement_bytes(raw, path.name)).id
    at = run("pages/refine.py", ds=dataset, el="Ni", np="0", xmax="10")
    at.file_uploader(key="refine.cif").upload("tiny.cif", cif_text(a=0.05).encode(), "chemical/x-cif").run()
    [b for b in at.button if b.label == "Refine the crystal model"][0].click().run()
    assert not at.exception
    errors = [plain(e.value) for e in at.error]
    assert any(m.startswith("tiny.cif: cell length a = 0.05 Å; expected 1 to 100 Å") for m in errors), errors
    assert "refine.cjob" not in at.session_state or at.session_state["refine.cjob"] is None
    assert not [r for r in db.list_results(kind="job") if r.params.get("task") == "crystal"]


def test_compare_page_reports_a_bad_slider_link_value_in_the_first_run(db):
    # the sliders' link values are read inside the live panel, after the page's own warnings were shown
    dataset = add_text_dataset(db, "only", np.linspace(0.5, 5, 50), np.linspace(10, 1, 50))
    at = run("pages/compare.py", ds=dataset, c1_shape="icosahedron", c1_el="Au", c1_shells="lots")
    assert any("c1_shells='lots' ignored" in plain(w.value) for w in at.warning), [w.value for w in at.warning]


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


def test_refine_page_sends_the_dask_scheduler_to_the_job_and_refuses_a_bad_address(db):
    from swaxs_lib.jobs import cancel, get_job

    dataset = add_text_dataset(db, "g", np.linspace(1, 20, 200), np.sin(np.linspace(1, 20, 200)), "x.gr")
    at = run("pages/refine.py", ds=dataset, grid="p=2..3,q=1,r=0", workers="1")
    at.text_input(key="refine.scheduler").input("10.0.0.5:8786").run()
    [b for b in at.button if b.label == "Start the sweep"][0].click().run()
    assert not db.list_results(kind="job")
    assert any("Dask scheduler: got '10.0.0.5:8786'; expected a dask scheduler address tcp://HOST:PORT"
               in plain(e.value) for e in at.error)
    at.text_input(key="refine.scheduler").input("tcp://10.0.0.5:8786").run()
    [b for b in at.button if b.label == "Start the sweep"][0].click().run()
    job = get_job(db, at.session_state["refine.job"])
    cancel(db, job.id)
    assert job.params["args"]["scheduler"] == "tcp://10.0.0.5:8786"


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
def test_predict_page_leads_with_the_volume_diameter_of_a_saxs_only_curve(db):
    # a 309-atom Au icosahedron measured by SAXS alone (Q 0.02-0.3 1/Å): the curve does not show the shape, so the
    # headline is the volume-equivalent diameter it determines, (309 x 4.08³/4 Å³ x 6/π)^(1/3) = 21.6 Å
    from ase.cluster import Icosahedron

    q = np.linspace(0.02, 0.3, 300)
    intensity = debye_intensity(Icosahedron("Au", 5), q, mode="exact", b_iso_angstrom2=0.6).intensity
    at = run("pages/predict.py", ds=add_text_dataset(db, "SAXS Au309", q, intensity, header="# Q (1/A) I\n"))
    assert not at.exception and not at.error
    assert float(metric(at, "Volume-equivalent diameter").split()[0]) == pytest.approx(2.16, rel=0.10)
    assert not [m for m in at.metric if m.label == "Outer diameter"]
    assert any("if the shape is typical (not determined)" in c.value and "probable within one shell or 5 %" in c.value
               for c in at.caption)
    assert any("the extent from physics" in c.value for c in at.caption)
    assert any("determines the volume-equivalent diameter" in c.value and "Q 0.02-0.3 1/Å" in c.value
               for c in at.caption)
    assert any("Q resolution: unknown" in c.value for c in at.caption)
    # the instrument's resolution from the link: the sizer uses it and says so, the fields keep it in the URL
    at = run("pages/predict.py", ds=_query(at, "ds"), dqrel="0.02", dqabs="0.003", mono="1")
    assert not at.exception and not at.error
    assert at.number_input(key="predict.dqrel").value == pytest.approx(0.02) and _query(at, "dqabs") == "0.003"
    assert at.checkbox(key="predict.mono").value and _query(at, "mono") in ("1", "true", "True")
    assert any("Q resolution: the one given" in c.value and "told one size" in c.value for c in at.caption)
    assert not [w for w in at.warning if "told one size" in w.value]  # one icosahedron: the data agree
    assert float(metric(at, "Volume-equivalent diameter").split()[0]) == pytest.approx(2.16, rel=0.10)
    at = run("pages/predict.py", ds=_query(at, "ds"), dqrel="-1")  # a bad link: a message, the default
    assert not at.exception and at.number_input(key="predict.dqrel").value is None


@needs_model
def test_predict_page_takes_the_instruments_q_damp_of_a_gr_from_its_link(db):
    # bulk Ni powder, X-ray (tests/data/ni_srfit/SOURCE.md); 0.0502 1/Å is its Q damping refined on the file as
    # on a calibrant (swaxs_lib/ml/measured.py): with it the G(r) envelope is a bulk crystal's, so no size
    path = ROOT / "tests/data/ni_srfit/ni-q27r60-xray.gr"
    raw = path.read_bytes()
    dataset = db.add_dataset("Ni X-ray", raw, path.name, read_measurement_bytes(raw, path.name)).id
    # (without it the G(r) gets the "size not bounded" note: tests/test_pdf_extent.py, tests/test_ml_shipped.py)
    at = run("pages/predict.py", ds=dataset, qdamp="0.0502")
    assert not at.exception
    assert at.number_input(key="predict.qdamp").value == pytest.approx(0.0502) and _query(at, "qdamp") == "0.0502"
    warned = [w.value.replace("\\", "") for w in at.warning]  # md() escapes ":" and "(" for the markdown
    assert any(w.startswith("size out of range:") and "larger, or bulk" in w for w in warned), warned
    assert metric(at, "In domain") == "no" and metric(at, "Outer diameter") == "–"
    assert any("Q damping 0.0502 1/Å divided out: above" in c.value for c in at.caption)


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
    # ... and it is the element shown, said to come from the header (the element model alone said Ag or Pd)
    assert metric(at, "Element") == "Au" and any(c.value.startswith("from the header") for c in at.caption)
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
    assert any("converted to I(Q)" in plain(w.value) and "Pt" in w.value for w in at.warning)
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


# -- issue 15: per-file reading options, unit check, identical uploads, failed jobs --------------------------


def _sphere_saxs(q_file: np.ndarray, q_to_inv_angstrom: float, radius_angstrom: float = 10.0) -> bytes:
    """I(Q) of a sphere (closed form) written with the file's Q column ``q_file``, no header."""
    qr = q_file * q_to_inv_angstrom * radius_angstrom
    intensity = 1e4 * (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2 + 0.05
    return "".join(f"{a:.6g} {b:.6g}\n" for a, b in zip(q_file, intensity)).encode()


def _keyed(widgets, prefix: str) -> dict[str, object]:
    """Per-file widgets by file name order: key suffix (the upload's file id) -> widget."""
    return {w.key[len(prefix):]: w for w in widgets if w.key and w.key.startswith(prefix)}


def test_data_page_reads_each_uploaded_file_with_its_own_options(db):
    """A SAXS curve in 1/nm set to 1/nm beside a PDF left as the file says: both read, both stored right."""
    saxs = _sphere_saxs(np.geomspace(0.05, 5.0, 120), 0.1)
    pdf = (ROOT / "tests" / "data" / "pt_np_jq_pdf" / "JQ_S1.gr").read_bytes()
    at = app("pages/data.py")
    at.run()
    at.file_uploader(key="data.upload").set_value([("pt_saxs.dat", saxs, "text/plain"),
                                                   ("JQ_S1.gr", pdf, "text/plain")]).run()
    assert not at.exception and not at.error
    units = list(_keyed(at.selectbox, "data.read_unit.").values())
    assert len(units) == 2
    # the SAXS file's unit check doubts 1/Å and names 1/nm; the PDF has no unit warning
    warnings = [w.value for w in at.warning]
    assert any("pt\\_saxs.dat" in w and "Guinier R\\_g" in w and "Q in 1/nm" in w for w in warnings), warnings
    assert not any("JQ\\_S1" in w for w in warnings)
    units[0].set_value("inv_nm").run()  # the first card is the first file
    assert not at.exception and not at.error
    assert not any("Guinier" in w.value for w in at.warning)
    assert any("Q 0.005–0.5 1/Å" in plain(c.value) for c in at.caption)
    assert any("G(r) · 5001 points · r 0–50 Å" in plain(c.value) for c in at.caption)
    [save_all] = [b for b in at.button if b.label.startswith("Save all")]
    save_all.click().run()
    stored = {d.filename: db.get_dataset(d.id).measurement for d in db.list_datasets()}
    assert set(stored) == {"pt_saxs.dat", "JQ_S1.gr"}
    assert stored["pt_saxs.dat"].x[0] == pytest.approx(0.005) and stored["pt_saxs.dat"].x_unit == "inv_nm"
    assert stored["JQ_S1.gr"].x_unit == "angstrom" and stored["JQ_S1.gr"].x[-1] == pytest.approx(50.0)


def test_data_page_unit_check_button_rereads_the_file_and_flags_an_unlabelled_unit(db):
    saxs = _sphere_saxs(np.geomspace(0.05, 5.0, 120), 0.1)
    at = app("pages/data.py")
    at.run()
    at.file_uploader(key="data.upload").upload("np.dat", saxs, "text/plain").run()
    [fix] = [b for b in at.button if b.label == "Read it with Q in 1/nm"]
    assert [b.label for b in at.button if b.key and b.key.startswith("data.save.")] == ["Save as read"]
    fix.click().run()
    assert not at.exception
    assert list(_keyed(at.selectbox, "data.read_unit.").values())[0].value == "inv_nm"
    assert not [b for b in at.button if b.label.startswith("Read it with")]
    assert [b.label for b in at.button if b.key and b.key.startswith("data.save.")] == ["Save to store"]
    # a file that states no unit and whose curve cannot tell is still flagged before saving
    alumina = (ROOT / "tests" / "data" / "alumina_usaxs" / "Alumina_usaxs_irena_input.csv").read_bytes()
    at.file_uploader(key="data.upload").set_value(("usaxs.csv", alumina, "text/csv")).run()
    assert any("does not state the unit of Q" in w.value and "cannot tell" in w.value for w in at.warning)


def test_data_page_offers_identical_bytes_as_the_stored_dataset(db):
    pdf = (ROOT / "tests" / "data" / "pt_np_jq_pdf" / "JQ_S1.gr").read_bytes()
    first = db.add_dataset("Pt S1", pdf, "JQ_S1.gr", read_measurement_bytes(pdf, "JQ_S1.gr"))
    at = app("pages/data.py")
    at.run()
    at.file_uploader(key="data.upload").upload("copy of S1.gr", pdf, "text/plain").run()
    assert not at.exception
    assert any("Already stored" in i.value and first.id in i.value for i in at.info)
    assert not [b for b in at.button if b.key and b.key.startswith("data.save")]
    [open_it] = [b for b in at.button if b.label == "Open it"]
    open_it.click().run()
    assert at.selectbox(key="data.ds").value == first.id
    # read another way (r in nm) it is a new reading, and may be stored
    list(_keyed(at.selectbox, "data.read_unit.").values())[0].set_value("nm").run()
    assert any("read differently" in c.value for c in at.caption)
    assert [b.label for b in at.button if b.key and b.key.startswith("data.save.")] == ["Save as read"]
    assert [d.id for d in db.list_datasets()] == [first.id]


def test_data_page_unreadable_upload_says_file_line_and_what_was_expected(db):
    at = app("pages/data.py")
    at.run()
    at.file_uploader(key="data.upload").upload("run9.dat", b"# Q I\n0.1 5\n0.2 4\n0.2 3\n", "text/plain").run()
    [error] = [e.value for e in at.error]
    assert "run9.dat could not be read" in error and "line 4" in error and "expected" in error


def test_data_page_url_keeps_no_view_while_no_dataset_is_previewed(db):
    at = app("pages/data.py")
    at.run()
    pdf = (ROOT / "tests" / "data" / "pt_np_jq_pdf" / "JQ_S1.gr").read_bytes()
    at.file_uploader(key="data.upload").upload("JQ_S1.gr", pdf, "text/plain").run()
    assert "view" not in at.query_params


def _failed_job(db: Store, task: str, args: dict, label: str):
    import swaxs_lib.relax  # noqa: F401  (registers the tasks)
    import swaxs_lib.sweep  # noqa: F401
    from swaxs_lib.jobs import submit

    job = submit(db, task, args, detach=False, label=label)
    assert job.status == "failed", job
    return job


def test_refine_page_shows_a_failed_sweeps_reason_in_the_body(db):
    dataset = add_text_dataset(db, "Pt", np.linspace(1.0, 20.0, 200), np.sin(np.linspace(1.0, 20.0, 200)),
                               filename="pt.gr")
    job = _failed_job(db, "sweep", {"dataset_id": dataset, "shape": "icosahedron", "element": "Pt",
                                    "grid": "shells=abc", "options": {}, "workers": 1}, "sweep Pt icosahedron")
    at = run("pages/refine.py", job=job.id)
    [error] = [e.value for e in at.error if "failed" in e.value]
    assert "This sweep failed:" in error and "shells=abc" in error and job.id in error


def test_relax_page_shows_a_failed_relaxations_reason_and_not_that_it_runs(db):
    job = _failed_job(db, "relax", {"cluster": {"key": "no-such-cluster"}, "optimizer": "FIRE", "fmax": 0.05,
                                    "steps": 5, "refit_every": 1}, "relax a missing cluster")
    at = run("pages/relax.py", job=job.id)
    [error] = [e.value for e in at.error if "failed" in e.value]
    assert "This relaxation failed:" in error and "no\\-such\\-cluster" in error
    assert not any("runs on the server" in c.value for c in at.caption)


def test_a_failed_job_with_a_traceback_is_called_a_fault_with_details(db):
    add_text_dataset(db, "Pt", np.linspace(1.0, 20.0, 50), np.ones(50), filename="pt.gr")  # the page needs one
    job = _failed_job(db, "selftest", {"steps": 3, "fail_at": 1}, "selftest")
    at = run("pages/refine.py", job=job.id)
    [error] = [e.value for e in at.error if "failed" in e.value]
    assert "selftest failure at step 1" in error and "not in the input" in error
    assert any("traceback" in x.label for x in at.expander)
    assert any("ValueError: selftest failure at step 1" in c.value for c in at.code)


def test_data_page_use_for_all_files_copies_one_files_reading_options(db):
    saxs = _sphere_saxs(np.geomspace(0.05, 5.0, 120), 0.1)
    other = _sphere_saxs(np.geomspace(0.06, 4.0, 100), 0.1, radius_angstrom=15.0)
    at = app("pages/data.py")
    at.run()
    at.file_uploader(key="data.upload").set_value([("a.dat", saxs, "text/plain"), ("b.dat", other, "text/plain")]).run()
    assert sum("Guinier R\\_g" in w.value for w in at.warning) == 2
    first, second = _keyed(at.selectbox, "data.read_unit.").values()
    first.set_value("inv_nm").run()
    assert sum("Guinier R\\_g" in w.value for w in at.warning) == 1  # only the file that was set
    [copy] = [b for b in at.button if b.key == "data.read_all." + next(iter(_keyed(at.selectbox, "data.read_unit.")))]
    copy.click().run()
    assert [s.value for s in _keyed(at.selectbox, "data.read_unit.").values()] == ["inv_nm", "inv_nm"]
    assert not any("Guinier R\\_g" in w.value for w in at.warning)

# -- hand-offs to Compare: every value carried, the same R_w shown (issue 15, item 2) ----------------

PT_JQ_GR = ROOT / "tests/data/pt_np_jq_pdf/JQ_S1.gr"


def _links(at: AppTest) -> dict[str, dict[str, str]]:
    from urllib.parse import parse_qsl

    return {link.label: dict(parse_qsl(link.proto.query_string)) for link in at.page_link}


def _compare_rw(link: dict[str, str]) -> str:
    """The R_w the Compare page shows (its metric, 4 decimals) when opened with ``link``."""
    compare = run("pages/compare.py", **link)
    assert not compare.warning, [w.value for w in compare.warning]  # no link value was refused
    return metric(compare, "R_w, candidate 1")


def _add_file(db: Store, path: Path, name: str) -> str:
    raw = path.read_bytes()
    return db.add_dataset(name, raw, path.name, read_measurement_bytes(raw, path.name)).id


def _wait(db: Store, job_id: str, limit_s: float = 240):
    import time

    from swaxs_lib.jobs import get_job

    deadline = time.time() + limit_s
    while get_job(db, job_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    record = get_job(db, job_id)
    assert record.status == "done", record.message
    return record


@needs_model
def test_predict_hands_compare_the_library_curves_model_and_shows_compares_rw(db):
    """Pt nanoparticle PDF (JQ_S1): the Compare link carries B, Q damping, delta2, Q window, fit range, background.

    Independent check of the model carried: Compare's R_w, from the cluster built here and the real-space
    model on the data's own points, is within 0.005 of the library search's, computed from the stored
    library curve interpolated onto the library grid (measured: 0.1509 vs 0.15087).
    """
    dataset = _add_file(db, PT_JQ_GR, "Pt JQ S1")
    at = run("pages/predict.py", ds=dataset)
    search_rw = float(at.dataframe[1].value.iloc[0]["rw"])
    shown = metric(at, "R_w in Compare")
    link = _links(at)["Open in Compare"]
    # 0.6 Å² = B of the library's curves (swaxs_lib.ml.simulate: clean_variant), U = B / 8π²
    assert float(link["u"]) == pytest.approx(0.6 / (8 * np.pi**2), rel=1e-5)
    assert (link["qdamp"], link["delta2"], link["zoom"], link["bg"], link["sas"]) == ("0.03", "0", "1", "none", "1")
    assert (link["qmin"], link["qmax"], link["xr"]) == ("1", "22", "2,30")
    assert abs(float(shown) - search_rw) < 0.005, (shown, search_rw)
    assert _compare_rw(link) == shown


@needs_model
def test_predict_hands_compare_an_iq_match_with_the_same_rw(icosahedron_iq):
    at = run("pages/predict.py", ds=icosahedron_iq, el="Au")
    shown = metric(at, "R_w in Compare")
    link = _links(at)["Open in Compare"]
    assert (link["b"], link["bg"], link["xr"]) == ("0.6", "constant", "0.02,10")
    assert "u" not in link and "qmin" not in link
    assert _compare_rw(link) == shown


def test_refine_hands_compare_the_refined_values_range_and_q_window_with_the_same_rw(db):
    """A sweep with its own fit range (2.2–24 Å) and a calibrant's Q damping (0.04): both reach Compare."""
    dataset = _add_file(db, AU144_GR, "Au144")
    at = run("pages/refine.py", ds=dataset, grid="p=3,q=1,r=0", workers="1", xmin="2.2", xmax="24", qdamp="0.04")
    [b for b in at.button if b.label == "Start the sweep"][0].click().run()
    assert not at.exception
    job_id = at.session_state["refine.job"]
    record = _wait(db, job_id)
    again = run("pages/refine.py", job=job_id)
    ranked = float(again.dataframe[0].value.iloc[0]["rw"])
    shown = metric(again, "R_w in Compare")
    assert shown == f"{ranked:.4f}"
    link = _links(again)["Open in Compare"]
    # the header's Q window (qmin=0.8, qmax=26 in Au144PET_100K-00000.gr), the sweep's range and Q damping
    assert (link["xr"], link["qmin"], link["qmax"], link["qdamp"], link["bg"]) == ("2.2,24", "0.8", "26", "0.04",
                                                                                    "none")
    from swaxs_lib.sweep import SweepResult

    fit = db.get_result(SweepResult.from_json(record.result).best.result_id).result["summary"]
    for name, key in (("zoom", "zoom"), ("u_Au", "u"), ("delta2", "delta2")):
        assert float(link[key]) == pytest.approx(fit[name], rel=1e-5)
    assert _compare_rw(link) == shown


def test_relax_hands_compare_the_relaxed_structure_and_its_refit_with_the_same_rw(db):
    dataset = _add_file(db, AU144_GR, "Au144")
    at = run("pages/relax.py", shape="decahedron", p="2", q="1", r="1", ds=dataset, steps="8", every="4")
    [b for b in at.button if b.label == "Start the relaxation"][0].click().run()
    job_id = at.session_state["relax.job"]
    record = _wait(db, job_id)
    from swaxs_lib.relax import decode_positions, frame_key, job_trace

    last = job_trace(record.result).steps[-1]
    assert last.rw is not None
    again = run("pages/relax.py", job=job_id, step=str(last.step))
    shown = metric(again, f"R_w in Compare, step {last.step}")
    assert shown == f"{last.rw:.4f}"
    link = _links(again)["Open this structure in Compare"]
    assert link["c1_shape"] == "upload"
    # the stored structure is the relaxed frame of that step, atom for atom
    stored = db.get_cluster(link["c1_cluster"]).atoms
    assert np.array_equal(stored.positions, decode_positions(db.get_blob(frame_key(job_id, last.step))))
    refined = dict(last.refined)
    assert float(link["zoom"]) == pytest.approx(refined["zoom"], rel=1e-5)
    assert float(link["u"]) == pytest.approx(refined["u_Au"], rel=1e-5, abs=1e-9)
    assert (link["xr"], link["qmin"], link["qmax"]) == ("1.5,30", "0.8", "26")  # the refit's defaults
    assert _compare_rw(link) == shown


# -- a job link restores its page's form (issue 15, item 3) -------------------------------------------

def _start_and_cancel(at: AppTest, button: str, job_key: str, db: Store) -> str:
    """Click the form's start button; cancel the job at once (only its stored settings matter here)."""
    from swaxs_lib.jobs import cancel

    [b for b in at.button if b.label == button][0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    job_id = at.session_state[job_key]
    cancel(db, job_id)
    return job_id


def test_refine_job_link_restores_the_sweep_form_from_the_stored_job(db):
    from swaxs_lib.jobs import get_job

    r = np.linspace(1, 20, 200)
    job_data = add_text_dataset(db, "g1", r, np.sin(r), "one.gr")
    add_text_dataset(db, "g2 (newest, the default)", r, np.cos(r), "two.gr")
    at = run("pages/refine.py", ds=job_data, shape="icosahedron", el="Pt", grid="shells=3..4", xmin="2.5",
             xmax="18", qdamp="0.045", workers="1")
    at.number_input(key="refine.start_delta2").set_value(1.5).run()
    at.number_input(key="refine.high_u").set_value(0.03).run()
    job_id = _start_and_cancel(at, "Start the sweep", "refine.job", db)
    args = get_job(db, job_id).params["args"]
    assert (args["shape"], args["element"], args["grid"]) == ("icosahedron", "Pt", "shells=3..4")

    again = run("pages/refine.py", job=job_id)  # a fresh session: nothing but the link
    assert again.selectbox(key="refine.ds").value == job_data
    assert again.selectbox(key="refine.shape").value == "icosahedron"
    assert again.selectbox(key="refine.el").value == "Pt"
    assert again.text_input(key="refine.grid").value == "shells=3..4"
    assert (again.number_input(key="refine.xmin").value, again.number_input(key="refine.xmax").value) == (2.5, 18.0)
    assert again.number_input(key="refine.qdamp").value == 0.045
    assert again.number_input(key="refine.workers").value == 1
    assert again.number_input(key="refine.start_delta2").value == 1.5
    assert again.number_input(key="refine.high_u").value == 0.03
    assert again.number_input(key="refine.low_u").value is None  # the bound's other side stays the table's
    assert (_query(again, "shape"), _query(again, "xmin")) == ("icosahedron", "2.5")
    # a value the link gives itself wins over the job's
    override = run("pages/refine.py", job=job_id, shape="cuboctahedron")
    assert override.selectbox(key="refine.shape").value == "cuboctahedron"
    assert override.selectbox(key="refine.el").value == "Pt"


def test_refine_crystal_job_link_restores_the_crystal_form(db):
    path = ROOT / "tests/data/ni_srfit/ni-q27r60-xray.gr"
    dataset = _add_file(db, path, "Ni")
    add_text_dataset(db, "newer", np.linspace(1, 20, 200), np.sin(np.linspace(1, 20, 200)), "x.gr")
    at = run("pages/refine.py", ds=dataset, el="Ni", lat="bcc", np="0", xmax="12")
    at.selectbox(key="refine.cadp").set_value("diagonal")
    at.number_input(key="refine.cqmin").set_value(1.0)
    at.toggle(key="refine.cxyz").set_value(False)
    at.toggle(key="refine.cgrid").set_value(True).run()
    at.number_input(key="refine.cp.u.high").set_value(0.004)
    at.checkbox(key="refine.cp.delta2.on").uncheck().run()
    job_id = _start_and_cancel(at, "Refine the crystal model", "refine.cjob", db)

    again = run("pages/refine.py", cjob=job_id)
    assert again.selectbox(key="refine.ds").value == dataset
    assert again.selectbox(key="refine.el").value == "Ni"
    assert again.number_input(key="refine.xmax").value == 12.0
    assert again.session_state["refine.lat"] == "bcc" and again.session_state["refine.np"] is False
    assert again.selectbox(key="refine.cadp").value == "diagonal"
    assert again.number_input(key="refine.cqmin").value == 1.0
    assert again.toggle(key="refine.cxyz").value is False
    assert again.toggle(key="refine.cgrid").value is True
    assert again.number_input(key="refine.cp.u.high").value == 0.004
    assert again.checkbox(key="refine.cp.delta2.on").value is False
    assert again.checkbox(key="refine.cp.u.on").value is True


def test_relax_job_link_restores_the_form_from_the_stored_job(db):
    r = np.linspace(1, 20, 200)
    dataset = add_text_dataset(db, "g1", r, np.sin(r), "one.gr")
    add_text_dataset(db, "g2", r, np.cos(r), "two.gr")
    at = run("pages/relax.py", shape="decahedron", el="Pt", p="3", q="2", r="1", ds=dataset, opt="FIRE",
             fmax="0.1", steps="7", every="3")
    job_id = _start_and_cancel(at, "Start the relaxation", "relax.job", db)

    again = run("pages/relax.py", job=job_id)
    assert again.selectbox(key="relax.shape").value == "decahedron"
    assert again.selectbox(key="relax.el").value == "Pt"
    assert [again.slider(key=f"relax.{n}").value for n in ("p", "q", "r")] == [3, 2, 1]
    assert again.selectbox(key="relax.ds").value == dataset
    assert again.session_state["relax.opt"] == "FIRE"
    assert again.number_input(key="relax.fmax").value == 0.1
    assert again.number_input(key="relax.steps").value == 7
    assert again.number_input(key="relax.every").value == 3


def test_relax_job_link_of_a_stored_structure_restores_the_upload(db):
    from ase.cluster import Icosahedron

    key = db.add_cluster(Icosahedron("Cu", 2))
    at = run("pages/relax.py", shape="upload", cluster=key, steps="5")
    job_id = _start_and_cancel(at, "Start the relaxation", "relax.job", db)
    again = run("pages/relax.py", job=job_id)
    assert again.selectbox(key="relax.shape").value == "upload"
    assert again.session_state["relax.cluster"] == key
    assert again.selectbox(key="relax.ds").value == "none"
    assert again.number_input(key="relax.steps").value == 5


def test_refine_hands_compare_a_sphere_cut_from_a_crystal_as_its_stored_atoms(db):
    """CdSe spheres cut from the wurtzite cif (PDFgui's example) against CdSe-3nm.gr: Compare opens the sphere
    by its stored hash; one U per element refined, Compare holds their mean and the page says so."""
    import swaxs_lib.sweep  # noqa: F401  (registers the sweep task)
    from swaxs_lib.jobs import submit

    dataset = _add_file(db, ROOT / "tests/data/cdse_np_pdfgui/CdSe-3nm.gr", "CdSe 3 nm")
    cif = (ROOT / "tests/data/cdse_np_pdfgui/CdSe-wurtzite.cif").read_text()
    job = submit(db, "sweep", {"dataset_id": dataset, "shape": "sphere", "element": None, "cif_text": cif,
                               "grid": "diameter_angstrom=30", "options": {"x_max": 20.0}, "workers": 1},
                 dataset_id=dataset, label="sweep CdSe spheres")
    _wait(db, job.id)
    again = run("pages/refine.py", job=job.id)
    shown = metric(again, "R_w in Compare")
    link = _links(again)["Open in Compare"]
    assert link["c1_shape"] == "upload" and "c1_el" not in link
    atoms = db.get_cluster(link["c1_cluster"]).atoms
    assert sorted(set(atoms.get_chemical_symbols())) == ["Cd", "Se"]
    assert any("Compare holds one u for every element" in c.value for c in again.caption)
    assert _compare_rw(link) == shown
