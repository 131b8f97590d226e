"""The analysis report: one self-contained HTML page of an :class:`~swaxs_lib.analyse.result.AnalysisResult`.

What it holds (issue 17): the data; what the data cannot decide (the analysis' warnings, the best
group, the mixture test); the top-10 ranking (rank, family, parameters, atoms, sizes as docs/sizes.md
defines them, R_w, best group, EMT energy); the fit and difference of the three best candidates and of
the mixture with a picture of each cluster; the mixture's fractions; the size window; the ML prior; the
settings, timings and every package version needed to repeat it.  Every table is also a CSV download
inside the page (a ``data:`` link; columns as docs/csv.md).

Self-contained: inline CSS, plots and pictures as inline SVG written here (:mod:`.svgplot`,
:mod:`.snapshot`), no script, no font, no address outside the file; it opens offline, in any browser,
years later.  Every text that came from the data or the user (file names, labels, header lines) is
escaped: an uploaded file is untrusted.

No PDF file is written: WeasyPrint, the maintained HTML-to-PDF renderer for Python, does render this
page (checked with WeasyPrint 70 on Pango 1.50), but it is not in requirements.txt and needs the
system's Pango library, which the app's install scripts do not provide; a browser's "Print to PDF" of
the page gives one (the stylesheet's print rules: A4 landscape, no download links).

Validation: tests/test_analyse_report.py (the page parses, holds no external address, escapes a
hostile label, draws one picture per cluster, and its CSV links decode to the ranking's columns).
"""

from __future__ import annotations

import datetime as _dt
import math
from html import escape
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote

import numpy as np

from swaxs_lib.analyse.result import UNDECIDED, AnalysisResult, AnalysisRow
from swaxs_lib.analyse.snapshot import cluster_svg
from swaxs_lib.analyse.svgplot import Series, line_plot
from swaxs_lib.io.measurement import VALUE_COLUMNS, X_COLUMNS
from swaxs_lib.io.tables import csv_text

#: Rows of the ranking table, and rows whose fit and picture are shown.
TOP_TABLE, TOP_FITS = 10, 3
#: Above this many points the data are drawn as a thin line instead of circles.
MAX_MARKERS = 400

