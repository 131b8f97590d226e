"""A sasmodels model on measured Q points: resolution (pinhole, slit), size distributions, product models.

:class:`SasEvaluator` wraps sasmodels' kernel (CPU "dll", double precision)
for fixed points and a resolution from ``sasmodels.resolution``:
Perfect1D, Pinhole1D with 1-σ widths dQ (the data's column or dQ/Q · Q) or
Slit1D with a slit length; each polydisperse size ``p`` is a distribution
(``gaussian``, ``schulz``, ``lognormal``) of relative width ``p_pd``
sampled as :data:`~swaxs_lib.models.sasview.POLYDISPERSITY` says; a product
model ``form@structure`` takes its effective radius from the form factor
unless told otherwise.  :func:`model_intensity` is the one-call version.

References
----------
SasView/sasmodels 1.1, https://github.com/SasView/sasmodels (direct_model, resolution, product).
J. G. Barker and J. S. Pedersen, J. Appl. Cryst. 28, 105 (1995) (pinhole smearing).

Validation
----------
tests/test_saxs_fit.py computes its reference curves with sasmodels' own
calls (``call_kernel`` and ``sasmodels.resolution``), independently of this
module, and the fits through it recover their parameters.

Examples
--------
>>> import numpy as np
>>> q = np.array([0.01, 0.1])
>>> i = model_intensity("sphere", q, {"radius": 50.0, "scale": 1.0, "background": 0.0})
>>> round(float(i[0] / i[1]), 1) > 100
True
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Mapping

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models.sasview import POLYDISPERSITY, PRODUCT_SETTINGS, STRUCTURE_FACTORS, model_info

#: What ``resolution`` may be (``auto``: the data's dQ, else a stated one, else none).
RESOLUTIONS = ("auto", "none", "dq", "dq_over_q", "slit")


@lru_cache(maxsize=16)
def _kernel_model(name: str):
    from sasmodels.core import load_model

    model_info(name)  # a SwaxsInputError for an unknown name
    return load_model(name, dtype="double", platform="dll")


def resolution_for(q: np.ndarray, mode: str = "none", *, dq: np.ndarray | None = None,
                   dq_over_q: float | None = None, slit_length: float | None = None):
    """sasmodels' resolution object for points ``q`` (1/Å).

    Parameters
    ----------
    q : numpy.ndarray
    mode : {"none", "dq", "dq_over_q", "slit"}
        Perfect resolution; Gaussian with the 1-σ widths ``dq`` (1/Å); Gaussian
        with 1-σ width ``dq_over_q * q``; slit smearing with ``slit_length`` (1/Å).

    Raises
    ------
    SwaxsInputError
        A missing or non-positive width.
    """
    from sasmodels import resolution

    q = np.asarray(q, dtype=float)
    if mode == "none":
        return resolution.Perfect1D(q)
    if mode == "dq":
        if dq is None or len(dq) != len(q) or not np.all(np.isfinite(dq)) or np.any(dq < 0):
            raise SwaxsInputError("resolution dq: the data have no usable dQ column; expected a 1-σ dQ >= 0 per point "
                                  "(or --dq-over-q, --slit-length, --resolution none)")
        return resolution.Pinhole1D(q, np.asarray(dq, dtype=float))
    if mode == "dq_over_q":
        if dq_over_q is None or not (math.isfinite(dq_over_q) and 0 < dq_over_q < 1):
            raise SwaxsInputError(f"--dq-over-q: got {dq_over_q!r}; expected a 1-σ relative width between 0 and 1, "
                                  "e.g. 0.05")
        return resolution.Pinhole1D(q, dq_over_q * q)
    if mode == "slit":
        if slit_length is None or not (math.isfinite(slit_length) and slit_length > 0):
            raise SwaxsInputError(f"--slit-length: got {slit_length!r}; expected a positive slit length in 1/Å")
        return resolution.Slit1D(q, q_length=float(slit_length))
    raise SwaxsInputError(f"resolution: got {mode!r}; expected one of {', '.join(RESOLUTIONS)}")


class SasEvaluator:
    """A sasmodels model on fixed points with a resolution: parameters (by name) in, smeared I(Q) out.

    Scale 1 and background 0 unless given; ``pd`` maps each polydisperse
    size to (type, points, widths).
    """

    def __init__(self, name: str, q: np.ndarray, res, pd: Mapping[str, tuple[str, int, float]] | None = None,
                 effective_radius: str = "form"):
        self.name, self.q = name, np.asarray(q, dtype=float)
        self.resolution = res
        self.kernel = _kernel_model(name).make_kernel([res.q_calc])
        settings: dict[str, float | str] = {}
        names = {p.name for p in model_info(name).parameters.kernel_parameters}
        settings.update({k: v for k, v in PRODUCT_SETTINGS.items() if k in names})
        if effective_radius == "free" and "radius_effective_mode" in names:
            settings["radius_effective_mode"] = 0
        for par, (kind, n, nsigma) in (pd or {}).items():
            settings.update({f"{par}_pd_type": kind, f"{par}_pd_n": int(n), f"{par}_pd_nsigma": float(nsigma)})
        self.settings = settings

    def __call__(self, values: Mapping[str, float]) -> np.ndarray:
        from sasmodels.direct_model import call_kernel

        pars = {"scale": 1.0, "background": 0.0, **self.settings, **{k: float(v) for k, v in values.items()}}
        background = pars.pop("background")
        out = self.resolution.apply(call_kernel(self.kernel, {**pars, "background": 0.0}))
        return np.asarray(out, dtype=float) + background


def model_intensity(name: str, q: np.ndarray, values: Mapping[str, float], *, pd_type: str = "gaussian",
                    resolution: str = "none", dq: np.ndarray | None = None, dq_over_q: float | None = None,
                    slit_length: float | None = None) -> np.ndarray:
    """I(Q) of a sasmodels model at ``q`` (1/Å): every ``<p>_pd`` in ``values`` is a ``pd_type`` distribution.

    Raises
    ------
    SwaxsInputError
        An unknown model, distribution or resolution.
    """
    pd = {k[:-3]: (pd_type, *pd_sampling(pd_type)) for k in values if k.endswith("_pd")}
    res = resolution_for(q, resolution, dq=dq, dq_over_q=dq_over_q, slit_length=slit_length)
    return SasEvaluator(name, q, res, pd)(values)


def pd_sampling(kind: str) -> tuple[int, float]:
    """(points, widths) of a distribution's sampling; a SwaxsInputError for an unknown one."""
    if kind not in POLYDISPERSITY:
        raise SwaxsInputError(f"--polydispersity: got {kind!r}; expected one of {', '.join(POLYDISPERSITY)}")
    return POLYDISPERSITY[kind]


def model_name(form: str, structure_factor: str | None = None) -> str:
    """``sphere`` or ``sphere@hardsphere``.

    Raises
    ------
    SwaxsInputError
        A structure factor given with a form factor that already has one, or an unknown name.
    """
    form = str(form).strip()
    if not structure_factor:
        model_info(form)
        return form
    if "@" in form:
        raise SwaxsInputError(f"--structure-factor: {form!r} already has one; expected a plain form factor")
    sf = str(structure_factor).strip()
    info = model_info(sf)
    if not info.structure_factor:
        raise SwaxsInputError(f"--structure-factor: got {sf!r}; expected one of {', '.join(STRUCTURE_FACTORS)}")
    name = f"{form}@{sf}"
    model_info(name)
    return name


__all__ = ["RESOLUTIONS", "SasEvaluator", "model_intensity", "model_name", "pd_sampling", "resolution_for"]
