"""Commands on measured data: ``import``, ``datasets``, ``export``, ``rename``, ``delete`` and ``subtract``.

A DATA argument is a stored dataset id or a file path: an existing file is
read; anything else is looked up in the store.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from swaxs_lib.cli.common import out_path, say, write_csv
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import VALUE_COLUMNS, X_COLUMNS


def add_db_flag(parser: argparse.ArgumentParser) -> None:
    """``--db PATH``: the store file (default $SWAXS_DB or data/swaxs.duckdb)."""
    parser.add_argument("--db", metavar="PATH", help="store file (default: $SWAXS_DB or data/swaxs.duckdb)")


def open_store(args: argparse.Namespace):
    """The store named by --db, or the default one."""
    from swaxs_lib.store import Store

    return Store(args.db) if args.db else Store()


def _reader_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.two_theta and args.q_unit:
        raise SwaxsInputError("--two-theta: cannot be combined with --q-unit; expected one abscissa unit")
    if args.two_theta and args.wavelength_angstrom is None and args.energy_kev is None:
        raise SwaxsInputError("--two-theta: needs --wavelength-angstrom or --energy-kev to convert 2θ to Q")
    if args.r_unit and (args.q_unit or args.two_theta):
        raise SwaxsInputError("--r-unit: cannot be combined with --q-unit or --two-theta")
    if args.r_unit and args.kind not in (None, "gr"):
        raise SwaxsInputError(f"--r-unit: given with --kind {args.kind}; expected --kind gr")
    x_unit = "two_theta_deg" if args.two_theta else (args.q_unit or args.r_unit)
    return {
        "kind": args.kind, "x_unit": x_unit,
        "wavelength_angstrom": args.wavelength_angstrom, "energy_kev": args.energy_kev,
    }


def load_data(text: str, store_args: argparse.Namespace, **reader_options):
    """(measurement, dataset id or None) for a DATA argument."""
    from swaxs_lib.io import read_measurement

    path = Path(text)
    if path.is_file():
        return read_measurement(path, **reader_options), None
    from swaxs_lib.store import check_id

    try:
        check_id(text, "dataset")
    except SwaxsInputError:
        raise SwaxsInputError(f"{text}: neither an existing file nor a stored dataset id") from None
    record = open_store(store_args).get_dataset(text)
    return record.measurement, record.id


def _summary(measurement, **extra: Any) -> dict[str, Any]:
    x = measurement.x
    axis = "q" if measurement.domain == "q" else "r"
    unit = "inv_angstrom" if axis == "q" else "angstrom"
    return {
        **extra,
        "kind": measurement.kind,
        "n_points": measurement.n_points,
        f"{axis}_min_{unit}": float(x[0]),
        f"{axis}_max_{unit}": float(x[-1]),
        "x_unit_in_file": measurement.x_unit,
        "has_uncertainties": measurement.uncertainties is not None,
    }


def _columns(measurement) -> dict[str, np.ndarray]:
    value = VALUE_COLUMNS[measurement.kind]
    columns = {X_COLUMNS[measurement.domain]: measurement.x, value: measurement.values}
    if measurement.uncertainties is not None:
        columns[f"{value}_sigma"] = measurement.uncertainties
    return columns


def _cmd_import(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.io import read_input_file, read_measurement_bytes
    from swaxs_lib.io.plausibility import check_x_unit

    path = Path(args.file)
    raw = read_input_file(path)
    measurement = read_measurement_bytes(raw, path.name, **_reader_options(args))
    check = check_x_unit(measurement)
    if check.message:
        say(f"warning: {check.message}")
    store = open_store(args)
    same = store.find_identical_dataset(raw, measurement)
    if same is not None:
        say(f"{path.name}: already stored as {same.id} ({same.name!r}), read the same way; not stored twice")
        record, existing = same, True
    else:
        record, existing = store.add_dataset(args.name or path.stem, raw, path.name, measurement), False
        say(f"stored {path.name} as {record.id} in {store.path}")
    return _summary(measurement, id=record.id, name=record.name, filename=record.filename, existing=existing,
                    unit_check={"verdict": check.verdict, "feature": check.feature, "value": check.value,
                                "expected": check.expected, "unit_assumed": check.unit_assumed,
                                "suggested_x_unit": check.suggested_x_unit})


def _cmd_backup(args: argparse.Namespace) -> dict[str, Any]:
    store = open_store(args)
    counts = store.backup(args.target)
    say(f"backup: {store.path} -> {args.target}: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n))
    return {"db": str(store.path), "backup": str(args.target), "rows": counts}


def _cmd_datasets(args: argparse.Namespace) -> dict[str, Any]:
    store = open_store(args)
    rows = store.list_datasets()
    for d in rows:
        say(f"{d.id}  {d.kind:2}  {d.n_points:6d} points  {d.created_at:%Y-%m-%d %H:%M}  {d.name}")
    return {
        "db": str(store.path),
        "datasets": [
            {"id": d.id, "name": d.name, "filename": d.filename, "kind": d.kind, "n_points": d.n_points,
             "x_unit_in_file": d.x_unit, "created_at": d.created_at.isoformat()}
            for d in rows
        ],
    }


def _cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    out = out_path(args.out, (".csv",))
    record = open_store(args).get_dataset(args.id)
    columns = _columns(record.measurement)
    write_csv(out, columns)
    return _summary(record.measurement, id=record.id, name=record.name, out=str(out), columns=list(columns))


def _cmd_rename(args: argparse.Namespace) -> dict[str, Any]:
    summary = open_store(args).rename_dataset(args.id, args.name)
    say(f"renamed {summary.id} to {summary.name!r}")
    return {"id": summary.id, "name": summary.name, "filename": summary.filename, "kind": summary.kind}


def _cmd_delete(args: argparse.Namespace) -> dict[str, Any]:
    store = open_store(args)
    record = store.get_dataset(args.id)  # fails with the id's message before anything is asked
    if not args.yes:
        raise SwaxsInputError(
            f"--yes: not given; deleting {record.id} ({record.name!r}, {record.filename}) cannot be undone, "
            "expected --yes to confirm"
        )
    store.delete_dataset(record.id)
    say(f"deleted {record.id} ({record.name!r})")
    return {"id": record.id, "name": record.name, "filename": record.filename, "deleted": True}


def _cmd_subtract(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.corrections import subtract_background

    out = out_path(args.out, (".csv",))
    sample, sample_id = load_data(args.sample, args)
    solvent, solvent_id = load_data(args.solvent, args)
    result = subtract_background(
        sample, solvent, scale=args.scale, sample_transmission=args.sample_transmission,
        background_transmission=args.solvent_transmission, thickness_cm=args.thickness_cm,
    )
    columns = _columns(result)
    write_csv(out, columns)
    return _summary(result, out=str(out), sample=sample_id or args.sample, solvent=solvent_id or args.solvent,
                    scale=args.scale, columns=list(columns))


def register(sub) -> None:
    """Add the import, datasets, export, rename, delete and subtract commands to ``sub``."""
    p = sub.add_parser("import", help="read a measured curve and store it; prints its new id")
    p.add_argument(
        "file",
        metavar="FILE",
        help="text (.dat .chi .xy .txt .csv), PDFgetX3 (.gr .sq .fq .iq), NXcanSAS (.h5 .nxs) or canSAS XML (.xml)",
    )
    p.add_argument("--kind", choices=["iq", "sq", "fq", "gr"], help="what the curve is (default: from the file)")
    p.add_argument("--q-unit", choices=["inv_angstrom", "inv_nm"], help="Q unit in the file (default: from its header, else 1/Å)")
    p.add_argument("--two-theta", action="store_true", help="the first column is 2θ in degrees")
    p.add_argument("--wavelength-angstrom", type=float, help="X-ray wavelength (Å) for --two-theta")
    p.add_argument("--energy-kev", type=float, help="X-ray energy (keV) for --two-theta")
    p.add_argument("--r-unit", choices=["angstrom", "nm"], help="r unit of a G(r) file (default: from its header, else Å)")
    p.add_argument("--name", help="a name for the dataset (default: the file name)")
    add_db_flag(p)
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("backup", help="copy the whole store into a new file while it is in use (consistent)")
    p.add_argument("target", metavar="FILE.duckdb", help="the new file")
    add_db_flag(p)
    p.set_defaults(func=_cmd_backup)

    p = sub.add_parser("datasets", help="list the stored datasets")
    add_db_flag(p)
    p.set_defaults(func=_cmd_datasets)

    p = sub.add_parser("export", help="write a stored dataset as CSV in 1/Å or Å")
    p.add_argument("id", metavar="ID", help="dataset id")
    p.add_argument("--out", required=True, metavar="FILE.csv")
    add_db_flag(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("rename", help="give a stored dataset a new name")
    p.add_argument("id", metavar="ID", help="dataset id")
    p.add_argument("name", metavar="NAME", help="the new name")
    add_db_flag(p)
    p.set_defaults(func=_cmd_rename)

    p = sub.add_parser("delete", help="delete a stored dataset and its uploaded file (needs --yes)")
    p.add_argument("id", metavar="ID", help="dataset id")
    p.add_argument("--yes", action="store_true", help="confirm: the dataset cannot be restored")
    add_db_flag(p)
    p.set_defaults(func=_cmd_delete)

    p = sub.add_parser("subtract", help="sample minus scaled solvent/background, to CSV")
    p.add_argument("sample", metavar="SAMPLE", help="dataset id or file")
    p.add_argument("solvent", metavar="SOLVENT", help="dataset id or file")
    p.add_argument("--scale", type=float, default=1.0, help="factor on the solvent curve (default 1)")
    p.add_argument("--sample-transmission", type=float, help="sample transmission in (0, 1]")
    p.add_argument("--solvent-transmission", type=float, help="solvent transmission in (0, 1]")
    p.add_argument("--thickness-cm", type=float, help="sample thickness (cm): result per cm")
    p.add_argument("--out", required=True, metavar="FILE.csv")
    add_db_flag(p)
    p.set_defaults(func=_cmd_subtract)
