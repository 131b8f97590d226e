"""NXcanSAS (HDF5) reduced SAS data through h5py.

The layout read (NXcanSAS, https://manual.nexusformat.org/classes/applications/NXcanSAS.html):
a group with ``canSAS_class = "SASentry"`` (an NXentry) holding a group with
``canSAS_class = "SASdata"`` (an NXdata).  That group's ``signal`` attribute names the
intensity dataset (default ``I``) and ``I_axes`` the abscissa (default ``Q``); ``Q`` carries a
``units`` attribute (``1/A`` or ``1/nm``).  The uncertainty of ``I`` is the dataset named by
``I``'s ``uncertainties`` attribute, else ``Idev`` when present; ``Qdev``/``dQ`` (resolution)
is noted in the metadata, not read as an uncertainty.  Several entries or data groups: the
one the ``default`` attribute names, else the first by name (with a warning).

Links to other files, external storage and virtual datasets are refused: an uploaded file
must not make the server read other files.

The HDF5 library runs in a child Python process with a time limit (:data:`HDF5_TIMEOUT_S`)
and a memory limit: corrupt files can make it loop for ever (a vlen-string attribute whose
heap entry is damaged does) or crash, and neither may take the caller down.  This costs
about 0.2 s per file.  Where no child process can be started, the file is read in this
process.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.raw import RawCurve
from swaxs_lib.io.units import parse_label

#: The 8-byte HDF5 signature; it sits at offset 0 or after a user block of 512·2^k bytes.
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

#: Largest dataset read (points); a corrupt header can claim any shape.
MAX_POINTS = 10_000_000

#: Seconds the HDF5 reader may run before the file is declared unreadable.
HDF5_TIMEOUT_S = 10.0

#: Address-space limit of the reading process (bytes), where the platform allows one.
CHILD_MEMORY_BYTES = 4 * 1024**3

# The child gets the file on stdin and answers on stdout as an .npz archive read with
# allow_pickle=False: arrays plus one JSON string, so nothing it sends can run code here.
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_CHILD_CODE = "import sys; sys.path.insert(0, {root!r}); from swaxs_lib.io.nxcansas import _child_main; _child_main()"


def is_hdf5(data: bytes) -> bool:
    """Whether ``data`` starts like an HDF5 file (signature at 0, 512, 1024, ...).

    Examples
    --------
    >>> is_hdf5(b"\\x89HDF\\r\\n\\x1a\\n" + bytes(8)), is_hdf5(b"0 1\\n")
    (True, False)
    """
    offset = 0
    while offset + len(HDF5_SIGNATURE) <= len(data):
        if data[offset : offset + len(HDF5_SIGNATURE)] == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False


def read_nxcansas(data: bytes, filename: str) -> RawCurve:
    """Read the 1-D SASdata of an NXcanSAS file.

    Parameters
    ----------
    data : bytes
        The file content.
    filename : str
        For messages.

    Returns
    -------
    RawCurve
        Q as stored, with its ``units`` attribute as the unit statement.

    Raises
    ------
    SwaxsInputError
        Not HDF5, corrupt, no SASentry/SASdata, missing or non-numeric datasets, shapes
        that differ, 2-D data, unsupported Q units, links to other files.
    """
    if not is_hdf5(data):
        raise SwaxsInputError(
            f"{filename}: no HDF5 signature; expected an NXcanSAS HDF5 file (.h5, .nxs)"
        )
    try:
        completed = subprocess.run(
            [sys.executable, "-P", "-c", _CHILD_CODE.format(root=str(_PACKAGE_ROOT))],
            input=_pack_request(data, filename),
            capture_output=True,
            timeout=HDF5_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SwaxsInputError(
            f"{filename}: the HDF5 library did not finish reading in {HDF5_TIMEOUT_S:g} s "
            "(a corrupt file?); expected a readable NXcanSAS file"
        ) from None
    except OSError:  # no child process possible here: read in this process
        return _read_in_process(data, filename)
    try:
        status, message, raw, caught = _unpack_reply(completed.stdout)
    except Exception:  # noqa: BLE001 - no usable answer (np.load, zipfile, json all fail differently)
        last = completed.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise SwaxsInputError(
            f"{filename}: the HDF5 reader stopped without an answer (exit code {completed.returncode}"
            f"{': ' + last[0][:200] if last[0] else ''}; the HDF5 library crashed on this file?); "
            "expected a readable NXcanSAS file"
        ) from None
    for text in caught:
        warnings.warn(text, stacklevel=3)
    if status != "ok":
        raise SwaxsInputError(message)
    return raw


def _pack_request(data: bytes, filename: str) -> bytes:
    name = filename.encode("utf-8", "replace")
    return len(name).to_bytes(4, "little") + name + data


def _unpack_reply(stdout: bytes):
    with np.load(io.BytesIO(stdout), allow_pickle=False) as archive:
        info = json.loads(str(archive["info"]))
        if info["status"] != "ok":
            return info["status"], info["message"], None, info["warnings"]
        raw = RawCurve(
            x=archive["x"],
            y=archive["y"],
            dy=archive["dy"] if "dy" in archive.files else None,
            dx=archive["dx"] if "dx" in archive.files else None,
            point_origin=info["point_origin"],
            header=tuple(info["header"]),
            x_label=info["x_label"],
            x_quantity=info["x_quantity"],
            unit_statements=[tuple(s) for s in info["unit_statements"]],
            wavelengths=[tuple(w) for w in info["wavelengths"]],
            metadata=[tuple(m) for m in info["metadata"]],
            x_unsupported=None if info["x_unsupported"] is None else tuple(info["x_unsupported"]),
        )
        return "ok", "", raw, info["warnings"]


def _child_main() -> None:
    """Child-process entry: request on stdin, reply (.npz) on stdout."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > CHILD_MEMORY_BYTES:
            resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, hard))
    except (ImportError, ValueError, OSError):
        pass
    request = sys.stdin.buffer.read()
    size = int.from_bytes(request[:4], "little")
    filename = request[4 : 4 + size].decode("utf-8", "replace")
    data = request[4 + size :]
    arrays: dict[str, np.ndarray] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw = _read_in_process(data, filename)
            arrays = {"x": raw.x, "y": raw.y} | ({} if raw.dy is None else {"dy": raw.dy})
            arrays |= {} if raw.dx is None else {"dx": raw.dx}
            info = {
                "status": "ok",
                "point_origin": raw.point_origin,
                "header": list(raw.header),
                "x_label": raw.x_label,
                "x_quantity": raw.x_quantity,
                "unit_statements": raw.unit_statements,
                "wavelengths": raw.wavelengths,
                "metadata": raw.metadata,
                "x_unsupported": raw.x_unsupported,
            }
        except SwaxsInputError as exc:
            info = {"status": "error", "message": str(exc)}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as an input error
            info = {
                "status": "error",
                "message": f"{filename}: unreadable HDF5 ({type(exc).__name__}); expected an NXcanSAS file",
            }
    info["warnings"] = [str(w.message) for w in caught]
    out = io.BytesIO()
    np.savez(out, info=np.array(json.dumps(info)), **arrays)
    sys.stdout.buffer.write(out.getvalue())
    sys.stdout.buffer.flush()


