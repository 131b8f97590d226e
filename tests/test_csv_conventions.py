"""Every download button of every page, in a realistic state, against the list in docs/csv.md.

The store holds a measured Pt PDF (JQ_S1, with its header), the measured alumina USAXS curve (with
uncertainties) and a flat solvent curve for it, a synthetic Au147 I(Q); a finished sweep, relaxation,
crystal refinement and analysis run against the Pt PDF.  Each page is opened as a link would open it (AppTest,
no browser); the bytes of every download button are read from Streamlit's media store.

Checked: each CSV's header matches its documented column list (docs/csv.md, parsed here), and,
independently of the list, the conventions themselves: an identifier first, a ``_sigma`` right after
its value, no unit-bearing quantity named without its unit.  Every documented button must be
offered by some page, and every button must be documented.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from swaxs_lib.io import read_measurement_bytes
from swaxs_lib.store import Store
from tests.inprocess import run_main

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "csv.md"
TIMEOUT_S = 180
PT = ROOT / "tests/data/pt_np_jq_pdf/JQ_S1.gr"
ALUMINA = ROOT / "tests/data/alumina_usaxs/Alumina_usaxs_irena_input.csv"
CDSE = ROOT / "tests/data/cdse_np_pdfgui/CdSe-3nm.gr"
WURTZITE = ROOT / "tests/data/cdse_np_pdfgui/CdSe-wurtzite.cif"
AGBEH = ROOT / "tests/data/agbeh_simulated/agbeh_simulated.dat"

#: Columns that say what a row is (rule 1 of docs/csv.md), for tables of more than one row.
IDENTIFIERS = {"id", "rank", "step", "candidate", "member", "shape_class", "fact", "distance_angstrom",
               "coordination_number", "q_inv_angstrom", "r_angstrom", "q2_inv_angstrom2", "diameter_angstrom", "peak"}
#: Quantities that have a unit, named bare (written here, not taken from swaxs_lib: rule 2).
BARE = re.compile(r"^(?:(?:data|model|fitted|residual|difference)_)?"
                  r"(?:[ub]_[A-Z][a-z]?|delta1|delta2|qdamp|qbroad|spdiameter|rcut|a|c|g|f|q|r|diameter|extent|"
                  r"distance|radius|energy|fmax|time|elapsed|mean_nn)(?:_sigma|_flag)?$")


# -- docs/csv.md ----------------------------------------------------------------------------------

def _tables(text: str) -> list[list[list[str]]]:
    """The markdown tables of ``text``: rows of cells (header and rule rows left out)."""
    tables, rows = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= {"-"} for c in cells):
                rows.append(cells)
        elif rows:
            tables.append(rows[1:])
            rows = []
    return tables


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]*)`", cell)


def documented():
    """(placeholders, CSV downloads {(page, label): column spec}, other downloads {(page, label)})."""
    placeholders, downloads, others = {}, {}, set()
    for table in _tables(DOC.read_text()):
        for row in table:
            if len(row) == 2 and row[0].startswith("`<"):
                placeholders[_code(row[0])[0]] = _code(row[1])
            elif len(row) == 3 and row[2].startswith("`"):
                downloads[(row[0], row[1])] = _code(row[2])[0]
            elif len(row) == 3:
                others.add((row[0], row[1]))
    return placeholders, downloads, others


def _name_regex(token: str, placeholders: dict[str, list[str]]) -> str:
    """A column name with placeholders (``u_<El>_angstrom2``, ``<value>_sigma``) as a regex."""
    out, pos = [], 0
    for m in re.finditer(r"<[^>]+>", token):
        out.append(re.escape(token[pos:m.start()]))
        name = m.group(0)
        if name == "<El>":
            out.append("[A-Z][a-z]?")
        else:
            out.append("(?:" + "|".join(_name_regex(alt, placeholders) for alt in placeholders[name]) + ")")
        pos = m.end()
    out.append(re.escape(token[pos:]))
    return "".join(out)


def spec_regex(spec: str, placeholders: dict[str, list[str]]) -> re.Pattern:
    """docs/csv.md's column list as a regex over ``",".join(header) + ","``."""
    parts = []
    for token in re.findall(r"\{|\}…|\[|\]|(?:<[^>]+>|[A-Za-z0-9_])+…?", spec):
        if token in ("{", "["):
            parts.append("(?:")
        elif token == "}…":
            parts.append(")+")
        elif token == "]":
            parts.append(")?")
        elif token.endswith("…"):
            parts.append(f"(?:{_name_regex(token[:-1], placeholders)},)+")
        else:
            parts.append(f"(?:{_name_regex(token, placeholders)},)")
    return re.compile("".join(parts))


