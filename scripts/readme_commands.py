"""Run every ``python -m swaxs_lib`` command line printed in README.md, end to end, on shipped data.

The command lines are read from the README's fenced code blocks when this runs
(backslash-continued lines joined, ``# comments`` dropped), so a line added to
the README later is covered without touching this file.  Each line runs in one
temporary folder, in README order (``debye --structure au_dh.xyz`` reads what
``cluster`` wrote), against a temporary store (``SWAXS_DB``), with:

* its placeholders (``DATA``, ``ID``, ``sample.dat``, ...) replaced by shipped
  files from ``tests/data`` or by ids imported into that store
  (:data:`PLACEHOLDERS`);
* size-reducing flags appended where the documented command takes minutes
  (:data:`FASTER`): an explicit, short table, never a silent skip.

A line passes when it exits 0 and its last stdout line is a JSON object (the
project's convention); ``--help`` passes when it exits 0 and names every
command.  Used by ``tests/test_readme_commands.py`` and
``scripts/runtime_smoke.py``; plain Python, no pytest, so that it runs in the
runtime-only environment.

    python scripts/readme_commands.py          # run them all, print a table
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DATA = ROOT / "tests" / "data"

#: README placeholder -> shipped file (a path under tests/data) or "id:<file>" (the id of that file, imported
#: into the temporary store before the first line runs) or "id:last-import" (the id the README's most recent
#: ``import`` line printed, as the README means it) or "derived:<name>" (written from shipped data, below).
PLACEHOLDERS: dict[str, str] = {
    "DATA": "au144_pdf/Au144PET_100K-00000.gr",           # measured G(r) of Au144 clusters: refine, sweep, predict
    "ID_OR_FILE": "id:au144_pdf/Au144PET_100K-00000.gr",  # the same G(r), stored: compare, relax --data
    "ID": "id:last-import",                               # export, rename, delete: what `import` just printed
    "SAMPLE": "alumina_usaxs/Alumina_usaxs_irena_input.csv",  # USAXS I(Q), a plain three-column text file
    "SOLVENT": "id:alumina_usaxs/Alumina_usaxs_irena_input.csv",  # the same curve, stored: files and ids both
    "sample.dat": "alumina_usaxs/Alumina_usaxs_irena_input.csv",
    "scan.chi": "derived:scan.chi",                       # no 2θ scan ships: see write_two_theta_scan
    "saxs.dat": "ludox_silica_sans/Ludox_silica.xml",     # canSAS XML I(Q)
    "beamtime/*.xml": "ludox_silica_sans/*.xml",          # batch: a pattern of files (the one canSAS XML file)
    "ni.gr": "ni_srfit/ni-q27r100-neutron.gr",
    "cdse.gr": "cdse_np_pdfgui/CdSe-3nm.gr",
    "CdSe.cif": "cdse_np_pdfgui/CdSe-wurtzite.cif",
}

#: Flags appended to a command because the documented one takes minutes; every README line still runs.  A key is
#: a command (every line of it) or a command with tokens (``"refine nanoparticle"``: the refine lines that hold
#: every one of those tokens); the command's own entry is appended last, so its flags win (argparse: last wins).
FASTER: dict[str, tuple[str, ...]] = {
    # default: ~30,000 curves, 14 min on 2 cores; tiny (the README's own --size tiny): ~250 curves
    "build-db": ("--size", "tiny"),
    # default: five classifiers and four regressors compared on the full database (17 min), and it rewrites the
    # shipped data/models/default, which the other lines use: one of each, written into the temporary folder
    "train": ("--out-dir", "trained-model", "--classifiers", "logistic", "--regressors", "ridge", "--physics-curves", "0"),
    # --steps 200 with a refit every 5th step: ~40 refits, over 2 min; 5 steps still relax and refit (at steps 0
    # and 5) and write the trace, trajectory and best structure (10 steps: 37 s of CPU, 5 steps: 17 s)
    "relax": ("--steps", "5"),
    # the attenuated crystal of CdSe over 1.7-44.8 Å: ~40 s of CPU each; over 1.7-20 Å ~10 s, the same command,
    # flags and model (tests/test_refine_crystal.py refines it over the documented range against pdffit2 and the
    # tutorial).  (The sweeps' time does not depend on --x-max: measured, 15 Å instead of 30/44.8 saved nothing.)
    "refine nanoparticle": ("--x-max", "20"),
    # spheres cut from the CdSe crystal, 26, 29 and 32 Å (up to 2,000 atoms): the smallest (41 s -> ~10 s;
    # tests/test_crystal_sphere.py sweeps cif spheres end to end and ranks them)
    "sweep --cif": ("--grid", "diameter_angstrom=26"),
    # every family at up to 60 sizes each (~200 candidates on Au144, ~3 min cold): two of the eight cluster
    # families (a mixture is still tried) at 2 sizes each, the attenuated crystal, one relaxation (81 s with all
    # eight, 32 s with three; tests/test_analyse*.py run the stages on the measured files)
    "analyse": ("--max-per-family", "2", "--relax-top", "1",
                "--families", "icosahedron,decahedron,attenuated-crystal"),
    # the physics SAXS-only sizer on every window of the test split (18 windows x 72 curves, ~3 min with the
    # shipped folder's 221 members); the flag and the report without it (tests/test_ml_models.py scores it)
    "evaluate": ("--physics-curves", "0"),
}

#: The wavelength of the README's ``import scan.chi --two-theta --wavelength-angstrom 0.1877``.
SCAN_WAVELENGTH_ANGSTROM = 0.1877
#: Commands that print help text instead of JSON.
_HELP = ("--help", "-h")


@dataclass(frozen=True)
class ReadmeCommand:
    """One command line of the README: where it is, its text, its arguments after ``-m swaxs_lib``."""

    line: int
    text: str
    args: tuple[str, ...]

    @property
    def command(self) -> str:
        """The subcommand (``refine``, ...), or the first flag (``--help``)."""
        return self.args[0] if self.args else ""


@dataclass
class Outcome:
    """How one README line ran."""

    readme: ReadmeCommand
    argv: list[str]
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    problem: str | None = None
    result: dict | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        """A failure report: the README line, what was run, why it failed, the end of stderr."""
        tail = "\n".join(self.stderr.strip().splitlines()[-15:])
        return (f"README.md line {self.readme.line}: {self.readme.text}\n  ran: {shlex.join(self.argv)}\n"
                f"  problem: {self.problem}\n  exit {self.returncode}; stderr ends:\n{tail}")


def readme_commands(path: Path = README) -> list[ReadmeCommand]:
    """Every ``python -m swaxs_lib`` line in the README's fenced code blocks, continuations joined.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "R.md"
    >>> _ = p.write_text("```bash\\n.venv/bin/python -m swaxs_lib pdf --shells 3 \\\\\\n  --out g.csv  # note\\n```\\n")
    >>> readme_commands(p)[0].args
    ('pdf', '--shells', '3', '--out', 'g.csv')
    """
    commands, in_block, pending, start = [], False, "", 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_block, pending = not in_block, ""
            continue
        if not in_block:
            continue
        if not pending:
            start = number
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1] + " "
            continue
        pending = ""
        tokens = shlex.split(text, comments=True)
        if "-m" in tokens and tokens[tokens.index("-m") + 1:tokens.index("-m") + 2] == ["swaxs_lib"]:
            code = text.split(" #")[0].strip() if " #" in text else text
            commands.append(ReadmeCommand(start, re.sub(r"\s+", " ", code), tuple(tokens[tokens.index("-m") + 2:])))
    return commands


def write_two_theta_scan(path: Path, wavelength_angstrom: float = SCAN_WAVELENGTH_ANGSTROM) -> None:
    """A 2θ scan (degrees, intensity) made from the shipped Au S(Q): Q converted by 2θ = 2 asin(Qλ/4π)."""
    rows = []
    for line in (DATA / "au_np_scattbo" / "Experimental_Sq.sq").read_text().split("#L", 1)[1].splitlines()[1:]:
        q, s = map(float, line.split()[:2])
        rows.append(f"{2 * math.degrees(math.asin(q * wavelength_angstrom / (4 * math.pi))):.8f} {s:.8g}")
    path.write_text("# 2theta_deg intensity (from tests/data/au_np_scattbo/Experimental_Sq.sq)\n" + "\n".join(rows) + "\n")


def run_readme_commands(workdir: Path, python: str = sys.executable, readme: Path = README,
                        commands: list[ReadmeCommand] | None = None,
                        faster: Mapping[str, tuple[str, ...]] = FASTER,
                        on_each: Callable[[Outcome], None] | None = None, timeout_s: float = 900) -> Iterator[Outcome]:
    """Run the README's command lines in ``workdir`` with ``python``; yield one :class:`Outcome` per line.

    ``swaxs_lib`` is imported from this checkout (``PYTHONPATH``); the store is
    ``workdir/store.duckdb`` (``SWAXS_DB``, no ``--db`` added); the flags of
    ``faster`` that apply to a line (:func:`appended_flags`; default :data:`FASTER`) are appended to it.
    """
    workdir = Path(workdir)
    env = {k: v for k, v in os.environ.items() if k not in ("SWAXS_DEBUG", "SWAXS_MODELS", "PYTHONPATH")}
    env.update(PYTHONPATH=str(ROOT), SWAXS_DB=str(workdir / "store.duckdb"), SWAXS_DEBUG="1")

    def swaxs(args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run([python, "-m", "swaxs_lib", *args], cwd=workdir, env=env, capture_output=True,
                              text=True, timeout=timeout_s)

    ids: dict[str, str] = {}

    def value_of(token: str) -> str:
        spec = PLACEHOLDERS[token]
        if spec == "id:last-import":
            if "last-import" not in ids:
                raise LookupError(f"{token}: no README `import` line ran before this one")
            return ids["last-import"]
        if spec.startswith("id:"):
            if spec not in ids:
                done = swaxs(["import", str(DATA / spec[3:])])
                if done.returncode != 0:
                    raise LookupError(f"{token}: importing {spec[3:]} failed: {done.stderr.strip()}")
                ids[spec] = json.loads(done.stdout.strip().splitlines()[-1])["id"]
            return ids[spec]
        if spec.startswith("derived:"):
            target = workdir / spec.split(":", 1)[1]
            if not target.exists():
                write_two_theta_scan(target)
            return str(target)
        return str(DATA / spec)

    for readme_command in (readme_commands(readme) if commands is None else commands):
        argv = [python, "-m", "swaxs_lib"]
        problem, done, seconds = None, None, 0.0
        try:
            # placeholders, and the shipped files the README names by their path in the repository
            args = [value_of(t) if t in PLACEHOLDERS else str(ROOT / t) if t.startswith("tests/data/") else t
                    for t in readme_command.args]
            args += appended_flags(readme_command, faster)
            argv += args
            unknown = [t for t in readme_command.args if re.fullmatch(r"[A-Z][A-Z_]+", t) and t not in PLACEHOLDERS]
            if unknown:
                raise LookupError(f"placeholder {unknown[0]} has no entry in PLACEHOLDERS "
                                  f"(scripts/readme_commands.py); add a shipped file for it")
            start = time.perf_counter()
            done = swaxs(args)
            seconds = time.perf_counter() - start
        except (LookupError, subprocess.TimeoutExpired) as exc:
            problem = str(exc)
        outcome = Outcome(readme_command, argv, seconds, done.returncode if done else -1,
                          done.stdout if done else "", done.stderr if done else "", problem)
        if done is not None:
            _judge(outcome)
            if outcome.ok and readme_command.command == "import":
                ids["last-import"] = outcome.result["id"]
        if on_each is not None:
            on_each(outcome)
        yield outcome


def faster_keys_of(readme_command: ReadmeCommand, faster: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The keys of ``faster`` that apply to this line: ``"<command> <token>..."`` first, ``"<command>"`` last."""
    keys = [key for key in faster if key.split()[0] == readme_command.command
            and all(token in readme_command.args for token in key.split()[1:])]
    return sorted(keys, key=lambda key: -len(key.split()))


