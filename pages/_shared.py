"""What every dashboard page shares: the store, view state in the URL, CSV downloads, plot settings.

Not a page itself: ``app.py`` lists the pages with ``st.navigation``, so files
in ``pages/`` are only shown when listed there.

URL state
---------
Each widget whose value belongs in a shared link is declared with
:func:`url_key` before it is drawn; that seeds ``st.session_state`` from the
URL's query parameter (checked by a parser, a bad value is reported and the
default used) and returns the widget key.  After the widgets, :func:`sync_url`
writes the current values back to ``st.query_params``.  Widgets are created
with ``key=`` only (no ``value=``), so the URL's value wins on first load.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import streamlit as st

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.tables import csv_text
from swaxs_lib.store import Store

_WARNINGS = "_url_warnings"
_SYNCED = "_url_synced"


def entry_guard() -> None:
    """Make a page that Streamlit ran on its own run through ``app.py`` instead.

    Called first by every page.  On a freshly started server Streamlit does
    not know yet that ``app.py`` lists the pages with ``st.navigation``: a
    shared link straight to ``/compare?...`` would run ``pages/compare.py``
    alone ("MPA v1", with no sidebar, and ``pages/_shared.py`` listed as a
    page).  Until the first run of ``app.py`` its class-wide flag says so;
    setting it and rerunning makes Streamlit run ``app.py``, which routes
    to the same page with the same query string.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource
def store() -> Store:
    """The one store of this server process, shared by all sessions (thread-safe)."""
    return Store()


# -- who is looking -------------------------------------------------------------------------------

_VIEWER = "_swaxs_viewer"


def viewer():
    """The :class:`~swaxs_lib.access.Viewer` of this session: from the built-in login, the proxy's header,
    or the anonymous user of a server with no logins; None until a ``password``-mode user logs in.

    Raises
    ------
    SwaxsInputError
        ``proxy`` mode and the request names no user.
    """
    from swaxs_lib.access import viewer_from_headers

    if st.session_state.get(_VIEWER) is not None:
        return st.session_state[_VIEWER]
    return viewer_from_headers(dict(st.context.headers or {}))


def require_viewer():
    """The session's viewer; a login form (``password`` mode) or the reason (``proxy`` mode) and a stop if none."""
    from swaxs_lib.access import login

    try:
        current = viewer()
    except SwaxsInputError as exc:
        st.error(f"{md(exc)}. Ask the server's administrator.", icon=":material/lock:")
        st.stop()
    if current is not None:
        return current
    st.title("swaxs: log in")
    with st.form("login"):
        name = st.text_input("User name", max_chars=64, autocomplete="username")
        password = st.text_input("Password", type="password", max_chars=256, autocomplete="current-password")
        if st.form_submit_button("Log in", type="primary"):
            who = login(store(), name, password)
            if who is None:
                st.error("Unknown user name or wrong password.", icon=":material/lock:")
            else:
                st.session_state[_VIEWER] = who
                st.rerun()
    st.stop()


def owner_name() -> str:
    """The name this session's new datasets, fits and jobs are stored under (``""``: no logins)."""
    current = viewer()
    return "" if current is None else current.name


# -- URL state -----------------------------------------------------------------------------------


def url_key(page: str, name: str, default: Any, parse: Callable[[str], Any]) -> str:
    """Seed a widget's state from URL parameter ``name``; return its key.

    The URL's value is taken on a session's first run and whenever the URL
    holds a value this session did not write itself (a link from another page
    with ``st.page_link(..., query_params=...)``, or a pasted link), so that
    a hand-off link wins over what the session remembered.

    Parameters
    ----------
    page : str
        Prefix that keeps pages' keys apart (``"data"``, ``"clusters"``, ...).
    name : str
        The query parameter (short, readable: ``"shape"``, ``"b"``).
    default
        The value when the URL has none or a bad one.
    parse : callable
        str -> value; raises ``ValueError`` or ``SwaxsInputError`` for bad text.
    """
    key = f"{page}.{name}"
    from_url = url_given(page, name)
    raw = st.query_params.get(name)
    if key not in st.session_state or from_url:
        value = st.session_state.get(key, default)
        if raw is not None and from_url:
            try:
                value = parse(raw)
            except (ValueError, SwaxsInputError) as exc:
                st.session_state.setdefault(_WARNINGS, []).append(
                    f"Link parameter {name}='{md_value(raw)}' ignored ({md(exc, limit=2 * VALUE_LIMIT)}); "
                    f"using {md_value(repr(value))}."
                )
        st.session_state[key] = value
    return key


