"""Every command line printed in README.md runs, end to end, on shipped data.

The lines are read from the README when the tests are collected
(:mod:`scripts.readme_commands`), so a line added later is tested without
editing this file.  They run once, in README order, in one temporary folder
with a temporary store; each line is then one test: exit 0, a JSON object as
the last stdout line.  Placeholders and the size-reducing flags of the slow
commands (``build-db``, ``train``, ``relax``, ``refine --model nanoparticle``) are the explicit tables
``PLACEHOLDERS`` and ``FASTER`` of that module.  ~2.5 min on 2 cores.
"""

from __future__ import annotations

import csv

import pytest

from scripts.readme_commands import (DATA, FASTER, PLACEHOLDERS, faster_keys_of, readme_commands, run_readme_commands,
                                     swaxs_commands)

COMMANDS = readme_commands()


def test_the_readme_documents_every_command_and_the_tables_name_only_real_things():
    documented = {c.command for c in COMMANDS}
    assert set(swaxs_commands()) <= documented, f"not in README.md: {set(swaxs_commands()) - documented}"
    for key in FASTER:  # each entry applies to some README line
        assert any(key in faster_keys_of(c, FASTER) for c in COMMANDS), key
    for token, spec in PLACEHOLDERS.items():
        path = spec.split(":", 1)[1] if spec.startswith("id:") else spec
        real = (DATA / path).is_file() or ("*" in path and any(DATA.glob(path)))  # a batch's pattern matches files
        assert path in ("last-import", "derived:scan.chi") or real, (token, spec)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("readme")
    return {o.readme.line: o for o in run_readme_commands(workdir)}, workdir


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=[f"line{c.line}-{c.command.lstrip('-')}" for c in COMMANDS])
def test_readme_command_runs(outcomes, command):
    outcome = outcomes[0][command.line]
    assert outcome.ok, outcome.describe()


@pytest.mark.slow
def test_what_the_readme_commands_wrote(outcomes):
    by_line, workdir = outcomes
    # the README's sphere sweep: one diameter_angstrom column, the grid's values (20..40 step 2.5), in rank order
    sphere = next(c for c in COMMANDS if c.command == "sweep" and "sphere" in c.args)
    assert by_line[sphere.line].ok, by_line[sphere.line].describe()
    rows = list(csv.reader((workdir / "ranking.csv").open()))
    assert rows[0].count("diameter_angstrom") == 1
    grid = sorted(float(r[rows[0].index("diameter_angstrom")]) for r in rows[1:])
    assert grid == [20 + 2.5 * k for k in range(9)]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 10))
    # import scan.chi --two-theta: 2θ at 0.1877 Å back to Q gives the shipped S(Q)'s first and last Q (1/Å)
    scan = next(o for o in by_line.values() if o.readme.command == "import" and "scan.chi" in o.readme.args)
    assert scan.result["q_min_inv_angstrom"] == pytest.approx(2.40126, abs=1e-6)
    assert scan.result["q_max_inv_angstrom"] == pytest.approx(9.99872, abs=1e-6)
