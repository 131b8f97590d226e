"""The store's tables, as an ordered list of migrations.

Migration *k* (1-based) takes a store from version k - 1 to k; version 0 is
an empty file.  :func:`migrate` applies the missing ones inside the caller's
transaction (the store opens one write session for it), so a store is either
fully upgraded or left as it was, and records each in ``schema_version``.
A migration, once released, is never edited: changes go in a new one.

Conventions: ids are URL-safe random tokens, hashes are lowercase sha256 hex,
times are ``TIMESTAMP`` in UTC, free-form mappings are JSON text
(``*_json``), and arrays of a measured curve are ``DOUBLE[]`` (queryable in
SQL, exact for float64).  Cached curves keep their arrays as one BLOB, bit
for bit.  Large BLOBs are stored uncompressed: DuckDB's default (zstd) makes
fetching one row decompress every row before it in its vector (2,048 rows),
which made a cache hit in a 1,000-curve store take 30 ms instead of 1 ms.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import duckdb

from swaxs_lib.errors import SwaxsInputError

_V1 = [
    """CREATE TABLE datasets (
        id VARCHAR PRIMARY KEY,            -- URL-safe random token
        name VARCHAR NOT NULL,
        filename VARCHAR NOT NULL,         -- as uploaded
        raw_bytes BLOB USING COMPRESSION uncompressed NOT NULL,  -- the file, verbatim: re-parsing stays possible
        raw_sha256 VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,             -- iq, sq, fq, gr
        x_unit VARCHAR NOT NULL,           -- the file's abscissa unit
        source VARCHAR NOT NULL,
        wavelength_angstrom DOUBLE,
        x DOUBLE[] NOT NULL,               -- Q (1/Å) or r (Å)
        "values" DOUBLE[] NOT NULL,
        uncertainties DOUBLE[],
        header_json VARCHAR NOT NULL,      -- list of header lines
        metadata_json VARCHAR NOT NULL,    -- list of [key, value] pairs
        created_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE clusters (
        hash VARCHAR PRIMARY KEY,          -- see swaxs_lib.store.clusters.cluster_hash
        n_atoms INTEGER NOT NULL,
        elements VARCHAR NOT NULL,         -- distinct symbols, sorted, comma-separated
        symbols VARCHAR[] NOT NULL,
        positions_angstrom DOUBLE[] NOT NULL,  -- (n_atoms, 3) flattened, as given
        shape VARCHAR,                     -- NULL when only atoms were seen
        parameters_json VARCHAR,
        info_json VARCHAR,
        created_at TIMESTAMP NOT NULL
    )""",
]

_V2 = [
    """CREATE TABLE curves (
        key VARCHAR PRIMARY KEY,           -- sha256 over every input, see swaxs_lib.store.curves.curve_key
        cluster_hash VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,             -- iq (DebyeCurve) or gr (PDFCurve)
        grid_sha256 VARCHAR NOT NULL,
        n_points INTEGER NOT NULL,
        params_json VARCHAR NOT NULL,
        form_factor_source VARCHAR NOT NULL,
        kernel_version VARCHAR NOT NULL,
        fields_json VARCHAR NOT NULL,      -- scalar fields and the layout of `arrays`
        arrays BLOB USING COMPRESSION uncompressed NOT NULL,  -- the result's arrays, concatenated, little-endian
        compute_s DOUBLE,
        swaxs_version VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    )""",
]

_V3 = [
    """CREATE TABLE results (
        id VARCHAR PRIMARY KEY,            -- URL-safe random token
        kind VARCHAR NOT NULL,             -- fit, sweep, job
        status VARCHAR NOT NULL,           -- queued, running, done, failed, cancelled
        dataset_id VARCHAR,
        cluster_hash VARCHAR,
        params_json VARCHAR NOT NULL,
        result_json VARCHAR,
        message VARCHAR,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL
    )""",
]


def _statements(sql: list[str]) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def apply(cur: duckdb.DuckDBPyConnection) -> None:
        for statement in sql:
            cur.execute(statement)

    return apply


_V4 = [
    # a result computed from exactly these inputs (dataset, cluster, settings, code version) is reused
    "ALTER TABLE results ADD COLUMN cache_key VARCHAR",
    "CREATE INDEX results_cache_key ON results (cache_key)",
]

_V5 = [
    """CREATE TABLE blobs (
        key VARCHAR PRIMARY KEY,           -- e.g. relax/<job id>/frame/00012
        data BLOB NOT NULL,
        created_at TIMESTAMP NOT NULL
    )""",
]

_V6 = [
    """CREATE TABLE ml_builds (
        name VARCHAR PRIMARY KEY,          -- a simulated database's name, e.g. default
        spec_json VARCHAR NOT NULL,        -- the BuildSpec it was made with (seed included)
        q_grid BLOB NOT NULL,              -- float64 little-endian, 1/Å
        r_grid BLOB NOT NULL,              -- float64 little-endian, Å
        created_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE ml_batches (
        build VARCHAR NOT NULL,
        batch_key VARCHAR NOT NULL,        -- split/family/chunk
        split VARCHAR NOT NULL,
        n_samples INTEGER NOT NULL,
        n_curves INTEGER NOT NULL,         -- Debye and G(r) evaluations it took
        compute_s DOUBLE NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (build, batch_key)
    )""",
    """CREATE TABLE ml_samples (
        build VARCHAR NOT NULL,
        batch_key VARCHAR NOT NULL,
        idx INTEGER NOT NULL,
        split VARCHAR NOT NULL,            -- train, test-mono, test-poly20, library
        shape_class VARCHAR NOT NULL,      -- swaxs_lib.ml.catalog.SHAPE_CLASSES
        shape VARCHAR NOT NULL,            -- the cluster command's shape name
        family VARCHAR NOT NULL,
        rung INTEGER NOT NULL,             -- centre rung of the family's ladder
        element VARCHAR NOT NULL,
        diameter_angstrom DOUBLE NOT NULL, -- number-weighted mean over the mix
        n_atoms DOUBLE NOT NULL,           -- number-weighted mean over the mix
        shell_step_angstrom DOUBLE NOT NULL,  -- the ladder's diameter step at the centre rung
        parameters_json VARCHAR NOT NULL,  -- builder parameters of the centre rung (template element)
        variant_json VARCHAR NOT NULL,     -- swaxs_lib.ml.simulate.Variant
        weights_json VARCHAR NOT NULL,     -- rung -> number fraction
        seed_json VARCHAR NOT NULL,        -- the numpy SeedSequence entropy of this sample
        iq BLOB USING COMPRESSION uncompressed NOT NULL,  -- float32 little-endian on q_grid
        gr BLOB USING COMPRESSION uncompressed NOT NULL,  -- float32 little-endian on r_grid
        PRIMARY KEY (build, batch_key, idx)
    )""",
]

_V7 = [
    # the Q resolution (1-σ dQ, 1/Å) of a SAS curve; NULL for rows stored before and for curves without one
    "ALTER TABLE datasets ADD COLUMN x_resolution DOUBLE[]",
]

_V8 = [
    # who stored it ('' = nobody in particular: rows from before, the command line, a server with no logins) and
    # who may see it: private (its owner), link (whoever has its id), group (every user of the server)
    "ALTER TABLE datasets ADD COLUMN owner VARCHAR DEFAULT ''",
    "ALTER TABLE datasets ADD COLUMN visibility VARCHAR DEFAULT 'group'",
    "ALTER TABLE results ADD COLUMN owner VARCHAR DEFAULT ''",
    """CREATE TABLE users (
        name VARCHAR PRIMARY KEY,          -- the built-in login's user name
        password_scrypt VARCHAR NOT NULL,  -- scrypt$n$r$p$salt_hex$hash_hex, see swaxs_lib.access
        admin BOOLEAN NOT NULL,
        created_at TIMESTAMP NOT NULL
    )""",
]

#: (description, function) per version, in order; version k is ``MIGRATIONS[k - 1]``.
MIGRATIONS: tuple[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]], ...] = (
    ("uploaded datasets and clusters", _statements(_V1)),
    ("simulated curve cache", _statements(_V2)),
    ("fit, sweep and job results", _statements(_V3)),
    ("results reusable by a key of their inputs", _statements(_V4)),
    ("opaque blobs (trajectory frames)", _statements(_V5)),
    ("simulated training database", _statements(_V6)),
    ("Q resolution of a dataset", _statements(_V7)),
    ("owners, sharing and the built-in login's users", _statements(_V8)),
)

#: The version this code reads and writes.
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(cur: duckdb.DuckDBPyConnection, *, where: str = "store") -> int:
    """The version of the open database: 0 if it has no tables at all.

    Raises
    ------
    SwaxsInputError
        Tables exist but no ``schema_version``: not a swaxs store.
    """
    tables = {r[0] for r in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()}
    if "schema_version" not in tables:
        if tables:
            raise SwaxsInputError(
                f"{where}: a DuckDB file with tables {', '.join(sorted(tables))} but no schema_version; "
                "expected a swaxs store (or an empty file)"
            )
        return 0
    return int(cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])


def migrate(cur: duckdb.DuckDBPyConnection, *, target: int | None = None, where: str = "store") -> int:
    """Apply the missing migrations up to ``target`` in the caller's transaction.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        A connection whose current catalog is the store, inside a transaction.
    target : int, optional
        Version to reach; :data:`SCHEMA_VERSION` by default.
    where : str
        The file's path, for messages.

    Returns
    -------
    int
        The version reached.

    Raises
    ------
    SwaxsInputError
        The file is newer than this code, or not a swaxs store.
    """
    target = SCHEMA_VERSION if target is None else int(target)
    if not 0 <= target <= SCHEMA_VERSION:
        raise SwaxsInputError(f"target: got {target}; expected 0 to {SCHEMA_VERSION}")
    version = current_version(cur, where=where)
    if version > SCHEMA_VERSION:
        raise SwaxsInputError(
            f"{where}: schema version {version} was written by a newer swaxs; this one reads up to "
            f"{SCHEMA_VERSION} (upgrade swaxs)"
        )
    if version == 0 and target > 0:
        cur.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, "
            "applied_at TIMESTAMP NOT NULL)"
        )
    for k in range(version + 1, target + 1):
        description, apply = MIGRATIONS[k - 1]
        apply(cur)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        cur.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [k, description, now])
    return max(version, target)


__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "current_version", "migrate"]
