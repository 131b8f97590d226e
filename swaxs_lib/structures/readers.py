"""Read a cluster from an xyz, extxyz, cif or pdb file through ASE, or a crystal's unit cell from a cif."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures.builders import MAX_ATOMS, Cluster, _finish

#: File suffixes we read, and the ASE format used for each.
FORMATS = {".xyz": "xyz", ".extxyz": "extxyz", ".cif": "cif", ".pdb": "proteindatabank"}

#: Largest structure file accepted (bytes).
MAX_FILE_BYTES = 200 * 1024 * 1024

#: Largest uploaded structure accepted by :func:`read_structure_bytes` (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def read_structure(path: str | os.PathLike, fmt: str | None = None) -> Cluster:
    """Read a finite cluster from ``path``.

    The atoms are centred on their centroid and any cell is dropped: a cif of a
    crystal gives the atoms it lists, treated as a finite cluster (a warning
    says so).  For multi-frame files the last frame is read.

    Parameters
    ----------
    path : str or os.PathLike
        File with suffix .xyz, .extxyz, .cif or .pdb.
    fmt : str, optional
        ASE format name, overriding the suffix.

    Returns
    -------
    Cluster
        ``info.shape`` is ``"file"`` and ``info.parameters`` holds the file name.

    Raises
    ------
    SwaxsInputError
        Missing, empty, oversized or unreadable file, unknown suffix, unknown
        element symbols, or non-finite coordinates.
    """
    p = Path(path)
    if not p.is_file():
        raise SwaxsInputError(f"{p}: no such file; expected a structure file (.xyz, .extxyz, .cif, .pdb)")
    size = p.stat().st_size
    if size == 0:
        raise SwaxsInputError(f"{p}: the file is empty; expected a structure file with atoms")
    if size > MAX_FILE_BYTES:
        raise SwaxsInputError(f"{p}: {size} bytes; expected at most {MAX_FILE_BYTES} bytes")
    if fmt is None:
        fmt = FORMATS.get(p.suffix.lower())
        if fmt is None:
            raise SwaxsInputError(
                f"{p}: unknown suffix {p.suffix!r}; expected one of {', '.join(FORMATS)}"
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            atoms = read(p, index=-1, format=fmt)
    except Exception as exc:  # ASE raises many types for malformed files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SwaxsInputError(f"{p}: could not be read as {fmt} ({detail}); expected a valid {fmt} file") from None
    if not isinstance(atoms, Atoms) or len(atoms) == 0:
        raise SwaxsInputError(f"{p}: no atoms found; expected at least one atom")
    if len(atoms) > MAX_ATOMS:
        raise SwaxsInputError(f"{p}: {len(atoms)} atoms; expected at most {MAX_ATOMS}")
    if np.any(atoms.numbers <= 0):
        raise SwaxsInputError(f"{p}: unknown element symbols; expected chemical symbols such as Au")
    if not np.all(np.isfinite(atoms.positions)):
        raise SwaxsInputError(f"{p}: non-finite coordinates; expected finite x, y, z in Å")
    if atoms.pbc.any():
        warnings.warn(f"{p}: periodic cell dropped; the {len(atoms)} listed atoms are treated as a finite cluster")
    return _finish(Atoms(atoms.get_chemical_symbols(), positions=atoms.positions), "file", {"file": p.name}, None)


def read_structure_bytes(data: bytes, filename: str) -> Cluster:
    """Read a finite cluster from the bytes of an uploaded file.

    The upload is untrusted: only the suffixes of :data:`FORMATS` are read
    (by ASE's text parsers, which never unpickle or evaluate), at most
    :data:`MAX_UPLOAD_BYTES`; the bytes go to a private temporary file that is
    read as :func:`read_structure` reads a path, with the same checks.

    Parameters
    ----------
    data : bytes
        The file's content.
    filename : str
        The name it was uploaded under; only its suffix (the format) and its
        base name (in messages and ``info.parameters``) are used.

    Returns
    -------
    Cluster
        ``info.shape`` is ``"file"``, ``info.parameters`` is ``{"file": name}``.

    Raises
    ------
    SwaxsInputError
        One line naming the file: too large, empty, unknown suffix, or content
        that is not a readable structure.

    Examples
    --------
    >>> read_structure_bytes(b"2\\n\\nAu 0 0 0\\nAu 0 0 2.88\\n", "dimer.xyz").info.n_atoms
    2
    """
    name = Path(str(filename)).name or "upload"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SwaxsInputError(f"{name}: got {type(data).__name__}; expected the file's bytes")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SwaxsInputError(f"{name}: {len(data)} bytes; expected at most {MAX_UPLOAD_BYTES} bytes")
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise SwaxsInputError(f"{name}: unknown suffix {suffix!r}; expected one of {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="swaxs-upload-") as folder:
        path = Path(folder) / f"structure{suffix}"
        path.write_bytes(bytes(data))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                cluster = read_structure(path)
        except SwaxsInputError as exc:
            raise SwaxsInputError(str(exc).replace(str(path), name)) from None
    for w in caught:
        warnings.warn(str(w.message).replace(str(path), name), stacklevel=2)
    info = dataclasses.replace(cluster.info, parameters=(("file", name),))
    return dataclasses.replace(cluster, info=info)


#: Most sites a crystal's unit cell may list (a cif, read by :func:`read_crystal_cell`).
MAX_CELL_ATOMS = 2000
#: Smallest volume per site (Å³) of a unit cell: below any real solid's (diamond 5.7), above unit slips.
MIN_CELL_VOLUME_PER_ATOM = 2.0


def read_crystal_cell(source: str | os.PathLike | bytes, name: str | None = None) -> Atoms:
    """A crystal's unit cell, every site of its space group, from a cif (path or bytes).

    The counterpart of :func:`read_structure` for periodic crystals: the cell
    is kept, the symmetry-equivalent sites are generated (ASE's cif reader),
    and the cell is checked before anyone repeats it: at most
    :data:`MAX_CELL_ATOMS` sites and at least :data:`MIN_CELL_VOLUME_PER_ATOM`
    Å³ per site.

    Parameters
    ----------
    source : path or bytes
        A .cif file, or the bytes of an uploaded one (untrusted: read by ASE's
        text parser, at most :data:`MAX_UPLOAD_BYTES`).
    name : str, optional
        The file's name in messages (bytes only).

    Returns
    -------
    ase.Atoms
        With its cell and ``pbc`` True.

    Raises
    ------
    SwaxsInputError
        One line naming the file: unreadable, no cell, too many sites, too dense.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = Path(str(name or "upload.cif")).name
        if len(source) > MAX_UPLOAD_BYTES:
            raise SwaxsInputError(f"{label}: {len(source)} bytes; expected at most {MAX_UPLOAD_BYTES} bytes")
        with tempfile.TemporaryDirectory(prefix="swaxs-cif-") as folder:
            path = Path(folder) / "crystal.cif"
            path.write_bytes(bytes(source))
            try:
                return read_crystal_cell(path)
            except SwaxsInputError as exc:
                raise SwaxsInputError(str(exc).replace(str(path), label)) from None
    p = Path(source)
    if not p.is_file() or p.stat().st_size == 0:
        raise SwaxsInputError(f"{p}: no such file or empty; expected a crystal structure (.cif)")
    if p.stat().st_size > MAX_UPLOAD_BYTES:
        raise SwaxsInputError(f"{p}: {p.stat().st_size} bytes; expected at most {MAX_UPLOAD_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            atoms = read(p, index=0, format="cif")
    except Exception as exc:  # ASE raises many types for malformed files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SwaxsInputError(f"{p}: could not be read as a cif ({detail}); expected a crystal structure") from None
    if not isinstance(atoms, Atoms) or len(atoms) == 0 or atoms.cell.rank < 3:
        raise SwaxsInputError(f"{p}: no unit cell with atoms; expected a cif with cell lengths, angles and sites")
    if len(atoms) > MAX_CELL_ATOMS:
        raise SwaxsInputError(f"{p}: {len(atoms)} sites in the unit cell; expected at most {MAX_CELL_ATOMS}")
    per_atom = abs(atoms.cell.volume) / len(atoms)
    if not per_atom >= MIN_CELL_VOLUME_PER_ATOM:
        raise SwaxsInputError(f"{p}: {per_atom:.3g} Å³ per site; expected at least {MIN_CELL_VOLUME_PER_ATOM} Å³ "
                              "(cell lengths in Å)")
    if np.any(atoms.numbers <= 0):
        raise SwaxsInputError(f"{p}: unknown element symbols; expected chemical symbols such as Cd")
    atoms.pbc = True
    return atoms