def _label_regex(label: str) -> re.Pattern:
    """A documented button label; ``N`` stands for a number."""
    return re.compile(r"\b\d+\b".join(re.escape(part) for part in re.split(r"\bN\b", label)) + "$")


def test_the_doc_parses_into_placeholders_and_downloads():
    placeholders, downloads, others = documented()
    assert {"<x>", "<y>", "<value>", "<El>"} <= set(placeholders)
    assert ("Refine", "Ranking (CSV)") in downloads and ("Relax", "Trace (CSV)") in downloads
    assert ("Clusters", "xyz") in others
    ranking = spec_regex(downloads[("Refine", "Ranking (CSV)")], placeholders)
    good = ("rank,shape,element,shells,n_atoms,extent_angstrom,volume_diameter_angstrom,rw,"
            "u_Pt_angstrom2,u_Pt_angstrom2_sigma,u_Pt_angstrom2_flag,undetermined,sigma_nyquist_factor,result_id,")
    assert ranking.fullmatch(good)
    assert not ranking.fullmatch(good.replace("u_Pt_angstrom2", "u_Pt"))  # a unit missing
    assert not ranking.fullmatch("shape," + good.replace("shape,", "", 1))  # rank not first


# -- the pages in a realistic state ---------------------------------------------------------------

def _add(db: Store, name: str, raw: bytes, filename: str) -> str:
    return db.add_dataset(name, raw, filename, read_measurement_bytes(raw, filename)).id


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    """A store with measured and synthetic datasets and finished jobs of each kind; $SWAXS_DB points to it."""
    from ase.cluster import Icosahedron

    import swaxs_lib.analyse.pipeline  # noqa: F401 - registers the task
    import swaxs_lib.refine.crystal  # noqa: F401
    import swaxs_lib.relax  # noqa: F401
    import swaxs_lib.sweep  # noqa: F401
    from swaxs_lib.jobs import submit
    from swaxs_lib.scattering import debye_intensity

    path = tmp_path_factory.mktemp("csv") / "csv.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SWAXS_DB", str(path))
        st.cache_resource.clear()
        st.cache_data.clear()
        db = Store(path)
        ids = {"pt": _add(db, "Pt JQ_S1", PT.read_bytes(), PT.name),
               "alumina": _add(db, "alumina USAXS", ALUMINA.read_bytes(), ALUMINA.name),
               "cdse": _add(db, "CdSe 3 nm", CDSE.read_bytes(), CDSE.name)}
        q = np.loadtxt(ALUMINA, delimiter=",")[:, 0]
        flat = "\n".join(f"{x:.8g},{1000.0:.8g},{30.0:.8g}" for x in q).encode()
        ids["solvent"] = _add(db, "solvent", flat, "solvent.csv")
        ids["agbeh"] = _add(db, "AgBeh (simulated)", AGBEH.read_bytes(), AGBEH.name)
        q = np.linspace(0.02, 12.0, 600)
        intensity = debye_intensity(Icosahedron("Au", 4), q, mode="exact", b_iso_angstrom2=0.5).intensity
        ids["au147"] = _add(db, "Au147 I(Q)", ("# Q (1/A) I\n" + "\n".join(
            f"{a:.8g} {b:.10g}" for a, b in zip(q, intensity)) + "\n").encode(), "au147.dat")
        jobs = {
            "sweep": ("sweep", {"dataset_id": ids["pt"], "shape": "icosahedron", "element": "Pt",
                                "grid": "shells=3..4", "options": {"x_max": 20.0}, "workers": 1}),
            "relax": ("relax", {"cluster": {"shape": "icosahedron", "element": "Pt", "params": {"shells": 3}},
                                "dataset_id": ids["pt"], "steps": 6, "refit_every": 3}),
            "crystal": ("crystal", {"dataset_id": ids["pt"], "element": "Pt", "lattice": "fcc", "nanoparticle": True,
                                    "options": {"x_max": 20.0}}),
            "spheres": ("sweep", {"dataset_id": ids["cdse"], "shape": "sphere", "element": None,
                                  "cif_text": WURTZITE.read_text(), "grid": "diameter_angstrom=25|30",
                                  "options": {"x_max": 20.0}, "workers": 1}),
            # two icosahedra in a narrow window, no relaxation, no prior: the smallest analysis with a mixture fit
            "analyse": ("analyse", {"dataset_id": ids["pt"], "element": "Pt", "families": ["icosahedron"],
                                    "window": [10.0, 18.0], "max_per_family": 2, "relax_top": 0, "use_prior": False,
                                    "options": {"x_max": 20.0}, "workers": 1}),
        }
        for name, (task, args) in jobs.items():
            record = submit(db, task, args, dataset_id=args["dataset_id"], detach=False, label=f"{task} for the test")
            assert record.status == "done", record.message
            ids[name] = record.id
        yield {**ids, "db": str(path)}
    st.cache_resource.clear()
    st.cache_data.clear()


