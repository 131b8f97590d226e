"""Smoke run of the runtime environment: every command and every dashboard page, on shipped data.

``scripts/test.sh`` runs this in ``.venv-runtime``, an environment made from
``requirements.txt`` alone (what ``scripts/serve.sh`` installs), before the
test requirements are installed anywhere: a package the dashboard or a command
needs but ``requirements.txt`` does not list (``six`` for diffpy.srfit,
diffpy.pdffit2 for the crystal models) fails here.  Plain Python, no pytest.

1. The README's command lines (:mod:`readme_commands`), the first of each
   command and of each ``refine --model`` (cluster, crystal, nanoparticle), so
   every ``python -m swaxs_lib`` command runs once: refinements of a cluster, a
   crystal and an attenuated crystal against measured G(r), a sweep, a
   relaxation with refits, ``build-db --size tiny``, a quick ``train``, ...,
   made smaller still by :data:`SMOKE_FASTER`.
2. ``app.py`` and every ``pages/*.py`` under Streamlit's AppTest, with a
   measured G(r) in a temporary store and linked (``ds=``); no exception and
   no error box.
3. The pages' background jobs (:data:`PAGE_JOBS`), which run in worker
   processes of the same environment: a sphere sweep and an attenuated-crystal
   refinement from the Refine page, a relaxation with refits from the Relax
   page; each must finish ``done`` and its link must show the result.

Stops at the first failure with the README line (or page), what ran and the
end of its stderr, and exits 1; prints a table of what ran.  ~2 min on 2 cores.

    .venv-runtime/bin/python scripts/runtime_smoke.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_commands import (  # noqa: E402
    DATA,
    FASTER,
    ROOT,
    readme_commands,
    run_readme_commands,
    swaxs_commands,
)

#: Flags appended here on top of the README test's FASTER (appended flags win): the smoke run looks for missing
#: packages, not for numbers, so smaller problems do (tests/test_readme_commands.py runs the documented sizes,
#: but for FASTER's).
SMOKE_FASTER: dict[str, tuple[str, ...]] = {
    # the README's first sweep line is a decahedron sweep: 2 small decahedra instead of its default 16
    "sweep": ("--grid", "p=3..4,q=1,r=1", "--x-max", "12"),
    "relax": ("--pqr", "3,1,1", "--steps", "5"),              # 100 atoms; refits at steps 0 and 5
    "refine": ("--x-max", "15"),                               # shorter fit ranges (cluster, crystal, nanoparticle)
    "train": ("--models", "shape_waxs,size_saxs"),              # one classifier and one regressor of the six models
    # two icosahedra and the attenuated crystal (pdffit2), one EMT relaxation, the ML prior
    "analyse": ("--families", "icosahedron,attenuated-crystal", "--x-max", "15"),
}

#: The measured G(r) every page gets linked to.
PAGE_DATA = DATA / "au144_pdf" / "Au144PET_100K-00000.gr"
PAGE_TIMEOUT_S = 300
#: Page, its link (``{ds}``: the Au144 G(r), ``{ni}``: the Ni X-ray G(r)), the button, the session key of the job.
PAGE_JOBS = (
    ("pages/refine.py", {"ds": "{ds}", "shape": "sphere", "el": "Au", "grid": "diameter_angstrom=10..12.5:2.5",
                         "workers": "1", "xmax": "12"}, "Start the sweep", "refine.job", "job"),
    ("pages/refine.py", {"ds": "{ni}", "el": "Ni", "np": "1", "xmax": "10"}, "Refine the crystal model",
     "refine.cjob", "cjob"),
    ("pages/relax.py", {"shape": "decahedron", "p": "2", "q": "1", "r": "1", "ds": "{ds}", "steps": "4",
                        "every": "2"}, "Start the relaxation", "relax.job", "job"),
)


#: Flags whose value is a file a README line writes (a later line may read it: ``guinier au_saxs.csv``).
OUTPUT_FLAGS = ("--out", "--fit-out", "--members-out", "--contributions-out", "--trace", "--trajectory", "--best",
                "--matches")


def smoke_commands():
    """The first README line of each command, and of each ``refine --model``, after the lines that write its inputs."""
    seen, chosen, writer = set(), [], {}
    for command in readme_commands():
        args = list(command.args)
        key = (command.command, args[args.index("--model") + 1] if "--model" in args else None)
        if key not in seen:
            seen.add(key)
            outputs = {value for flag, value in zip(args, args[1:]) if flag in OUTPUT_FLAGS}
            for arg in args:  # a file an earlier, unchosen line wrote, which this one reads: run that line first
                if arg in writer and arg not in outputs and writer[arg] not in chosen:
                    chosen.append(writer[arg])
            chosen.append(command)
        writer.update({value: command for flag, value in zip(args, args[1:]) if flag in OUTPUT_FLAGS})
    return chosen


def pages() -> list[str]:
    """``app.py`` and every page script (``pages/_*.py`` are shared helpers, not pages)."""
    return ["app.py", *sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))]


def run_page(page: str, query: dict[str, str]):
    """Open ``page`` in the dashboard with the link ``query``; raise on any exception or error box it shows."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PAGE_TIMEOUT_S)
    if page != "app.py":
        at.switch_page(page)
        for name, value in query.items():
            at.query_params[name] = value
    at.run()
    _check(at)
    return at


