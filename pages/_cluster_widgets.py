"""Cluster choice widgets shared by the Clusters and Compare pages.

Not a page.  :func:`cluster_controls` draws the shape, element and parameter
widgets (generated from :data:`swaxs_lib.structures.parameters.SHAPE_PARAMETERS`)
bound to URL query parameters named ``slot + name``:

* ``shape`` (a key of ``SHAPES``, or ``upload``), ``el`` (element), ``a``
  (optional lattice constant override, Å);
* the shape's parameters under their builder names: ``shells``; ``p, q, r``;
  ``length, cutoff``; ``diameter_angstrom, lattice``;
* ``cluster``: the store key (hash) of an uploaded structure.

The choice it returns is a plain dict, so that it survives reruns and can be
cached on: ``{"shape", "element", "params"}`` or ``{"shape": "upload", "key",
"name"}``.  :func:`get_cluster` turns it into a
:class:`~swaxs_lib.structures.Cluster`, built once per server.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import streamlit as st

from pages._shared import follow_default, md, md_value, parse_choice, store, url_key
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures import SHAPES, Cluster, build_cluster, describe
from swaxs_lib.structures.elements import check_element, lattice_constant
from swaxs_lib.structures.parameters import (
    LATTICE_CONSTANT,
    SHAPE_PARAMETERS,
    ShapeParameter,
    check_parameters,
    estimated_atom_count,
    supported_elements,
)
from swaxs_lib.structures.readers import FORMATS, read_structure_bytes
from swaxs_lib.structures.sizes import SIZE_DEFINITIONS
from swaxs_lib.viewer import cluster_view_html

UPLOAD = "upload"
SHAPE_LABELS = {
    "icosahedron": "Mackay icosahedron", "decahedron": "Marks decahedron (p, q, r)", "octahedron": "octahedron",
    "cuboctahedron": "cuboctahedron", "truncated-octahedron": "truncated octahedron", "sphere": "bulk-lattice sphere",
    UPLOAD: "upload xyz / cif / pdb",
}
_HASH = re.compile(r"[0-9a-f]{64}")


def _parse_element(text: str) -> str:
    symbol = check_element(text)
    if symbol not in supported_elements():
        raise ValueError(f"expected one of {', '.join(supported_elements())}")
    return symbol


def _parse_cluster_key(text: str) -> str:
    if not _HASH.fullmatch(text):
        raise ValueError("expected a stored cluster's 64-character hash")
    return text


def _number_widget(target, parameter: ShapeParameter, key: str, slider: bool = False) -> None:
    """A number input, slider or selectbox for one table row, its state kept inside the row's bounds."""
    if parameter.kind == "choice":
        target.selectbox(parameter.label, parameter.choices, key=key, help=parameter.help, persist_state="session")
        return
    value = st.session_state.get(key)
    # the same URL name can have other bounds for another shape (length: 2.. vs 3..): clamp on a switch
    if value is not None and not parameter.minimum <= value <= parameter.maximum:
        st.session_state[key] = type(parameter.default)(min(max(value, parameter.minimum), parameter.maximum))
    widget = target.slider if slider else target.number_input
    if parameter.kind == "int":
        widget(parameter.label, min_value=int(parameter.minimum), max_value=int(parameter.maximum),
               step=1, key=key, help=parameter.help, persist_state="session")
    else:
        widget(parameter.label, min_value=float(parameter.minimum), max_value=float(parameter.maximum),
               step=0.5 if slider else 1.0, format="%.1f", key=key, help=parameter.help, persist_state="session")


