"""Sphere-size distributions with no assumed shape of distribution: maximum entropy or Monte Carlo.

The intensity is a sum over diameter bins of dilute, homogeneous spheres

    I(Q) = Σ_i φ_i · Δρ² · V_i · P(Q D_i / 2) · 10⁻⁴ + B(Q),
    P(x) = [3 (sin x − x cos x) / x³]²,   V_i = π D_i³ / 6,

with φ_i the volume fraction in bin i, Δρ² the contrast in 10²⁰ cm⁻⁴ (V in Å³, I in cm⁻¹;
the same convention as Irena and sasmodels' ``scale``/``sld``), and B(Q) = flat +
scale·Q⁻ᵖ a fixed background subtracted before the inversion.  Diameters are bin centres
spaced evenly in log D from ``diameter_min`` to ``diameter_max`` inclusive (Irena's grid);
bin edges are the geometric means of neighbouring centres (the outer edges half a step
out), and the volume distribution is φ_i / ΔD_i (volume fraction per Å of diameter).

Methods
-------
``maxent``
    Skilling–Bryan maximum entropy (:mod:`._maxent`: SasView's/GSAS-II's port with Irena's
    step limit, reset of negative bins and χ² tolerance) with the "sky background" as flat
    default model in volume fraction per bin, χ² = N target with σ = weight factor × dI.
    The band is the spread of ``n_repeats`` solutions on data with Gaussian noise of the
    unscaled dI added (Irena's "ten shots", ``IR1R_SizesEstimateErrors``: ``gnoise(dI)``).
    As Irena (``IR1R_SizesFitting``), the bins are diameter centres and the distribution is
    per Å of diameter; Irena's widths are half the distance to the neighbouring centres
    (0.05 % larger than the geometric edges used here; the two end bins a full step, 3 %).
``montecarlo``
    McSAS-like [4]_: ``n_contributions`` spheres of equal volume share with log-uniform
    random diameters; one at a time gets a new random diameter, kept if χ² (with the
    optimal non-negative scale) decreases, until χ²/N ≤ 1 or the iteration budget ends.
    The band is the spread of ``n_repeats`` independent runs.

Observable window
-----------------
The rule used here: diameters from π/Q_max to π/Q_min of the fitted points (Q·D = π,
i.e. radius R = π/(2Q)).  At Q·D = π a sphere's intensity has fallen to 61 % of I(0)
(Guinier, R_g² = 3R²/5): a larger sphere shows no Guinier knee above Q_min, a smaller one
barely differs from a flat background below Q_max.  McSAS3's automatic limits (radius
π/Q_max to π/Q_min, ``mcsas3.mc_hat.McHat.fillFitParameterLimits``) are twice these in
diameter.  Volume found outside the window is reported and flagged, and the means and modes
use only bins inside it.

Validation: tests/test_sizedist.py — the sphere intensity against sasmodels' ``sphere``;
Irena's MaxEnt result on the alumina USAXS data (SasView's test data); synthetic bimodal
distributions from analytic sphere intensities plus noise.

References
----------
.. [1] J. Skilling and R. K. Bryan, Mon. Not. R. Astron. Soc. 211, 111–124 (1984).
.. [2] J. A. Potton, G. J. Daniell and B. D. Rainford, J. Appl. Cryst. 21, 663–668 (1988).
.. [3] J. Ilavsky and P. R. Jemian, J. Appl. Cryst. 42, 347–353 (2009) (Irena).
.. [4] B. R. Pauw, J. S. Pedersen, S. Tardif, M. Takata and B. B. Iversen,
   J. Appl. Cryst. 46, 365–371 (2013); I. Bressler, B. R. Pauw and A. F. Thünemann,
   J. Appl. Cryst. 48, 962–969 (2015) (McSAS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.saxs._maxent import maxent_sb

METHODS = ("maxent", "montecarlo")
#: 1 Å³ in cm³ (number densities per cm³ from volumes in Å³).
CM3_PER_ANGSTROM3 = 1e-24


def sphere_intensity(q_inv_angstrom, diameter_angstrom, contrast_1e20_per_cm4: float = 1.0) -> np.ndarray:
    """I(Q) (cm⁻¹) of a unit volume fraction of spheres of each diameter: Δρ² V P(QR) 10⁻⁴.

    Parameters
    ----------
    q_inv_angstrom : array (n_q,)
    diameter_angstrom : array (n_d,)
    contrast_1e20_per_cm4 : float
        Δρ² in 10²⁰ cm⁻⁴ (1 for sasmodels' sld − sld_solvent = 1 × 10⁻⁶ Å⁻²).

    Returns
    -------
    numpy.ndarray (n_q, n_d)

    Validation: equals sasmodels' ``sphere`` (scale 1, sld 1, sld_solvent 0) to 1e-10 relative
    (tests/test_sizedist.py).
    """
    q = np.asarray(q_inv_angstrom, dtype=float)
    d = np.asarray(diameter_angstrom, dtype=float)
    x = np.outer(q, d / 2)
    small = x < 1e-3
    xs = np.where(small, 1.0, x)
    amp = np.where(small, 1 - x**2 / 10, 3 * (np.sin(xs) - xs * np.cos(xs)) / xs**3)
    return contrast_1e20_per_cm4 * 1e-4 * (math.pi / 6 * d**3) * amp**2


def observable_window_angstrom(q_min_inv_angstrom: float, q_max_inv_angstrom: float) -> tuple[float, float]:
    """The diameters (Å) the Q range can resolve: (π/Q_max, π/Q_min); see the module notes."""
    return math.pi / float(q_max_inv_angstrom), math.pi / float(q_min_inv_angstrom)


def diameter_bins(diameter_min_angstrom: float, diameter_max_angstrom: float, n_bins: int):
    """Log-spaced bin centres from min to max inclusive and their widths (Å)."""
    centres = np.geomspace(diameter_min_angstrom, diameter_max_angstrom, n_bins)
    log_c = np.log(centres)
    step = log_c[1] - log_c[0]
    edges = np.exp(np.concatenate([[log_c[0] - step / 2], (log_c[1:] + log_c[:-1]) / 2, [log_c[-1] + step / 2]]))
    return centres, np.diff(edges)


@dataclass(frozen=True)
class SizeDistribution:
    """A sphere-size distribution and what the data could decide about it.

    Distributions are per Å of diameter: volume fraction (dimensionless, if I is in cm⁻¹ and the
    contrast is right; otherwise relative) and number density (cm⁻³ Å⁻¹); ``_sigma`` is the
    spread (one standard deviation) over the repeats.  Totals, means and modes carry the same
    spread.  ``in_window`` marks bins inside the observable window; ``warnings`` says what is
    doubtful (volume outside the window, fits that did not reach χ²/N = 1).
    """

    method: str
    diameter_angstrom: np.ndarray
    bin_width_angstrom: np.ndarray
    volume_fraction_per_angstrom: np.ndarray
    volume_fraction_per_angstrom_sigma: np.ndarray
    number_density_per_cm3_per_angstrom: np.ndarray
    number_density_per_cm3_per_angstrom_sigma: np.ndarray
    in_window: np.ndarray
    window_diameter_min_angstrom: float
    window_diameter_max_angstrom: float
    total_volume_fraction: float
    total_volume_fraction_sigma: float
    window_volume_fraction: float
    window_volume_fraction_sigma: float
    mean_diameter_volume_angstrom: float
    mean_diameter_volume_angstrom_sigma: float
    mean_diameter_number_angstrom: float
    mean_diameter_number_angstrom_sigma: float
    mode_diameter_volume_angstrom: float
    mode_diameter_number_angstrom: float
    chi2_reduced: float
    n_repeats: int
    n_converged: int
    flat_background_fitted: float
    q_inv_angstrom: np.ndarray
    intensity: np.ndarray
    intensity_sigma: np.ndarray
    background: np.ndarray
    model_intensity: np.ndarray
    warnings: tuple[str, ...]

    def summary(self) -> dict:
        """The scalar results as a JSON-able dict (the command's output)."""
        keys = ("method", "total_volume_fraction", "total_volume_fraction_sigma", "window_volume_fraction",
                "window_volume_fraction_sigma", "window_diameter_min_angstrom", "window_diameter_max_angstrom",
                "mean_diameter_volume_angstrom", "mean_diameter_volume_angstrom_sigma",
                "mean_diameter_number_angstrom", "mean_diameter_number_angstrom_sigma",
                "mode_diameter_volume_angstrom", "mode_diameter_number_angstrom", "chi2_reduced",
                "n_repeats", "n_converged", "flat_background_fitted")
        out = {k: getattr(self, k) for k in keys}
        out["window_rule"] = "diameter from pi/Q_max to pi/Q_min of the fitted points"
        out["n_points"] = int(len(self.q_inv_angstrom))
        out["n_bins"] = int(len(self.diameter_angstrom))
        out["warnings"] = list(self.warnings)
        return out

    def table(self) -> dict[str, np.ndarray]:
        """The distribution as CSV columns (docs/csv.md)."""
        return {
            "diameter_angstrom": self.diameter_angstrom,
            "bin_width_angstrom": self.bin_width_angstrom,
            "in_window": self.in_window.astype(int),
            "volume_fraction_per_angstrom": self.volume_fraction_per_angstrom,
            "volume_fraction_per_angstrom_sigma": self.volume_fraction_per_angstrom_sigma,
            "number_density_per_cm3_per_angstrom": self.number_density_per_cm3_per_angstrom,
            "number_density_per_cm3_per_angstrom_sigma": self.number_density_per_cm3_per_angstrom_sigma,
        }

    def fit_table(self) -> dict[str, np.ndarray]:
        """The fitted points, the background and the model (background included) as CSV columns."""
        return {"q_inv_angstrom": self.q_inv_angstrom, "intensity": self.intensity,
                "intensity_sigma": self.intensity_sigma, "background_intensity": self.background,
                "model_intensity": self.model_intensity}


def _check(name: str, value: float, low: float = 0.0, strict: bool = True) -> float:
    ok = np.isfinite(value) and (value > low if strict else value >= low)
    if not ok:
        raise SwaxsInputError(f"{name}: got {value}; expected a finite number {'>' if strict else '>='} {low}")
    return float(value)


def _montecarlo(intensity, sigma, g_fine, rng, n_contributions: int, max_iterations: int):
    # McSAS-like: equal volume shares at random fine-grid diameters; returns (counts per fine diameter) * scale.
    n_fine = g_fine.shape[1]
    w = 1.0 / sigma**2
    idx = rng.integers(0, n_fine, n_contributions)
    total = g_fine[:, idx].sum(axis=1)

    def chi2_of(t):
        s = max(float((w * intensity) @ t) / float(w @ (t * t)), 0.0)
        r = intensity - s * t
        return float(w @ (r * r)), s

    chi2, scale = chi2_of(total)
    target = float(len(intensity))
    it = 0
    while chi2 > target and it < max_iterations:
        it += 1
        k = int(rng.integers(n_contributions))
        new = int(rng.integers(n_fine))
        trial = total + g_fine[:, new] - g_fine[:, idx[k]]
        c, s = chi2_of(trial)
        if c < chi2:
            idx[k], total, chi2, scale = new, trial, c, s
    counts = np.bincount(idx, minlength=n_fine).astype(float)
    return counts * scale, chi2 / target, chi2 <= target


def size_distribution(
    q_inv_angstrom,
    intensity,
    intensity_sigma=None,
    *,
    method: str = "maxent",
    diameter_min_angstrom: float = 25.0,
    diameter_max_angstrom: float = 10000.0,
    n_bins: int = 100,
    q_min_inv_angstrom: float | None = None,
    q_max_inv_angstrom: float | None = None,
    flat_background: float = 0.0,
    power_law_scale: float = 0.0,
    power_law_exponent: float = 4.0,
    fit_flat_background: bool = False,
    contrast_1e20_per_cm4: float = 1.0,
    weight_factor: float = 1.0,
    sky_background: float | None = None,
    n_repeats: int = 10,
    max_iterations: int | None = None,
    n_contributions: int = 200,
    seed: int = 0,
) -> SizeDistribution:
    """Sphere-size distribution of an I(Q) with no assumed shape of distribution.

    Parameters
    ----------
    q_inv_angstrom, intensity, intensity_sigma : array (n,)
        The data; ``intensity_sigma`` (dI, one standard deviation) is required: the fit is
        weighted by σ = ``weight_factor`` × dI.
    method : {"maxent", "montecarlo"}
    diameter_min_angstrom, diameter_max_angstrom, n_bins
        Log-spaced bin centres, both ends included.
    q_min_inv_angstrom, q_max_inv_angstrom : float, optional
        The fitted Q range (inclusive); default all points.
    flat_background, power_law_scale, power_law_exponent
        Fixed background flat + scale·Q^-exponent, subtracted before the inversion (data units).
    fit_flat_background : bool
        Add to ``flat_background`` the constant found by non-negative least squares together with
        the bins (then held fixed for the inversion).  Over a Q range that ends below the smallest
        bins' form-factor decay, a constant and the smallest sizes look alike: the value is then
        poorly determined (often 0), which a warning says.
    contrast_1e20_per_cm4 : float
        Δρ² in 10²⁰ cm⁻⁴; volume fractions scale as 1/contrast.
    weight_factor : float
        Multiplies dI (Irena's "weight factor"; MaxEnt aims at χ² = N with these σ).
    sky_background : float, optional
        MaxEnt default model per bin (volume fraction); default 10⁻⁴ × (NNLS total) / n_bins.
    n_repeats : int
        Solutions whose spread gives the band (MaxEnt: data + Gaussian noise of dI; Monte Carlo:
        independent random starts).
    max_iterations : int, optional
        MaxEnt iterations per solution (default 100) or Monte Carlo moves (default 30000).
    n_contributions : int
        Monte Carlo: spheres per run.
    seed : int
        Seeds the noise and the Monte Carlo moves (results are reproducible).

    Returns
    -------
    SizeDistribution

    Raises
    ------
    SwaxsInputError
        Unknown method, missing or non-positive dI, bad bins, fewer than 5 points in range.

    Examples
    --------
    >>> q = np.geomspace(0.003, 0.3, 120)
    >>> i = sphere_intensity(q, [100.0])[:, 0] * 0.01
    >>> r = size_distribution(q, i, 0.02 * i, diameter_min_angstrom=20, diameter_max_angstrom=1000,
    ...                       n_bins=40, n_repeats=2)
    >>> abs(r.mode_diameter_volume_angstrom - 100) < 15
    True
    """
    if method not in METHODS:
        raise SwaxsInputError(f"method: got {method!r}; expected one of {', '.join(METHODS)}")
    q = np.asarray(q_inv_angstrom, dtype=float)
    y = np.asarray(intensity, dtype=float)
    if intensity_sigma is None:
        raise SwaxsInputError("intensity_sigma: the data have no dI column; expected uncertainties to weight the fit")
    dy = np.asarray(intensity_sigma, dtype=float)
    d_min = _check("diameter_min_angstrom", diameter_min_angstrom)
    d_max = _check("diameter_max_angstrom", diameter_max_angstrom, d_min)
    if not 3 <= int(n_bins) <= 1000:
        raise SwaxsInputError(f"n_bins: got {n_bins}; expected an integer from 3 to 1000")
    n_bins = int(n_bins)
    contrast = _check("contrast_1e20_per_cm4", contrast_1e20_per_cm4)
    weight_factor = _check("weight_factor", weight_factor)
    if not 1 <= int(n_repeats) <= 1000:
        raise SwaxsInputError(f"n_repeats: got {n_repeats}; expected an integer from 1 to 1000")
    n_repeats = int(n_repeats)
    for name, v in (("flat_background", flat_background), ("power_law_scale", power_law_scale),
                    ("power_law_exponent", power_law_exponent)):
        if not np.isfinite(v):
            raise SwaxsInputError(f"{name}: got {v}; expected a finite number")
    lo = q.min() if q_min_inv_angstrom is None else q_min_inv_angstrom
    hi = q.max() if q_max_inv_angstrom is None else q_max_inv_angstrom
    keep = (q >= lo) & (q <= hi) & np.isfinite(y) & np.isfinite(dy) & (q > 0)
    if keep.sum() < 5:
        raise SwaxsInputError(f"Q range: {int(keep.sum())} points between {lo} and {hi} 1/Å; expected at least 5")
    q, y, dy = q[keep], y[keep], dy[keep]
    if np.any(dy <= 0):
        raise SwaxsInputError(f"intensity_sigma: {int(np.sum(dy <= 0))} values <= 0 in the Q range; expected dI > 0")
    background = flat_background + power_law_scale * q ** (-power_law_exponent)
    sigma = weight_factor * dy
    diameters, widths = diameter_bins(d_min, d_max, n_bins)
    g = sphere_intensity(q, diameters, contrast)
    warn: list[str] = []
    flat_fitted = 0.0
    if fit_flat_background:
        from scipy.optimize import nnls

        solution = nnls(np.column_stack([g, np.ones_like(q)]) / sigma[:, None], (y - background) / sigma)[0]
        flat_fitted = float(solution[-1])
        background = background + flat_fitted
        if flat_fitted == 0.0:
            warn.append("the fitted flat background is 0: over this Q range it cannot be told apart from the "
                        "smallest sizes; give it with flat_background if it is known")
    y_sub = y - background
    rng = np.random.default_rng(seed)
    fs, chis, conv = [], [], 0
    if method == "maxent":
        if sky_background is None:
            from scipy.optimize import nnls

            total0 = nnls(g / sigma[:, None], y_sub / sigma)[0].sum()
            sky_background = max(total0, 1e-12) * 1e-4 / n_bins
        sky = _check("sky_background", sky_background)
        default = np.full(n_bins, sky)
        iters = 100 if max_iterations is None else int(max_iterations)
        for k in range(n_repeats):
            data_k = y_sub if n_repeats == 1 else y_sub + rng.normal(0.0, dy)
            try:
                res = maxent_sb(data_k, sigma, g, default, iters)
            except (FloatingPointError, ZeroDivisionError) as exc:
                raise SwaxsInputError(f"maximum entropy failed ({exc}); try a larger weight factor or another "
                                      "sky background") from None
            fs.append(res.f)
            chis.append(res.chi2_per_point)
            conv += res.converged
    else:
        iters = 30000 if max_iterations is None else int(max_iterations)
        # A fine diameter grid, 8 cells per bin between the bins' outer edges; contributions land in their bin.
        step = math.log(diameters[1] / diameters[0])
        log_lo = math.log(diameters[0]) - step / 2
        cells = np.arange(8 * n_bins)
        fine = np.exp(log_lo + (cells + 0.5) * step / 8)
        bin_of = cells // 8
        g_fine = sphere_intensity(q, fine, contrast)
        for k in range(n_repeats):
            amounts, chi, ok = _montecarlo(y_sub, sigma, g_fine, rng, n_contributions, iters)
            fs.append(np.bincount(bin_of, weights=amounts, minlength=n_bins))
            chis.append(chi)
            conv += ok
    fs = np.array(fs)
    chi2_reduced = float(np.mean(chis))
    if conv < n_repeats:
        warn.append(f"{n_repeats - conv} of {n_repeats} solutions did not reach chi2/N = 1 "
                    f"(mean chi2/N = {chi2_reduced:.3g}); try a larger weight factor or more iterations")
    volume_cm3 = math.pi / 6 * diameters**3 * CM3_PER_ANGSTROM3
    vol_dist = fs / widths
    num_dist = vol_dist / volume_cm3
    w_lo, w_hi = observable_window_angstrom(q.min(), q.max())
    inside = (diameters >= w_lo) & (diameters <= w_hi)
    totals = fs.sum(axis=1)
    win_totals = fs[:, inside].sum(axis=1)
    outside = totals - win_totals
    if np.any(inside):
        numbers = fs[:, inside] / volume_cm3[inside]
        mean_v = (fs[:, inside] @ diameters[inside]) / np.maximum(win_totals, 1e-300)
        mean_n = (numbers @ diameters[inside]) / np.maximum(numbers.sum(axis=1), 1e-300)
        d_in = diameters[inside]
        mode_v = float(d_in[np.argmax(vol_dist.mean(axis=0)[inside])])
        mode_n = float(d_in[np.argmax(num_dist.mean(axis=0)[inside])])
    else:
        mean_v = mean_n = np.full(n_repeats, np.nan)
        mode_v = mode_n = float("nan")
        warn.append(f"no bin lies inside the observable window {w_lo:.4g}–{w_hi:.4g} Å")
    if outside.mean() > 0.05 * max(totals.mean(), 1e-300):
        warn.append(f"{100 * outside.mean() / totals.mean():.0f} % of the volume lies in bins outside the observable "
                    f"window {w_lo:.4g}–{w_hi:.4g} Å: those sizes are not determined by the data")
    model = g @ fs.mean(axis=0) + background

    def _sd(a):
        return np.std(a, axis=0, ddof=1) if len(a) > 1 else np.zeros_like(np.mean(a, axis=0))

    return SizeDistribution(
        method=method, diameter_angstrom=diameters, bin_width_angstrom=widths,
        volume_fraction_per_angstrom=vol_dist.mean(axis=0), volume_fraction_per_angstrom_sigma=_sd(vol_dist),
        number_density_per_cm3_per_angstrom=num_dist.mean(axis=0),
        number_density_per_cm3_per_angstrom_sigma=_sd(num_dist),
        in_window=inside, window_diameter_min_angstrom=w_lo, window_diameter_max_angstrom=w_hi,
        total_volume_fraction=float(totals.mean()), total_volume_fraction_sigma=float(_sd(totals)),
        window_volume_fraction=float(win_totals.mean()), window_volume_fraction_sigma=float(_sd(win_totals)),
        mean_diameter_volume_angstrom=float(np.mean(mean_v)), mean_diameter_volume_angstrom_sigma=float(_sd(mean_v)),
        mean_diameter_number_angstrom=float(np.mean(mean_n)), mean_diameter_number_angstrom_sigma=float(_sd(mean_n)),
        mode_diameter_volume_angstrom=mode_v, mode_diameter_number_angstrom=mode_n,
        chi2_reduced=chi2_reduced, n_repeats=n_repeats, n_converged=int(conv), flat_background_fitted=flat_fitted,
        q_inv_angstrom=q, intensity=y, intensity_sigma=dy, background=background, model_intensity=model,
        warnings=tuple(warn),
    )
