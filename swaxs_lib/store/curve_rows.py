"""How a cached curve is keyed and stored: the rows of the ``curves`` table.

:func:`curve_key` names a curve by everything that decides it;
:func:`encode_curve` turns the result dataclass into a fields JSON (scalars,
and the layout of the arrays) and one BLOB of the arrays' little-endian bytes,
which :func:`decode_curve` turns back bit for bit.  :func:`save_curve`,
:func:`save_curves` (bulk) and :func:`load_curves` move rows in and out;
:mod:`swaxs_lib.store.curves` builds the cache on them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from typing import TYPE_CHECKING, Any, Iterable, Mapping, TypeVar

import numpy as np
from ase import Atoms

from swaxs_lib import __version__
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering.debye import DebyeCurve
from swaxs_lib.scattering.pdf import PDFCurve
from swaxs_lib.store._common import utc_now
from swaxs_lib.store.clusters import cluster_hash, store_cluster

if TYPE_CHECKING:
    from swaxs_lib.structures import Cluster

KERNEL_VERSION = "1"

#: Curve kind -> the result dataclass it caches.
CURVE_TYPES: dict[str, type] = {"iq": DebyeCurve, "gr": PDFCurve}

T = TypeVar("T")

_CURVE_COLUMNS = ("key, cluster_hash, kind, grid_sha256, n_points, params_json, form_factor_source, kernel_version, "
                  "fields_json, arrays, compute_s, swaxs_version, created_at")


def grid_array(grid, what: str) -> np.ndarray:
    """``grid`` as a 1-D float64 array, checked non-empty and finite."""
    try:
        array = np.ascontiguousarray(np.asarray(grid, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        raise SwaxsInputError(f"{what}: got {grid!r}; expected an array of numbers") from None
    if len(array) == 0 or not np.all(np.isfinite(array)):
        raise SwaxsInputError(f"{what}: expected a non-empty array of finite values")
    return array


def curve_key(
    structure_hash: str,
    kind: str,
    grid: np.ndarray,
    params: Mapping[str, Any],
    form_factor_source: str,
    *,
    kernel_version: str | None = None,
) -> str:
    """The cache key: sha256 (hex) of every input that decides a curve.

    Parameters
    ----------
    structure_hash : str
        :func:`~swaxs_lib.store.clusters.cluster_hash` of the atoms.
    kind : str
        One of :data:`CURVE_TYPES`.
    grid : numpy.ndarray
        Q (1/Å) or r (Å); its float64 little-endian bytes are hashed, so the
        order and every bit count.
    params : mapping
        Every other physics parameter, JSON-serialisable (canonicalised with
        sorted keys).
    form_factor_source : str
    kernel_version : str, optional
        :data:`KERNEL_VERSION` (read at call time) unless given.

    Returns
    -------
    str
    """
    grid = np.ascontiguousarray(grid, dtype="<f8")
    text = json.dumps(
        {
            "format": "swaxs-curve-key-v1",
            "structure": structure_hash,
            "kind": kind,
            "grid_sha256": hashlib.sha256(grid.tobytes()).hexdigest(),
            "grid_n": int(grid.size),
            "params": dict(params),
            "form_factor_source": form_factor_source,
            "kernel_version": KERNEL_VERSION if kernel_version is None else kernel_version,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def encode_curve(curve: Any) -> tuple[str, bytes]:
    """A result dataclass as (fields JSON, array bytes); see :func:`decode_curve`."""
    scalars, layout, chunks = {}, [], []
    for f in dataclasses.fields(curve):
        value = getattr(curve, f.name)
        if isinstance(value, np.ndarray):
            dtype = value.dtype.newbyteorder("<") if value.dtype.byteorder == ">" else value.dtype
            if dtype.kind not in "biufc":
                raise TypeError(f"{type(curve).__name__}.{f.name}: dtype {value.dtype} cannot be cached")
            layout.append([f.name, dtype.str, list(value.shape)])
            chunks.append(np.ascontiguousarray(value, dtype=dtype).tobytes())
        else:
            scalars[f.name] = value.item() if isinstance(value, np.generic) else value
    return json.dumps({"scalars": scalars, "arrays": layout}), b"".join(chunks)


def decode_curve(result_type: type[T], fields_json: str, blob: bytes) -> T | None:
    """Rebuild a result from :func:`encode_curve`'s output (writable copies).

    Returns None when the stored fields no longer match ``result_type``'s
    (the dataclass changed since): the caller treats that as a miss.
    """
    fields = json.loads(fields_json)
    values: dict[str, Any] = dict(fields["scalars"])
    offset = 0
    for name, dtype_str, shape in fields["arrays"]:
        dtype = np.dtype(dtype_str)
        count = math.prod(shape)
        values[name] = np.frombuffer(blob, dtype=dtype, count=count, offset=offset).reshape(shape).copy()
        offset += count * dtype.itemsize
    if set(values) != {f.name for f in dataclasses.fields(result_type)} or offset != len(blob):
        return None
    return result_type(**values)


def load_curves(store, keys: Iterable[str], kind: str) -> dict[str, Any]:
    """The cached curves among ``keys`` (one query), as ``{key: curve}``; misses are absent."""
    result_type = _result_type(kind)
    keys = list(keys)
    with store.session() as cur:
        if len(keys) == 1:  # the hit path: a point lookup reads one row's arrays
            rows = cur.execute("SELECT key, kind, fields_json, arrays FROM curves WHERE key = ?", keys).fetchall()
        else:
            rows = cur.execute(
                "SELECT key, kind, fields_json, arrays FROM curves WHERE key IN (SELECT unnest(?::VARCHAR[]))",
                [keys],
            ).fetchall()
    out = {}
    for key, stored_kind, fields_json, blob in rows:
        curve = decode_curve(result_type, fields_json, blob) if stored_kind == kind else None
        if curve is not None:
            out[key] = curve
    return out


def save_curve(
    store,
    key: str,
    structure: Atoms | Cluster,
    kind: str,
    grid: np.ndarray,
    params: Mapping[str, Any],
    form_factor_source: str,
    curve: Any,
    *,
    compute_s: float | None = None,
    structure_hash: str | None = None,
) -> None:
    """Write one curve (and its cluster, if new) under ``key`` (from :func:`curve_key`).

    A row already stored under ``key`` is kept (it holds the same bits) unless
    it was written in an older layout, which is replaced.
    """
    result_type = _result_type(kind)
    if not isinstance(curve, result_type):
        raise SwaxsInputError(f"curve: got {type(curve).__name__} for kind {kind!r}; expected {result_type.__name__}")
    structure_hash = cluster_hash(structure) if structure_hash is None else structure_hash
    fields_json, blob = encode_curve(curve)
    grid = np.ascontiguousarray(grid, dtype="<f8")
    values = [structure_hash, kind, hashlib.sha256(grid.tobytes()).hexdigest(), int(grid.size),
              json.dumps(dict(params), sort_keys=True), form_factor_source, KERNEL_VERSION, fields_json, blob,
              compute_s, __version__, utc_now()]
    with store.session(write=True) as cur:
        store_cluster(cur, structure, structure_hash)
        # A plain INSERT costs a third of INSERT OR REPLACE; replacing is only
        # needed for a row of an older layout (a concurrent twin has the same bits).
        old = cur.execute("SELECT fields_json FROM curves WHERE key = ?", [key]).fetchone()
        if old is None:
            cur.execute(f"INSERT INTO curves ({_CURVE_COLUMNS}) VALUES ({', '.join('?' * 13)})", [key, *values])
        elif old[0] != fields_json:
            sets = ", ".join(f"{c} = ?" for c in _CURVE_COLUMNS.split(", ")[1:])
            cur.execute(f"UPDATE curves SET {sets} WHERE key = ?", [*values, key])


@dataclasses.dataclass(frozen=True)
class CurveEntry:
    """One computed curve for :func:`save_curves`.

    Attributes
    ----------
    structure : ase.Atoms or Cluster
    kind : str
        One of :data:`CURVE_TYPES`.
    grid : numpy.ndarray
        Q (1/Å) or r (Å), as passed to the computation.
    params : mapping
        Every other physics parameter (see :func:`curve_key`).
    form_factor_source : str
    curve : DebyeCurve or PDFCurve
    compute_s : float, optional
        How long it took (s).
    """

    structure: Atoms | Cluster
    kind: str
    grid: np.ndarray
    params: Mapping[str, Any]
    form_factor_source: str
    curve: Any
    compute_s: float | None = None


def save_curves(store, entries: Iterable[CurveEntry], *, chunk_size: int = 256) -> list[str]:
    """Write many computed curves in one transaction, by bulk inserts.

    The path for sweeps: ~5x faster per curve than :func:`save_curve` in a
    loop (benchmarks/store.py).  ``entries`` may be a generator; it is
    encoded ``chunk_size`` curves at a time.  It is one transaction, and
    DuckDB keeps a transaction's rows in memory until the commit: peak
    memory is ~3x the curves' size (1.3 GB for 10,000 curves of 40 kB), so
    split larger sweeps into several calls.  Keys already stored are left
    alone (their curves have the same bits) unless stored in an older layout.

    Returns
    -------
    list of str
        The curves' keys, in the order given.
    """
    keys: list[str] = []
    with store.session(write=True) as cur:
        chunk: list[CurveEntry] = []
        for entry in entries:
            chunk.append(entry)
            if len(chunk) >= chunk_size:
                keys.extend(_save_chunk(cur, chunk))
                chunk = []
        if chunk:
            keys.extend(_save_chunk(cur, chunk))
    return keys


def _save_chunk(cur, entries: list[CurveEntry]) -> list[str]:
    import pandas as pd  # only the bulk path needs it

    rows: dict[str, dict[str, Any]] = {}
    keys, clusters = [], {}
    now = utc_now()
    for entry in entries:
        result_type = _result_type(entry.kind)
        if not isinstance(entry.curve, result_type):
            raise SwaxsInputError(
                f"curve: got {type(entry.curve).__name__} for kind {entry.kind!r}; expected {result_type.__name__}"
            )
        structure_hash = cluster_hash(entry.structure)
        clusters.setdefault(structure_hash, entry.structure)
        grid = grid_array(entry.grid, "grid")
        key = curve_key(structure_hash, entry.kind, grid, entry.params, entry.form_factor_source)
        fields_json, blob = encode_curve(entry.curve)
        keys.append(key)
        rows[key] = {
            "key": key, "cluster_hash": structure_hash, "kind": entry.kind,
            "grid_sha256": hashlib.sha256(grid.astype("<f8").tobytes()).hexdigest(), "n_points": int(grid.size),
            "params_json": json.dumps(dict(entry.params), sort_keys=True),
            "form_factor_source": entry.form_factor_source, "kernel_version": KERNEL_VERSION,
            "fields_json": fields_json, "arrays": blob,
            "compute_s": None if entry.compute_s is None else float(entry.compute_s),
            "swaxs_version": __version__, "created_at": now,
        }
    columns = _CURVE_COLUMNS.split(", ")
    for structure_hash, structure in clusters.items():
        store_cluster(cur, structure, structure_hash)
    stored = dict(cur.execute(
        "SELECT key, fields_json FROM curves WHERE key IN (SELECT unnest(?::VARCHAR[]))", [list(rows)]
    ).fetchall())
    for key, fields_json in stored.items():
        if fields_json != rows[key]["fields_json"]:
            sets = ", ".join(f"{c} = ?" for c in columns[1:])
            cur.execute(f"UPDATE curves SET {sets} WHERE key = ?", [*(rows[key][c] for c in columns[1:]), key])
    new = pd.DataFrame([row for key, row in rows.items() if key not in stored], columns=columns)
    if len(new):
        new["compute_s"] = new["compute_s"].astype("float64")
        cur.register("swaxs_new_curves", new)
        try:
            cur.execute(f"INSERT INTO curves ({_CURVE_COLUMNS}) SELECT {_CURVE_COLUMNS} FROM swaxs_new_curves")
        finally:
            cur.unregister("swaxs_new_curves")
    return keys


def _result_type(kind: str) -> type:
    if kind not in CURVE_TYPES:
        raise SwaxsInputError(f"kind: got {kind!r}; expected one of {', '.join(CURVE_TYPES)}")
    return CURVE_TYPES[kind]


__all__ = [
    "CURVE_TYPES",
    "KERNEL_VERSION",
    "CurveEntry",
    "curve_key",
    "decode_curve",
    "encode_curve",
    "grid_array",
    "load_curves",
    "save_curve",
    "save_curves",
]
