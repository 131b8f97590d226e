"""One-click structure analysis of a measured curve (issue 17): see :mod:`swaxs_lib.analyse.pipeline`."""
