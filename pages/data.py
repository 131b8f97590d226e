"""Data page: upload measured curves, preview them, subtract a solvent, store, rename, delete.

UI only: reading is :func:`swaxs_lib.io.read_measurement_bytes`, views are
:mod:`swaxs_lib.views`, subtraction is :func:`swaxs_lib.corrections.subtract_background`,
storage is :class:`swaxs_lib.store.Store`.  The preview's choices (dataset, view,
x range, background and its factors) live in the URL.  File and dataset names come
from users, so they are escaped wherever they go into markdown.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages._shared import (
    download_csv,
    entry_guard,
    md,
    parse_choice,
    parse_id,
    parse_number,
    plot_config,
    show_url_warnings,
    slug,
    store,
    sync_url,
    url_key,
)
from swaxs_lib.corrections import subtract_background
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import MAX_INPUT_BYTES, read_measurement_bytes
from swaxs_lib.io.header import describe_use, header_facts
from swaxs_lib.io.measurement import X_UNITS
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
def flash(level: str, text: str) -> None:
    """Queue a message for the next run (callbacks cannot draw)."""
    st.session_state.setdefault(_FLASH, []).append((level, text))


def show_flash() -> None:
    for level, text in st.session_state.pop(_FLASH, []):
        getattr(st, level)(text)


@st.cache_data(max_entries=32, show_spinner=False)
def read_upload(data: bytes, filename: str, kind: str | None, x_unit: str | None, wavelength: float | None):
    """The reader's Measurement for uploaded bytes (cached by content and options)."""
    return read_measurement_bytes(data, filename, kind=kind, x_unit=x_unit, wavelength_angstrom=wavelength)


# -- callbacks (run before the next script run, so they may set widget state) -----------------


def save_uploads(items) -> None:
    """Store each (bytes, file name, measurement, name key) upload."""
    for data, filename, measurement, name_key in items:
        try:
            record = store().add_dataset(st.session_state.get(name_key, ""), data, filename, measurement)
        except SwaxsInputError as exc:
            flash("error", md(exc))
            continue
        st.session_state[f"{PAGE}.ds"] = record.id
        flash("success", f"Stored **{md(record.name)}** from {md(filename)} as `{record.id}`.")


def save_subtracted(result, sample_name: str, background_name: str, name_key: str) -> None:
    """Store a subtracted curve; its "uploaded file" is the result as CSV."""
    name = st.session_state.get(name_key, "")
    text = (f"# x_unit: 1/A\n# {sample_name} minus {background_name}\n"
            f"# {dict(result.metadata).get('corrections', '')}\n" + csv_text(measurement_columns(result)))
    filename = f"{slug(sample_name)}-minus-{slug(background_name)}.csv"
    try:
        record = store().add_dataset(name, text.encode(), filename, result)
    except SwaxsInputError as exc:
        flash("error", md(exc))
        return
    st.session_state[f"{PAGE}.ds"] = record.id
    st.session_state[f"{PAGE}.bg"] = None
    flash("success", f"Stored the subtracted curve as **{md(record.name)}** (`{record.id}`).")


def rename(dataset_id: str) -> None:
    try:
        summary = store().rename_dataset(dataset_id, st.session_state.get(f"{PAGE}.rename_to") or "")
    except SwaxsInputError as exc:
        flash("error", md(exc))
        return
    st.session_state[f"{PAGE}.rename_to"] = ""
    flash("success", f"Renamed to **{md(summary.name)}**.")


def ask_delete(dataset_id: str) -> None:
    st.session_state[_CONFIRM] = dataset_id


def cancel_delete() -> None:
    st.session_state.pop(_CONFIRM, None)


