"""Data page: upload measured curves, preview them, subtract a solvent, store, rename, delete.

UI only: reading is :func:`swaxs_lib.io.read_measurement_bytes`, the unit check
:func:`swaxs_lib.io.plausibility.check_x_unit`, views are :mod:`swaxs_lib.views`,
subtraction is :func:`swaxs_lib.corrections.subtract_background`, storage is
:class:`swaxs_lib.store.Store` (:meth:`~swaxs_lib.store.Store.find_identical_dataset`
recognises a file uploaded again).  Each uploaded file has its own reading options (kind,
x unit, wavelength); a file the browser refused (over the size cap) is named in the page
body.  The preview's choices (dataset, view, x range, background and its factors) live in
the URL.  File and dataset names come from users, so they are escaped wherever they go
into markdown.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import PurePath

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages._shared import (
    datasets_for_viewer,
    download_csv,
    entry_guard,
    md,
    md_value,
    owner_name,
    parse_choice,
    parse_id,
    parse_number,
    plot_config,
    plot_text,
    show_url_warnings,
    slug,
    store,
    sync_url,
    url_key,
    viewer,
)
from swaxs_lib.access import can_change, can_open, check_change
from swaxs_lib.corrections import subtract_background
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.window import uncertainty_note
from swaxs_lib.io import MAX_INPUT_BYTES, read_measurement_bytes
from swaxs_lib.io.header import describe_use, header_facts
from swaxs_lib.io.measurement import X_UNITS
from swaxs_lib.io.plausibility import check_x_unit
from swaxs_lib.io.tables import csv_text
from swaxs_lib.views import (
    ALL_VIEWS,
    VIEW_TITLES,
    measurement_columns,
    reader_assumptions,
    view_curve,
    views_for,
)

PAGE = "data"
#: Extensions the uploader accepts (the readers' formats).
UPLOAD_TYPES = ["dat", "txt", "csv", "xy", "xye", "chi", "gr", "sq", "fq", "iq",
                "xml", "h5", "hdf5", "hdf", "nxs", "nx", "nx5"]
KIND_TITLES = {"auto": "from the file", "iq": "I(Q)", "sq": "S(Q)", "fq": "F(Q)", "gr": "G(r)"}
UNIT_TITLES = {"auto": "from the file", "inv_angstrom": "Q in 1/Å", "inv_nm": "Q in 1/nm",
               "two_theta_deg": "2θ in degrees", "angstrom": "r in Å", "nm": "r in nm"}
VIEW_NAMES = ["ds", "view", "xmin", "xmax"]
SUBTRACT_NAMES = ["bg", "scale", "ts", "tb", "thick"]
_FLASH = "data._flash"
_CONFIRM = "data._confirm_delete"
#: The session key of the upload form's "Who may see it" choice.
_SHARE = "data.share_new"
#: Who may see a dataset (swaxs_lib.store VISIBILITIES), in words.
SHARE_LABELS = {"group": "Group (every user)", "link": "By link only", "private": "Private"}
#: Largest upload (MB, as Streamlit counts them: 2**20 bytes): the readers' limit.
UPLOAD_CAP_MB = MAX_INPUT_BYTES // 2**20
#: Finds the files the browser refused (over the size cap) in the uploader and tells the page.
#: Streamlit's uploader checks the size in the browser and never sends such a file, so the server
#: cannot see it; the uploader shows it only as a red chip with the reason on hover.  This script
#: (an st.components.v2 component, run in the page) reads those chips: Streamlit 1.67's
#: ``stFileChip`` with ``aria-invalid`` and its ``role="alert"`` text.  tests/browser/test_upload.py
#: fails if a Streamlit upgrade changes them.
REFUSED_WATCHER_JS = """
export default function (component) {
  const { setStateValue, data } = component;
  let last = JSON.stringify(data.known);
  function scan() {
    const root = document.querySelector(data.selector);
    const chips = root ? root.querySelectorAll('[data-testid="stFileChip"][aria-invalid="true"]') : [];
    const found = Array.from(chips).map((chip) => {
      const name = chip.querySelector('[data-testid="stFileChipName"]');
      const label = chip.getAttribute("aria-label") || "";
      const alert = chip.querySelector('[role="alert"]');
      return {
        name: name ? name.textContent : label.split(", ")[0],
        size: label.includes(", ") ? label.split(", ").pop() : "",
        error: alert ? alert.textContent.replace(/^Error:\\s*/, "") : "",
      };
    });
    const text = JSON.stringify(found);
    if (text !== last) {
      last = text;
      setStateValue("refused", found);
    }
  }
  const observer = new MutationObserver(scan);
  observer.observe(document.body, { childList: true, subtree: true, attributes: true,
                                    attributeFilter: ["aria-invalid"] });
  scan();
  return () => observer.disconnect();
}
"""
refused_watcher = st.components.v2.component("swaxs_refused_uploads", js=REFUSED_WATCHER_JS)


def flash(level: str, text: str) -> None:
    """Queue a message for the next run (callbacks cannot draw)."""
    st.session_state.setdefault(_FLASH, []).append((level, text))


def show_flash() -> None:
    for level, text in st.session_state.pop(_FLASH, []):
        getattr(st, level)(text)


@st.cache_data(max_entries=32, show_spinner=False)
def read_upload(data: bytes, filename: str, kind: str | None, x_unit: str | None, wavelength: float | None):
    """The reader's Measurement for uploaded bytes and what its features say of the unit (cached)."""
    m = read_measurement_bytes(data, filename, kind=kind, x_unit=x_unit, wavelength_angstrom=wavelength)
    return m, check_x_unit(m)


