"""Benchmark of the Debye I(Q) engine against DebyeCalculator and ASE's XrDebye.

For Au clusters of about 561 (Mackay icosahedron, 6 shells), 2,000, 5,000,
20,000 and 100,000 atoms (fcc spheres, a = 4.08 Å, every coordinate jittered
by a 0.05 Å Gaussian with a fixed seed) and 1,000 Q points from 0.5 to
20 1/Å, it times

* ``swaxs_lib.scattering.debye_intensity``, modes "fast" and "exact";
* DebyeCalculator on the CPU: ``pair_sum`` "grid" and "direct", float32 and
  float64 (its ``iq`` is half of our I(Q), so 2 * iq is compared);
* ASE's ``XrDebye`` with f = Z (any method other than "Iwasa"), damping 0,
  on every 20th Q point, its time scaled to 1,000 points;

and compares every curve with our exact sum on the same Q grid (f = Z for
ASE, Waasmaier–Kirfel f0(Q) for the others).  Peak memory of the fast mode
and the first call in a new process are measured in fresh subprocesses.

Run from the repository root::

    .venv/bin/python benchmarks/debye.py            # full run, ~10 min on 2 idle cores
    .venv/bin/python benchmarks/debye.py --quick    # 561 and 2,000 atoms

See benchmarks/README.md for the columns.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _machine import cpu_name, git_state, version  # noqa: E402  (the benchmarks/ folder is the script's path)

from swaxs_lib.scattering import debye_intensity  # noqa: E402
from swaxs_lib.structures import icosahedron, lattice_sphere  # noqa: E402

LATTICE_CONSTANT_ANGSTROM = 4.08
JITTER_ANGSTROM = 0.05
SEED = 20240501
Q_MIN, Q_MAX, N_Q = 0.5, 20.0, 1000
ICOSAHEDRON_N = 561
HUGE_N = 50_000  # from this nominal size on, only the fast modes run
ASE_Q_STRIDE = 20
METHODS = ("exact", "dc-grid", "dc-direct", "ase")
TARGETS = {"fast_5000_s": 0.050, "fast_100000_s": 10.0, "fast_100000_mib": 1024.0, "first_call_s": 2.0}

COLUMNS = [
    "cluster", "n_atoms", "method", "time_s", "median_s", "runs", "ratio_to_fast", "max_rel_err",
    "max_err_over_max", "err_ref", "tracemalloc_peak_mib", "rss_peak_mib", "rss_delta_mib", "load1", "note",
]


# ---------------------------------------------------------------- clusters

def build_cluster(nominal: int, ideal: bool = False):
    """(label, ase.Atoms) for a nominal size: the 6-shell icosahedron for 561, else an fcc sphere."""
    a = LATTICE_CONSTANT_ANGSTROM
    if nominal == ICOSAHEDRON_N:
        atoms = icosahedron("Au", 6, lattice_constant_angstrom=a).atoms
        label = "Au ico 6 shells"
    else:
        # fcc: a^3/4 per atom, so (pi/6) d^3 = N a^3 / 4
        diameter = a * (3.0 * nominal / (2.0 * math.pi)) ** (1.0 / 3.0)
        atoms = lattice_sphere("Au", diameter, "fcc", lattice_constant_angstrom=a).atoms
        label = f"Au fcc sphere d={diameter:.1f} A"
    if ideal:
        return label + " ideal", atoms
    rng = np.random.default_rng(SEED)
    atoms.positions = atoms.positions + rng.normal(0.0, JITTER_ANGSTROM, atoms.positions.shape)
    return label + " jitter", atoms


def q_grid_linspace() -> np.ndarray:
    return np.linspace(Q_MIN, Q_MAX, N_Q)


# ---------------------------------------------------------------- probes (run in fresh subprocesses)

def _proc_status_mib(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mib() -> float:
    # Not getrusage's ru_maxrss: Linux carries it across fork + exec, so a child started by a
    # process holding torch would report the parent's RSS as its own peak.
    return _proc_status_mib("VmHWM")


def _numba_state() -> dict:
    """Per kernel: (signatures compiled or loaded, cache hits, cache misses)."""
    from swaxs_lib.scattering import kernels

    state = {}
    for name in dir(kernels):
        dispatcher = getattr(kernels, name)
        if hasattr(dispatcher, "stats") and hasattr(dispatcher, "signatures"):
            stats = dispatcher.stats
            state[name] = (len(dispatcher.signatures), sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
    return state


def probe_memory(nominal: int) -> dict:
    """Peak RSS and tracemalloc peak of one fast call, after a warm-up on a 13-atom cluster."""
    _, atoms = build_cluster(nominal)
    q = q_grid_linspace()
    debye_intensity(icosahedron("Au", 2).atoms, q, mode="fast")  # loads the numba cache and xraydb
    gc.collect()
    numba_before = _numba_state()
    reset = _reset_peak_rss()
    rss_before = _proc_status_mib("VmRSS")
    t0 = time.perf_counter()
    debye_intensity(atoms, q, mode="fast")
    seconds = time.perf_counter() - t0
    rss_peak = _peak_rss_mib()
    compiled = _numba_state() != numba_before  # then the peak includes LLVM; the caller runs the probe again
    gc.collect()
    tracemalloc.start()
    debye_intensity(atoms, q, mode="fast")
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "n_atoms": len(atoms), "seconds": seconds, "rss_before_mib": rss_before, "peak_reset": reset,
        "rss_peak_mib": rss_peak, "rss_delta_mib": rss_peak - rss_before,
        "tracemalloc_peak_mib": traced_peak / 2**20, "compiled": compiled,
    }


def probe_first_call(nominal: int) -> dict:
    """Time of the first debye_intensity call in this process (imports and building excluded)."""
    _, atoms = build_cluster(nominal)
    q = q_grid_linspace()
    t0 = time.perf_counter()
    debye_intensity(atoms, q, mode="fast")
    seconds = time.perf_counter() - t0
    state = _numba_state()
    return {
        "n_atoms": len(atoms), "seconds": seconds,
        "cache_hits": sum(s[1] for s in state.values()), "cache_misses": sum(s[2] for s in state.values()),
    }


def run_probe(kind: str, nominal: int) -> dict:
    """Run a probe in a fresh interpreter (no torch imported) and return its JSON result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", kind, "--sizes", str(nominal)]
    for _ in range(3):
        out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"probe {kind} {nominal} failed:\n{out.stderr}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if not result.get("compiled"):
            return result
        print(f"  (probe {kind}: numba compiled during the measured call, e.g. kernels.py changed; running it again)")
    return result


