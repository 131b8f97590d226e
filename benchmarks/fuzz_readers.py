"""Fuzz every reader with the corpus of tests/fuzz_corpus.py: 10,000 cases per reader, huge lines, wrong encodings.

Readers (one worker process each, run one after another, so each has its own peak RSS):

==================  ============================================================  ======================
reader              cases drawn from                                               read by
==================  ============================================================  ======================
text columns        mutated seeds (all), random bytes, number-like text;          ``read_measurement_bytes``
                    extensions .txt .dat .csv .xy .xye .iq .sq .fq and none
PDFgetX .gr         mutated PDFgetX3 seeds (and all seeds), random bytes; .gr     ``read_measurement_bytes``
.chi                mutated 2θ/Q seeds (and all seeds), random bytes; .chi        ``read_measurement_bytes``
canSAS XML          mutated canSAS XML seed (and all seeds), random bytes; .xml   ``read_measurement_bytes``
NXcanSAS HDF5       the NXcanSAS seed with bytes overwritten / truncated; .h5     ``read_measurement_bytes``
xyz, extxyz, pdb    mutated structure seeds, random bytes                          ``read_structure_bytes``
cif cluster         mutated cif seeds, random bytes                                ``read_structure_bytes``
cif crystal         mutated cif seeds, random bytes                                ``read_crystal_cell``
==================  ============================================================  ======================

After the random cases each reader gets fixed hostile cases: a 10 MB single line, a million comment
lines before a valid body, the valid seed in UTF-16 (BOM), UTF-16-BE (no BOM), UTF-32, Latin-1 and
UTF-8 with a BOM, and per reader a few aimed ones (an XML entity bomb, a 10^8-wide extxyz property
column, a cif with a = 0.05 Å, a million-atom xyz).

A failure is any exception other than SwaxsInputError (also MemoryError under the worker's
address-space limit, ``--memory-limit-gb``, and a case running longer than ``--case-timeout``), or a
result the corpus's checks call unsound (non-finite, non-increasing, beyond the caps, an error message
that does not name the file).  Memory: ``ru_maxrss`` of the worker after the random cases and after
the fixed ones; per case, the peak RSS over the RSS before it (``VmHWM`` reset through
``/proc/self/clear_refs`` before each case; the largest over the cases is reported), and the
tracemalloc peak of every ``--trace-every``-th case (Python and numpy allocations).  Neither sees
the HDF5 reader's child process.

Run from the repository root::

    .venv/bin/python benchmarks/fuzz_readers.py                      # 10,000 cases per reader
    .venv/bin/python benchmarks/fuzz_readers.py --cases 200          # a short run (~1 min)
    .venv/bin/python benchmarks/fuzz_readers.py --readers xyz,cif\\ crystal --cases 2000 --json /tmp/f.json
    .venv/bin/python benchmarks/fuzz_readers.py --reader-cases "NXcanSAS HDF5=2000"   # HDF5: ~0.2 s a case

Exit status 1 if any reader had a failure.  Failing inputs are written to ``--failures-dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
import tracemalloc
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

READERS = ("text columns", "PDFgetX .gr", ".chi", "canSAS XML", "NXcanSAS HDF5", "xyz", "extxyz", "pdb",
           "cif cluster", "cif crystal")
TEXT_EXTENSIONS = [".txt", ".dat", ".csv", ".xy", ".xye", ".iq", ".sq", ".fq", ""]
MIB = 1024 * 1024


# ---------------------------------------------------------------- the worker (one reader)

class CaseTimeout(Exception):
    pass


def _on_alarm(*_):
    raise CaseTimeout()


def reader_setup(name: str):
    """(strategy of (bytes, filename), check function, fixed hostile cases [(label, bytes, filename)])."""
    from hypothesis import strategies as st

    from swaxs_lib.io.nxcansas import HDF5_SIGNATURE
    from tests import fuzz_corpus as fc

    random_bytes = st.binary(max_size=600)
    numbers = st.text(alphabet=st.sampled_from(list("0123456789.,;eE+- \t\n#!naif")), max_size=200).map(str.encode)
    some = lambda strategy, extensions: st.tuples(strategy, st.sampled_from(extensions))  # noqa: E731
    gr_seeds = [s for s in fc.SEEDS if "G(r)" in s or "start data" in s]
    chi_seeds = [s for s in fc.SEEDS if "Theta" in s or "2th" in s or "q_nm" in s]
    xml_seeds = [s for s in fc.SEEDS if s.startswith("<?xml")]
    body = b"0.1 10 1\n0.2 20 2\n0.3 30 3\n"
    common_fixed = [
        ("10 MB single line", b"0.1 1 " * (10 * MIB // 6), None),
        ("1 M comment lines", b"# comment\n" * 1_000_000 + body, None),
        ("10 MB line, no separators", b"1" * (10 * MIB), None),
    ]
    encoded = [(f"seed in {enc}", fc.SEEDS[0].replace("0.1", "0.1").encode(enc), None)
               for enc in ("utf-16", "utf-16-be", "utf-32", "utf-8-sig")]
    encoded.append(("Latin-1 header", "# Å Intensität q_A^-1 I\n".encode("latin-1") + body, None))

    if name in ("text columns", "PDFgetX .gr", ".chi", "canSAS XML", "NXcanSAS HDF5"):
        check = fc.check
        if name == "text columns":
            strategy = st.one_of(some(fc.mutated_text(), TEXT_EXTENSIONS), some(random_bytes, TEXT_EXTENSIONS),
                                 some(numbers, TEXT_EXTENSIONS))
            ext = ".dat"
        elif name == "PDFgetX .gr":
            strategy = st.one_of(some(fc.mutated_text(gr_seeds), [".gr"]), some(fc.mutated_text(), [".gr"]),
                                 some(random_bytes | numbers, [".gr"]))
            ext = ".gr"
        elif name == ".chi":
            strategy = st.one_of(some(fc.mutated_text(chi_seeds), [".chi"]), some(fc.mutated_text(), [".chi"]),
                                 some(random_bytes | numbers, [".chi"]))
            ext = ".chi"
        elif name == "canSAS XML":
            strategy = st.one_of(some(fc.mutated_text(xml_seeds), [".xml"]), some(fc.mutated_text(xml_seeds), [".xml"]),
                                 some(fc.mutated_text(), [".xml"]), some(random_bytes, [".xml"]))
            ext = ".xml"
        else:
            strategy = st.one_of(some(fc.corrupted_hdf5(), [".h5", ".nxs"]),
                                 some(random_bytes.map(lambda b: HDF5_SIGNATURE + b), [".h5"]))
            ext = ".h5"
        fixed = [(label, data, "huge" + ext) for label, data, _ in common_fixed + encoded]
        if name == "canSAS XML":
            bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                    + b"".join(b'<!ENTITY %c "%s">' % (98 + k, (b"&%c;" % (97 + k)) * 10) for k in range(9))
                    + b']>\n<SASroot xmlns="urn:cansas1d:1.1"><SASentry><SASdata><Idata><Q>&j;</Q><I>1</I></Idata>'
                    + b"</SASdata></SASentry></SASroot>\n")
            one_line = (fc.SEEDS[-1].split("<Idata>")[0].replace("\n", "")
                        + '<Idata><Q unit="1/nm">1.0</Q><I unit="1/cm">5</I></Idata>' * 200_000
                        + "</SASdata></SASentry></SASroot>").encode()
            fixed += [("entity expansion bomb", bomb, "bomb.xml"), ("10 MB one-line XML, 200k points", one_line,
                                                                    "long.xml"),
                      ("1 M XML comments", fc.SEEDS[-1].replace("<SASroot", "<!-- c -->\n" * 1_000_000 + "<SASroot", 1)
                       .encode(), "comments.xml")]
        if name == "NXcanSAS HDF5":
            fixed += [("512-byte user block", bytes(512) + fc.HDF5_SEED, "block.h5"),
                      ("10 MB after the signature", HDF5_SIGNATURE + os.urandom(10 * MIB), "noise.h5")]
        return strategy, check, fixed

    suffix = {"xyz": ".xyz", "extxyz": ".extxyz", "pdb": ".pdb", "cif cluster": ".cif", "cif crystal": ".cif"}[name]
    check = fc.check_crystal if name == "cif crystal" else fc.check_structure
    strategy = st.one_of(some(fc.mutated_structure(suffix), [suffix]), some(fc.mutated_structure(suffix), [suffix]),
                         some(fc.mutated_structure(suffix), [suffix]), some(random_bytes, [suffix]))
    seed = fc.STRUCTURE_SEEDS[suffix][-1]
    comment = {".xyz": None, ".extxyz": None, ".pdb": b"REMARK c\n", ".cif": b"#c\n"}[suffix]
    fixed = [("10 MB single line", b"Au 0 0 0 " * (10 * MIB // 9), "huge" + suffix),
             ("10 MB line, no separators", b"1" * (10 * MIB), "huge" + suffix)]
    if comment:
        fixed.append(("1 M comment lines", comment * 1_000_000 + seed.encode(), "comments" + suffix))
    fixed += [(f"seed in {enc}", seed.encode(enc), "enc" + suffix)
              for enc in ("utf-16", "utf-16-be", "utf-32", "utf-8-sig", "latin-1")]
    if suffix in (".xyz", ".extxyz"):
        fixed += [("1 M atoms (12 MB)", b"1000000\n\n" + b"".join(b"Au 0 0 %d\n" % k for k in range(1_000_000)),
                   "million" + suffix),
                  ("atom count 10^9, 2 atoms", b"1000000000\n\nAu 0 0 0\nAu 0 0 2.9\n", "count" + suffix),
                  ("two atoms at z = +-3e4 A", b"2\n\nAu 0 0 -30000\nAu 0 0 30000\n", "far" + suffix)]
    if suffix == ".extxyz":
        fixed.append(("10^8-wide property column (83 bytes)",
                      b"1\nProperties=species:S:1:pos:R:100000000\nAu 0 0 0\n", "wide.extxyz"))
    if suffix == ".cif":
        fixed += [("cell a = 0.05 A", seed.replace("4.078", "0.05").encode(), "tiny.cif"),
                  ("2,000 sites in F m -3 m", (seed + "".join(f"Au{k} Au {k / 4000:.5f} 0.1 0.2\n"
                                                               for k in range(2, 2001))).encode(), "many.cif")]
    if suffix == ".pdb":
        fixed.append(("1e300 coordinates", b"ATOM      1 AU   AU  A   1    1e300   0.000   0.000  1.00  0.00"
                                           b"          AU\n", "big.pdb"))
    return strategy, check, fixed


def run_case(check, data: bytes, filename: str, timeout_s: float) -> str | None:
    """None if the reader behaved; else a one-line description of the failure."""
    from swaxs_lib.errors import SwaxsInputError

    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        check(data, filename)
    except CaseTimeout:
        return f"timeout: still running after {timeout_s:g} s"
    except AssertionError as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return f"unsound result: {where.line} {str(exc)[:200]}"
    except SwaxsInputError as exc:  # check() lets these through only when the message is right
        return f"SwaxsInputError escaped the check: {str(exc)[:200]}"
    except MemoryError:
        return "MemoryError (over the worker's address-space limit)"
    except BaseException as exc:  # noqa: BLE001 - any other exception is the finding
        if isinstance(exc, KeyboardInterrupt):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''} ({Path(where.filename).name}:{where.lineno})"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> float | None:
    """Reset this process's VmHWM to its current RSS (Linux ``/proc/self/clear_refs``); the RSS now, MiB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return _status_mib("VmRSS")