# -- callbacks (run before the next script run, so they may set widget state) -----------------


def save_uploads(items) -> None:
    """Store each (bytes, file name, measurement, name key) upload, unless it is stored already."""
    for data, filename, measurement, name_key in items:
        try:
            existing = store().find_identical_dataset(data, measurement)
            if existing is not None and can_open(viewer(), existing):
                flash("info", f"{md_value(filename)} is already stored, read the same way, as **{md_value(existing.name)}** "
                              f"(`{existing.id}`): not stored again.")
                st.session_state[f"{PAGE}.ds"] = existing.id
                continue
            record = store().add_dataset(st.session_state.get(name_key, ""), data, filename, measurement,
                                         owner=owner_name(), visibility=st.session_state.get(_SHARE, "group"))
        except SwaxsInputError as exc:
            flash("error", md(exc))
            continue
        st.session_state[f"{PAGE}.ds"] = record.id
        flash("success", f"Stored **{md_value(record.name)}** from {md_value(filename)} as `{record.id}`.")


def open_dataset(dataset_id: str) -> None:
    """Show a stored dataset in the preview below."""
    dataset_changed()
    st.session_state[f"{PAGE}.ds"] = dataset_id


def set_reading(file_ids, kind: str, unit: str, wavelength) -> None:
    """Give these files these reading options."""
    for file_id in file_ids:
        st.session_state[f"{PAGE}.read_kind.{file_id}"] = kind
        st.session_state[f"{PAGE}.read_unit.{file_id}"] = unit
        st.session_state[f"{PAGE}.read_wavelength.{file_id}"] = wavelength


def save_subtracted(result, sample_name: str, background_name: str, name_key: str) -> None:
    """Store a subtracted curve; its "uploaded file" is the result as CSV."""
    name = st.session_state.get(name_key, "")
    text = (f"# x_unit: 1/A\n# {sample_name} minus {background_name}\n"
            f"# {dict(result.metadata).get('corrections', '')}\n" + csv_text(measurement_columns(result)))
    filename = f"{slug(sample_name)}-minus-{slug(background_name)}.csv"
    try:
        existing = store().find_identical_dataset(text.encode(), result)
        if existing is not None and can_open(viewer(), existing):
            st.session_state[f"{PAGE}.ds"] = existing.id
            st.session_state[f"{PAGE}.bg"] = None
            flash("info", f"This subtraction is already stored as **{md_value(existing.name)}** (`{existing.id}`).")
            return
        record = store().add_dataset(name, text.encode(), filename, result, owner=owner_name(),
                                     visibility=st.session_state.get(_SHARE, "group"))
    except SwaxsInputError as exc:
        flash("error", md(exc))
        return
    st.session_state[f"{PAGE}.ds"] = record.id
    st.session_state[f"{PAGE}.bg"] = None
    flash("success", f"Stored the subtracted curve as **{md_value(record.name)}** (`{record.id}`).")


