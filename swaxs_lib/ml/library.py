"""The library search: every noise-free library curve fitted to the data and ranked by R_w.

The library search (the baseline) fits every noise-free library curve to the
data with a least-squares scale (and, for I(Q), a constant background) over
the covered windows and ranks them by

    R_w = sqrt( sum w (y - s m - b)^2 / sum w y^2 ),

with w = 1 / y^2 for I(Q) (relative residuals: intensities span decades) and
w = 1 for G(r); the scale must be positive and the background non-negative
(where the free fit breaks that, the scale alone is fitted; a curve that
still needs a negative scale gets R_w = inf).

A match opened in Compare (:func:`library_model`) is the library curve's own
model: the member built in its element at the element's lattice constant,
the library's B (Å²), Q damping, delta2 and, for G(r), its transform window,
fitted over the search's window(s) with Compare's exact least-squares scale
(and background) on the data's own points.  Its R_w is close to the
search's (for G(r) within about 0.005: the search interpolates the data
onto the library's grid, and its scale must be positive; for I(Q) the
range also covers the gap between the SAXS and WAXS windows and Compare
weights by the data's uncertainties when it has them): the page shows both.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from swaxs_lib.ml.catalog import ELEMENTS
from swaxs_lib.ml.features import WINDOWS
from swaxs_lib.ml.models import ModelBundle
from swaxs_lib.ml.prediction import Match

if TYPE_CHECKING:
    from swaxs_lib.views import CompareModel

#: Matches reported.
TOP_MATCHES = 5


def member_parameters(shape: str, element: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A library member's builder parameters in its element, from the gold template's (the library's labels).

    The library scales each gold template by the ratio of nearest-neighbour
    distances (:func:`swaxs_lib.ml.catalog.element_scale`): a shell count stays,
    a sphere's diameter (Å) scales with it (6 significant digits, which cut the
    same atoms: checked for Ni spheres up to 72 Å of every lattice).

    Examples
    --------
    >>> member_parameters("sphere", "Ni", {"diameter_angstrom": 27.0, "lattice": "bcc"})
    {'diameter_angstrom': 23.2941, 'lattice': 'bcc'}
    >>> member_parameters("icosahedron", "Ni", {"shells": 4})
    {'shells': 4}
    """
    from swaxs_lib.ml.catalog import element_scale

    out = dict(parameters)
    if "diameter_angstrom" in out:
        out["diameter_angstrom"] = float(f"{float(out['diameter_angstrom']) * element_scale(element):.6g}")
    return out


def library_search(bundle: ModelBundle, kind: str, x: np.ndarray, values: np.ndarray, *,
                   element: str | None = None, top: int = TOP_MATCHES,
                   allowed_elements: tuple[str, ...] | None = None) -> tuple[Match, ...]:
    """The ``top`` library curves closest to the data by R_w (see the module docstring), of ``element``
    (or of ``allowed_elements``) when given."""
    lib = bundle.library
    if not lib:
        return ()
    rw, scale, background = library_rw(lib, kind, x, values)
    candidates = np.arange(len(rw))
    if element is not None and element in ELEMENTS:
        candidates = candidates[lib["element"] == element]
    elif allowed_elements is not None:
        candidates = candidates[np.isin(lib["element"], list(allowed_elements))]
    candidates = candidates[np.isfinite(rw[candidates])]
    best = candidates[np.argsort(rw[candidates])[:top]]
    return tuple(
        Match(rank=k + 1, shape_class=str(lib["shape_class"][i]), shape=str(lib["shape"][i]),
              family=str(lib["family"][i]),
              parameters=member_parameters(str(lib["shape"][i]), str(lib["element"][i]),
                                           json.loads(str(lib["parameters_json"][i]))),
              element=str(lib["element"][i]), extent_nm=round(float(lib["diameter_angstrom"][i]) / 10.0, 4),
              n_atoms=int(lib["n_atoms"][i]), rw=round(float(rw[i]), 6), scale=float(scale[i]),
              background=float(background[i]), index=int(i))
        for k, i in enumerate(best)
    )


