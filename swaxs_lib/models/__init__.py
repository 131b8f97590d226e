"""Fit models, each declared once: a docstring with its formula, a parameter table, its profile.

Every module of this package (except :mod:`.parameters`) declares one model
family in the manner of sasmodels' ``models/sphere.py``: a module docstring
with the formula, references and validation, and ``MODELS``, a tuple of
:class:`ModelSpec` (one per kind of data the family fits).  The table of
:class:`~swaxs_lib.models.parameters.FitParameter` rows (name, unit, default,
bounds, refined by default, one-line description) drives the fit's start
values and bounds (:mod:`swaxs_lib.fit.engine`), the command line's
``--start NAME=V``, ``--bounds NAME=LO:HI``, ``--fix``/``--free NAMES``, the
pages' inputs and the CSV/JSON column names
(:func:`~swaxs_lib.models.parameters.column_name`).

Adding a model means adding a module here: :func:`all_models` finds it, and
the command line's ``--model`` choices, the Refine page and the docs list it.
SAXS form factors (any sasmodels model, :mod:`.sasview`) are kept apart:
that module declares no ``MODELS`` (``refine --model`` offers the atomistic
families only) and builds its specs with ``saxs_spec(name)``, fitted by
:mod:`swaxs_lib.saxs.sasfit`.

Examples
--------
>>> spec = get_model("cluster", "gr")
>>> spec.name, [p.name for p in spec.parameters]
('cluster_gr', ['scale', 'zoom', 'u', 'delta2', 'qdamp'])
>>> sorted(families())
['cluster', 'crystal', 'nanoparticle']
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, TypeVar

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models.parameters import UNIT_SUFFIX, FitParameter, column_name

V = TypeVar("V")


@dataclass(frozen=True)
class ModelSpec:
    """A fit model's declaration.

    Attributes
    ----------
    name : str
        Unique name (``"cluster_gr"``).
    family : str
        What the user chooses (``--model cluster``); one family may have a
        model per kind of data.
    title : str
        One line for menus and ``--help``.
    kinds : tuple of str
        The data it fits (``"gr"``; ``"iq"``, ``"sq"``, ``"fq"``).
    parameters : tuple of FitParameter
        The parameter table.  Rows named in ``per_element`` stand for one
        parameter per element (``u`` for ``u_Au``, ``u_Pd``).
    stages : tuple of tuple of str
        Base names freed in each stage of a refinement (:mod:`swaxs_lib.fit.engine`).
    per_element : tuple of str
        Base names expanded per element (or per site).
    linear : tuple of str
        Parameters that enter the model linearly (scale, background): with
        only these free the fit is exact linear least squares.
    module : str
        The declaring module (its docstring is the model's documentation).
    """

    name: str
    family: str
    title: str
    kinds: tuple[str, ...]
    parameters: tuple[FitParameter, ...]
    stages: tuple[tuple[str, ...], ...]
    per_element: tuple[str, ...] = ()
    linear: tuple[str, ...] = ("scale",)
    module: str = ""

    @property
    def table(self) -> dict[str, FitParameter]:
        """Base name -> its row."""
        return {p.name: p for p in self.parameters}

    def parameter(self, name: str) -> FitParameter:
        """The row of ``name`` or of its base name (``u`` for ``u_Au``).

        Raises
        ------
        SwaxsInputError
            No such parameter.
        """
        table = self.table
        if name in table:
            return table[name]
        base = name.split("_")[0]
        if base in self.per_element and base in table:
            return table[base]
        raise SwaxsInputError(f"parameter {name!r}: not in model {self.name}; expected one of {', '.join(table)}")

    @property
    def doc(self) -> str:
        """The declaring module's docstring: formula, references, validation."""
        return importlib.import_module(self.module).__doc__ or ""


@lru_cache(maxsize=1)
def all_models() -> tuple[ModelSpec, ...]:
    """Every model declared in this package, in module order."""
    found: list[ModelSpec] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "parameters":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "MODELS", ()))
    names = [m.name for m in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"models: duplicate names in {names}")
    return tuple(found)


def families() -> tuple[str, ...]:
    """The model families a user chooses from (``--model``)."""
    return tuple(dict.fromkeys(m.family for m in all_models()))