def rename(dataset_id: str) -> None:
    try:
        check_change(viewer(), store().get_dataset(dataset_id), "rename", "dataset")
        summary = store().rename_dataset(dataset_id, st.session_state.get(f"{PAGE}.rename_to") or "")
    except SwaxsInputError as exc:
        flash("error", md(exc))
        return
    st.session_state[f"{PAGE}.rename_to"] = ""
    flash("success", f"Renamed to **{md_value(summary.name)}**.")


def share(dataset_id: str) -> None:
    try:
        check_change(viewer(), store().get_dataset(dataset_id), "share", "dataset")
        summary = store().set_dataset_visibility(dataset_id, st.session_state[f"{PAGE}.share_as.{dataset_id}"])
    except SwaxsInputError as exc:
        flash("error", md(exc))
        return
    flash("success", f"**{md(summary.name)}** is now {SHARE_LABELS[summary.visibility].lower()}.")


def ask_delete(dataset_id: str) -> None:
    st.session_state[_CONFIRM] = dataset_id


def cancel_delete() -> None:
    st.session_state.pop(_CONFIRM, None)


def delete(dataset_id: str, name: str) -> None:
    st.session_state.pop(_CONFIRM, None)
    try:
        check_change(viewer(), store().get_dataset(dataset_id), "delete", "dataset")
        store().delete_dataset(dataset_id)
    except SwaxsInputError as exc:
        flash("error", md(exc))
        return
    st.session_state[f"{PAGE}.ds"] = None
    flash("success", f"Deleted **{md_value(name)}** (`{dataset_id}`).")


def dataset_changed() -> None:
    """A new dataset: forget the old one's x range, background and pending delete."""
    for name in ("xmin", "xmax", "bg"):
        st.session_state[f"{PAGE}.{name}"] = None
    st.session_state.pop(_CONFIRM, None)


# -- drawing -------------------------------------------------------------------------------------


def figure(curves, title: str) -> go.Figure:
    """A plotly figure of (label, CurveView) pairs sharing one view's axes."""
    fig = go.Figure()
    for label, view in curves:
        error = None
        if view.y_uncertainty is not None:
            error = dict(type="data", array=view.y_uncertainty, visible=True, thickness=1, width=0)
        fig.add_trace(go.Scatter(x=view.x, y=view.y, error_y=error, name=plot_text(label),
                                 mode="lines" if len(view.x) > 300 else "lines+markers", marker=dict(size=4)))
    first = curves[0][1]
    fig.update_layout(
        title=title, height=460, margin=dict(l=10, r=10, t=40, b=10), showlegend=len(curves) > 1,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        xaxis=dict(title=first.x_label, type="log" if first.x_log else "linear", exponentformat="power"),
        yaxis=dict(title=first.y_label, type="log" if first.y_log else "linear", exponentformat="power"),
    )
    return fig


def describe(m) -> str:
    """One caption line: kind, points, range with its unit, uncertainties."""
    axis, unit = ("Q", "1/Å") if m.domain == "q" else ("r", "Å")
    sigma = "with" if m.uncertainties is not None else "no"
    return (f"{KIND_TITLES[m.kind]} · {m.n_points} points · {axis} {m.x[0]:.4g}–{m.x[-1]:.4g} {unit} · "
            f"{sigma} uncertainties · x unit in file: {UNIT_TITLES.get(m.x_unit, m.x_unit)}")


def refused_uploads() -> list[dict]:
    """The files the browser refused to upload (name, size, reason), as the uploader's chips say."""
    key = f"{PAGE}.refused"
    known = (st.session_state.get(key) or {}).get("refused") or []
    result = refused_watcher(key=key, data={"selector": f".st-key-{PAGE}-upload", "known": known},
                             default={"refused": []}, on_refused_change=lambda: None)
    return list(getattr(result, "refused", None) or [])


