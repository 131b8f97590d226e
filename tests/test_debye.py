"""The Debye engine against closed forms and a plain numpy double sum.

Every reference number here is computed in this file, independently of
``swaxs_lib.scattering``:

* ``numpy_debye`` is the textbook double sum over *all* i, j (i = j included,
  sinc(0) = 1) with f taken from xraydb directly (f0 of Waasmaier–Kirfel at
  sin(theta)/lambda = Q/(4 pi), Chantler's f', f'' at the energy in eV), not
  through :func:`swaxs_lib.scattering.form_factor`;
* the dimer 2 |f|^2 (1 + sin(Qd)/(Qd)), the forward intensity |sum_i f_i(0)|^2;
* the uniform sphere's form factor [3 (sin x - x cos x) / x^3]^2;
* pair counts from ``scipy.spatial.distance.pdist`` and ``np.histogram``.

Units: Q in 1/Å, distances in Å, B in Å^2, energies in keV (ours) / eV (xraydb),
intensities in electrons^2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xraydb
from ase import Atoms
from ase.cluster import Icosahedron
from scipy.spatial.distance import cdist, pdist

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering import debye_intensity, fast_bin_width, pair_histogram
from swaxs_lib.structures import lattice_sphere

AU_A = 4.08  # Å, fcc lattice constant of Au (ASE's reference state, = our builders' default)


# ---------------------------------------------------------------- references


def xraydb_f(element: str, q: np.ndarray, energy_ev: float | None = None) -> np.ndarray:
    """f(Q) straight from xraydb: f0(Q/4pi) [+ f1_chantler + i f2_chantler at energy_ev]."""
    f = np.asarray(xraydb.f0(element, q / (4.0 * math.pi)), dtype=float).astype(complex)
    if energy_ev is not None:
        f = f + float(xraydb.f1_chantler(element, energy_ev)) + 1j * float(xraydb.f2_chantler(element, energy_ev))
    return f


def numpy_debye(atoms: Atoms, q: np.ndarray, b_iso: dict | None = None, energy_ev: float | None = None,
                constant_f: bool = False) -> np.ndarray:
    """I(Q) = sum_i sum_j Re(f_i conj f_j) D_ij sinc(Q r_ij) over ALL i, j.

    D_ij = exp(-(B_i + B_j) Q^2 / (16 pi^2)) for i != j and D_ii = 1 (the self
    term is not damped).  ``np.sinc(x / pi)`` = sin(x)/x with sinc(0) = 1.
    """
    symbols = atoms.get_chemical_symbols()
    pos = np.asarray(atoms.positions, dtype=float)
    d = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(axis=-1))  # (N, N), zero diagonal
    if constant_f:
        f = np.array([np.full(len(q), float(atoms[i].number), dtype=complex) for i in range(len(atoms))])
    else:
        table = {e: xraydb_f(e, q, energy_ev) for e in set(symbols)}
        f = np.array([table[e] for e in symbols])  # (N, n_q)
    b = np.array([0.0 if b_iso is None else b_iso[e] for e in symbols])
    out = np.empty(len(q))
    for k, qk in enumerate(q):
        damping = np.exp(-(b[:, None] + b[None, :]) * qk * qk / (16.0 * math.pi**2))
        np.fill_diagonal(damping, 1.0)
        weights = np.real(f[:, k, None] * np.conj(f[None, :, k]))
        out[k] = np.sum(weights * damping * np.sinc(qk * d / math.pi))
    return out


def jittered(atoms: Atoms, sigma_angstrom: float, seed: int) -> Atoms:
    """A copy with Gaussian displacements of ``sigma_angstrom`` per Cartesian component."""
    rng = np.random.default_rng(seed)
    return Atoms(atoms.get_chemical_symbols(), positions=atoms.positions + rng.normal(0.0, sigma_angstrom, atoms.positions.shape))


def alloy_55() -> Atoms:
    """Au55 Mackay icosahedron (ASE) with 20 atoms made Ag and 5 made Pd, jittered by 0.1 Å."""
    atoms = Icosahedron("Au", noshells=3, latticeconstant=AU_A)
    rng = np.random.default_rng(11)
    symbols = atoms.get_chemical_symbols()
    picked = rng.permutation(len(atoms))
    for i in picked[:20]:
        symbols[i] = "Ag"
    for i in picked[20:25]:
        symbols[i] = "Pd"
    return jittered(Atoms(symbols, positions=atoms.positions), 0.1, seed=12)


def sphere_form_factor_squared(x: np.ndarray) -> np.ndarray:
    """[3 (sin x - x cos x) / x^3]^2, with its limit 1 at x = 0."""
    x = np.asarray(x, dtype=float)
    out = np.ones_like(x)
    nz = x > 0
    xs = x[nz]
    out[nz] = (3.0 * (np.sin(xs) - xs * np.cos(xs)) / xs**3) ** 2
    return out


Q_SMALL = np.linspace(0.0, 20.0, 401)  # 1/Å, includes Q = 0


# ---------------------------------------------------- exact vs the numpy sum


@pytest.mark.parametrize(
    "kwargs, ref_kwargs",
    [
        ({}, {}),
        ({"b_iso_angstrom2": {"Au": 0.6, "Ag": 0.9, "Pd": 0.3}}, {"b_iso": {"Au": 0.6, "Ag": 0.9, "Pd": 0.3}}),
        # 11.9 keV: just below the Au L3 edge (11.919 keV), where f'(Au) ~ -15 e
        ({"energy_kev": 11.9}, {"energy_ev": 11900.0}),
        ({"energy_kev": 11.9, "b_iso_angstrom2": 0.5}, {"energy_ev": 11900.0, "b_iso": {"Au": 0.5, "Ag": 0.5, "Pd": 0.5}}),
    ],
    ids=["plain", "b_iso_per_element", "anomalous", "anomalous_b_iso"],
)
def test_exact_matches_numpy_double_sum(kwargs, ref_kwargs):
    # Measured max relative difference: 3e-15 or less in all four cases.
    atoms = alloy_55()
    reference = numpy_debye(atoms, Q_SMALL, **ref_kwargs)
    curve = debye_intensity(atoms, Q_SMALL, mode="exact", **kwargs)
    np.testing.assert_allclose(curve.intensity, reference, rtol=1e-10, atol=0)
    # the self term sum_i |f_i|^2 is reported separately and is undamped
    self_ref = sum(abs(xraydb_f(e, Q_SMALL, ref_kwargs.get("energy_ev"))) ** 2 for e in atoms.get_chemical_symbols())
    np.testing.assert_allclose(curve.self_intensity, self_ref, rtol=1e-12)


def test_fast_matches_numpy_double_sum_for_an_alloy():
    # Measured: 1.5e-9 relative (plain), 1.4e-9 (anomalous at 11.9 keV).
    atoms = alloy_55()
    for kwargs, ref_kwargs in [({}, {}), ({"energy_kev": 11.9}, {"energy_ev": 11900.0})]:
        reference = numpy_debye(atoms, Q_SMALL, **ref_kwargs)
        curve = debye_intensity(atoms, Q_SMALL, mode="fast", **kwargs)
        np.testing.assert_allclose(curve.intensity, reference, rtol=1e-6, atol=0)


def test_anomalous_terms_change_the_intensity():
    # Guard against a reference that ignores the energy: at 11.9 keV f'(Au) ~ -15 e
    # changes I(Q) of the alloy by far more than the 1e-10 tolerance above
    # (measured: at least 22 % at every Q).
    atoms = alloy_55()
    plain = debye_intensity(atoms, Q_SMALL, mode="exact").intensity
    anomalous = debye_intensity(atoms, Q_SMALL, mode="exact", energy_kev=11.9).intensity
    assert np.min(np.abs(anomalous / plain - 1.0)) > 0.05


# ------------------------------------------------------------- closed forms


@pytest.mark.parametrize("mode, rtol", [("exact", 1e-10), ("fast", 1e-8)])
@pytest.mark.parametrize("source", ["constant", "xraydb"])
def test_dimer(mode, rtol, source):
    """Two Au atoms d apart: I(Q) = 2 |f|^2 (1 + sin(Qd)/(Qd)).

    Measured max relative error: 3e-16 (exact), 1.6e-9 (fast), both sources.
    """
    d = 2.884  # Å, the Au-Au nearest-neighbour distance a/sqrt(2)
    dimer = Atoms("Au2", positions=[(0.0, 0.0, 0.0), (0.3, -1.1, math.sqrt(d * d - 0.3**2 - 1.1**2))])
    q = np.linspace(0.0, 25.0, 1001)
    f2 = 79.0**2 if source == "constant" else np.abs(xraydb_f("Au", q)) ** 2
    expected = 2.0 * f2 * (1.0 + np.sinc(q * d / math.pi))
    curve = debye_intensity(dimer, q, mode=mode, form_factor_source=source)
    np.testing.assert_allclose(curve.intensity, expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_forward_scattering_is_the_square_of_the_total_form_factor(mode):
    """I(0) = |sum_i f_i(0)|^2: at Q = 0 every pair is in phase."""
    atoms = alloy_55()
    symbols = atoms.get_chemical_symbols()
    q = np.array([0.0, 1.0])
    for energy_ev in (None, 11900.0):
        total = sum(xraydb_f(e, q[:1], energy_ev)[0] for e in symbols)
        kwargs = {} if energy_ev is None else {"energy_kev": energy_ev / 1000.0}
        curve = debye_intensity(atoms, q, mode=mode, b_iso_angstrom2=0.7, **kwargs)
        # measured: 2e-15 relative in both modes, with and without f', f''
        assert curve.intensity[0] == pytest.approx(abs(total) ** 2, rel=1e-12)
    # Z-weighted: (20*47 + 5*46 + 30*79)^2
    constant = debye_intensity(atoms, [0.0], mode=mode, form_factor_source="constant")
    assert constant.intensity[0] == pytest.approx((20 * 47 + 5 * 46 + 30 * 79) ** 2, rel=1e-12)


# ---------------------------------------------------------- fast vs exact

Q_WIDE = np.linspace(0.01, 25.0, 1000)  # 1/Å, the range of the requirement


def _fast_vs_exact(atoms: Atoms, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    exact = debye_intensity(atoms, Q_WIDE, mode="exact", **kwargs).intensity
    fast = debye_intensity(atoms, Q_WIDE, mode="fast", **kwargs).intensity
    return fast, exact


def _assert_fast_close(fast: np.ndarray, exact: np.ndarray) -> None:
    err = np.abs(fast - exact)
    # the requirement
    assert np.all(err <= 1e-3 * np.abs(exact) + 1e-5 * exact.max())
    # the engine's own claim (swaxs_lib/scattering/debye.py docstring)
    assert np.all(err <= 1e-6 * np.abs(exact)), f"max relative error {np.max(err / np.abs(exact)):.3g}"


@pytest.mark.parametrize(
    "name",
    ["ico309", "ico309_jittered", "fcc_sphere429", "fcc_sphere429_jittered"],
)
def test_fast_matches_exact_over_wide_q(name):
    """Fast (histogram + sub-bin moments) vs term-by-term exact, 0.01 <= Q <= 25 1/Å.

    Measured max |fast - exact| / |exact| (xraydb f, this Q grid):
    ico309 4.1e-8, ico309 jittered 1.3e-9, fcc sphere (24 Å, 429 atoms) 9.4e-8,
    jittered 1.5e-9; max |fast - exact| / max(exact) <= 8e-12.  Ideal clusters are the hard case: their sharp distance
    shells leave less averaging of the per-pair interpolation error.
    """
    if name.startswith("ico309"):
        atoms = Icosahedron("Au", noshells=5, latticeconstant=AU_A)
    else:
        atoms = lattice_sphere("Au", 24.0).atoms
        assert len(atoms) == 429
    if name.endswith("jittered"):
        atoms = jittered(atoms, 0.1, seed=3)
    fast, exact = _fast_vs_exact(atoms)
    _assert_fast_close(fast, exact)


def test_fast_matches_exact_for_a_two_element_cluster():
    # Measured max relative difference: 1.5e-10 (Au/Ag fcc sphere, 1/3 Ag, jittered 0.1 Å).
    atoms = jittered(lattice_sphere("Au", 24.0).atoms, 0.1, seed=4)
    symbols = atoms.get_chemical_symbols()
    for i in np.random.default_rng(5).permutation(len(atoms))[: len(atoms) // 3]:
        symbols[i] = "Ag"
    atoms.set_chemical_symbols(symbols)
    fast, exact = _fast_vs_exact(atoms, b_iso_angstrom2={"Au": 0.5, "Ag": 0.8})
    _assert_fast_close(fast, exact)


def test_fast_accepts_a_precomputed_histogram_and_rejects_a_coarse_one():
    atoms = alloy_55()
    q = np.linspace(0.0, 20.0, 201)
    reference = numpy_debye(atoms, q)
    fine = pair_histogram(atoms, fast_bin_width(20.0))
    curve = debye_intensity(atoms, q, mode="fast", histogram=fine)
    np.testing.assert_allclose(curve.intensity, reference, rtol=1e-6)  # measured 1.5e-9
    coarse = pair_histogram(atoms, 4 * fast_bin_width(20.0))
    with pytest.raises(SwaxsInputError):
        debye_intensity(atoms, q, mode="fast", histogram=coarse)


# ------------------------------------------------------ lattice expansion


@pytest.mark.parametrize("mode, rtol", [("exact", 1e-10), ("fast", 1e-6)])
@pytest.mark.parametrize("s", [0.97, 1.03])
def test_scale_is_the_sum_on_scaled_positions(mode, rtol, s):
    """scale = s multiplies every r_ij: I(Q; scale=s) = numpy sum on positions * s.

    Measured: 3e-15 (exact), 2.7e-10 (fast) relative.
    """
    atoms = alloy_55()
    expanded = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions * s)
    reference = numpy_debye(expanded, Q_SMALL, b_iso={"Au": 0.4, "Ag": 0.4, "Pd": 0.4})
    curve = debye_intensity(atoms, Q_SMALL, mode=mode, scale=s, b_iso_angstrom2=0.4)
    np.testing.assert_allclose(curve.intensity, reference, rtol=rtol, atol=0)
    # and the expansion is visible: the unscaled curve differs by far more than rtol
    unscaled = debye_intensity(atoms, Q_SMALL, mode=mode, b_iso_angstrom2=0.4).intensity
    assert np.max(np.abs(unscaled / reference - 1.0)) > 0.1


# ------------------------------------------------------------ histogram


def _assert_counts_match(counts: np.ndarray, distances: np.ndarray, dr: float) -> None:
    """Counts per bin [n dr, (n+1) dr) equal np.histogram's, up to pairs on an edge."""
    edges = np.arange(len(counts) + 1) * dr
    expected, _ = np.histogram(distances, bins=edges)
    # a distance within 1e-9 Å of an edge may land on either side (rounding of
    # d / dr vs d compared with n * dr); each such pair can move one count
    frac = distances / dr
    on_edge = int(np.sum(np.abs(frac - np.rint(frac)) * dr < 1e-9))
    mismatch = int(np.abs(counts - expected).sum())
    assert mismatch <= 2 * on_edge, f"{mismatch} counts differ, {on_edge} pairs on an edge"
    assert on_edge <= 5


