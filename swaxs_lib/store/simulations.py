"""The simulated training database: builds, their finished batches and their samples.

A build (``ml_builds``) is a named database with the spec it was made with;
a batch (``ml_batches``) is written in one transaction together with its
samples (``ml_samples``), so an interrupted build keeps every finished batch
and redoes none of them.  Curves are float32 (the noise is far above its
7-digit precision); grids are float64.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.store._common import utc_now

#: The label columns of a sample, in order (the rest are the two curves).
LABEL_COLUMNS: tuple[str, ...] = (
    "split", "shape_class", "shape", "family", "rung", "element", "diameter_angstrom", "n_atoms",
    "shell_step_angstrom", "parameters_json", "variant_json", "weights_json", "seed_json",
)


@dataclass(frozen=True)
class SampleTable:
    """Samples of one build: labels column by column and the curves as matrices.

    Attributes
    ----------
    labels : dict of str to numpy.ndarray
        One array per :data:`LABEL_COLUMNS` entry (plus ``batch_key``, ``idx``).
    iq : numpy.ndarray (n, n_q), float32
        I(Q) on ``q_inv_angstrom``.
    gr : numpy.ndarray (n, n_r), float32
        G(r) on ``r_angstrom``.
    q_inv_angstrom, r_angstrom : numpy.ndarray
    """

    labels: dict[str, np.ndarray]
    iq: np.ndarray
    gr: np.ndarray
    q_inv_angstrom: np.ndarray
    r_angstrom: np.ndarray

    def __len__(self) -> int:
        return len(self.iq)


class SimulationsMixin:
    """Simulated-database methods of :class:`~swaxs_lib.store.Store`."""

    def open_build(self, name: str, spec: dict[str, Any], q_grid: np.ndarray, r_grid: np.ndarray) -> None:
        """Record build ``name`` with ``spec``, or check an existing one has the same spec and grids.

        Raises
        ------
        SwaxsInputError
            ``name`` exists with another spec (a rebuild needs a new name or ``delete_build``).
        """
        spec_json = json.dumps(spec, sort_keys=True)
        q_bytes = np.asarray(q_grid, "<f8").tobytes()
        r_bytes = np.asarray(r_grid, "<f8").tobytes()
        with self.session(write=True) as cur:
            row = cur.execute("SELECT spec_json, q_grid, r_grid FROM ml_builds WHERE name = ?", [name]).fetchone()
            if row is None:
                cur.execute("INSERT INTO ml_builds VALUES (?, ?, ?, ?, ?)", [name, spec_json, q_bytes, r_bytes, utc_now()])
            elif row[0] != spec_json or bytes(row[1]) != q_bytes or bytes(row[2]) != r_bytes:
                raise SwaxsInputError(
                    f"database {name!r}: already built with other settings ({row[0]}); expected the same "
                    f"settings to resume it, or another name (or delete it first)"
                )

    def build_spec(self, name: str) -> dict[str, Any] | None:
        """The spec build ``name`` was made with, or None."""
        with self.session() as cur:
            row = cur.execute("SELECT spec_json FROM ml_builds WHERE name = ?", [name]).fetchone()
        return None if row is None else json.loads(row[0])

    def list_builds(self) -> list[dict[str, Any]]:
        """Every build: name, spec, batches done, samples per split, curves computed, compute seconds."""
        with self.session() as cur:
            builds = cur.execute("SELECT name, spec_json, created_at FROM ml_builds ORDER BY created_at").fetchall()
            stats = cur.execute(
                "SELECT build, split, count(*), sum(n_samples), sum(n_curves), sum(compute_s) FROM ml_batches "
                "GROUP BY build, split"
            ).fetchall()
        out = []
        for name, spec_json, created in builds:
            rows = [s for s in stats if s[0] == name]
            out.append({
                "name": name, "spec": json.loads(spec_json), "created_at": created.isoformat(),
                "batches": int(sum(r[2] for r in rows)),
                "samples": {r[1]: int(r[3]) for r in rows},
                "curves": int(sum(r[4] for r in rows)),
                "compute_s": float(sum(r[5] for r in rows)),
            })
        return out

    def done_batches(self, name: str) -> set[str]:
        """Keys of the batches of build ``name`` already stored."""
        with self.session() as cur:
            rows = cur.execute("SELECT batch_key FROM ml_batches WHERE build = ?", [name]).fetchall()
        return {r[0] for r in rows}

    def put_batch(self, name: str, batch_key: str, split: str, samples: Sequence[dict[str, Any]],
                  n_curves: int, compute_s: float) -> None:
        """Store one finished batch and its samples in one transaction (a batch stored before is kept)."""
        rows = [
            [name, batch_key, i, *[s[c] for c in LABEL_COLUMNS],
             np.asarray(s["iq"], "<f4").tobytes(), np.asarray(s["gr"], "<f4").tobytes()]
            for i, s in enumerate(samples)
        ]
        with self.session(write=True) as cur:
            if cur.execute("SELECT 1 FROM ml_batches WHERE build = ? AND batch_key = ?", [name, batch_key]).fetchone():
                return
            if rows:
                marks = ", ".join("?" * (len(LABEL_COLUMNS) + 5))
                cur.executemany(f"INSERT INTO ml_samples VALUES ({marks})", rows)
            cur.execute("INSERT INTO ml_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [name, batch_key, split, len(rows), int(n_curves), float(compute_s), utc_now()])

    def load_samples(self, name: str, splits: Sequence[str] | None = None) -> SampleTable:
        """The samples of build ``name`` (optionally only ``splits``), in a stable order.

        Raises
        ------
        SwaxsInputError
            No such build.
        """
        columns = ", ".join(("batch_key", "idx", *LABEL_COLUMNS, "iq", "gr"))
        where, args = "build = ?", [name]
        if splits is not None:
            where += f" AND split IN ({', '.join('?' * len(splits))})"
            args += list(splits)
        with self.session() as cur:
            grids = cur.execute("SELECT q_grid, r_grid FROM ml_builds WHERE name = ?", [name]).fetchone()
            if grids is None:
                raise SwaxsInputError(f"database {name!r}: not built; expected one of "
                                      f"{[b['name'] for b in self.list_builds()] or 'none yet (run build-db)'}")
            rows = cur.execute(f"SELECT {columns} FROM ml_samples WHERE {where} ORDER BY batch_key, idx", args).fetchall()
        q = np.frombuffer(bytes(grids[0]), "<f8")
        r = np.frombuffer(bytes(grids[1]), "<f8")
        names = ("batch_key", "idx", *LABEL_COLUMNS)
        labels = {n: np.array([row[k] for row in rows]) for k, n in enumerate(names)}
        iq = np.array([np.frombuffer(bytes(row[-2]), "<f4") for row in rows]).reshape(len(rows), len(q))
        gr = np.array([np.frombuffer(bytes(row[-1]), "<f4") for row in rows]).reshape(len(rows), len(r))
        return SampleTable(labels, iq, gr, q, r)

    def delete_build(self, name: str) -> int:
        """Delete build ``name`` and its samples; how many samples went."""
        with self.session(write=True) as cur:
            n = cur.execute("SELECT count(*) FROM ml_samples WHERE build = ?", [name]).fetchone()[0]
            for table, column in (("ml_samples", "build"), ("ml_batches", "build"), ("ml_builds", "name")):
                cur.execute(f"DELETE FROM {table} WHERE {column} = ?", [name])
        return int(n)


__all__ = ["LABEL_COLUMNS", "SampleTable", "SimulationsMixin"]
