"""Does ``train`` reproduce a model folder?  Two folders compared: arrays, held-out figures, predictions.

``train`` on the same database and seed must give the shipped folder back.  Compared here: every
``.npy``/``.npz`` array (bit for bit), the manifests apart from timings (``fit_s``, ``trained_at``),
every held-out figure of ``evaluation.json`` (``splits`` and ``windows``), and the full ``predict``
answer of both folders on ``--n`` held-out curves of the database (I(Q) and G(r) each, seeded).  The
``.skops`` files are compared by what they predict, not by their bytes (a zip of pickles).

    PYTHONPATH=. python -m swaxs_lib train --db COPY.duckdb --out-dir /tmp/retrain   # ~70 min on 2 shared cores
    PYTHONPATH=. python benchmarks/ml_reproduce.py data/models/default /tmp/retrain --db COPY.duckdb   # ~1 min
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.ml.models import load_bundle  # noqa: E402
from swaxs_lib.ml.predict import predict  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402

#: Manifest entries that record when and how fast, not what was learned.
TIMINGS = ("fit_s", "trained_at")


def differences(a, b, path: str = "") -> list[str]:
    """Paths where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str) for d in differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shipped", type=Path)
    parser.add_argument("retrained", type=Path)
    parser.add_argument("--db", default="/work/mldb/ml.duckdb")
    parser.add_argument("--name", default="default")
    parser.add_argument("--n", type=int, default=40, help="held-out curves predicted by both (default 40)")
    args = parser.parse_args()
    a, b = args.shipped, args.retrained
    arrays = {}
    for path in sorted(a.glob("*.np[yz]")):
        x, y = np.load(path, allow_pickle=False), np.load(b / path.name, allow_pickle=False)
        if path.suffix == ".npz":
            arrays[path.name] = set(x.files) == set(y.files) and all(np.array_equal(x[k], y[k]) for k in x.files)
        else:
            arrays[path.name] = x.shape == y.shape and np.array_equal(x, y)
    manifest = [d for d in differences(*(json.loads((f / "manifest.json").read_text()) for f in (a, b)))
                if d.rsplit("/", 1)[-1] not in TIMINGS]
    ea, eb = (json.loads((f / "evaluation.json").read_text()) for f in (a, b))
    figures = differences({k: ea[k] for k in ("splits", "windows")}, {k: eb[k] for k in ("splits", "windows")})
    bundles = load_bundle(a), load_bundle(b)
    test = Store(args.db).load_samples(args.name, ["test-mono", "test-poly20"])
    rows = np.random.default_rng(0).choice(len(test.iq), min(args.n, len(test.iq)), replace=False)
    same = total = 0
    for i in rows:
        for kind, x, y in (("iq", test.q_inv_angstrom, test.iq[i]), ("gr", test.r_angstrom, test.gr[i])):
            answers = [predict(bundle, kind, x, y, top=3).to_dict() for bundle in bundles]
            same += answers[0] == answers[1]
            total += 1
    out = {"arrays_identical": f"{sum(arrays.values())} of {len(arrays)}",
           "arrays_differing": [k for k, v in arrays.items() if not v],
           "manifest_differences_beyond_timings": manifest, "held_out_figure_differences": figures,
           "identical_predictions": f"{same} of {total}"}
    for key, value in out.items():
        print(f"{key:38s} {value}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
