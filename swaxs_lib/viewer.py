"""3D views of clusters as HTML: 3Dmol.js driven through py3Dmol, with the script served locally.

py3Dmol writes the viewer's HTML and JavaScript but ships no 3Dmol.js; the page
loads it from ``script_url``.  The dashboard serves ``static/3Dmol-min.js`` (the
npm package ``3dmol``, the version py3Dmol expects) at ``app/static/`` so
that no CDN is needed.  No Streamlit import here: a page puts the HTML into
``st.iframe``.

A view fills the width of the frame it is put in (``width="100%"``, the
default) and draws the whole cluster inside it: the body has no margin, and
the zoom leaves room for the spheres drawn around the outermost atom centres.
"""

from __future__ import annotations

import colorsys
import re

import numpy as np
import py3Dmol
from ase import Atoms
from ase.data import atomic_numbers
from ase.data.colors import jmol_colors

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures.metadata import coordination_numbers

#: Where Streamlit's static serving puts ``static/3Dmol-min.js`` (relative to the app's URL).
VIEWER_SCRIPT_URL = "app/static/3Dmol-min.js"

STYLES = ("sphere", "stick", "ball-and-stick")
COLOR_BY = ("element", "coordination")


def cluster_view_html(
    atoms: Atoms,
    *,
    style: str = "sphere",
    color_by: str = "element",
    width: int | str = "100%",
    height: int = 480,
    script_url: str = VIEWER_SCRIPT_URL,
) -> str:
    """HTML that draws ``atoms`` in 3D (rotate with the mouse, zoom with the wheel).

    Parameters
    ----------
    atoms : ase.Atoms
        The cluster (positions in Å).
    style : {"sphere", "stick", "ball-and-stick"}
    color_by : {"element", "coordination"}
        Jmol element colours, or a colour per coordination number (blue for
        low, red for 12 and above), the same for equal numbers.
    width : int or str
        Pixels, or a CSS width (``"100%"``: the frame's width).
    height : int
        Pixels.
    script_url : str
        URL of 3Dmol-min.js.

    Returns
    -------
    str
        A self-contained HTML fragment.
    """
    _check(style, color_by)
    if len(atoms) == 0:
        raise SwaxsInputError("atoms: got an empty structure; expected at least one atom")
    view = _view(width, height, script_url)
    view.addModel(_xyz(atoms), "xyz")
    for color, indices in _colour_groups(atoms, color_by).items():
        view.setStyle({"index": indices}, _style(style, color))
    return _fitted_html(view, atoms.positions, style)


def trajectory_view_html(
    symbols,
    frames,
    *,
    style: str = "sphere",
    color_by: str = "element",
    width: int | str = "100%",
    height: int = 480,
    interval_ms: int = 150,
    script_url: str = VIEWER_SCRIPT_URL,
) -> str:
    """HTML that plays ``frames`` (positions, Å) of one set of atoms as a looping 3D animation.

    Each frame is a frame of 3Dmol's ``addModelsAsFrames``, played by ``animate``
    (loop, ``interval_ms`` per frame).  ``color_by`` as in :func:`cluster_view_html`;
    by coordination each frame is coloured by its own coordination numbers, so
    that the animation looks like the still view of each step.  The zoom fits
    every frame.
    """
    _check(style, color_by)
    frames = [np.asarray(f, dtype=float) for f in frames]
    if not frames or any(f.shape != (len(symbols), 3) for f in frames):
        raise SwaxsInputError("frames: expected one or more (n_atoms, 3) position arrays")
    structures = [Atoms(list(symbols), positions=f) for f in frames]
    view = _view(width, height, script_url)
    view.addModelsAsFrames("".join(_xyz(a) for a in structures), "xyz")
    if color_by == "element":
        for color, indices in _colour_groups(structures[0], "element").items():
            view.setStyle({"index": indices}, _style(style, color))
    else:
        for k, atoms in enumerate(structures):
            for color, indices in _colour_groups(atoms, color_by).items():
                view.setStyle({"frame": k, "index": indices}, _style(style, color))
    view.animate({"loop": "forward", "interval": int(interval_ms)})
    return _fitted_html(view, np.concatenate(frames), style)


