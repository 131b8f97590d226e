"""Plain xyz files read in one pass.

ASE's reference reader (``ase.io.xyz.read_xyz``) pops each line from the front of a list, which
is quadratic in the number of lines: a valid file of 10⁵ atoms took 1.6 s and one of 10⁶ atoms
minutes, all before the extent and overlap checks could refuse it.  This reader keeps ASE's
rules (a count line, a comment line, then ``symbol x y z`` per atom, the symbol's case
normalised, frames one after another, the last one returned) and is linear: 10⁶ atoms in about
a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from swaxs_lib.errors import SwaxsInputError


def read_xyz_last_frame(path: Path) -> Atoms:
    """The last frame of the plain xyz file ``path``.

    Parameters
    ----------
    path : pathlib.Path
        A file whose size and count lines were already checked
        (:func:`swaxs_lib.structures.bounds.precheck_structure_file`).

    Returns
    -------
    ase.Atoms
        Positions in Å as written; no cell.

    Raises
    ------
    SwaxsInputError
        A count line that is not a whole number, a frame with fewer atom lines than its count,
        an atom line without a symbol and three numbers, or an unknown element; the message
        names the line.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".xyz", delete=False) as f:
    ...     _ = f.write("2\\ndimer\\nau 0 0 0\\nAu 0 0 2.88\\n")
    >>> atoms = read_xyz_last_frame(Path(f.name)); os.unlink(f.name)
    >>> atoms.get_chemical_symbols(), float(atoms.positions[1, 2])
    (['Au', 'Au'], 2.88)
    """
    with open(path, "rb") as handle:
        lines = handle.read().splitlines()
    start, count, i = 0, 0, 0
    while i < len(lines):
        if not lines[i].strip():  # blank lines after the last frame
            if any(line.strip() for line in lines[i:]):
                raise SwaxsInputError(f"{path}: line {i + 1}: a blank line; expected the number of atoms")
            break
        try:
            count = int(lines[i])
        except ValueError:
            raise SwaxsInputError(f"{path}: line {i + 1}: {_quote(lines[i])}; expected the number of atoms") from None
        if count < 1 or i + 2 + count > len(lines):
            raise SwaxsInputError(f"{path}: line {i + 1}: {count} atoms, but {max(len(lines) - i - 2, 0)} lines "
                                  "follow the comment line; expected one line per atom")
        start, i = i + 2, i + 2 + count
    if count == 0:
        raise SwaxsInputError(f"{path}: no atoms found; expected at least one atom")
    symbols, xyz = [], np.empty((count, 3))
    for k, line in enumerate(lines[start:start + count]):
        fields = line.split()
        try:
            symbols.append(fields[0].decode("ascii").lower().capitalize())
            xyz[k] = [float(v) for v in fields[1:4]]
        except (IndexError, ValueError, UnicodeDecodeError):
            raise SwaxsInputError(f"{path}: line {start + k + 1}: {_quote(line)}; expected an element symbol "
                                  "and x, y, z in Å") from None
    names, inverse = np.unique(np.array(symbols), return_inverse=True)
    unknown = [str(name) for name in names if str(name) not in atomic_numbers]
    if unknown:
        raise SwaxsInputError(f"{path}: unknown element symbols {', '.join(unknown[:5])}; "
                              "expected chemical symbols such as Au")
    numbers = np.array([atomic_numbers[str(name)] for name in names])[inverse]
    return Atoms(numbers=numbers, positions=xyz)


def _quote(line: bytes, limit: int = 60) -> str:
    text = line.decode("utf-8", "replace").strip()
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")
