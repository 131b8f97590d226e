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


def _frame_page(page, tmp_path, html: str, name: str, width: int, height: int) -> np.ndarray:
    """``html`` in an iframe of ``width`` × ``height`` px (as a page's st.iframe holds it); its screenshot."""
    inner = tmp_path / f"{name}-inner.html"
    inner.write_text(f"<html><body>{html}</body></html>")
    outer = tmp_path / f"{name}.html"
    outer.write_text(f"<html><body style='margin:0;background:white'><iframe src='{inner.as_uri()}' width='{width}' "
                     f"height='{height}' style='border:0;display:block'></iframe></body></html>")
    page.goto(outer.as_uri())
    frame = page.frames[1]
    frame.wait_for_function("document.querySelector('canvas') !== null", timeout=20_000)
    page.wait_for_timeout(800)
    shot = tmp_path / f"{name}.png"
    page.locator("iframe").screenshot(path=str(shot))
    save_screenshot(page, name)
    return np.asarray(Image.open(shot).convert("RGB")).astype(int)


@pytest.mark.parametrize("width, height", [(300, 360), (600, 300)])
def test_a_view_fills_its_frame_and_the_whole_cluster_fits_inside(page, tmp_path, width, height):
    # Relax's view once drew a 340 px canvas in a narrower column, behind an 8 px body margin: the cluster was cut
    atoms = cuboctahedron("Au", 6).atoms
    html = cluster_view_html(atoms, height=height, script_url=SCRIPT.as_uri())
    pixels = _frame_page(page, tmp_path, html, f"viewer-fit-{width}x{height}", width, height)
    assert pixels.shape[:2] == (height, width)
    drawn = pixels.sum(axis=-1) < 720
    rows, columns = np.nonzero(drawn)
    # the cluster is drawn across most of the shorter side, and nothing touches the frame's edge
    extent = max(rows.max() - rows.min(), columns.max() - columns.min())
    assert extent > 0.6 * min(width, height), extent
    assert rows.min() > 2 and columns.min() > 2 and rows.max() < height - 3 and columns.max() < width - 3, (
        rows.min(), rows.max(), columns.min(), columns.max())


def test_playing_a_trajectory_keeps_the_coordination_colours(page, tmp_path):
    # the still view colours by coordination; Play once switched to element colours (Au gold)
    from swaxs_lib.viewer import trajectory_view_html

    atoms = cuboctahedron("Au", 4).atoms
    frames = [atoms.positions * f for f in (1.0, 1.01, 1.02)]
    html = trajectory_view_html(atoms.get_chemical_symbols(), frames, color_by="coordination", height=360,
                                script_url=SCRIPT.as_uri())
    pixels = _frame_page(page, tmp_path, html, "viewer-trajectory-coordination", 400, 360)
    norm = pixels / np.maximum(pixels.sum(-1, keepdims=True), 1)

    def count(hex_colour: str) -> int:
        target = np.array(Image.new("RGB", (1, 1), hex_colour).getpixel((0, 0)), dtype=float)
        return int((np.abs(norm - target / target.sum()).sum(-1) < 0.03).sum())

    gold = "#ffd123"  # Jmol's Au
    assert count(gold) < 50 and all(count(coordination_color(n)) > 200 for n in (5, 7, 8)), (
        count(gold), [count(coordination_color(n)) for n in (5, 7, 8, 9)])


def test_a_view_zooms_again_when_its_frame_is_narrowed_after_drawing(page, tmp_path):
    # a page lays out its columns after the view has drawn: at 1280 px Relax's frame ended 290 px wide, 360 tall
    atoms = cuboctahedron("Au", 6).atoms
    html = cluster_view_html(atoms, height=360, script_url=SCRIPT.as_uri())
    _frame_page(page, tmp_path, html, "viewer-narrowed-before", 600, 360)
    page.evaluate("document.querySelector('iframe').width = 260")
    page.wait_for_timeout(800)
    shot = tmp_path / "narrowed.png"
    page.locator("iframe").screenshot(path=str(shot))
    save_screenshot(page, "viewer-narrowed")
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (360, 260)
    rows, columns = np.nonzero(pixels.sum(axis=-1) < 720)
    assert columns.min() > 2 and columns.max() < 257 and rows.min() > 2 and rows.max() < 357, (
        columns.min(), columns.max(), rows.min(), rows.max())
    assert columns.max() - columns.min() > 0.6 * 260
