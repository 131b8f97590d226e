"""Simulated SAXS curves of ordered assemblies, for the indexing tests (independent of swaxs_lib.saxs).

The powder lines come from a brute-force sum over the basis of the conventional
cell, F(hkl) = Σ_j exp(2πi hkl·x_j), for every integer hkl in a box, grouped by
|G| — not from any table of reflection conditions (the indexer's own rules live
in swaxs_lib/saxs/lattices.py and are not imported here).  The lattice factor
follows Förster et al. (2005), J. Phys. Chem. B 109, 1347, eqs. 3–8:

    Z0(q) = (2π)^d / (n s_d V q^(d−1)) Σ_hkl m|F|² L(q − q_hkl),
    S(q) = 1 + β [Z0(q) G(q) − 1],  G(q) = exp(−σ_a² a² q²)  (Debye–Waller)

(d the dimension, n particles per cell of volume V, s_d = 2π, 4π; normalised so
that Z0 → 1 at large q), with Gaussian lines L of a given FWHM.  The form factor
is the analytic sphere, or the long cylinder's cross-section term, averaged over
a Gaussian radius distribution.  Noise: Gaussian with σ = √(I·k)/k (counting
statistics at k counts per unit intensity), seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import numpy as np
from scipy.special import j1

# MgZn2 (C14 Laves, P6_3/mmc, origin at -3m1): Zn 2a, Mg 4f (z = 0.063), Zn 6h (x = -0.17), the Wyckoff
# positions written out from International Tables Vol. A, space group 194; weights f: Mg 1, Zn 0.55 (any
# unequal pair: only the space group's own extinctions may survive).
_Z, _X = 0.063, -0.17
_MGZN2 = ([((0, 0, 0), 0.55), ((0, 0, 0.5), 0.55)]
          + [(p, 1.0) for p in [(1 / 3, 2 / 3, _Z), (2 / 3, 1 / 3, _Z + 0.5), (2 / 3, 1 / 3, -_Z), (1 / 3, 2 / 3, 0.5 - _Z)]]
          + [(p, 0.55) for p in [(_X, 2 * _X, 0.25), (-2 * _X, -_X, 0.25), (_X, -_X, 0.25),
                                 (-_X, -2 * _X, 0.75), (2 * _X, _X, 0.75), (-_X, _X, 0.75)]])

#: Bases of the conventional cell: (fractional position, scattering weight f).
BASES = {
    "sc": [((0, 0, 0), 1.0)],
    "bcc": [((0, 0, 0), 1.0), ((0.5, 0.5, 0.5), 1.0)],
    "fcc": [((0, 0, 0), 1.0), ((0.5, 0.5, 0), 1.0), ((0.5, 0, 0.5), 1.0), ((0, 0.5, 0.5), 1.0)],
    "hex2d": [((0, 0), 1.0)],
    "hcp": [((1 / 3, 2 / 3, 0.25), 1.0), ((2 / 3, 1 / 3, 0.75), 1.0)],
    # AlB2: A at 1a, B at 2d; f_B / f_A = 0.6 (a small and a large particle)
    "alb2": [((0, 0, 0), 1.0), ((1 / 3, 2 / 3, 0.5), 0.6), ((2 / 3, 1 / 3, 0.5), 0.6)],
    "mgzn2": _MGZN2,
}


def cell(kind: str, a: float, c: float | None = None) -> np.ndarray:
    """Real-space cell vectors (rows), Å."""
    if kind == "hex2d":
        return np.array([[a, 0.0], [a / 2, a * math.sqrt(3) / 2]])
    if kind in ("hcp", "alb2", "mgzn2"):
        return np.array([[a, 0.0, 0.0], [-a / 2, a * math.sqrt(3) / 2, 0.0], [0.0, 0.0, c]])
    return a * np.eye(3)


def powder_lines(kind: str, a: float, q_max: float, c: float | None = None):
    """(q_hkl, Σ m|F|², m) of the lines up to q_max by brute force over every hkl in a box (|F|² > 1e-8)."""
    vecs = cell(kind, a, c)
    recip = 2 * math.pi * np.linalg.inv(vecs).T
    basis = np.array([p for p, _ in BASES[kind]], dtype=float)
    weight = np.array([f for _, f in BASES[kind]])
    dim = vecs.shape[0]
    n = int(q_max * max(a, c or 0) / math.pi) + 2
    qs, f2 = [], []
    for hkl in product(range(-n, n + 1), repeat=dim):
        if not any(hkl):
            continue
        g = np.linalg.norm(np.array(hkl) @ recip)
        if g > q_max:
            continue
        amp = (weight * np.exp(2j * math.pi * basis @ np.array(hkl))).sum()
        if abs(amp) ** 2 > 1e-8:
            qs.append(g)
            f2.append(abs(amp) ** 2)
    qs, f2 = np.array(qs), np.array(f2)
    key = np.round(qs, 8)
    lines = np.unique(key)
    return lines, np.array([f2[key == k].sum() for k in lines]), np.array([np.sum(key == k) for k in lines])


def lattice_factor(q, kind: str, a: float, fwhm: float, sigma_a: float, beta: float = 0.8,
                   c: float | None = None) -> np.ndarray:
    """S(q) of a powder of the lattice (Förster et al. 2005), Gaussian lines of FWHM ``fwhm`` (c: hexagonal 3D)."""
    dim = 2 if kind == "hex2d" else 3
    lines, mf2, _ = powder_lines(kind, a, q.max() + 5 * fwhm, c)
    volume = abs(np.linalg.det(cell(kind, a, c)))
    n = len(BASES[kind])
    s_d = 2 * math.pi if dim == 2 else 4 * math.pi
    sig = fwhm / (2 * math.sqrt(2 * math.log(2)))
    gauss = np.exp(-0.5 * ((q[:, None] - lines[None, :]) / sig) ** 2) / (sig * math.sqrt(2 * math.pi))
    z0 = (2 * math.pi) ** dim / (n * s_d * volume * q ** (dim - 1)) * (gauss @ mf2)
    g = np.exp(-(sigma_a * a * q) ** 2)
    return 1 + beta * (z0 * g - 1)


def form_factor(q, shape: str, radius: float, pd: float = 0.07) -> np.ndarray:
    """Sphere |3 j1(qR)/(qR)|² V², or a long rod's [2 J1(qR)/(qR)]² A² / q, over a Gaussian R distribution."""
    r = radius * (1 + pd * np.linspace(-3, 3, 41))
    w = np.exp(-0.5 * np.linspace(-3, 3, 41) ** 2)
    x = q[:, None] * r[None, :]
    if shape == "sphere":
        amp = 3 * (np.sin(x) - x * np.cos(x)) / x**3 * r**3
    else:
        amp = 2 * j1(x) / x * r**2 / np.sqrt(q[:, None])
    return (amp**2 @ w) / w.sum()


