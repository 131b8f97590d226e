"""Uploaded datasets: the file's bytes, verbatim, beside the parsed curve.

Nothing uploaded is ever lost: ``raw_bytes`` is the file as received, so a
better reader can parse it again later.  The parsed arrays are stored as
``DOUBLE[]``, which holds float64 exactly, and :meth:`DatasetsMixin.get_dataset`
rebuilds the :class:`~swaxs_lib.io.measurement.Measurement` from them.  A
dataset's id is a random URL-safe token (128 bits) that a link can carry to a
collaborator; it cannot be guessed from another id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.store._common import as_utc, check_id, new_id, to_json, utc_now


@dataclass(frozen=True)
class DatasetSummary:
    """One row of :meth:`DatasetsMixin.list_datasets`: everything but the data.

    Attributes
    ----------
    id : str
        The dataset's URL-safe id.
    name : str
        The user's name for it.
    filename : str
        The uploaded file's name.
    kind : str
        ``"iq"``, ``"sq"``, ``"fq"`` or ``"gr"``.
    x_unit : str
        The abscissa's unit in the file.
    n_points : int
    raw_sha256 : str
        sha256 (hex) of the uploaded bytes.
    n_bytes : int
        Size of the uploaded file.
    created_at : datetime.datetime
        Upload time (UTC, aware).
    owner : str
        Who stored it (``""``: nobody in particular; :mod:`swaxs_lib.access`).
    visibility : str
        Who may see it: ``"private"``, ``"link"`` or ``"group"`` (:data:`VISIBILITIES`).
    """

    id: str
    name: str
    filename: str
    kind: str
    x_unit: str
    n_points: int
    raw_sha256: str
    n_bytes: int
    created_at: datetime
    owner: str = ""
    visibility: str = "group"


@dataclass(frozen=True)
class DatasetRecord:
    """A stored dataset: the uploaded bytes and the curve parsed from them.

    Attributes
    ----------
    id, name, filename, raw_sha256, created_at
        As in :class:`DatasetSummary`.
    raw_bytes : bytes
        The uploaded file, verbatim.
    measurement : Measurement
        The parsed curve (x in 1/Å or Å), rebuilt from the stored arrays.
    owner, visibility : str
        As in :class:`DatasetSummary`.
    """

    id: str
    name: str
    filename: str
    raw_sha256: str
    created_at: datetime
    raw_bytes: bytes
    measurement: Measurement
    owner: str = ""
    visibility: str = "group"


#: Who may see a dataset: its owner only; whoever has its id (a link); every user of the server.
VISIBILITIES = ("private", "link", "group")

_SUMMARY_COLUMNS = ("id, name, filename, kind, x_unit, len(x), raw_sha256, octet_length(raw_bytes), created_at, "
                    "coalesce(owner, ''), coalesce(visibility, 'group')")
_N_SUMMARY = 11


def _summary(row) -> DatasetSummary:
    return DatasetSummary(*row[:8], created_at=as_utc(row[8]), owner=row[9], visibility=row[10])


def _check_visibility(visibility) -> str:
    if visibility not in VISIBILITIES:
        raise SwaxsInputError(f"visibility: got {visibility!r}; expected one of {', '.join(VISIBILITIES)}")
    return visibility


def _check_name(name, what: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise SwaxsInputError(f"{what}: got {name!r}; expected a non-empty string")
    return name.strip()


def _float_list(values, what: str, n: int | None) -> list[float]:
    array = np.asarray(values, dtype=np.float64).ravel()
    if n is not None and len(array) != n:
        raise SwaxsInputError(f"measurement.{what}: {len(array)} values; expected {n}, one per x")
    return array.tolist()


class DatasetsMixin:
    """Dataset methods of :class:`~swaxs_lib.store.Store`."""

    def add_dataset(self, name: str, raw_bytes: bytes, filename: str, measurement: Measurement, *,
                    owner: str = "", visibility: str = "group") -> DatasetRecord:
        """Store an uploaded file and the curve a reader parsed from it.

        Parameters
        ----------
        name : str
            The user's name for the dataset (need not be unique).
        raw_bytes : bytes
            The file exactly as uploaded.
        filename : str
            The uploaded file's name.
        measurement : Measurement
            What the reader returned for ``raw_bytes``.
        owner : str
            Who stores it (``""``: nobody in particular).
        visibility : {"group", "link", "private"}
            Who may see it (:mod:`swaxs_lib.access`).

        Returns
        -------
        DatasetRecord
            With a new unguessable ``id``.

        Raises
        ------
        SwaxsInputError
            Empty name or filename, bytes that are not bytes, or arrays of
            different lengths.
        """
        name = _check_name(name)
        filename = _check_name(filename, "filename")
        visibility = _check_visibility(visibility)
        owner = str(owner or "")
        if not isinstance(raw_bytes, (bytes, bytearray, memoryview)):
            raise SwaxsInputError(f"raw_bytes: got {type(raw_bytes).__name__}; expected bytes")
        raw = bytes(raw_bytes)
        if not isinstance(measurement, Measurement):
            raise SwaxsInputError(f"measurement: got {type(measurement).__name__}; expected a Measurement")
        x = _float_list(measurement.x, "x", None)
        values = _float_list(measurement.values, "values", len(x))
        sigma = None if measurement.uncertainties is None else _float_list(measurement.uncertainties, "uncertainties", len(x))
        dx = None if measurement.x_resolution is None else _float_list(measurement.x_resolution, "x_resolution", len(x))
        header = to_json(list(measurement.header), "measurement.header")
        metadata = to_json([list(pair) for pair in measurement.metadata], "measurement.metadata")
        wavelength = None if measurement.wavelength_angstrom is None else float(measurement.wavelength_angstrom)
        dataset_id, sha, now = new_id(), hashlib.sha256(raw).hexdigest(), utc_now()
        with self.session(write=True) as cur:
            cur.execute(
                'INSERT INTO datasets (id, name, filename, raw_bytes, raw_sha256, kind, x_unit, source, '
                'wavelength_angstrom, x, "values", uncertainties, header_json, metadata_json, created_at, '
                "x_resolution, owner, visibility) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [dataset_id, name, filename, raw, sha, measurement.kind, measurement.x_unit, measurement.source,
                 wavelength, x, values, sigma, header, metadata, now, dx, owner, visibility],
            )
        return DatasetRecord(
            id=dataset_id, name=name, filename=filename, raw_sha256=sha, created_at=as_utc(now),
            raw_bytes=raw, measurement=_measurement(measurement.kind, x, values, sigma, measurement.source,
                                                    measurement.x_unit, wavelength, header, metadata, dx),
            owner=owner, visibility=visibility,
        )

    def find_identical_dataset(self, raw_bytes: bytes, measurement: Measurement | None = None) -> DatasetSummary | None:
        """The first stored dataset uploaded from exactly these bytes and, given a measurement, read the same way.

        Uploading a file again should offer the dataset already made from it rather than
        store a second copy.  The bytes are matched by their sha256; with ``measurement``,
        only a dataset whose stored curve is the same reading (kind, x unit, wavelength,
        and every x, value and uncertainty bit for bit) counts, so the same file read with
        another unit or kind is not called identical.

        Parameters
        ----------
        raw_bytes : bytes
            The uploaded file.
        measurement : Measurement, optional
            What a reader made of them.

        Returns
        -------
        DatasetSummary or None
            The oldest such dataset, or None.

        Examples
        --------
        >>> import tempfile
        >>> from swaxs_lib.io import read_measurement_bytes
        >>> from swaxs_lib.store import Store
        >>> store = Store(tempfile.mkdtemp() + "/s.duckdb")
        >>> raw = b"# q_nm^-1 I\\n1 5\\n2 4\\n"
        >>> first = store.add_dataset("run 1", raw, "run1.dat", read_measurement_bytes(raw, "run1.dat"))
        >>> store.find_identical_dataset(raw, read_measurement_bytes(raw, "copy.dat")).id == first.id
        True
        >>> store.find_identical_dataset(raw, read_measurement_bytes(raw, "copy.dat", kind="sq")) is None
        True
        """
        if not isinstance(raw_bytes, (bytes, bytearray, memoryview)):
            raise SwaxsInputError(f"raw_bytes: got {type(raw_bytes).__name__}; expected bytes")
        sha = hashlib.sha256(bytes(raw_bytes)).hexdigest()
        with self.session() as cur:
            rows = cur.execute(
                f'SELECT {_SUMMARY_COLUMNS}, wavelength_angstrom, x, "values", uncertainties FROM datasets '
                "WHERE raw_sha256 = ? ORDER BY created_at, id", [sha],
            ).fetchall()
        for row in rows:
            if measurement is None or _same_reading(row, measurement):
                return _summary(row)
        return None

    def get_dataset(self, dataset_id: str) -> DatasetRecord:
        """The dataset with this id, its measurement rebuilt from the stored arrays.

        Raises
        ------
        SwaxsInputError
            No dataset has this id (the message names it).
        """
        check_id(dataset_id, "dataset")
        with self.session() as cur:
            row = cur.execute(
                'SELECT id, name, filename, raw_sha256, created_at, raw_bytes, kind, x, "values", uncertainties, '
                "source, x_unit, wavelength_angstrom, header_json, metadata_json, x_resolution, "
                "coalesce(owner, ''), coalesce(visibility, 'group') FROM datasets WHERE id = ?",
                [dataset_id],
            ).fetchone()
        if row is None:
            raise SwaxsInputError(f"dataset id {dataset_id!r}: no such dataset in {self.path}")
        return DatasetRecord(
            id=row[0], name=row[1], filename=row[2], raw_sha256=row[3], created_at=as_utc(row[4]),
            raw_bytes=bytes(row[5]), measurement=_measurement(*row[6:16]), owner=row[16], visibility=row[17],
        )

    def list_datasets(self) -> list[DatasetSummary]:
        """Every dataset, newest first (no arrays or bytes loaded)."""
        with self.session() as cur:
            rows = cur.execute(f"SELECT {_SUMMARY_COLUMNS} FROM datasets ORDER BY created_at DESC, id").fetchall()
        return [_summary(r) for r in rows]

    def rename_dataset(self, dataset_id: str, name: str) -> DatasetSummary:
        """Give a dataset a new name; returns its updated summary.

        Raises
        ------
        SwaxsInputError
            Unknown id or an empty name.
        """
        check_id(dataset_id, "dataset")
        name = _check_name(name)
        with self.session(write=True) as cur:
            row = cur.execute(
                f"UPDATE datasets SET name = ? WHERE id = ? RETURNING {_SUMMARY_COLUMNS}", [name, dataset_id]
            ).fetchone()
        if row is None:
            raise SwaxsInputError(f"dataset id {dataset_id!r}: no such dataset in {self.path}")
        return _summary(row)

    def set_dataset_visibility(self, dataset_id: str, visibility: str) -> DatasetSummary:
        """Who may see a dataset from now on (:data:`VISIBILITIES`); returns its updated summary.

        Raises
        ------
        SwaxsInputError
            Unknown id or visibility.
        """
        check_id(dataset_id, "dataset")
        visibility = _check_visibility(visibility)
        with self.session(write=True) as cur:
            row = cur.execute(f"UPDATE datasets SET visibility = ? WHERE id = ? RETURNING {_SUMMARY_COLUMNS}",
                              [visibility, dataset_id]).fetchone()
        if row is None:
            raise SwaxsInputError(f"dataset id {dataset_id!r}: no such dataset in {self.path}")
        return _summary(row)

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset and its bytes.  Results that name it keep the id.

        Raises
        ------
        SwaxsInputError
            Unknown id.
        """
        check_id(dataset_id, "dataset")
        with self.session(write=True) as cur:
            row = cur.execute("DELETE FROM datasets WHERE id = ? RETURNING id", [dataset_id]).fetchone()
        if row is None:
            raise SwaxsInputError(f"dataset id {dataset_id!r}: no such dataset in {self.path}")