def worker(name: str, cases: int, timeout_s: float, trace_every: int, failures_dir: Path, seed: int) -> dict:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    strategy, check, fixed = reader_setup(name)
    signal.signal(signal.SIGALRM, _on_alarm)
    stats = {"reader": name, "cases": 0, "failures": 0, "failure_kinds": {}, "slowest_case_s": 0.0,
             "traced_peak_mib": 0.0, "traced_cases": 0, "case_rss_peak_delta_mib": 0.0,
             "cases_over_10_s": 0, "examples": []}
    failures_dir.mkdir(parents=True, exist_ok=True)
    slug = name.replace(" ", "_").replace(".", "").replace("/", "")

    def record(data: bytes, filename: str, problem: str) -> None:
        stats["failures"] += 1
        kind = problem.split(":")[0] if not problem.startswith("unsound") else problem[:120]
        stats["failure_kinds"][kind] = stats["failure_kinds"].get(kind, 0) + 1
        if len(stats["examples"]) < 20:
            path = failures_dir / f"{slug}_{len(stats['examples'])}{Path(filename).suffix or '.bin'}"
            if len(data) <= 1_000_000:
                path.write_bytes(data)
            stats["examples"].append({"file": str(path) if len(data) <= 1_000_000 else None, "name": filename,
                                      "problem": problem, "bytes": len(data)})

    @hypothesis_seed(seed)
    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case):
        data, ext = case
        filename = "fuzz" + ext
        k = stats["cases"]
        stats["cases"] += 1
        traced = trace_every > 0 and k % trace_every == 0
        if traced:
            tracemalloc.start()
        rss0 = reset_peak_rss()
        t0 = time.perf_counter()
        problem = run_case(check, data, filename, timeout_s)
        dt = time.perf_counter() - t0
        hwm = _status_mib("VmHWM")
        if rss0 is not None and hwm is not None and hwm - rss0 > stats["case_rss_peak_delta_mib"]:
            stats["case_rss_peak_delta_mib"] = hwm - rss0
        if traced:
            stats["traced_peak_mib"] = max(stats["traced_peak_mib"], tracemalloc.get_traced_memory()[1] / MIB)
            stats["traced_cases"] += 1
            tracemalloc.stop()
        stats["slowest_case_s"] = max(stats["slowest_case_s"], dt)
        stats["cases_over_10_s"] += dt > 10.0  # refused in the end, but only after unbounded work
        if problem:
            record(data, filename, problem)
        if stats["cases"] % 500 == 0:
            print(f"{name}: {stats['cases']} cases, {stats['failures']} failures", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    one()
    stats["wall_s"] = time.perf_counter() - t0
    stats["rate_per_s"] = stats["cases"] / stats["wall_s"] if stats["wall_s"] else None
    stats["maxrss_random_mib"] = maxrss_mib()
    stats["fixed"] = []
    for label, data, filename in fixed:  # no tracemalloc here: it slows million-line parses several-fold
        rss0 = reset_peak_rss()
        t0 = time.perf_counter()
        problem = run_case(check, data, filename, max(timeout_s, 120.0))
        dt = time.perf_counter() - t0
        hwm = _status_mib("VmHWM")
        if problem:
            record(data, filename, f"[{label}] {problem}")
        stats["fixed"].append({"case": label, "bytes": len(data), "seconds": round(dt, 3),
                               "rss_peak_delta_mib": None if rss0 is None or hwm is None else round(hwm - rss0, 1),
                               "maxrss_mib": round(maxrss_mib(), 1),
                               "outcome": problem or _outcome(check, data, filename)})
    stats["maxrss_end_mib"] = maxrss_mib()
    return stats


def _outcome(check, data: bytes, filename: str) -> str:
    """What the reader said about a fixed case that passed (its error line, or 'read')."""
    from swaxs_lib.errors import SwaxsInputError
    from tests import fuzz_corpus as fc

    try:
        if check is fc.check:
            fc.read_measurement_bytes(data, filename)
        elif check is fc.check_crystal:
            from swaxs_lib.structures.readers import read_crystal_cell
            read_crystal_cell(data, filename)
        else:
            import warnings

            from swaxs_lib.structures.readers import read_structure_bytes
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_structure_bytes(data, filename)
    except SwaxsInputError as exc:
        return "refused: " + str(exc)[:150]
    except BaseException as exc:  # noqa: BLE001
        return f"{type(exc).__name__}"
    return "read"


# ---------------------------------------------------------------- the driver

def print_table(rows: list[dict]) -> None:
    head = (f"{'reader':<14} {'cases':>7} {'failures':>8} {'wall s':>8} {'cases/s':>8} {'slowest s':>9} "
            f"{'>10 s':>6} {'case peak MiB':>13} {'traced MiB':>10} {'maxrss MiB':>10} {'+fixed MiB':>10}")
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['reader']:<14} worker failed: {r['error']}")
            continue
        print(f"{r['reader']:<14} {r['cases']:>7} {r['failures']:>8} {r['wall_s']:>8.1f} {r['rate_per_s']:>8.1f} "
              f"{r['slowest_case_s']:>9.2f} {r.get('cases_over_10_s', 'n/a'):>6} {r['case_rss_peak_delta_mib']:>13.1f} "
              f"{r['traced_peak_mib']:>10.1f} "
              f"{r['maxrss_random_mib']:>10.0f} "
              f"{r['maxrss_end_mib']:>10.0f}")
    print("\nFixed hostile cases (seconds, peak RSS over the RSS before the case in MiB, outcome):")
    for r in rows:
        for f in r.get("fixed", []):
            delta = "n/a" if f["rss_peak_delta_mib"] is None else f"{f['rss_peak_delta_mib']:.0f}"
            print(f"  {r['reader']:<14} {f['case']:<38} {f['seconds']:>7.2f} s {delta:>6} MiB  "
                  f"{f['outcome'][:110]}")
    failing = [r for r in rows if r.get("failures") or "error" in r]
    if failing:
        print("\nFailures by kind:")
        for r in failing:
            for kind, n in r.get("failure_kinds", {}).items():
                print(f"  {r['reader']:<14} {n:>6}  {kind}")
            for e in r.get("examples", [])[:5]:
                print(f"  {'':<14}   e.g. {e['file'] or e['name']}: {e['problem'][:140]}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=10_000, help="random cases per reader (default 10,000)")
    p.add_argument("--reader-cases", default="", help='per-reader overrides, e.g. "NXcanSAS HDF5=2000,xyz=500"')
    p.add_argument("--readers", default=",".join(READERS), help="comma-separated subset of: " + ", ".join(READERS))
    p.add_argument("--case-timeout", type=float, default=30.0, help="seconds a random case may run (default 30)")
    p.add_argument("--memory-limit-gb", type=float, default=4.0, help="address-space limit of a worker (default 4)")
    p.add_argument("--trace-every", type=int, default=20, help="tracemalloc every N-th case (0: never)")
    p.add_argument("--seed", type=int, default=19, help="hypothesis seed")
    p.add_argument("--failures-dir", default=str(REPO / "benchmarks" / "results" / "fuzz_failures"))
    p.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "fuzz_readers.json"))
    p.add_argument("--progress", action="store_true", help="show each worker's progress (every 500 cases)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:  # one reader, in this process; one JSON line on stdout
        limit = int(args.memory_limit_gb * 1024**3)
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
        stats = worker(args.worker, args.cases, args.case_timeout, args.trace_every, Path(args.failures_dir),
                       args.seed)
        print(json.dumps(stats))
        return 0

    readers = [r.strip() for r in args.readers.split(",") if r.strip()]
    unknown = set(readers) - set(READERS)
    if unknown:
        p.error(f"--readers: unknown {', '.join(sorted(unknown))}; expected some of {', '.join(READERS)}")
    overrides = {}
    for item in filter(None, (s.strip() for s in args.reader_cases.split(","))):
        name, _, n = item.rpartition("=")
        if name not in READERS or not n.isdigit():
            p.error(f"--reader-cases: {item!r}; expected READER=N with READER one of {', '.join(READERS)}")
        overrides[name] = int(n)
    print(f"reader fuzzing: {args.cases} cases per reader (overrides {overrides or 'none'}), seed {args.seed}, "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rows, t_start = [], time.time()
    for name in readers:
        cases = overrides.get(name, args.cases)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--cases", str(cases),
               "--case-timeout", str(args.case_timeout), "--memory-limit-gb", str(args.memory_limit_gb),
               "--trace-every", str(args.trace_every), "--seed", str(args.seed), "--failures-dir", args.failures_dir]
        t0 = time.time()
        done = subprocess.run(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                              stderr=None if args.progress else subprocess.PIPE, text=True, check=False)
        try:
            row = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            row = {"reader": name, "error": f"exit {done.returncode}: {(done.stderr or '').strip()[-300:]}",
                   "failures": 1}
        rows.append(row)
        print(f"  {name:<14} {row.get('cases', '?')} cases, {row.get('failures')} failures, {time.time() - t0:.0f} s",
              flush=True)
        out = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "seed": args.seed, "cases_requested": args.cases,
               "overrides": overrides, "wall_s": round(time.time() - t_start, 1),
               "load_average_end": os.getloadavg(), "rows": rows}
        path = Path(args.json)  # after every reader, so an interrupted run keeps what it measured
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=1))
    print_table(rows)
    print(f"\nJSON: {path}   ({out['wall_s']:.0f} s)")
    return 1 if any(r.get("failures") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
