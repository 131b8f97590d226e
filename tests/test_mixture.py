"""Mixtures (swaxs_lib.mixture) on synthetic curves of known composition, mixed here, not by the code under test.

The curves come from the repo's model functions (the real-space G(r) of
swaxs_lib.models.cluster_gr, the Debye I(Q) of swaxs_lib.scattering) for ASE
clusters; the mixing follows the physics stated independently here: dilute
particles add intensities, I = s Σ n_k I_k, and a per-atom G(r) of a mixture
is the atom-weighted mean, G = s Σ n_k N_k G_k / Σ n_k N_k (one element).
Every candidate is evaluated with the data's own expansion, U and Q damping,
as if each candidate's refinement had found them.  The truth: 60 % of the
particles are a 147-atom Mackay icosahedron, 40 % a 192-atom Marks decahedron
(3, 3, 1) (diameters within 10 %), among 8 candidates of 4 families.
"""

from __future__ import annotations

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement
from swaxs_lib.mixture import MixtureCandidate, MixtureResult, fit_mixture
from swaxs_lib.models import cluster_gr
from swaxs_lib.scattering import debye_intensity
from swaxs_lib.structures import cuboctahedron, decahedron, icosahedron, octahedron, truncated_octahedron

TRUE = {"ico147": 0.6, "deca331": 0.4}  # number fractions of particles
Q_MIN, Q_MAX = 0.5, 20.0  # the G(r)'s transform window (1/Å)
ZOOM, U, QDAMP, B = 1.015, 0.008, 0.03, 8 * np.pi**2 * 0.008


@pytest.fixture(scope="module")
def setup():
    clusters = {
        "ico55": icosahedron("Au", 3), "ico147": icosahedron("Au", 4), "deca330": decahedron("Au", 3, 3, 0),
        "deca321": decahedron("Au", 3, 2, 1), "deca331": decahedron("Au", 3, 3, 1), "deca440": decahedron("Au", 4, 4, 0),
        "cubo147": cuboctahedron("Au", 4), "to140": truncated_octahedron("Au", 6), "octa85": octahedron("Au", 5),
    }
    atoms = {k: c.atoms for k, c in clusters.items()}
    r = np.arange(1.0, 25.0 + 1e-9, 0.02)
    q = np.arange(1.0, 10.0 + 1e-9, 0.01)
    gr = {k: cluster_gr.model_curve(cluster_gr.histogram_for(a, Q_MAX), r, Q_MIN, Q_MAX, zoom=ZOOM, u=U, qdamp=QDAMP)
          for k, a in atoms.items()}
    iq = {k: debye_intensity(a, q, b_iso_angstrom2=B, scale=ZOOM).intensity for k, a in atoms.items()}
    # PDF noise is white in Q up to Q_max, so band-limited in r (as in tests/test_significance.py)
    dq = 0.02
    q_noise = np.arange(dq, Q_MAX + dq / 2, dq)
    sine = np.sin(np.outer(r, q_noise)) * dq
    return atoms, r, q, gr, iq, sine


def _candidates(atoms, curves):
    return [MixtureCandidate.from_atoms(k, curves[k], atoms[k]) for k in curves]


def _gr_data(setup, fractions, seed, noise=0.02):
    atoms, r, _, gr, _, sine = setup
    n_atoms = {k: len(atoms[k]) for k in fractions}
    total = sum(fractions[k] * n_atoms[k] for k in fractions)
    g = 0.8 * sum(fractions[k] * n_atoms[k] * gr[k] for k in fractions) / total
    e = sine @ np.random.default_rng(seed).normal(size=sine.shape[1])
    g = g + e * noise * np.abs(g).max() / e.std()
    return Measurement("gr", r, g, None, f"synthetic-gr-{seed}", "angstrom")


def _iq_data(setup, fractions, seed, noise=0.01):
    _, _, q, _, iq, _ = setup
    i = 1e-4 * sum(fractions[k] * iq[k] for k in fractions)
    i = i + 0.05 * i.min()  # a flat background
    sigma = noise * i
    i = i + sigma * np.random.default_rng(seed).normal(size=q.size)
    return Measurement("iq", q, i, sigma, f"synthetic-iq-{seed}", "inv_angstrom")


def _fit(setup, kind, data):
    atoms, _, _, gr, iq, _ = setup
    if kind == "gr":
        return fit_mixture(data, _candidates(atoms, gr), q_max_inv_angstrom=Q_MAX)
    return fit_mixture(data, _candidates(atoms, iq), background="constant")


def _mass_fractions(atoms, fractions):
    masses = {k: fractions[k] * atoms[k].get_masses().sum() for k in fractions}
    return {k: v / sum(masses.values()) for k, v in masses.items()}


