"""Which size a SAXS-only curve determines: the window model's extent and volume-equivalent diameter by shape and size.

On the shipped model database's held-out test splits (``test-mono``, ``test-poly20``; seeds of their
own), the shipped window size model of one SAXS window (default 0.02–0.3 1/Å) predicts the extent and
the volume-equivalent diameter; printed: the share within one shell or 5 % (the volume diameter's shell
is the extent's step scaled to it, :func:`swaxs_lib.ml.windows.volume_step`) and within 5 %, by true
size and by true shape.  docs/ml_instruments.md quotes it.

    PYTHONPATH=. python benchmarks/ml_saxs_size.py [--window 0.02-0.3]     # ~20 s
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.ml.experts import within_shell_or_5_percent  # noqa: E402
from swaxs_lib.ml.models import DEFAULT_MODEL_DIR, load_bundle  # noqa: E402
from swaxs_lib.ml.windows import volume_step, window_knn, window_labels  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/work/mldb/ml.duckdb")
    parser.add_argument("--name", default="default")
    parser.add_argument("--window", default="0.02-0.3")
    args = parser.parse_args()
    lo, hi = (float(v) for v in args.window.split("-"))
    bundle = load_bundle(DEFAULT_MODEL_DIR)
    test = Store(args.db).load_samples(args.name, ["test-mono", "test-poly20"])
    truth = window_labels(test.labels)
    predicted = window_knn(bundle.extras["size_window"], test.q_inv_angstrom, test.iq, lo, hi)
    extent_ok = within_shell_or_5_percent(np.exp(predicted[:, 0]), truth["extent"], truth["step"])
    volume_ok = within_shell_or_5_percent(np.exp(predicted[:, 2]), truth["volume_diameter"], volume_step(truth))
    volume_5 = np.abs(np.exp(predicted[:, 2]) / truth["volume_diameter"] - 1) <= 0.05
    split, shape = test.labels["split"], test.labels["shape"]
    print(f"window {args.window} 1/Å: share within one shell or 5 % (extent, volume diameter), volume diameter within 5 %")
    for s in ("test-mono", "test-poly20"):
        groups = [(f"extent {a}-{b} nm", (truth["extent"] >= a) & (truth["extent"] < b))
                  for a, b in ((0, 2), (2, 3.5), (3.5, 5), (5, 9))]
        groups += [(name, shape == name) for name in sorted(set(shape))] + [("all", np.ones(len(shape), bool))]
        for label, rows in groups:
            m = (split == s) & rows
            print(f"{s:12s} {label:22s} n={m.sum():4d}  extent {extent_ok[m].mean():.3f}  "
                  f"volume diameter {volume_ok[m].mean():.3f}  (within 5 %: {volume_5[m].mean():.3f})")


if __name__ == "__main__":
    main()
