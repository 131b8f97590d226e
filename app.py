"""swaxs dashboard home page (placeholder until the dashboard issue lands)."""

import streamlit as st

import swaxs_lib

st.set_page_config(page_title="swaxs", layout="wide")
st.title("swaxs")
st.write(
    "Size and shape of metal nanoclusters from X-ray scattering. "
    f"Library version {swaxs_lib.__version__}. The dashboard pages are under construction; "
    "the command line `python -m swaxs_lib --help` builds clusters and computes their Debye I(Q) and G(r)."
)
