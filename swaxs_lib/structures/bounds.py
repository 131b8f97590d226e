"""Bounds every structure input meets before work starts (one place per limit; docs/limits.md lists them all).

Three kinds of check, each cheap and each run before the expensive step it guards:

* :func:`precheck_structure_file` reads an xyz/extxyz file's count and comment
  lines (skipping the atom lines unparsed) or counts a pdb's atom records,
  before ASE parses the file: an atom count over
  :data:`~swaxs_lib.structures.builders.MAX_ATOMS` or an extxyz property
  column wider than :data:`MAX_EXTXYZ_COLUMNS` is refused in a fraction of a
  second instead of after minutes of parsing or gigabytes of arrays.
* :func:`check_cell_parameters` checks a cif's cell lengths and angles, read
  from its text before any symmetry is applied.
* :func:`check_geometry` checks parsed coordinates: their extent and the
  shortest interatomic distance (overlapping atoms refused, close ones warned).

The numbers, and why each is where it is
----------------------------------------
``MIN_LATTICE_ANGSTROM`` = 1 Å, ``MAX_LATTICE_ANGSTROM`` = 100 Å
    The shortest cell edge of a real solid is about 2.3 Å (primitive hcp Be,
    a = 2.29 Å); 1 Å is also the lower bound the crystal refinement gives
    ``a``.  A value like 0.408 is a lattice constant in nm, and 0.05 Å made
    pdffit2 sum ~10^10 pairs per evaluation (a job that never ended).  The
    largest cells of the inorganic crystals this app models (complex
    intermetallics such as NaCd2, a = 30.6 Å; zeolites, 20-40 Å) are far below
    100 Å; 408 is the constant in pm.
``MIN_DISTANCE_ANGSTROM`` = 0.5 Å (refused), ``CLOSE_DISTANCE_RATIO`` = 0.7 (warned)
    The shortest chemical bond is H2's 0.74 Å, so two atoms nearer than 0.5 Å
    are one atom listed twice or a wrong coordinate (the Debye sum and the
    relaxation both blow up on them).  Bonds are at least ~0.85 of the sum of
    the two atoms' covalent radii (Cordero et al. 2008, as in
    :data:`ase.data.covalent_radii`); a nearest neighbour below 0.7 of that sum
    (Au-Au below 1.9 Å) is legal but suspicious, and warned.
``MAX_EXTENT_ANGSTROM`` = 2000 Å
    Twice the largest distance of an atom from the centroid (the reach of the
    pair histogram).  A compact cluster of :data:`MAX_ATOMS` gold atoms is
    about 400 Å across; 2000 Å (200 nm) is beyond any atomistic model this app
    computes, and two atoms at z = +-3e4 Å made the Debye histogram take 3.4 GB.
``MAX_EXTXYZ_COLUMNS`` = 100
    The columns of an extxyz atom line declared by ``Properties=`` (species 1,
    pos 3, forces 3, velocities 3, a per-atom stress 9, charges, tags,
    magmoms: under 30 in practice).  ASE allocates natoms x width before it
    reads a line: a width of 10^8 took 7.9 GB.
``MAX_COMMENT_CHARS`` = 100,000
    The comment (second) line of an xyz frame: extxyz key=value pairs fit in a
    few kB.

References
----------
B. Cordero et al., Dalton Trans. 2832 (2008) (covalent radii).
"""

from __future__ import annotations

import collections
import itertools
import math
import re
import warnings
from pathlib import Path

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures.builders import MAX_ATOMS

MIN_LATTICE_ANGSTROM = 1.0
MAX_LATTICE_ANGSTROM = 100.0
MIN_DISTANCE_ANGSTROM = 0.5
CLOSE_DISTANCE_RATIO = 0.7
MAX_EXTENT_ANGSTROM = 2000.0
MAX_EXTXYZ_COLUMNS = 100
MAX_COMMENT_CHARS = 100_000

_PROPERTIES = re.compile(r"""(?:^|\s)properties\s*=\s*["']?([^\s"']+)""", re.IGNORECASE)
_PDB_ATOM = re.compile(rb"^(?:ATOM  |HETATM)", re.MULTILINE)


