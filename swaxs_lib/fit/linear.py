"""Least-squares scale and background of a model curve against data, and R_w.

The fitted curve is ``scale * model + c0 + c1 * x`` with the background terms
the caller asks for (none, constant, or linear in x).  These are linear in the
unknowns, so the weighted least-squares solution is exact (``numpy.linalg.lstsq``
on the weighted design matrix); no starting values, no iterations.

The agreement factor is the weighted profile R of Rietveld and PDF refinement
(Toby 2006, eq. 2; the ``Rw`` of PDFgui and diffpy.srfit)::

    R_w = sqrt( sum w (y - y_fit)^2 / sum w y^2 )

Weights and the default fit range are those of every fit: :mod:`swaxs_lib.fit.window`.
The standard uncertainties of scale and background come from the weighted
normal equations, (AᵀWA)⁻¹, times χ²_red when the weights are not 1/σ².

References
----------
B. H. Toby, "R factors in Rietveld analysis: How good is good enough?",
Powder Diffraction 21, 67 (2006).

Examples
--------
>>> import numpy as np
>>> x = np.linspace(1, 2, 5)
>>> fit = fit_scale_background(x, 3 * x**2 + 0.5, x**2, background="constant", weighting="uniform")
>>> round(fit.scale, 12), round(fit.background[0], 12), fit.rw < 1e-14
(3.0, 0.5, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.window import fit_window
from swaxs_lib.io.measurement import Measurement

BACKGROUNDS = ("none", "constant", "linear")


@dataclass(frozen=True)
class ScaleFit:
    """A model scaled (plus background) onto data, over a fit range.

    Attributes
    ----------
    scale : float
        Multiplies the model.
    background : tuple of float
        ``()`` (none), ``(c0,)`` or ``(c0, c1)``: background ``c0 + c1 * x``
        in the data's units (c1 per unit of x).
    background_model : str
        One of :data:`BACKGROUNDS`.
    weighting : str
        The weights actually used (``"sigma"``, ``"relative"`` or ``"uniform"``).
    rw : float
        Weighted profile R over the fitted points (dimensionless).
    chi2_reduced : float or None
        Σ w (y - y_fit)² / (n - n_parameters) when the weights are 1/σ²; None otherwise.
    x_min, x_max : float
        The fit range actually used (inclusive).
    n_points : int
        Points in the fit.
    fitted : numpy.ndarray
        ``scale * model + background`` over *all* points given (not only the fit range).
    in_fit : numpy.ndarray of bool
        Which points entered the fit.
    uncertainties : tuple of float
        Standard uncertainties of ``(scale, *background)``.
    n_excluded : int
        Points in range left out (I <= 0 under relative weights).
    chi2 : float
        Σ w (y - y_fit)² over the fit.
    """

    scale: float
    background: tuple[float, ...]
    background_model: str
    weighting: str
    rw: float
    chi2_reduced: float | None
    x_min: float
    x_max: float
    n_points: int
    fitted: np.ndarray
    in_fit: np.ndarray
    uncertainties: tuple[float, ...] = ()
    n_excluded: int = 0
    chi2: float = float("nan")

    def background_curve(self, x: np.ndarray) -> np.ndarray:
        """The fitted background at ``x`` (zeros when there is none)."""
        x = np.asarray(x, dtype=float)
        return sum((c * x**k for k, c in enumerate(self.background)), np.zeros_like(x))


def fit_scale_background(
    x: np.ndarray,
    y: np.ndarray,
    model: np.ndarray,
    *,
    sigma: np.ndarray | None = None,
    background: str = "none",
    weighting: str = "auto",
    kind: str = "iq",
    x_min: float | None = None,
    x_max: float | None = None,
    source: str = "data",
) -> ScaleFit:
    """Fit ``y ≈ scale * model + background(x)`` by weighted linear least squares.

    Parameters
    ----------
    x : array_like (n,)
        Abscissa (Q in 1/Å or r in Å; only used for the range and a linear background).
    y : array_like (n,)
        Data.
    model : array_like (n,)
        Model on the same points.
    sigma : array_like (n,), optional
        Standard uncertainties of ``y``.
    background : {"none", "constant", "linear"}
    weighting : {"auto", "sigma", "relative", "uniform"}
        See the module docstring.
    kind : {"iq", "sq", "fq", "gr"}
        What ``y`` is; picks the ``"auto"`` weighting.
    x_min, x_max : float, optional
        Fit range (inclusive, in x's units); the whole curve by default.
    source : str
        The data's file or dataset name, for messages.

    Returns
    -------
    ScaleFit

    Raises
    ------
    SwaxsInputError
        Unknown option, mismatched lengths, non-finite values, an empty or
        inverted range, fewer points than parameters, or a model that is zero
        over the range.
    """
    if background not in BACKGROUNDS:
        raise SwaxsInputError(f"background: got {background!r}; expected one of {', '.join(BACKGROUNDS)}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    model = np.asarray(model, dtype=float)
    if not (x.ndim == 1 and x.shape == y.shape == model.shape):
        raise SwaxsInputError(f"x, y, model: got shapes {x.shape}, {y.shape}, {model.shape}; expected equal 1-D shapes")
    if sigma is not None:
        sigma = np.asarray(sigma, dtype=float)
        if sigma.shape != x.shape:
            raise SwaxsInputError(f"sigma: got shape {sigma.shape}; expected {x.shape}")
    n_bg = BACKGROUNDS.index(background)
    data = Measurement(kind, x, y, sigma, source, "angstrom" if kind == "gr" else "inv_angstrom")
    window = fit_window(data, x_min, x_max, weighting=weighting, n_parameters=1 + n_bg)
    in_fit = window.mask & np.isfinite(model)
    lo, hi = window.x_min, window.x_max
    w = np.where(in_fit, window.weights, 0.0)
    n = int(in_fit.sum())
    if n < 1 + n_bg + 1:
        raise SwaxsInputError(f"fit range {lo:g}..{hi:g}: has {n} usable points; expected at least {n_bg + 2}")
    columns = [model] + [x**k for k in range(n_bg)]
    design = np.column_stack(columns)[in_fit]
    root_w = np.sqrt(w[in_fit])
    if not np.any(design[:, 0] != 0):
        raise SwaxsInputError(f"model: is zero over the fit range {lo:g}..{hi:g}; expected a curve to scale")
    a = design * root_w[:, None]
    coef, *_ = np.linalg.lstsq(a, y[in_fit] * root_w, rcond=None)
    fitted = np.column_stack(columns) @ coef
    misfit = float(np.sum(w[in_fit] * (y[in_fit] - fitted[in_fit]) ** 2))
    norm = float(np.sum(w[in_fit] * y[in_fit] ** 2))
    rw = float(np.sqrt(misfit / norm)) if norm > 0 else float("inf")
    dof = n - design.shape[1]
    chi2 = misfit / dof if window.weighting == "sigma" and dof > 0 else None
    covariance = np.linalg.pinv(a.T @ a)
    if window.weighting != "sigma" and dof > 0:
        covariance = covariance * (misfit / dof)
    return ScaleFit(
        scale=float(coef[0]), background=tuple(float(c) for c in coef[1:]), background_model=background,
        weighting=window.weighting, rw=rw, chi2_reduced=chi2, x_min=lo, x_max=hi, n_points=n, fitted=fitted,
        in_fit=in_fit, uncertainties=tuple(float(np.sqrt(max(v, 0.0))) for v in np.diag(covariance)),
        n_excluded=window.n_excluded, chi2=misfit,
    )
