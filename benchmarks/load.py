"""Load test of the dashboard: N simulated users in headless Chromium while a training database builds.

It starts ``streamlit run app.py`` on a temporary store, on 127.0.0.1 only, with ``SWAXS_AUTH=proxy`` so that
each browser context is its own user (``X-Forwarded-User: loaduser-K``, as a reverse proxy would set it), and
``python -m swaxs_lib build-db --size tiny --workers 1`` on the same store in the background (started again
under a new name whenever it finishes, until the users are done).  ``--users`` Playwright contexts (default
10; at most 20) run concurrently in one Chromium, each:

1. opens the Data page, uploads its own synthetic Au I(Q) file (a Debye curve of an 4-shell icosahedron,
   ``--points`` Q points, a per-user noise seed) and saves it;
2. opens the Refine page on that dataset and starts a small sweep (icosahedra of 2 and 3 shells, 1 worker),
   which goes to the job queue (server-wide and per-user limits: see docs/security.md);
3. opens the Compare page on that dataset (a 4-shell icosahedron) and moves the Debye–Waller B slider with
   the arrow keys for ``--seconds`` (at least 3 moves), timing each move from the keydown to the
   first animation frame in which the model line is drawn anew: the method of ``benchmarks/ui_latency.py``
   (its init script and its redraw signature are imported from there).

Errors (must be 0): uncaught page exceptions (``pageerror``), Streamlit exception or error elements in a
page, HTTP responses >= 400 and failed requests to the server (not counted, but reported: loads aborted
because the user navigated on, and the 404s of Streamlit's own start-up probes of ``/<page>/_stcore/health``
and ``host-config``), and any step that did not complete within
``--step-timeout``.  Figures: slider moves, median and 95th-percentile latency, the server's peak RSS
(VmHWM of its process) and the largest sampled RSS of the server plus every job worker and the build.
When the users are done every job still queued or running is cancelled (its process group ended by the
queue's watchdog), the build is stopped, and the server is stopped.

Run from the repository root::

    .venv/bin/python benchmarks/load.py                         # 10 users, 180 s of slider moves
    .venv/bin/python benchmarks/load.py --users 2 --seconds 20  # a short run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from ui_latency import B_LABEL, B_STEP, CHANGED, CHROMIUM, CHROMIUM_ARGS, IDLE, INIT_SCRIPT, Server  # noqa: E402

MAX_USERS = 20
#: Slider moves each user makes at least, however long the steps before took.
MIN_MOVES = 3
SHELLS, B_START = 4, 0.5
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def synthetic_file(folder: Path, user: int, n_points: int) -> Path:
    """A noisy Au I(Q): 3 x Debye I(Q) of a 4-shell icosahedron (B 0.7 Å²) + 50, Q 0.5–20 1/Å."""
    from swaxs_lib.scattering import debye_intensity
    from swaxs_lib.structures import icosahedron

    q = np.linspace(0.5, 20.0, n_points)
    clean = 3.0 * debye_intensity(icosahedron("Au", SHELLS).atoms, q, b_iso_angstrom2=0.7).intensity + 50.0
    noisy = clean * (1 + 0.01 * np.random.default_rng(1000 + user).standard_normal(n_points))
    path = folder / f"load_user{user}_au_iq.dat"
    path.write_text(f"# load test user {user}: synthetic Au I(Q)\n# q_A^-1 I\n"
                    + "".join(f"{a:.9g} {b:.9e}\n" for a, b in zip(q, noisy)))
    return path


class Errors:
    def __init__(self):
        self.items: list[str] = []
        self.kinds: dict[str, int] = {}

    def add(self, user: int, what: str) -> None:
        self.items.append(f"user {user}: {what[:300]}")
        kind = what.split(":")[0]
        if kind.startswith("HTTP") and "/media/" in what:
            # Streamlit's frontend checks a download button's file URL when it renders; a rerun that replaced
            # the file first makes that check (and a click in that moment) a 404
            kind += " on /media/ (a download button's file, replaced by a rerun)"
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        print(f"  ERROR user {user}: {what[:300]}", flush=True)


async def page_errors(page, user: int, errors: Errors, where: str) -> None:
    """Streamlit exception or error elements now in the page."""
    for text in await page.locator(ERROR_SELECTOR).all_inner_texts():
        errors.add(user, f"{where}: error element: {text.strip()[:200]}")


async def wait_idle(page, timeout_ms: float) -> None:
    for _ in range(2):
        await page.wait_for_function(IDLE, timeout=timeout_ms)
        await page.wait_for_timeout(300)
    await page.wait_for_function(IDLE, timeout=timeout_ms)


#: Streamlit's client first probes ``/<page>/_stcore/health`` and ``host-config`` under a page's path (in case the
#: app is served below a prefix) and then the root: those 404s are its normal start, not failures.
PROBES = ("/_stcore/health", "/_stcore/host-config")


def watch(page, user: int, errors: Errors, base: str, ignored: dict) -> None:
    def failed(req):
        if not req.url.startswith(base):
            return
        if req.failure == "net::ERR_ABORTED":  # a load cancelled because the user navigated to the next page
            ignored["aborted by navigation"] = ignored.get("aborted by navigation", 0) + 1
            return
        errors.add(user, f"request failed: {req.url} {req.failure}")

    def response(resp):
        if resp.status < 400 or not resp.url.startswith(base):
            return
        path = resp.url[len(base):].split("?")[0]
        if resp.status == 404 and path.endswith(PROBES) and path not in PROBES:
            ignored["page-path probes (404)"] = ignored.get("page-path probes (404)", 0) + 1
            return
        errors.add(user, f"HTTP {resp.status}: {resp.url}")

    page.on("pageerror", lambda exc: errors.add(user, f"page exception: {exc}"))
    page.on("requestfailed", failed)
    page.on("response", response)


async def simulated_user(browser, base: str, db: Path, user: int, data_file: Path, seconds: float,
                         timeout_ms: float, errors: Errors, latencies: list, log: dict) -> None:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    from swaxs_lib.store import Store

    name = f"loaduser-{user}"
    context = await browser.new_context(viewport={"width": 1280, "height": 800},
                                        extra_http_headers={"X-Forwarded-User": name})
    await context.add_init_script(INIT_SCRIPT)
    page = await context.new_page()
    watch(page, user, errors, base, log["ignored"])
    step = "upload"
    try:
        # 1. upload and save on the Data page
        await page.goto(f"{base}/data")
        await page.get_by_text("Measured curves: drag and drop").wait_for(timeout=timeout_ms)
        await page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(data_file))
        await page.get_by_role("button", name="Save to store").click(timeout=timeout_ms)
        # the success message, not the "Stored datasets" heading that other users' shared datasets bring
        await page.locator('[data-testid="stAlertContentSuccess"]', has_text="Stored").first.wait_for(timeout=timeout_ms)
        await wait_idle(page, timeout_ms)
        await page_errors(page, user, errors, "Data page")
        mine = [d for d in await asyncio.to_thread(lambda: Store(db).list_datasets())
                if d.filename == data_file.name]
        if not mine:
            errors.add(user, f"the upload of {data_file.name} is not in the store")
            return
        dataset_id = mine[0].id
        log["uploaded"] += 1

        # 2. start a small sweep on the Refine page
        step = "sweep"
        await page.goto(f"{base}/refine?ds={dataset_id}&shape=icosahedron&el=Au&grid=shells%3D2..3&workers=1")
        await page.get_by_role("button", name="Start the sweep").click(timeout=timeout_ms)
        await page.wait_for_function("() => new URLSearchParams(location.search).get('job')", timeout=timeout_ms)
        await wait_idle(page, timeout_ms)
        await page_errors(page, user, errors, "Refine page")
        log["sweeps"] += 1

        # 3. slider moves on the Compare page until the deadline
        step = "compare"
        await page.goto(f"{base}/compare?ds={dataset_id}&c1_shape=icosahedron&c1_shells={SHELLS}"
                        f"&b={B_START:g}&bg=constant")
        await page.locator('[data-testid="stMetric"]', has_text="R_w, candidate 1").first.wait_for(timeout=timeout_ms)
        await page.wait_for_function("() => window.__latSig() !== null", timeout=timeout_ms)
        await wait_idle(page, timeout_ms)
        slider = page.get_by_role("slider", name=B_LABEL)
        b, k = B_START, 0
        deadline = time.time() + seconds
        while time.time() < deadline or k < MIN_MOVES:
            key = "ArrowRight" if (k // 5) % 2 == 0 else "ArrowLeft"  # up 5 steps, down 5: new and cached values
            b = round(b + B_STEP if key == "ArrowRight" else b - B_STEP, 10)
            await slider.focus()
            await page.evaluate("() => { const L = window.__lat; L.before = window.__latSig(); L.t0 = null; }")
            await page.keyboard.press(key)
            try:
                changed = await page.wait_for_function(CHANGED, polling="raf", timeout=min(timeout_ms, 60_000))
            except PlaywrightTimeout:
                # no redraw: a key lost (the slider was re-rendered under the focus; a person presses again)
                # is told apart from a slider that moved but whose plot did not follow (an error)
                got = float(await slider.get_attribute("aria-valuetext"))
                if math.isclose(got, b, abs_tol=1e-9):
                    raise
                lost = "key presses lost (slider not moved, pressed again)"
                log["ignored"][lost] = log["ignored"].get(lost, 0) + 1
                b = got
                await wait_idle(page, timeout_ms)
                continue
            t1 = float(await changed.json_value())
            t0 = await page.evaluate("() => window.__lat.t0")
            await wait_idle(page, timeout_ms)
            got = float(await slider.get_attribute("aria-valuetext"))
            if t0 is None or not math.isclose(got, b, abs_tol=1e-9):
                errors.add(user, f"slider move {k}: keydown seen {t0 is not None}, B {got} (expected {b})")
            else:
                latencies.append(t1 - float(t0))
            k += 1
        await page_errors(page, user, errors, "Compare page")
        log["users_done"] += 1
    except Exception as exc:  # noqa: BLE001 - a step that did not finish is an error of the run
        here = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == __file__]
        errors.add(user, f"{step}: {type(exc).__name__} at load.py line {here[-1] if here else '?'}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}")
    finally:
        await context.close()


async def drive(args, base: str, db: Path, files: list[Path], errors: Errors, latencies: list, log: dict) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        tasks = [simulated_user(browser, base, db, k, files[k], args.seconds, args.step_timeout * 1000, errors,
                                latencies, log) for k in range(args.users)]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.seconds + args.grace)
        except asyncio.TimeoutError:
            errors.add(-1, f"the users did not finish within {args.seconds + args.grace:.0f} s")
        await browser.close()


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def job_worker_pids(db: Path) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if b"swaxs_lib.jobs" in cmd and str(db).encode() in cmd:
                pids.append(int(d.name))
    return pids


class Sampler(threading.Thread):
    """Every 0.5 s: the server's RSS, and the server + job workers + build together."""

    def __init__(self, db: Path):
        super().__init__(daemon=True)
        self.db, self.pids, self.stop_flag = db, {}, threading.Event()
        self.server_peak = self.total_peak = 0.0

    def run(self):
        while not self.stop_flag.wait(0.5):
            server = rss_mib(self.pids["server"]) if "server" in self.pids else 0.0
            others = sum(rss_mib(p) for p in job_worker_pids(self.db))
            build = rss_mib(self.pids["build"]) if "build" in self.pids else 0.0
            self.server_peak = max(self.server_peak, server)
            self.total_peak = max(self.total_peak, server + others + build)


