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

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models.parameters import FitParameter


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


__all__ = ["FitParameter", "ModelSpec", "all_models", "families", "get_model"]