def show_refused(refused) -> None:
    """Say in the page body why each refused file was not uploaded."""
    for chip in refused:
        name, size, reason = md(chip.get("name", "?")), md(chip.get("size", "")), md(chip.get("error", ""))
        text = f"**{name}**{f' ({size})' if size else ''} was not uploaded: {reason or 'the browser refused it'}"
        if "or smaller" in reason or not reason:
            text += (f" Files are read up to {UPLOAD_CAP_MB} MB each, here and on the command line: keep the "
                     "Q or r range you need, or fewer columns, and upload that.")
        st.error(text + " Remove it from the list above with its ✕.", icon=":material/block:")


def reading_options(file_id: str, all_ids: list[str]) -> tuple[str | None, str | None, float | None]:
    """This file's kind, x unit and wavelength (None: what the file says)."""
    keys = [f"{PAGE}.read_{name}.{file_id}" for name in ("kind", "unit", "wavelength")]
    columns = st.columns([2, 2, 2, 1.4] if len(all_ids) > 1 else [1, 1, 1], vertical_alignment="bottom")
    kind = columns[0].selectbox("Kind", list(KIND_TITLES), format_func=KIND_TITLES.get, key=keys[0])
    unit = columns[1].selectbox("x unit", ["auto", *X_UNITS], format_func=UNIT_TITLES.get, key=keys[1])
    wavelength = columns[2].number_input("Wavelength (Å), for 2θ", min_value=0.001, max_value=100.0, value=None,
                                         format="%.5f", key=keys[2],
                                         help="Used to convert 2θ to Q; headers often state it.")
    if len(all_ids) > 1:
        others = [i for i in all_ids if i != file_id]
        columns[3].button("Use for all files", key=f"{PAGE}.read_all.{file_id}", on_click=set_reading,
                          args=(others, kind, unit, wavelength), icon=":material/content_copy:",
                          help="Give every uploaded file these reading options.")
    return (None if kind == "auto" else kind, None if unit == "auto" else unit, wavelength)


def upload_card(upload, all_ids: list[str], by_sha: dict) -> tuple[tuple | None, bool]:
    """One uploaded file: its reading options, what was read, checks, preview and Save.

    Returns the item to save (None when unreadable or stored already) and whether the unit check doubts it.
    """
    data = upload.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    file_id = upload.file_id
    with st.container(border=True):
        st.markdown(f"**{md_value(upload.name)}** · {len(data):,} bytes · sha256 `{sha[:16]}…`")
        kind, unit, wavelength = reading_options(file_id, all_ids)
        try:
            m, check = read_upload(data, upload.name, kind, unit, wavelength)
        except SwaxsInputError as exc:
            st.error(f"**{md_value(upload.name)} could not be read.** {md(exc)}  \nIf the reading options above do not "
                     "fit the file, change them; otherwise correct the file and upload it again.",
                     icon=":material/error:")
            return None, False
        unit_note = [p for p in m.metadata if p[0] == "x_unit_assumed"]
        for note in reader_assumptions(dataclasses.replace(m, metadata=tuple(p for p in m.metadata
                                                                             if p not in unit_note))):
            st.info(md(note) + " (Kind, above.)", icon=":material/info:")
        if check.message:
            (st.warning if check.warn else st.info)(md(check.message), icon=":material/straighten:")
        if check.suggested_x_unit is not None:
            st.button(f"Read it with {UNIT_TITLES[check.suggested_x_unit]}", key=f"{PAGE}.fix_unit.{file_id}",
                      on_click=set_reading, args=([file_id], kind or "auto", check.suggested_x_unit, wavelength),
                      icon=":material/auto_fix_high:")
        st.caption(md(describe(m)))
        existing = store().find_identical_dataset(data, m) if sha in by_sha else None
        if existing is None and sha in by_sha:
            other = by_sha[sha]
            st.caption(f"The same bytes are stored as {md_value(other.name)} (`{other.id}`), read differently "
                       f"({KIND_TITLES[other.kind]}, {UNIT_TITLES.get(other.x_unit, other.x_unit)}); saving stores "
                       "this reading as another dataset.")
        views = views_for(m.kind)
        preview_key = f"{PAGE}.upload_view.{file_id}"
        if len(views) > 1:
            chosen = st.segmented_control("Preview", views, format_func=VIEW_TITLES.get, key=preview_key,
                                          default=views[0]) or views[0]
        else:
            chosen = views[0]
        view = view_curve(m, chosen)
        stem = slug(PurePath(upload.name).stem)
        st.plotly_chart(figure([(upload.name, view)], ""), config=plot_config(stem),
                        key=f"{PAGE}.upload_plot.{file_id}")
        if existing is not None:
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.info(f"**Already stored**, read the same way, as **{md_value(existing.name)}** (`{existing.id}`), "
                      f"uploaded {existing.created_at:%Y-%m-%d %H:%M} UTC: it is not stored twice.",
                      icon=":material/inventory_2:")
            right.button("Open it", key=f"{PAGE}.open.{file_id}", on_click=open_dataset, args=(existing.id,),
                         icon=":material/open_in_new:", type="primary")
            return None, False
        name_key = f"{PAGE}.upload_name.{file_id}"
        left, middle, right = st.columns([3, 1, 1], vertical_alignment="bottom")
        left.text_input("Name in the store", value=PurePath(upload.name).stem, key=name_key, max_chars=200)
        with middle:
            download_csv("Preview (CSV)", view.columns(), f"{stem}-{view.view}.csv",
                         key=f"{PAGE}.upload_csv.{file_id}")
        item = (data, upload.name, m, name_key)
        doubtful = check.verdict == "implausible"
        right.button("Save as read" if doubtful else "Save to store", key=f"{PAGE}.save.{file_id}",
                     on_click=save_uploads, args=([item],), icon=":material/save:",
                     type="secondary" if doubtful else "primary",
                     help="The unit check above doubts this reading." if doubtful else None)
        return item, doubtful


