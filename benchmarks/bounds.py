"""The runaway inputs of issue 19 rebuilt full size, each run through its command: outcome, time, peak memory.

    .venv/bin/python benchmarks/bounds.py            # all inputs (~1 min to write ~110 MB of files, seconds to run)
    .venv/bin/python benchmarks/bounds.py --keep DIR # keep the hostile files in DIR

Each command runs as ``python -m swaxs_lib ...`` in its own process (its store in a temporary
folder); the table gives its exit status (2: refused with one line), the first line of stderr,
the wall time and the child's peak resident memory (``ru_maxrss`` from ``os.wait4``; Python and
the imports alone take ~150-250 MB).  What the issue measured before the bounds is in the
``before`` column; docs/limits.md lists the bounds.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GR = ROOT / "tests/data/cdse_np_pdfgui/CdSe-3nm.gr"

from tests.hostile_cif import cif_text  # noqa: E402



def _sites(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "\n".join(f"Au{k} Au {rng.random() * 0.25:.5f} {rng.random() * 0.25:.5f} {rng.random() * 0.25:.5f}"
                     for k in range(n))


def write_inputs(folder: Path) -> list[tuple[str, str, list[str]]]:
    """(name, before, command arguments) per runaway input, its files written in ``folder``."""
    f = folder
    (f / "tiny.cif").write_text(cif_text(a=0.05))
    (f / "expand36k.cif").write_text(cif_text(a=60, sites=_sites(1100, 1)))
    (f / "expand445k.cif").write_text(cif_text(a=90, sites=_sites(13_500, 2)))
    (f / "wide.extxyz").write_text("1\nProperties=species:S:1:pos:R:3:x:R:100000000\nAu 0 0 0 1\n")
    (f / "far.xyz").write_text("2\n\nAu 0 0 -30000\nAu 0 0 30000\n")
    (f / "same.xyz").write_text("2\n\nAu 0 0 0\nAu 0 0 0\n")
    (f / "huge.xyz").write_text("2\n\nAu 0 0 -1e300\nAu 0 0 1e300\n")
    n = 2_100_000
    rng = random.Random(3)
    with open(f / "big.xyz", "w") as out:  # ~57 MB
        out.write(f"{n}\n\n")
        for _ in range(n // 1000):
            out.write("".join(f"Au {rng.uniform(-200, 200):.3f} {rng.uniform(-200, 200):.3f} "
                              f"{rng.uniform(-200, 200):.3f}\n" for _ in range(1000)))
    with open(f / "comments.dat", "wb") as out:  # 48 MB
        out.write(b"#\n" * 24_000_000 + b"0.1 1\n0.2 2\n")
    with open(f / "valid1m.xyz", "w") as out:  # a valid file: 10^6 atoms on a 100^3 grid, 3,000 Å wide
        out.write("1000000\nvalid, too wide\n")
        steps = [30.3 * k for k in range(100)]  # 0 to 3,000 Å, 30 Å apart
        out.writelines(f"Au {x:.1f} {y:.1f} {z:.1f}\n" for x in steps for y in steps for z in steps)
    db = ["--db", str(f / "store")]
    out = ["--out", str(f / "out.csv")]
    crystal = ["refine", str(GR), "--model", "crystal", "--q-max", "25", *db, *out, "--cif"]
    return [
        ("cif a = 0.05 Å (refine crystal)", "refined forever, a core kept after Cancel", [*crystal, str(f / "tiny.cif")]),
        ("cif 1,100 sites x 192 ops (refine crystal)", "36 KB cif: 95,904 atoms",
         [*crystal, str(f / "expand36k.cif")]),
        ("cif 445 KB, 13,500 sites x 192 ops", "still expanding at 120 s", [*crystal, str(f / "expand445k.cif")]),
        ("extxyz Properties x:R:1e8 (debye)", "7.9 GB in 14 s", ["debye", "--structure", str(f / "wide.extxyz"), *out]),
        ("atoms at z = ±3e4 Å (debye)", "3.4 GB", ["debye", "--structure", str(f / "far.xyz"), "--q-max", "20", *out]),
        ("two atoms at one position (relax)", "internal error", ["relax", "--structure", str(f / "same.xyz"), *db,
                                                                 "--trace", str(f / "trace.csv")]),
        ("coordinates ±1e300 (debye)", "internal error", ["debye", "--structure", str(f / "huge.xyz"), *out]),
        ("xyz of 2.1 M atoms, 57 MB (debye)", "parsed for minutes", ["debye", "--structure", str(f / "big.xyz"), *out]),
        ("valid xyz of 10^6 atoms, 3,000 Å wide (debye)", "55 s parsing (ASE's reader), then the extent refusal",
         ["debye", "--structure", str(f / "valid1m.xyz"), *out]),
        ("24 M comment lines, 48 MB (import)", "68 s, 3.2 GB, 104 MB stored",
         ["import", str(f / "comments.dat"), "--q-unit", "inv_angstrom", *db]),
    ]


def run(args: list[str]) -> tuple[int, str, float, float]:
    """Exit status, first stderr line, wall seconds, peak RSS (MB) of ``python -m swaxs_lib ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "swaxs_lib", *args], stdout=subprocess.DEVNULL, stderr=err,
                                cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        err.seek(0)
        lines = [line for line in err.read().decode(errors="replace").splitlines() if line.strip()]
    code = os.waitstatus_to_exitcode(status)
    return code, (lines[-1] if lines else ""), seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write the hostile files here and keep them")
    options = parser.parse_args()
    folder = options.keep or Path(tempfile.mkdtemp(prefix="swaxs-bounds-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        print(f"writing the inputs in {folder} ...", file=sys.stderr)
        cases = write_inputs(folder)
        code, _, seconds, mb = run(["--help"])
        print(f"(python -m swaxs_lib --help alone: {seconds:.2f} s, {mb:.0f} MB)")
        print(f"{'input':44s} {'exit':>4s} {'s':>6s} {'MB':>6s}  before -> message")
        for name, before, args in cases:
            code, message, seconds, mb = run(args)
            print(f"{name:44s} {code:4d} {seconds:6.2f} {mb:6.0f}  {before} -> {message[:160]}")
    finally:
        if options.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
