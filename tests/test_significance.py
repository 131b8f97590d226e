"""What the data can tell: independent points, the R_w ratio test, the Nyquist factor, parameter flags.

References: the F distribution's closed forms (F(2, nu) and Fisher's z), and
simulations of band-limited noise (what a PDF's noise is: white in Q up to
Q_max, sine-transformed, sampled every 0.01 Å) with numpy's random numbers,
not our own code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.result import RefinedValue, RefinementResult
from swaxs_lib.refine.significance import (
    critical_rw_ratio,
    independent_points,
    parameter_flag,
    rank_test,
    sigma_nyquist_factor,
)

# -- the test against closed forms --------------------------------------------------------------


def test_two_sided_critical_ratio_and_p_value_of_F_2_nu_by_hand():
    # F(2, nu2) has the survival function (1 + 2F/nu2)^(-nu2/2) (Abramowitz & Stegun 26.6.4 with nu1 = 2).
    # Equal nu = 2 (7 independent points, 5 parameters): sf(F) = 1 / (1 + F).
    # alpha = 0.05 two-sided: 1/(1 + F) = 0.025 -> F = 39 -> critical R_w ratio sqrt(39).
    assert critical_rw_ratio(2, 2, 0.05) == pytest.approx(math.sqrt(39.0), rel=1e-9)
    # R_w 0.1 against 0.3: ratio 3, F = 9, sf = 0.1, two-sided p = 0.2
    t = rank_test([0.3, 0.1], n_independent=7, n_refined=[5, 5], alpha=0.05)
    assert t.best == 1 and t.comparisons[1].p_value is None and t.comparisons[1].indistinguishable
    c = t.comparisons[0]
    assert c.rw_ratio == pytest.approx(3.0) and c.p_value == pytest.approx(0.2, rel=1e-9)
    assert c.indistinguishable and t.indistinguishable == (0,)
    assert not rank_test([0.3, 0.1], 7, [5, 5], alpha=0.25).comparisons[0].indistinguishable  # p 0.2 < 0.25
    # unequal P: best nu_b = 9 - 5 = 4, other nu_i = 9 - 7 = 2; ratio 1.5 -> F = 1.5^2 * 4/2 = 4.5,
    # sf = (1 + 2 * 4.5 / 4)^-2 = 3.25^-2, p = 2 sf
    c = rank_test([0.2, 0.3], 9, [5, 7]).comparisons[1]
    assert c.nu == 2 and c.p_value == pytest.approx(2 * 3.25**-2, rel=1e-9)
    # critical: (1 + F/2)^-2 = 0.025 -> F = 2 (sqrt(40) - 1); ratio sqrt(F * nu_i / nu_b)
    assert c.rw_ratio_critical == pytest.approx(math.sqrt(2 * (math.sqrt(40) - 1) * 2 / 4), rel=1e-9)


@pytest.mark.parametrize("nu, alpha", [(85, 0.05), (40, 0.01), (300, 0.1)])
def test_critical_ratio_for_many_points_is_fishers_z(nu, alpha):
    # Fisher: z = ln(F)/2 is nearly normal with variance (1/nu1 + 1/nu2)/2; ln(ratio) = z
    z = stats.norm.ppf(1 - alpha / 2) * math.sqrt(1.0 / nu)
    assert critical_rw_ratio(nu, nu, alpha) == pytest.approx(math.exp(z), rel=0.01)
    assert critical_rw_ratio(nu, nu, alpha) == pytest.approx(math.sqrt(stats.f.ppf(1 - alpha / 2, nu, nu)), rel=1e-12)


def test_rank_test_limits_and_bad_input():
    # no degrees of freedom left: nothing can be told apart, and it is said
    t = rank_test([0.5, 0.9], n_independent=4, n_refined=[5, 5])
    assert all(c.indistinguishable for c in t.comparisons) and "cannot tell" in t.note
    # an exact best fit: every worse one is infinitely worse
    t = rank_test([0.0, 0.1, 0.0], 50, [3, 3, 3])
    assert [c.indistinguishable for c in t.comparisons] == [True, False, True]
    assert t.comparisons[1].p_value == 0.0 and math.isinf(t.comparisons[1].rw_ratio)
    for bad in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(SwaxsInputError, match="--alpha"):
            rank_test([0.1, 0.2], 50, [3, 3], alpha=bad)
    with pytest.raises(SwaxsInputError, match="same number"):
        rank_test([0.1, 0.2], 50, [3])


def test_independent_points_is_the_nyquist_count():
    # the Au lab PDF: Q_max 10 1/Å (header), fit 1.5-30 Å: 28.5 * 10 / pi = 90.7
    assert independent_points("gr", 1.5, 30.0, 2851, 10.0) == 90
    # Au144 (Q_max 26): 28.5 * 26 / pi = 235.9
    assert independent_points("gr", 1.5, 30.0, 2851, 26.0) == 235
    # never more than the points measured; Q-space data count their points
    assert independent_points("gr", 1.5, 30.0, 40, 26.0) == 40
    assert independent_points("iq", 0.01, 0.5, 300) == 300
    # an exact multiple of the Nyquist interval pi / Q_max keeps its last point
    assert independent_points("gr", 0.0, 10 * math.pi / 7.0, 1000, 7.0) == 10
    with pytest.raises(SwaxsInputError, match="Q_max"):
        independent_points("gr", 1.5, 30.0, 2851, None)


# -- the test against simulated PDF noise -------------------------------------------------------


@pytest.fixture(scope="module")
def band_limited():
    """4000 noise curves G(r) = sum_k e_k sin(Q_k r) dQ, e_k white, Q <= 10 1/Å, on r = 1.5..30 Å step 0.01."""
    rng = np.random.default_rng(20261213)
    dq, q_max = 0.02, 10.0
    q = np.arange(dq, q_max + dq / 2, dq)
    r = np.arange(1.5, 30.0 + 1e-9, 0.01)
    noise = (np.sin(np.outer(r, q)) * dq) @ rng.normal(size=(q.size, 4000))
    # a three-parameter linear model (a damped wave and a decay), as a refinement's Jacobian would be
    basis = np.column_stack([np.sin(2.7 * r) * np.exp(-r / 8), np.cos(2.7 * r) * np.exp(-r / 8), np.exp(-r / 5)])
    return r, q_max, noise, basis


def test_the_chi2_of_a_fit_to_pdf_noise_has_the_nyquist_degrees_of_freedom(band_limited):
    r, q_max, noise, basis = band_limited
    residual = noise - basis @ np.linalg.lstsq(basis, noise, rcond=None)[0]
    chi2 = (residual**2).sum(axis=0)
    nu_eff = 2 * chi2.mean() ** 2 / chi2.var()  # a scaled chi-squared with nu dof has var/mean^2 = 2/nu
    n_ind = independent_points("gr", r[0], r[-1], r.size, q_max)
    assert nu_eff == pytest.approx(n_ind - basis.shape[1], rel=0.15)  # measured: 85.3 against 87
    assert nu_eff < (r.size - basis.shape[1]) / 10  # the raw point count is off by a factor ~30


def test_two_equally_good_models_are_told_apart_at_the_rate_alpha(band_limited):
    # Two equally good fits (the same model on independent noise): the test must call them different
    # in about alpha of the cases with the Nyquist count, and far more often with the raw point count.
    r, q_max, noise, basis = band_limited
    residual = noise - basis @ np.linalg.lstsq(basis, noise, rcond=None)[0]
    rw = np.sqrt((residual**2).sum(axis=0))
    pairs = rw.reshape(2, -1).T
    n_ind = independent_points("gr", r[0], r[-1], r.size, q_max)

    def alarm_rate(n: int) -> float:
        return float(np.mean([len(rank_test(p, n, [3, 3]).indistinguishable) == 0 for p in pairs]))

    assert 0.025 <= alarm_rate(n_ind) <= 0.075  # measured 0.059 on these 2000 pairs (0.73 with the raw count)
    assert alarm_rate(r.size) > 0.5


def test_uncertainties_times_the_nyquist_factor_match_the_scatter_of_the_values(band_limited):
    # srfit without sigmas: sigma_j = sqrt(chi2 / (n - P)) sqrt((J^T J)^-1_jj); on oversampled PDF noise
    # that is too small, and times sigma_nyquist_factor it should be the true scatter of the fitted values.
    r, q_max, noise, basis = band_limited
    coefficients, *_ = np.linalg.lstsq(basis, noise, rcond=None)
    residual = noise - basis @ coefficients
    n, p = basis.shape
    naive = np.sqrt(np.outer(np.diag(np.linalg.inv(basis.T @ basis)), (residual**2).sum(axis=0) / (n - p)))
    factor = sigma_nyquist_factor(n, independent_points("gr", r[0], r[-1], n, q_max), p, "uniform")
    scatter = coefficients.std(axis=1)
    assert factor == pytest.approx(math.sqrt((n - p) / (90 - p)))
    assert np.all(scatter / naive.mean(axis=1) > 4)  # uncorrected: 5 to 6 times too small
    np.testing.assert_allclose(scatter / (factor * naive.mean(axis=1)), 1.0, atol=0.1)  # measured 0.99-1.01


def test_nyquist_factor_cases():
    assert sigma_nyquist_factor(300, 300, 4, "relative") == 1.0
    assert sigma_nyquist_factor(2851, 90, 5, "sigma") == pytest.approx(math.sqrt(2851 / 90))
    assert math.isinf(sigma_nyquist_factor(2851, 5, 5, "uniform"))


# -- parameter flags ----------------------------------------------------------------------------


def test_parameter_flags():
    assert parameter_flag("qdamp", 0.03, None, refined=False) == "fixed"
    assert parameter_flag("delta2", 0.0, None, refined=True) == "at_bound"
    assert parameter_flag("u_Au", 0.02, 0.001, True) == ""
    assert parameter_flag("delta2", 0.4, 0.5, True) == "sigma_exceeds_value"
    assert parameter_flag("delta2", 0.4, 0.1, True, factor=4.0) == "sigma_exceeds_value"  # 0.1 * 4 >= 0.4
    assert parameter_flag("delta2", 0.4, 0.09, True, factor=4.0) == ""
    assert parameter_flag("c0", -0.2, 0.3, True) == "sigma_exceeds_value"  # the sign is not known
    assert parameter_flag("expansion", 0.0005, 0.001, True) == ""  # zero expansion is a result


def _result(values, n_points=2851, x=(1.5, 30.0), q_max=10.0, kind="gr", weighting="uniform"):
    grid = np.linspace(x[0], x[1], n_points)
    return RefinementResult(kind=kind, model="cluster", rw=0.6, chi2_reduced=0.01, values=tuple(values), x=grid,
                            data=np.zeros(n_points), fitted=np.zeros(n_points), x_min=x[0], x_max=x[1],
                            weighting=weighting, n_evaluations=1, converged=True, message="",
                            settings=(("q_max_inv_angstrom", q_max),))


def test_a_result_flags_its_undetermined_values_in_its_summary():
    # Au lab PDF-like: 2851 points, N_ind 90, 5 refined -> factor sqrt(2846 / 85) = 5.79
    values = [RefinedValue("scale", 0.18, 0.0046), RefinedValue("zoom", 0.9992, 0.00057),
              RefinedValue("u_Au", 0.0197, 0.0008, "Å²"),        # 0.0008 * 5.79 = 0.0046 < 0.0197: determined
              RefinedValue("delta2", 0.0, None, "Å²"),           # stopped at its bound
              RefinedValue("qdamp", 0.012, 0.003, "1/Å"),         # 0.003 * 5.79 = 0.017 >= 0.012: not determined
              RefinedValue("expansion", -0.0008, 0.00057)]
    fit = _result(values)
    assert fit.n_refined == 5 and fit.n_independent_points == 90
    assert fit.sigma_nyquist_factor == pytest.approx(math.sqrt(2846 / 85))
    summary = fit.summary()
    assert summary["n_independent_points"] == 90 and summary["n_refined"] == 5
    assert {k: summary[f"{k}_flag"] for k in ("scale", "zoom", "u_Au", "delta2", "qdamp", "expansion")} == {
        "scale": "", "zoom": "", "u_Au": "", "delta2": "at_bound", "qdamp": "sigma_exceeds_value", "expansion": ""}
    assert summary["undetermined"] == ["delta2", "qdamp"]
    assert "not determined" in values[4].text(fit.sigma_nyquist_factor) and "at a bound" in values[3].text()
    # fixed by the user: not counted as refined, flagged "fixed", not "undetermined"
    fixed = _result([RefinedValue("scale", 1.0, 0.1), RefinedValue("qdamp", 0.03, None, refined=False)])
    assert fixed.n_refined == 1 and fixed.flags() == {"scale": "", "qdamp": "fixed"} and fixed.undetermined() == []
    # Q-space data: every measured point counts, sigmas are used as they are
    iq = _result([RefinedValue("b_Au", 0.5, 0.4)], n_points=300, x=(0.5, 10.0), kind="iq", weighting="relative")
    assert iq.n_independent_points == 300 and iq.sigma_nyquist_factor == 1.0 and iq.undetermined() == []


def test_a_refinement_reports_delta2_at_its_bound(tmp_path):
    # synthetic G(r) of a 55-atom icosahedron without correlated motion: delta2 stops at 0
    from swaxs_lib.io import Measurement
    from swaxs_lib.refine.cluster import refine_cluster
    from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup
    from swaxs_lib.scattering import pair_histogram
    from swaxs_lib.structures import icosahedron

    atoms = icosahedron("Au", 3).atoms
    r = np.arange(1.0, 15.0, 0.02)
    g = 0.8 * realspace_pdf(realspace_setup(pair_histogram(atoms, 0.005), r, 0.5, 20.0), u_iso_angstrom2=0.008)
    g = g + np.random.default_rng(3).normal(0, 0.01 * np.abs(g).max(), r.size)
    fit = refine_cluster(Measurement("gr", r, g, None, "synthetic.gr", "angstrom"), atoms,
                         q_min_inv_angstrom=0.5, q_max_inv_angstrom=20.0, fix=("qdamp",))
    flags = fit.flags()
    assert flags["qdamp"] == "fixed" and flags["u_Au"] == "" and flags["scale"] == ""
    assert fit.value("delta2") < 0.05 and flags["delta2"] in ("at_bound", "sigma_exceeds_value")
    assert "delta2" in fit.summary()["undetermined"]
    assert fit.n_independent_points == math.floor((r[-1] - 1.5) * 20.0 / math.pi)
