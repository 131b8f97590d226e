"""Line plots as inline SVG, written by hand: axes, round-number ticks, labels, curves, markers.

For the analysis report (:mod:`swaxs_lib.analyse.report`), which must open anywhere with no script, no
network and no plotting package (STYLE.md rule 3).  Non-finite points break a curve (no line is drawn
across them).  Tick values follow the 1-2-5 rule (Heckbert, "Nice numbers for graph labels", Graphics
Gems, 1990).

Validation: tests/test_analyse_report.py reads the plotted coordinates back from the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np


@dataclass(frozen=True)
class Series:
    """One curve: ``style`` ``"line"``, ``"dashed"`` or ``"points"`` (small open circles)."""

    x: np.ndarray
    y: np.ndarray
    label: str
    color: str
    style: str = "line"
    width: float = 1.5


def nice_ticks(low: float, high: float, n: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(n - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + k * step, 12) for k in range(int((high - first) / step + 1e-9) + 1)]


def _label(v: float, step: float) -> str:
    digits = max(0, -int(math.floor(math.log10(step)))) if step > 0 else 0
    return f"{v:.{digits}f}" if digits < 6 else f"{v:.2e}"


def line_plot(series: list[Series], *, xlabel: str, ylabel: str, width: int = 620, height: int = 340,
              hlines: tuple[tuple[float, str], ...] = (), title: str = "") -> str:
    """An inline ``<svg>`` of ``series`` on shared axes, with a legend along the top.

    Parameters
    ----------
    series : list of Series
    xlabel, ylabel : str
        Axis titles (plain text, escaped here).
    hlines : tuple of (y, colour)
        Thin dotted horizontal lines (e.g. the zero of an offset difference curve).
    title : str
        Accessible name.
    """
    left, right, top, bottom = 64, 14, 26, 42
    xs = np.concatenate([np.asarray(s.x, float) for s in series]) if series else np.zeros(0)
    ys = np.concatenate([np.asarray(s.y, float) for s in series] + [np.array([y for y, _ in hlines], float)]) \
        if series else np.zeros(0)
    xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
    x0, x1 = (float(xs.min()), float(xs.max())) if xs.size else (0.0, 1.0)
    y0, y1 = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
    if x1 <= x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    pad = 0.04 * (y1 - y0) if y1 > y0 else 0.5
    y0, y1 = y0 - pad, y1 + pad
    pw, ph = width - left - right, height - top - bottom

    def px(x):
        return left + (np.asarray(x, float) - x0) / (x1 - x0) * pw

    def py(y):
        return top + (y1 - np.asarray(y, float)) / (y1 - y0) * ph

    out = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" class="plot" '
           'font-family="sans-serif" font-size="11" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#888"/>']
    for ticks, axis in ((nice_ticks(x0, x1), "x"), (nice_ticks(y0, y1), "y")):
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        for t in ticks:
            if axis == "x":
                p = float(px(t))
                out.append(f'<line x1="{p:.1f}" y1="{top + ph}" x2="{p:.1f}" y2="{top + ph + 4}" stroke="#555"/>'
                           f'<text x="{p:.1f}" y="{top + ph + 16}" text-anchor="middle">{_label(t, step)}</text>')
            else:
                p = float(py(t))
                out.append(f'<line x1="{left - 4}" y1="{p:.1f}" x2="{left}" y2="{p:.1f}" stroke="#555"/>'
                           f'<line x1="{left}" y1="{p:.1f}" x2="{left + pw}" y2="{p:.1f}" stroke="#eee"/>'
                           f'<text x="{left - 7}" y="{p + 4:.1f}" text-anchor="end">{_label(t, step)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">{escape(xlabel)}</text>'
               f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" text-anchor="middle">{escape(ylabel)}</text>')
    out.append(f'<svg x="{left}" y="{top}" width="{pw}" height="{ph}" viewBox="{left} {top} {pw} {ph}">')
    for y, color in hlines:
        p = float(py(y))
        out.append(f'<line x1="{left}" y1="{p:.1f}" x2="{left + pw}" y2="{p:.1f}" stroke="{color}" '
                   'stroke-dasharray="2 3"/>')
    for s in series:
        X, Y = px(s.x), py(s.y)
        ok = np.isfinite(X) & np.isfinite(Y)
        if s.style == "points":
            out.append(f'<g fill="none" stroke="{s.color}" stroke-width="0.8">' + "".join(
                f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2"/>' for a, b in zip(X[ok], Y[ok])) + "</g>")
            continue
        dash = ' stroke-dasharray="5 3"' if s.style == "dashed" else ""
        breaks = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(int), [0]])))
        for a, b in zip(breaks[::2], breaks[1::2]):
            pts = " ".join(f"{u:.1f},{v:.1f}" for u, v in zip(X[a:b], Y[a:b]))
            out.append(f'<polyline points="{pts}" fill="none" stroke="{s.color}" stroke-width="{s.width}"{dash}/>')
    out.append("</svg>")
    x = left + 8
    for s in series:
        mark = (f'<circle cx="{x + 9}" cy="12" r="3" fill="none" stroke="{s.color}"/>' if s.style == "points" else
                f'<line x1="{x}" y1="12" x2="{x + 18}" y2="12" stroke="{s.color}" stroke-width="2"'
                + (' stroke-dasharray="5 3"' if s.style == "dashed" else "") + "/>")
        out.append(f'{mark}<text x="{x + 23}" y="16">{escape(s.label)}</text>')
        x += 32 + 6.5 * len(s.label)
    out.append("</svg>")
    return "".join(out)


__all__ = ["Series", "line_plot", "nice_ticks"]
