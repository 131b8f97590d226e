"""Predictions on measured files: model-free domain checks and the table ``evaluate`` writes.

The models were trained on simulated one-element clusters of Au, Ag, Pt, Pd,
Cu and Ni (0.8–7.2 nm).  A measured file can be outside that in ways the
novelty score does not see (a CdSe particle's G(r) lies among the training
curves' in the models' feature space), so before the models answer, what the
file itself says is checked without them (:func:`domain_reasons`):

* **composition**: the header names a composition (PDFgetX2/X3, PDFgetN,
  xPDFsuite; :func:`swaxs_lib.io.header.header_facts`) that implies no single
  element of the database (``Cd Se``, an alloy ``Au Ag``, ``Fe``);
* **units**: the curve's own features are implausible in the unit it was read
  in (:func:`swaxs_lib.io.plausibility.check_x_unit`: a G(r) whose first peak
  is not at an interatomic distance, a Guinier radius or Q range that fits
  1/nm read as 1/Å).

Each reason makes the prediction out of domain and tempers its probabilities
as a novelty of :data:`~swaxs_lib.ml.predict.KNOWN_OUT_NOVELTY` would.  The
Guinier size check and the novelty scores run inside :func:`~swaxs_lib.ml.predict.predict`.

:func:`measured_table` predicts every measured curve of a folder of data
folders (``../shared/data``: one folder per sample with a ``SOURCE.md``) the
way the ``predict`` command does (the header's element when it names one)
and sets each beside what its ``SOURCE.md`` says (:data:`SOURCE_SAYS`).

Validation: on 1,200 held-out test curves of the shipped database (I(Q) on
0.02–20 1/Å, I(Q) cut to SAXS windows, G(r) 1–30 Å) the units check is never
"implausible" (0 false alarms; ``benchmarks/ml_measured.py``); the composition
check needs a header, which simulated curves lack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import ELEMENTS

#: Files in the data folders that are not measured curves (fit results, parameters, structures).
NOT_CURVES: dict[str, str] = {
    "AluminaUSAXS_IrenaTenShotsResults.csv": "Irena size-distribution result, not a measured curve",
    "AluminaUSAXS_irenaSingleShotResults.csv": "Irena size-distribution result, not a measured curve",
    "InputParametersUsed4AluminaData.csv": "Irena fit settings, not a measured curve",
}
#: Folders of simulated curves kept beside the measured ones (``tests/data``): not predicted.
NOT_MEASURED_FOLDERS: dict[str, str] = {"agbeh_simulated": "a simulated silver behenate curve, not a measurement"}
#: File name endings read as curves.
CURVE_SUFFIXES = (".gr", ".sq", ".fq", ".iq", ".xml", ".h5", ".nxs", ".dat", ".csv", ".chi", ".xy", ".txt")

#: Per data folder: the sample as its SOURCE.md describes it, and whether it is a cluster of the database
#: (one of its elements, a nanoparticle): "in" or "out" (what a correct domain check must answer).
SOURCE_SAYS: dict[str, tuple[str, str]] = {
    "au144_pdf": ("Au144 thiolate clusters, X-ray PDF; core ~1.6–2 nm, icosahedral/Mackay-like (literature)", "in"),
    "pt_np_jq_pdf": ("Pt nanoparticles (series S1–S3), X-ray PDF, Q_max 22; fcc Pt; no size stated", "in"),
    "au_np_scattbo": ("Au nanoparticles, Mo Kα lab PDF and S(Q), Q 2.4–10 1/Å; no size stated", "in"),
    "cdse_np_pdfgui": ("CdSe (wurtzite), not a metal: 3 nm particles (PDFgui sphere 30.30 Å) and bulk", "out"),
    "ni_srfit": ("bulk Ni (rod, powder), not a nanoparticle: a = 3.527 Å", "out"),
    "alumina_usaxs": ("alumina (Al2O3) powder, USAXS, Q 2.5e-4–0.1 1/Å; Irena sizes 25–10,000 Å", "out"),
    "ludox_silica_sans": ("Ludox colloidal silica, SANS (LOQ), I in 1/cm; structure-factor peak near 0.02 1/Å",
                          "out"),
}

#: The instrument's Q damping (1/Å) of a measured G(r), where known apart from the file, and where it comes from:
#: ``predict --qdamp`` as a lab would give it (a calibrant's), so the G(r) size check can tell bulk apart.
INSTRUMENT_Q_DAMP: dict[str, tuple[float, str]] = {
    "CdSe-3nm.gr": (0.0486, "the PDFgui tutorial's, fixed in its fits (SOURCE.md)"),
    "CdSe-bulk.gr": (0.0486, "the PDFgui tutorial's, fixed in its fits (SOURCE.md)"),
    # the file is itself a calibrant: `refine ni-q27r60-xray.gr --model crystal --element Ni --q-max 27 --x-max 60
    # --free qdamp` gives 0.0502 ± 0.0001 (R_w 0.12), a = 3.5244 Å (SOURCE.md: 3.527)
    "ni-q27r60-xray.gr": (0.0502, "refined on this file as on a calibrant (`refine --model crystal --free qdamp`)"),
}


def composition_reason(facts) -> str | None:
    """Why a header's composition puts the sample outside the database (one element of :data:`ELEMENTS`), or None.

    Examples
    --------
    >>> from swaxs_lib.io.header import HeaderFacts
    >>> composition_reason(HeaderFacts("x.gr", (("Cd", 1.0), ("Se", 1.0)), "composition = CdSe"))[:55]
    'the header says composition = CdSe: no single element o'
    >>> "Fe is not one of them" in composition_reason(HeaderFacts("x.gr", (("Fe", 1.0),), "composition = Fe", (), "Fe"))
    True
    >>> print(composition_reason(HeaderFacts("x.gr", (("Pt", 1.0),), "composition = Pt", (), "Pt")))
    None
    """
    if not facts.composition or facts.element in ELEMENTS:
        return None
    why = facts.element_note or (f"{facts.element} is not one of them" if facts.element
                                 else f"{', '.join(facts.elements)} name none alone")
    return (f"the header says {facts.composition_text}: no single element of the database "
            f"({', '.join(ELEMENTS)}; {why}), so the sample is not a cluster the models were trained on")


def domain_reasons(measurement, facts=None) -> tuple[str, ...]:
    """The model-free reasons (module docstring) that ``measurement`` is outside the models' domain.

    Parameters
    ----------
    measurement : swaxs_lib.io.Measurement
    facts : swaxs_lib.io.header.HeaderFacts, optional
        Its header facts (read from ``measurement`` when not given).

    Returns
    -------
    tuple of str
        One sentence per reason; empty when none applies.
    """
    from swaxs_lib.io.header import header_facts
    from swaxs_lib.io.plausibility import check_x_unit

    facts = header_facts(measurement) if facts is None else facts
    reasons = []
    why = composition_reason(facts)
    if why:
        reasons.append(why)
    check = check_x_unit(measurement)
    if check.verdict == "implausible":
        reasons.append(f"units: {check.message}")
    return tuple(reasons)


def measured_files(folder: str | Path) -> list[Path]:
    """The measured curves under ``folder``/*/ (sorted; :data:`NOT_CURVES` and non-curve files left out)."""
    root = Path(folder)
    if not root.is_dir():
        raise SwaxsInputError(f"measured data folder: {root} is not a folder; expected one holding a folder per "
                              "sample, each with a SOURCE.md")
    return sorted(p for p in root.glob("*/*") if p.is_file() and p.suffix.lower() in CURVE_SUFFIXES
                  and p.name not in NOT_CURVES and p.parent.name not in NOT_MEASURED_FOLDERS)


