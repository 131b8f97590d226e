"""Reading measured data into a :class:`Measurement` (Q in 1/Å, r in Å).

>>> from swaxs_lib.io import read_measurement_bytes
>>> m = read_measurement_bytes(b"# Q (1/nm) I dI\\n1 10 1\\n2 8 1\\n", "curve.txt")
>>> m.kind, m.x.tolist(), m.x_unit, m.uncertainties.tolist()
('iq', [0.1, 0.2], 'inv_nm', [1.0, 1.0])

The formats, the unit policy and the checks are described in :mod:`swaxs_lib.io.readers`;
the result type in :mod:`swaxs_lib.io.measurement`.
"""

from swaxs_lib.io.measurement import KINDS, X_UNITS, Measurement
from swaxs_lib.io.readers import (
    MAX_INPUT_BYTES,
    read_input_file,
    read_measurement,
    read_measurement_bytes,
)

__all__ = ["KINDS", "MAX_INPUT_BYTES", "X_UNITS", "Measurement", "read_input_file", "read_measurement", "read_measurement_bytes"]