def upload_section(summaries) -> None:
    st.header("Upload")
    files = st.file_uploader(
        "Measured curves: drag and drop one or more files",
        type=UPLOAD_TYPES, accept_multiple_files=True, key=f"{PAGE}.upload", max_upload_size=UPLOAD_CAP_MB,
        help=f"Column text, PDFgetX .gr/.sq/.fq/.iq, pyFAI/Fit2D .chi, canSAS XML, NXcanSAS HDF5; "
             f"at most {UPLOAD_CAP_MB} MB each.",
    )
    refused = refused_uploads()
    show_refused(refused)
    if not files:
        if not refused:
            st.caption(f"Nothing uploaded yet (at most {UPLOAD_CAP_MB} MB per file). Or from a shell: "
                       "`python -m swaxs_lib import FILE`.")
        return
    if len(files) > 1:
        st.caption("Each file is read with its own options: kind and x unit come from the file unless you set them.")
    if owner_name():  # a server with users: each upload is its owner's, seen by whom the owner chooses
        st.selectbox("Who may see what you save", list(SHARE_LABELS), format_func=SHARE_LABELS.get, key=_SHARE,
                     help="Private: you (and admins). By link: whoever you send its link; not listed. "
                          "Group: every user of this server. You can change it later.")
    by_sha = {d.raw_sha256: d for d in summaries}
    all_ids = [upload.file_id for upload in files]
    cards = [(upload.name, upload_card(upload, all_ids, by_sha)) for upload in files]
    readable = [item for _, (item, _) in cards if item is not None]
    doubtful = [name for name, (item, doubt) in cards if item is not None and doubt]
    if len(readable) > 1:
        if doubtful:
            st.caption(f"The unit check doubts the reading of {md(', '.join(doubtful))} (see above); "
                       "Save all stores it as read.")
        st.button(f"Save all {len(readable)} new files", key=f"{PAGE}.save_all", on_click=save_uploads,
                  args=(readable,), icon=":material/library_add:")


