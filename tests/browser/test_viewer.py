"""The 3D cluster view draws in headless Chromium from the shipped 3Dmol.js (no network)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures import cuboctahedron, decahedron
from swaxs_lib.viewer import cluster_view_html, coordination_color
from tests.browser.conftest import ROOT, save_screenshot

SCRIPT = ROOT / "static" / "3Dmol-min.js"


def render(page, tmp_path, html: str, name: str) -> np.ndarray:
    path = tmp_path / f"{name}.html"
    path.write_text(f"<html><body style='margin:0;background:white'>{html}</body></html>")
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelector('canvas') !== null", timeout=20_000)
    page.wait_for_timeout(500)
    shot = save_screenshot(page, name)
    return np.asarray(Image.open(shot).convert("RGB")).astype(int)


def test_decahedron_is_drawn_from_the_local_script(page, tmp_path):
    html = cluster_view_html(decahedron("Au", 3, 1, 2).atoms, width=500, height=400, script_url=SCRIPT.as_uri())
    assert "cdn" not in html.lower()
    pixels = render(page, tmp_path, html, "viewer-decahedron")
    drawn = pixels.sum(axis=-1) < 700  # not white
    assert drawn.sum() > 10_000


def test_colour_by_coordination_uses_one_colour_per_number(page, tmp_path):
    # a 4-shell cuboctahedron's surface has coordination 5 (vertices), 7 (edges), 8 and 9 (faces);
    # the interior (12) is hidden behind it
    atoms = cuboctahedron("Au", 4).atoms
    html = cluster_view_html(atoms, color_by="coordination", width=500, height=400, script_url=SCRIPT.as_uri())
    pixels = render(page, tmp_path, html, "viewer-coordination")
    hues = {}
    for n in (5, 7, 8, 9):
        target = np.array(Image.new("RGB", (1, 1), coordination_color(n)).getpixel((0, 0)))
        # shaded spheres: count pixels whose colour is a darker or lighter copy of the target's hue
        norm = pixels / np.maximum(pixels.sum(-1, keepdims=True), 1)
        hues[n] = int((np.abs(norm - target / target.sum()).sum(-1) < 0.03).sum())
    assert all(count > 200 for count in hues.values()), hues


def test_bad_options_are_input_errors():
    atoms = decahedron("Au", 2, 1, 0).atoms
    with pytest.raises(SwaxsInputError, match="style"):
        cluster_view_html(atoms, style="cartoon")
    with pytest.raises(SwaxsInputError, match="color_by"):
        cluster_view_html(atoms, color_by="charge")