def _read_in_process(data: bytes, filename: str) -> RawCurve:
    import h5py

    try:
        with h5py.File(io.BytesIO(data), "r") as handle:
            return _read_open(handle, filename, h5py)
    except SwaxsInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py raises OSError, KeyError, ValueError, ... on corrupt files
        raise SwaxsInputError(
            f"{filename}: unreadable HDF5 ({type(exc).__name__}: {str(exc)[:200]}); "
            "expected an NXcanSAS file with an SASentry/SASdata group"
        ) from exc


def _text(value) -> str:
    if isinstance(value, np.ndarray):
        return ",".join(_text(v) for v in value.flat)
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _attr(obj, key: str) -> str | None:
    if key not in obj.attrs:
        return None
    return _text(obj.attrs[key]).strip()


def _children(parent, h5py) -> dict:
    """Sub-groups and datasets stored in this file (soft links followed, external links refused)."""
    out = {}
    for name in sorted(parent.keys()):
        link = parent.get(name, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            continue
        try:
            obj = parent.get(name)
        except (KeyError, OSError, ValueError):  # dangling soft link
            continue
        if obj is not None:
            out[name] = obj
    return out


def _pick(parent, canSAS_class: str, nx_class: str, filename: str, h5py):
    groups = {n: o for n, o in _children(parent, h5py).items() if isinstance(o, h5py.Group)}
    found = [n for n, o in groups.items() if _attr(o, "canSAS_class") == canSAS_class]
    if not found:
        found = [n for n, o in groups.items() if _attr(o, "NX_class") == nx_class]
    if not found:
        return None
    default = _attr(parent, "default")
    if default in found:
        return groups[default]
    if len(found) > 1:
        warnings.warn(
            f"{filename}: {len(found)} {canSAS_class} groups in {parent.name} and no 'default' attribute; "
            f"reading {found[0]!r}",
            stacklevel=4,
        )
    return groups[found[0]]


def _vector(group, name: str, filename: str, h5py) -> np.ndarray:
    path = f"{group.name}/{name}"
    if name not in _children(group, h5py):
        raise SwaxsInputError(f"{filename}: no dataset {path}; expected it (named by the signal/I_axes attributes)")
    ds = group[name]
    if not isinstance(ds, h5py.Dataset):
        raise SwaxsInputError(f"{filename}: {path} is a group; expected a dataset of numbers")
    if ds.is_virtual or ds.external:
        raise SwaxsInputError(f"{filename}: {path} stores its data in other files; expected data inside this file")
    if ds.dtype.kind not in "fiu":
        raise SwaxsInputError(f"{filename}: {path} has type {ds.dtype}; expected numbers")
    if len(ds.shape) != 1:
        raise SwaxsInputError(f"{filename}: {path} has shape {ds.shape}; expected 1-D data")
    if ds.size > MAX_POINTS:
        raise SwaxsInputError(f"{filename}: {path} has {ds.size} points; expected at most {MAX_POINTS}")
    return np.asarray(ds[()], dtype=float)


def _wavelength(entry, filename: str, h5py) -> list[tuple[float, str, str]]:
    scale = {"a": 1.0, "å": 1.0, "angstrom": 1.0, "angstroms": 1.0, "nm": 10.0, "m": 1e10, "": 1.0}
    for instrument in _children(entry, h5py).values():
        if not isinstance(instrument, h5py.Group) or _attr(instrument, "canSAS_class") != "SASinstrument":
            continue
        for source in _children(instrument, h5py).values():
            if not isinstance(source, h5py.Group) or _attr(source, "canSAS_class") != "SASsource":
                continue
            for name in ("incident_wavelength", "wavelength"):
                ds = _children(source, h5py).get(name)
                if isinstance(ds, h5py.Dataset) and ds.dtype.kind in "fiu" and ds.size == 1:
                    unit = (_attr(ds, "units") or "").lower()
                    if unit in scale:
                        value = float(np.asarray(ds[()]).reshape(-1)[0]) * scale[unit]
                        return [(value, ds.name, f"{name} {value:g} Å")]
    return []


def _read_open(handle, filename: str, h5py) -> RawCurve:
    entry = _pick(handle, "SASentry", "NXentry", filename, h5py)
    if entry is None:
        raise SwaxsInputError(
            f"{filename}: no group with canSAS_class='SASentry' (or NX_class='NXentry'); expected an NXcanSAS file"
        )
    data_group = _pick(entry, "SASdata", "NXdata", filename, h5py)
    if data_group is None:
        raise SwaxsInputError(
            f"{filename}: no group with canSAS_class='SASdata' in {entry.name}; expected an NXcanSAS SASdata group"
        )
    signal = _attr(data_group, "signal") or "I"
    axes = _attr(data_group, "I_axes") or _attr(data_group, "axes") or "Q"
    axis_names = [a.strip() for a in axes.replace(" ", ",").split(",") if a.strip()]
    if len(axis_names) != 1:
        raise SwaxsInputError(
            f"{filename}: {data_group.name} has I_axes {axes!r}; expected one axis (1-D I(Q))"
        )
    axis = axis_names[0]
    intensity = _vector(data_group, signal, filename, h5py)
    q = _vector(data_group, axis, filename, h5py)
    if q.shape != intensity.shape:
        raise SwaxsInputError(
            f"{filename}: {data_group.name}/{axis} has {q.size} points and {signal} {intensity.size}; "
            "expected the same number"
        )
    i_ds = data_group[signal]
    uncertainty_name = _attr(i_ds, "uncertainties") or _attr(i_ds, "uncertainty")
    if not uncertainty_name and "Idev" in _children(data_group, h5py):
        uncertainty_name = "Idev"
    dy = None
    metadata = [("format", "NXcanSAS"), ("nxcansas_data", data_group.name)]
    if uncertainty_name:
        dy = _vector(data_group, uncertainty_name, filename, h5py)
        if dy.shape != intensity.shape:
            raise SwaxsInputError(
                f"{filename}: {data_group.name}/{uncertainty_name} has {dy.size} points and {signal} "
                f"{intensity.size}; expected the same number"
            )
        metadata.append(("uncertainty_column", uncertainty_name))
    q_ds = data_group[axis]
    resolutions = _attr(q_ds, "resolutions")
    dx = None
    if resolutions:
        names = [n.strip() for n in resolutions.replace(" ", ",").split(",") if n.strip()]
        # one resolution dataset of Q's shape (Qdev, dQ) is the 1-σ Gaussian width: kept;
        # slit widths (dQw, dQl) are dropped
        if len(names) == 1 and names[0] not in ("dQw", "dQl") and names[0] in _children(data_group, h5py):
            candidate = _vector(data_group, names[0], filename, h5py)
            if candidate.shape == q.shape and np.all(np.isfinite(candidate)):
                dx = candidate
        if dx is None:
            metadata.append(("dropped_columns", f"{resolutions} (Q resolution, not an uncertainty of I)"))
        else:
            metadata.append(("resolution_column", names[0]))

    units = _attr(q_ds, "units")
    statements = []
    unsupported = None
    where = f"{q_ds.name}@units"
    if units:
        parsed = parse_label(units, bare_unit=True)
        if parsed.unsupported or not parsed.units:
            unsupported = (where, f"Q units {units!r}")
        statements = [(u, where, units) for u in parsed.units]

    title = _children(entry, h5py).get("title")
    header: tuple[str, ...] = ()
    if isinstance(title, h5py.Dataset) and title.size == 1 and title.dtype.kind in "SUO":
        text = _text(title[()])[:500]
        header = (f"title: {text}",)
        metadata.append(("title", text))
    return RawCurve(
        x=q,
        y=intensity,
        dy=dy,
        point_origin=f"{q_ds.name}",
        header=header,
        x_label=f"{axis} ({units})" if units else axis,
        x_quantity="q",
        unit_statements=statements,
        wavelengths=_wavelength(entry, filename, h5py),
        metadata=metadata,
        x_unsupported=unsupported,
        dx=dx,
    )
