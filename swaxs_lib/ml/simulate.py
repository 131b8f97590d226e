"""One simulated sample: a ladder member (or a polydisperse mix of neighbours) in one element,
with expansion, thermal damping, instrument resolution, noise and background.

Grids (fixed, so every stored curve lines up):

* I(Q): :data:`Q_GRID` = 120 log-spaced points from 0.02 to 1 1/Å, then
  steps of 0.04 1/Å from 1.04 to 20 1/Å (595 points).  The SAXS part resolves
  the form-factor minima of a 7 nm particle (spacing 2 pi / D ~ 0.09 1/Å at
  Q ~ 0.1, log step 3.3 %), the WAXS part a Bragg peak of width ~ 0.1 1/Å.
* G(r): :data:`R_GRID` = 1.0 to 30.0 Å in steps of 0.05 Å (581 points), the
  r range every measured PDF in ``shared/data`` covers.

Variants and their distributions (:func:`draw_variant`; uniform unless said):

==========================  ======================================  =======================
quantity                    distribution                            applies to
==========================  ======================================  =======================
element                     one of :data:`~swaxs_lib.ml.catalog.ELEMENTS`  both
lattice expansion           -3 % .. +3 %                            both
Debye–Waller B              0.2 .. 2.0 Å²  (U = B / 8 pi²)          both
polydispersity              the split's rule (0–30 % relative sd)   both
Q resolution                sigma_Q = sqrt((a Q)^2 + b^2), a 0..3 %, b 0..0.02 1/Å   I(Q)
noise                       Poisson-like, 10^2.5 .. 10^5 counts at the median of  I(Q)
                            the SAXS (Q < 1) and WAXS parts separately (log-uniform)
background                  (c0 + c1 Q / 20) x median WAXS I, c0, c1 0 .. 0.3       I(Q)
PDF Q window                Q_min 0.5 .. 2.5, Q_max 10 .. 28 1/Å    G(r)
Q damping                   0.01 .. 0.06 1/Å                        G(r)
delta2                      0 .. 3 Å²                               G(r)
G(r) noise                  white, 0.5 % .. 10 % of rms G (log-uniform)   G(r)
==========================  ======================================  =======================

A polydisperse sample is the number-weighted sum of the rungs of its
family's ladder, weights from a normal distribution in diameter around the
centre rung (relative sd ``polydispersity``, cut at 2.5 sd); its size labels
are the number-weighted means.  I(Q) adds per-particle intensities; G(r)
adds per-particle G weighted by atom count.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import Atoms

from swaxs_lib.ml.catalog import ELEMENTS, Member, element_scale, template_histogram
from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup
from swaxs_lib.scattering.debye import debye_intensity

#: The I(Q) grid (1/Å), see the module docstring.
Q_GRID = np.concatenate((np.geomspace(0.02, 1.0, 120), np.round(np.arange(1.04, 20.0 + 1e-9, 0.04), 10)))
#: The G(r) grid (Å).
R_GRID = np.round(np.arange(1.0, 30.0 + 1e-9, 0.05), 10)
#: Polydispersity rules per split: ("mono",), ("fixed", w) or ("mixed", p_mono, w_max).
POLYDISPERSITY_RULES: dict[str, tuple] = {
    "train": ("mixed", 0.35, 0.30),
    "validation": ("mixed", 0.35, 0.30),
    "test-mono": ("mono",),
    "test-poly20": ("fixed", 0.20),
    "library": ("mono",),
}


@dataclass(frozen=True)
class Variant:
    """Everything about a sample except its geometry, in the units of the names."""

    element: str
    expansion: float
    b_iso_angstrom2: float
    polydispersity: float
    resolution_relative: float
    resolution_inv_angstrom: float
    counts_saxs: float
    counts_waxs: float
    background_constant: float
    background_slope: float
    pdf_q_min_inv_angstrom: float
    pdf_q_max_inv_angstrom: float
    q_damp_inv_angstrom: float
    delta2_angstrom2: float
    gr_noise: float

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def clean_variant(element: str) -> Variant:
    """The library's noise-free variant: no expansion, B = 0.6 Å², no resolution, noise or background,
    PDF window 1..22 1/Å, Q_damp 0.03."""
    return Variant(element, 0.0, 0.6, 0.0, 0.0, 0.0, math.inf, math.inf, 0.0, 0.0, 1.0, 22.0, 0.03, 0.0, 0.0)


def draw_variant(rng: np.random.Generator, split: str) -> Variant:
    """Draw a variant by the module docstring's table and the split's polydispersity rule."""
    if split == "library":
        return clean_variant(str(rng.choice(ELEMENTS)))
    rule = POLYDISPERSITY_RULES[split]
    if rule[0] == "mono":
        width = 0.0
    elif rule[0] == "fixed":
        width = float(rule[1])
    else:
        width = 0.0 if rng.random() < rule[1] else float(rng.uniform(0.0, rule[2]))
    return Variant(
        element=str(rng.choice(ELEMENTS)),
        expansion=float(rng.uniform(-0.03, 0.03)),
        b_iso_angstrom2=float(rng.uniform(0.2, 2.0)),
        polydispersity=width,
        resolution_relative=float(rng.uniform(0.0, 0.03)),
        resolution_inv_angstrom=float(rng.uniform(0.0, 0.02)),
        counts_saxs=float(10 ** rng.uniform(2.5, 5.0)),
        counts_waxs=float(10 ** rng.uniform(2.5, 5.0)),
        background_constant=float(rng.uniform(0.0, 0.3)),
        background_slope=float(rng.uniform(0.0, 0.3)),
        pdf_q_min_inv_angstrom=float(rng.uniform(0.5, 2.5)),
        pdf_q_max_inv_angstrom=float(rng.uniform(10.0, 28.0)),
        q_damp_inv_angstrom=float(rng.uniform(0.01, 0.06)),
        delta2_angstrom2=float(rng.uniform(0.0, 3.0)),
        gr_noise=float(10 ** rng.uniform(math.log10(0.005), math.log10(0.1))),
    )


def ladder_weights(ladder: tuple[Member, ...], centre: int, width: float) -> dict[int, float]:
    """Number fractions of the rungs around ``centre`` for a relative size spread ``width``.

    Normal in diameter, mean the centre rung's diameter, sd ``width`` times it,
    cut at 2.5 sd; ``{centre: 1.0}`` for ``width == 0``.
    """
    if width <= 0:
        return {centre: 1.0}
    d0 = ladder[centre].diameter_angstrom
    sd = width * d0
    weights = {k: math.exp(-0.5 * ((m.diameter_angstrom - d0) / sd) ** 2)
               for k, m in enumerate(ladder) if abs(m.diameter_angstrom - d0) <= 2.5 * sd}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def clean_intensity(member: Member, element: str, expansion: float, b_iso_angstrom2: float) -> np.ndarray:
    """Debye I(Q) on :data:`Q_GRID` (electrons², per particle) of ``member`` in ``element``."""
    hist = dataclasses.replace(template_histogram(member.shape, member.parameters_json), elements=(element,))
    atoms = Atoms(f"{element}{member.n_atoms}")
    scale = element_scale(element) * (1.0 + expansion)
    return debye_intensity(atoms, Q_GRID, b_iso_angstrom2=b_iso_angstrom2, histogram=hist, scale=scale).intensity


def clean_pdf(member: Member, variant: Variant) -> np.ndarray:
    """G(r) (1/Å²) on :data:`R_GRID` of ``member`` in the variant's element, window, U, delta2, Q_damp."""
    hist = dataclasses.replace(template_histogram(member.shape, member.parameters_json), elements=(variant.element,))
    zoom = element_scale(variant.element) * (1.0 + variant.expansion)
    setup = realspace_setup(hist, R_GRID, variant.pdf_q_min_inv_angstrom, variant.pdf_q_max_inv_angstrom,
                            max_zoom=max(zoom, 1.0))
    return realspace_pdf(setup, u_iso_angstrom2=variant.b_iso_angstrom2 / (8 * math.pi**2),
                         delta2_angstrom2=variant.delta2_angstrom2,
                         q_damp_inv_angstrom=variant.q_damp_inv_angstrom, zoom=zoom)


