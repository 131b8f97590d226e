"""The size-decidability bound (swaxs_lib/ml/ceiling.py) against closed forms.

References: the homogeneous-sphere form factor P(x) = [3 (sin x - x cos x) / x³]² (Guinier & Fournet 1955)
and its analytic derivative; the two-Gaussian-hypothesis error Phi(-d/2) (Van Trees 1968, sec. 2.6).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.ceiling import (bayes_size, noncentrality, pairwise_ceiling, profiled_chi2, profiled_chi2_background,
                                   scaled_curves)


def sphere(x: np.ndarray) -> np.ndarray:
    return (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2


def sphere_x_derivative(x: np.ndarray) -> np.ndarray:
    """x dP/dx, by hand: F = 3 (sin x - x cos x) / x³, dF/dx = 3 sin x / x² - 3 F / x, P = F²."""
    f = 3 * (np.sin(x) - x * np.cos(x)) / x**3
    return 2 * f * x * (3 * np.sin(x) / x**2 - 3 * f / x)


Q = np.geomspace(0.02, 0.3, 80)


def test_identical_alternative_and_any_scale_of_it_are_zero_apart():
    truth = sphere(Q * 20.0) + 1e-4
    assert noncentrality(truth, truth, reference=float(np.median(truth)), counts=1e4) == pytest.approx(0, abs=1e-9)
    assert noncentrality(truth, 7.3 * truth, reference=1.0, counts=1e4) == pytest.approx(0, abs=1e-9)


def test_distance_grows_in_proportion_to_counts():
    truth, other = sphere(Q * 20.0) + 1e-4, sphere(Q * 21.0) + 1e-4
    d = [noncentrality(truth, other, reference=0.01, counts=n) for n in (10**2.5, 10**5)]
    assert d[0] > 0
    assert d[1] / d[0] == pytest.approx(10**2.5, rel=1e-9)


@pytest.mark.parametrize("radius", [12.0, 30.0])
def test_two_spheres_match_the_linearised_closed_form(radius):
    """A = P(Q R (1 + delta)) ~ I + delta g, g = x dP/dx; with c = 1 + eps free and w = N / (I ref):
    D ~ delta² N / ref [sum g² / I - (sum g)² / sum I].  delta = 1e-3: the neglected terms are O(delta)."""
    delta, counts, ref = 1e-3, 1e4, 0.05
    truth = sphere(Q * radius)
    g = sphere_x_derivative(Q * radius)
    expected = delta**2 * counts / ref * (np.sum(g**2 / truth) - np.sum(g) ** 2 / np.sum(truth))
    got = noncentrality(truth, sphere(Q * radius * (1 + delta)), reference=ref, counts=counts)
    assert got == pytest.approx(expected, rel=0.01)
    # quadratic in delta
    got2 = noncentrality(truth, sphere(Q * radius * (1 + 2 * delta)), reference=ref, counts=counts)
    assert got2 / got == pytest.approx(4.0, rel=0.01)


def test_bound_is_a_coin_toss_at_zero_and_phi_elsewhere():
    assert pairwise_ceiling(0.0) == pytest.approx(0.5)
    # D = 4: Phi(1) = 0.841345 (normal table)
    assert pairwise_ceiling(4.0) == pytest.approx(0.841345, abs=1e-6)
    assert pairwise_ceiling(np.array([1.0, 100.0]))[1] == pytest.approx(1.0, abs=1e-6)


def test_scaled_curves_interpolate_a_scaled_sphere():
    x = np.geomspace(0.01, 1.0, 4000)
    s = sphere(x * 20.0) + 1e-3
    got = scaled_curves(x, s, Q, np.array([0.9, 1.1]))
    np.testing.assert_allclose(got, sphere(np.outer([0.9, 1.1], Q) * 20.0) + 1e-3, rtol=2e-3)
    with pytest.raises(SwaxsInputError):
        scaled_curves(x, s, Q, np.array([4.0]))


def test_non_positive_truth_is_refused():
    with pytest.raises(SwaxsInputError):
        noncentrality(np.array([1.0, 0.0]), np.array([1.0, 1.0]), reference=1.0)
    assert math.isfinite(noncentrality(np.array([1.0, 2.0]), np.array([0.0, 0.0]), reference=1.0))


def test_profiled_chi2_matches_a_scan_over_the_scale():
    """Brute force: chi² on a fine grid of c (0..3) against the closed form."""
    rng = np.random.default_rng(3)
    truth = sphere(Q * 20.0) + 1e-3
    w = 1e4 / (truth * 0.02)
    y = truth + rng.standard_normal(len(Q)) / np.sqrt(w)
    alts = np.array([sphere(Q * 21.0) + 1e-3, 1.7 * truth])
    got = profiled_chi2(alts, alts**2, y[:, None], w[:, None])[:, 0]
    def chi2(c, a):
        return ((c[:, None] * a[None, :] - y[None, :]) ** 2 * w[None, :]).sum(axis=1)

    coarse = np.linspace(0, 3, 3001)
    for a, g in zip(alts, got):
        best = coarse[np.argmin(chi2(coarse, a))]
        scan = chi2(np.linspace(best - 1e-3, best + 1e-3, 20001), a).min()
        # the scan's step (1e-7 in c) leaves it slightly above the minimum, never below
        assert g == pytest.approx(scan, rel=1e-6) and g <= scan * (1 + 1e-12)


def test_bayes_size_picks_the_size_right_for_the_most_mass():
    # three hypotheses at 10, 10.4 and 20 nm, tolerance 0.5: 10 and 10.4 cover each other, together 0.6 > 0.4
    log_post = np.log(np.array([0.3, 0.3, 0.4]))
    assert bayes_size(log_post, np.array([10.0, 10.4, 20.0]), np.full(3, 0.5)) in (10.0, 10.4)
    assert bayes_size(log_post, np.array([10.0, 11.4, 20.0]), np.full(3, 0.5)) == 20.0


def test_scale_and_background_fit_matches_lstsq_and_nnls():
    """The closed-form (c >= 0, b >= 0) fit against numpy's lstsq (interior solutions) and scipy's nnls
    (any solution), on the weighted design [A, 1]; tolerance rounding (1e-8 relative)."""
    from scipy.optimize import nnls

    rng = np.random.default_rng(3)
    alts = np.vstack([sphere(Q * r) + 1e-3 for r in (15.0, 20.0, 25.0)] + [-sphere(Q * 20.0) + 0.5])
    truth = 2.0 * alts[1] + 0.01
    curves = np.column_stack([truth + 0.002 * rng.standard_normal(len(Q)), 0.3 - truth, truth])
    weights = np.column_stack([1 / truth, np.ones(len(Q)), 1 / (truth + 0.1)])
    chi2, c, b = profiled_chi2_background(alts, alts**2, curves, weights)
    for i, a in enumerate(alts):
        for j in range(curves.shape[1]):
            root = np.sqrt(weights[:, j])
            design = np.column_stack([a, np.ones(len(Q))]) * root[:, None]
            coef, residual = nnls(design, curves[:, j] * root)
            assert chi2[i, j] == pytest.approx(residual**2, rel=1e-8, abs=1e-12)
            assert (c[i, j], b[i, j]) == pytest.approx(tuple(coef), rel=1e-6, abs=1e-9)
    interior = np.linalg.lstsq(np.column_stack([alts[1], np.ones(len(Q))]) * np.sqrt(weights[:, :1]),
                               curves[:, 0] * np.sqrt(weights[:, 0]), rcond=None)[0]
    assert (c[1, 0], b[1, 0]) == pytest.approx(tuple(interior), rel=1e-8)
    assert interior[0] > 0 and interior[1] > 0


def test_background_bounded_by_the_scale_matches_nnls():
    """b in [0, r c]: with b and d = r c - b >= 0, c A + b = b (A / r + 1) + d A / r, an nnls problem
    (scipy); tolerance rounding (1e-8 relative)."""
    from scipy.optimize import nnls

    rng = np.random.default_rng(5)
    alts = np.vstack([sphere(Q * r) + 1e-3 for r in (15.0, 20.0, 25.0)])
    ratio = np.array([0.001, 0.01, 10.0])  # alternative 1 needs b / c = 0.025: bound active
    truth = 2.0 * alts[1] + 0.05
    curves = np.column_stack([truth + 0.002 * rng.standard_normal(len(Q)), 0.3 - truth, truth])
    weights = np.column_stack([1 / truth, np.ones(len(Q)), 1 / (truth + 0.1)])
    chi2, c, b = profiled_chi2_background(alts, alts**2, curves, weights, max_ratio=ratio)
    for i, (a, r) in enumerate(zip(alts, ratio)):
        for j in range(curves.shape[1]):
            root = np.sqrt(weights[:, j])
            design = np.column_stack([a / r + 1, a / r]) * root[:, None]
            (bb, dd), residual = nnls(design, curves[:, j] * root)
            assert chi2[i, j] == pytest.approx(residual**2, rel=1e-8, abs=1e-12)
            assert (c[i, j], b[i, j]) == pytest.approx(((bb + dd) / r, bb), rel=1e-6, abs=1e-9)
    active = np.isclose(b, ratio[:, None] * c, rtol=1e-9) & (b > 0)
    assert active.any() and (b < ratio[:, None] * c * (1 - 1e-6)).any()  # the bound both active and not
