"""Size from SAXS-only instrument windows: train the window size model and score it per window class.

Trains :mod:`swaxs_lib.ml.windows` on the ``train`` split of a database in the
store (default ``--db /work/mldb/ml.duckdb --name default``, the shipped
model's database), optionally writes it into a model folder (``--save DIR``:
``size_window.npz`` and the manifest's ``size_window`` entry), then scores
it on the database's held-out ``test-mono`` and ``test-poly20`` curves (seeds
of their own, never trained or calibrated on) seen through fixed windows:
Q_lo 0.02 or 0.05 1/Å × Q_hi 0.1, 0.2, 0.3, 0.45, 0.6 1/Å, and random windows (Q_min
0.003–0.05, Q_max 0.1–0.6 1/Å) through the public path.  Per window class:
the share of extents within one shell or 5 % (the size target), the median
absolute relative error, the 90 % interval's coverage, and the share the
model-free size check (:mod:`swaxs_lib.ml.domain`) wrongly calls out of range
(its false alarms on in-range particles); the random windows also the
volume-equivalent diameter within 5 % and the time per curve.  The database's
curves start at 0.02 1/Å, so a random Q_min below it reads from 0.02.

Prints a markdown table and writes the figures as JSON (``--json``).

    PYTHONPATH=. python benchmarks/ml_windows.py --save data/models/default
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.ml.domain import check_size_range  # noqa: E402
from swaxs_lib.ml.experts import group_labels, within_shell_or_5_percent  # noqa: E402
from swaxs_lib.ml.windows import (TARGETS, predict_window_size, train_window_size,  # noqa: E402
                                  window_knn, window_labels, window_name)
from swaxs_lib.store import Store  # noqa: E402

Q_LOS = (0.02, 0.05)
Q_HIS = (0.1, 0.2, 0.3, 0.45, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/work/mldb/ml.duckdb")
    parser.add_argument("--name", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="DIR", help="model folder to add size_window to")
    parser.add_argument("--load", metavar="DIR", help="score the size_window of this folder instead of training")
    parser.add_argument("--check-samples", type=int, default=600, help="curves per split for the size-check column")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "ml_windows.json"))
    args = parser.parse_args()

    from swaxs_lib.ml.models import DEFAULT_MODEL_DIR

    store = Store(args.db)
    table = store.load_samples(args.name)
    q, split = table.q_inv_angstrom, table.labels["split"]
    truth = window_labels(table.labels)
    train = split == "train"
    if args.load:
        from swaxs_lib.ml.models import load_bundle

        bundle = load_bundle(args.load)
        estimators, entry = bundle.extras["size_window"], bundle.manifest["size_window"]
    else:
        print(f"training on {int(train.sum())} curves ...", file=sys.stderr)
        estimators, entry = train_window_size(
            q, table.iq[train], {t: np.log(truth[t][train]) for t in TARGETS}, seed=args.seed,
            progress=lambda k, n, name: print(f"  window {k}/{n} {name}", file=sys.stderr),
            groups=group_labels(table.labels["family"][train]))
        print(f"trained in {entry['fit_s']} s", file=sys.stderr)
        if args.save:
            save(Path(args.save), estimators, entry)
    rg_range = tuple(json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())["guinier_rg_range_angstrom"])
    rng = np.random.default_rng(12345)
    results = {}
    rows = ["| split | Q window (1/Å) | n | extent within shell or 5 % | volume diameter within 5 % | "
            "median abs rel error (extent) | 90 % interval coverage (extent) | size check false alarms |",
            "|---|---|---|---|---|---|---|---|"]
    for name in ("test-mono", "test-poly20"):
        sel = np.where(split == name)[0]
        check_sel = rng.choice(sel, min(len(sel), args.check_samples), replace=False)
        for lo in Q_LOS:
            for hi in Q_HIS:
                predicted = window_knn(estimators, q, table.iq[sel], lo, hi)
                pred = {t: np.exp(predicted[:, j]) for j, t in enumerate(TARGETS)}
                ok = within_shell_or_5_percent(pred["extent"], truth["extent"][sel], truth["step"][sel])
                vol_ok = np.abs(pred["volume_diameter"] / truth["volume_diameter"][sel] - 1) <= 0.05
                half = entry["half_width_log"][window_name(lo, hi)]["extent"]
                covered = np.abs(np.log(pred["extent"] / truth["extent"][sel])) <= half
                keep = (q >= lo - 1e-9) & (q <= hi + 1e-9)
                alarms = [check_size_range(q[keep], table.iq[k, keep], rg_range).outside for k in check_sel]
                r = {"n": len(sel), "extent_within_shell_or_5_percent": round(float(ok.mean()), 4),
                     "volume_diameter_within_5_percent": round(float(vol_ok.mean()), 4),
                     "median_abs_rel_error_extent": round(float(np.median(np.abs(pred["extent"] /
                                                                                 truth["extent"][sel] - 1))), 4),
                     "interval_coverage_extent": round(float(covered.mean()), 4),
                     "size_check_false_alarms": round(float(np.mean(alarms)), 4), "size_check_n": len(alarms)}
                results[f"{name} {lo:g}-{hi:g}"] = r
                rows.append(f"| {name} | {lo:g}–{hi:g} | {len(sel)} | {r['extent_within_shell_or_5_percent']:.3f} | "
                            f"{r['volume_diameter_within_5_percent']:.3f} | {r['median_abs_rel_error_extent']:.3f} | "
                            f"{r['interval_coverage_extent']:.3f} | {r['size_check_false_alarms']:.3f} |")
                print(rows[-1], file=sys.stderr)
        # random instrument windows through the public path: Q_min log-uniform 0.003-0.05, Q_max 0.1-0.6
        ok, vol_ok, times = [], [], []
        for k in sel:
            lo = math.exp(rng.uniform(math.log(0.003), math.log(0.05)))
            hi = math.exp(rng.uniform(math.log(0.105), math.log(0.6)))  # the grid point below 0.1 is 0.097
            keep = (q >= lo) & (q <= hi)
            t0 = time.perf_counter()
            got = predict_window_size(estimators, entry, q[keep], table.iq[k, keep])
            times.append(time.perf_counter() - t0)
            ok.append(within_shell_or_5_percent(got["extent"], truth["extent"][k], truth["step"][k]))
            vol_ok.append(abs(got["volume_diameter"] / truth["volume_diameter"][k] - 1) <= 0.05)
        r = {"n": len(sel), "extent_within_shell_or_5_percent": round(float(np.mean(ok)), 4),
             "volume_diameter_within_5_percent": round(float(np.mean(vol_ok)), 4),
             "median_ms": round(float(np.median(times)) * 1e3, 2)}
        results[f"{name} random"] = r
        rows.append(f"| {name} | random: Q_min 0.003–0.05, Q_max 0.1–0.6 | {len(sel)} | "
                    f"{r['extent_within_shell_or_5_percent']:.3f} | {r['volume_diameter_within_5_percent']:.3f} | "
                    f"– | – | – |")
    print("\n".join(rows))
    print(f"\none curve through predict_window_size: {results['test-mono random']['median_ms']:.1f} ms (median)")
    out = {"windows": results, "entry": {k: v for k, v in entry.items() if k != "half_width_log"},
           "db": args.db, "name": args.name}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


def save(folder: Path, arrays, entry) -> None:
    """Add the window size model to a model folder (``size_window.npz`` and the manifest's entry)."""
    np.savez_compressed(folder / "size_window.npz", **arrays)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["size_window"] = entry
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"saved {folder / 'size_window.npz'} ({(folder / 'size_window.npz').stat().st_size / 1e6:.1f} MB)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
