"""swaxs: size and shape of metal nanoclusters from X-ray scattering.

The library is organised by what the code is about:

- :mod:`swaxs_lib.structures` builds clusters (icosahedra, Marks decahedra,
  octahedra, cuboctahedra, truncated octahedra, lattice spheres) and reads
  structure files;
- :mod:`swaxs_lib.scattering` computes the Debye I(Q), S(Q), F(Q), G(r) and the
  pair-distance histogram with numba kernels;
- :mod:`swaxs_lib.cli` is the command line, ``python -m swaxs_lib``.
"""

import os

# numba's OpenMP threads spin while idle by default; on a shared 2-core server that starves the
# other workers (calls of a few ms stalled ~100 ms in benchmarks/debye.py under load).  Must be
# set before the OpenMP runtime loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from swaxs_lib.errors import SwaxsInputError  # noqa: E402

__version__ = "0.1.0"

__all__ = ["SwaxsInputError", "__version__"]
