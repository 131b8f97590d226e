"""SAXS page, section "Model fit": the parameter table (start, refine, bounds) and its changes in the URL.

The grid starts from the model's own table (:func:`swaxs_lib.models.sasview.saxs_spec`) with the URL's
changes applied; what differs from the defaults goes back into the URL, compactly:
``f_start=radius:35,sld:119`` (``radius:`` for an automatic start), ``f_fix=background``,
``f_free=sld`` and ``f_bounds=radius:10:80`` (an empty side keeps the default).  Bad text is reported
(:func:`pages._shared.show_url_warnings`) and the table's defaults used.
"""

from __future__ import annotations

import hashlib
import math
import re

import pandas as pd
import streamlit as st

from pages._shared import url_given

PAGE = "saxs"
#: The parameter table's non-default entries in the URL (``f_start=radius:35,sld:``, ``f_fix=sld``,
#: ``f_free=sld``, ``f_bounds=radius:10:80``; an empty start is automatic, an empty bound the default).
TABLE_NAMES: tuple[str, ...] = ("f_start", "f_fix", "f_free", "f_bounds")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _number(text: str) -> float | None:
    """A number (``inf`` allowed for bounds) or None for empty text."""
    if text == "":
        return None
    value = float(text)
    if math.isnan(value):
        raise ValueError(f"{text!r} is not a number")
    return value


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def _items(text: str, fields: int, example: str) -> list[list[str]]:
    items = []
    for item in text.split(","):
        parts = item.split(":")
        if len(parts) != fields or not _NAME.match(parts[0]):
            raise ValueError(f"expected {example}")
        items.append(parts)
    return items


def parse_starts(text: str) -> str:
    """``name:value,...`` (empty value: automatic) -> the same text, numbers checked."""
    items = _items(text, 2, "name:value,... (radius:35,sld:119; radius: for automatic)")
    values = {name: _number(value) for name, value in items}
    if any(v is not None and not math.isfinite(v) for v in values.values()):
        raise ValueError("expected finite start values")
    return ",".join(f"{n}:{_text(v)}" for n, v in values.items())


def parse_names(text: str) -> str:
    """``name,name`` -> the same text, names checked."""
    return ",".join(n for n, in _items(text, 1, "parameter names separated by commas (sld,sld_solvent)"))


def parse_bounds(text: str) -> str:
    """``name:low:high,...`` (an empty side: the table's default) -> the same text, low < high checked."""
    out = []
    for name, low, high in _items(text, 3, "name:low:high,... (radius:10:80; radius::80 keeps the low default)"):
        lo, hi = _number(low), _number(high)
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"{name}: expected low < high, got {lo:g} and {hi:g}")
        out.append(f"{name}:{_text(lo)}:{_text(hi)}")
    return ",".join(out)


PARSERS = {"f_start": parse_starts, "f_fix": parse_names, "f_free": parse_names, "f_bounds": parse_bounds}


def _shown_start(spec, p) -> float | None:
    """The start the table shows by default (None: automatic)."""
    return None if p.name in spec.linear or p.unit == "Å" else p.start


def _overrides(spec, texts: dict) -> dict:
    """The URL texts (``f_start``, ...) as the table's changes of ``spec``'s defaults; names the model does
    not have are dropped (with a warning when a link gave them)."""
    known = {p.name: p for p in spec.parameters}
    out: dict = {"start": {}, "fix": set(), "free": set(), "bounds": {}}
    for name in TABLE_NAMES:
        text = texts.get(name)
        if not text:
            continue
        unknown = []
        for item in text.split(","):
            parts = item.split(":")
            if parts[0] not in known:
                unknown.append(parts[0])
            elif name == "f_start":
                out["start"][parts[0]] = _number(parts[1])
            elif name == "f_bounds":
                out["bounds"][parts[0]] = (_number(parts[1]), _number(parts[2]))
            else:
                out[name[2:]].add(parts[0])
        if unknown and url_given(PAGE, name):
            st.session_state.setdefault("_url_warnings", []).append(
                f"Link parameter {name}: {', '.join(unknown)} ignored (not parameters of {spec.name}; expected "
                f"some of {', '.join(known)}).")
    for p in spec.parameters:
        value, (low, high) = out["start"].get(p.name), out["bounds"].get(p.name, (None, None))
        low, high = p.low if low is None else low, p.high if high is None else high
        if not low < high or (value is not None and not low <= value <= high):
            out["start"].pop(p.name, None)
            out["bounds"].pop(p.name, None)
            if any(url_given(PAGE, n) for n in ("f_start", "f_bounds")):
                st.session_state.setdefault("_url_warnings", []).append(
                    f"Link parameters f_start/f_bounds: {p.name} start {_text(value) or 'auto'} and bounds "
                    f"[{low:g}, {high:g}] ignored (expected low < high and the start within them); using the "
                    "table's defaults.")
    return out


