"""swaxs dashboard: the page list, the shared sidebar and the home page.

``streamlit run app.py`` opens the store (``data/swaxs.duckdb``, or
``$SWAXS_DB``), creating it if absent.  Pages live in ``pages/`` and hold only
UI; the science is in ``swaxs_lib``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

import swaxs_lib
from pages._shared import datasets_for_viewer, download_csv, page_style, require_viewer, sidebar, store, viewer

PAGES = {
    "data": ("pages/data.py", "Data", ":material/upload_file:",
             "Upload measured I(Q), S(Q) or G(r); preview, subtract a solvent, store, rename, delete."),
    "analyse": ("pages/analyse.py", "Analyse", ":material/auto_awesome:",
                "One button: every motif and size screened, the best refined and relaxed, ranked; mixtures tried."),
    "clusters": ("pages/clusters.py", "Clusters", ":material/hub:",
                 "Build icosahedra, Marks decahedra, octahedra, spheres... or upload xyz/cif; view in 3D."),
    "compare": ("pages/compare.py", "Compare", ":material/compare:",
                "Overlay the Debye I(Q) or G(r) of candidate clusters on your data, live, with R_w."),
    "refine": ("pages/refine.py", "Refine", ":material/tune:",
               "Refine decahedra, icosahedra, spheres... against a PDF or I(Q) in the background; rank by R_w."),
    "relax": ("pages/relax.py", "Relax", ":material/compress:",
              "Relax a cluster with ASE (BFGS + EMT) and follow energy, forces, size and R_w step by step."),
    "saxs": ("pages/saxs.py", "SAXS", ":material/blur_on:",
             "Guinier and Porod, sasmodels form-factor fits, size distributions and lattice indexing of an I(Q)."),
    "predict": ("pages/predict.py", "Predict", ":material/psychology:",
                "Shape, size and element from I(Q) or G(r) by trained models; closest library curves; hand off."),
}


def result_link(record) -> str | None:
    """The view that shows a stored result again (relative to the app's root), or None: a SAXS model fit
    (``f_fit``) or fit job (``f_job``), a Refine sweep or crystal job (``job``, ``cjob``), an analysis (``job``)."""
    from urllib.parse import urlencode

    params = record.params or {}
    if record.kind == "fit" and params.get("page") == "saxs" and "options" in params and record.dataset_id:
        return "saxs?" + urlencode({"ds": record.dataset_id, "section": "fit", "f_fit": record.id})
    task = params.get("task") if record.kind == "job" else None
    if task == "saxs-fit" and record.dataset_id:
        return "saxs?" + urlencode({"ds": record.dataset_id, "section": "fit", "f_job": record.id})
    if task in ("sweep", "crystal"):
        return "refine?" + urlencode({"job" if task == "sweep" else "cjob": record.id})
    if task == "analyse":
        return "analyse?" + urlencode({"job": record.id})
    return None


def home() -> None:
    """The home page: what the tool does, what the store holds, where to go."""
    st.title("swaxs")
    st.markdown(
        "Size and shape of metal nanoclusters (Au, Ag, Pt, Pd, Cu, Ni) from X-ray scattering: "
        "compare measured SAXS/WAXS I(Q) or PDF G(r) with the Debye scattering of atomistic cluster models. "
        f"Library version {swaxs_lib.__version__}; every step also runs from the command line "
        "(`python -m swaxs_lib --help`)."
    )
    cards = list(PAGES.values())
    for row in (cards[:4], cards[4:]):  # two rows: each blurb in a few lines on a laptop
        for column, (path, title, icon, blurb) in zip(st.columns(4), row):
            with column.container(border=True, height="stretch"):
                st.page_link(path, label=title, icon=icon)
                st.caption(blurb)

    from swaxs_lib.access import visible

    db = store()
    datasets = datasets_for_viewer()
    st.subheader(f"Stored datasets ({len(datasets)})")
    if datasets:
        table = {
            "id": [d.id for d in datasets], "name": [d.name for d in datasets], "kind": [d.kind for d in datasets],
            "n_points": [d.n_points for d in datasets], "filename": [d.filename for d in datasets],
            "uploaded_utc": [d.created_at.strftime("%Y-%m-%d %H:%M") for d in datasets],
        }
        st.dataframe(pd.DataFrame(table), hide_index=True)
        download_csv("Datasets (CSV)", table, "swaxs-datasets.csv", key="home-datasets-csv")
    else:
        st.caption("None yet: upload one on the Data page, or `python -m swaxs_lib import FILE`.")

    results = visible(viewer(), db.list_results(limit=200))[:20]
    st.subheader("Recent results")
    if results:
        names = {d.id: d.name for d in datasets}
        table = {
            "id": [r.id for r in results], "kind": [r.kind for r in results], "status": [r.status for r in results],
            "dataset_id": [r.dataset_id or "" for r in results],
            "dataset": [names.get(r.dataset_id, "") for r in results],
            "rw": [r.best_rw() for r in results],
            "summary": [r.message or "" for r in results],
            "updated_utc": [r.updated_at.strftime("%Y-%m-%d %H:%M") for r in results],
        }
        links = [result_link(r) for r in results]
        st.dataframe(pd.DataFrame({**table, "open": links}), hide_index=True,  # what first; the dataset's id last
                     column_order=("id", "kind", "status", "summary", "dataset", "rw", "updated_utc", "open",
                                   "dataset_id"),
                     column_config={"rw": st.column_config.NumberColumn("R_w (best)", format="%.4f"),
                                    "open": st.column_config.LinkColumn("Open", display_text="open")})
        download_csv("Recent results (CSV)", table, "swaxs-results.csv", key="home-results-csv")
    else:
        st.caption("No fits or jobs yet: save a fit on the Compare page, or start a sweep on the Refine page.")


#: The tab's icon, served by this server (a ``:material/...:`` icon is fetched from Google's font host).
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"

st.set_page_config(page_title="swaxs", page_icon=str(FAVICON), layout="wide")
navigation = st.navigation(
    [st.Page(home, title="Home", icon=":material/home:", default=True)]
    + [st.Page(path, title=title, icon=icon, url_path=name) for name, (path, title, icon, _) in PAGES.items()]
)
page_style()
require_viewer()  # a login form, or a stop with the reason, where the server has users and this session none yet
sidebar()
navigation.run()
