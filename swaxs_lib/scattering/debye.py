"""The Debye scattering equation for a finite cluster.

    I(Q) = sum_i sum_j f_i(Q) f_j*(Q) D_ij(Q) sin(Q r_ij) / (Q r_ij)

over all i, j including i = j (where sin(x)/x = 1), in electrons^2.
f = f0(Q) + f' + i f'' (see :mod:`swaxs_lib.scattering.form_factors`) and
D_ij = exp(-(B_i + B_j) Q^2 / (16 pi^2)) for i != j, D_ii = 1: the
Debye–Waller factor damps the interference between atoms, not the
independent scattering of each atom (B = 8 pi^2 <u^2>, in Å^2).

Two modes give the same sum:

``"exact"``
    every pair's sin(Q r)/(Q r) at every Q (O(N^2 n_Q));
``"fast"``
    the pair-distance histogram with sub-bin moments
    (:mod:`swaxs_lib.scattering.histogram`), O(N^2) once plus O(n_nodes n_Q).
    Validation: within 1e-7 of max(I) and 1e-6 relative of the exact sum over
    0 <= Q <= Q_max for ideal and thermally jittered clusters
    (tests/test_debye.py).

Validation: the exact mode agrees with a plain numpy double sum to 1e-10
relative, with the dimer 2 f^2 (1 + sinc(Q d)), with the analytic sphere form
factor at low Q, with ASE's XrDebye and with DebyeCalculator.

References
----------
.. [1] P. Debye, Ann. Phys. 351, 809 (1915).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numba
import numpy as np
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import MAX_Q_INV_ANGSTROM
from swaxs_lib.scattering.form_factors import SOURCES, check_scatterer, form_factor
from swaxs_lib.scattering.histogram import PairHistogram, fast_bin_width, pair_histogram
from swaxs_lib.scattering.kernels import exact_pair_sinc

MODES = ("fast", "exact")


@dataclass(frozen=True)
class DebyeCurve:
    """The Debye intensity of a cluster and what is needed to normalise it.

    Attributes
    ----------
    q_inv_angstrom : numpy.ndarray (n_q,)
        Q (1/Å).
    intensity : numpy.ndarray (n_q,)
        I(Q), the full double sum (electrons^2).
    self_intensity : numpy.ndarray (n_q,)
        The i = j terms, sum_i |f_i|^2 (electrons^2).
    mean_f : numpy.ndarray of complex (n_q,)
        <f>(Q), the composition-weighted mean form factor (electrons).
    n_atoms : int
    mode : str
        ``"fast"`` or ``"exact"``.
    bin_width_angstrom : float or None
        The fast mode's grid spacing (Å); None for exact.
    """

    q_inv_angstrom: np.ndarray
    intensity: np.ndarray
    self_intensity: np.ndarray
    mean_f: np.ndarray
    n_atoms: int
    mode: str
    bin_width_angstrom: float | None

    @property
    def structure_factor(self) -> np.ndarray:
        """S(Q) = 1 + (I - sum |f_i|^2) / (N |<f>|^2) (Faber–Ziman, as diffpy)."""
        return 1.0 + (self.intensity - self.self_intensity) / (self.n_atoms * np.abs(self.mean_f) ** 2)

    @property
    def reduced_structure_function(self) -> np.ndarray:
        """F(Q) = Q [S(Q) - 1] (1/Å)."""
        return self.q_inv_angstrom * (self.structure_factor - 1.0)

    def values(self, kind: str) -> np.ndarray:
        """The curve a measurement of ``kind`` holds: ``"iq"`` I(Q), ``"sq"`` S(Q), ``"fq"`` F(Q)."""
        if kind == "iq":
            return self.intensity
        if kind == "sq":
            return self.structure_factor
        if kind == "fq":
            return self.reduced_structure_function
        raise SwaxsInputError(f"kind: got {kind!r}; expected iq, sq or fq")


def debye_intensity(
    atoms: Atoms,
    q_inv_angstrom: np.ndarray,
    *,
    mode: str = "fast",
    b_iso_angstrom2: float | Mapping[str, float] = 0.0,
    energy_kev: float | None = None,
    form_factor_source: str = "xraydb",
    histogram: PairHistogram | None = None,
    scale: float = 1.0,
) -> DebyeCurve:
    """Debye I(Q) of a cluster.

    Parameters
    ----------
    atoms : ase.Atoms
        The cluster; the cell is ignored.
    q_inv_angstrom : array_like (n_q,)
        Q values (1/Å), finite and >= 0, any order.
    mode : {"fast", "exact"}
        Histogram with sub-bin moments, or the term-by-term pair sum.
    b_iso_angstrom2 : float or mapping of element to float
        Isotropic Debye–Waller B (Å^2), one for all elements or per element.
    energy_kev : float, optional
        X-ray energy (keV) for anomalous f', f''.
    form_factor_source : {"xraydb", "constant"}
        See :func:`~swaxs_lib.scattering.form_factors.form_factor`.
    histogram : PairHistogram, optional
        A histogram of ``atoms`` computed before (fast mode), to skip the pair
        loop; its bin width must be fine enough for max(Q).
    scale : float
        Multiplies every interatomic distance (isotropic expansion; 1 = none).

    Returns
    -------
    DebyeCurve

    Examples
    --------
    >>> from ase import Atoms
    >>> dimer = Atoms("Au2", positions=[(0, 0, 0), (0, 0, 2.88)])
    >>> curve = debye_intensity(dimer, [0.0], form_factor_source="constant")
    >>> float(curve.intensity[0])   # (2 Z)^2 at Q = 0
    24964.0
    """
    q = _check_q(q_inv_angstrom)
    if mode not in MODES:
        raise SwaxsInputError(f"mode: got {mode!r}; expected one of {', '.join(MODES)}")
    if form_factor_source not in SOURCES:
        raise SwaxsInputError(f"form_factor_source: got {form_factor_source!r}; expected one of {', '.join(SOURCES)}")
    if len(atoms) == 0:
        raise SwaxsInputError("atoms: got an empty structure; expected at least one atom")
    if not (math.isfinite(scale) and scale > 0):
        raise SwaxsInputError(f"scale: got {scale!r}; expected a positive number")
    symbols = np.array(atoms.get_chemical_symbols())
    elements = tuple(sorted(set(symbols.tolist())))
    for e in elements:
        check_scatterer(e)
    b = _b_per_element(b_iso_angstrom2, elements)
    f = {e: form_factor(e, q, energy_kev, form_factor_source) for e in elements}
    counts = {e: int(np.sum(symbols == e)) for e in elements}

    if mode == "fast":
        q_max = float(q.max()) * scale if len(q) else 1.0
        if histogram is None:
            histogram = pair_histogram(atoms, fast_bin_width(q_max))
        elif histogram.bin_width_angstrom > fast_bin_width(q_max) * (1 + 1e-12) or histogram.elements != elements:
            raise SwaxsInputError(
                f"histogram: bin width {histogram.bin_width_angstrom} Å or elements {histogram.elements} "
                f"do not fit Q up to {q_max} 1/Å and {elements}; expected a histogram of these atoms "
                f"with bin width <= {fast_bin_width(q_max)} Å"
            )
        sums = histogram.sinc_sums(q, scale)
        pairs = histogram.pairs
        dr = histogram.bin_width_angstrom
    else:
        positions = np.asarray(atoms.positions, dtype=float) * scale
        groups = [np.ascontiguousarray(positions[symbols == e]) for e in elements]
        n_chunks = 4 * numba.get_num_threads()
        pairs, rows = [], []
        for a in range(len(elements)):
            for c in range(a, len(elements)):
                pairs.append((a, c))
                rows.append(exact_pair_sinc(groups[a], groups[c], a == c, q, n_chunks))
        sums = np.array(rows).reshape(len(pairs), len(q))
        dr = None

    self_term = sum(counts[e] * np.abs(f[e]) ** 2 for e in elements)
    intensity = np.array(self_term, dtype=float)
    for (a, c), s in zip(pairs, sums):
        ea, ec = elements[a], elements[c]
        damping = np.exp(-(b[ea] + b[ec]) * q * q / (16.0 * math.pi**2))
        # both orders (i, j) and (j, i) of each pair: 2 Re(f_a conj(f_c))
        intensity += 2.0 * np.real(f[ea] * np.conj(f[ec])) * damping * s
    n = len(atoms)
    mean_f = sum(counts[e] * f[e] for e in elements) / n
    return DebyeCurve(
        q_inv_angstrom=q,
        intensity=intensity,
        self_intensity=np.asarray(self_term, dtype=float),
        mean_f=mean_f,
        n_atoms=n,
        mode=mode,
        bin_width_angstrom=dr,
    )


def _check_q(q_inv_angstrom) -> np.ndarray:
    try:
        q = np.asarray(q_inv_angstrom, dtype=float).ravel()
    except (TypeError, ValueError):
        raise SwaxsInputError(f"q_inv_angstrom: got {q_inv_angstrom!r}; expected an array of numbers") from None
    if len(q) == 0 or not np.all(np.isfinite(q)) or np.any(q < 0):
        raise SwaxsInputError("q_inv_angstrom: expected a non-empty array of finite values >= 0 (1/Å)")
    if q.max() > MAX_Q_INV_ANGSTROM:  # a mislabelled unit; it would also size the pair histogram's bins
        raise SwaxsInputError(f"q_inv_angstrom: got Q up to {q.max():.4g}; expected at most {MAX_Q_INV_ANGSTROM:g} 1/Å")
    return np.ascontiguousarray(q)


def _b_per_element(b_iso, elements: tuple[str, ...]) -> dict[str, float]:
    if isinstance(b_iso, Mapping):
        missing = [e for e in elements if e not in b_iso]
        if missing:
            raise SwaxsInputError(f"b_iso_angstrom2: no value for {', '.join(missing)}; expected one per element")
        values = {e: b_iso[e] for e in elements}
    else:
        values = {e: b_iso for e in elements}
    out = {}
    for e, v in values.items():
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = float("nan")
        if not (math.isfinite(x) and x >= 0):
            raise SwaxsInputError(f"b_iso_angstrom2: got {v!r} for {e}; expected a number >= 0 (Å^2)")
        out[e] = x
    return out