def url_texts(spec, table: dict) -> dict[str, str | None]:
    """The table's non-default entries as the URL texts (None: nothing to write)."""
    by_name = {p.name: p for p in spec.parameters}
    starts = [f"{n}:{_text(table['start'].get(n))}" for n, p in by_name.items()
              if table["start"].get(n) != _shown_start(spec, p)]
    bounds = []
    for n, (low, high) in table["bounds"].items():
        p = by_name[n]
        bounds.append(f"{n}:{'' if low == p.low else _text(low)}:{'' if high == p.high else _text(high)}")
    texts = {"f_start": ",".join(starts), "f_fix": ",".join(table["fix"]), "f_free": ",".join(table["free"]),
             "f_bounds": ",".join(bounds)}
    return {k: v or None for k, v in texts.items()}


def parameter_table(spec) -> dict:
    """The model's table as an editable grid (start, refine, bounds), from its defaults and the URL's
    changes; returns start, bounds, fix and free, and writes the changes back for the URL."""
    rows = [p for p in spec.parameters]
    # The grid starts from the table's texts as they came from outside (a link, a reopened fit, the first
    # run, another model) and keeps the user's edits as its own delta: rebuilt (a new key) only when the texts
    # changed otherwise than by this grid's last edit, so that no edit is lost to a rebuilt grid.
    texts = {n: st.session_state.get(f"{PAGE}.{n}") for n in TABLE_NAMES}
    if (spec.name, texts) != st.session_state.get(f"{PAGE}.f_table_written"):
        st.session_state[f"{PAGE}.f_table_base"] = texts
    base_texts = st.session_state[f"{PAGE}.f_table_base"]
    given = _overrides(spec, base_texts)
    lows = [given["bounds"].get(p.name, (None, None))[0] for p in rows]
    highs = [given["bounds"].get(p.name, (None, None))[1] for p in rows]
    frame = pd.DataFrame({
        "parameter": [p.label() for p in rows],
        "start": [given["start"][p.name] if p.name in given["start"] else _shown_start(spec, p) for p in rows],
        "refine": [False if p.name in given["fix"] else True if p.name in given["free"] else p.refined
                   for p in rows],
        "low": [p.low if lo is None else lo for p, lo in zip(rows, lows)],
        "high": [p.high if hi is None else hi for p, hi in zip(rows, highs)],
        "description": [p.description for p in rows],
    })
    frame["low"] = [v if math.isfinite(v) else None for v in frame["low"]]
    frame["high"] = [v if math.isfinite(v) else None for v in frame["high"]]
    st.caption("Empty start: automatic (sizes from a grid over the Q range, scale and background by linear least "
               "squares). SLDs in 1e-6/Å²; with I in 1/cm and the right SLDs the scale is the volume fraction.")
    base = hashlib.sha1(repr(sorted(base_texts.items())).encode()).hexdigest()[:10]
    edited = st.data_editor(frame, key=f"{PAGE}.f_table.{spec.name}.{base}", hide_index=True,
                            disabled=("parameter", "description"),
                            column_config={"start": st.column_config.NumberColumn(format="%.5g"),
                                           "low": st.column_config.NumberColumn(format="%.5g"),
                                           "high": st.column_config.NumberColumn(format="%.5g")})
    start, bounds, fix, free = {}, {}, [], []
    for p, (_, row) in zip(rows, edited.iterrows()):
        if row["start"] is not None and not pd.isna(row["start"]):
            start[p.name] = float(row["start"])
        low = p.low if row["low"] is None or pd.isna(row["low"]) else float(row["low"])
        high = p.high if row["high"] is None or pd.isna(row["high"]) else float(row["high"])
        if (low, high) != (p.low, p.high):
            bounds[p.name] = (low, high)
        if bool(row["refine"]) != p.refined:
            (free if row["refine"] else fix).append(p.name)
    table = {"start": start, "bounds": bounds, "fix": fix, "free": free}
    written = url_texts(spec, table)
    for name, text in written.items():
        st.session_state[f"{PAGE}.{name}"] = text
    st.session_state[f"{PAGE}.f_table_written"] = (spec.name, written)
    return table


__all__ = ["PARSERS", "TABLE_NAMES", "parameter_table", "url_texts"]
