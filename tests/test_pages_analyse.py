"""The Analyse page (AppTest, no browser): a finished analysis's link restores the form, ranks, marks the best group,
and hands the best row to Compare with every refined value and the same R_w (issue 15, items 2 and 3).

The data: the real-space G(r) of a 147-atom Au Mackay icosahedron (shells = 4) computed here with
swaxs_lib.models.cluster_gr (expansion 1.01, U 0.008 Å², Q damping 0.03, Q window 0.5–20 1/Å, as in
tests/test_mixture.py), with 1 % band-limited noise.  One small analysis (icosahedra and decahedra, three
of each, the best one relaxed, no ML prior) runs once in this process (``submit(..., detach=False)``).
The truth is known independently of the pipeline: the best candidate must be that icosahedron.  The
R_w Compare shows is computed by the Compare page itself from the link.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st

from swaxs_lib.io import read_measurement_bytes
from swaxs_lib.store import Store
from tests.test_pages import _compare_rw, _links, metric, run

ARGS = {"element": "Au", "families": ["icosahedron", "decahedron"], "relax_top": 1, "max_per_family": 3,
        "workers": 1, "use_prior": False, "alpha": 0.05, "options": {"x_min": 1.5, "x_max": 30.0}}


def au147_gr(noise: float = 0.01, seed: int = 1) -> bytes:
    """The synthetic G(r) file (with a header giving its Q window)."""
    from swaxs_lib.models import cluster_gr
    from swaxs_lib.structures import icosahedron

    atoms = icosahedron("Au", 4).atoms
    r = np.arange(1.0, 35.0 + 1e-9, 0.02)
    g = cluster_gr.model_curve(cluster_gr.histogram_for(atoms, 20.0), r, 0.5, 20.0, zoom=1.01, u=0.008, qdamp=0.03)
    dq = 0.02
    q = np.arange(dq, 20.0 + dq / 2, dq)  # PDF noise is white in Q up to Q_max: band-limited in r
    e = (np.sin(np.outer(r, q)) * dq) @ np.random.default_rng(seed).normal(size=q.size)
    g = g + e * noise * np.abs(g).max() / e.std()
    return ("# synthetic Au147 icosahedron, qmin=0.5 qmax=20\n"
            + "".join(f"{a:.4f} {b:.8g}\n" for a, b in zip(r, g))).encode()


def add(db: Store, name: str, raw: bytes, filename: str) -> str:
    return db.add_dataset(name, raw, filename, read_measurement_bytes(raw, filename)).id


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A store with the synthetic G(r), a newer dataset (the form's default) and the finished analysis."""
    import swaxs_lib.analyse.pipeline  # noqa: F401  (registers the task)
    from swaxs_lib.jobs import submit

    path = tmp_path_factory.mktemp("analyse") / "analyse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SWAXS_DB", str(path))
        st.cache_resource.clear()
        st.cache_data.clear()
        db = Store(path)
        dataset = add(db, "Au147 (synthetic)", au147_gr(), "au147.gr")
        r = np.linspace(1, 20, 200)
        add(db, "newer", ("".join(f"{a:.4f} {b:.6f}\n" for a, b in zip(r, np.sin(r)))).encode(), "newer.gr")
        job = submit(db, "analyse", {"dataset_id": dataset, **ARGS}, dataset_id=dataset, detach=False,
                     label="analyse Au vs Au147 (synthetic)")
        assert job.status == "done", job.message
        yield {"db": db, "dataset": dataset, "job": job}
    st.cache_resource.clear()
    st.cache_data.clear()


def test_the_job_link_restores_the_form_from_the_stored_job(analysed):
    at = run("pages/analyse.py", job=analysed["job"].id)  # a fresh session: nothing but the link
    assert at.selectbox(key="analyse.ds").value == analysed["dataset"]  # not the newest dataset
    assert at.selectbox(key="analyse.el").value == "Au"
    assert at.multiselect(key="analyse.fam").value == ["icosahedron", "decahedron"]
    assert at.number_input(key="analyse.relax").value == 1
    assert at.number_input(key="analyse.maxfam").value == 3
    assert at.number_input(key="analyse.workers").value == 1
    assert at.number_input(key="analyse.xmax").value == 30.0
    assert at.toggle(key="analyse.prior").value is False
    assert at.query_params["fam"] in ("icosahedron,decahedron", ["icosahedron,decahedron"])
    # a value the link gives itself wins over the job's
    override = run("pages/analyse.py", job=analysed["job"].id, relax="2")
    assert override.number_input(key="analyse.relax").value == 2
    assert override.multiselect(key="analyse.fam").value == ["icosahedron", "decahedron"]