def appended_flags(readme_command: ReadmeCommand, faster: Mapping[str, tuple[str, ...]] = FASTER) -> tuple[str, ...]:
    """The flags appended to a README line (see :data:`FASTER`)."""
    return tuple(flag for key in faster_keys_of(readme_command, faster) for flag in faster[key])


def _judge(outcome: Outcome) -> None:
    """Set ``problem`` unless the line exited 0 with a JSON object last on stdout (help: naming every command)."""
    if outcome.returncode != 0:
        outcome.problem = f"exit status {outcome.returncode}"
        return
    if outcome.readme.command in _HELP:
        missing = [c for c in swaxs_commands() if c not in outcome.stdout]
        outcome.problem = f"help does not name {', '.join(missing)}" if missing else None
        return
    lines = outcome.stdout.strip().splitlines()
    try:
        outcome.result = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        outcome.result = None
    if not isinstance(outcome.result, dict):
        outcome.problem = f"last stdout line is not a JSON object: {lines[-1][:200] if lines else '(no output)'!r}"


def swaxs_commands() -> list[str]:
    """Every subcommand of ``python -m swaxs_lib`` (from its parser)."""
    sys.path.insert(0, str(ROOT))
    from swaxs_lib.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return list(sub.choices)


def table(outcomes: list[Outcome]) -> str:
    """A short text table: README line, command, seconds, result."""
    rows = [f"{'line':>5}  {'command':10s} {'s':>6}  result"]
    for o in outcomes:
        rows.append(f"{o.readme.line:5d}  {o.readme.command:10s} {o.seconds:6.1f}  "
                    f"{'ok' if o.ok else 'FAILED: ' + (o.problem or '')}")
    return "\n".join(rows)


def main() -> int:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="swaxs-readme-") as tmp:
        for outcome in run_readme_commands(Path(tmp)):
            outcomes.append(outcome)
            print(f"{outcome.readme.line:5d} {outcome.readme.command:10s} {outcome.seconds:6.1f} s "
                  f"{'ok' if outcome.ok else 'FAILED'}", file=sys.stderr, flush=True)
    print(table(outcomes))
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(o.describe(), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
