"""A static picture of a cluster as inline SVG: atoms as shaded circles seen from one fixed oblique view.

For the analysis report (:mod:`swaxs_lib.analyse.report`), which must open anywhere without a script
or a network: an orthographic projection along a fixed direction (rotated 35° about z, then 25° about x,
so that the five-fold axis of an icosahedron built along z is not seen end-on), atoms drawn far to near
(the painter's algorithm), each a circle of its covalent radius (:data:`ase.data.covalent_radii`) in its
Jmol colour (:data:`ase.data.colors.jmol_colors`) with a radial highlight, nearer atoms brighter
(five shades of depth).  Same atoms, same picture (byte for byte).

Validation: tests/test_analyse_snapshot.py (one circle per atom, collinear atoms drawn at their distance
ratio, equal atoms at equal radii, identical output twice).
"""

from __future__ import annotations

import math

import numpy as np

#: The view: rows are the screen's x (right), y (up) and the depth (towards the viewer).
_A, _B = math.radians(35.0), math.radians(25.0)
#: Shades of depth (far atoms darker).
LEVELS = 5
VIEW = (np.array([[1, 0, 0], [0, math.cos(_B), -math.sin(_B)], [0, math.sin(_B), math.cos(_B)]])
        @ np.array([[math.cos(_A), -math.sin(_A), 0], [math.sin(_A), math.cos(_A), 0], [0, 0, 1]]))


def project(positions_angstrom: np.ndarray) -> np.ndarray:
    """Screen coordinates (x right, y up) and depth (towards the viewer) of each atom, in Å, centred."""
    p = np.asarray(positions_angstrom, dtype=float).reshape(-1, 3)
    return (p - p.mean(axis=0)) @ VIEW.T if len(p) else p


def cluster_svg(atoms, *, size_px: int = 260, title: str = "") -> str:
    """The cluster as an inline ``<svg>`` element (one ``<circle>`` per atom, far ones first).

    Parameters
    ----------
    atoms : ase.Atoms
        Positions in Å.
    size_px : int
        Width and height of the picture.
    title : str
        Tooltip and accessible name (escaped here).

    Returns
    -------
    str
        ``<svg ...>...</svg>``; a 1 nm scale bar in the lower left.
    """
    from html import escape

    from ase.data import covalent_radii
    from ase.data.colors import jmol_colors

    numbers = np.asarray(atoms.get_atomic_numbers())
    p = project(atoms.get_positions())
    radii = np.array([covalent_radii[z] for z in numbers]) if len(numbers) else np.zeros(0)
    margin = 8.0
    half = float(np.max(np.abs(p[:, :2]) + radii[:, None])) if len(p) else 1.0
    scale = (size_px / 2 - margin) / max(half, 1e-9)  # px per Å
    c = size_px / 2
    depth = p[:, 2] if len(p) else np.zeros(0)
    span = float(np.ptp(depth)) if len(depth) > 1 else 0.0
    order = np.lexsort((np.arange(len(p)), depth))  # far first; ties by index: deterministic
    gradients, circles = {}, []
    for k in order:
        z = int(numbers[k])
        level = int(round((LEVELS - 1) * ((depth[k] - depth.min()) / span if span > 0 else 1.0)))
        key = f"a{z}-{level}"
        if key not in gradients:
            light = 0.6 + 0.4 * level / (LEVELS - 1)  # nearer atoms brighter
            r, g, b = (int(round(255 * v * light)) for v in jmol_colors[z])
            gradients[key] = (f'<radialGradient id="{key}" cx="0.35" cy="0.35" r="0.7">'
                              f'<stop offset="0" stop-color="rgb({min(255, r + 110)},{min(255, g + 110)},'
                              f'{min(255, b + 110)})"/><stop offset="0.3" stop-color="rgb({r},{g},{b})"/>'
                              f'<stop offset="1" stop-color="rgb({int(r * .4)},{int(g * .4)},{int(b * .4)})"/>'
                              '</radialGradient>')
        circles.append(f'<circle cx="{c + scale * p[k, 0]:.2f}" cy="{c - scale * p[k, 1]:.2f}" '
                       f'r="{scale * radii[k]:.2f}" fill="url(#{key})" stroke="#0003" stroke-width="0.5"/>')
    bar = 10.0 * scale  # 1 nm
    scalebar = ""
    if bar < size_px - 2 * margin:
        y = size_px - 6
        scalebar = (f'<line x1="{margin}" y1="{y}" x2="{margin + bar:.2f}" y2="{y}" stroke="#333" stroke-width="2"/>'
                    f'<text x="{margin + bar / 2:.2f}" y="{y - 4}" font-size="10" text-anchor="middle" '
                    f'fill="#333">1 nm</text>')
    label = escape(title)
    return (f'<svg width="{size_px}" height="{size_px}" '
            f'viewBox="0 0 {size_px} {size_px}" role="img" aria-label="{label}" class="snapshot" font-family="sans-serif">'
            f'<title>{label}</title><defs>{"".join(gradients[k] for k in sorted(gradients))}</defs>'
            f'{"".join(circles)}{scalebar}</svg>')


__all__ = ["LEVELS", "VIEW", "cluster_svg", "project"]
