"""Frozen results as JSON: a schema version in every object, arrays as lists, older shapes read.

Every result the store keeps and a page reads (a sweep's ranking, a relaxation's
trace, a stored fit, a job's progress) is a frozen dataclass with two methods:

- ``to_json() -> dict``: plain JSON types only (dict, list, str, int, float,
  bool, None; NaN and infinity kept, as the store's JSON keeps them), with
  ``"schema": N``, the class's ``SCHEMA``;
- ``from_json(data)`` (a classmethod; ``data`` a mapping or JSON text): the
  object again, so that ``from_json(to_json(x)) == x``.  It reads every
  version up to ``SCHEMA``; data without the key (version 0) were stored
  before results carried one and are migrated (:mod:`swaxs_lib.legacy_rows`);
  a newer version is refused with :class:`SwaxsInputError`, so an older swaxs
  never misreads what a newer one wrote.  Keys it does not know are ignored
  (a job's row also holds its ``progress`` and ``worker``).

Bump a class's ``SCHEMA`` when a field changes meaning or is removed, and read
the old version in its ``from_json``; a new field with a default needs no bump.
This module holds what those methods share.

Examples
--------
>>> schema_of({"schema": 1, "rw": 0.1}, "SweepResult", 1), schema_of({"rw": 0.1}, "SweepResult", 1)
(1, 0)
>>> array_from_json(array_to_json(np.array([1.5, np.nan])), "x")
array([1.5, nan])
>>> same([1.0, float("nan"), np.arange(3.0)], [1.0, float("nan"), np.arange(3.0)])
True
"""

from __future__ import annotations

import dataclasses
import json
import math
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import numpy as np

from swaxs_lib.errors import SwaxsInputError

#: The key of the schema version in every object's JSON.
SCHEMA_KEY = "schema"


def as_mapping(data: Mapping[str, Any] | str | bytes, what: str) -> Mapping[str, Any]:
    """``data`` as a mapping: a mapping as it is, JSON text parsed.

    Raises
    ------
    SwaxsInputError
        Neither a mapping nor JSON text of an object.
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise SwaxsInputError(f"{what}: not JSON ({exc}); expected the text to_json wrote") from None
    if not isinstance(data, Mapping):
        raise SwaxsInputError(f"{what}: got {type(data).__name__}; expected a JSON object (dict)")
    return data


def schema_of(data: Mapping[str, Any], what: str, current: int) -> int:
    """The schema version of stored ``data``: 0 without the key (stored before versions).

    Raises
    ------
    SwaxsInputError
        A version that is not an integer from 0 to ``current`` (newer: written by a newer swaxs).
    """
    version = data.get(SCHEMA_KEY, 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise SwaxsInputError(f"{what}: schema {version!r}; expected an integer from 0 to {current}")
    if version > current:
        raise SwaxsInputError(f"{what}: schema {version} was written by a newer swaxs; this one reads up to "
                              f"{current} (upgrade swaxs)")
    return version


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn a missing key or a wrong type met while rebuilding ``what`` into one :class:`SwaxsInputError`."""
    try:
        yield
    except SwaxsInputError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise SwaxsInputError(f"{what}: stored data not readable ({type(exc).__name__}: {exc}); "
                              "expected what its to_json writes") from None


def array_to_json(array: Any) -> list:
    """A float array as a (nested) list of floats; NaN and infinity kept."""
    return np.asarray(array, dtype=float).tolist()


def array_from_json(values: Any, what: str) -> np.ndarray:
    """A list written by :func:`array_to_json` as a float64 array (None read as NaN)."""
    try:
        return np.array([np.nan if v is None else v for v in values] if _flat(values) else values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SwaxsInputError(f"{what}: {exc}; expected a list of numbers") from None


def _flat(values: Any) -> bool:
    return isinstance(values, list) and not any(isinstance(v, list) for v in values)


def plain(value: Any) -> Any:
    """``value`` in JSON types: tuples as lists, numpy arrays and scalars as lists and numbers, mapping keys as str."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def same(a: Any, b: Any) -> bool:
    """Equality for results: arrays element by element, NaN equal to NaN, sequences and mappings item by item."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def fields_equal(self: Any, other: Any) -> bool:
    """``__eq__`` of a frozen result holding arrays or NaN: same class, every compared field :func:`same`."""
    if other.__class__ is not self.__class__:
        return NotImplemented
    return all(same(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self) if f.compare)


__all__ = ["SCHEMA_KEY", "array_from_json", "array_to_json", "as_mapping", "fields_equal", "plain", "reading",
           "same", "schema_of"]