def run_page_job(store, page: str, query: dict[str, str], button: str, state_key: str, link_name: str) -> str:
    """Click ``button`` on ``page``, wait for its background job, open the job's link; the job's label."""
    from swaxs_lib.jobs import get_job

    at = run_page(page, query)
    buttons = [b for b in at.button if b.label == button]
    if not buttons:
        raise RuntimeError(f"no button {button!r} on {page} (buttons: {[b.label for b in at.button]})")
    buttons[0].click().run()
    _check(at)
    job_id = at.session_state[state_key]
    deadline = time.time() + PAGE_TIMEOUT_S
    while get_job(store, job_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    record = get_job(store, job_id)
    label = record.params.get("label", button)
    if record.status != "done":
        raise RuntimeError(f"job {label}: {record.status}: {record.message}")
    run_page(page, {link_name: job_id})
    return label


def _check(at) -> None:
    if at.exception:
        raise RuntimeError("; ".join(e.message for e in at.exception))
    if at.error:  # a page that catches a failure (an import, a computation) shows it in an error box
        raise RuntimeError("; ".join(e.value for e in at.error))


def main() -> int:
    rows: list[tuple[str, str, float, str]] = []

    def fail(what: str, message: str) -> int:
        print(table(rows), file=sys.stderr)
        print(f"\nruntime smoke FAILED at {what} ({sys.executable}):\n{message}", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="swaxs-smoke-") as tmp:
        ran, workdir = set(), Path(tmp) / "commands"
        workdir.mkdir()
        faster = {c: FASTER.get(c, ()) + SMOKE_FASTER.get(c, ()) for c in {*FASTER, *SMOKE_FASTER}}
        for outcome in run_readme_commands(workdir, commands=smoke_commands(), faster=faster):
            rows.append((f"README:{outcome.readme.line}", " ".join(outcome.readme.args[:3]), outcome.seconds,
                         "ok" if outcome.ok else "FAILED"))
            print(f"  {rows[-1][0]:11s} {rows[-1][1]:45s} {outcome.seconds:6.1f} s {rows[-1][3]}", file=sys.stderr,
                  flush=True)
            if not outcome.ok:
                return fail(f"README.md line {outcome.readme.line}", outcome.describe())
            ran.add(outcome.readme.command)
        missing = sorted(set(swaxs_commands()) - ran)
        if missing:
            return fail("coverage", f"no README line runs {', '.join(missing)}: document them in README.md")

        os.environ["SWAXS_DB"] = str(Path(tmp) / "pages.duckdb")
        os.chdir(ROOT)
        sys.path.insert(0, str(ROOT))
        from swaxs_lib.io import read_measurement_bytes
        from swaxs_lib.store import Store

        store = Store(Path(os.environ["SWAXS_DB"]))
        ids = {}
        for key, path in (("ds", PAGE_DATA), ("ni", DATA / "ni_srfit" / "ni-q27r60-xray.gr")):
            raw = path.read_bytes()
            ids[key] = store.add_dataset(path.stem, raw, path.name, read_measurement_bytes(raw, path.name)).id
        checks = [(page, "AppTest", run_page, (page, {"ds": ids["ds"]})) for page in pages()]
        checks += [(page, f"job: {button}", run_page_job,
                    (store, page, {k: v.format(**ids) for k, v in query.items()}, button, key, link))
                   for page, query, button, key, link in PAGE_JOBS]
        for page, detail, check, args in checks:
            start = time.perf_counter()
            try:
                check(*args)
            except Exception:  # noqa: BLE001 - any failure of a page is the smoke run's finding
                rows.append((page, detail, time.perf_counter() - start, "FAILED"))
                return fail(f"{page} ({detail})", traceback.format_exc(limit=3))
            rows.append((page, detail, time.perf_counter() - start, "ok"))
            print(f"  {page:20s} {detail:45s} {rows[-1][2]:6.1f} s ok", file=sys.stderr, flush=True)
    print(table(rows))
    print(f"runtime smoke: {len(rows)} checks passed in {sum(r[2] for r in rows):.0f} s ({sys.executable})")
    return 0


def table(rows) -> str:
    lines = [f"{'what':20s} {'':45s} {'s':>6}  result"]
    lines += [f"{what:20s} {detail:45s} {seconds:6.1f}  {result}" for what, detail, seconds, result in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
