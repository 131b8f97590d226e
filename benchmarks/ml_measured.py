"""Model-free domain checks (:mod:`swaxs_lib.ml.measured`): false alarms on held-out curves, and the measured table.

In-domain: every held-out curve of the shipped model's database (``test-mono`` and ``test-poly20``,
seeds of their own), read as the readers would give it (:class:`swaxs_lib.io.Measurement`, units
stated): I(Q) on 0.02–20 1/Å, the same cut to SAXS windows (0.02–0.3, 0.05–0.1, 0.02–0.6 1/Å), and
G(r) on 1–30 Å.  A reason from :func:`~swaxs_lib.ml.measured.domain_reasons` on any of them is a false
alarm (simulated curves carry no header, so only the units check can fire); so is the G(r) size check's
"above" (:mod:`swaxs_lib.ml.pdf_extent`) with each curve's own Q damping, and its "size not bounded" note
without one is counted by size.  Then every measured file
under ``--measured`` is predicted (:func:`~swaxs_lib.ml.measured.measured_table`) and the table printed.

    PYTHONPATH=. python benchmarks/ml_measured.py          # ~1 min on 2 shared cores
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.io import Measurement  # noqa: E402
from swaxs_lib.ml.measured import domain_reasons, format_measured, measured_table  # noqa: E402
from swaxs_lib.ml.models import DEFAULT_MODEL_DIR, load_bundle  # noqa: E402
from swaxs_lib.ml.pdf_extent import check_pdf_extent  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402

WINDOWS = {"I(Q) 0.02-20": (0.02, 20.0), "SAXS 0.02-0.3": (0.02, 0.3), "SAXS 0.05-0.1": (0.05, 0.1),
           "SAXS 0.02-0.6": (0.02, 0.6)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/work/mldb/ml.duckdb")
    parser.add_argument("--name", default="default")
    parser.add_argument("--measured", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    start = time.time()
    table = Store(args.db).load_samples(args.name, ["test-mono", "test-poly20"])
    q, r = table.q_inv_angstrom, table.r_angstrom
    out: dict = {"n_curves": len(table), "false_alarms": {}, "examples": {}}
    for label, (lo, hi) in WINDOWS.items():
        keep = (q >= lo) & (q <= hi)
        found = [domain_reasons(Measurement("iq", q[keep], row[keep].astype(float), None, "test", "inv_angstrom"))
                 for row in table.iq]
        out["false_alarms"][label] = float(np.mean([bool(f) for f in found]))
        out["examples"][label] = next((f[0] for f in found if f), None)
    found = [domain_reasons(Measurement("gr", r, row.astype(float), None, "test", "angstrom")) for row in table.gr]
    out["false_alarms"]["G(r) 1-30"] = float(np.mean([bool(f) for f in found]))
    out["examples"]["G(r) 1-30"] = next((f[0] for f in found if f), None)
    for label, rate in out["false_alarms"].items():
        print(f"{label:16s} false alarms {rate:.4f} of {len(table)}  {out['examples'][label] or ''}")
    # the G(r) size check (swaxs_lib.ml.pdf_extent) against the manifest's largest extent: with each curve's
    # true Q damping "above" is a false alarm; without it, "unbounded" (a note: the size is a lower bound) by size
    top = load_bundle(DEFAULT_MODEL_DIR).manifest["diameter_range_nm"][1] * 10.0
    q_damps = [json.loads(v)["q_damp_inv_angstrom"] for v in table.labels["variant_json"]]
    given = [check_pdf_extent(r, row, top, q_damp_inv_angstrom=qd).status for row, qd in zip(table.gr, q_damps)]
    out["false_alarms"]["G(r) envelope, Q_damp given"] = float(np.mean([s == "above" for s in given]))
    alone = np.array([check_pdf_extent(r, row, top).status for row in table.gr])
    extent = table.labels["diameter_angstrom"].astype(float) / 10.0
    out["gr_unbounded_by_extent_nm"] = {f"{a}-{b}": round(float(np.mean(alone[(extent >= a) & (extent < b)] == "unbounded")), 4)
                                        for a, b in ((0, 2), (2, 3.5), (3.5, 5), (5, 6), (6, 9))}
    print(f"G(r) envelope with the true Q_damp: 'above' (false alarm) {out['false_alarms']['G(r) envelope, Q_damp given']:.4f}"
          f" of {len(table)}; without it, 'size not bounded' by extent (nm): {out['gr_unbounded_by_extent_nm']}")
    if Path(args.measured).is_dir():
        measured = measured_table(load_bundle(DEFAULT_MODEL_DIR), args.measured)
        print(format_measured(measured))
        print(f"flag agrees with SOURCE.md on {measured['domain_agreement']} of {measured['n']} files; "
              f"missed: {measured['missed']}")
        out["measured"] = {k: measured[k] for k in ("n", "domain_agreement", "missed")}
    print(f"{time.time() - start:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
