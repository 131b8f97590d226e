"""An upload's bytes (or a stored text) read by a reader that takes a path.

The copy lives in a private temporary folder (mode 0700, removed afterwards), and an error names the
file as the user knows it, not the temporary path.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from swaxs_lib.errors import SwaxsInputError


@contextlib.contextmanager
def private_copy(data: bytes | str, name: str, suffix: str) -> Iterator[Path]:
    """The path of a private temporary copy of ``data``; a :class:`SwaxsInputError` inside names ``name``.

    Parameters
    ----------
    data : bytes or str
        The file's content (text is written as UTF-8).
    name : str
        What messages call the file (an upload's name).
    suffix : str
        The copy's suffix (``".cif"``), which readers choose their format by.

    Examples
    --------
    >>> with private_copy(b"1 2", "mine.dat", ".dat") as path:
    ...     path.read_bytes(), path.name
    (b'1 2', 'input.dat')
    """
    with tempfile.TemporaryDirectory(prefix="swaxs-input-") as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data if isinstance(data, bytes) else str(data).encode())
        try:
            yield path
        except SwaxsInputError as exc:
            raise SwaxsInputError(str(exc).replace(str(path), name)) from None
