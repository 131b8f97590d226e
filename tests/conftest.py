"""Session hooks for the test suite.

The modules that take minutes are collected first.  ``.ci/run`` spreads the suite over two workers with
pytest-xdist's ``--dist loadscope``, which hands out whole modules in collection order; the README commands
(one module, ~4.5 min) were collected near the end and kept one worker busy long after the other had run out
of work.  Longest first packs the two workers' loads; every other module keeps its place.
"""

from __future__ import annotations

#: Modules of more than a minute on one worker (``--durations`` of a CI run), longest first.
LONG_MODULES = (
    "tests/test_readme_commands.py",
    "tests/test_refine_crystal.py",
    "tests/test_ml_shipped.py",
    "tests/test_csv_conventions.py",
    "tests/test_ml_models.py",
    "tests/test_analyse_measured.py",
    "tests/browser/test_load_short.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {module: k for k, module in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: the rest keep their order