def test_histogram_bins_are_half_open():
    # Distances 0.25, 0.5, 0.75 Å are exact multiples of dr = 0.25 Å (a power of
    # two, so d / dr is exact): each lands in the bin it opens, [n dr, (n+1) dr).
    atoms = Atoms("Au3", positions=[(0.0, 0.0, 0.0), (0.25, 0.0, 0.0), (0.75, 0.0, 0.0)])
    h = pair_histogram(atoms, 0.25)
    assert h.bin_counts[0, :4].tolist() == [0.0, 1.0, 1.0, 1.0]
    assert h.bin_counts.sum() == 3


@pytest.mark.parametrize("jitter", [0.0, 0.1])
def test_histogram_single_element_counts(jitter):
    # Measured: counts identical to np.histogram for all three bin widths, with no
    # distance closer than 7e-8 Å to an edge.
    atoms = Icosahedron("Au", noshells=5, latticeconstant=AU_A)  # 309 atoms
    if jitter:
        atoms = jittered(atoms, jitter, seed=6)
    n = len(atoms)
    for dr in (fast_bin_width(25.0), 0.05, 0.3):
        h = pair_histogram(atoms, dr)
        assert h.elements == ("Au",) and h.counts == (n,) and h.pairs == ((0, 0),)
        assert h.bin_counts.sum() == n * (n - 1) // 2
        _assert_counts_match(h.bin_counts[0], pdist(atoms.positions), dr)
        # every pair sits on the nodes: the node weights sum to the pair count
        assert h.node_weights[0].sum() == pytest.approx(n * (n - 1) / 2, rel=1e-12)