def predict_file(bundle, path: str | Path) -> dict[str, Any]:
    """One row of the measured table: the ``predict`` command's answer on ``path``, in short.

    ``in_domain`` is the prediction's (a window not covered is a note, not a reason); ``flagged`` is whether it is out of domain for another reason (``out_of_domain_reasons``:
    the model-free checks, the size range, a novelty above 1, a size at the database's top); the
    coverage notes are in ``notes``.  A file the reader or the models refuse is ``refused`` (the message)
    and flagged.
    """
    from swaxs_lib.io import read_measurement
    from swaxs_lib.io.header import choose_element, header_facts
    from swaxs_lib.ml.predict import model_input, predict

    path = Path(path)
    says, expected = SOURCE_SAYS.get(path.parent.name, ("(folder not described here: see its SOURCE.md)", "?"))
    row: dict[str, Any] = {"folder": path.parent.name, "file": path.name, "source_says": says,
                           "expected_domain": expected}
    try:
        m = read_measurement(path)
        facts = header_facts(m)
        row.update(kind=m.kind, x_unit=m.x_unit, x_range=[float(m.x.min()), float(m.x.max())],
                   header_composition=facts.composition_text, header_element=facts.element)
        reasons = domain_reasons(m, facts)
        choice = choose_element(None, facts)
        kind, x, y, notes = model_input(m.kind, m.x, m.values, choice.element)
        q_damp = INSTRUMENT_Q_DAMP[path.name][0] if kind == "gr" and path.name in INSTRUMENT_Q_DAMP else None
        row["q_damp"] = q_damp
        p = predict(bundle, kind, x, y, element=choice.element, top=1, domain_reasons=reasons,
                    element_source="header" if choice.from_header else "user", q_damp_inv_angstrom=q_damp)
    except SwaxsInputError as exc:
        row.update(refused=str(exc), in_domain=False, flagged=True, out_of_domain_reasons=[f"refused: {exc}"], domain_reasons=[],
                   notes=[])
        return row
    novelty = max(p.novelty.values()) if p.novelty else None
    from swaxs_lib.ml.routing import COVERAGE_NOTES

    out = [w for w in p.warnings if not w.startswith(COVERAGE_NOTES)]
    row.update(
        refused=None, in_domain=p.in_domain, shape=p.shape, shape_probability=p.shape_probability,
        extent_nm=p.extent_nm, extent_interval_nm=p.extent_interval_nm, volume_diameter_nm=p.volume_diameter_nm,
        element=p.element, element_source=p.element_source, element_probability=p.element_probability,
        size_check=p.size_range.get("status"), max_novelty=novelty, models=list(p.models),
        flagged=bool(out), out_of_domain_reasons=out, domain_reasons=list(reasons),
        notes=list(notes) + [w for w in p.warnings if w.startswith(COVERAGE_NOTES)])
    return row