def percentile(values: list[float], p: float) -> float | None:
    return float(np.percentile(values, p)) if values else None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=10, help=f"browser contexts at once (default 10, at most {MAX_USERS})")
    p.add_argument("--seconds", type=float, default=180.0, help="how long the users move sliders (default 180)")
    p.add_argument("--grace", type=float, default=600.0, help="extra seconds before the run is cut (default 600)")
    p.add_argument("--step-timeout", type=float, default=240.0, help="seconds one step may take (default 240)")
    p.add_argument("--points", type=int, default=1000, help="Q points of each user's data (default 1000)")
    p.add_argument("--no-build", dest="build", action="store_false", help="no database build in the background")
    p.add_argument("--json", default=None, help="write the figures here")
    p.add_argument("--keep", action="store_true", help="keep the temporary store and logs")
    args = p.parse_args(argv)
    if not 1 <= args.users <= MAX_USERS:
        p.error(f"--users: 1 to {MAX_USERS}")
    if not 5 <= args.seconds <= 3600 or not 50 <= args.points <= 20_000:
        p.error("--seconds: 5 to 3600; --points: 50 to 20,000")
    if not Path(CHROMIUM).exists():
        p.error(f"{CHROMIUM} is missing (apt-get install chromium)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from swaxs_lib import jobs
    from swaxs_lib.store import Store

    folder = Path(tempfile.mkdtemp(prefix="swaxs-load-"))
    db = folder / "swaxs.duckdb"
    Store(db).table_counts()
    files = [synthetic_file(folder, k, args.points) for k in range(args.users)]
    env = {**os.environ, "SWAXS_DB": str(db), "SWAXS_AUTH": "proxy", "PYTHONPATH": str(REPO)}
    env.pop("SWAXS_ADMINS", None)
    server = Server("app.py", env, folder / "server.log")
    sampler = Sampler(db)
    errors, latencies = Errors(), []
    log = {"uploaded": 0, "sweeps": 0, "users_done": 0, "builds_started": 0, "builds_finished": 0, "ignored": {}}
    build = None
    stop_builds = threading.Event()

    def builder():
        while not stop_builds.is_set():
            nonlocal build
            log["builds_started"] += 1
            with open(folder / "build.log", "ab") as out:
                build = subprocess.Popen([sys.executable, "-m", "swaxs_lib", "build-db", "--size", "tiny", "--workers",
                                          "1", "--name", f"load{log['builds_started']}"], cwd=REPO, env=env,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            sampler.pids["build"] = build.pid
            while build.poll() is None and not stop_builds.wait(0.5):
                pass
            if build.poll() is None:
                os.killpg(build.pid, signal.SIGKILL)
                build.wait()
            elif build.returncode == 0:
                log["builds_finished"] += 1
            else:
                errors.add(-1, f"build-db exited {build.returncode}; see {folder / 'build.log'}")
                return

    t_start = time.time()
    print(f"load test: {args.users} users, {args.seconds:g} s of slider moves, {args.points} Q points, "
          f"{'a database build running' if args.build else 'no build'}; store and logs in {folder}; load average "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    thread = None
    try:
        server.start()
        sampler.pids["server"] = server.proc.pid
        sampler.start()
        if args.build:
            thread = threading.Thread(target=builder, daemon=True)
            thread.start()
        asyncio.run(drive(args, server.url, db, files, errors, latencies, log))
        server_hwm = rss_mib(server.proc.pid, "VmHWM")
    finally:
        stop_builds.set()
        if thread is not None:
            thread.join(timeout=30)
        store = Store(db)
        states = {}
        for record in jobs.list_jobs(store):
            if record.status in ("queued", "running"):
                jobs.cancel(store, record.id)
        time.sleep(2.0)  # the watchdogs end cancelled jobs' process groups within about a second
        for record in jobs.list_jobs(store):
            states[record.status] = states.get(record.status, 0) + 1
        left = job_worker_pids(db)
        for pid in left:  # should be none; never leave them running
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        sampler.stop_flag.set()
        server.stop()
    wall = time.time() - t_start
    result = {
        "users": args.users, "seconds": args.seconds, "q_points": args.points, "wall_s": round(wall, 1),
        "errors": len(errors.items), "error_kinds": errors.kinds, "error_list": errors.items, **log,
        "slider_moves": len(latencies), "latency_median_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95), "latency_max_ms": max(latencies, default=None),
        "server_rss_peak_mib": round(max(server_hwm, sampler.server_peak), 1),
        "server_plus_jobs_rss_peak_mib": round(sampler.total_peak, 1), "job_states_at_end": states,
        "job_workers_left_after_cancel": len(left), "load_average_end": os.getloadavg(),
    }
    print(f"\nusers {args.users} (finished {log['users_done']}), uploads {log['uploaded']}, sweeps started "
          f"{log['sweeps']}, database builds {log['builds_started']} started / {log['builds_finished']} finished")
    med, p95 = result["latency_median_ms"], result["latency_p95_ms"]
    print(f"slider moves {len(latencies)}: latency median {med if med is None else round(med)} ms, 95th percentile "
          f"{p95 if p95 is None else round(p95)} ms, max {result['latency_max_ms'] and round(result['latency_max_ms'])} ms")
    print(f"server RSS peak {result['server_rss_peak_mib']:.0f} MiB; server + job workers + build peak "
          f"{result['server_plus_jobs_rss_peak_mib']:.0f} MiB; jobs at the end {states}; job workers left after "
          f"cancel {len(left)}")
    print(f"not counted as errors: {log['ignored'] or 'nothing'}")
    print(f"errors {len(errors.items)} {errors.kinds or ''}  ({wall:.0f} s, load average at the end "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + ")")
    print("PASS" if not errors.items and log["users_done"] == args.users else "FAIL")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if not errors.items and log["users_done"] == args.users else 1


if __name__ == "__main__":
    sys.exit(main())