def _same_reading(row, m: Measurement) -> bool:
    """Whether a row of ``_SUMMARY_COLUMNS`` + wavelength, x, values, uncertainties holds the curve ``m``."""
    kind, x_unit = row[3], row[4]
    wavelength, x, values, sigma = row[_N_SUMMARY:_N_SUMMARY + 4]
    if (kind, x_unit) != (m.kind, m.x_unit) or (wavelength is None) != (m.wavelength_angstrom is None):
        return False
    if wavelength is not None and wavelength != float(m.wavelength_angstrom):
        return False
    if (sigma is None) != (m.uncertainties is None):
        return False
    pairs = [(x, m.x), (values, m.values)] + ([] if sigma is None else [(sigma, m.uncertainties)])
    return all(np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), equal_nan=True)
               for a, b in pairs)


def _measurement(kind, x, values, sigma, source, x_unit, wavelength, header_json, metadata_json,
                 x_resolution=None) -> Measurement:
    return Measurement(
        kind=kind,
        x=np.array(x, dtype=np.float64),
        values=np.array(values, dtype=np.float64),
        uncertainties=None if sigma is None else np.array(sigma, dtype=np.float64),
        source=source,
        x_unit=x_unit,
        wavelength_angstrom=wavelength,
        header=tuple(json.loads(header_json)),
        metadata=tuple(tuple(pair) for pair in json.loads(metadata_json)),
        x_resolution=None if x_resolution is None else np.array(x_resolution, dtype=np.float64),
    )


__all__ = ["VISIBILITIES", "DatasetRecord", "DatasetSummary", "DatasetsMixin"]