def _family(label: str) -> str:
    return label.rstrip("0123456789")


@pytest.mark.parametrize("kind", ["gr", "iq"])
def test_a_60_40_mixture_comes_back_with_its_motifs_and_fractions(setup, kind):
    # 30 seeded noisy curves of the 60/40 mixture.  Always: an accepted mixture of exactly the two true
    # motifs (families), atom and mass fractions within ±0.1 (the tolerance).  The two true
    # candidates (sizes too), number fractions within ±0.1: in at least 80 % of runs (measured 26/30 for
    # G(r) at 2 % noise, where the decahedra (3,2,1), (3,3,1), (4,4,0) are nearly indistinguishable and a
    # wrong-size decahedron moves the number fraction, not the atom fraction; 29/30 for I(Q)).
    # The 1-σ intervals of the ico's number fraction hold the truth in 50-90 % of those runs (Gaussian:
    # 68 %; measured 16/26 for G(r), 18/29 for I(Q)).
    atoms = setup[0]
    mass_true = _mass_fractions(atoms, TRUE)
    atom_true = {k: v * len(atoms[k]) for k, v in TRUE.items()}
    atom_true = {k: v / sum(atom_true.values()) for k, v in atom_true.items()}
    exact = inside = 0
    n = 30
    for seed in range(n):
        data = _gr_data(setup, TRUE, 200 + seed) if kind == "gr" else _iq_data(setup, TRUE, 200 + seed)
        m = _fit(setup, kind, data)
        assert m.accepted and m.p_value < m.alpha and m.rw < m.rw_single
        by_family = {}
        for c in m.components:
            f = by_family.setdefault(_family(c.label), [0.0, 0.0])
            f[0] += c.atom_fraction
            f[1] += c.mass_fraction
        assert {"ico", "deca"} <= set(by_family) and sum(v[0] for k, v in by_family.items()
                                                        if k not in ("ico", "deca")) < 0.05, (seed, m.components)
        for label in TRUE:
            assert by_family[_family(label)][0] == pytest.approx(atom_true[label], abs=0.1)
            assert by_family[_family(label)][1] == pytest.approx(mass_true[label], abs=0.1)
        found = {c.label: c for c in m.components}
        if set(found) == set(TRUE):
            exact += 1
            assert all(found[k].number_fraction == pytest.approx(v, abs=0.1) for k, v in TRUE.items())
            ico = found["ico147"]
            inside += abs(ico.number_fraction - TRUE["ico147"]) <= ico.number_fraction_sigma
    print(f"{kind}: exact candidates {exact}/{n}, 1-sigma coverage {inside}/{exact}")
    assert exact >= 0.8 * n
    assert 0.5 <= inside / exact <= 0.9


@pytest.mark.parametrize("kind", ["gr", "iq"])
def test_a_pure_motif_is_not_reported_as_a_mixture(setup, kind):
    # At alpha = 0.05 a false mixture may happen in ~5 % of runs at most; allow 2 of the 30 seeded runs.
    false = 0
    for seed in range(15):
        for label in ("ico147", "deca331"):
            pure = {label: 1.0}
            data = _gr_data(setup, pure, 100 + seed) if kind == "gr" else _iq_data(setup, pure, 100 + seed)
            m = _fit(setup, kind, data)
            assert m.best_single_label == label
            if not m.accepted:
                assert len(m.components) == 1 and m.components[0].label == label and m.f_value is None
                assert m.components[0].number_fraction == 1.0 and m.components[0].number_fraction_sigma == 0.0
            false += m.accepted
    print(f"{kind}: false mixtures {false}/30")
    assert false <= 2