def url_given(page: str, name: str) -> bool:
    """Whether the URL holds a value of ``name`` that this session did not write (a link's, or a pasted one).

    Never in a fragment's own rerun: links and page changes run the whole page, and every rerun
    request carries the browser's URL as it was when sent, which after rapid slider moves can
    still hold a value the session wrote runs ago (taking it would throw the slider back).
    """
    raw = st.query_params.get(name)
    if raw is None or _fragment_rerun():
        return False
    return st.session_state.get(_SYNCED, {}).get(page, {}).get(name) != raw


def _fragment_rerun() -> bool:
    """Whether this run is a fragment's rerun (not the whole page's)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def follow_default(page: str, name: str, value: Any) -> None:
    """Let a URL-bound widget follow a data-dependent default (the file header's element) until the user sets it.

    Call after :func:`url_key` and before the widget is drawn.  The widget takes ``value``
    whenever it still holds what the page put there itself (its first default, or an earlier
    dataset's header value); a value from a link or one the user picked is kept.
    """
    key = f"{page}.{name}"
    auto = f"{key}._auto"
    if url_given(page, name):
        st.session_state[auto] = None  # a link's value is the user's
        return
    if auto not in st.session_state:
        st.session_state[auto] = st.session_state[key]
    if st.session_state[auto] is not None and st.session_state[key] == st.session_state[auto] \
            and st.session_state[key] != value:
        st.session_state[key] = st.session_state[auto] = value


def show_url_warnings() -> None:
    """Show (once) the link parameters that could not be used."""
    for message in st.session_state.pop(_WARNINGS, []):
        st.warning(message)


def url_params(page: str, names: Iterable[str]) -> dict[str, str]:
    """The URL text of these widgets' current values (those set), as :func:`sync_url` writes them."""
    params: dict[str, str] = {}
    for name in names:
        key = f"{page}.{name}"
        if key in st.session_state and st.session_state[key] is not None:
            params[name] = format_value(st.session_state[key])
    return params


def sync_url(page: str, names: Iterable[str], extra: Mapping[str, Any] | None = None) -> None:
    """Make the URL's query string hold exactly these widgets' current values (and ``extra``)."""
    params = url_params(page, names)
    for name, value in (extra or {}).items():
        if value is not None:
            params[name] = format_value(value)
    st.session_state.setdefault(_SYNCED, {})[page] = params
    if dict(st.query_params.to_dict()) != params:
        st.query_params.from_dict(params)


def format_value(value: Any) -> str:
    """A widget value as URL text that the matching parser reads back."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (tuple, list)):
        return ",".join(format_value(v) for v in value)
    return str(value)


def parse_choice(options: Sequence[str]) -> Callable[[str], str]:
    """Parser accepting one of ``options``."""
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"expected one of {', '.join(map(str, options))}")
        return text
    return parse


def parse_number(lo: float, hi: float, kind: type = float) -> Callable[[str], float | int]:
    """Parser accepting a number of ``kind`` in [lo, hi]."""
    def parse(text: str):
        value = kind(float(text)) if kind is int else float(text)
        if kind is int and float(text) != int(float(text)):
            raise ValueError("expected a whole number")
        if not (lo <= value <= hi):
            raise ValueError(f"expected a number from {lo:g} to {hi:g}")
        return value
    return parse


def parse_range(lo: float, hi: float) -> Callable[[str], tuple[float, float]]:
    """Parser accepting ``a,b`` with lo <= a < b <= hi (a range slider's value)."""
    def parse(text: str) -> tuple[float, float]:
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError("expected two numbers a,b")
        a, b = float(parts[0]), float(parts[1])
        if not (lo <= a < b <= hi):
            raise ValueError(f"expected {lo:g} <= a < b <= {hi:g}")
        return a, b
    return parse


def parse_bool(text: str) -> bool:
    """Parser accepting 1/0/true/false."""
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise ValueError("expected 1 or 0")


def parse_id(text: str) -> str:
    """Parser accepting a store id (URL-safe token)."""
    from swaxs_lib.store import check_id

    return check_id(text, "id")


# -- page parts --------------------------------------------------------------------------------

def datasets_for_viewer():
    """The stored datasets this session may see: its lists (:func:`swaxs_lib.access.can_list`), and a dataset
    shared by link when the page's URL names it."""
    from swaxs_lib.access import can_list, can_open

    current = viewer()
    linked = set(st.query_params.values())
    return [d for d in store().list_datasets() if can_list(current, d) or (d.id in linked and can_open(current, d))]


def datasets_or_stop():
    """The datasets this session may see; with none, a hint and a link to the Data page, and the page stops."""
    datasets = datasets_for_viewer()
    if not datasets:
        st.info("No datasets stored yet: upload one on the Data page.")
        st.page_link("pages/data.py", label="Go to Data", icon=":material/upload_file:")
        st.stop()
    return datasets


#: Short names of the curve kinds, for dataset labels.
KIND_NAMES = {"iq": "I(Q)", "sq": "S(Q)", "fq": "F(Q)", "gr": "G(r)"}


def dataset_key(page: str, datasets) -> tuple[str, dict[str, str]]:
    """The URL-bound session key of a page's dataset select and its labels (id -> "name (kind, n points)").

    A linked id that is not in the store (deleted, or a link from another server) is replaced by the
    newest dataset, with a warning.
    """
    labels = {d.id: f"{d.name} ({KIND_NAMES[d.kind]}, {d.n_points} points)" for d in datasets}
    key = url_key(page, "ds", datasets[0].id, parse_id)
    if st.session_state[key] not in labels:
        st.warning(f"Dataset “{md_value(st.session_state[key])}” is not in this store (deleted, or a link from another "
                   "server); showing the newest one.", icon=":material/warning:")
        st.session_state[key] = datasets[0].id
    return key, labels


def recent_jobs(task: str, page: str, title: str, n: int = 8) -> None:
    """Links to the newest jobs of ``task``, each reopening ``page`` with its ``job=`` id."""
    from swaxs_lib.jobs import list_jobs

    from swaxs_lib.access import can_list

    jobs = [j for j in list_jobs(store(), limit=5 * n) if j.params.get("task") == task and can_list(viewer(), j)][:n]
    if jobs:
        st.markdown(f"**{title}**")
        for j in jobs:
            st.page_link(page, label=f"{j.status}: {md_value(j.params.get('label', j.id))}", query_params={"job": j.id},
                         icon=":material/history:")


def watch_job(job_id: str, *, cancel_key: str | None = None, draw: Callable[[Any], None] | None = None,
              at_most: bool = False):
    """A job's progress bar (and Cancel button), polled every second while it runs; returns its record.

    ``at_most``: the total is a limit the job may stop short of (a relaxation's
    steps), so no time left is estimated.

    Polling is an ``st.fragment(run_every=1)``: only it reruns.  When the job
    ends the whole page reruns once, so that it draws the result.  ``draw(record)``
    is called on every poll (a live trace).  None when no job has this id
    (a warning is shown).
    """
    from swaxs_lib.access import can_change
    from swaxs_lib.jobs import cancel, get_job, progress_of, where_of

    try:
        record = get_job(store(), job_id)
    except SwaxsInputError as exc:
        st.warning(f"{md(exc)}: the link may be from another server.", icon=":material/warning:")
        return None
    running = record.status in ("queued", "running")

    @st.fragment(run_every=1.0 if running else None)
    def poll() -> None:
        now = get_job(store(), job_id)
        p = progress_of(now)
        if now.status in ("queued", "running"):
            st.progress(p.fraction, text=progress_text(now.message or now.status, p, at_most))
            where, dashboard = where_of(now)
            link = web_link(dashboard)
            st.caption(f"Runs on {md(where)}" + (f" · [Dask dashboard]({link})" if link else ""))
            if (cancel_key is not None and can_change(viewer(), now)
                    and st.button("Cancel", icon=":material/stop:", key=cancel_key)):
                cancel(store(), job_id, viewer())
                st.rerun()
        elif running:  # it has just ended: draw the page with its result
            st.rerun()
        if draw is not None:
            draw(now)

    poll()
    return record


def scheduler_input(page: str) -> None:
    """An optional "Dask scheduler" field (default ``$SWAXS_DASK_SCHEDULER``); :func:`scheduler_of` reads it."""
    import os

    from swaxs_lib.executors import DASK_SCHEDULER_ENV

    key = f"{page}.scheduler"
    if key not in st.session_state:
        st.session_state[key] = os.environ.get(DASK_SCHEDULER_ENV, "")
    st.text_input("Dask scheduler", key=key, placeholder="empty: worker processes on this server",
                  help="tcp://HOST:PORT of a running dask scheduler: the job's tasks run on that cluster "
                       "(Worker processes is then ignored); the results are the same.")


def scheduler_of(page: str) -> str | None:
    """The page's scheduler field, checked (SwaxsInputError naming the field), or None for local workers."""
    from swaxs_lib.dask_executor import check_address

    text = str(st.session_state.get(f"{page}.scheduler") or "").strip()
    return check_address(text, "Dask scheduler") if text else None


def show_job_failure(record, what: str) -> bool:
    """Say in the page body, in words, that a job failed or was cancelled; True when it did.

    A failure shows the reason (the input that was refused, an unexpected error, or a worker
    that died), what to do about it, and the worker's traceback, when it left one, folded away
    for a bug report.
    ``what`` names the job for a person: ``"sweep"``, ``"relaxation"``.
    """
    if record.status == "failed":
        result = record.result or {}
        reason = result.get("error") or record.message or "no reason was recorded"
        trace = result.get("traceback")
        if trace:
            advice = ("An unexpected error in swaxs, not in the input: start it again; if it repeats, the details "
                      "below are for a bug report")
        elif result.get("error"):
            advice = "Change what the message names and start it again"
        else:
            advice = "The worker process stopped without a word (killed, or out of memory?): start it again"
        label = record.params.get("label")
        job = f"job `{record.id}`" + (f", {md_value(label)}" if label else "")
        st.error(f"**This {md(what)} failed:** {md(reason)}  \n{advice} ({job}).", icon=":material/error:")
        if trace:
            with st.expander("Details for a bug report (the worker's traceback)", icon=":material/bug_report:"):
                st.code(trace, language=None)
        return True
    if record.status == "cancelled":
        st.info(f"This {md(what)} was cancelled: {md(record.message or 'cancelled')}.", icon=":material/cancel:")
        return True
    return False


def progress_text(message: str, p, at_most: bool = False) -> str:
    """A progress bar's line: the job's message, done of total, time elapsed and left.

    Before the worker has said how much there is to do (``total`` 0: queued, or
    building), no count and no estimate: "0 of at most 0" says nothing true.
    """
    from swaxs_lib.jobs import format_seconds

    parts = [md(message)]
    if p.total > 0:
        parts.append(f"{p.done} of at most {p.total}" if at_most else f"{p.done} of {p.total}")
    if p.elapsed_s > 0:
        parts.append(f"{format_seconds(p.elapsed_s)} elapsed")
    if p.total > 0 and not at_most and p.done > 0:
        parts.append(f"{format_seconds(p.remaining_s)} left")
    return " · ".join(parts)


def fit_figure(x, data, fitted, *, name: str, kind: str = "gr", height: int = 520):
    """Data (markers), a fit (line) and data − fit in a panel beneath, as on the Compare page."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    figure.add_trace(go.Scatter(x=x, y=data, mode="markers", name="data", marker=dict(size=3, color="#444")),
                     row=1, col=1)
    figure.add_trace(go.Scatter(x=x, y=fitted, mode="lines", name=name, line=dict(color="#d62728", width=2)),
                     row=1, col=1)
    figure.add_trace(go.Scatter(x=x, y=np.asarray(data) - np.asarray(fitted), mode="lines", name="difference",
                                line=dict(color="#1f77b4", width=1)), row=2, col=1)
    figure.update_xaxes(title_text="r (Å)" if kind == "gr" else "Q (1/Å)", row=2, col=1)
    figure.update_yaxes(title_text="G(r) (1/Å²)" if kind == "gr" else "I(Q) (a.u.)", row=1, col=1)
    figure.update_yaxes(title_text="data − fit", row=2, col=1)
    figure.update_layout(height=height, margin=dict(l=60, r=20, t=30, b=50), legend=dict(x=0.99, xanchor="right"))
    return figure


# -- user text ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|<>~$:&@])")
_AUTOLINK = re.compile(r"(?<=[A-Za-z])(?=://)|(?<=\b[wW]{3})(?=\.)|(?=@)")
WORD_JOINER = "\u2060"
_LINE_START_EQUALS = re.compile(r"(?m)^([ \t]*)=")
#: Characters of a link parameter or a name that a message quotes.
VALUE_LIMIT = 80


def compare_handoff(rw: float, own_rw: float, notes, query: Mapping[str, Any], *, what: str, metric: str = "R_w in Compare",
                    label: str = "Open in Compare", bound_note: str = "") -> None:
    """R_w as Compare will show it for a hand-off, why it differs from the result's own, the link.

    ``what`` names the result (``"refinement"``, ``"refit"``) in the help and the caption; ``bound_note``
    (``" (at a bound: ...)"``) is appended to the caption when the two R_w differ.
    """
    st.metric(metric, f"{rw:.4f}", help=f"What Compare shows for this {what}: its values held, scale and "
                                        "background fitted exactly over the same range.")
    if f"{rw:.4f}" != f"{own_rw:.4f}":
        st.caption(f"The {what} ended at R_w {own_rw:.4f}: its scale or background stopped short of the exact "
                   f"least-squares values Compare fits{bound_note}.")
    for note in notes:
        st.caption(md(note))
    st.page_link("pages/compare.py", label=label, icon=":material/compare:", query_params=dict(query))


def with_sigma(value: float | None, sigma: float | None = None, unit: str = "") -> str:
    """``17.22 ± 0.39 Å``: a value to the precision of its uncertainty (σ to two significant digits).

    Without a usable σ the value has four significant digits; a missing value is "—".
    """
    if value is None or not math.isfinite(value):
        return "—"
    unit = f" {unit}" if unit else ""
    if sigma is None or not math.isfinite(sigma) or sigma <= 0:
        return f"{value:.4g}{unit}"
    decimals = 1 - math.floor(math.log10(sigma))
    if 0 <= decimals <= 6 and 1e-3 <= abs(value) < 1e6:
        return f"{value:.{decimals}f} ± {sigma:.{decimals}f}{unit}"
    if decimals < 0 and 1 <= abs(value) < 1e6:
        step = 10.0 ** -decimals
        return f"{round(value / step) * step:.0f} ± {round(sigma / step) * step:.0f}{unit}"
    digits = min(max(math.floor(math.log10(abs(value))) - math.floor(math.log10(sigma)) + 2, 1), 6) if value else 2
    return f"{value:.{digits}g} ± {sigma:.2g}{unit}"


def md(text: object, limit: int | None = None) -> str:
    """User text made inert in markdown: no links, images, HTML, emphasis, LaTeX, colours or icons.

    Every markdown-active ASCII character is backslash-escaped (CommonMark: a backslash before ASCII
    punctuation makes it literal; an escaped ``<`` is text, not HTML), and a ``=`` that starts a line (a
    heading's underline).  GitHub-flavoured markdown (Streamlit's renderer) turns bare ``https://...``,
    ``www.x`` and ``a@b.c`` into links *after* escapes are read, so a word joiner (U+2060, invisible)
    is put before their ``://``, ``.`` and ``@``.  ``limit``: at most that many characters are kept
    (whitespace runs made one space, the rest replaced by "…"), for values from a link or a file that a
    message quotes.
    """
    text = str(text)
    if limit is not None:
        text = shorten(text, limit)
    text = _AUTOLINK.sub(WORD_JOINER, text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _LINE_START_EQUALS.sub(r"\1\\=", text)


def web_link(url: object) -> str | None:
    """``url`` if it is a plain http(s) address (host, port, path of unreserved characters), else None.

    For addresses that come from outside the page (a Dask scheduler's dashboard): anything else, such as
    ``javascript:`` or a ``)`` closing the markdown link early, is not linked.
    """
    text = str(url or "")
    return text if _WEB_LINK.fullmatch(text) else None


_WEB_LINK = re.compile(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%-]*)?")


def md_value(value: object, limit: int = VALUE_LIMIT) -> str:
    """A link parameter's, a name's or a file's value quoted in a message: escaped, one line, at most ``limit`` characters."""
    return md(value, limit=limit)


def shorten(text: str, limit: int) -> str:
    """``text`` on one line (whitespace runs made one space), cut to ``limit`` characters with "…" when longer."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:max(limit - 1, 0)] + "…"


def plot_text(text: object, limit: int = VALUE_LIMIT) -> str:
    """User text for a plotly label (a legend entry, a title): shortened, its ``<``, ``>`` and ``&`` as entities.

    Plotly reads a few HTML tags in labels (``<a href>``, ``<b>``, ``<br>``); entities show as their characters.
    """
    return html.escape(shorten(str(text), limit), quote=False)


def slug(text: str) -> str:
    """A file-name-safe form of a name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "dataset"


# -- downloads and plots -------------------------------------------------------------------------


def download_csv(label: str, columns: Mapping[str, Any], file_name: str, key: str | None = None) -> None:
    """A download button for a table (units in its column names) as CSV, written when it is clicked.

    Built on click (Streamlit's deferred download), the file has no address until then: a rerun that
    replaced an eagerly stored file before the browser checked it made that check a 404 under load
    (``benchmarks/load.py``), and every rerun paid for writing every table.
    """
    st.download_button(label, lambda: csv_text(columns), file_name=file_name, mime="text/csv", key=key,
                       on_click="ignore", icon=":material/download:")


def plot_config(file_name: str) -> dict:
    """Plotly chart config: the toolbar's camera saves PNG or SVG as chosen in the sidebar."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": st.session_state.get("plot_format", "png"), "filename": file_name,
                                 "scale": 2},
    }


# -- the look every page shares ---------------------------------------------------------------------

#: CSS for every page.  Metric values a size smaller than Streamlit's 2.25rem, so that five or six in
#: a row fit a laptop's width ("2.858 Å", "truncated-octahedron"); where they still do not, a metric's
#: label and value wrap instead of ending in "…", and are read whole on two lines.
PAGE_CSS = """
[data-testid="stMetricValue"] { font-size: 1.8rem; }
[data-testid="stMetricValue"] > div, [data-testid="stMetricValue"] > div p,
[data-testid="stMetricLabel"] > div, [data-testid="stMetricLabel"] > div p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: break-word;
}
[data-testid="stMetricValue"] > div p { line-height: 1.15; }
"""


def page_style() -> None:
    """Apply :data:`PAGE_CSS` (a style-only ``st.html`` takes no room on the page)."""
    st.html(f"<style>{PAGE_CSS}</style>")


# -- the shared sidebar --------------------------------------------------------------------------


def copy_link_button() -> None:
    """A "Copy link" button with the page's current URL (it follows every change live)."""
    st.iframe(
        """
<div style="font-family:'Source Sans Pro',sans-serif;font-size:14px;color:#31333f">
  <button id="copy" style="padding:4px 10px;border:1px solid #ccc;border-radius:6px;background:#fff;cursor:pointer">
    <svg width="12" height="12" viewBox="0 0 24 24" style="vertical-align:-1px"><path fill="#31333f"
      d="M10.6 13.4a1 1 0 0 1 0-1.4l3.5-3.5a1 1 0 1 1 1.4 1.4L12 13.4a1 1 0 0 1-1.4 0zM7 17a3 3 0 0 1 0-4.2l2-2
      1.4 1.4-2 2a1 1 0 1 0 1.4 1.4l2-2 1.4 1.4-2 2A3 3 0 0 1 7 17zm7.6-3.6-1.4-1.4 2-2a1 1 0 1 0-1.4-1.4l-2 2
      -1.4-1.4 2-2a3 3 0 1 1 4.2 4.2z"/></svg>
    Copy link to this view</button>
  <span id="done" style="margin-left:6px;color:#09ab3b"></span>
  <input id="url" readonly aria-label="link to this view"
         style="margin-top:6px;width:96%;font-size:12px;border:1px solid #ddd;border-radius:4px;padding:3px"/>
</div>
<script>
const box = document.getElementById("url");
function current() { try { return window.parent.location.href; } catch (e) { return ""; } }
function refresh() { const u = current(); if (box.value !== u) box.value = u; }
refresh(); setInterval(refresh, 300);
document.getElementById("copy").onclick = async () => {
  refresh();
  let ok = false;
  try { await navigator.clipboard.writeText(box.value); ok = true; } catch (e) {}
  if (!ok) { box.focus(); box.select(); ok = document.execCommand("copy"); }
  document.getElementById("done").textContent = ok ? "copied" : "select and copy the link below";
};
</script>""",
        height=78,
    )


def sidebar() -> None:
    """The sidebar every page shows under the page list."""
    with st.sidebar:
        copy_link_button()
        st.radio("Plot image format", ["png", "svg"], key="plot_format", horizontal=True,
                 help="What the camera button in a plot's toolbar saves.")
        db = store()
        st.caption(f"Store: `{html.escape(str(db.path.name))}`")
        current = viewer()
        if current is not None and current.name:
            st.caption(f"Signed in as **{md(current.name)}**" + (" (admin)" if current.admin else ""))
            if st.session_state.get(_VIEWER) is not None and st.button("Log out", icon=":material/logout:"):
                st.session_state[_VIEWER] = None
                st.rerun()