def cluster_controls(
    page: str, *, slot: str = "", container=None, allow_upload: bool = True, sliders: bool = True,
    element_default: str | None = None,
) -> tuple[dict | None, list[str]]:
    """Draw the widgets that choose a cluster; return the choice and the URL names they use.

    Parameters
    ----------
    page : str
        The page's URL-state prefix (``"clusters"``, ``"compare"``).
    slot : str
        Prefix of the URL names, to have several choices on one page
        (``"c2_"`` gives ``c2_shape``, ``c2_el``, ...).
    container : DeltaGenerator, optional
        Where to draw (a column, the sidebar); the current one by default.
    allow_upload : bool
        Offer ``upload`` as a shape.
    sliders : bool
        Sizes (shells, p, q, r, lengths, diameter) as sliders, stacked; else
        as number inputs side by side.
    element_default : str, optional
        The element the data imply (their file header's, see :func:`swaxs_lib.io.header.header_facts`):
        the Element box follows it until the user (or a link) sets one.  None: Au, fixed.

    Returns
    -------
    choice : dict or None
        ``{"shape": str, "element": str, "params": dict}`` (the builder's
        keyword arguments) or ``{"shape": "upload", "key": str, "name": str}``
        for a structure uploaded into the store; None (an error or a hint is
        shown) while the input is invalid or no file is uploaded yet.
    url_names : list of str
        The query parameters to pass to :func:`pages._shared.sync_url`.
    """
    target = st if container is None else container
    shapes = list(SHAPES) + ([UPLOAD] if allow_upload else [])
    shape_key = url_key(page, slot + "shape", "icosahedron", parse_choice(shapes))
    target.selectbox("Shape", shapes, key=shape_key, format_func=SHAPE_LABELS.get, persist_state="session")
    shape = st.session_state[shape_key]
    names = [slot + "shape"]
    if shape == UPLOAD:
        return _upload_controls(page, slot, target, names)

    element_key = url_key(page, slot + "el", "Au", _parse_element)
    if element_default is not None:
        follow_default(page, slot + "el", element_default if element_default in supported_elements() else "Au")
    target.selectbox("Element", supported_elements(), key=element_key, persist_state="session",
                     help="Au, Ag, Pt, Pd, Cu, Ni first; type to search the others.")
    names.append(slot + "el")
    element = st.session_state[element_key]

    values: dict[str, Any] = {}
    table = SHAPE_PARAMETERS[shape]
    row = target.columns(len(table)) if len(table) > 1 and not sliders else [target] * len(table)
    for cell, parameter in zip(row, table):
        key = url_key(page, slot + parameter.name, parameter.default, parameter.parse)
        _number_widget(cell, parameter, key, slider=sliders)
        values[parameter.name] = st.session_state[key]
        names.append(slot + parameter.name)

    a_key = url_key(page, slot + "a", None, LATTICE_CONSTANT.parse)
    lattice = values.get("lattice", "fcc")
    own = lattice_constant(element, lattice)
    target.number_input(
        f"{LATTICE_CONSTANT.label}, {lattice}", min_value=float(LATTICE_CONSTANT.minimum),
        max_value=float(LATTICE_CONSTANT.maximum), step=0.01, format="%.3f", key=a_key,
        placeholder=f"{element}'s own: {own:.3f}", help=LATTICE_CONSTANT.help + " Leave empty for the element's own.",
        persist_state="session",
    )
    names.append(slot + "a")
    if st.session_state[a_key] is not None:
        values[LATTICE_CONSTANT.name] = st.session_state[a_key]

    try:
        params = check_parameters(shape, values)
        n_atoms = estimated_atom_count(shape, element, params)
    except SwaxsInputError as exc:
        target.error(md(exc), icon=":material/error:")
        return None, names
    target.caption(f"{'≈ ' if shape == 'sphere' else ''}{n_atoms:,} atoms")
    return {"shape": shape, "element": element, "params": params}, names


def _upload_controls(page: str, slot: str, target, names: list[str]) -> tuple[dict | None, list[str]]:
    key_key = url_key(page, slot + "cluster", None, _parse_cluster_key)
    seen_key = f"{page}.{slot}upload_seen"
    uploaded = target.file_uploader(
        "Structure file", type=[s.lstrip(".") for s in FORMATS], key=f"{page}.{slot}upload",
        help="xyz, extended xyz, cif or pdb (at most 20 MB); a crystal's cell is dropped, its atoms kept.",
    )
    if uploaded is not None and st.session_state.get(seen_key) != uploaded.file_id:
        try:
            with warnings.catch_warnings(record=True) as caught:  # atoms suspiciously close, a cell dropped
                warnings.simplefilter("always")
                cluster = read_structure_bytes(uploaded.getvalue(), uploaded.name)
        except SwaxsInputError as exc:
            target.error(md(exc), icon=":material/error:")
            return None, names
        for caution in caught:
            target.warning(md(str(caution.message)), icon=":material/warning:")
        st.session_state[key_key] = store().add_cluster(cluster)
        st.session_state[seen_key] = uploaded.file_id
    key = st.session_state[key_key]
    if key is None:
        target.info("Upload a structure file to view it.", icon=":material/upload_file:")
        return None, names
    names.append(slot + "cluster")
    try:
        cluster = get_cluster({"shape": UPLOAD, "key": key})
    except SwaxsInputError:
        target.error(f"{md(slot)}cluster: no stored cluster {md_value(key, 16)}; upload the file again.", icon=":material/error:")
        return None, names
    name = dict(cluster.info.parameters).get("file", key[:12])
    return {"shape": UPLOAD, "key": key, "name": name}, names


