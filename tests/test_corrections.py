"""Background subtraction, trimming and rebinning against hand computations.

Where the reference numbers come from (none of them is produced by
``swaxs_lib.corrections``):

* the reduction I = (I_s/T_s - scale I_b/T_b) / d evaluated by hand for one
  point (10/0.5 - 0.5*4/0.8) / 0.2 = 87.5, and elementwise with numpy;
* ``numpy.interp`` of the background onto the sample's Q points, and an
  explicit loop that finds each point's two neighbours and weights
  w0 = (x1 - x)/(x1 - x0), w1 = (x - x0)/(x1 - x0) for the propagated
  sigma^2 = (sigma_s/T_s)^2 + (scale/T_b)^2 (w0^2 sigma_0^2 + w1^2 sigma_1^2);
* a seeded Monte-Carlo of 4000 noisy realisations whose sample standard
  deviation has a relative standard error 1/sqrt(2*4000) = 1.1 %; the stated
  tolerance is 6 % (> 5 standard errors);
* rebinning: x = 1..1000 in three log bins [1, 10), [10, 100), [100, 1000]
  holds 9, 90 and 901 points with mean x 5, 54.5 and 550 (arithmetic series);
  the mean of a + b x over a bin is a + b <x>; n equal sigma average to
  sigma/sqrt(n); sigma = (3, 4) average to 5/2.

Units: Q in 1/Å, r in Å, intensities arbitrary, thickness in cm.
"""

from __future__ import annotations

import numpy as np
import pytest

from swaxs_lib.corrections import rebin, subtract_background, trim
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement


def curve(x, values, sigma=None, *, kind="iq", source="sample.dat", metadata=()) -> Measurement:
    unit = "angstrom" if kind == "gr" else "inv_angstrom"
    return Measurement(
        kind=kind,
        x=np.asarray(x, dtype=float),
        values=np.asarray(values, dtype=float),
        uncertainties=None if sigma is None else np.asarray(sigma, dtype=float),
        source=source,
        x_unit=unit,
        metadata=tuple(metadata),
    )


def snapshot(m: Measurement) -> tuple:
    return (
        m.x.copy(),
        m.values.copy(),
        None if m.uncertainties is None else m.uncertainties.copy(),
        m.metadata,
        m.source,
    )


def assert_unchanged(m: Measurement, before: tuple) -> None:
    x, v, s, meta, source = before
    np.testing.assert_array_equal(m.x, x)
    np.testing.assert_array_equal(m.values, v)
    if s is None:
        assert m.uncertainties is None
    else:
        np.testing.assert_array_equal(m.uncertainties, s)
    assert m.metadata == meta
    assert m.source == source


def neighbour_sigma(x_from, sigma_from, x_to) -> np.ndarray:
    """sqrt(w0^2 s0^2 + w1^2 s1^2) by an explicit search for the bracketing pair."""
    out = []
    for x in x_to:
        for j in range(len(x_from) - 1):
            x0, x1 = x_from[j], x_from[j + 1]
            if x0 <= x <= x1:
                w1 = (x - x0) / (x1 - x0)
                w0 = (x1 - x) / (x1 - x0)
                out.append(np.hypot(w0 * sigma_from[j], w1 * sigma_from[j + 1]))
                break
        else:
            raise AssertionError(f"{x} outside the interpolation range")
    return np.array(out)


# ---------------------------------------------------------------- subtraction


def test_single_point_by_hand():
    s = curve([0.1, 0.2], [10.0, 10.0])
    b = curve([0.1, 0.2], [4.0, 4.0], source="buffer.dat")
    out = subtract_background(
        s, b, scale=0.5, sample_transmission=0.5, background_transmission=0.8, thickness_cm=0.2
    )
    # (10/0.5 - 0.5*4/0.8) / 0.2 = (20 - 2.5) / 0.2
    np.testing.assert_allclose(out.values, [87.5, 87.5], rtol=1e-14)


