"""``python -m swaxs_lib``: see :mod:`swaxs_lib.cli`."""

import sys

from swaxs_lib.cli import main

if __name__ == "__main__":
    sys.exit(main())
