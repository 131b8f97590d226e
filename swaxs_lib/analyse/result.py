"""What an analysis keeps: the ranked candidates, the screen, the mixture, the size window, the prior.

Frozen dataclasses with ``to_json``/``from_json`` (:mod:`swaxs_lib.versioned`); the ``analyse`` job
stores :meth:`AnalysisResult.to_json` and the page, the command and the report read it back.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from swaxs_lib.mixture import MixtureResult
from swaxs_lib.models.parameters import column_name
from swaxs_lib.refine.significance import RankTest
from swaxs_lib.sweep import Candidate
from swaxs_lib.versioned import SCHEMA_KEY, as_mapping, fields_equal, plain, reading, schema_of

#: Stages of an analysis, in order (the job's progress names the one running).
STAGES = ("window", "prior", "screen", "refine", "crystal", "relax", "mixture")
#: How the analysis's statements of what the data cannot decide begin (``AnalysisResult.warnings``; the other
#: warnings are notes on what the analysis did).
UNDECIDED = ("the data cannot tell", "sizes in the best group", "the best r_w is", "not determined by the data",
             "q damping was refined", "an accepted mixture")
#: Refined values a row shows, in this order (by base name; per-element ones as ``u_Au``...).
ROW_VALUES = ("scale", "expansion", "u", "b", "delta2", "qdamp", "spdiameter", "c0", "c1")


@dataclass(frozen=True)
class AnalysisRow:
    """One candidate as the analysis ranks it.

    Attributes
    ----------
    rank : int
        1 for the best; 0 for a candidate that was only screened.
    label : str
        ``"Au icosahedron shells=4"``; relaxed versions end in ``" (EMT-relaxed)"``.
    family, subfamily : str
        :data:`swaxs_lib.candidates.FAMILIES` (``"structure"`` for an uploaded one).
    stage : str
        ``"screened"`` (fit with delta2 and Q damping held), ``"refined"`` (every parameter),
        ``"relaxed"`` (EMT-relaxed, then refined like the others).
    candidate : Candidate
        How to build it again (a relaxed row: the unrelaxed start; ``cluster_key`` holds the relaxed one).
    n_atoms : int
        0 for the attenuated crystal.
    extent_angstrom, volume_diameter_angstrom : float
        Sizes as docs/sizes.md defines them (the attenuated crystal: NaN and its refined ``spdiameter``).
    rw : float
        R_w of this row's fit.
    rw_screen : float
        R_w of the screen (NaN for rows not screened: relaxed, crystal, uploaded).
    best_group : bool
        The data cannot tell it from the best (F-test at ``alpha``; True for the best).
    p_value : float or None
        Against the best (None for the best and screened-only rows).
    energy_ev_per_atom : float or None
        EMT energy per atom of the structure fitted (None where EMT has no parameters or not computed).
    values : tuple of (str, float, float or None, str)
        Refined values (name, value, standard uncertainty, unit ``"Å"``, ``"Å²"``, ``"1/Å"`` or ``""``),
        :data:`ROW_VALUES` order.
    result_id : str
        The stored fit (the store's result id).
    cluster_key : str
        The store's key of the relaxed cluster (``""`` otherwise).
    relaxed_from : str
        Label of the unrelaxed row (relaxed rows only).
    settings : mapping
        The fit's settings (fit range, Q window, background): what a hand-off needs.
    """

    rank: int
    label: str
    family: str
    subfamily: str
    stage: str
    candidate: Candidate
    n_atoms: int
    extent_angstrom: float
    volume_diameter_angstrom: float
    rw: float
    rw_screen: float = math.nan
    best_group: bool = False
    p_value: float | None = None
    energy_ev_per_atom: float | None = None
    values: tuple[tuple[str, float, float | None, str], ...] = ()
    result_id: str = ""
    cluster_key: str = ""
    relaxed_from: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)

    __eq__ = fields_equal

    def value(self, name: str) -> float | None:
        """A refined value by name (``expansion``, ``u_Au``...), None when the fit has none."""
        return next((v for n, v, _, _ in self.values if n == name), None)

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["candidate"] = self.candidate.to_json()
        out["values"] = [list(v) for v in self.values]
        return plain(out)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "AnalysisRow":
        with reading("analysis row"):
            values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
            values["candidate"] = Candidate.from_json(data["candidate"])
            values["values"] = tuple((str(n), float(v), None if s is None else float(s), str(u))
                                     for n, v, s, u in data["values"])
            for name in ("extent_angstrom", "volume_diameter_angstrom", "rw", "rw_screen"):
                values[name] = math.nan if values.get(name) is None else float(values[name])
            return cls(**values)


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis of one curve.

    Attributes
    ----------
    kind : str
        The data's kind (``"gr"``, ``"iq"``).
    element : str
    settings : mapping
        What was asked (families, relax_top, alpha, options) and the fit range used.
    window : mapping
        :meth:`swaxs_lib.size_window.SizeWindow.to_dict` of the data, plus ``used`` (the extent
        window the candidates were enumerated in) and ``rule``.
    prior : mapping or None
        The ML prediction (:meth:`~swaxs_lib.ml.predict.Prediction.to_dict`, without matches), or None
        when no model could answer (the reason is in ``warnings``).
    rows : tuple of AnalysisRow
        Fully refined and relaxed candidates, ranked by R_w (best first).
    screened : tuple of AnalysisRow
        Every candidate of the screen (stage ``"screened"``), by screen R_w.
    test : RankTest or None
        Every row of ``rows`` against the best.
    mixture : MixtureResult or None
        The mixture fit over the refined rows (None when fewer than two could enter).
    mixture_labels : tuple of str
        The label of each candidate given to the mixture, in its index order.
    timings_s : tuple of (str, float)
        Wall time per stage (s).
    counts : mapping
        Candidates per family, screened, refined, relaxed, from the cache.
    skipped : tuple of (str, str)
        Candidates that could not be built or refined, and why.
    warnings : tuple of str
        What the data cannot decide, and anything the analysis had to leave out.
    versions : mapping
        Package versions for the report.
    """

    SCHEMA: ClassVar[int] = 1

    kind: str
    element: str
    settings: Mapping[str, Any]
    window: Mapping[str, Any]
    prior: Mapping[str, Any] | None
    rows: tuple[AnalysisRow, ...]
    screened: tuple[AnalysisRow, ...] = ()
    test: RankTest | None = None
    mixture: MixtureResult | None = None
    mixture_labels: tuple[str, ...] = ()
    timings_s: tuple[tuple[str, float], ...] = ()
    counts: Mapping[str, Any] = field(default_factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    versions: Mapping[str, str] = field(default_factory=dict)

    __eq__ = fields_equal

    @property
    def best(self) -> AnalysisRow | None:
        return self.rows[0] if self.rows else None

    @property
    def best_group(self) -> tuple[AnalysisRow, ...]:
        """The rows the data cannot tell from the best (the best first)."""
        return tuple(r for r in self.rows if r.best_group)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON with the schema version."""
        return {SCHEMA_KEY: self.SCHEMA, "kind": self.kind, "element": self.element,
                "settings": plain(self.settings), "window": plain(self.window), "prior": plain(self.prior),
                "rows": [r.to_json() for r in self.rows], "screened": [r.to_json() for r in self.screened],
                "test": None if self.test is None else self.test.to_json(),
                "mixture": None if self.mixture is None else self.mixture.to_json(),
                "mixture_labels": list(self.mixture_labels), "timings_s": [list(t) for t in self.timings_s],
                "counts": plain(self.counts), "skipped": [list(s) for s in self.skipped],
                "warnings": list(self.warnings), "versions": dict(self.versions)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "AnalysisResult":
        data = as_mapping(data, "analysis")
        schema_of(data, "analysis", cls.SCHEMA)
        with reading("analysis"):
            return cls(
                kind=str(data["kind"]), element=str(data["element"]), settings=dict(data["settings"]),
                window=dict(data["window"]), prior=None if data.get("prior") is None else dict(data["prior"]),
                rows=tuple(AnalysisRow.from_json(r) for r in data["rows"]),
                screened=tuple(AnalysisRow.from_json(r) for r in data.get("screened") or ()),
                test=None if data.get("test") is None else RankTest.from_json(data["test"]),
                mixture=None if data.get("mixture") is None else MixtureResult.from_json(data["mixture"]),
                mixture_labels=tuple(str(x) for x in data.get("mixture_labels") or ()),
                timings_s=tuple((str(k), float(v)) for k, v in data.get("timings_s") or ()),
                counts=dict(data.get("counts") or {}), skipped=tuple((str(a), str(b)) for a, b in data.get("skipped") or ()),
                warnings=tuple(str(w) for w in data.get("warnings") or ()), versions=dict(data.get("versions") or {}))

    def table(self, screened: bool = False) -> dict[str, list]:
        """The ranking as CSV columns (docs/csv.md: identifiers, parameters, values, uncertainties)."""
        rows = self.screened if screened else self.rows
        units: dict[str, str] = {}
        for r in rows:
            for n, _, _, u in r.values:
                units.setdefault(n, u)
        out: dict[str, list] = {
            "rank": [r.rank for r in rows], "label": [r.label for r in rows], "family": [r.family for r in rows],
            "subfamily": [r.subfamily for r in rows], "stage": [r.stage for r in rows],
            "n_atoms": [r.n_atoms for r in rows], "extent_angstrom": [r.extent_angstrom for r in rows],
            "volume_diameter_angstrom": [r.volume_diameter_angstrom for r in rows],
            "rw": [r.rw for r in rows], "rw_screen": [r.rw_screen for r in rows],
            "best_group": [r.best_group for r in rows], "p_value_vs_best": [r.p_value for r in rows],
            "energy_ev_per_atom": [r.energy_ev_per_atom for r in rows],
        }
        for n, u in units.items():  # each uncertainty right after its value (docs/csv.md, rule 1)
            out[column_name(n, u)] = [r.value(n) for r in rows]
            out[column_name(n, u) + "_sigma"] = [next((s for m, _, s, _ in r.values if m == n), None) for r in rows]
        out["result_id"] = [r.result_id for r in rows]
        return out


__all__ = ["ROW_VALUES", "STAGES", "UNDECIDED", "AnalysisResult", "AnalysisRow"]
