"""Reading measured data: see :mod:`swaxs_lib.io.measurement`."""
