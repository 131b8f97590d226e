"""Least-squares scale and background of a model curve against data, and R_w.

The fitted curve is ``scale * model + c0 + c1 * x`` with the background terms
the caller asks for (none, constant, or linear in x).  These are linear in the
unknowns, so the weighted least-squares solution is exact (``numpy.linalg.lstsq``
on the weighted design matrix); no starting values, no iterations.

The agreement factor is the weighted profile R of Rietveld and PDF refinement
(Toby 2006, eq. 2; the ``Rw`` of PDFgui and diffpy.srfit)::

    R_w = sqrt( sum w (y - y_fit)^2 / sum w y^2 )

Weights
-------
``"sigma"``
    w = 1/σ² from the data's uncertainties (all must be > 0).
``"relative"``
    w = 1/y², i.e. every point's relative misfit counts equally: the usual
    choice for I(Q) spanning decades when no σ is given.  Points with y <= 0
    are left out of the fit.
``"uniform"``
    w = 1: the usual choice for G(r), S(Q) and F(Q).
``"auto"``
    ``"sigma"`` when uncertainties are given and all > 0; otherwise
    ``"relative"`` for I(Q) and ``"uniform"`` for the other kinds.

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

BACKGROUNDS = ("none", "constant", "linear")
WEIGHTINGS = ("auto", "sigma", "relative", "uniform")


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
    if weighting not in WEIGHTINGS:
        raise SwaxsInputError(f"weighting: got {weighting!r}; expected one of {', '.join(WEIGHTINGS)}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    model = np.asarray(model, dtype=float)
    if not (x.ndim == 1 and x.shape == y.shape == model.shape):
        raise SwaxsInputError(f"x, y, model: got shapes {x.shape}, {y.shape}, {model.shape}; expected equal 1-D shapes")
    if sigma is not None:
        sigma = np.asarray(sigma, dtype=float)
        if sigma.shape != x.shape:
            raise SwaxsInputError(f"sigma: got shape {sigma.shape}; expected {x.shape}")
    lo = float(np.min(x)) if x_min is None else float(x_min)
    hi = float(np.max(x)) if x_max is None else float(x_max)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise SwaxsInputError(f"fit range: got {lo:g}..{hi:g}; expected x_min < x_max")
    in_fit = (x >= lo) & (x <= hi) & np.isfinite(y) & np.isfinite(model)
    used = _weighting(weighting, sigma, kind)
    if used == "sigma":
        in_fit &= np.isfinite(sigma) & (sigma > 0)
        w = np.zeros_like(y)
        w[in_fit] = 1.0 / sigma[in_fit] ** 2
    elif used == "relative":
        in_fit &= y > 0
        w = np.zeros_like(y)
        w[in_fit] = 1.0 / y[in_fit] ** 2
    else:
        w = in_fit.astype(float)
    n_bg = BACKGROUNDS.index(background)
    n = int(in_fit.sum())
    if n < 1 + n_bg + 1:
        raise SwaxsInputError(f"fit range {lo:g}..{hi:g}: has {n} usable points; expected at least {n_bg + 2}")
    columns = [model] + [x**k for k in range(n_bg)]
    design = np.column_stack(columns)[in_fit]
    root_w = np.sqrt(w[in_fit])
    if not np.any(design[:, 0] != 0):
        raise SwaxsInputError(f"model: is zero over the fit range {lo:g}..{hi:g}; expected a curve to scale")
    coef, *_ = np.linalg.lstsq(design * root_w[:, None], y[in_fit] * root_w, rcond=None)
    fitted = np.column_stack(columns) @ coef
    misfit = float(np.sum(w[in_fit] * (y[in_fit] - fitted[in_fit]) ** 2))
    norm = float(np.sum(w[in_fit] * y[in_fit] ** 2))
    rw = float(np.sqrt(misfit / norm)) if norm > 0 else float("inf")
    dof = n - design.shape[1]
    chi2 = misfit / dof if used == "sigma" and dof > 0 else None
    return ScaleFit(
        scale=float(coef[0]), background=tuple(float(c) for c in coef[1:]), background_model=background,
        weighting=used, rw=rw, chi2_reduced=chi2, x_min=lo, x_max=hi, n_points=n, fitted=fitted, in_fit=in_fit,
    )


def _weighting(weighting: str, sigma: np.ndarray | None, kind: str) -> str:
    has_sigma = sigma is not None and bool(np.all(np.isfinite(sigma) & (sigma > 0)))
    if weighting == "sigma" and sigma is None:
        raise SwaxsInputError("weighting: got 'sigma' but the data have no uncertainties; expected relative or uniform")
    if weighting != "auto":
        return weighting
    if has_sigma:
        return "sigma"
    return "relative" if kind == "iq" else "uniform"