def test_atom_and_mass_fractions_follow_pdffit2_phase_fractions():
    # pdffit2 converts PDF phase scales s_i to atom fractions ∝ s_i / <f>_i² (X-rays: f = Z), cell fractions
    # ∝ atom / atoms per cell, mass fractions ∝ atom × mass per atom.  Two fcc phases, Au and Ni, 4 atoms per cell.
    import os

    import diffpy.pdffit2

    diffpy.pdffit2.redirect_stdout(open(os.devnull, "w"))  # as tests/test_envelope.py: pdffit2 talks on stdout
    fit = diffpy.pdffit2.PdfFit()
    for el, a in (("AU", 4.08), ("NI", 3.52)):
        sites = "".join(f"{el} {x} {y} {z} 1.0\n 0 0 0 0\n 0.003 0.003 0.003\n 0 0 0\n 0 0 0\n 0 0 0\n"
                        for x, y, z in ((0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)))
        fit.read_struct_string(f"title {el}\nformat pdffit\nscale 1.0\nsharp 0, 0, 0\nspcgr Fm-3m\n"
                               f"cell {a}, {a}, {a}, 90, 90, 90\ndcell 0,0,0,0,0,0\nncell 1, 1, 1, 4\natoms\n{sites}")
    fit.alloc("X", 25.0, 0.0, 1.5, 10.0, 200)
    for phase, s in ((1, 0.6), (2, 0.4)):
        fit.setphase(phase)
        fit.setvar(fit.pscale(), s)
    reference = fit.phase_fractions()
    r = np.linspace(1.5, 10, 300)
    curves = (np.sin(3 * r) * np.exp(-r / 4), np.cos(2 * r) * np.exp(-r / 3))
    data = Measurement("gr", r, 0.6 * curves[0] + 0.4 * curves[1], None, "two phases", "angstrom")
    cells = [MixtureCandidate("Au", curves[0], 4, 4 * 196.966570, 79.0), MixtureCandidate("Ni", curves[1], 4, 4 * 58.6934, 28.0)]
    m = fit_mixture(data, cells, q_max_inv_angstrom=25.0)
    assert [c.label for c in m.components] == ["Au", "Ni"] and m.accepted
    np.testing.assert_allclose([c.weight for c in m.components], [0.6, 0.4], rtol=1e-9)
    np.testing.assert_allclose([c.atom_fraction for c in m.components], reference["atom"], rtol=1e-6)
    np.testing.assert_allclose([c.number_fraction for c in m.components], reference["cell"], rtol=1e-6)
    np.testing.assert_allclose([c.mass_fraction for c in m.components], reference["mass"], rtol=1e-4)


def test_json_round_trip_and_bad_input(setup):
    m = _fit(setup, "iq", _iq_data(setup, TRUE, 7))
    again = MixtureResult.from_json(m.to_json())
    assert again == m and MixtureResult.from_json(__import__("json").dumps(m.to_json())) == m
    exchanged = _fit(setup, "gr", _gr_data(setup, TRUE, 0))  # its steps hold an exchange (NaN test values)
    assert any(step.replaced for step in exchanged.steps)
    assert MixtureResult.from_json(__import__("json").dumps(exchanged.to_json())) == exchanged
    data = _iq_data(setup, TRUE, 7)
    with pytest.raises(SwaxsInputError, match="candidate 'short'"):
        fit_mixture(data, [MixtureCandidate("short", np.ones(3), 10, 1.0, 79.0)])
    with pytest.raises(SwaxsInputError, match="alpha"):
        fit_mixture(data, _candidates(setup[0], setup[4]), alpha=1.5)
    with pytest.raises(SwaxsInputError, match="candidates"):
        fit_mixture(data, [])
    with pytest.raises(SwaxsInputError, match="newer swaxs"):
        MixtureResult.from_json({**m.to_json(), "schema": 99})


def test_many_near_collinear_candidates(setup):
    # A screen's situation: every structure at 8 expansions (72 curves, neighbours nearly collinear), one
    # of them the data's (1.5 %: each candidate's own refined value is in the set).  The stepwise selection
    # still finds the two motifs with fractions within 0.1, and a pure curve stays single (measured: 270
    # candidates, 5 + 5 seeds, 0.3-0.7 s each).  With the data's expansion *between* grid points, two
    # neighbouring expansions of the pure motif do fit significantly better than one (a strain
    # distribution, which the test rightly accepts): candidates must come with their own refined values.
    from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup

    atoms, r = setup[0], setup[1]
    candidates = []
    for label, a in atoms.items():
        prepared = realspace_setup(cluster_gr.histogram_for(a, Q_MAX), r, Q_MIN, Q_MAX, max_zoom=1.1)
        for zoom in ZOOM + 0.003 * np.arange(-4, 4):
            curve = realspace_pdf(prepared, u_iso_angstrom2=U, q_damp_inv_angstrom=QDAMP, zoom=zoom)
            candidates.append(MixtureCandidate.from_atoms(f"{label}@{zoom:.4f}", curve, a))
    for seed in range(2):
        m = fit_mixture(_gr_data(setup, TRUE, seed), candidates, q_max_inv_angstrom=Q_MAX)
        found = {c.label.split("@")[0]: c.number_fraction for c in m.components}
        assert m.accepted and set(found) == set(TRUE), (seed, found)
        assert all(found[k] == pytest.approx(v, abs=0.1) for k, v in TRUE.items())
        pure = fit_mixture(_gr_data(setup, {"ico147": 1.0}, 100 + seed), candidates, q_max_inv_angstrom=Q_MAX)
        assert not pure.accepted and pure.components[0].label.startswith("ico147@")
