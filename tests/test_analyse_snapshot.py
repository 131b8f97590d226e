"""The report's cluster picture (swaxs_lib.analyse.snapshot): geometry read back from the SVG it writes.

References are closed forms: an orthographic projection keeps the ratio of distances along a line
(atoms at 0, d and 3 d along any direction are drawn with centre gaps in the ratio 1 : 2), a Mackay
icosahedron of 4 shells has 147 atoms, and circles of one element have one radius (its covalent
radius, ase.data.covalent_radii: Au 1.36 Å, O 0.66 Å).  Tolerance: the SVG's 0.01 px rounding.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest
from ase import Atoms
from ase.cluster import Icosahedron

from swaxs_lib.analyse.snapshot import cluster_svg


class _Circles(HTMLParser):
    def __init__(self):
        super().__init__()
        self.circles = []

    def handle_starttag(self, tag, attrs):
        if tag == "circle":
            a = dict(attrs)
            self.circles.append((float(a["cx"]), float(a["cy"]), float(a["r"])))


def _circles(svg: str) -> np.ndarray:
    parser = _Circles()
    parser.feed(svg)
    return np.array(parser.circles)


def test_one_circle_per_atom_and_deterministic():
    atoms = Icosahedron("Au", 4)  # ASE's builder: 147 atoms (Mackay 1962)
    svg = cluster_svg(atoms, title="Au147")
    assert len(atoms) == 147 and len(_circles(svg)) == 147
    assert svg == cluster_svg(atoms, title="Au147")


@pytest.mark.parametrize("direction", [(1, 0, 0), (0, 0, 1), (1, 2, -0.5)])
def test_collinear_atoms_keep_their_distance_ratio(direction):
    u = np.asarray(direction, float) / np.linalg.norm(direction)
    d = 2.9
    atoms = Atoms("Au3", positions=[0 * u, d * u, 3 * d * u])
    c = _circles(cluster_svg(atoms))
    gaps = sorted(np.hypot(*(c[i, :2] - c[j, :2])) for i, j in ((0, 1), (0, 2), (1, 2)))  # d, 2d, 3d drawn
    assert gaps[0] > 5  # none of these directions is seen end-on
    assert gaps[1] / gaps[0] == pytest.approx(2.0, abs=0.01) and gaps[2] / gaps[0] == pytest.approx(3.0, abs=0.01)
    assert np.ptp(c[:, 2]) < 0.011  # one element, one radius


def test_radii_follow_the_elements_and_the_label_is_escaped():
    atoms = Atoms("AuO", positions=[(0, 0, 0), (3, 0, 0)])
    svg = cluster_svg(atoms, title="<script>alert(1)</script>")
    r = sorted(_circles(svg)[:, 2])
    assert r[0] / r[1] == pytest.approx(0.66 / 1.36, rel=0.01)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert not re.search(r"https?://", svg)
