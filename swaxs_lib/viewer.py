"""3D views of clusters as HTML: 3Dmol.js driven through py3Dmol, with the script served locally.

py3Dmol writes the viewer's HTML and JavaScript but ships no 3Dmol.js; the page
loads it from ``script_url``.  The dashboard serves ``static/3Dmol-min.js`` (the
npm package ``3dmol``, the version py3Dmol expects) at ``app/static/`` so
that no CDN is needed.  No Streamlit import here: a page puts the HTML into
``st.components.v1.html``.
"""

from __future__ import annotations

import colorsys

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
    width: int = 640,
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
    width, height : int
        Size in pixels.
    script_url : str
        URL of 3Dmol-min.js.

    Returns
    -------
    str
        A self-contained HTML fragment.
    """
    if style not in STYLES:
        raise SwaxsInputError(f"style: got {style!r}; expected one of {', '.join(STYLES)}")
    if color_by not in COLOR_BY:
        raise SwaxsInputError(f"color_by: got {color_by!r}; expected one of {', '.join(COLOR_BY)}")
    if len(atoms) == 0:
        raise SwaxsInputError("atoms: got an empty structure; expected at least one atom")
    view = py3Dmol.view(width=int(width), height=int(height), js=script_url)
    view.addModel(_xyz(atoms), "xyz")
    if color_by == "element":
        groups = {}
        for i, symbol in enumerate(atoms.get_chemical_symbols()):
            groups.setdefault(_hex(jmol_colors[atomic_numbers[symbol]]), []).append(i)
    else:
        cn = coordination_numbers(atoms)
        groups = {}
        for i, n in enumerate(cn):
            groups.setdefault(coordination_color(int(n)), []).append(i)
    for color, indices in groups.items():
        view.setStyle({"index": indices}, _style(style, color))
    view.zoomTo()
    view.zoom(0.85)  # zoomTo fits atom centres; leave room for the spheres drawn around them
    return view._make_html()


def trajectory_view_html(
    symbols,
    frames,
    *,
    style: str = "sphere",
    width: int = 640,
    height: int = 480,
    interval_ms: int = 150,
    script_url: str = VIEWER_SCRIPT_URL,
) -> str:
    """HTML that plays ``frames`` (positions, Å) of one set of atoms as a looping 3D animation.

    Colours are the element's (Jmol); each frame is a model of 3Dmol's
    ``addModelsAsFrames``, played by ``animate`` (loop, ``interval_ms`` per frame).
    """
    if style not in STYLES:
        raise SwaxsInputError(f"style: got {style!r}; expected one of {', '.join(STYLES)}")
    frames = [np.asarray(f, dtype=float) for f in frames]
    if not frames or any(f.shape != (len(symbols), 3) for f in frames):
        raise SwaxsInputError("frames: expected one or more (n_atoms, 3) position arrays")
    text = "".join(_xyz(Atoms(list(symbols), positions=f)) for f in frames)
    view = py3Dmol.view(width=int(width), height=int(height), js=script_url)
    view.addModelsAsFrames(text, "xyz")
    for symbol in sorted(set(symbols)):
        view.setStyle({"elem": symbol}, _style(style, _hex(jmol_colors[atomic_numbers[symbol]])))
    view.zoomTo()
    view.zoom(0.85)
    view.animate({"loop": "forward", "interval": int(interval_ms)})
    return view._make_html()


def coordination_color(n: int) -> str:
    """Hex colour for coordination number ``n``: blue (<= 3) through green to red (>= 12)."""
    t = min(max((n - 3) / 9.0, 0.0), 1.0)
    r, g, b = colorsys.hsv_to_rgb((1.0 - t) * 2.0 / 3.0, 0.85, 0.95)
    return _hex((r, g, b))


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