class _MediaManagers(app_test_module.MediaFileManager):
    """Streamlit's media file managers, remembered so that a test can run a deferred download's callable."""

    made: list[app_test_module.MediaFileManager] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _MediaManagers.made.append(self)


def _deferred_content(file_id: str):
    """The stored file a deferred download button makes when clicked (its callable run as a click would)."""
    for manager in reversed(_MediaManagers.made):
        try:
            url = manager.execute_deferred(file_id)
        except MediaFileStorageError:
            continue
        return _stored(url)
    raise AssertionError(f"deferred download {file_id}: no media manager holds it")


def _stored(url: str):
    file_id = url.rsplit("/", 1)[-1].split(".")[0]
    return next(s.get_file(file_id) for s in reversed(_MediaStores.made) if file_id in s._files_by_id)


class _MediaStores(MemoryMediaFileStorage):
    """Streamlit's in-memory media store, remembered so that a test can read a download's bytes."""

    made: list[MemoryMediaFileStorage] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _MediaStores.made.append(self)


def _model_present() -> bool:
    from swaxs_lib.ml.models import default_model_dir

    return (default_model_dir() / "manifest.json").is_file()


def _states(ids: dict[str, str]) -> list[tuple[str, str, dict[str, str], object]]:
    """(page title, page file, link parameters, action before a second run) for every page state walked."""
    def upload(at: AppTest) -> None:
        # one more blank line: other bytes than the stored alumina's, which the page would offer as already stored
        at.file_uploader[0].set_value((ALUMINA.name, ALUMINA.read_bytes() + b"\n", "text/csv"))

    states = [
        ("Home", "app.py", {}, None),
        ("Data", "pages/data.py", {"ds": ids["pt"]}, None),
        ("Data", "pages/data.py", {"ds": ids["alumina"], "bg": ids["solvent"], "view": "kratky"}, None),
        ("Data", "pages/data.py", {"ds": ids["alumina"], "view": "guinier"}, None),
        ("Data", "pages/data.py", {}, upload),
        ("Clusters", "pages/clusters.py", {"shape": "icosahedron", "el": "Pt", "shells": "3"}, None),
        ("Compare", "pages/compare.py", {"ds": ids["pt"], "n": "2", "c1_shape": "icosahedron", "c1_el": "Pt",
                                         "c1_shells": "3", "c2_shape": "decahedron", "c2_el": "Pt", "c2_p": "2",
                                         "c2_q": "1", "c2_r": "1"}, None),
        ("Compare", "pages/compare.py", {"ds": ids["au147"], "n": "1", "c1_shape": "icosahedron", "c1_el": "Au",
                                         "c1_shells": "4"}, None),
        ("Refine", "pages/refine.py", {"ds": ids["pt"], "job": ids["sweep"], "cjob": ids["crystal"]}, None),
        ("Refine", "pages/refine.py", {"ds": ids["cdse"], "job": ids["spheres"]}, None),
        ("Relax", "pages/relax.py", {"job": ids["relax"], "step": "3"}, None),
        ("Analyse", "pages/analyse.py", {"job": ids["analyse"]}, None),
        ("SAXS", "pages/saxs.py", {"ds": ids["alumina"], "section": "distribution"}, None),
        ("SAXS", "pages/saxs.py", {"ds": ids["au147"], "section": "guinier"}, None),
        ("SAXS", "pages/saxs.py", {"ds": ids["au147"], "section": "clusters", "c_shape": "icosahedron",
                                   "c_sizes": "3..5", "c_dist": "gaussian", "c_fit": "1"}, None),
        ("SAXS", "pages/saxs.py", {"ds": ids["alumina"], "section": "fit", "f_model": "sphere", "f_pd": "gaussian"},
         lambda at: at.button(key="saxs.f_go").click()),
        ("SAXS", "pages/saxs.py", {"ds": ids["agbeh"], "section": "indexing"}, None),
    ]
    if _model_present():
        states.append(("Predict", "pages/predict.py", {"ds": ids["pt"]}, None))
    return states


@pytest.fixture(scope="module")
def offered(realistic):
    """Every download button of every page state: (page, label, bytes, mimetype, name); files built on click are built as a click would."""
    found = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(app_test_module, "MemoryMediaFileStorage", _MediaStores)
        mp.setattr(app_test_module, "MediaFileManager", _MediaManagers)
        for title, path, query, action in _states(realistic):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
            if path != "app.py":
                at.switch_page(path)
            for name, value in query.items():
                at.query_params[name] = value
            at.run()
            if action is not None:
                action(at)
                at.run()
            assert not at.exception, (title, query, [e.message for e in at.exception])
            for button in at.get("download_button"):
                proto = button.proto
                media = _deferred_content(proto.deferred_file_id) if proto.deferred_file_id else _stored(proto.url)
                found.append((title, proto.label, media.content, media.mimetype, media.filename or ""))
    return found