# ---------------------------------------------------------------- timing and errors

def timed(fn, long_s: float, budget_s: float = 6.0, max_runs: int = 15):
    """(result, best, median, runs): wall times of ``fn`` after one warm-up call.

    A call that takes >= ``long_s`` is not repeated: its single time is reported.
    """
    t0 = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t0
    if first >= long_s:
        return result, first, first, 1
    runs = max(3, min(max_runs, int(budget_s / max(first, 1e-6))))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, min(times), float(np.median(times)), runs


def errors(intensity, reference):
    if reference is None:
        return None, None
    diff = np.abs(np.asarray(intensity, dtype=float) - reference)
    return float(np.max(diff / np.abs(reference))), float(np.max(diff) / np.max(np.abs(reference)))


# ---------------------------------------------------------------- the benchmark

def bench_cluster(label, atoms, nominal, q, args, fast_times, dc_times, with_memory) -> list[dict]:
    import torch
    from ase.utils.xrdebye import XrDebye
    from debyecalculator import DebyeCalculator

    n = len(atoms)
    rows = []
    huge = nominal >= HUGE_N
    do_exact = nominal <= args.exact_max_atoms and "exact" in args.methods

    def add(method, timing, err=(None, None), ref="", note="", scale=1.0):
        best, median, runs = timing[1] * scale, timing[2] * scale, timing[3]
        rows.append({
            "cluster": label, "n_atoms": n, "method": method, "time_s": best, "median_s": median, "runs": runs,
            "max_rel_err": err[0], "max_err_over_max": err[1], "err_ref": ref, "load1": os.getloadavg()[0],
            "note": note,
        })
        print(f"  {method:<30} best {best:10.4f} s  median {median:10.4f} s  runs {runs:>2}  "
              f"err {_fmt(err[0])} {_fmt(err[1])}  {note}", flush=True)

    print(f"\n{label}: N = {n}  (load average {os.getloadavg()[0]:.2f})", flush=True)
    timing = timed(lambda: debye_intensity(atoms, q, mode="fast"), args.long_s)
    fast, t_fast = timing[0], timing[1]
    fast_times[nominal] = t_fast
    fast_row = len(rows)
    add("ours fast", timing, note=f"dr = {fast.bin_width_angstrom:g} A")

    reference, ref_name = None, ""
    if do_exact:
        timing = timed(lambda: debye_intensity(atoms, q, mode="exact"), args.long_s)
        reference, ref_name = timing[0].intensity, "ours exact"
        add("ours exact", timing, note="the reference")
        rows[fast_row].update(zip(("max_rel_err", "max_err_over_max"), errors(fast.intensity, reference)))
        rows[fast_row]["err_ref"] = ref_name
    else:
        reference, ref_name = fast.intensity, "ours fast"
        rows[fast_row]["note"] += "; no exact sum (N > --exact-max-atoms)"

    if with_memory:
        mem = run_probe("memory", nominal)
        rows[fast_row].update(
            tracemalloc_peak_mib=mem["tracemalloc_peak_mib"], rss_peak_mib=mem["rss_peak_mib"],
            rss_delta_mib=mem["rss_delta_mib"],
        )
        print(f"  ours fast memory (fresh process): RSS peak {mem['rss_peak_mib']:.0f} MiB, "
              f"delta {mem['rss_delta_mib']:.1f} MiB, tracemalloc {mem['tracemalloc_peak_mib']:.1f} MiB", flush=True)

    dc_modes = [("grid", torch.float32), ("grid", torch.float64), ("direct", torch.float32), ("direct", torch.float64)]
    for pair_sum, dtype in dc_modes:
        name = f"DebyeCalculator {pair_sum} {str(dtype).replace('torch.', '')}"
        if f"dc-{pair_sum}" not in args.methods or (pair_sum == "direct" and nominal > args.exact_max_atoms):
            continue
        if huge and (pair_sum, dtype) != ("grid", torch.float32):
            continue
        if huge and args.skip_slow:
            print(f"  {name}: skipped (--skip-slow)")
            continue
        key = (pair_sum, str(dtype))
        smaller = [m for m in dc_times.get(key, {}) if m < nominal]
        if huge and smaller:
            m = max(smaller)
            estimate = dc_times[key][m] * (n / m) ** 2
            print(f"  {name}: estimated {estimate:.0f} s from {m} atoms (O(N^2))", flush=True)
            if estimate > args.slow_limit_s:
                print(f"  {name}: skipped (estimate above --slow-limit-s {args.slow_limit_s:g})")
                continue
        calc = DebyeCalculator(
            qmin=Q_MIN, qmax=args.dc_qmax, qstep=args.dc_qstep, qdamp=0.0, biso=0.0,
            device="cpu", dtype=dtype, pair_sum=pair_sum,
        )
        timing = timed(lambda: calc.iq(atoms), args.long_s)
        q_dc, i_dc = timing[0]
        dc_times.setdefault(key, {})[n] = timing[1]
        if not np.array_equal(np.asarray(q_dc, dtype=float), q):
            raise RuntimeError(f"{name}: its Q grid differs from the benchmark grid")
        add(name, timing, errors(2.0 * np.asarray(i_dc, dtype=float), reference), ref_name,
            note="2 x iq (its iq is half)")

    if n <= args.ase_max_atoms and "ase" in args.methods:
        q_sub = q[::ASE_Q_STRIDE]
        xrd = XrDebye(atoms, wavelength=1.0, damping=0.0, method="Z")  # not "Iwasa": f = Z, no angular factor

        def ase_curve():
            return np.array([xrd.get(x / (2.0 * math.pi)) for x in q_sub])

        timing = timed(ase_curve, args.long_s / (N_Q / len(q_sub)))
        const_ref = None
        if do_exact:
            const_ref = debye_intensity(atoms, q_sub, mode="exact", form_factor_source="constant").intensity
        add("ASE XrDebye (f=Z)", timing, errors(timing[0], const_ref), "ours exact f=Z" if do_exact else "",
            note=f"timed on {len(q_sub)} Q, scaled x{N_Q / len(q_sub):g}", scale=N_Q / len(q_sub))

    for row in rows:
        row["ratio_to_fast"] = row["time_s"] / t_fast
    return rows


