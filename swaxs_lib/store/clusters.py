"""Clusters, named by a hash of what they are made of.

:func:`cluster_hash` is the key of the structure everywhere in the store (the
curve cache, results).  It covers exactly what the scattering depends on:
the chemical species and the positions, *in the order given*, positions
rounded to :data:`POSITION_RESOLUTION_ANGSTROM`.  The cell, periodic
boundaries, tags and masses do not enter.  Consequences, chosen on purpose:

* the same atoms listed in another order, translated or rotated hash
  differently (the Debye sum would not change, so this only costs a cache
  miss, never a wrong answer);
* positions that differ by less than the resolution can share a hash (and a
  cached curve): at 1e-6 Å each pair's phase Q r_ij moves by at most
  Q x 2e-6 Å (6e-5 rad at Q = 30 1/Å), far below any measurement's precision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.store._common import as_utc, to_json, utc_now

if TYPE_CHECKING:  # importing swaxs_lib.structures costs scipy's ~0.5 s; only its type is needed
    from swaxs_lib.structures import Cluster

#: Positions are rounded to integer multiples of this (Å) before hashing.
POSITION_RESOLUTION_ANGSTROM = 1e-6
_HASH_PREFIX = b"swaxs-cluster-v1\0"


def _atoms_of(structure: Atoms | Cluster) -> Atoms:
    if isinstance(structure, Atoms):
        return structure
    if isinstance(getattr(structure, "atoms", None), Atoms):  # a Cluster
        return structure.atoms
    raise SwaxsInputError(f"atoms: got {type(structure).__name__}; expected ase.Atoms or a Cluster")


def _info_of(structure: Atoms | Cluster):
    """The ClusterInfo of a Cluster; None for bare atoms (whose ``.info`` is ASE's dict)."""
    if isinstance(structure, Atoms):
        return None
    info = getattr(structure, "info", None)
    return info if hasattr(info, "shape") and hasattr(info, "to_dict") else None


def cluster_hash(structure: Atoms | Cluster) -> str:
    """sha256 (hex) of a structure's species and rounded positions.

    The hashed bytes are a version prefix, the JSON list of chemical symbols,
    and the positions divided by :data:`POSITION_RESOLUTION_ANGSTROM`, rounded
    to the nearest integer (so -0 and 0 agree) as little-endian int64, row by
    row in the order given.

    Parameters
    ----------
    structure : ase.Atoms or Cluster

    Returns
    -------
    str
        64 hex characters.

    Raises
    ------
    SwaxsInputError
        Not a structure, or a non-finite or absurdly large (> 1e9 Å) position.

    Examples
    --------
    >>> from ase import Atoms
    >>> a = Atoms("Au2", positions=[(0, 0, 0), (0, 0, 2.88)])
    >>> b = Atoms("Au2", positions=[(0, 0, 1e-8), (0, 0, 2.88)])
    >>> cluster_hash(a) == cluster_hash(b)     # closer than 1e-6 Å
    True
    >>> cluster_hash(a) == cluster_hash(Atoms("AuAg", positions=a.positions))
    False
    """
    atoms = _atoms_of(structure)
    positions = np.asarray(atoms.positions, dtype=np.float64)
    if not np.all(np.isfinite(positions)) or (positions.size and np.abs(positions).max() > 1e9):
        raise SwaxsInputError("atoms: positions must be finite and within 1e9 Å of the origin")
    ticks = np.rint(positions / POSITION_RESOLUTION_ANGSTROM).astype("<i8")
    digest = hashlib.sha256(_HASH_PREFIX)
    digest.update(json.dumps(atoms.get_chemical_symbols()).encode())
    digest.update(b"\0")
    digest.update(np.ascontiguousarray(ticks).tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ClusterRecord:
    """A stored cluster.

    Attributes
    ----------
    hash : str
        :func:`cluster_hash` of the atoms.
    atoms : ase.Atoms
        Rebuilt from the stored symbols and positions (Å), no cell.
    n_atoms : int
    elements : tuple of str
        Distinct symbols, sorted.
    shape : str or None
        Builder name; None when the cluster was only seen as atoms (e.g. by
        the curve cache).
    parameters : dict
        The builder's parameters (empty when unknown).
    info : dict or None
        :meth:`ClusterInfo.to_dict` when known.
    created_at : datetime.datetime
        First stored (UTC, aware).
    """

    hash: str
    atoms: Atoms
    n_atoms: int
    elements: tuple[str, ...]
    shape: str | None
    parameters: dict[str, Any]
    info: dict[str, Any] | None
    created_at: datetime


def store_cluster(cur, structure: Atoms | Cluster, key: str | None = None) -> str:
    """Insert a cluster row inside an open write session; idempotent.

    A row first stored from bare atoms gets its shape and info filled in when
    the same atoms later arrive as a :class:`Cluster`.
    """
    atoms = _atoms_of(structure)
    key = cluster_hash(atoms) if key is None else key
    info = _info_of(structure)
    row = cur.execute("SELECT shape IS NOT NULL FROM clusters WHERE hash = ?", [key]).fetchone()
    if row is None:
        symbols = atoms.get_chemical_symbols()
        cur.execute(
            "INSERT INTO clusters (hash, n_atoms, elements, symbols, positions_angstrom, shape, parameters_json, "
            "info_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [key, len(atoms), ",".join(sorted(set(symbols))), symbols,
             np.asarray(atoms.positions, dtype=np.float64).ravel().tolist(),
             None if info is None else info.shape,
             None if info is None else to_json(dict(info.parameters), "cluster parameters"),
             None if info is None else to_json(info.to_dict(), "cluster info"), utc_now()],
        )
    elif not row[0] and info is not None:
        cur.execute(
            "UPDATE clusters SET shape = ?, parameters_json = ?, info_json = ? WHERE hash = ?",
            [info.shape, to_json(dict(info.parameters), "cluster parameters"),
             to_json(info.to_dict(), "cluster info"), key],
        )
    return key


class ClustersMixin:
    """Cluster methods of :class:`~swaxs_lib.store.Store`."""

    def add_cluster(self, cluster: Cluster | Atoms) -> str:
        """Store a cluster (idempotent) and return its :func:`cluster_hash`.

        Parameters
        ----------
        cluster : Cluster or ase.Atoms
            A built cluster (shape, parameters and size are kept) or bare atoms.

        Returns
        -------
        str
        """
        key = cluster_hash(cluster)
        with self.session(write=True) as cur:
            store_cluster(cur, cluster, key)
        return key

    def get_cluster(self, key: str) -> ClusterRecord:
        """The stored cluster with this hash.

        Raises
        ------
        SwaxsInputError
            No cluster has this hash.
        """
        with self.session() as cur:
            row = cur.execute(
                "SELECT hash, symbols, positions_angstrom, n_atoms, elements, shape, parameters_json, info_json, "
                "created_at FROM clusters WHERE hash = ?", [str(key)],
            ).fetchone()
        if row is None:
            raise SwaxsInputError(f"cluster hash {key!r}: no such cluster in {self.path}")
        positions = np.array(row[2], dtype=np.float64).reshape(-1, 3)
        return ClusterRecord(
            hash=row[0], atoms=Atoms(symbols=row[1], positions=positions), n_atoms=row[3],
            elements=tuple(row[4].split(",")), shape=row[5],
            parameters={} if row[6] is None else json.loads(row[6]),
            info=None if row[7] is None else json.loads(row[7]), created_at=as_utc(row[8]),
        )


__all__ = ["POSITION_RESOLUTION_ANGSTROM", "ClusterRecord", "ClustersMixin", "cluster_hash", "store_cluster"]