def datasets_table(summaries) -> None:
    table = {
        "id": [d.id for d in summaries], "name": [d.name for d in summaries], "kind": [d.kind for d in summaries],
        "owner": [d.owner for d in summaries], "shared_with": [d.visibility for d in summaries],
        "n_points": [d.n_points for d in summaries], "filename": [d.filename for d in summaries],
        "n_bytes": [d.n_bytes for d in summaries],
        "uploaded_utc": [d.created_at.strftime("%Y-%m-%d %H:%M") for d in summaries],
    }
    st.dataframe(pd.DataFrame(table), hide_index=True)
    download_csv("Datasets (CSV)", table, "swaxs-datasets.csv", key=f"{PAGE}.datasets_csv")


def subtraction_controls(record, summaries):
    """Background choice and factors; returns (background record or None, options)."""
    candidates = {d.id: d for d in summaries if d.kind == record.measurement.kind and d.id != record.id}
    bg_key = f"{PAGE}.bg"
    if st.session_state.get(bg_key) is not None and st.session_state[bg_key] not in candidates:
        st.warning(f"Background “{md_value(st.session_state[bg_key])}” is not a stored {KIND_TITLES[record.measurement.kind]} "
                   "dataset other than this one; choose another.")
        st.session_state[bg_key] = None
    with st.expander("Subtract a solvent or background", expanded=st.session_state.get(bg_key) is not None,
                     icon=":material/remove:"):
        if not candidates:
            st.caption(f"Store another {KIND_TITLES[record.measurement.kind]} dataset (the solvent) to subtract it.")
            return None, {}
        st.selectbox("Background (solvent) dataset", list(candidates), index=None, key=bg_key, persist_state="session",
                     format_func=lambda i: f"{candidates[i].name} · {i}", placeholder="none")
        a, b, c, d = st.columns(4)
        a.number_input("Factor on the background", min_value=0.0, max_value=1e6, step=0.01, format="%.4g",
                       key=f"{PAGE}.scale", persist_state="session", help="e.g. the solvent volume fraction")
        b.number_input("Sample transmission", min_value=1e-6, max_value=1.0, value=None, format="%.4g",
                       key=f"{PAGE}.ts", persist_state="session", help="T_s in (0, 1]; empty means 1")
        c.number_input("Background transmission", min_value=1e-6, max_value=1.0, value=None, format="%.4g",
                       key=f"{PAGE}.tb", persist_state="session", help="T_b in (0, 1]; empty means 1")
        d.number_input("Sample thickness (cm)", min_value=1e-6, max_value=100.0, value=None, format="%.4g",
                       key=f"{PAGE}.thick", persist_state="session", help="Empty: no division; given: the result is per cm")
        st.caption("I(Q) = [I_s/T_s − factor · I_b/T_b] / d, the background interpolated onto the sample's Q "
                   "points inside their overlap; uncertainties add in quadrature.")
    bg_id = st.session_state.get(bg_key)
    if bg_id is None:
        return None, {}
    options = dict(scale=st.session_state[f"{PAGE}.scale"], sample_transmission=st.session_state[f"{PAGE}.ts"],
                   background_transmission=st.session_state[f"{PAGE}.tb"],
                   thickness_cm=st.session_state[f"{PAGE}.thick"])
    return store().get_dataset(bg_id), options