def precheck_structure_file(path: Path, fmt: str) -> None:
    """Refuse a structure file whose atom count or extxyz columns are out of bounds, before it is parsed.

    xyz/extxyz: every frame's count line (at most :data:`MAX_ATOMS`) and
    comment line (at most :data:`MAX_COMMENT_CHARS`, ``Properties=`` at most
    :data:`MAX_EXTXYZ_COLUMNS` columns) are read; atom lines are skipped
    unparsed.  pdb: the ATOM/HETATM records of the whole file (ASE parses every
    model) are counted, at most :data:`MAX_ATOMS`.  Other formats pass (cifs
    have their own check before expansion).

    Raises
    ------
    SwaxsInputError
        One line naming the file, the line and the bound.
    """
    if fmt in ("xyz", "extxyz"):
        _precheck_xyz(path)
    elif fmt == "proteindatabank":
        with open(path, "rb") as handle:
            records = sum(len(_PDB_ATOM.findall(chunk)) for chunk in _chunks_by_line(handle))
        if records > MAX_ATOMS:
            raise SwaxsInputError(f"{path}: {records} ATOM/HETATM records; expected at most {MAX_ATOMS} atoms")


def _chunks_by_line(handle, size: int = 1 << 24):
    """Chunks of a binary file that end at a line end (so a record is never split)."""
    rest = b""
    while True:
        block = handle.read(size)
        if not block:
            if rest:
                yield rest
            return
        block = rest + block
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            rest = block
            continue
        yield block[:cut]
        rest = block[cut:]


def _precheck_xyz(path: Path) -> None:
    with open(path, "rb") as handle:
        line_number = 0
        while True:
            count_line = handle.readline(MAX_COMMENT_CHARS + 1)
            line_number += 1
            if not count_line:
                return
            text = count_line.strip()
            if not text:
                continue  # trailing blank lines; ASE says so if they are anything else
            try:
                count = int(text.split()[0])
            except ValueError:
                return  # not a count: ASE reports the malformed file
            if count > MAX_ATOMS or count < 0:
                raise SwaxsInputError(f"{path}: line {line_number}: a frame of {count} atoms; expected at most "
                                      f"{MAX_ATOMS} atoms")
            comment = handle.readline(MAX_COMMENT_CHARS + 1)
            line_number += 1
            if len(comment) > MAX_COMMENT_CHARS:
                raise SwaxsInputError(f"{path}: line {line_number}: a comment line over {MAX_COMMENT_CHARS} "
                                      "characters; expected an xyz comment or extxyz key=value line")
            _check_properties(comment.decode("utf-8", "replace"), path, line_number)
            collections.deque(itertools.islice(handle, count), maxlen=0)  # skip the atom lines unparsed
            line_number += count


def _check_properties(comment: str, path: Path, line_number: int) -> None:
    match = _PROPERTIES.search(comment)
    if match is None:
        return
    fields = match.group(1).split(":")
    width = 0
    for k in range(2, len(fields), 3):
        try:
            width += int(fields[k])
        except ValueError:
            return  # malformed: ASE reports it
    if width > MAX_EXTXYZ_COLUMNS:
        raise SwaxsInputError(f"{path}: line {line_number}: Properties= declares {width} columns per atom; "
                              f"expected at most {MAX_EXTXYZ_COLUMNS} (species:S:1:pos:R:3 ...)")


def check_cell_parameters(label: str, lengths, angles_degree) -> None:
    """Refuse cell lengths outside [:data:`MIN_LATTICE_ANGSTROM`, :data:`MAX_LATTICE_ANGSTROM`] or angles that close no cell.

    Parameters
    ----------
    label : str
        The file, for messages.
    lengths : sequence of 3 float
        a, b, c (Å).
    angles_degree : sequence of 3 float
        alpha, beta, gamma (degrees).

    Raises
    ------
    SwaxsInputError
        A length out of range, an angle outside (0, 180) degrees, or three
        angles for which no parallelepiped exists (V^2 / (abc)^2 =
        1 - cos^2 alpha - cos^2 beta - cos^2 gamma + 2 cos alpha cos beta cos gamma <= 0).

    Examples
    --------
    >>> check_cell_parameters("gold.cif", (4.08, 4.08, 4.08), (90, 90, 90))
    >>> check_cell_parameters("x.cif", (4.08, 4.08, 4.08), (100, 100, 170))
    Traceback (most recent call last):
    ...
    swaxs_lib.errors.SwaxsInputError: x.cif: cell angles 100, 100, 170 degrees close no cell (V^2/(abc)^2 = -0.09); expected angles of a real cell
    """
    for name, value in zip("abc", lengths):
        if not (math.isfinite(value) and MIN_LATTICE_ANGSTROM <= value <= MAX_LATTICE_ANGSTROM):
            raise SwaxsInputError(f"{label}: cell length {name} = {value:g} Å; expected {MIN_LATTICE_ANGSTROM:g} to "
                                  f"{MAX_LATTICE_ANGSTROM:g} Å (Å, not nm or pm)")
    for name, value in zip(("alpha", "beta", "gamma"), angles_degree):
        if not (math.isfinite(value) and 0.0 < value < 180.0):
            raise SwaxsInputError(f"{label}: cell angle {name} = {value:g} degrees; expected between 0 and 180")
    ca, cb, cg = (math.cos(math.radians(x)) for x in angles_degree)
    factor = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg
    if factor <= 1e-6:
        text = ", ".join(f"{x:g}" for x in angles_degree)
        raise SwaxsInputError(f"{label}: cell angles {text} degrees close no cell (V^2/(abc)^2 = {factor:.2g}); "
                              "expected angles of a real cell")


