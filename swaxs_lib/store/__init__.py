"""The store: uploaded datasets, clusters, cached curves and results in one DuckDB file.

The file is ``data/swaxs.duckdb`` under the repository root unless the
``SWAXS_DB`` environment variable or the ``path`` argument (the command
line's ``--db``) names another; it and its folder are created when absent,
and an older file is migrated on open (:mod:`swaxs_lib.store.schema`).

Dashboard sessions (threads) and batch jobs (processes) can use one file at
the same time: each call is a short locked session
(:mod:`swaxs_lib.store.base`), so nobody sees a lock error and no write is
lost.  A :class:`Store` is safe to share between threads, e.g. through
``st.cache_resource``.

>>> import tempfile
>>> import numpy as np
>>> from swaxs_lib.io.measurement import Measurement
>>> store = Store(tempfile.mkdtemp() + "/example.duckdb")
>>> m = Measurement("iq", np.array([0.1, 0.2]), np.array([5.0, 4.0]), None, "au.dat", "inv_angstrom")
>>> record = store.add_dataset("Au run 1", b"0.1 5\\n0.2 4\\n", "au.dat", m)
>>> store.get_dataset(record.id).measurement.values
array([5., 4.])
>>> [d.name for d in store.list_datasets()]
['Au run 1']
"""

from __future__ import annotations

import importlib

from swaxs_lib.store._common import check_id
from swaxs_lib.store.base import ENV_VAR, StoreBase, StoreBusyError, default_db_path
from swaxs_lib.store.blobs import BlobsMixin
from swaxs_lib.store.clusters import (
    POSITION_RESOLUTION_ANGSTROM,
    ClusterRecord,
    ClustersMixin,
    cluster_hash,
)
from swaxs_lib.store.datasets import DatasetRecord, DatasetsMixin, DatasetSummary
from swaxs_lib.store.results import (
    RESULT_KINDS,
    RESULT_STATUSES,
    ResultRecord,
    ResultsMixin,
)
from swaxs_lib.store.schema import MIGRATIONS, SCHEMA_VERSION
from swaxs_lib.store.simulations import SampleTable, SimulationsMixin

# The curve cache needs swaxs_lib.scattering (numba, ~0.8 s to import): loaded
# on first use, so the dataset commands and pages start fast.
_LAZY = {
    **dict.fromkeys(
        ("CURVE_TYPES", "KERNEL_VERSION", "CurveEntry", "curve_key", "load_curves", "save_curve", "save_curves"),
        "swaxs_lib.store.curve_rows",
    ),
    **dict.fromkeys(("cached_curve", "cached_intensity", "cached_pdf"), "swaxs_lib.store.curves"),
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Store(DatasetsMixin, ClustersMixin, ResultsMixin, BlobsMixin, SimulationsMixin, StoreBase):
    """One swaxs store file.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The DuckDB file; ``$SWAXS_DB`` or ``data/swaxs.duckdb`` under the
        repository root by default (:func:`default_db_path`).
    lock_timeout_s : float
        How long one call waits for other sessions before raising
        :class:`StoreBusyError` (s); 60 by default.

    Attributes
    ----------
    path : pathlib.Path
        The file, absolute.
    lock_path : pathlib.Path
        ``<path>.lock``, the inter-process lock file.

    Raises
    ------
    SwaxsInputError
        The file is not a DuckDB database or not a swaxs store, or was
        written by a newer swaxs.

    Notes
    -----
    Datasets: :meth:`add_dataset`, :meth:`get_dataset`, :meth:`list_datasets`,
    :meth:`rename_dataset`, :meth:`delete_dataset`, :meth:`find_identical_dataset`.  Clusters:
    :meth:`add_cluster`, :meth:`get_cluster`.  Results: :meth:`add_result`,
    :meth:`update_result`, :meth:`get_result`, :meth:`list_results`,
    :meth:`delete_result`.  Curves: :func:`cached_intensity`,
    :func:`cached_pdf`, :func:`save_curves` (bulk), :func:`load_curves`.
    Simulated database: :meth:`open_build`, :meth:`put_batch`,
    :meth:`load_samples`, :meth:`list_builds`, :meth:`delete_build`.
    Several calls in one transaction: ``with store.session(write=True):``.
    """


__all__ = [
    "CURVE_TYPES",
    "ENV_VAR",
    "KERNEL_VERSION",
    "MIGRATIONS",
    "POSITION_RESOLUTION_ANGSTROM",
    "RESULT_KINDS",
    "RESULT_STATUSES",
    "SCHEMA_VERSION",
    "ClusterRecord",
    "CurveEntry",
    "DatasetRecord",
    "DatasetSummary",
    "ResultRecord",
    "SampleTable",
    "Store",
    "StoreBusyError",
    "cached_curve",
    "cached_intensity",
    "cached_pdf",
    "check_id",
    "cluster_hash",
    "curve_key",
    "default_db_path",
    "load_curves",
    "save_curve",
    "save_curves",
]