_AXES = {"gr": ("r (Å)", "G(r) (1/Å²)"), "iq": ("Q (1/Å)", "I(Q)"), "sq": ("Q (1/Å)", "S(Q)"),
         "fq": ("Q (1/Å)", "F(Q) (1/Å)")}
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;margin:0 auto;
max-width:1100px;padding:0 20px 40px}
h1{font-size:22px;margin:20px 0 4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:30px}
h3{font-size:15px;margin:14px 0 4px}.sub{color:#555;margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;
vertical-align:top}th{background:#f3f3f3;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}tr.group td{background:#fff7dc}tr.best td{background:#ffe9a8}
.csv{font-size:12px;margin-left:8px}.note{border-left:4px solid #c60;background:#fff4ea;padding:8px 12px;margin:8px 0}
.note li{margin:3px 0}.fit{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start;margin:8px 0 18px;
page-break-inside:avoid}.fit .cap{font-size:13px;width:270px}.fit .cap h3{margin-top:0}
.plot text,.snapshot text{font:11px sans-serif;fill:#333}.muted{color:#666}.kv td:first-child{font-weight:600;background:#fafafa}code{font-size:12px}
@page{size:A4 landscape;margin:10mm}
@media print{body{max-width:none;padding:0}a.csv{display:none}h2{page-break-after:avoid}table{font-size:11px}}
"""


def write_report(path: str | Path, result: AnalysisResult, measurement, store=None) -> Path:
    """Write :func:`report_html` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(report_html(result, measurement, store), encoding="utf-8")
    return path


def report_html(result: AnalysisResult, measurement, store=None) -> str:
    """The report as one HTML document.

    Parameters
    ----------
    result : AnalysisResult
    measurement : Measurement
        The curve analysed.
    store : Store, optional
        Where the fits' curves and the relaxed clusters are read (without it, no fit plots and no
        pictures of relaxed clusters; the page says so).

    Returns
    -------
    str
    """
    source = escape(Path(str(measurement.source)).name)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>swaxs analysis: {source}</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>Structure analysis of {source}</h1>",
             f"<p class='sub'>{escape(result.element)}, {_KIND.get(result.kind, escape(result.kind))}; swaxs "
             f"{escape(str(result.versions.get('swaxs', '?')))}; written "
             f"{_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}</p>",
             _summary(result), _undecided(result), _data(measurement), _ranking(result), _fits(result, measurement, store),
             _mixture(result), _window(result), _prior(result), _settings(result), "</body></html>"]
    return "".join(parts)


#: How the analysis' own statements of what the data cannot decide begin (pipeline._undecided); the other
#: warnings are notes on how the analysis ran.
_KIND = {"gr": "pair distribution function G(r)", "iq": "scattered intensity I(Q)"}


# --- sections -----------------------------------------------------------------------------------------------------

def _summary(result: AnalysisResult) -> str:
    best = result.best
    if best is None:
        return "<p>No candidate could be refined.</p>"
    group = result.best_group
    text = (f"<p><b>Best candidate:</b> {escape(best.label)}: {_n(best.n_atoms)} atoms, extent "
            f"{_f(best.extent_angstrom, 1)} Å, volume-equivalent diameter {_f(best.volume_diameter_angstrom, 1)} Å, "
            f"R<sub>w</sub> {_f(best.rw, 4)}. ")
    if len(group) > 1:
        text += (f"The data cannot tell it from {len(group) - 1} other candidate{'s' if len(group) > 2 else ''} "
                 f"(the <b>best group</b>, F-test at α = {_f(result.settings.get('alpha'), 2)}; "
                 f"families: {escape(', '.join(sorted({r.family for r in group})))}).")
    else:
        text += f"Every other candidate fits significantly worse (F-test at α = {_f(result.settings.get('alpha'), 2)})."
    m = result.mixture
    if m is not None:
        text += (" A mixture " + ("<b>is accepted</b>" if m.accepted else "is not accepted")
                 + f": R<sub>w</sub> {_f(m.rw, 4)} against {_f(m.rw_single, 4)} for the best single candidate.")
    c = result.counts
    text += (f"</p><p class='muted'>{_n(c.get('candidates'))} candidates enumerated, {_n(c.get('screened'))} screened, "
             f"{_n(c.get('refined'))} refined with every parameter free, {_n(c.get('relaxed'))} EMT-relaxed.</p>")
    return text


def _undecided(result: AnalysisResult) -> str:
    decided = [w for w in result.warnings if w.lower().startswith(UNDECIDED)]
    items = []
    group = result.best_group
    if group:
        items.append(f"Best group: {len(group)} candidate{'s' if len(group) > 1 else ''} "
                     f"({escape(', '.join(r.label for r in group[:8]))}{', …' if len(group) > 8 else ''}) "
                     "fit equally well within the noise; read any one of them as the answer only together with the others.")
    m = result.mixture
    if m is not None:
        if m.accepted:
            items.append(f"A mixture fits significantly better than the best single candidate (p = "
                         f"{_f(m.p_value, 2, 'g')}; see Mixture).")
        else:
            items.append("No mixture fits significantly better than the best single candidate: the data do not "
                         "require more than one structure (they do not exclude a mixture either).")
    items += [escape(_capital(w)) for w in decided]
    notes = [escape(_capital(w)) for w in result.warnings if w not in decided]
    if result.skipped:
        notes.append(f"{len(result.skipped)} candidate(s) could not be built or refined (listed under Settings).")
    if not items and not notes:
        return ""
    return ("<h2>What the data cannot decide</h2><div class='note'><ul>"
            + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
            + (("<b>Notes from the analysis</b><ul>" + "".join(f"<li>{i}</li>" for i in notes) + "</ul>")
               if notes else "") + "</div>")


def _data(measurement) -> str:
    x, y = np.asarray(measurement.x, float), np.asarray(measurement.values, float)
    xl, yl = _AXES.get(measurement.kind, ("x", "y"))
    style = "points" if len(x) <= MAX_MARKERS else "line"
    plot = line_plot([Series(x, y, "data", "#1f4fb4", style, 1.0)], xlabel=xl, ylabel=yl, title="measured data")
    cols = {X_COLUMNS["r" if measurement.kind == "gr" else "q"]: x,
            VALUE_COLUMNS.get(measurement.kind, "value"): y}
    if measurement.uncertainties is not None:
        cols[VALUE_COLUMNS.get(measurement.kind, "value") + "_sigma"] = np.asarray(measurement.uncertainties, float)
    sigma = "with" if measurement.uncertainties is not None else "without"
    name, unit = xl.split(" ", 1)
    return (f"<h2>Data {_csv('data', cols)}</h2><p class='sub'>{len(x)} points, {name} from "
            f"{_f(x.min(), 3, 'g')} to {_f(x.max(), 3, 'g')} {unit.strip('()')}, {sigma} uncertainties.</p>{plot}")


def _ranking(result: AnalysisResult) -> str:
    rows = result.rows[:TOP_TABLE]
    head = ["rank", "family", "parameters", "stage", "atoms", "extent (Å)", "volume-equiv. diameter (Å)",
            "R<sub>w</sub>", "best group", "p vs best", "EMT energy (eV/atom, 0 = bulk)"]
    body = []
    for r in rows:
        cells = [_n(r.rank), escape(r.family), escape(_params(r)), escape(r.stage),
                 _n(r.n_atoms) if r.n_atoms else "–", _f(r.extent_angstrom, 2),
                 _f(r.volume_diameter_angstrom, 2) + (" (spdiameter)" if r.n_atoms == 0 and r.family != "structure"
                                                      else ""),
                 _f(r.rw, 4), "best" if r.rank == 1 else ("≈ best" if r.best_group else ""),
                 _f(r.p_value, 2, "g") if r.p_value is not None else "–", _f(r.energy_ev_per_atom, 4)]
        body.append((cells, "best" if r.rank == 1 else ("group" if r.best_group else "")))
    more = f" (the first {TOP_TABLE} of {len(result.rows)}; the CSV has all)" if len(result.rows) > TOP_TABLE else ""
    links = _csv("ranking", result.table()) + (_csv("screen", result.table(screened=True), "screen CSV")
                                                if result.screened else "")
    return (f"<h2>Ranking{more} {links}</h2><p class='sub'>Sizes as docs/sizes.md: extent = largest atom-centre "
            "distance; volume-equivalent diameter = sphere of the cluster's volume (for the attenuated crystal, its "
            "refined sphere diameter). Shaded: the best group, which the data cannot tell apart. p: F-test of each "
            "row against the best.</p>" + _table(head, body, numeric=(0, 4, 5, 6, 7, 9, 10)))


def _fits(result: AnalysisResult, measurement, store) -> str:
    out = ["<h2>Fits of the best candidates and of the mixture</h2><p class='sub'>Data (blue), fit (red), "
           "difference data − fit (green) drawn below, its zero dotted. Pictures: one fixed oblique view, "
           "atoms at their covalent radii.</p>"]
    if store is None:
        return out[0] + "<p>No store was given: the fitted curves are not available here.</p>"
    xl, yl = _AXES.get(measurement.kind, ("x", "y"))
    for r in result.rows[:TOP_FITS]:
        plot = _fit_plot(store, r, xl, yl)
        out.append(f"<div class='fit'>{plot}<div class='cap'><h3>{_n(r.rank)}. {escape(r.label)}</h3>"
                   f"{_picture(store, r)}<br>R<sub>w</sub> {_f(r.rw, 4)}<br>{_values(r)}</div></div>")
    m = result.mixture
    if m is not None and m.accepted:
        x, y = np.asarray(measurement.x, float), np.asarray(measurement.values, float)
        fitted = np.asarray(m.fitted, float)
        ok = np.isfinite(fitted)
        comps = ", ".join(f"{escape(c.label)} {_pct(c.number_fraction)}" for c in m.components)
        out.append(f"<div class='fit'>{_curves(x[ok], y[ok], fitted[ok], xl, yl, 'mixture')}"
                   f"<div class='cap'><h3>Mixture</h3>R<sub>w</sub> {_f(m.rw, 4)}<br>by number: {comps}</div></div>")
    elif m is not None:
        out.append("<p>The mixture was not accepted, so its fit (the best single candidate) is not drawn again.</p>")
    return "".join(out)


def _mixture(result: AnalysisResult) -> str:
    m = result.mixture
    if m is None:
        return ("<h2>Mixture</h2><p>No mixture was fitted (fewer than two refined clusters could enter; "
                "see the notes above).</p>")
    head = ["component", "number fraction", "σ", "atom fraction", "σ", "mass fraction", "σ"]
    body = [([escape(c.label), _f(c.number_fraction, 3), _f(c.number_fraction_sigma, 3), _f(c.atom_fraction, 3),
              _f(c.atom_fraction_sigma, 3), _f(c.mass_fraction, 3), _f(c.mass_fraction_sigma, 3)], "")
            for c in m.components]
    cols = {"candidate": [c.label for c in m.components],
            **{n: [getattr(c, n) for c in m.components] for n in
               ("number_fraction", "number_fraction_sigma", "atom_fraction", "atom_fraction_sigma",
                "mass_fraction", "mass_fraction_sigma")}}
    verdict = "accepted" if m.accepted else "not accepted: the best single candidate is reported alone"
    test = (f"Against the best single candidate ({escape(m.best_single_label)}, R<sub>w</sub> {_f(m.rw_single, 4)}): "
            f"F = {_f(m.f_value, 3, 'g')}, p = {_f(m.p_value, 2, 'g')} (α = {_f(m.alpha, 2)}, {m.n_independent} "
            f"independent points, {m.n_candidates} candidates tried)." if m.accepted else
            f"No second component entered at α = {_f(m.alpha, 2)} ({m.n_candidates} candidates tried).")
    test += f"</p><p class='muted'>Test: {escape(m.test)}."
    steps = [([escape(s.label), _f(s.rw, 4), _f(s.f_value, 3, 'g'), _f(s.p_adjusted, 3, 'g'),
               "yes" if s.entered else "no"], "") for s in m.steps]
    return (f"<h2>Mixture: {verdict} {_csv('mixture', cols)}</h2><p>R<sub>w</sub> {_f(m.rw, 4)}. {test}</p>"
            + _table(head, body, numeric=range(1, 7))
            + ("<h3>Forward selection</h3>" + _table(["candidate tried", "R<sub>w</sub>", "F", "p (corrected)",
                                                       "entered"], steps, numeric=(1, 2, 3)) if steps else ""))


def _window(result: AnalysisResult) -> str:
    w = dict(result.window)
    used = w.pop("used_extent_angstrom", None) or [None, None]
    rows = [("rule", w.pop("rule", None)), ("method", w.pop("method", None)),
            ("extent window screened (Å)", f"{_f(used[0], 1)} – {_f(used[1], 1)}")]
    rows += [(k, v) for k, v in w.items() if k != "warnings"]
    return (f"<h2>Size window {_csv('window', _kv_columns(rows))}</h2><p class='sub'>The sizes the data allow; "
            "every candidate whose extent lies in the screened window was fitted.</p>" + _kv(rows))


def _prior(result: AnalysisResult) -> str:
    p = result.prior
    if p is None:
        return "<h2>ML prior</h2><p>No prior (the reason is under <i>What the data cannot decide</i>).</p>"
    probs = sorted((p.get("probabilities") or {}).items(), key=lambda kv: -float(kv[1] or 0))[:5]
    table = _table(["family", "probability"], [([escape(str(k)), _f(v, 3)], "") for k, v in probs], numeric=(1,))
    iv = p.get("extent_interval_nm") or [None, None]
    rows = [("predicted family", p.get("family")), ("its probability", _f(p.get("family_probability"), 3)),
            ("extent (nm)", _f(p.get("extent_nm"), 2)), ("extent 90 % interval (nm)", f"{_f(iv[0], 2)} – {_f(iv[1], 2)}"),
            ("atoms", p.get("n_atoms")), ("in the models' domain", "yes" if p.get("in_domain") else "no"),
            ("used to widen the window", "yes" if p.get("in_domain") and result.settings.get("use_prior") else "no")]
    warns = "".join(f"<li>{escape(str(x))}</li>" for x in p.get("warnings") or ())
    cols = {"family": [k for k, _ in probs], "probability": [v for _, v in probs]}
    return (f"<h2>ML prior {_csv('prior', cols)}</h2><p class='sub'>The shipped models' prediction; it can add "
            "candidates to the window, never remove them.</p><div class='fit'>" + table + _kv(rows) + "</div>"
            + (f"<ul>{warns}</ul>" if warns else ""))


def _settings(result: AnalysisResult) -> str:
    s = dict(result.settings)
    options = s.pop("options", {}) or {}
    unit = " (Å)" if result.kind == "gr" else " (1/Å)"
    rows = [(k + unit if k in ("x_min", "x_max") else k, v) for k, v in s.items()]
    rows += [(f"options.{k}" + (unit if k in ("x_min", "x_max") else ""), v) for k, v in options.items()]
    versions = list(result.versions.items())
    timings = [(k, v) for k, v in result.timings_s]
    out = (f"<h2>Settings {_csv('settings', _kv_columns(rows))}</h2>{_kv(rows)}"
           f"<h2>Versions {_csv('versions', {'package': [k for k, _ in versions], 'version': [v for _, v in versions]})}"
           f"</h2>{_kv(versions)}"
           f"<h2>Timings {_csv('timings', {'stage': [k for k, _ in timings], 'time_s': [v for _, v in timings]})}</h2>"
           + _table(["stage", "time (s)"], [([escape(k), _f(v, 1)], "") for k, v in timings], numeric=(1,))
           + f"<p class='muted'>Counts: {escape(_text(result.counts))}</p>")
    if result.skipped:
        out += ("<h3>Not refined</h3>" + _table(["candidate", "why"], [([escape(a), escape(b)], "")
                                                                      for a, b in result.skipped]))
    return out


# --- pieces -------------------------------------------------------------------------------------------------------

def _fit_plot(store, row: AnalysisRow, xl: str, yl: str) -> str:
    from swaxs_lib.store.fits import read_fit

    try:
        fit = read_fit(store.get_result(row.result_id))
    except Exception as exc:  # a report must not fail on one missing fit
        return f"<p>The stored fit {escape(row.result_id)} could not be read ({escape(str(exc))}).</p>"
    if fit.curves is None:
        return "<p>This fit kept no curves.</p>"
    c = fit.curves
    return _curves(np.asarray(c.x, float), np.asarray(c.data, float), np.asarray(c.fitted, float), xl, yl, row.label)


def _curves(x, data, fitted, xl, yl, title) -> str:
    diff = data - fitted
    span = np.nanmax(np.concatenate([data, fitted])) - np.nanmin(np.concatenate([data, fitted]))
    offset = np.nanmin(np.concatenate([data, fitted])) - np.nanmax(diff) - 0.05 * span
    style = "points" if len(x) <= MAX_MARKERS else "line"
    return line_plot([Series(x, data, "data", "#1f4fb4", style, 1.0), Series(x, fitted, "fit", "#d62728", "line", 1.4),
                      Series(x, diff + offset, "difference (offset)", "#2ca02c", "line", 1.0)],
                     xlabel=xl, ylabel=yl, hlines=((float(offset), "#2ca02c"),), title=f"fit of {title}")


def _picture(store, row: AnalysisRow) -> str:
    if row.n_atoms == 0 and not row.cluster_key:
        return ("<div class='cap muted' style='width:260px'>The attenuated crystal is a bulk crystal's G(r) times a "
                "sphere envelope: it has no atoms to draw.</div>")
    try:
        atoms = store.get_cluster(row.cluster_key).atoms if row.cluster_key else row.candidate.build().atoms
    except Exception as exc:  # a report must not fail on one cluster
        return f"<div class='cap'>No picture ({escape(str(exc))}).</div>"
    return cluster_svg(atoms, title=row.label)


def _values(row: AnalysisRow) -> str:
    out = []
    for name, value, sigma, unit in row.values:
        s = f" ± {sigma:.2g}" if sigma is not None and math.isfinite(sigma) else ""
        out.append(f"{escape(name)} = {value:.4g}{s} {escape(unit)}".rstrip())
    if row.energy_ev_per_atom is not None:
        out.append(f"EMT energy {row.energy_ev_per_atom:.4f} eV/atom")
    return "<br>".join(out)


def _params(row: AnalysisRow) -> str:
    if row.family == "attenuated-crystal":
        return "bulk crystal × sphere envelope"
    if row.family == "structure":
        return row.label
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.candidate.params)


def _table(head: Sequence[str], body: Iterable[tuple[list[str], str]], numeric: Iterable[int] = ()) -> str:
    numeric = set(numeric)
    rows = "".join(f"<tr class='{cls}'>" + "".join(f"<td class='{'n' if k in numeric else ''}'>{c}</td>"
                                                      for k, c in enumerate(cells)) + "</tr>" for cells, cls in body)
    return "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>{rows}</table>"


def _kv(rows: Sequence[tuple[str, Any]]) -> str:
    return ("<table class='kv'>" + "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(_text(v))}</td></tr>"
                                           for k, v in rows) + "</table>")


def _kv_columns(rows: Sequence[tuple[str, Any]]) -> dict[str, list]:
    return {"name": [str(k) for k, _ in rows], "value": [_text(v) for _, v in rows]}


def _csv(name: str, columns: Mapping[str, Any], text: str = "CSV") -> str:
    data = quote(csv_text(columns), safe="")
    return f"<a class='csv' download='{escape(name)}.csv' href='data:text/csv;charset=utf-8,{data}'>{escape(text)}</a>"


def _text(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return _f(v, 4, "g")
    if isinstance(v, Mapping):
        return ", ".join(f"{k}: {_text(x)}" for k, x in v.items()) or "–"
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(x) for x in v) or "–"
    return str(v)


def _f(v: Any, digits: int, kind: str = "f") -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return "–"
    return f"{v:.{digits}{kind}}" if math.isfinite(v) else "–"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _n(v: Any) -> str:
    return "–" if v is None else str(int(v))


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %" if v is not None and math.isfinite(v) else "–"


__all__ = ["report_html", "write_report"]