def preview_section(record, summaries) -> bool:
    """Preview one stored dataset; returns whether a subtraction is shown."""
    m = record.measurement
    st.subheader(md_value(record.name))
    st.caption(f"{md(describe(m))} · file {md_value(record.filename)} · uploaded "
               f"{record.created_at:%Y-%m-%d %H:%M} UTC · id `{record.id}`")
    facts = header_facts(m)
    window = facts.q_range_inv_angstrom if m.domain == "r" else None
    if said := describe_use(facts, elements=[facts.element] if facts.element else [],
                            q_min_inv_angstrom=window and window[0], q_max_inv_angstrom=window and window[1]):
        st.caption(md(said) + " Compare, Refine, Relax and Predict use what it gives where you set nothing else.")
    if note := uncertainty_note(m):
        st.info(md(note), icon=":material/info:")

    views = views_for(m.kind)
    view_key = f"{PAGE}.view"
    if st.session_state.get(view_key) not in views:
        st.session_state[view_key] = views[0]
    axis, unit = ("Q", "1/Å") if m.domain == "q" else ("r", "Å")
    left, middle, right = st.columns([2, 1, 1])
    left.selectbox("View", views, format_func=VIEW_TITLES.get, key=view_key, disabled=len(views) == 1, persist_state="session")
    middle.number_input(f"{axis} min ({unit})", min_value=0.0, max_value=1e6, value=None, format="%.5g",
                        key=f"{PAGE}.xmin", persist_state="session", placeholder=f"{m.x[0]:.5g}")
    right.number_input(f"{axis} max ({unit})", min_value=0.0, max_value=1e6, value=None, format="%.5g",
                       key=f"{PAGE}.xmax", persist_state="session", placeholder=f"{m.x[-1]:.5g}")
    x_min, x_max = st.session_state[f"{PAGE}.xmin"], st.session_state[f"{PAGE}.xmax"]

    background, options = (None, {}) if m.domain != "q" else subtraction_controls(record, summaries)
    try:
        view = view_curve(m, st.session_state[view_key], x_min=x_min, x_max=x_max)
    except SwaxsInputError as exc:
        st.error(md(exc), icon=":material/error:")
        return background is not None
    curves = [(record.name, view)]
    result = result_view = None
    if background is not None:
        try:
            result = subtract_background(m, background.measurement, **options)
            curves.append((f"background: {background.name}",
                           view_curve(background.measurement, view.view, x_min=x_min, x_max=x_max)))
            result_view = view_curve(result, view.view, x_min=x_min, x_max=x_max)
            curves.append(("subtracted", result_view))
        except SwaxsInputError as exc:
            st.error(md(exc), icon=":material/error:")
            result = None
    stem = slug(record.name)
    st.plotly_chart(figure(curves, ""), config=plot_config(f"{stem}-{view.view}"), key=f"{PAGE}.plot")
    dropped = [f"{n} point(s) of {label}" for label, v in curves if (n := v.n_dropped)]
    if dropped:
        st.caption(f"Not shown on the log axis (value ≤ 0): {md(', '.join(dropped))}.")
    cols = st.columns(3)
    with cols[0]:
        download_csv("Plotted curve (CSV)", view.columns(), f"{stem}-{view.view}.csv", key=f"{PAGE}.curve_csv")
    with cols[1]:
        download_csv("Dataset in 1/Å or Å (CSV)", measurement_columns(m), f"{stem}.csv", key=f"{PAGE}.data_csv")
    with cols[2]:
        st.download_button("Uploaded file, as received", record.raw_bytes, file_name=slug(record.filename),
                           key=f"{PAGE}.raw", on_click="ignore", icon=":material/download:")

    if result is not None:
        st.markdown("**Subtracted curve**")
        left, middle, right = st.columns([3, 1, 1], vertical_alignment="bottom")
        name_key = f"{PAGE}.sub_name.{record.id}.{background.id}"
        left.text_input("Name of the subtracted dataset", value=f"{record.name} minus {background.name}",
                        key=name_key, max_chars=200)
        with middle:
            download_csv("Subtracted (CSV)", result_view.columns(), f"{stem}-minus-{slug(background.name)}.csv",
                         key=f"{PAGE}.sub_csv")
        right.button("Save as new dataset", key=f"{PAGE}.save_sub", on_click=save_subtracted,
                     args=(result, record.name, background.name, name_key), icon=":material/save:", type="primary")

    with st.expander("File header and reader notes", icon=":material/description:"):
        if m.header:
            st.code("\n".join(m.header), language=None)
        if m.metadata:
            facts = {"fact": [k for k, _ in m.metadata], "value": [v for _, v in m.metadata]}
            st.dataframe(pd.DataFrame(facts), hide_index=True)
            download_csv("Reader notes (CSV)", facts, f"{stem}-reader-notes.csv", key=f"{PAGE}.notes_csv")

    if not can_change(viewer(), record):
        st.caption(f"Stored by {md(record.owner) or 'the group'}: only its owner or an admin may rename, share or "
                   "delete it.")
        return result is not None or background is not None
    with st.expander("Rename, share or delete", icon=":material/edit:"):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        st.session_state.setdefault(f"{PAGE}.share_as.{record.id}", record.visibility)  # per dataset: its own
        left.selectbox("Who may see it", list(SHARE_LABELS), format_func=SHARE_LABELS.get,
                       key=f"{PAGE}.share_as.{record.id}",
                       help="Private: you (and admins). By link: whoever you send its link; not listed. "
                            "Group: every user of this server.")
        right.button("Share", key=f"{PAGE}.share", on_click=share, args=(record.id,), icon=":material/share:")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.text_input("New name", key=f"{PAGE}.rename_to", placeholder=record.name, max_chars=200)
        right.button("Rename", key=f"{PAGE}.rename", on_click=rename, args=(record.id,), icon=":material/edit:")
        if st.session_state.get(_CONFIRM) == record.id:
            st.warning(f"Delete **{md_value(record.name)}** (`{record.id}`) and its uploaded file? This cannot be undone; "
                       "saved results that name it keep its id.", icon=":material/warning:")
            yes, no = st.columns(2)
            yes.button("Yes, delete", key=f"{PAGE}.delete_yes", on_click=delete, args=(record.id, record.name),
                       type="primary", icon=":material/delete_forever:")
            no.button("Cancel", key=f"{PAGE}.delete_no", on_click=cancel_delete)
        else:
            st.button("Delete…", key=f"{PAGE}.delete", on_click=ask_delete, args=(record.id,),
                      icon=":material/delete:")
    return result is not None or background is not None