def _csv_header(content: bytes) -> tuple[list[str], int]:
    lines = content.decode("utf-8").splitlines()
    return lines[0].split(","), len(lines) - 1


def test_every_download_is_documented_and_each_csv_header_matches_its_list(offered):
    placeholders, downloads, others = documented()
    problems = []
    for page, label, content, mimetype, filename in offered:
        spec = next((s for (p, lbl), s in downloads.items() if p == page and _label_regex(lbl).match(label)), None)
        if spec is None:
            if not any(p == page and _label_regex(lbl).match(label) for p, lbl in others):
                problems.append(f"{page} / {label}: not in docs/csv.md")
            elif mimetype == "text/csv":
                problems.append(f"{page} / {label}: a CSV listed as not CSV")
            continue
        if content is None or mimetype != "text/csv" or not filename.endswith(".csv"):
            problems.append(f"{page} / {label}: expected a CSV file, got {mimetype!r} {filename!r}")
            continue
        header, _ = _csv_header(content)
        if not spec_regex(spec, placeholders).fullmatch(",".join(header) + ","):
            problems.append(f"{page} / {label}: header {','.join(header)}\n    does not match  {spec}")
    assert not problems, "\n".join(problems)


def test_every_documented_download_is_offered_in_some_state(offered):
    _, downloads, others = documented()
    pages = {page for page, *_ in offered}
    missing = [f"{page} / {label}" for page, label in [*downloads, *others]
               if page in pages and not any(p == page and _label_regex(label).match(lbl) for p, lbl, *_ in offered)]
    assert not missing, "documented but never offered in the states walked: " + "; ".join(missing)
    assert {"Home", "Data", "Clusters", "Compare", "Refine", "Relax"} <= pages


def test_csv_headers_follow_the_conventions(offered):
    problems = []
    for page, label, content, mimetype, _ in offered:
        if mimetype != "text/csv":
            continue
        header, n_rows = _csv_header(content)
        where = f"{page} / {label}: {','.join(header)}"
        if len(set(header)) != len(header):
            problems.append(f"{where}: a column twice")
        if n_rows > 1 and header[0] not in IDENTIFIERS:
            problems.append(f"{where}: first column {header[0]!r} is not an identifier")
        for i, name in enumerate(header):
            if BARE.match(name):
                problems.append(f"{where}: {name!r} has a unit but none in its name")
            if name.endswith("_sigma") and header[i - 1] != name.removesuffix("_sigma"):
                problems.append(f"{where}: {name!r} does not follow its value")
            if name.endswith("_flag") and header[i - 1] not in (name.replace("_flag", ""),
                                                                 name.replace("_flag", "_sigma")):
                problems.append(f"{where}: {name!r} does not follow its value and sigma")
    assert not problems, "\n".join(problems)


def test_the_ranking_and_the_trace_have_the_command_lines_columns(offered, realistic, tmp_path):
    """The same sweep and relaxation from the command line write the pages' headers (the sweep's fits are
    reused from the store; the relaxation runs again).  Run by ``main([...])`` in this process: the headers are
    what is checked (tests/test_readme_commands.py runs sweep and relax as subprocesses)."""
    headers: dict[tuple[str, str], list[str]] = {}
    for page, label, content, mimetype, _ in offered:  # the first of each: the Pt sweep's ranking
        if mimetype == "text/csv":
            headers.setdefault((page, label), _csv_header(content)[0])
    ranking, trace = headers[("Refine", "Ranking (CSV)")], headers[("Relax", "Trace (CSV)")]
    assert ranking[0] == "rank" and trace[0] == "step"
    for header in (ranking, trace):
        assert {"u_Pt_angstrom2", "delta2_angstrom2", "qdamp_inv_angstrom"} <= set(header)
        assert not {"u_Pt", "delta2", "qdamp"} & set(header)
    db = ["--db", realistic["db"]]
    for args, out, header in (
        (["sweep", realistic["pt"], "--shape", "icosahedron", "--element", "Pt", "--grid", "shells=3..4",
          "--x-max", "20", "--workers", "1", "--out"], tmp_path / "ranking.csv", ranking),
        (["relax", "--shape", "icosahedron", "--shells", "3", "--element", "Pt", "--data", realistic["pt"],
          "--steps", "6", "--refit-every", "3", "--trace"], tmp_path / "trace.csv", trace),
    ):
        run = run_main(*args, out, *db)
        assert run.returncode == 0, run.stderr
        assert out.read_text().splitlines()[0].split(",") == header
