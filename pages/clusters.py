"""Clusters page: build a cluster (or upload one), look at it in 3D, read its size, download it.

Widgets (shared with Compare, in ``pages/_cluster_widgets.py``), then one
library call (build or load), then rendering: metrics, the 3D view (3Dmol.js
served locally from ``static/``), the nearest-neighbour distance and
coordination histograms, downloads.  Every choice lives in the URL.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages._cluster_widgets import (
    choice_key,
    cluster_controls,
    cluster_file_stem,
    cluster_for_key,
    cluster_summary,
    cluster_summary_line,
    cluster_view,
    get_cluster,
)
from pages._shared import (
    download_csv,
    entry_guard,
    md,
    md_value,
    parse_bool,
    parse_choice,
    parse_number,
    plot_config,
    show_url_warnings,
    sync_url,
    url_key,
    url_params,
)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures import (
    coordination_numbers,
    nn_distance_histogram,
    structure_text,
)
from swaxs_lib.viewer import COLOR_BY, STYLES, coordination_color

PAGE = "clusters"
#: Above this many atoms the 3D view (several MB of coordinates in the page) waits for a click.
LARGE_CLUSTER_ATOMS = 50_000
VIEW_HEIGHT_PX = 480
COLOR_LABELS = {"element": "element", "coordination": "coordination number"}


@st.cache_data(max_entries=32, show_spinner=False)
def nn_histogram(key: tuple, bin_width_angstrom: float):
    """The cluster's bond-length histogram (cached per cluster and bin width)."""
    return nn_distance_histogram(cluster_for_key(key).atoms, bin_width_angstrom=bin_width_angstrom)


@st.cache_data(max_entries=32, show_spinner=False)
def coordination_table(key: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Coordination numbers present and how many atoms have each."""
    return np.unique(coordination_numbers(cluster_for_key(key).atoms), return_counts=True)


def compare_link_params(names: list[str]) -> dict[str, str]:
    """This cluster as candidate 1 of the Compare page (``shape`` here is ``c1_shape`` there)."""
    return {f"c1_{name}": value for name, value in url_params(PAGE, names).items()}


def finish(names: list[str]) -> None:
    """Write the URL and stop the script."""
    sync_url(PAGE, names)
    st.stop()


entry_guard()
st.title("Clusters")
st.caption("Icosahedra, Marks decahedra, octahedra and their truncations, bulk-lattice spheres, or your own "
           "xyz/cif/pdb: drag the 3D view to rotate it, scroll to zoom. The link holds every choice.")
warning_box = st.container()
left, right = st.columns([1, 3], gap="medium")

with left:
    st.markdown("**Cluster**")
    choice, names = cluster_controls(PAGE, container=left)
    st.markdown("**View**")
    style_key = url_key(PAGE, "style", "sphere", parse_choice(STYLES))
    st.selectbox("3D style", STYLES, key=style_key, persist_state="session")
    color_key = url_key(PAGE, "color", "element", parse_choice(COLOR_BY))
    st.selectbox("Colour by", COLOR_BY, key=color_key, format_func=COLOR_LABELS.get, persist_state="session")
    bin_key = url_key(PAGE, "bin", 0.02, parse_number(0.002, 0.2))
    st.number_input("NN histogram bin (Å)", min_value=0.002, max_value=0.2, step=0.005, format="%.3f", key=bin_key,
                    persist_state="session")
    names += ["style", "color", "bin"]
with warning_box:
    show_url_warnings()

if choice is None:
    finish(names)
try:
    cluster = get_cluster(choice)
except SwaxsInputError as exc:
    right.error(md(exc), icon=":material/error:")
    finish(names)
key = choice_key(choice)
stem = cluster_file_stem(choice)
info = cluster.info

with right:
    cluster_summary(cluster)
    caption, link = st.columns([5, 2], vertical_alignment="center")
    if info.lattice_constant_angstrom is not None:
        caption.caption(md(cluster_summary_line(cluster)))
    else:
        caption.caption(f"{md(cluster_summary_line(cluster))}; read from {md_value(choice.get('name', 'a file'))}, "
                        f"store key `{choice['key'][:12]}`")
    link.page_link("pages/compare.py", label="Compare with data", icon=":material/compare:",
                   query_params=compare_link_params(names))

    draw = True
    if info.n_atoms > LARGE_CLUSTER_ATOMS:
        draw_key = url_key(PAGE, "draw3d", False, parse_bool)
        st.warning(f"{info.n_atoms:,} atoms: the 3D view sends about {info.n_atoms * 40 / 1e6:.0f} MB to the "
                   "browser and rotates slowly. The numbers and histograms below do not need it.",
                   icon=":material/speed:")
        st.toggle("Draw the 3D view anyway", key=draw_key, persist_state="session")
        names.append("draw3d")
        draw = bool(st.session_state[draw_key])
    if draw:
        with st.spinner("Preparing the 3D view..."):
            html = cluster_view(key, st.session_state[style_key], st.session_state[color_key], "100%",
                                VIEW_HEIGHT_PX)
        st.iframe(html, height=VIEW_HEIGHT_PX)

    columns = st.columns(2)
    hist = nn_histogram(key, float(st.session_state[bin_key]))
    with columns[0]:
        figure = go.Figure(go.Bar(x=hist.distance_angstrom, y=hist.count, width=hist.bin_width_angstrom,
                                  marker_color="#4c78a8", hovertemplate="%{x:.3f} Å: %{y} pairs<extra></extra>"))
        figure.update_layout(title="Nearest-neighbour distances", xaxis_title="distance (Å)",
                             yaxis_title="bonded pairs", height=340, margin=dict(l=10, r=10, t=40, b=10),
                             bargap=0)
        st.plotly_chart(figure, config=plot_config(f"{stem}-nn-distances"), key="nn-plot")
        download_csv("NN distances (CSV)", {"distance_angstrom": hist.distance_angstrom, "n_pairs": hist.count},
                     f"{stem}-nn-distances.csv", key="nn-csv")
    numbers, atoms_with = coordination_table(key)
    with columns[1]:
        figure = go.Figure(go.Bar(x=numbers, y=atoms_with, marker_color=[coordination_color(int(n)) for n in numbers],
                                  hovertemplate="CN %{x}: %{y} atoms<extra></extra>"))
        # the bars have the 3D view's colours
        figure.update_layout(title="Coordination numbers", xaxis_title="coordination number",
                             yaxis_title="atoms", height=340, margin=dict(l=10, r=10, t=40, b=10),
                             xaxis=dict(dtick=1))
        st.plotly_chart(figure, config=plot_config(f"{stem}-coordination"), key="cn-plot")
        download_csv("Coordination numbers (CSV)", {"coordination_number": numbers, "n_atoms": atoms_with},
                     f"{stem}-coordination.csv", key="cn-csv")

    st.markdown("**Download the structure**")
    buttons = st.columns(4)
    atoms = cluster.atoms
    buttons[0].download_button("xyz", lambda: structure_text(atoms, "xyz"), file_name=f"{stem}.xyz",
                               mime="chemical/x-xyz", key="xyz-download", on_click="ignore",
                               icon=":material/download:", help="Extended xyz: symbols and positions (Å).")
    buttons[1].download_button("cif", lambda: structure_text(atoms, "cif"), file_name=f"{stem}.cif",
                               mime="chemical/x-cif", key="cif-download", on_click="ignore",
                               icon=":material/download:",
                               help="P1 box with 10 Å of vacuum around the cluster (a finite cluster, not a crystal).")

finish(names)