def test_identical_grids_elementwise_formula():
    q = np.linspace(0.01, 0.5, 40)
    ys, yb = 100.0 * np.exp(-q * 8), 3.0 + q
    s, b = curve(q, ys), curve(q, yb, source="solvent.dat")
    out = subtract_background(
        s, b, scale=0.98, sample_transmission=0.7, background_transmission=0.9, thickness_cm=0.15
    )
    np.testing.assert_array_equal(out.x, q)
    np.testing.assert_allclose(out.values, (ys / 0.7 - 0.98 * yb / 0.9) / 0.15, rtol=1e-13)
    assert out.uncertainties is None
    assert out.kind == "iq" and out.source == "sample.dat"


def test_defaults_are_plain_difference():
    q = np.array([0.1, 0.2, 0.3])
    out = subtract_background(curve(q, [5.0, 6.0, 7.0]), curve(q, [1.0, 2.0, 4.0], source="b.dat"))
    np.testing.assert_array_equal(out.values, [4.0, 4.0, 3.0])


def test_scale_zero_returns_sample():
    q = np.array([0.1, 0.2, 0.3])
    out = subtract_background(curve(q, [5.0, 6.0, 7.0]), curve(q, [1.0, 2.0, 4.0], source="b.dat"), scale=0)
    np.testing.assert_array_equal(out.values, [5.0, 6.0, 7.0])


def test_shifted_grids_match_numpy_interp():
    qs = np.linspace(0.01, 0.5, 50)
    qb = np.linspace(0.005, 0.4, 37)
    ys = 50.0 / (1 + (qs * 20) ** 2)
    yb = 2.0 + np.sin(qb * 10)
    out = subtract_background(curve(qs, ys), curve(qb, yb, source="b.dat"), scale=0.9)
    keep = (qs >= qb[0]) & (qs <= qb[-1])
    assert keep.sum() < len(qs)  # the case really drops points
    np.testing.assert_array_equal(out.x, qs[keep])
    np.testing.assert_allclose(out.values, ys[keep] - 0.9 * np.interp(qs[keep], qb, yb), rtol=1e-12, atol=1e-12)


def test_background_grid_interpolates_the_sample():
    qs = np.linspace(0.02, 0.3, 29)
    qb = np.linspace(0.0, 0.5, 26)
    ys, yb = np.exp(-qs * 5), 0.1 * np.ones_like(qb)
    out = subtract_background(curve(qs, ys), curve(qb, yb, source="b.dat"), grid="background")
    keep = (qb >= qs[0]) & (qb <= qs[-1])
    np.testing.assert_array_equal(out.x, qb[keep])
    np.testing.assert_allclose(out.values, np.interp(qb[keep], qs, ys) - 0.1, rtol=1e-12)
    assert "grid=background" in out.metadata[-1][1]


def test_uncertainty_closed_form_on_shifted_grids():
    qs = np.array([0.10, 0.13, 0.17, 0.20, 0.26, 0.30])
    qb = np.array([0.09, 0.15, 0.21, 0.27, 0.33])
    ss = np.array([0.5, 0.4, 0.3, 0.3, 0.2, 0.2])
    sb = np.array([0.9, 0.7, 0.6, 0.5, 0.4])
    s = curve(qs, np.ones(6), ss)
    b = curve(qb, np.ones(5), sb, source="b.dat")
    out = subtract_background(
        s, b, scale=0.8, sample_transmission=0.6, background_transmission=0.75, thickness_cm=0.1
    )
    expected = np.sqrt((ss / 0.6) ** 2 + (0.8 / 0.75 * neighbour_sigma(qb, sb, qs)) ** 2) / 0.1
    np.testing.assert_allclose(out.uncertainties, expected, rtol=1e-12)