def get_model(family_or_name: str, kind: str | None = None) -> ModelSpec:
    """The model named ``family_or_name``, or the one of that family that fits ``kind``.

    Raises
    ------
    SwaxsInputError
        No such model, or the family does not fit ``kind``.
    """
    models = all_models()
    for m in models:
        if m.name == family_or_name and (kind is None or kind in m.kinds):
            return m
    family = [m for m in models if m.family == family_or_name]
    if not family:
        raise SwaxsInputError(f"model: got {family_or_name!r}; expected one of {', '.join(families())}")
    for m in family:
        if kind is None or kind in m.kinds:
            return m
    kinds = sorted({k for m in family for k in m.kinds})
    raise SwaxsInputError(f"model {family_or_name}: fits {', '.join(kinds)} data; got {kind}")


def _specs(models: str | ModelSpec | Iterable[ModelSpec]) -> tuple[ModelSpec, ...]:
    if isinstance(models, ModelSpec):
        return (models,)
    if isinstance(models, str):
        found = tuple(m for m in all_models() if m.family == models)
        if not found:
            raise SwaxsInputError(f"model family: got {models!r}; expected one of {', '.join(families())}")
        return found
    return tuple(models)


def unit_column(key: str, models: str | ModelSpec | Iterable[ModelSpec]) -> str:
    """The CSV name of a model's value, its uncertainty or its flag, with the value's unit.

    Stored summaries and traces name values as the fit does (``u_Pt``,
    ``qdamp_sigma``, ``delta2_flag``); a table written for people carries the
    unit as :func:`~swaxs_lib.models.parameters.column_name` spells it, before
    the ``_sigma`` or ``_flag`` suffix, as
    :meth:`~swaxs_lib.fit.result.RefinementResult.parameter_row` does.

    Parameters
    ----------
    key : str
        A value's name, optionally followed by ``_sigma`` or ``_flag``.
    models : str, ModelSpec or iterable of ModelSpec
        Whose tables name the values (the first that knows ``key`` decides); a
        family's name (``"cluster"``) stands for its models.

    Returns
    -------
    str
        The name with its unit; a key no table knows (``rw``, ``expansion``, ``n_atoms``) unchanged.

    Examples
    --------
    >>> gr = get_model("cluster", "gr")
    >>> [unit_column(k, gr) for k in ("u_Pt", "u_Pt_sigma", "qdamp_flag", "delta2", "zoom", "rw")]
    ['u_Pt_angstrom2', 'u_Pt_angstrom2_sigma', 'qdamp_inv_angstrom_flag', 'delta2_angstrom2', 'zoom', 'rw']
    >>> unit_column("u_Pt_angstrom2_sigma", gr)  # a name with its unit stays as it is
    'u_Pt_angstrom2_sigma'
    """
    specs = _specs(models)
    for suffix in ("_sigma", "_flag", ""):
        if not key.endswith(suffix) or key == suffix:
            continue
        name = key[: len(key) - len(suffix)]
        if any(name.endswith(u) for u in UNIT_SUFFIX.values() if u):
            return key  # named with its unit already
        for spec in specs:
            try:
                row = spec.parameter(name)
            except SwaxsInputError:
                continue
            return column_name(name, row.unit) + suffix
    return key


def with_units(columns: Mapping[str, V], models: str | ModelSpec | Iterable[ModelSpec]) -> dict[str, V]:
    """``columns`` (in their order) renamed by :func:`unit_column`.

    >>> list(with_units({"rank": [1], "u_Au": [0.01], "u_Au_sigma": [0.001]}, "cluster"))
    ['rank', 'u_Au_angstrom2', 'u_Au_angstrom2_sigma']

    Raises
    ------
    SwaxsInputError
        Two columns would get one name.
    """
    specs = _specs(models)
    out: dict[str, V] = {}
    for key, values in columns.items():
        name = unit_column(key, specs)
        if name in out:
            raise SwaxsInputError(f"columns: {key!r} and another column are both named {name!r}; expected "
                                  "distinct names")
        out[name] = values
    return out


__all__ = ["FitParameter", "ModelSpec", "all_models", "families", "get_model", "unit_column", "with_units"]