def _num(seconds):
    return f"{seconds:.4f}" if seconds < 100 else f"{seconds:.1f}"


def _fmt(x, spec=".2e"):
    return "n/a" if x is None or x == "" else format(x, spec)


def print_table(rows):
    head = (f"{'N':>7}  {'method':<30} {'best (s)':>9} {'median (s)':>10} {'runs':>4} {'ratio':>8} {'max rel err':>11} "
            f"{'err/max I':>10} {'vs':<14} {'RSS Δ MiB':>9} {'tm MiB':>7} {'load':>5}")
    print("\n" + head)
    print("-" * len(head))
    last = None
    for r in rows:
        if r["cluster"] != last:
            print(f"# {r['cluster']}")
            last = r["cluster"]
        print(f"{r['n_atoms']:>7}  {r['method']:<30} {_num(r['time_s']):>9} {_num(r['median_s']):>10} {r['runs']:>4} "
              f"{r['ratio_to_fast']:>8.3g} {_fmt(r.get('max_rel_err')):>11} {_fmt(r.get('max_err_over_max')):>10} "
              f"{r.get('err_ref') or 'n/a':<14} {_fmt(r.get('rss_delta_mib'), '.1f'):>9} "
              f"{_fmt(r.get('tracemalloc_peak_mib'), '.1f'):>7} {r['load1']:>5.2f}")


