"""swaxs dashboard: home page.

The dashboard pages arrive with the dashboard issue; this page already opens the
store (``data/swaxs.duckdb``, or ``$SWAXS_DB``), creating it if absent, and lists
what it holds.
"""

import pandas as pd
import streamlit as st

import swaxs_lib
from swaxs_lib.store import Store


@st.cache_resource
def store() -> Store:
    """The one store of this server process, shared by all sessions (thread-safe)."""
    return Store()


st.set_page_config(page_title="swaxs", layout="wide")
st.title("swaxs")
st.write(
    "Size and shape of metal nanoclusters from X-ray scattering. "
    f"Library version {swaxs_lib.__version__}. The dashboard pages are under construction; "
    "the command line `python -m swaxs_lib --help` builds clusters, computes their Debye I(Q) and G(r), "
    "and imports measured data into the store."
)
datasets = store().list_datasets()
st.subheader(f"Stored datasets ({len(datasets)})")
if datasets:
    st.dataframe(
        pd.DataFrame(
            [{"id": d.id, "name": d.name, "kind": d.kind, "points": d.n_points, "file": d.filename,
              "uploaded (UTC)": d.created_at.strftime("%Y-%m-%d %H:%M")} for d in datasets]
        ),
        hide_index=True,
    )
else:
    st.caption("None yet: `python -m swaxs_lib import FILE` adds one.")