def coordination_color(n: int) -> str:
    """Hex colour for coordination number ``n``: blue (<= 3) through green to red (>= 12)."""
    t = min(max((n - 3) / 9.0, 0.0), 1.0)
    r, g, b = colorsys.hsv_to_rgb((1.0 - t) * 2.0 / 3.0, 0.85, 0.95)
    return _hex((r, g, b))


#: The fragment fills its frame: no body margin (a frame as wide as the view would clip it), no scroll bars.
_FILL = "<style>html, body { margin: 0; padding: 0; overflow: hidden; }</style>\n"


def _check(style: str, color_by: str) -> None:
    if style not in STYLES:
        raise SwaxsInputError(f"style: got {style!r}; expected one of {', '.join(STYLES)}")
    if color_by not in COLOR_BY:
        raise SwaxsInputError(f"color_by: got {color_by!r}; expected one of {', '.join(COLOR_BY)}")


def _view(width: int | str, height: int, script_url: str):
    if isinstance(width, str) and not width.strip():
        raise SwaxsInputError("width: got an empty string; expected pixels or a CSS width such as '100%'")
    return py3Dmol.view(width=width if isinstance(width, str) else int(width), height=int(height), js=script_url)


def _colour_groups(atoms: Atoms, color_by: str) -> dict[str, list[int]]:
    """Hex colour -> the indices of the atoms drawn in it."""
    groups: dict[str, list[int]] = {}
    if color_by == "element":
        for i, symbol in enumerate(atoms.get_chemical_symbols()):
            groups.setdefault(_hex(jmol_colors[atomic_numbers[symbol]]), []).append(i)
    else:
        for i, n in enumerate(coordination_numbers(atoms)):
            groups.setdefault(coordination_color(int(n)), []).append(i)
    return groups


def _fitted_html(view, positions: np.ndarray, style: str) -> str:
    """The view's HTML, zoomed so that the drawn spheres, not only the atom centres, fit its frame,
    now and whenever the frame changes size.

    3Dmol's ``zoomTo`` fits the atom centres (their bounding sphere) into the
    view's height; the spheres reach ``radius`` further, so the view is zoomed
    out by R / (R + radius) with R half the centres' bounding-box diagonal, by
    a further 0.92 for a margin, and, in a frame narrower than it is tall, by
    width / height.  A page's frame often gets its width only after the view
    was drawn (a column laid out later), so a ``ResizeObserver`` zooms again.
    """
    positions = np.asarray(positions, dtype=float)
    half_diagonal = 0.5 * float(np.linalg.norm(positions.max(axis=0) - positions.min(axis=0)))
    radius = _style(style, "#000000").get("sphere", {}).get("radius", 0.25)
    factor = 0.92 * half_diagonal / (half_diagonal + radius) if half_diagonal > 0 else 0.5
    view.zoomTo()
    view.zoom(factor)
    html = view._make_html()
    viewer = re.search(r"var (viewer_\d+) = null;", html).group(1)
    box = viewer.replace("viewer_", "3dmolviewer_")
    refit = f"""<script>
$3Dmolpromise.then(function() {{
  const box = document.getElementById("{box}");
  const fit = function() {{
    if (!{viewer} || !box.clientWidth || !box.clientHeight) return;
    {viewer}.resize();
    {viewer}.zoomTo();
    {viewer}.zoom({factor:.6f} * Math.min(1, box.clientWidth / box.clientHeight));
    {viewer}.render();
  }};
  if (typeof ResizeObserver !== "undefined") new ResizeObserver(fit).observe(box);
  fit();
}});
</script>
"""
    return _FILL + html + refit


def _style(style: str, color: str) -> dict:
    if style == "sphere":
        return {"sphere": {"radius": 1.2, "color": color}}
    if style == "stick":
        return {"stick": {"radius": 0.25, "color": color}}
    return {"sphere": {"radius": 0.6, "color": color}, "stick": {"radius": 0.2, "color": color}}


def _hex(rgb) -> str:
    r, g, b = (int(round(255 * float(c))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _xyz(atoms: Atoms) -> str:
    lines = [str(len(atoms)), "swaxs"]
    for symbol, (x, y, z) in zip(atoms.get_chemical_symbols(), np.asarray(atoms.positions, dtype=float)):
        lines.append(f"{symbol} {x:.6f} {y:.6f} {z:.6f}")
    return "\n".join(lines) + "\n"