def smear(q: np.ndarray, intensity: np.ndarray, relative: float, absolute: float) -> np.ndarray:
    """Gaussian Q resolution sigma_Q = sqrt((relative Q)^2 + absolute^2) (1/Å), on the grid ``q``."""
    sigma = np.sqrt((relative * q) ** 2 + absolute**2)
    if not np.any(sigma > 0):
        return intensity
    sigma = np.maximum(sigma, 1e-9)
    weights = np.exp(-0.5 * ((q[None, :] - q[:, None]) / sigma[:, None]) ** 2) * np.gradient(q)[None, :]
    return (weights @ intensity) / weights.sum(axis=1)


def measured_intensity(clean: np.ndarray, variant: Variant, rng: np.random.Generator) -> np.ndarray:
    """What an instrument would record of ``clean`` I(Q): resolution, background, noise (floored > 0)."""
    out = smear(Q_GRID, clean, variant.resolution_relative, variant.resolution_inv_angstrom)
    saxs = Q_GRID < 1.0
    ref_waxs = float(np.median(out[~saxs]))
    out = out + ref_waxs * (variant.background_constant + variant.background_slope * Q_GRID / 20.0)
    for part, counts in ((saxs, variant.counts_saxs), (~saxs, variant.counts_waxs)):
        if math.isfinite(counts):
            ref = float(np.median(out[part]))
            # Poisson with mean counts * I / ref, in intensity units: variance I * ref / counts
            out[part] = out[part] + np.sqrt(out[part] * ref / counts) * rng.standard_normal(int(part.sum()))
            out[part] = np.maximum(out[part], 1e-3 * ref)
    return out