def choice_key(choice: dict) -> tuple:
    """A hashable form of a choice (for caches): shape, element or store key, sorted parameters."""
    if choice["shape"] == UPLOAD:
        return (UPLOAD, choice["key"])
    return (choice["shape"], choice["element"], tuple(sorted(choice.get("params", {}).items())))


@st.cache_resource(max_entries=32, show_spinner="Building the cluster...")
def _cluster(key: tuple) -> Cluster:
    if key[0] == UPLOAD:
        record = store().get_cluster(key[1])
        return Cluster(atoms=record.atoms, info=describe(record.atoms, record.shape or "file", record.parameters))
    shape, element, params = key
    return build_cluster(shape, element, **dict(params))


def cluster_for_key(key: tuple) -> Cluster:
    """:func:`get_cluster` for a :func:`choice_key` (for pages' own caches keyed on it)."""
    return _cluster(key)


def get_cluster(choice: dict) -> Cluster:
    """The cluster a choice describes, built (or loaded from the store) once per server.

    Shared between sessions: do not modify its atoms (copy them first).

    Raises
    ------
    SwaxsInputError
        Parameters the builder rejects, or an upload key not in the store.
    """
    return _cluster(choice_key(choice))


def cluster_file_stem(choice: dict) -> str:
    """A file name stem for a choice: ``Au-decahedron-4-1-2``, ``Pt-sphere-30-fcc``, or the upload's stem."""
    if choice["shape"] == UPLOAD:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(choice.get("name", "structure")).rsplit(".", 1)[0])
        return stem or "structure"
    parts = [choice["element"], choice["shape"]]
    for name, value in choice["params"].items():
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"a{text}" if name == LATTICE_CONSTANT.name else text)
    return "-".join(parts)


@st.cache_data(max_entries=16, show_spinner=False)
def cluster_view(key: tuple, style: str, color_by: str, width: int | str, height: int) -> str:
    """The 3D view's HTML for a cluster (cached, so that the same view does not reload on a rerun);
    ``width="100%"`` fills the frame it is put in."""
    return cluster_view_html(_cluster(key).atoms, style=style, color_by=color_by, width=width, height=height)


def cluster_summary_line(cluster: Cluster) -> str:
    """One line: formula, shape and parameters, atoms, the outer and volume-equivalent diameters in nm."""
    info = cluster.info
    described = ", ".join(f"{name} = {value}" for name, value in info.parameters if name != "file")
    what = f"{info.formula} {info.shape}" + (f" ({described})" if described else "")
    return f"{what}: {info.n_atoms:,} atoms, {_sizes_text(info)}"


def _sizes_text(info) -> str:
    """'2.60 nm outer, 2.21 nm volume-equivalent': the sizes an image and SAXS/PDF compare with."""
    if info.outer_diameter_angstrom is None:
        return "a single atom"
    return (f"{info.outer_diameter_angstrom / 10:.2f} nm outer, "
            f"{info.volume_diameter_angstrom / 10:.2f} nm volume-equivalent")


def cluster_summary(cluster: Cluster, *, container=None) -> None:
    """Metrics of a cluster: atoms, its sizes (swaxs_lib.structures.sizes), radius of gyration, mean NN distance."""
    target = st if container is None else container
    info = cluster.info
    cells = target.columns(5)
    cells[0].metric("Atoms", f"{info.n_atoms:,}", help=f"Formula {info.formula}.")
    outer, volume = info.outer_diameter_angstrom, info.volume_diameter_angstrom
    cells[1].metric("Outer diameter", "–" if outer is None else f"{outer / 10:.2f} nm",
                    help=SIZE_DEFINITIONS["outer_diameter_angstrom"] + ". Extent (atom centre to atom centre) "
                         f"{info.extent_angstrom:.2f} Å.")
    cells[1].caption("–" if volume is None else f"volume-equivalent {volume / 10:.2f} nm",
                     help=SIZE_DEFINITIONS["volume_diameter_angstrom"])
    cells[2].metric("Rg", f"{info.radius_of_gyration_angstrom:.2f} Å",
                    help="Radius of gyration: root-mean-square distance of the atom centres from their centroid "
                         "(unweighted).")
    nn = info.mean_nn_distance_angstrom
    cells[3].metric("Mean bond", "–" if nn is None else f"{nn:.3f} Å",
                    help="Mean nearest-neighbour distance: bonds are pairs closer than 1.12 × the median "
                         "nearest-neighbour distance.")
    a = info.lattice_constant_angstrom
    cells[4].metric("Lattice a", "–" if a is None else f"{a:.3f} Å", help="Bulk lattice constant used to build it.")
