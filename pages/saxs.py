"""SAXS page: Guinier and Porod, model fits, size distributions, cluster models and indexing of a stored I(Q).

Widgets (the dataset; each section's own), then one library call per section
(:mod:`swaxs_lib.saxs`), then rendering.  Each section lives in its own module
(``pages/_saxs_*.py``) with a ``render(dataset_id, measurement)`` and
``URL_NAMES``, the names of its widgets' URL parameters (``url_key("saxs",
name, ...)``; each section prefixes its own so that they stay apart); every
choice lives in the URL.
"""

from __future__ import annotations

import streamlit as st

from pages import _saxs_cluster, _saxs_dist, _saxs_fit, _saxs_guinier, _saxs_index
from pages._shared import (
    KIND_NAMES,
    dataset_key,
    datasets_or_stop,
    entry_guard,
    parse_choice,
    show_url_warnings,
    store,
    sync_url,
    url_key,
)

PAGE = "saxs"
KEEP = {"persist_state": "session"}
#: URL value -> (title, module) of each section, in the order of the section switch.
SECTIONS = {
    "guinier": ("Guinier & Porod", _saxs_guinier),
    "fit": ("Model fit", _saxs_fit),
    "distribution": ("Size distribution", _saxs_dist),
    "clusters": ("Cluster models", _saxs_cluster),
    "indexing": ("Indexing", _saxs_index),
}


@st.cache_resource(max_entries=16, show_spinner=False)
def load_measurement(dataset_id: str):
    """A stored dataset's measurement (datasets never change once stored)."""
    return store().get_dataset(dataset_id).measurement


entry_guard()
st.title("SAXS")
st.caption("Small-angle analysis of a stored I(Q): Guinier and Porod, form-factor fits with polydispersity "
           "(sasmodels), size distributions with their observable window, atomistic clusters as SAXS models, "
           "and lattice indexing of ordered assemblies.")
datasets = [d for d in datasets_or_stop() if d.kind == "iq"]
if not datasets:
    st.info(f"No I(Q) dataset stored yet (this page analyses {KIND_NAMES['iq']}): upload one on the Data page.")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/upload_file:")
    st.stop()
ds_key, labels = dataset_key(PAGE, datasets)
dataset_id = st.selectbox("Dataset", list(labels), key=ds_key, format_func=labels.get, **KEEP)
measurement = load_measurement(dataset_id)
# One section at a time (tabs would compute every section on each rerun); its name is in the URL.
section_key = url_key(PAGE, "section", "guinier", parse_choice(list(SECTIONS)))
section = st.segmented_control("Analysis", list(SECTIONS), key=section_key, format_func=lambda s: SECTIONS[s][0],
                               required=True, **KEEP)
module = SECTIONS[section][1]
module.render(dataset_id, measurement)
show_url_warnings()
sync_url(PAGE, ["ds", "section", *module.URL_NAMES])