def write_csv(rows, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if r.get(k) is None else r.get(k, "")) for k in COLUMNS})


def header(q):
    import numba
    import torch

    commit, dirty = git_state("swaxs_lib")
    cpu = cpu_name()
    lines = [
        f"swaxs Debye benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  commit {commit}{' (swaxs_lib modified)' if dirty else ''}",
        f"CPU {cpu}, {os.cpu_count()} logical cores; torch threads {torch.get_num_threads()}, "
        f"numba threads {numba.get_num_threads()} (layer {numba.threading_layer()}); load average "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, torch {torch.__version__}, "
        f"ase {version('ase')}, debyecalculator {version('debyecalculator')}, xraydb {version('xraydb')}",
        f"Q: {len(q)} points {q[0]:.4f}..{q[-1]:.4f} 1/A, step {q[1] - q[0]:.6f} (DebyeCalculator's float32 arange, "
        f"used by every method); Au, a = {LATTICE_CONSTANT_ANGSTROM} A, jitter sigma {JITTER_ANGSTROM} A per coordinate, seed {SEED}",
    ]
    print("\n".join(lines), flush=True)


def checks(rows, fast_times, first_calls):
    print("\nTarget checks")

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    by = {(r["n_atoms"], r["cluster"], r["method"]): r for r in rows}
    five = [r for r in rows if r["method"] == "ours fast" and abs(r["n_atoms"] - 5000) < 200 and "jitter" in r["cluster"]]
    if five:
        f = five[0]
        print(f"  5,000 atoms fast <= {TARGETS['fast_5000_s'] * 1e3:.0f} ms warm: best {f['time_s'] * 1e3:.1f} ms "
              f"(median {f['median_s'] * 1e3:.1f} ms)  {verdict(f['time_s'] <= TARGETS['fast_5000_s'])}")
        dcs = [r for (n, c, m), r in by.items() if n == f["n_atoms"] and c == f["cluster"] and m.startswith("DebyeCalculator")]
        if dcs:
            best = min(dcs, key=lambda r: r["time_s"])
            ours_err, their_err = f.get("max_rel_err"), best.get("max_rel_err")
            acc_ok = ours_err is not None and their_err is not None and ours_err <= their_err
            print(f"  5,000 atoms fast vs DebyeCalculator's fastest CPU mode ({best['method']}, {best['time_s']:.3f} s): "
                  f"{best['time_s'] / f['time_s']:.1f}x faster, max rel err {_fmt(ours_err)} vs {_fmt(their_err)}  "
                  f"{verdict(f['time_s'] < best['time_s'] and acc_ok)}")
    else:
        print("  5,000 atoms: not run")
    big = [r for r in rows if r["method"] == "ours fast" and r["n_atoms"] > 90_000]
    if big:
        b = big[0]
        mem = b.get("rss_delta_mib")
        print(f"  100,000 atoms fast <= {TARGETS['fast_100000_s']:.0f} s: {b['time_s']:.2f} s  "
              f"{verdict(b['time_s'] <= TARGETS['fast_100000_s'])}")
        print(f"  100,000 atoms fast < 1 GiB (RSS peak minus RSS before the call, fresh process): {_fmt(mem, '.1f')} MiB "
              f"(process peak {_fmt(b.get('rss_peak_mib'), '.0f')} MiB)  "
              f"{verdict(mem is not None and mem < TARGETS['fast_100000_mib'])}")
    else:
        print("  100,000 atoms: not run")
    if first_calls:
        times = [p["seconds"] for p in first_calls]
        print(f"  first call in a new process, {first_calls[0]['n_atoms']} atoms (numba cache on disk) < "
              f"{TARGETS['first_call_s']:.0f} s: runs {', '.join(f'{t:.3f}' for t in times)} s, worst {max(times):.3f} s  "
              f"{verdict(max(times) < TARGETS['first_call_s'])}"
              + ("" if all(p["cache_misses"] == 0 for p in first_calls) else "  (numba compiled: cache was not warm)"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="561,2000,5000,20000,100000",
                   help="comma-separated nominal atom counts; 561 = the 6-shell icosahedron, others fcc spheres")
    p.add_argument("--quick", action="store_true", help="only 561 and 2,000 atoms")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated subset of {','.join(METHODS)} (ours fast always runs: it is the time base)")
    p.add_argument("--csv", default=str(REPO / "benchmarks" / "results" / "debye.csv"), help="CSV output path")
    p.add_argument("--exact-max-atoms", type=int, default=5000,
                   help="largest nominal N for our exact sum and DebyeCalculator's direct sum (default 5000)")
    p.add_argument("--ase-max-atoms", type=int, default=2000, help="largest N for ASE's XrDebye (default 2000)")
    p.add_argument("--skip-slow", action="store_true", help=f"no DebyeCalculator at N >= {HUGE_N}")
    p.add_argument("--slow-limit-s", type=float, default=600.0,
                   help=f"skip DebyeCalculator at N >= {HUGE_N} if its O(N^2) estimate exceeds this (default 600 s)")
    p.add_argument("--no-ideal", action="store_true", help="skip the unjittered icosahedron")
    p.add_argument("--long-s", type=float, default=10.0,
                   help="a call slower than this is timed once (no repeats); default 10 s")
    p.add_argument("--first-call-runs", type=int, default=3)
    p.add_argument("--probe", choices=("memory", "first-call"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    sizes = [561, 2000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    args.methods = {m.strip() for m in args.methods.split(",") if m.strip()}
    if args.methods - set(METHODS):
        p.error(f"--methods: unknown {', '.join(sorted(args.methods - set(METHODS)))}; expected some of {','.join(METHODS)}")

    if args.probe:
        result = (probe_memory if args.probe == "memory" else probe_first_call)(sizes[0])
        print(json.dumps(result))
        return 0

    import torch
    from debyecalculator import DebyeCalculator

    # DebyeCalculator's grid is torch.arange(qmin, qmax, qstep) in float32; every method uses it.
    args.dc_qstep = (Q_MAX - Q_MIN) / (N_Q - 1)
    args.dc_qmax = Q_MAX + args.dc_qstep / 2
    probe_calc = DebyeCalculator(qmin=Q_MIN, qmax=args.dc_qmax, qstep=args.dc_qstep, qdamp=0.0, biso=0.0,
                                 device="cpu", dtype=torch.float64)
    q = np.ascontiguousarray(probe_calc.q.squeeze(-1).cpu().numpy(), dtype=float)
    if len(q) != N_Q:
        raise RuntimeError(f"DebyeCalculator's Q grid has {len(q)} points, expected {N_Q}")

    # compile or load every numba kernel before timing anything (also writes the on-disk cache)
    tiny = icosahedron("Au", 2).atoms
    debye_intensity(tiny, q, mode="fast")
    debye_intensity(tiny, q, mode="exact")
    header(q)

    rows, fast_times, dc_times = [], {}, {}
    for nominal in sizes:
        variants = [False]
        if nominal == ICOSAHEDRON_N and not args.no_ideal:
            variants = [True, False]
        for ideal in variants:
            label, atoms = build_cluster(nominal, ideal)
            rows += bench_cluster(label, atoms, nominal, q, args, fast_times, dc_times, with_memory=not ideal)
            write_csv(rows, Path(args.csv))  # partial results survive an interrupted run

    first_calls = [run_probe("first-call", 5000) for _ in range(args.first_call_runs)]
    print(f"\nfirst call in a new process ({first_calls[0]['n_atoms']} atoms, numba cache on disk): "
          + ", ".join(f"{r['seconds']:.3f} s (cache hits {r['cache_hits']}, misses {r['cache_misses']})"
                      for r in first_calls))

    print_table(rows)
    write_csv(rows, Path(args.csv))
    print(f"\nCSV: {args.csv}")
    checks(rows, fast_times, first_calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