def stored_section(summaries) -> list[str]:
    """The table and the preview; returns the names of the settings that belong in the URL.

    The view and x range only while a dataset is previewed (a link must not say ``view=log-log``
    beside an upload's G(r)), the subtraction only while one is set up.
    """
    st.header(f"Stored datasets ({len(summaries)})")
    show_flash()
    if not summaries:
        st.caption("None yet: upload a file above, or `python -m swaxs_lib import FILE`.")
        return []
    datasets_table(summaries)
    by_id = {d.id: d for d in summaries}
    ds_key = f"{PAGE}.ds"
    wanted = st.session_state.get(ds_key)
    if wanted is not None and wanted not in by_id:
        st.warning(f"Dataset “{md_value(wanted)}” is not in this store (deleted, or the link is from another store); "
                   "choose one below.", icon=":material/warning:")
        st.session_state[ds_key] = None
    st.selectbox("Dataset to preview", list(by_id), index=None, key=ds_key, on_change=dataset_changed, persist_state="session",
                 format_func=lambda i: f"{by_id[i].name} · {by_id[i].kind} · {by_id[i].n_points} points · {i}",
                 placeholder="Choose a dataset")
    dataset_id = st.session_state[ds_key]
    if dataset_id is None:
        return []
    try:
        record = store().get_dataset(dataset_id)
    except SwaxsInputError as exc:  # deleted by someone else since the list was read
        st.warning(md(exc), icon=":material/warning:")
        return []
    return VIEW_NAMES + (SUBTRACT_NAMES if preview_section(record, summaries) else [])


# -- the page ------------------------------------------------------------------------------------

entry_guard()
st.title("Data")
url_key(PAGE, "ds", None, parse_id)
url_key(PAGE, "view", ALL_VIEWS[0], parse_choice(ALL_VIEWS))
url_key(PAGE, "xmin", None, parse_number(0.0, 1e6))
url_key(PAGE, "xmax", None, parse_number(0.0, 1e6))
url_key(PAGE, "bg", None, parse_id)
url_key(PAGE, "scale", 1.0, parse_number(0.0, 1e6))
url_key(PAGE, "ts", None, parse_number(1e-6, 1.0))
url_key(PAGE, "tb", None, parse_number(1e-6, 1.0))
url_key(PAGE, "thick", None, parse_number(1e-6, 100.0))
show_url_warnings()

summaries_now = datasets_for_viewer()
upload_section(summaries_now)
st.divider()
sync_url(PAGE, stored_section(summaries_now))