def test_uncertainty_monte_carlo():
    rng = np.random.default_rng(20240611)
    qs = np.linspace(0.05, 0.25, 9)
    qb = np.linspace(0.04, 0.28, 7)
    ys, yb = 20.0 * np.exp(-qs * 4), 5.0 + 0 * qb
    ss, sb = 0.3 + qs, 0.8 - qb
    scale, t_s, t_b, d = 0.9, 0.8, 0.95, 0.2
    kwargs = dict(scale=scale, sample_transmission=t_s, background_transmission=t_b, thickness_cm=d)
    nominal = subtract_background(curve(qs, ys, ss), curve(qb, yb, sb, source="b.dat"), **kwargs)

    n_draws = 4000
    draws = np.empty((n_draws, nominal.n_points))
    for k in range(n_draws):
        noisy_s = curve(qs, ys + rng.normal(0.0, ss))
        noisy_b = curve(qb, yb + rng.normal(0.0, sb), source="b.dat")
        draws[k] = subtract_background(noisy_s, noisy_b, **kwargs).values
    # relative standard error of a sample std from 4000 draws: 1/sqrt(8000) = 1.1 %
    np.testing.assert_allclose(draws.std(axis=0, ddof=1), nominal.uncertainties, rtol=0.06)
    np.testing.assert_allclose(draws.mean(axis=0), nominal.values, atol=5 * nominal.uncertainties.max() / np.sqrt(n_draws))


def test_only_sample_uncertainties():
    q = np.array([0.1, 0.2, 0.3])
    out = subtract_background(
        curve(q, [5.0, 6.0, 7.0], [0.2, 0.4, 0.6]),
        curve(q, [1.0, 1.0, 1.0], source="b.dat"),
        sample_transmission=0.5,
        thickness_cm=2.0,
    )
    np.testing.assert_allclose(out.uncertainties, np.array([0.2, 0.4, 0.6]) / 0.5 / 2.0, rtol=1e-14)


def test_only_background_uncertainties_interpolated():
    qs = np.array([0.1, 0.15, 0.2])
    qb = np.array([0.1, 0.2])
    out = subtract_background(
        curve(qs, [5.0, 6.0, 7.0]), curve(qb, [1.0, 1.0], [0.3, 0.4], source="b.dat"), scale=2.0
    )
    # midpoint: w0 = w1 = 1/2 -> sqrt(0.15^2 + 0.2^2) = 0.25, times scale 2
    np.testing.assert_allclose(out.uncertainties, [0.6, 0.5, 0.8], rtol=1e-12)


def test_metadata_records_the_recipe():
    q = np.array([0.1, 0.2, 0.3])
    s = curve(q, [5.0, 6.0, 7.0], metadata=(("instrument", "SAXSess"),))
    out = subtract_background(s, curve(q, [1.0, 1.0, 1.0], source="solvent.dat"), scale=0.98)
    assert out.metadata == (("instrument", "SAXSess"), ("corrections", "subtract(solvent.dat, scale=0.98)"))
    out = subtract_background(
        s, curve(q, [1.0, 1.0, 1.0], source="solvent.dat"),
        sample_transmission=0.5, background_transmission=0.8, thickness_cm=0.1,
    )
    assert out.metadata[1] == (
        "corrections",
        "subtract(solvent.dat, scale=1, sample_transmission=0.5, background_transmission=0.8, thickness_cm=0.1)",
    )
    assert out.metadata[2] == ("values_unit", "per cm of sample thickness")


def test_subtract_leaves_inputs_unchanged():
    qs, qb = np.linspace(0.01, 0.5, 30), np.linspace(0.0, 0.45, 20)
    s = curve(qs, np.exp(-qs), 0.1 + qs, metadata=(("a", "b"),))
    b = curve(qb, 1 + qb, 0.2 + 0 * qb, source="b.dat")
    before_s, before_b = snapshot(s), snapshot(b)
    out = subtract_background(s, b, scale=0.5, thickness_cm=0.1)
    assert_unchanged(s, before_s)
    assert_unchanged(b, before_b)
    assert not np.shares_memory(out.x, s.x) and not np.shares_memory(out.values, s.values)


@pytest.mark.parametrize("kind", ["sq", "fq"])
def test_other_q_space_kinds(kind):
    q = np.array([0.5, 1.0, 1.5])
    out = subtract_background(curve(q, [2.0, 3.0, 4.0], kind=kind), curve(q, [1.0, 1.0, 1.0], kind=kind, source="b"))
    assert out.kind == kind
    np.testing.assert_array_equal(out.values, [1.0, 2.0, 3.0])


