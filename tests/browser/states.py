"""Every page of the dashboard in a realistic state, for the browser tests that walk them all.

:func:`realistic_store` fills the test server's store once per session with what a morning of real
work leaves behind: a measured Pt PDF (JQ_S1, with its xPDFsuite header), the measured alumina USAXS
curve, a Debye I(Q) of a 147-atom Au icosahedron; a finished sweep, relaxation and crystal
refinement against the Pt PDF, and an analysis of the Au I(Q).  :func:`page_states` gives each page's link in that state.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from swaxs_lib.io import read_measurement_bytes
from swaxs_lib.store import Store

ROOT = Path(__file__).resolve().parents[2]
PT = ROOT / "tests/data/pt_np_jq_pdf/JQ_S1.gr"
ALUMINA = ROOT / "tests/data/alumina_usaxs/Alumina_usaxs_irena_input.csv"
AGBEH = ROOT / "tests" / "data" / "agbeh_simulated" / "agbeh_simulated.dat"
WAIT_MS = 90_000

_FILLED: dict[str, dict[str, str]] = {}


def realistic_store(app_db: Path) -> dict[str, str]:
    """Ids of the datasets and finished jobs put into ``app_db`` (once per store file)."""
    if str(app_db) in _FILLED:
        return _FILLED[str(app_db)]
    from ase.cluster import Icosahedron

    import swaxs_lib.analyse.pipeline  # noqa: F401 - registers the task
    import swaxs_lib.refine.crystal  # noqa: F401 - registers the task
    import swaxs_lib.relax  # noqa: F401
    import swaxs_lib.sweep  # noqa: F401
    from swaxs_lib.jobs import submit
    from swaxs_lib.scattering import debye_intensity

    db = Store(app_db)

    def add(name: str, raw: bytes, filename: str) -> str:
        return db.add_dataset(name, raw, filename, read_measurement_bytes(raw, filename)).id

    ids = {"pt": add("Pt nanoparticles JQ_S1", PT.read_bytes(), PT.name),
           "alumina": add("Alumina USAXS", ALUMINA.read_bytes(), ALUMINA.name),
           "agbeh": add("Silver behenate (simulated)", AGBEH.read_bytes(), AGBEH.name)}
    q = np.linspace(0.02, 12.0, 600)
    intensity = debye_intensity(Icosahedron("Au", 4), q, mode="exact", b_iso_angstrom2=0.5).intensity
    ids["au147"] = add("Au147 icosahedron, Debye I(Q)", ("# Q (1/A) I\n" + "\n".join(
        f"{a:.8g} {b:.10g}" for a, b in zip(q, intensity)) + "\n").encode(), "au147.dat")
    jobs = {
        "sweep": ("sweep", "sweep Pt icosahedron vs JQ_S1",
                  {"dataset_id": ids["pt"], "shape": "icosahedron", "element": "Pt", "grid": "shells=3..5",
                   "options": {"x_max": 20.0}, "workers": 1}),
        "relax": ("relax", "relax Pt icosahedron shells=4",
                  {"cluster": {"shape": "icosahedron", "element": "Pt", "params": {"shells": 4}},
                   "dataset_id": ids["pt"], "optimizer": "BFGS", "fmax": 0.05, "steps": 8, "refit_every": 4}),
        "crystal": ("crystal", "nanoparticle Pt fcc vs JQ_S1",
                    {"dataset_id": ids["pt"], "element": "Pt", "lattice": "fcc", "nanoparticle": True,
                     "options": {"x_max": 20.0}}),
        "analyse": ("analyse", "analyse Au vs Au147 I(Q)",
                    {"dataset_id": ids["au147"], "element": "Au", "families": ["icosahedron", "decahedron"],
                     "max_per_family": 3, "relax_top": 1, "workers": 1}),
    }
    for name, (task, label, args) in jobs.items():
        record = submit(db, task, args, dataset_id=args["dataset_id"], detach=False, label=label)
        assert record.status == "done", record.message
        ids[name] = record.id
    _FILLED[str(app_db)] = ids
    return ids


def page_states(ids: dict[str, str]) -> dict[str, str]:
    """Screenshot name -> the link (path and query) of a page in a realistic state."""
    def link(path: str, **query: str) -> str:
        return path + ("?" + urlencode(query) if query else "")

    return {
        "home": link("/"),
        "data-pdf": link("/data", ds=ids["pt"]),
        "data-saxs": link("/data", ds=ids["alumina"]),
        "clusters": link("/clusters", shape="icosahedron", el="Pt", shells="4"),
        "compare-pdf": link("/compare", ds=ids["pt"], n="2", c1_shape="icosahedron", c1_el="Pt", c1_shells="5",
                            c2_shape="decahedron", c2_el="Pt", c2_p="3", c2_q="1", c2_r="1"),
        "compare-iq": link("/compare", ds=ids["au147"], n="1", c1_shape="icosahedron", c1_el="Au", c1_shells="4"),
        "refine": link("/refine", ds=ids["pt"], job=ids["sweep"], cjob=ids["crystal"]),
        "relax": link("/relax", job=ids["relax"], step="4"),
        "relax-play": link("/relax", job=ids["relax"], step="4", play="1"),
        "predict": link("/predict", ds=ids["pt"]),
        "analyse": link("/analyse", job=ids["analyse"]),
        "saxs-guinier": link("/saxs", ds=ids["au147"], section="guinier"),
        "saxs-fit": link("/saxs", ds=ids["alumina"], section="fit", f_model="sphere", f_pd="gaussian"),
        "saxs-distribution": link("/saxs", ds=ids["alumina"], section="distribution"),
        "saxs-clusters": link("/saxs", ds=ids["au147"], section="clusters", c_shape="icosahedron", c_sizes="3..5",
                              c_dist="gaussian", c_fit="1"),
        "saxs-indexing": link("/saxs", ds=ids["agbeh"], section="indexing"),
    }


#: True once the script run has finished (``stApp``'s ``data-test-script-state``) and no spinner is left.
_IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app ? app.getAttribute('data-test-script-state') : 'initial';
    return !['initial', 'running', 'rerunRequested'].includes(state)
        && !document.querySelector('[data-testid="stSpinner"], [data-testid="stStatusWidget"]');
}"""


def wait_idle(page, timeout_ms: int = WAIT_MS) -> None:
    """Until Streamlit has finished its run (no spinner left), the plots drawn and the 3D views loaded."""
    for _ in range(2):  # again after a pause: a run may start a rerun (a URL sync, a fragment)
        page.wait_for_function(_IDLE, timeout=timeout_ms)
        page.wait_for_timeout(800)
    for frame in page.frames[1:]:  # the 3D views: their canvas drawn
        try:
            if frame.evaluate("() => !!document.querySelector('script[src*=\"3Dmol\"]')"):
                frame.wait_for_function("() => document.querySelector('canvas') !== null", timeout=20_000)
        except Exception:  # a frame replaced while we looked: the next run draws it again
            pass
    page.wait_for_timeout(700)