def measured_table(bundle, folder: str | Path) -> dict[str, Any]:
    """Every measured curve under ``folder`` predicted (:func:`predict_file`), and how the domain flag did.

    Returns
    -------
    dict
        ``rows`` (one per file), ``folder``, ``skipped`` (file -> why: :data:`NOT_CURVES`), and
        ``domain_agreement``: the share of files of a known expectation (:data:`SOURCE_SAYS`) whose
        ``flagged`` is what the sample is (out-of-domain samples flagged, in-domain ones not), and
        ``missed`` the files where it is not.
    """
    rows = [predict_file(bundle, p) for p in measured_files(folder)]
    known = [r for r in rows if r["expected_domain"] in ("in", "out")]
    agree = [r["flagged"] == (r["expected_domain"] == "out") for r in known]
    skipped = {p.name: why for p in Path(folder).glob("*/*") if (why := NOT_CURVES.get(p.name))}
    skipped.update({f"{name}/": why for name, why in NOT_MEASURED_FOLDERS.items() if (Path(folder) / name).is_dir()})
    return {"folder": str(folder), "rows": rows, "skipped": skipped, "n": len(rows),
            "domain_agreement": round(sum(agree) / len(agree), 4) if agree else None,
            "missed": [r["file"] for r, ok in zip(known, agree) if not ok]}


def _short_reason(row: dict[str, Any]) -> str:
    out = []
    for w in row.get("out_of_domain_reasons", []):
        if w.startswith("size out of range"):
            w = (f"larger than the ladder or bulk (G(r) envelope, Q_damp {row.get('q_damp')})"
                 if row.get("kind") == "gr" else "size outside the ladder (Guinier check)")
        elif w.startswith("novelty"):
            if any(o.startswith("novelty") for o in out):
                continue
            w = f"novelty {row['max_novelty']:.2f} > 1"
        elif w.startswith("the header says"):
            w = f"header composition {row['header_composition']!r}: no element of the database"
        elif w.startswith("predicted extent") and "top" in w:
            w = "extent at the top of the ladder, not known to lie inside"
        out.append(w[:110])
    return "; ".join(out)


def format_measured(table: dict[str, Any]) -> str:
    """The measured table as Markdown (for the README and the docs)."""
    lines = ["| file | SOURCE.md says | shape (p) | extent nm [90 %] | element (from) | flagged out of domain: why |",
             "|---|---|---|---|---|---|"]
    for r in table["rows"]:
        name = f"{r['folder']}/{r['file']}" + (f" (Q_damp {r['q_damp']:g})" if r.get("q_damp") is not None else "")
        flag = ("**yes**: " + _short_reason(r)) if r["flagged"] else "no"
        if r.get("refused"):
            lines.append(f"| {name} | {r['source_says']} | – | – | – | {flag} |")
            continue
        shape = f"{r['shape']} ({r['shape_probability']:.2f})" if r["shape"] else "– (no WAXS)"
        size = (f"{r['extent_nm']:.2f} [{r['extent_interval_nm'][0]:.2f}, {r['extent_interval_nm'][1]:.2f}]"
                if r["extent_nm"] is not None else ("– (no SAXS)" if r["size_check"] is None else "–"))
        element = f"{r['element']} ({r['element_source']})" if r["element"] else "–"
        lines.append(f"| {name} | {r['source_says']} | {shape} | {size} | {element} | {flag} |")
    return "\n".join(lines)


__all__ = ["CURVE_SUFFIXES", "INSTRUMENT_Q_DAMP", "NOT_CURVES", "NOT_MEASURED_FOLDERS", "SOURCE_SAYS", "composition_reason", "domain_reasons", "format_measured",
           "measured_files", "measured_table", "predict_file"]