@dataclass(frozen=True)
class Curve:
    q_inv_angstrom: np.ndarray
    intensity: np.ndarray
    sigma: np.ndarray


def _noisy(q, clean, counts: float, seed: int) -> Curve:
    rng = np.random.default_rng(seed)
    clean = clean / clean.max() * counts
    sigma = np.sqrt(clean + 4.0)
    return Curve(q, clean + rng.normal(0, 1, q.size) * sigma, sigma)


def assembly(kind: str, a: float, radius: float, *, q=None, fwhm=0.004, sigma_a=0.03, pd=0.07,
             counts=1e6, background=5e-4, seed=0, c=None) -> Curve:
    """A noisy I(q) = P(q) S(q) + flat background of spheres (fcc, bcc, sc, hcp, alb2, mgzn2: c the hexagonal
    axis) or rods (hex2d) on a lattice (the AB2 bases weight the B sites by f_B / f_A, one P(q) for all)."""
    q = np.linspace(0.02, 0.45, 900) if q is None else q
    shape = "rod" if kind == "hex2d" else "sphere"
    p = form_factor(q, shape, radius, pd)
    clean = p * lattice_factor(q, kind, a, fwhm, sigma_a, c=c)
    clean = clean / clean.max() + background
    return _noisy(q, clean, counts, seed)


#: Silver behenate: d001 = 58.380(3) Å (Huang, Toraya, Blanton & Wu 1993, J. Appl. Cryst. 26, 180–184).
AGBEH_D001_ANGSTROM = 58.380


def silver_behenate(*, q=None, orders=(1.0, 0.12, 0.3, 0.05, 0.06, 0.02, 0.015), fwhm=0.0035, eta=0.5,
                    counts=2e5, seed=1) -> Curve:
    """A noisy AgBeh powder curve: the lamellar orders n·2π/d001 (pseudo-Voigt lines, heights ``orders``)
    on a decaying background A q⁻³ + flat."""
    q = np.linspace(0.03, 0.80, 1200) if q is None else q
    q1 = 2 * math.pi / AGBEH_D001_ANGSTROM
    bg = 2e-4 * q**-3 + 0.02
    x = (q[:, None] - q1 * np.arange(1, len(orders) + 1)[None, :]) / fwhm
    lines = (eta / (1 + 4 * x * x) + (1 - eta) * np.exp(-4 * math.log(2) * x * x)) @ np.array(orders)
    return _noisy(q, bg + 50 * lines, counts, seed)