def test_histogram_per_element_pair_counts():
    atoms = alloy_55()  # sorted elements: Ag (20), Au (30), Pd (5)
    symbols = np.array(atoms.get_chemical_symbols())
    dr = 0.05
    h = pair_histogram(atoms, dr)
    assert h.elements == ("Ag", "Au", "Pd")
    assert h.counts == (20, 30, 5)
    assert h.pairs == ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    for row, (a, b) in enumerate(h.pairs):
        pa = atoms.positions[symbols == h.elements[a]]
        pb = atoms.positions[symbols == h.elements[b]]
        if a == b:
            n_a = len(pa)
            assert h.bin_counts[row].sum() == n_a * (n_a - 1) // 2
            distances = pdist(pa)
        else:
            assert h.bin_counts[row].sum() == len(pa) * len(pb)
            distances = cdist(pa, pb).ravel()
        _assert_counts_match(h.bin_counts[row], distances, dr)


# -------------------------------------------------- sphere form factor


def test_large_fcc_sphere_matches_the_uniform_sphere_at_low_q():
    """An Au fcc sphere (60 Å diameter, 6699 atoms) vs [3 (sin x - x cos x)/x^3]^2.

    Below the first reciprocal-lattice vector (|G_111| = 2 pi sqrt(3)/a = 2.67 1/Å)
    the lattice sum sum_j exp(i Q.r_j) equals the Fourier transform of the
    particle's shape times the number density rho = 4/a^3, plus tails of the
    G != 0 terms that are negligible here.  The cut-out sphere's surface is
    rough on the scale of a, so its "radius" is ambiguous by a fraction of a;
    the forward amplitude fixes it: rho * V = N, i.e. the equivalent-volume
    radius R = (3 N V_atom / (4 pi))^(1/3) with V_atom = a^3/4.  It also
    reproduces the radius of gyration: sqrt(<r^2>) = 23.280 Å vs sqrt(3/5) R
    = 23.282 Å.

    Q R <= 4 (the first zero is at 4.493).  f = Z (``"constant"``), so only the
    geometry enters.  Measured max |I/I(0) - Phi^2| = 7.2e-5 (at QR = 2.1),
    max relative 8.2e-4 (at QR = 4).  Tolerance: 2.5e-4 absolute + 2.5e-3
    relative.  With R = diameter/2 = 30 Å instead the absolute deviation is
    1.5e-3 and the same tolerance fails, as it does for R changed by 0.5 %.
    """
    cluster = lattice_sphere("Au", 60.0)
    atoms = cluster.atoms
    n = len(atoms)
    assert n == 6699
    radius = (3.0 * n * AU_A**3 / 4.0 / (4.0 * math.pi)) ** (1.0 / 3.0)  # 30.057 Å
    q = np.linspace(0.0, 4.0 / radius, 201)
    curve = debye_intensity(atoms, q, mode="fast", form_factor_source="constant")
    ratio = curve.intensity / curve.intensity[0]
    model = sphere_form_factor_squared(q * radius)
    np.testing.assert_allclose(ratio, model, rtol=2.5e-3, atol=2.5e-4)
    # the test tells the equivalent-volume radius from the nominal one
    nominal = sphere_form_factor_squared(q * 30.0)
    assert not np.allclose(ratio, nominal, rtol=2.5e-3, atol=2.5e-4)
    assert curve.intensity[0] == pytest.approx((79.0 * n) ** 2, rel=1e-12)