def test_the_ranking_marks_the_best_group_and_the_truth_wins(analysed):
    from swaxs_lib.analyse.result import AnalysisResult

    result = AnalysisResult.from_json(analysed["job"].result)
    at = run("pages/analyse.py", job=analysed["job"].id)
    ranking = at.dataframe[0].value
    assert list(ranking["rank"]) == list(range(1, len(result.rows) + 1))
    assert list(ranking["rw"]) == sorted(ranking["rw"])
    # the data are the 147-atom icosahedron: it must rank first (refined or EMT-relaxed)
    best = result.rows[0]
    assert (best.candidate.shape, dict(best.candidate.params)) == ("icosahedron", {"shells": 4})
    assert ranking["label"].iloc[0].startswith("Au icosahedron shells=4")
    marks = ["★ best" if r.rank == 1 else "≈ best" if r.best_group else "" for r in result.rows]
    assert list(ranking["group"]) == marks and marks.count("★ best") == 1
    assert metric(at, "Best group") == f"{len(result.best_group)} of {len(result.rows)}"
    assert metric(at, "R_w (best)") == f"{best.rw:.4f}"
    assert best.label in at.success[0].value
    headings = [s.value for s in at.subheader]
    assert {"Ranking", "Mixture", "Size window and ML prior", "What the data cannot decide"} <= set(headings)
    labels = {link.label for link in at.page_link}
    assert {"Open in Compare", "Sweep around it in Refine", "Relax it in Relax"} <= labels
    # the mixture's test in words, whichever way it went
    words = " ".join(x.value for x in [*at.success, *at.info])
    assert ("A mixture of" if result.mixture.accepted else "No mixture fits significantly better") in words


def test_the_best_row_opens_in_compare_with_every_refined_value_and_the_same_rw(analysed):
    from swaxs_lib.analyse.result import AnalysisResult
    from swaxs_lib.store.fits import read_fit

    result = AnalysisResult.from_json(analysed["job"].result)
    best = result.rows[0]
    at = run("pages/analyse.py", job=analysed["job"].id)
    shown = metric(at, "R_w in Compare")
    assert shown == f"{best.rw:.4f}"
    link = _links(at)["Open in Compare"]
    fit = read_fit(analysed["db"].get_result(best.result_id))
    assert float(link["zoom"]) == pytest.approx(fit.summary["zoom"], rel=1e-5)
    assert float(link["u"]) == pytest.approx(fit.summary["u_Au"], rel=1e-5)
    assert float(link["delta2"]) == pytest.approx(fit.summary["delta2"], rel=1e-5, abs=1e-9)
    assert float(link["qdamp"]) == pytest.approx(fit.summary["qdamp"], rel=1e-5, abs=1e-9)
    # the header's Q window (qmin=0.5, qmax=20) and the analysis's fit range
    assert (link["xr"], link["qmin"], link["qmax"], link["bg"]) == ("1.5,30", "0.5", "20", "none")
    assert _compare_rw(link) == shown
    # the Refine link sweeps the family around the best size, the Relax link relaxes that cluster
    assert _links(at)["Sweep around it in Refine"]["grid"] == "shells=3..5"
    assert {"shape": "icosahedron", "el": "Au", "shells": "4"}.items() <= _links(at)["Relax it in Relax"].items()


def test_a_running_analysis_shows_its_stage_and_a_cancel_button(analysed):
    db = analysed["db"]
    record = db.add_result("job", {"task": "analyse", "args": {"dataset_id": analysed["dataset"], **ARGS},
                                   "label": "analyse (running)"}, status="running",
                           message="analyse (running): screen: Au icosahedron shells=3: refined",
                           result={"progress": {"done": 2, "total": 6, "elapsed_s": 3.0, "remaining_s": 6.0,
                                                "note": "screen: Au icosahedron shells=3: refined"},
                                   "worker": {"pid": os.getpid(), "host": socket.gethostname()},
                                   "heartbeat": time.time()}, dataset_id=analysed["dataset"])
    at = run("pages/analyse.py", job=record.id)
    line = next(m.value for m in at.markdown if "→" in m.value)
    assert ":green[:material/check_circle: window]" in line and ":blue-background[**:material/pending: screen**]" in line
    assert ":gray[refine]" in line
    assert any(b.label == "Cancel" for b in at.button)
    assert any("tab can close" in c.value for c in at.caption)


def test_home_opens_an_analysis_job(analysed):
    at = run("app.py")
    links = [x for x in at.dataframe[1].value["open"] if x]
    assert f"analyse?job={analysed['job'].id}" in links
    assert "Analyse" in {link.label for link in at.page_link}


def test_the_button_submits_the_forms_settings_and_its_link_restores_them(analysed):
    from swaxs_lib.jobs import get_job
    from tests.test_pages import _start_and_cancel

    at = run("pages/analyse.py", ds=analysed["dataset"], el="Pt", fam="octahedron,sphere-fcc", relax="0",
             maxfam="2", prior="0", wlo="10", whi="18", xmax="20", alpha="0.01", workers="1")
    job_id = _start_and_cancel(at, "Analyse", "analyse.job", analysed["db"])
    args = get_job(analysed["db"], job_id).params["args"]
    assert (args["element"], args["families"], args["relax_top"], args["max_per_family"]) == (
        "Pt", ["octahedron", "sphere-fcc"], 0, 2)
    assert (args["window"], args["options"]["x_max"], args["alpha"], args["use_prior"]) == ([10.0, 18.0], 20.0,
                                                                                           0.01, False)
    again = run("pages/analyse.py", job=job_id)
    assert again.selectbox(key="analyse.el").value == "Pt"
    assert again.multiselect(key="analyse.fam").value == ["octahedron", "sphere-fcc"]
    assert (again.number_input(key="analyse.wlo").value, again.number_input(key="analyse.whi").value) == (10.0, 18.0)
    assert again.number_input(key="analyse.alpha").value == 0.01
    assert any("cancelled" in i.value for i in again.info)
