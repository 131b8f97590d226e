"""Scale-and-background least squares and R_w (swaxs_lib.fit.linear).

References (none produced by swaxs):

* closed forms: noise-free y = s m + c0 + c1 x is recovered exactly; for a
  scale alone the weighted normal equation gives s = Σ w y m / Σ w m²;
* numpy.polyfit with w = 1/σ (it weights residuals, not squares) and
  scipy.optimize.lsq_linear on the weighted design matrix, for noisy data;
* R_w = sqrt(Σ w (y - y_fit)² / Σ w y²) (Toby, Powder Diffraction 21, 67
  (2006), eq. 2), worked out by hand below on a three-point table.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.linear import fit_scale_background

X = np.linspace(0.5, 10.0, 60)
MODEL = 1e4 * np.exp(-0.3 * X) + 50.0 * np.sin(X) ** 2  # positive, not a polynomial in x


# --- closed forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "background, coefficients",
    [("none", ()), ("constant", (120.0,)), ("linear", (120.0, -7.5))],
)
@pytest.mark.parametrize("weighting", ["uniform", "relative", "sigma"])
def test_noise_free_data_are_recovered_exactly(background, coefficients, weighting):
    scale = 2.75
    y = scale * MODEL + sum(c * X**k for k, c in enumerate(coefficients))
    sigma = 0.01 * y + 1.0
    fit = fit_scale_background(X, y, MODEL, sigma=sigma, background=background, weighting=weighting)
    assert fit.scale == pytest.approx(scale, rel=1e-12)
    assert fit.background == pytest.approx(coefficients, rel=1e-9, abs=1e-9)
    assert len(fit.background) == len(coefficients) and fit.background_model == background
    assert fit.weighting == weighting
    assert fit.rw < 1e-12
    np.testing.assert_allclose(fit.fitted, y, rtol=1e-12)
    np.testing.assert_allclose(fit.background_curve(X), y - scale * MODEL, rtol=0, atol=1e-9 * y.max())


def test_scale_only_is_the_weighted_normal_equation():
    rng = np.random.default_rng(1)
    sigma = 0.05 * MODEL
    y = 1.7 * MODEL + rng.normal(0, sigma)
    for weighting, w in [("sigma", 1 / sigma**2), ("relative", 1 / y**2), ("uniform", np.ones_like(y))]:
        fit = fit_scale_background(X, y, MODEL, sigma=sigma, weighting=weighting)
        expected = np.sum(w * y * MODEL) / np.sum(w * MODEL**2)
        assert fit.scale == pytest.approx(expected, rel=1e-12), weighting
        # the noisy fit is not exact, so these differ: the test can tell the weightings apart
    scales = {wt: fit_scale_background(X, y, MODEL, sigma=sigma, weighting=wt).scale for wt in ("sigma", "uniform")}
    assert abs(scales["sigma"] - scales["uniform"]) > 1e-6


# --- independent least-squares solvers ---------------------------------------------------------


def test_sigma_weights_match_numpy_polyfit():
    """With model = x (or x²) the fit is a polynomial, which numpy.polyfit solves with w = 1/σ."""
    rng = np.random.default_rng(7)
    sigma = 0.2 + 0.1 * rng.random(len(X))
    y = 3.0 * X + 4.0 + rng.normal(0, sigma)
    fit = fit_scale_background(X, y, X, sigma=sigma, background="constant", weighting="sigma")
    slope, intercept = np.polyfit(X, y, 1, w=1 / sigma)
    assert (fit.scale, fit.background[0]) == pytest.approx((slope, intercept), rel=1e-10)

    y = 0.5 * X**2 - 2.0 * X + 1.0 + rng.normal(0, sigma)
    fit = fit_scale_background(X, y, X**2, sigma=sigma, background="linear", weighting="sigma")
    c2, c1, c0 = np.polyfit(X, y, 2, w=1 / sigma)
    assert (fit.scale, *fit.background) == pytest.approx((c2, c0, c1), rel=1e-10)


@pytest.mark.parametrize("weighting", ["relative", "uniform", "sigma"])
def test_noisy_fit_matches_scipy_lsq_linear(weighting):
    rng = np.random.default_rng(3)
    sigma = 0.03 * MODEL
    y = 0.8 * MODEL + 300.0 - 12.0 * X + rng.normal(0, sigma)
    w = {"relative": 1 / y**2, "uniform": np.ones_like(y), "sigma": 1 / sigma**2}[weighting]
    design = np.column_stack([MODEL, np.ones_like(X), X])
    ref = lsq_linear(design * np.sqrt(w)[:, None], y * np.sqrt(w), method="bvls", tol=1e-15).x
    fit = fit_scale_background(X, y, MODEL, sigma=sigma, background="linear", weighting=weighting)
    assert (fit.scale, *fit.background) == pytest.approx(tuple(ref), rel=1e-10)
    # R_w from its definition with the reference coefficients
    resid = y - design @ ref
    assert fit.rw == pytest.approx(math.sqrt(np.sum(w * resid**2) / np.sum(w * y**2)), rel=1e-9)
    if weighting == "sigma":
        assert fit.chi2_reduced == pytest.approx(np.sum(w * resid**2) / (len(X) - 3), rel=1e-9)
    else:
        assert fit.chi2_reduced is None


# --- R_w by hand -------------------------------------------------------------------------------

# y = (1, 2, 3), model = (1, 1, 1), no background.
#   uniform:  s = 6/3 = 2, residuals (-1, 0, 1): R_w = sqrt(2/14) = sqrt(1/7)
#   sigma = (1, 1, 1/2), w = (1, 1, 4): s = (1 + 2 + 12)/6 = 5/2, residuals (-3/2, -1/2, 1/2):
#       Σ w r² = 9/4 + 1/4 + 1 = 7/2, Σ w y² = 1 + 4 + 36 = 41: R_w = sqrt(7/82); χ²_ν = (7/2)/(3 - 1) = 7/4
#   relative, w = 1/y²: s = Σ(1/y)/Σ(1/y²) = (11/6)/(49/36) = 66/49, R_w = sqrt(Σ(1 - s/y)²/3)
TABLE_Y = np.array([1.0, 2.0, 3.0])
TABLE_MODEL = np.ones(3)
TABLE_SIGMA = np.array([1.0, 1.0, 0.5])


def test_rw_uniform_by_hand():
    fit = fit_scale_background(np.arange(3.0), TABLE_Y, TABLE_MODEL, weighting="uniform")
    assert fit.scale == pytest.approx(2.0, rel=1e-14)
    assert fit.rw == pytest.approx(math.sqrt(1 / 7), rel=1e-14)


def test_rw_sigma_by_hand():
    fit = fit_scale_background(np.arange(3.0), TABLE_Y, TABLE_MODEL, sigma=TABLE_SIGMA, weighting="sigma")
    assert fit.scale == pytest.approx(2.5, rel=1e-14)
    assert fit.rw == pytest.approx(math.sqrt(7 / 82), rel=1e-14)
    assert fit.chi2_reduced == pytest.approx(7 / 4, rel=1e-14)


def test_rw_relative_by_hand():
    s = Fraction(66, 49)
    rw = math.sqrt(float(sum((1 - s / Fraction(int(v))) ** 2 for v in TABLE_Y) / 3))
    fit = fit_scale_background(np.arange(3.0), TABLE_Y, TABLE_MODEL, weighting="relative")
    assert fit.scale == pytest.approx(float(s), rel=1e-14)
    assert fit.rw == pytest.approx(rw, rel=1e-13)


# --- weighting "auto" --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, has_sigma, expected",
    [
        ("iq", True, "sigma"), ("iq", False, "relative"),
        ("sq", True, "sigma"), ("sq", False, "uniform"),
        ("fq", False, "uniform"), ("gr", False, "uniform"), ("gr", True, "sigma"),
    ],
)
def test_auto_weighting_follows_the_documented_rule(kind, has_sigma, expected):
    rng = np.random.default_rng(5)
    sigma = 0.05 * MODEL if has_sigma else None
    y = 1.3 * MODEL * (1 + 0.05 * rng.normal(size=len(X)))
    auto = fit_scale_background(X, y, MODEL, sigma=sigma, kind=kind)
    explicit = fit_scale_background(X, y, MODEL, sigma=sigma, kind=kind, weighting=expected)
    assert auto.weighting == expected
    assert auto.scale == explicit.scale and auto.rw == explicit.rw


def test_auto_leaves_out_only_the_points_whose_uncertainty_is_zero():
    # issue 19: a σ = 0 used to switch every point to relative or uniform weights, silently
    sigma = 0.05 * MODEL
    sigma[3] = 0.0
    y = 1.3 * MODEL + np.sin(7 * X)
    for kind, x_min in (("iq", None), ("gr", 0.0)):
        with pytest.warns(UserWarning, match="1 point"):
            fit = fit_scale_background(X, y, MODEL, sigma=sigma, kind=kind, x_min=x_min)
        assert fit.weighting == "sigma" and fit.n_points == len(X) - 1 and not fit.in_fit[3]
    with pytest.warns(UserWarning, match="1 point"):  # asked for explicitly: the same
        fit = fit_scale_background(X, y, MODEL, sigma=sigma, weighting="sigma")
    assert fit.n_points == len(X) - 1 and not fit.in_fit[3]


# --- fit range ---------------------------------------------------------------------------------


def test_fit_range_excludes_points_outside_it():
    y = 2.0 * MODEL + 10.0
    y_spoilt = y.copy()
    outside = (X < 2.0) | (X > 8.0)
    y_spoilt[outside] *= 5.0  # garbage where the fit must not look
    fit = fit_scale_background(X, y_spoilt, MODEL, background="constant", weighting="uniform", x_min=2.0, x_max=8.0)
    assert fit.scale == pytest.approx(2.0, rel=1e-12) and fit.background[0] == pytest.approx(10.0, rel=1e-9)
    np.testing.assert_array_equal(fit.in_fit, ~outside)
    assert fit.n_points == int((~outside).sum()) and (fit.x_min, fit.x_max) == (2.0, 8.0)
    np.testing.assert_allclose(fit.fitted, y, rtol=1e-12)  # over every point, also outside the range
    whole = fit_scale_background(X, y_spoilt, MODEL, background="constant", weighting="uniform")
    assert whole.rw > 0.1 and fit.rw < 1e-12


def test_fit_range_is_inclusive():
    x = np.arange(10.0)
    fit = fit_scale_background(x, 3 * x + 1, x + 1, weighting="uniform", x_min=2.0, x_max=5.0)
    np.testing.assert_array_equal(np.flatnonzero(fit.in_fit), [2, 3, 4, 5])


def test_relative_weights_leave_out_points_at_or_below_zero():
    y = 2.0 * MODEL
    y[[0, 5]] = [0.0, -3.0]
    fit = fit_scale_background(X, y, MODEL, weighting="relative")
    assert fit.n_points == len(X) - 2 and not fit.in_fit[0] and not fit.in_fit[5]
    assert fit.scale == pytest.approx(2.0, rel=1e-12)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(background="quadratic"), "background"),
        (dict(weighting="poisson"), "weighting"),
        (dict(weighting="sigma"), "sigma"),
        (dict(x_min=5.0, x_max=5.0), "x_min < x_max"),
        (dict(x_min=8.0, x_max=2.0), "x_min < x_max"),
        (dict(x_min=float("nan")), "fit range"),
        (dict(x_min=20.0, x_max=30.0), "0 usable points"),
        (dict(x_min=1.0, x_max=1.2, background="linear"), "usable points"),
        (dict(model=np.zeros_like(X)), "model"),
        (dict(model=np.where(X > 5, 1.0, 0.0), x_max=5.0), "model"),
        (dict(model=MODEL[:-1]), "shapes"),
        (dict(sigma=np.ones(3)), "sigma"),
    ],
    ids=["background", "weighting", "sigma-without-uncertainties", "empty-range", "inverted-range", "nan-range",
         "range-outside-data", "too-few-points", "zero-model", "zero-model-in-range", "model-length", "sigma-length"],
)
def test_bad_input_raises_swaxs_input_error(kwargs, needle):
    args = dict(x=X, y=2 * MODEL, model=MODEL, weighting="uniform")
    args.update(kwargs)
    with pytest.raises(SwaxsInputError, match=needle.replace("(", r"\(")):
        fit_scale_background(args.pop("x"), args.pop("y"), args.pop("model"), **args)