# ---------------------------------------------------------------- subtraction errors


def _pair():
    q = np.array([0.1, 0.2, 0.3])
    return curve(q, [5.0, 6.0, 7.0]), curve(q, [1.0, 1.0, 1.0], source="buffer.dat")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"scale": -0.1}, r"scale = -0\.1"),
        ({"scale": float("nan")}, "scale = nan"),
        ({"scale": float("inf")}, "scale = inf"),
        ({"scale": "one"}, "scale = 'one'"),
        ({"sample_transmission": 0.0}, r"sample_transmission = 0\.0.*\(0, 1\]"),
        ({"sample_transmission": 1.2}, r"sample_transmission = 1\.2"),
        ({"background_transmission": -0.5}, r"background_transmission = -0\.5"),
        ({"background_transmission": float("nan")}, "background_transmission = nan"),
        ({"thickness_cm": 0.0}, r"thickness_cm = 0\.0.*> 0"),
        ({"thickness_cm": -1.0}, r"thickness_cm = -1\.0"),
        ({"thickness_cm": float("inf")}, "thickness_cm = inf"),
        ({"grid": "common"}, "grid = 'common'"),
    ],
)
def test_subtract_rejects_bad_parameters(kwargs, match):
    s, b = _pair()
    with pytest.raises(SwaxsInputError, match=match):
        subtract_background(s, b, **kwargs)


def test_transmission_of_one_is_allowed():
    s, b = _pair()
    out = subtract_background(s, b, sample_transmission=1.0, background_transmission=1)
    np.testing.assert_array_equal(out.values, [4.0, 5.0, 6.0])


def test_subtract_rejects_gr():
    r = np.array([1.0, 2.0, 3.0])
    g = curve(r, [0.0, 1.0, 0.0], kind="gr", source="cluster.gr")
    s, b = _pair()
    with pytest.raises(SwaxsInputError, match=r"sample \(cluster\.gr\).*G\(r\)"):
        subtract_background(g, b)
    with pytest.raises(SwaxsInputError, match=r"background \(cluster\.gr\).*G\(r\)"):
        subtract_background(s, g)


def test_subtract_rejects_different_kinds():
    s, _ = _pair()
    other = curve(s.x, [1.0, 1.0, 1.0], kind="sq", source="sq.dat")
    with pytest.raises(SwaxsInputError, match=r"sq\.dat.*'sq'.*expected 'iq'"):
        subtract_background(s, other)


@pytest.mark.parametrize("qb", [[0.6, 0.7, 0.8], [0.25, 0.35, 0.45]])
def test_subtract_rejects_small_overlap_naming_both_files(qb):
    # disjoint ranges share no sample point; the second shares only Q = 0.3
    s = curve([0.1, 0.2, 0.3], [1.0, 1.0, 1.0], source="sample.dat")
    b = curve(qb, [1.0, 1.0, 1.0], source="buffer.dat")
    with pytest.raises(SwaxsInputError, match=r"sample\.dat.*buffer\.dat.*at least 2"):
        subtract_background(s, b)


def test_subtract_rejects_non_measurement():
    _, b = _pair()
    with pytest.raises(SwaxsInputError, match="sample: got ndarray"):
        subtract_background(np.ones(3), b)


# ---------------------------------------------------------------- trim


