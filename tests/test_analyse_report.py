"""The analysis report (swaxs_lib.analyse.report) and its hand-written plots (swaxs_lib.analyse.svgplot).

The report is built from a real analysis (swaxs_lib.analyse.pipeline.analyse) of a synthetic G(r) of a
55-atom Au Mackay icosahedron (the real-space model of swaxs_lib.models.cluster_gr with band-limited
noise, as tests/test_mixture.py makes it), two families, two candidates each, one relaxed.  What is
checked is what the issue asks of the page: it parses, it loads nothing from outside the file (no
http(s) or protocol-relative address, no script), untrusted text (file name, labels) comes out
escaped, one cluster picture per best candidate with atoms, and the CSV links decode to tables with
one row per ranked candidate.  The plot's coordinates are checked against the closed form of a
linear axis mapping; tick values against the 1-2-5 rule worked by hand.
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import numpy as np
import pytest

from swaxs_lib.analyse.svgplot import Series, line_plot, nice_ticks
from swaxs_lib.io import Measurement
from swaxs_lib.models import cluster_gr
from swaxs_lib.structures import icosahedron

HOSTILE = "<script>alert('x')</script>"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.addresses, self.svg_classes, self.stack = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.addresses += [a[k] for k in ("src", "href", "xlink:href", "action") if a.get(k)]
        if tag == "svg":
            self.svg_classes.append(a.get("class"))


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    from swaxs_lib.analyse.pipeline import analyse
    from swaxs_lib.store import Store

    atoms = icosahedron("Au", 3).atoms
    r = np.arange(1.0, 16.0 + 1e-9, 0.05)
    g = 0.8 * cluster_gr.model_curve(cluster_gr.histogram_for(atoms, 20.0), r, 0.5, 20.0, zoom=1.01, u=0.008,
                                     qdamp=0.03)
    dq = 0.05
    q = np.arange(dq, 20.0, dq)
    e = np.sin(np.outer(r, q)) @ np.random.default_rng(1).normal(size=q.size)
    g = g + e * 0.02 * np.abs(g).max() / e.std()
    data = Measurement("gr", r, g, None, f"ico55 {HOSTILE}.gr", "angstrom")
    store = Store(tmp_path_factory.mktemp("report") / "s.duckdb")
    result = analyse(store, data, element="Au", families=("icosahedron", "decahedron"), max_per_family=2,
                     relax_top=1, use_prior=False, workers=1)
    return result, data, store


def test_report_is_self_contained_escaped_and_complete(analysed, tmp_path):
    from swaxs_lib.analyse.report import write_report

    result, data, store = analysed
    rows = list(result.rows)
    rows[1] = dataclasses.replace(rows[1], label=f"evil {HOSTILE}")
    result = dataclasses.replace(result, rows=tuple(rows), warnings=(*result.warnings, f"note {HOSTILE}"))
    path = write_report(tmp_path / "report.html", result, data, store=store)
    text = path.read_text(encoding="utf-8")
    page = _parse(text)

    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert not re.search(r"(?:https?:)?//", " ".join(page.addresses))
    assert all(a.startswith("data:text/csv") for a in page.addresses)
    assert HOSTILE not in text and "&lt;script&gt;" in text
    import html

    assert html.escape(result.rows[0].label) in text and html.escape(rows[1].label) in text
    with_atoms = [r for r in result.rows[:3] if r.n_atoms > 0]
    assert page.svg_classes.count("snapshot") == len(with_atoms) >= 2
    assert page.svg_classes.count("plot") >= 1 + len(result.rows[:3])  # the data, then one fit per best row

    csvs = {re.search(r"download='([^']+)'", m.group(0)).group(1): unquote(m.group(1))
            for m in re.finditer(r"<a class='csv' download='[^']+' href='data:text/csv;charset=utf-8,([^']*)'", text)}
    ranking = csvs["ranking.csv"].splitlines()
    header = ranking[0].split(",")
    assert header[:2] == ["rank", "label"] and {"n_atoms", "extent_angstrom", "volume_diameter_angstrom", "rw",
                                                "best_group", "energy_ev_per_atom"} <= set(header)
    assert len(ranking) == 1 + len(result.rows)
    assert csvs["data.csv"].splitlines()[0] == "r_angstrom,g_inv_angstrom2"
    assert len(csvs["data.csv"].splitlines()) == 1 + len(data.x)
    assert "What the data cannot decide" in text


def test_line_plot_maps_data_linearly_onto_the_box():
    x = np.linspace(0.0, 10.0, 11)
    svg = line_plot([Series(x, 2 * x, "y = 2x", "#000")], xlabel="x", ylabel="y", width=600, height=300)
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1)
    xy = np.array([[float(v) for v in p.split(",")] for p in points.split()])
    assert len(xy) == 11
    # a straight line stays straight (pixel steps equal to the 0.1 px rounding), x = 0 on the left edge
    assert np.ptp(np.diff(xy[:, 0])) < 0.21 and np.ptp(np.diff(xy[:, 1])) < 0.21
    box = re.search(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', svg).groups()
    left, top, w, h = (float(v) for v in box)
    assert xy[0, 0] == pytest.approx(left, abs=0.06) and xy[-1, 0] == pytest.approx(left + w, abs=0.06)
    assert top < xy[-1, 1] < xy[0, 1] < top + h  # y grows upwards, inside the padded box


def test_line_plot_breaks_lines_at_missing_points():
    y = np.array([1.0, 2.0, np.nan, 3.0, 4.0])
    svg = line_plot([Series(np.arange(5.0), y, "gap", "#000")], xlabel="x", ylabel="y")
    assert svg.count("<polyline") == 2


@pytest.mark.parametrize("low, high, expected", [
    (0.0, 10.0, [0, 2, 4, 6, 8, 10]),        # (10 - 0) / 5 = 2 -> step 2
    (-1.3, 6.4, [0, 2, 4, 6]),               # 7.7 / 5 = 1.54 -> step 2, from ceil(-0.65) * 2 = 0
    (0.013, 0.087, [0.02, 0.04, 0.06, 0.08]),  # 0.0148 -> step 0.02
])
def test_nice_ticks_follow_the_1_2_5_rule(low, high, expected):
    assert nice_ticks(low, high) == pytest.approx(expected)