def library_rw(lib: dict[str, np.ndarray], kind: str, x: np.ndarray, values: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R_w, scale and background of every library curve against one curve (on the covered windows)."""
    if kind == "iq":
        grid = lib["q_inv_angstrom"]
        keep = np.zeros(len(grid), bool)
        for name in ("saxs", "waxs"):
            w = WINDOWS[name]
            if w.covered_by(x):
                keep |= (grid >= w.low - 1e-9) & (grid <= w.high + 1e-9)
        models = lib["iq"][:, keep].astype(float)
        y = np.interp(grid[keep], x, values)
        weight = 1.0 / np.maximum(np.abs(y), 1e-300) ** 2
        # per library curve: min over (s, b) of sum w (y - s m - b)^2, the 2x2 normal equations
        sw, sy = weight.sum(), (weight * y).sum()
        sm = models @ weight
        smm = (models**2) @ weight
        smy = models @ (weight * y)
        det = smm * sw - sm**2
        s = np.where(det > 0, (smy * sw - sm * sy) / np.where(det > 0, det, 1.0), 0.0)
        b = np.where(det > 0, (smm * sy - sm * smy) / np.where(det > 0, det, 1.0), 0.0)
        # a physical fit has scale > 0 and background >= 0: where the free fit breaks that, scale alone
        alone = smy / np.where(smm > 0, smm, 1.0)
        refit = (s <= 0) | (b < 0)
        s = np.where(refit, alone, s)
        b = np.where(refit, 0.0, b)
        resid = y[None, :] - s[:, None] * models - b[:, None]
    else:
        grid = lib["r_angstrom"]
        w = WINDOWS["gr"]
        keep = (grid >= w.low - 1e-9) & (grid <= w.high + 1e-9)
        models = lib["gr"][:, keep].astype(float)
        y = np.interp(grid[keep], x, values)
        weight = np.ones_like(y)
        smm = (models**2).sum(axis=1)
        s = np.where(smm > 0, models @ y / np.where(smm > 0, smm, 1.0), 0.0)
        b = np.zeros_like(s)
        resid = y[None, :] - s[:, None] * models
    rw = np.sqrt((resid**2 @ weight) / max(float((weight * y * y).sum()), 1e-300))
    rw = np.where(s > 0, rw, np.inf)  # a curve that only fits upside down does not match
    return rw, s, b


def library_model(match: Match, measurement) -> "CompareModel":
    """The library curve of ``match`` as a Compare page model (module docstring): what its hand-off link carries.

    Parameters
    ----------
    match : Match
    measurement : Measurement
        The measured curve the match was found for (any kind; S(Q) and F(Q)
        are compared as they are, not converted).

    Returns
    -------
    swaxs_lib.views.CompareModel
        zoom 1 + the library's expansion (0); ``u`` = B / 8π² (G(r)) or ``b`` = B
        (Q-space) with the library's B; G(r) also its ``qdamp``, ``delta2`` and
        Q window, no background, fit range its window (2–30 Å); Q-space a
        constant background (as the search) over the covered windows' span.

    Examples
    --------
    >>> import numpy as np
    >>> from swaxs_lib.io import Measurement
    >>> m = Measurement("gr", np.arange(0.5, 40.0, 0.01), np.ones(3950), None, "x.gr", "angstrom")
    >>> match = Match(1, "fcc_octahedron", "octahedron", "octahedron", {"length": 5}, "Pt", 1.1, 85, 0.2, 1.0, 0.0, 0)
    >>> library_model(match, m).query()
    {'zoom': '1', 'u': '0.00759909', 'delta2': '0', 'qdamp': '0.03', 'bg': 'none', 'xr': '2,30', 'qmin': '1', \
'qmax': '22', 'sas': '1'}
    """
    from swaxs_lib.ml.simulate import clean_variant
    from swaxs_lib.views import compare_model_of_fit

    variant = clean_variant(match.element)
    x = np.asarray(measurement.x, dtype=float)
    if measurement.kind == "gr":
        window = WINDOWS["gr"]
        values = {"zoom": 1.0 + variant.expansion, "u": variant.b_iso_angstrom2 / (8 * math.pi**2),
                  "delta2": variant.delta2_angstrom2, "qdamp": variant.q_damp_inv_angstrom}
        settings = {"x_min": window.low, "x_max": window.high, "background": "none",
                    "q_min_inv_angstrom": variant.pdf_q_min_inv_angstrom,
                    "q_max_inv_angstrom": variant.pdf_q_max_inv_angstrom, "small_angle": "subtract"}
    else:
        covered = [w for w in (WINDOWS["saxs"], WINDOWS["waxs"]) if w.covered_by(x)] or [WINDOWS["iq"]]
        values = {"zoom": 1.0 + variant.expansion, "b": variant.b_iso_angstrom2}
        settings = {"x_min": min(w.low for w in covered), "x_max": max(w.high for w in covered),
                    "background": "constant"}
    return compare_model_of_fit(measurement, values, settings)


__all__ = ["TOP_MATCHES", "library_model", "library_rw", "library_search", "member_parameters"]