def delete(dataset_id: str, name: str) -> None:
    st.session_state.pop(_CONFIRM, None)
    try:
        store().delete_dataset(dataset_id)
    except SwaxsInputError as exc:
        flash("error", md(exc))
        return
    st.session_state[f"{PAGE}.ds"] = None
    flash("success", f"Deleted **{md(name)}** (`{dataset_id}`).")


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
        fig.add_trace(go.Scatter(x=view.x, y=view.y, error_y=error, name=label,
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


def upload_section(summaries) -> None:
    st.header("Upload")
    files = st.file_uploader(
        "Measured curves: drag and drop one or more files",
        type=UPLOAD_TYPES, accept_multiple_files=True, key=f"{PAGE}.upload",
        help=f"Column text, PDFgetX .gr/.sq/.fq/.iq, pyFAI/Fit2D .chi, canSAS XML, NXcanSAS HDF5; "
             f"at most {MAX_INPUT_BYTES // 2**20} MB each.",
    )
    with st.expander("Reading options, for files that do not say", icon=":material/tune:"):
        left, middle, right = st.columns(3)
        kind = left.selectbox("Kind", list(KIND_TITLES), format_func=KIND_TITLES.get, key=f"{PAGE}.read_kind")
        unit = middle.selectbox("x unit", ["auto", *X_UNITS], format_func=UNIT_TITLES.get, key=f"{PAGE}.read_unit")
        wavelength = right.number_input("Wavelength (Å), for 2θ", min_value=0.001, max_value=100.0, value=None,
                                        format="%.5f", key=f"{PAGE}.read_wavelength",
                                        help="Used to convert 2θ to Q; headers often state it.")
        st.caption("These apply to every uploaded file and override what a file's header says.")
    if not files:
        st.caption("Nothing uploaded yet. Or from a shell: `python -m swaxs_lib import FILE`.")
        return
    by_sha = {d.raw_sha256: d for d in summaries}
    readable = []
    for upload in files:
        data = upload.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        with st.container(border=True):
            st.markdown(f"**{md(upload.name)}** · {len(data):,} bytes · sha256 `{sha[:16]}…`")
            try:
                m = read_upload(data, upload.name, None if kind == "auto" else kind,
                                None if unit == "auto" else unit, wavelength)
            except SwaxsInputError as exc:
                st.error(md(exc), icon=":material/error:")
                continue
            for note in reader_assumptions(m):
                st.info(md(note) + " (Reading options, above.)", icon=":material/info:")
            st.caption(describe(m))
            if sha in by_sha:
                st.caption(f"These bytes are already stored as {md(by_sha[sha].name)} (`{by_sha[sha].id}`).")
            views = views_for(m.kind)
            preview_key = f"{PAGE}.upload_view.{upload.file_id}"
            if len(views) > 1:
                chosen = st.segmented_control("Preview", views, format_func=VIEW_TITLES.get, key=preview_key,
                                              default=views[0]) or views[0]
            else:
                chosen = views[0]
            view = view_curve(m, chosen)
            stem = slug(PurePath(upload.name).stem)
            st.plotly_chart(figure([(upload.name, view)], ""), config=plot_config(stem),
                            key=f"{PAGE}.upload_plot.{upload.file_id}")
            name_key = f"{PAGE}.upload_name.{upload.file_id}"
            left, middle, right = st.columns([3, 1, 1], vertical_alignment="bottom")
            left.text_input("Name in the store", value=PurePath(upload.name).stem, key=name_key, max_chars=200)
            with middle:
                download_csv("Preview (CSV)", view.columns(), f"{stem}-{view.view}.csv",
                             key=f"{PAGE}.upload_csv.{upload.file_id}")
            item = (data, upload.name, m, name_key)
            right.button("Save to store", key=f"{PAGE}.save.{upload.file_id}", on_click=save_uploads, args=([item],),
                         icon=":material/save:", type="primary")
            readable.append(item)
    if len(readable) > 1:
        st.button(f"Save all {len(readable)} readable files", key=f"{PAGE}.save_all", on_click=save_uploads,
                  args=(readable,), icon=":material/library_add:")


def datasets_table(summaries) -> None:
    table = {
        "id": [d.id for d in summaries], "name": [d.name for d in summaries], "kind": [d.kind for d in summaries],
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
        st.warning(f"Background `{st.session_state[bg_key]}` is not a stored {KIND_TITLES[record.measurement.kind]} "
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
    st.subheader(md(record.name))
    st.caption(f"{describe(m)} · file {md(record.filename)} · uploaded "
               f"{record.created_at:%Y-%m-%d %H:%M} UTC · id `{record.id}`")
    facts = header_facts(m)
    window = facts.q_range_inv_angstrom if m.domain == "r" else None
    if said := describe_use(facts, elements=[facts.element] if facts.element else [],
                            q_min_inv_angstrom=window and window[0], q_max_inv_angstrom=window and window[1]):
        st.caption(md(said) + " Compare, Refine, Relax and Predict use what it gives where you set nothing else.")

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

    with st.expander("Rename or delete", icon=":material/edit:"):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.text_input("New name", key=f"{PAGE}.rename_to", placeholder=record.name, max_chars=200)
        right.button("Rename", key=f"{PAGE}.rename", on_click=rename, args=(record.id,), icon=":material/edit:")
        if st.session_state.get(_CONFIRM) == record.id:
            st.warning(f"Delete **{md(record.name)}** (`{record.id}`) and its uploaded file? This cannot be undone; "
                       "saved results that name it keep its id.", icon=":material/warning:")
            yes, no = st.columns(2)
            yes.button("Yes, delete", key=f"{PAGE}.delete_yes", on_click=delete, args=(record.id, record.name),
                       type="primary", icon=":material/delete_forever:")
            no.button("Cancel", key=f"{PAGE}.delete_no", on_click=cancel_delete)
        else:
            st.button("Delete…", key=f"{PAGE}.delete", on_click=ask_delete, args=(record.id,),
                      icon=":material/delete:")
    return result is not None or background is not None


def stored_section(summaries) -> bool:
    """The table and the preview; returns whether subtraction settings belong in the URL."""
    st.header(f"Stored datasets ({len(summaries)})")
    show_flash()
    if not summaries:
        st.caption("None yet: upload a file above, or `python -m swaxs_lib import FILE`.")
        return False
    datasets_table(summaries)
    by_id = {d.id: d for d in summaries}
    ds_key = f"{PAGE}.ds"
    wanted = st.session_state.get(ds_key)
    if wanted is not None and wanted not in by_id:
        st.warning(f"Dataset `{wanted}` is not in this store (deleted, or the link is from another store); "
                   "choose one below.", icon=":material/warning:")
        st.session_state[ds_key] = None
    st.selectbox("Dataset to preview", list(by_id), index=None, key=ds_key, on_change=dataset_changed, persist_state="session",
                 format_func=lambda i: f"{by_id[i].name} · {by_id[i].kind} · {by_id[i].n_points} points · {i}",
                 placeholder="Choose a dataset")
    dataset_id = st.session_state[ds_key]
    if dataset_id is None:
        return False
    try:
        record = store().get_dataset(dataset_id)
    except SwaxsInputError as exc:  # deleted by someone else since the list was read
        st.warning(md(exc), icon=":material/warning:")
        return False
    return preview_section(record, summaries)


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

summaries_now = store().list_datasets()
upload_section(summaries_now)
st.divider()
subtracting = stored_section(summaries_now)
sync_url(PAGE, VIEW_NAMES + (SUBTRACT_NAMES if subtracting else []))