def check_geometry(positions: np.ndarray, numbers: np.ndarray, label: str) -> None:
    """Refuse coordinates too spread out or atoms on top of each other; warn of atoms suspiciously close.

    Parameters
    ----------
    positions : numpy.ndarray (n, 3)
        Finite coordinates (Å).
    numbers : numpy.ndarray (n,)
        Atomic numbers (for the covalent radii of the warning).
    label : str
        The file, for messages.

    Raises
    ------
    SwaxsInputError
        An extent (twice the largest distance from the centroid) over
        :data:`MAX_EXTENT_ANGSTROM`, or two atoms nearer than
        :data:`MIN_DISTANCE_ANGSTROM`.

    Warns
    -----
    UserWarning
        A nearest neighbour closer than :data:`CLOSE_DISTANCE_RATIO` times the
        sum of the two covalent radii.
    """
    positions = np.asarray(positions, dtype=float)
    if len(positions) < 2:
        return
    with np.errstate(over="ignore", invalid="ignore"):  # +-1e300 overflows: still refused, by its span
        span = positions.max(axis=0) - positions.min(axis=0)
        extent = math.inf if not np.all(span <= MAX_EXTENT_ANGSTROM) else \
            2.0 * float(np.linalg.norm(positions - positions.mean(axis=0), axis=1).max())
    if not extent <= MAX_EXTENT_ANGSTROM:
        if not np.all(span <= MAX_EXTENT_ANGSTROM):
            axis = int(np.argmax(np.where(np.isfinite(span), span, np.inf)))
            raise SwaxsInputError(f"{label}: the atoms span {_size(span[axis])} Å along {'xyz'[axis]}; expected at "
                                  f"most {MAX_EXTENT_ANGSTROM:g} Å (coordinates in Å)")
        raise SwaxsInputError(f"{label}: the atoms span {extent:.4g} Å (twice the largest distance from their "
                              f"centre); expected at most {MAX_EXTENT_ANGSTROM:g} Å (coordinates in Å)")
    from ase.data import covalent_radii
    from scipy.spatial import cKDTree

    distance, neighbour = cKDTree(positions).query(positions, k=2)
    # an atom's nearest other atom: column 1, unless a duplicate came first and the atom itself second
    itself = neighbour[:, 0] == np.arange(len(positions))
    d, j = distance[:, 1], np.where(itself, neighbour[:, 1], neighbour[:, 0])
    i = int(np.argmin(d))
    if d[i] < MIN_DISTANCE_ANGSTROM:
        raise SwaxsInputError(f"{label}: atoms {i + 1} and {int(j[i]) + 1} are {d[i]:.3g} Å apart; expected at least "
                              f"{MIN_DISTANCE_ANGSTROM:g} Å (an atom listed twice, or a wrong coordinate)")
    numbers = np.asarray(numbers, dtype=int)
    ratio = d / (covalent_radii[numbers] + covalent_radii[numbers[j]])
    k = int(np.argmin(ratio))
    if ratio[k] < CLOSE_DISTANCE_RATIO:
        warnings.warn(f"{label}: atoms {k + 1} and {int(j[k]) + 1} are {d[k]:.3g} Å apart, "
                      f"{ratio[k]:.2f} of their covalent bond length; check the coordinates", stacklevel=3)


def _size(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "over 1e308"


__all__ = ["CLOSE_DISTANCE_RATIO", "MAX_COMMENT_CHARS", "MAX_EXTENT_ANGSTROM", "MAX_EXTXYZ_COLUMNS",
           "MAX_LATTICE_ANGSTROM", "MIN_DISTANCE_ANGSTROM", "MIN_LATTICE_ANGSTROM", "check_cell_parameters",
           "check_geometry", "precheck_structure_file"]
