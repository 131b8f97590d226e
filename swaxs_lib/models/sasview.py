"""Any sasmodels model as a fit model: its parameter table read from sasmodels itself.

sasmodels (SasView's model library) declares every model as a table of
parameters (name, units, default, limits, type, description) and a kernel
that computes, for a dilute system of particles of volume V and scattering
length density contrast Δρ,

    I(Q) = scale / V * <|F(Q)|²> + background                       (1/cm)

with SLDs in 1e-6/Å², lengths in Å and ``scale`` the volume fraction; with a
structure factor (``sphere@hardsphere``) the product model
``scale * volfraction / V * <|F|²> S(Q) + background``.  A size parameter
``p`` may be polydisperse: ``p_pd`` is the relative width σ_p / p of a
``gaussian``, ``schulz`` or ``lognormal`` distribution (``p_pd_type``),
sampled at ``p_pd_n`` points over ``p_pd_nsigma`` widths.

:func:`saxs_spec` turns the table of any model (by sasmodels' name) into a
:class:`~swaxs_lib.models.ModelSpec`: ``scale`` and ``background`` first
(linear), then the model's own parameters in its order (orientation and
magnetic parameters, which do not enter a 1-D fit, and integer settings left
out), then ``<p>_pd`` for each polydisperse size.  Units are mapped to ours
(``Ang`` -> Å, ``1e-6/Ang^2`` -> 1e-6/Å², ``degrees`` -> deg); defaults and
limits are sasmodels'; a relative width is bounded to 0..1.  What is refined
by default: scale, background, every length and shape parameter, the
polydispersities asked for, and the structure factor's volume fraction and
interaction strength; SLDs (degenerate with scale) and thermodynamic settings
(temperature, salt, dielectric constant) are held unless freed.

Why these specs are not in :func:`swaxs_lib.models.all_models`: that registry
is the atomistic families (``cluster``, ``crystal``, ``nanoparticle``) that
``refine --model`` and the Refine page choose from; a SAXS form factor needs
no atoms and is fitted by :mod:`swaxs_lib.saxs.sasfit` (``fit-saxs``).  This
module therefore declares no ``MODELS``: :func:`common_models` lists the
common specs and :func:`saxs_spec` builds any other.

References
----------
SasView/sasmodels, https://www.sasview.org/docs/user/qtgui/Perspectives/Fitting/models/index.html
P. Kienzle et al., sasmodels 1.1 (2024), https://github.com/SasView/sasmodels.

Validation
----------
tests/test_saxs_fit.py: the tables of the common models against sasmodels'
own (names, defaults, units); curves made by sasmodels with known parameters
are recovered by :mod:`swaxs_lib.saxs.sasfit` within their uncertainties.

Examples
--------
>>> spec = saxs_spec("sphere", polydisperse=("radius",))
>>> [(p.name, p.unit, p.refined) for p in spec.parameters]  # doctest: +NORMALIZE_WHITESPACE
[('scale', '', True), ('background', '', True), ('sld', '1e-6/Å²', False),
 ('sld_solvent', '1e-6/Å²', False), ('radius', 'Å', True), ('radius_pd', '', True)]
>>> column_name("sld", spec.parameter("sld").unit)
'sld_1e-6_inv_angstrom2'
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Iterable

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models import ModelSpec
from swaxs_lib.models.parameters import FitParameter, column_name

#: sasmodels' unit strings -> ours (:data:`~swaxs_lib.models.parameters.UNIT_SUFFIX` names each in a column).
UNITS = {"Ang": "Å", "1/Ang": "1/Å", "Ang^2": "Å²", "1/Ang^2": "1/Å²", "Ang^3": "Å³", "1e-6/Ang^2": "1e-6/Å²",
         "1e-15/Ang^2": "1e-15/Å²", "degrees": "deg", "K": "K", "M": "mol/L", "kT": "kT", "e": "e", "None": "",
         "": "", "1/cm": "1/cm", "cm^-1": "1/cm", "1e-6/Ang": "1e-6/Å", "diameters": "diameters"}

#: Polydispersity distributions (sasmodels' ``<p>_pd_type``) and their default sampling (points, widths).
POLYDISPERSITY = {"gaussian": (35, 3.0), "schulz": (80, 8.0), "lognormal": (80, 8.0)}
#: Structure factors offered by name (sasmodels' ``two_yukawa`` works too, by its name).
STRUCTURE_FACTORS = ("hardsphere", "stickyhardsphere", "squarewell", "hayter_msa")
#: The form factors the page and ``--help`` list first.
COMMON = ("sphere", "core_shell_sphere", "ellipsoid", "cylinder", "parallelepiped", "rectangular_prism")
#: Settings of a product model, not fit parameters: effective radius from the form factor (1), plain P·S (0).
PRODUCT_SETTINGS = {"radius_effective_mode": 1, "structure_factor_mode": 0}
#: How a product model's S(Q) gets its effective (interaction) radius: the form factor's size, or refined.
EFFECTIVE_RADIUS = ("form", "free")
#: Structure-factor parameters refined by default (the others are experimental conditions, held).
REFINED_S = ("volfraction", "stickiness", "welldepth", "wellwidth", "charge")
#: Bounds of a relative polydispersity σ/p.
PD_BOUNDS = (0.0, 1.0)
#: Start of a polydispersity the user does not give: broad enough that the first stage sees no fringes.
PD_START = 0.1


def model_info(name: str):
    """sasmodels' ModelInfo of ``name`` (``"sphere"``, ``"sphere@hardsphere"``).

    Raises
    ------
    SwaxsInputError
        sasmodels has no such model.
    """
    return _model_info(str(name).strip())


@lru_cache(maxsize=64)
def _model_info(name: str):
    from sasmodels.core import list_models, load_model_info

    try:
        return load_model_info(name)
    except Exception:  # noqa: BLE001 - sasmodels raises ImportError, KeyError or ValueError
        parts = name.split("@")
        known = set(list_models())
        bad = next((p for p in parts if p not in known), name)
        raise SwaxsInputError(f"--model: got {bad!r}; expected a sasmodels model name such as "
                              f"{', '.join(COMMON)} (optionally @{'/@'.join(STRUCTURE_FACTORS)})") from None


def form_factor_names() -> tuple[str, ...]:
    """Every 1-D sasmodels form factor by name: the common ones first, then the rest alphabetically."""
    from sasmodels.core import list_models

    rest = sorted(set(list_models("all")) - set(COMMON) - set(STRUCTURE_FACTORS) - {"two_yukawa"})
    return COMMON + tuple(rest)


def size_parameters(name: str) -> tuple[str, ...]:
    """The polydisperse (size) parameters of a model in 1-D, in its table's order: ``("radius",)`` for a sphere."""
    info = model_info(name.split("@")[0])
    pd = info.parameters.pd_1d
    return tuple(p.name for p in info.parameters.kernel_parameters if p.name in pd)