# -------------------------------------------------------------- validation


def _dimer() -> Atoms:
    return Atoms("Au2", positions=[(0, 0, 0), (0, 0, 2.88)])


@pytest.mark.parametrize(
    "q, kwargs",
    [
        ([0.5, 1.0], {"mode": "slow"}),
        ([-0.1, 1.0], {}),
        ([np.nan, 1.0], {}),
        ([np.inf], {}),
        ([], {}),
        ([0.5], {"b_iso_angstrom2": -0.1}),
        ([0.5], {"b_iso_angstrom2": {"Au": -1.0}}),
        ([0.5], {"b_iso_angstrom2": {"Ag": 0.5}}),  # no value for Au
        ([0.5], {"form_factor_source": "cromer-mann"}),
        ([0.5], {"energy_kev": 0.001}),
        ([0.5], {"energy_kev": 1000.0}),
        ([0.5], {"scale": 0.0}),
        ([0.5], {"scale": -1.0}),
    ],
    ids=["mode", "negative_q", "nan_q", "inf_q", "empty_q", "negative_b", "negative_b_map", "missing_b",
         "source", "energy_low", "energy_high", "scale_zero", "scale_negative"],
)
@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_invalid_input_raises(q, kwargs, mode):
    kwargs = {"mode": mode, **kwargs}
    with pytest.raises(SwaxsInputError):
        debye_intensity(_dimer(), q, **kwargs)


def test_empty_atoms_raises():
    with pytest.raises(SwaxsInputError):
        debye_intensity(Atoms(), [0.5])


def test_pair_distribution_reuses_a_histogram_and_refuses_a_coarse_one():
    """A live view passes the histogram once built; the result must not change, and a
    histogram too coarse for Q_max must be refused rather than used."""
    from swaxs_lib.scattering import pair_distribution

    atoms = Icosahedron("Au", noshells=4, latticeconstant=4.08)
    r = np.linspace(1.0, 20.0, 400)
    fresh = pair_distribution(atoms, r, 0.5, 25.0, b_iso_angstrom2=0.4).g
    reused = pair_distribution(atoms, r, 0.5, 25.0, b_iso_angstrom2=0.4, histogram=pair_histogram(atoms, fast_bin_width(25.0))).g
    np.testing.assert_array_equal(reused, fresh)
    with pytest.raises(SwaxsInputError, match="histogram"):
        pair_distribution(atoms, r, 0.5, 25.0, histogram=pair_histogram(atoms, 0.05))