def simulate(ladder: tuple[Member, ...], centre: int, variant: Variant, rng: np.random.Generator) -> dict[str, Any]:
    """One sample: measured I(Q), measured G(r) and the labels.

    Returns
    -------
    dict with ``iq`` (on :data:`Q_GRID`), ``gr`` (on :data:`R_GRID`),
    ``diameter_angstrom`` and ``n_atoms`` (number-weighted means over the
    mix, scaled to the element and expansion) and ``weights`` (rung -> number fraction).
    """
    weights = ladder_weights(ladder, centre, variant.polydispersity)
    scale = element_scale(variant.element) * (1.0 + variant.expansion)
    iq = np.zeros(len(Q_GRID))
    gr = np.zeros(len(R_GRID))
    atoms_total = sum(w * ladder[k].n_atoms for k, w in weights.items())
    for k, w in weights.items():
        member = ladder[k]
        iq += w * clean_intensity(member, variant.element, variant.expansion, variant.b_iso_angstrom2)
        gr += (w * member.n_atoms / atoms_total) * clean_pdf(member, variant)
    iq = measured_intensity(iq, variant, rng)
    if variant.gr_noise > 0:
        gr = gr + variant.gr_noise * float(np.sqrt(np.mean(gr**2))) * rng.standard_normal(len(gr))
    return {
        "iq": iq,
        "gr": gr,
        "diameter_angstrom": scale * sum(w * ladder[k].diameter_angstrom for k, w in weights.items()),
        "n_atoms": atoms_total,
        "weights": {str(k): round(w, 6) for k, w in weights.items()},
    }


__all__ = [
    "POLYDISPERSITY_RULES",
    "Q_GRID",
    "R_GRID",
    "Variant",
    "clean_intensity",
    "clean_pdf",
    "clean_variant",
    "draw_variant",
    "ladder_weights",
    "measured_intensity",
    "simulate",
    "smear",
]