def _unit(text: str) -> str:
    return UNITS.get(text.strip() if text else "", text.strip() if text else "")


def _sentence(text: str, fallback: str) -> str:
    text = " ".join((text or "").split()) or fallback
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def saxs_spec(name: str, *, polydisperse: Iterable[str] = (), effective_radius: str = "form") -> ModelSpec:
    """The :class:`~swaxs_lib.models.ModelSpec` of a sasmodels model, with ``<p>_pd`` rows for ``polydisperse``.

    Parameters
    ----------
    name : str
        A sasmodels model (``"cylinder"``) or product (``"sphere@hardsphere"``).
    polydisperse : iterable of str
        Size parameters given a refined relative width ``<p>_pd``.
    effective_radius : {"form", "free"}
        A product model's S(Q) radius: the form factor's (sasmodels' mode 1), or
        a refined ``radius_effective`` (mode 0: charged particles repel at a
        distance larger than their size).

    Returns
    -------
    ModelSpec
        ``name`` the sasmodels name, ``family`` the form factor, ``kinds`` ``("iq",)``,
        ``linear`` ``("scale", "background")``, two stages (scale and background, then all).

    Raises
    ------
    SwaxsInputError
        An unknown model, or a polydisperse parameter it does not have.
    """
    info = model_info(name)
    if effective_radius not in EFFECTIVE_RADIUS:
        raise SwaxsInputError(f"--effective-radius: got {effective_radius!r}; expected one of "
                              f"{', '.join(EFFECTIVE_RADIUS)}")
    polydisperse = tuple(dict.fromkeys(polydisperse))
    sizes = size_parameters(name)
    bad = [p for p in polydisperse if p not in sizes]
    if bad:
        raise SwaxsInputError(f"polydisperse parameter(s) {', '.join(bad)}: not sizes of {name}; expected some of "
                              f"{', '.join(sizes) or '(none: this model has no polydisperse size)'}")
    form = name.split("@")[0]
    form_names = {p.name for p in model_info(form).parameters.kernel_parameters}
    rows = [FitParameter("scale", "", 1.0, 0.0, math.inf,
                         "Volume fraction for SLDs in 1e-6/Å² and I in 1/cm; else an amplitude.", title="Scale"),
            FitParameter("background", "", 0.0, -math.inf, math.inf,
                         "Flat background, in the data's units.", title="Background")]
    for p in info.parameters.kernel_parameters:
        if p.type in ("orientation", "magnetic") or p.name in PRODUCT_SETTINGS or p.length > 1:
            continue
        if p.name == "radius_effective" and effective_radius == "form":
            continue  # taken from the form factor's size
        if p.choices or p.type == "int" or (p.limits[0] == 0 and p.limits[1] == 1 and p.name.endswith("_mode")):
            continue  # an integer setting, not a fit parameter
        low, high = (float(p.limits[0]), float(p.limits[1]))
        default = float(p.default)
        in_form = p.name in form_names
        if in_form:
            refined = p.type not in ("sld",)
        else:
            refined = p.name in REFINED_S or p.name == "radius_effective"
        rows.append(FitParameter(p.name, _unit(p.units), default, low, high,
                                 _sentence(p.description, p.name.replace("_", " ")), refined=refined))
    for p in polydisperse:
        rows.append(FitParameter(f"{p}_pd", "", PD_START, *PD_BOUNDS,
                                 f"Relative width σ/{p} of the size distribution of {p}.", title=f"σ/{p}"))
    names = [r.name for r in rows]
    stages = (("scale", "background"), tuple(names))
    return ModelSpec(name=name, family=form, title=_sentence(info.title, name), kinds=("iq",),
                     parameters=tuple(rows), stages=stages, linear=("scale", "background"), module=__name__)


@lru_cache(maxsize=1)
def common_models() -> tuple[ModelSpec, ...]:
    """The specs of :data:`COMMON` (monodisperse; :func:`saxs_spec` adds polydispersity)."""
    return tuple(saxs_spec(n) for n in COMMON)


__all__ = ["COMMON", "EFFECTIVE_RADIUS", "POLYDISPERSITY", "PRODUCT_SETTINGS", "STRUCTURE_FACTORS", "UNITS",
           "column_name",
           "common_models", "form_factor_names", "model_info", "saxs_spec", "size_parameters"]