def test_trim_is_inclusive():
    m = curve([1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 20.0, 30.0, 40.0, 50.0], [0.1, 0.2, 0.3, 0.4, 0.5])
    out = trim(m, 2.0, 4.0)
    np.testing.assert_array_equal(out.x, [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(out.values, [20.0, 30.0, 40.0])
    np.testing.assert_array_equal(out.uncertainties, [0.2, 0.3, 0.4])
    assert out.metadata[-1] == ("corrections", "trim(x_min=2, x_max=4)")


def test_trim_open_sides():
    m = curve([1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 20.0, 30.0, 40.0, 50.0])
    np.testing.assert_array_equal(trim(m, x_min=3.5).x, [4.0, 5.0])
    np.testing.assert_array_equal(trim(m, x_max=1.5 + 0.5).x, [1.0, 2.0])
    np.testing.assert_array_equal(trim(m).x, m.x)
    assert trim(m, x_min=3.5).uncertainties is None


def test_trim_gr_and_immutability():
    m = curve([1.0, 1.5, 2.0, 2.5], [0.1, 0.2, 0.3, 0.4], kind="gr", source="c.gr")
    before = snapshot(m)
    out = trim(m, 1.2, 2.5)
    assert_unchanged(m, before)
    assert out.kind == "gr"
    np.testing.assert_array_equal(out.x, [1.5, 2.0, 2.5])


@pytest.mark.parametrize(
    "bounds, match",
    [
        ((2.5, 2.9), "leaves 0 point"),
        ((3.0, 3.0), "leaves 1 point"),
        ((4.0, 2.0), "x_min = 4.0 > x_max = 2.0"),
        ((float("nan"), None), "x_min = nan"),
        ((None, "big"), "x_max = 'big'"),
    ],
)
def test_trim_errors(bounds, match):
    m = curve([1.0, 2.0, 3.0, 4.0, 5.0], np.zeros(5))
    with pytest.raises(SwaxsInputError, match=match):
        trim(m, *bounds)


# ---------------------------------------------------------------- rebin


def test_rebin_log_counts_and_means_closed_form():
    x = np.arange(1.0, 1001.0)
    m = curve(x, 2.0 * x, np.ones_like(x), kind="gr")  # r in Å: Q up to 1000 1/Å is refused as unphysical
    out = rebin(m, 3, "log")
    # [1, 10): 1..9, [10, 100): 10..99, [100, 1000]: 100..1000
    np.testing.assert_allclose(out.x, [5.0, 54.5, 550.0], rtol=1e-13)
    np.testing.assert_allclose(out.values, [10.0, 109.0, 1100.0], rtol=1e-13)
    np.testing.assert_allclose(out.uncertainties, 1 / np.sqrt([9.0, 90.0, 901.0]), rtol=1e-13)
    assert out.metadata[-1] == ("corrections", "rebin(n_points=3, spacing=log, x_min=1, x_max=1000)")


def test_rebin_log_edges_split_at_geometric_points():
    # 0.01..1 in two log bins: the edge is at 0.1 (the geometric mean), not at 0.505 (linear)
    x = np.array([0.01, 0.0999, 0.1001, 0.5, 1.0])
    out = rebin(curve(x, x), 2, "log")
    np.testing.assert_allclose(out.x, [(0.01 + 0.0999) / 2, (0.1001 + 0.5 + 1.0) / 3], rtol=1e-13)
    out = rebin(curve(x, x), 2, "linear")
    np.testing.assert_allclose(out.x, [(0.01 + 0.0999 + 0.1001 + 0.5) / 4, 1.0], rtol=1e-13)


def test_rebin_linear_function_value_at_mean_x():
    rng = np.random.default_rng(7)
    x = np.sort(rng.uniform(0.01, 2.0, 500))
    a, b = 3.0, -1.25
    m = curve(x, a + b * x)
    for spacing in ("log", "linear"):
        out = rebin(m, 17, spacing)
        np.testing.assert_allclose(out.values, a + b * out.x, rtol=1e-12)
        assert out.uncertainties is None
        assert np.all(np.diff(out.x) > 0)


def test_rebin_counts_match_numpy_histogram():
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(0.02, 0.8, 300))
    m = curve(x, np.ones_like(x), np.ones_like(x))
    lo, hi, n = 0.05, 0.7, 12
    out = rebin(m, n, "log", x_min=lo, x_max=hi)
    edges = lo * (hi / lo) ** (np.arange(n + 1) / n)
    counts, _ = np.histogram(x, bins=edges)
    sums, _ = np.histogram(x, bins=edges, weights=x)
    filled = counts > 0
    np.testing.assert_allclose(out.x, sums[filled] / counts[filled], rtol=1e-12)
    # sigma = sqrt(n * 1^2) / n  ->  n = 1 / sigma^2
    np.testing.assert_allclose(1.0 / out.uncertainties**2, counts[filled], rtol=1e-12)
    assert counts.sum() == np.count_nonzero((x >= lo) & (x <= hi))


def test_rebin_equal_sigma_scales_as_root_n():
    x = np.arange(1.0, 13.0)
    out = rebin(curve(x, np.zeros(12), np.full(12, 0.3)), 3, "linear")
    # edges 1, 4.67, 8.33, 12: four points per bin
    np.testing.assert_allclose(out.x, [2.5, 6.5, 10.5], rtol=1e-14)
    np.testing.assert_allclose(out.uncertainties, [0.15, 0.15, 0.15], rtol=1e-14)


def test_rebin_unequal_sigma_in_quadrature():
    out = rebin(curve([1.0, 2.0, 9.0, 10.0], [1.0, 3.0, 5.0, 5.0], [3.0, 4.0, 1.0, 1.0]), 2, "linear")
    np.testing.assert_allclose(out.values, [2.0, 5.0])
    np.testing.assert_allclose(out.uncertainties, [2.5, np.sqrt(2) / 2], rtol=1e-14)


def test_rebin_drops_empty_bins():
    out = rebin(curve([1.0, 2.0, 3.0, 100.0, 101.0], [1.0, 2.0, 3.0, 4.0, 5.0]), 10, "linear")
    np.testing.assert_allclose(out.x, [2.0, 100.5])
    np.testing.assert_allclose(out.values, [2.0, 4.5])


def test_rebin_range_discards_outside_points():
    x = np.arange(0.0, 11.0)
    out = rebin(curve(x, x, kind="gr", source="c.gr"), 2, "linear", x_min=2.0, x_max=6.0)
    # edges 2, 4, 6: {2, 3}, {4, 5, 6}
    np.testing.assert_allclose(out.x, [2.5, 5.0])
    assert out.kind == "gr"


def test_rebin_leaves_input_unchanged_and_chains_metadata():
    x = np.linspace(0.01, 1.0, 100)
    m = curve(x, np.exp(-x), 0.01 + 0 * x, metadata=(("instrument", "x"),))
    before = snapshot(m)
    out = rebin(trim(m, 0.1, 0.9), 10)
    assert_unchanged(m, before)
    assert [k for k, _ in out.metadata] == ["instrument", "corrections", "corrections"]
    assert out.metadata[1][1].startswith("trim(") and out.metadata[2][1].startswith("rebin(")


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((1,), {}, "n_points = 1"),
        ((0,), {}, "n_points = 0"),
        ((2.5,), {}, "n_points = 2.5"),
        ((True,), {}, "n_points = True"),
        (("4",), {}, "n_points = '4'"),
        ((4, "cubic"), {}, "spacing = 'cubic'"),
        ((4, "log"), {"x_min": 0.0}, r"x_min = 0; log spacing needs x_min > 0"),
        ((4, "log"), {"x_min": -1.0}, r"x_min = -1; log spacing"),
        ((4, "linear"), {"x_min": 3.0, "x_max": 3.0}, "expected x_min < x_max"),
        ((4, "linear"), {"x_max": float("inf")}, "x_max = inf"),
        ((2, "linear"), {"x_min": 0.0, "x_max": 100.0}, "fills 1 bin"),
    ],
)
def test_rebin_errors(args, kwargs, match):
    m = curve([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0])
    with pytest.raises(SwaxsInputError, match=match):
        rebin(m, *args, **kwargs)


def test_rebin_log_default_range_from_q_zero_names_the_file():
    m = curve([0.0, 0.1, 0.2], [1.0, 1.0, 1.0], source="zero.dat")
    with pytest.raises(SwaxsInputError, match=r"x_min = 0 \(the first x of zero\.dat\)"):
        rebin(m, 2)
    assert rebin(m, 2, "linear").n_points == 2
