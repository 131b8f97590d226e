"""Benchmark of the Compare page's live redraw: slider change to redrawn plot, in a real browser.

For Au Mackay icosahedra of 6 shells (561 atoms) and 12 shells (5,083 atoms)
against a synthetic Au I(Q) of 1,000 Q points (0.5–20 1/Å), it starts
``streamlit run app.py`` on a temporary store, opens
``/compare?ds=…&c1_shape=icosahedron&c1_shells=N&b=0.5&bg=constant`` in
headless Chromium (Playwright) and times, in the page's own clock, from the
keydown of an arrow key on a slider to the first animation frame in which
the model line is drawn anew: for ours, the SVG path of candidate 1's model
line in the live plot's iframe (``pages/_live_plot.py``: the browser
recomputes model, fit and R_w as the page's slider moves, before Streamlit's
rerun), else the plotly figure's trace 1 data (trace 0 is the data).
``--points`` sets the data's Q points (1,000 by default).  Cases:

``B cold``
    B one step (0.05 Å²) up, to a value never used in this store: the curve
    is computed from the cached pair histogram and written to the curve cache
    (ours: the browser has redrawn before; the rerun brings metric and table).
``B cached``
    B back and forth between two values computed before: the curve is read
    from the store's cache (ours: the same browser path as B cold).
``size cold``
    shells N → N + 1 on a server started for this repeat (so the cluster was
    never built in its process) and at a B not used before (so the store has
    no curve for it): build, pair histogram, curve, fit.

The same moves, timed the same way, run on a peer in the same run,
``benchmarks/_latency_peer_app.py`` (public packages only, same layout):
``floor`` (``engine=none``: the slider only rescales a precomputed curve, so
this is Streamlit and plotly alone), ``floor-svg`` (the same with SVG
``Scatter`` traces instead of WebGL ``Scattergl``) and ``debyecalculator``
(each new (shells, B) computed by DebyeCalculator on the CPU, memoised with
``st.cache_data``).  A breakdown per move (keydown to the rerun request on the
websocket, to the last message before the redraw, to the redraw) comes from
wrapping the page's ``WebSocket.send``.

Run from the repository root::

    .venv/bin/python benchmarks/ui_latency.py            # ~6 min on 2 idle cores
    .venv/bin/python benchmarks/ui_latency.py --quick    # 3 repeats, 1 cold size change
    .venv/bin/python benchmarks/ui_latency.py --apps ours --app-root ../other-worktree   # a change, alone

See benchmarks/README.md for the method and the columns.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _machine import cpu_name, git_state, version  # noqa: E402  (the benchmarks/ folder is the script's path)

from swaxs_lib.io import read_measurement_bytes  # noqa: E402
from swaxs_lib.scattering import debye_intensity  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402
from swaxs_lib.structures import icosahedron  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PEER_APP = REPO / "benchmarks" / "_latency_peer_app.py"
Q_MIN, Q_MAX, N_Q = 0.5, 20.0, 1000
DATA_SHELLS, DATA_B, DATA_SCALE, DATA_BACKGROUND, DATA_NOISE = 8, 0.7, 3.0, 50.0, 0.01
SEED = 20240501
B_LABEL = "Debye–Waller B (Å²)"
SHELLS_LABEL = "shells"
B_START, B_STEP = 0.5, 0.05
SIZE_COLD_B0 = 2.0  # size-cold repeats use B = 2.0, 2.05, ...: never used by the B cases (0.5 + 0.05 k, k <= 29)
CASES = ("B cold", "B cached", "size cold")
APPS = ("ours", "floor", "floor-svg", "debyecalculator")
#: The peer's query parameters per app: engine and trace type ("gl": Scattergl; "svg": Scatter, which the Compare
#: page draws up to 20,000 plotted points, so floor-svg is its like-for-like floor).
PEER_VIEWS = {"floor": ("none", "gl"), "floor-svg": ("none", "svg"), "debyecalculator": ("debyecalculator", "gl")}
#: Median targets per case at ~5,000 atoms (issue 15): a B move 300 ms, 150 ms for a curve seen before; a size
#: change (a new cluster: build and pair histogram on the server) well under a second.
TARGETS_MS = {"B cold": 300.0, "B cached": 150.0, "size cold": 1000.0}
WAIT_MS = 180_000
SETTLE_MS = 400

# Installed in every page before its own scripts: the keydown time and the model trace's signature.
INIT_SCRIPT = """
window.__lat = {t0: null, before: null, sent: null, msgs: []};
// Streamlit's websocket: when the rerun request leaves and when messages arrive (for the breakdown)
const latSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  const L = window.__lat;
  if (L.t0 !== null && L.sent === null) L.sent = performance.now();
  if (!this.__latHooked) {
    this.__latHooked = true;
    this.addEventListener('message', () => { if (window.__lat.t0 !== null) window.__lat.msgs.push(performance.now()); });
  }
  return latSend.call(this, data);
};
window.__latSig = () => {
  // ours draws I(Q) in the live plot's iframe: its model line as drawn (the SVG path), else the trace's data
  const frame = document.querySelector('iframe[src*="swaxs_live_plot"]');
  let gd;
  if (frame) {
    let doc = null;
    try { doc = frame.contentDocument; } catch (e) { return null; }
    if (!doc) return null;
    const line = doc.querySelector('g.tracemodel1 path.js-line');
    if (line) return 'path:' + line.getAttribute('d');
    gd = doc.querySelector('.js-plotly-plot');
  } else {
    gd = document.querySelector('.js-plotly-plot');
  }
  if (!gd || !gd.data || gd.data.length < 2) return null;
  const y = gd.data[1].y;
  if (y == null) return null;
  if (typeof y.bdata === 'string') return String(y.dtype) + ':' + y.bdata;   // plotly.py's base64 arrays
  return Array.prototype.join.call(y, ',');
};
document.addEventListener('keydown', () => { window.__lat.t0 = performance.now(); }, true);
"""
CHANGED = """() => {
  const s = window.__latSig();
  return (s !== null && s !== window.__lat.before) ? performance.now() : false;
}"""
IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


def icosahedron_atom_count(shells: int) -> int:
    return (10 * shells**3 - 15 * shells**2 + 11 * shells - 3) // 3


# ---------------------------------------------------------------- data and servers

def q_grid() -> np.ndarray:
    """DebyeCalculator's float32 grid of 1,000 points (as in benchmarks/debye.py), so the peer's model sits on the data."""
    import torch
    from debyecalculator import DebyeCalculator

    step = (Q_MAX - Q_MIN) / (N_Q - 1)
    calc = DebyeCalculator(qmin=Q_MIN, qmax=Q_MAX + step / 2, qstep=step, qdamp=0.0, biso=0.0, device="cpu",
                           dtype=torch.float32)
    q = calc.q.squeeze(-1).cpu().numpy().astype(float)
    if len(q) != N_Q:
        raise RuntimeError(f"DebyeCalculator's Q grid has {len(q)} points, expected {N_Q}")
    return q


def write_dataset(folder: Path) -> tuple[Path, Path, str]:
    """A synthetic Au I(Q) file and a store holding it: (file, store path, dataset id)."""
    q = q_grid()
    atoms = icosahedron("Au", DATA_SHELLS, lattice_constant_angstrom=4.08).atoms
    clean = DATA_SCALE * debye_intensity(atoms, q, b_iso_angstrom2=DATA_B).intensity + DATA_BACKGROUND
    noisy = clean * (1 + DATA_NOISE * np.random.default_rng(SEED).standard_normal(len(q)))
    text = (f"# synthetic: {DATA_SCALE:g} x I(Q) of Au{len(atoms)} icosahedron, B = {DATA_B} A^2, + "
            f"{DATA_BACKGROUND:g}, {DATA_NOISE:.0%} noise\n# q_A^-1 I\n"
            + "".join(f"{x:.9g} {y:.9e}\n" for x, y in zip(q, noisy)))
    raw = text.encode()
    data_file = folder / "au_synthetic_iq.dat"
    data_file.write_bytes(raw)
    db = folder / "swaxs.duckdb"
    measurement = read_measurement_bytes(raw, data_file.name)
    if measurement.n_points != N_Q:
        raise RuntimeError(f"the dataset has {measurement.n_points} points, expected {N_Q}")
    record = Store(db).add_dataset("Au synthetic I(Q)", raw, data_file.name, measurement)
    return data_file, db, record.id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run SCRIPT`` on a free localhost port; the log goes to a file (a pipe could fill and block it)."""

    def __init__(self, script: str, env: dict, log: Path, cwd: Path = REPO):
        self.script, self.env, self.log, self.cwd = script, env, log, cwd
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> "Server":
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit run {self.script} did not start; see {self.log}:\n"
                           + self.log.read_text(errors="replace")[-2000:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a script run still going
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.proc = None


# ---------------------------------------------------------------- browser

def wait_idle(page) -> None:
    """Streamlit's status widget gone, twice, SETTLE_MS apart (a run that just started may not show it yet)."""
    for _ in range(2):
        page.wait_for_function(IDLE, timeout=WAIT_MS)
        page.wait_for_timeout(SETTLE_MS)
    page.wait_for_function(IDLE, timeout=WAIT_MS)


def rw_text(page) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text="R_w, candidate 1").first
    metric.wait_for(timeout=WAIT_MS)
    text = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    if not re.fullmatch(r"\d+\.\d+", text):
        raise RuntimeError(f"R_w metric shows {text!r}; expected a number")
    return text


def open_view(context, url: str):
    page = context.new_page()
    page.goto(url)
    rw_text(page)
    page.wait_for_function("() => window.__latSig() !== null", timeout=WAIT_MS)
    wait_idle(page)
    if page.get_by_text("Traceback").count():
        raise RuntimeError(f"{url}: the page shows a traceback")
    return page


def slider_value(page, label: str) -> float:
    return float(page.get_by_role("slider", name=label).get_attribute("aria-valuetext"))


def timed_press(page, label: str, key: str, expected: float) -> dict:
    """Press ``key`` on slider ``label``; ms from the keydown to the frame with new model data (page clock).

    Also the breakdown: keydown to the rerun request leaving on the websocket (``send_ms``), from there to
    the last message received before the redraw (``server_ms``: network, the script run, the deltas), and
    from that message to the redraw (``render_ms``: React and plotly); for our page, the server's own
    "Models and fits in N ms" caption (``compute_ms``).
    """
    slider = page.get_by_role("slider", name=label)
    slider.focus()
    page.evaluate("() => { const L = window.__lat; L.before = window.__latSig(); L.t0 = null; L.sent = null; "
                  "L.msgs = []; }")
    page.keyboard.press(key)
    t1 = float(page.wait_for_function(CHANGED, polling="raf", timeout=WAIT_MS).json_value())
    marks = page.evaluate("() => ({t0: window.__lat.t0, sent: window.__lat.sent, msgs: window.__lat.msgs.slice()})")
    if marks["t0"] is None:
        raise RuntimeError(f"no keydown seen on {label!r}")
    wait_idle(page)
    got = slider_value(page, label)
    if not math.isclose(got, expected, abs_tol=1e-9):
        raise RuntimeError(f"slider {label!r} at {got} after {key}; expected {expected}")
    rw_text(page)
    t0 = float(marks["t0"])
    sample = {"latency_ms": t1 - t0, "send_ms": None, "server_ms": None, "render_ms": None, "compute_ms": None}
    before = [m for m in marks["msgs"] if m <= t1]
    if marks["sent"] is not None:
        sample["send_ms"] = marks["sent"] - t0
        if before and before[-1] >= marks["sent"]:
            sample["server_ms"] = before[-1] - marks["sent"]
            sample["render_ms"] = t1 - before[-1]
    caption = page.get_by_text(re.compile(r"^Models and fits in \d+ ms"))
    if caption.count():
        sample["compute_ms"] = float(re.search(r"in (\d+) ms", caption.first.inner_text()).group(1))
    return sample


def view_url(app: str, base: str, dataset_id: str, shells: int, b: float) -> str:
    if app == "ours":
        return f"{base}/compare?ds={dataset_id}&c1_shape=icosahedron&c1_shells={shells}&b={b:g}&bg=constant"
    engine, trace = PEER_VIEWS[app]
    return f"{base}/?engine={engine}&trace={trace}&shells={shells}&b={b:g}"


def measure_b_cases(browser, app: str, base: str, dataset_id: str, shells: int, repeats: int) -> dict:
    """B cold (repeats steps up to new values), then B cached (back and forth over the last two)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(INIT_SCRIPT)
    try:
        page = open_view(context, view_url(app, base, dataset_id, shells, B_START))
        b = B_START
        cold = []
        for _ in range(repeats):
            b = round(b + B_STEP, 10)
            cold.append(timed_press(page, B_LABEL, "ArrowRight", b))
        cached = []
        for k in range(repeats):
            key = "ArrowLeft" if k % 2 == 0 else "ArrowRight"
            b = round(b - B_STEP if key == "ArrowLeft" else b + B_STEP, 10)
            cached.append(timed_press(page, B_LABEL, key, b))
        return {"B cold": cold, "B cached": cached}
    finally:
        context.close()


def measure_size_cold(browser, app: str, base: str, dataset_id: str, shells: int, b: float) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(INIT_SCRIPT)
    try:
        page = open_view(context, view_url(app, base, dataset_id, shells, b))
        return timed_press(page, SHELLS_LABEL, "ArrowRight", shells + 1)
    finally:
        context.close()


# ---------------------------------------------------------------- report

PARTS = ("send_ms", "server_ms", "render_ms", "compute_ms")


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summary(samples: list[dict]) -> dict:
    """Median, min and max of the latencies, medians of the breakdown, and every sample."""
    latencies = [s["latency_ms"] for s in samples]
    out = {"median_ms": _median(latencies), "min_ms": min(latencies, default=None),
           "max_ms": max(latencies, default=None), "n": len(samples)}
    out.update({f"median_{part}": _median([s[part] for s in samples]) for part in PARTS})
    out["samples"] = [{k: (None if v is None else round(v, 2)) for k, v in s.items()} for s in samples]
    return out


def _ms(x) -> str:
    return "n/a" if x is None else f"{x:.0f}"


def _ratio(a, b) -> str:
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def print_table(rows: list[dict]) -> None:
    head = (f"{'atoms':>11}  {'case':<10} {'ours median (min–max) ms':>26} {'floor ms':>9} {'DebyeCalc ms':>12} "
            f"{'ours/floor':>10} {'DebyeCalc/ours':>14} {'floor SVG ms':>12} {'n':>3}")
    print("\n" + head)
    print("-" * len(head))
    for r in rows:
        o, f, d, svg = r["ours"], r["floor"], r["debyecalculator"], r["floor-svg"]
        span = f"{_ms(o['median_ms'])} ({_ms(o['min_ms'])}–{_ms(o['max_ms'])})"
        print(f"{r['atoms']:>11}  {r['case']:<10} {span:>26} {_ms(f['median_ms']):>9} {_ms(d['median_ms']):>12} "
              f"{_ratio(o['median_ms'], f['median_ms']):>10} {_ratio(d['median_ms'], o['median_ms']):>14} "
              f"{_ms(svg['median_ms']):>12} {o['n']:>3}")
    print("\nBreakdown, medians in ms: keydown -> rerun request sent / -> last message before the redraw "
          "(network, script run) / -> redraw (React, plotly); compute = our page's own 'Models and fits in' caption")
    head = f"{'atoms':>11}  {'case':<10} " + " ".join(f"{app:>22}" for app in APPS)
    print(head)
    print("-" * len(head))
    for r in rows:
        cells = []
        for app in APPS:
            x = r[app]
            text = " / ".join(_ms(x.get(f"median_{part}")) for part in PARTS[:3])
            if x.get("median_compute_ms") is not None:
                text += f" ({_ms(x['median_compute_ms'])})"
            cells.append(f"{text:>22}")
        print(f"{r['atoms']:>11}  {r['case']:<10} " + " ".join(cells))


def header(browser_version: str) -> dict:
    import torch

    commit, dirty = git_state("swaxs_lib", "pages", "app.py")
    cpu = cpu_name()
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "commit": commit, "modified": bool(dirty), "cpu": cpu,
        "logical_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "load_average": os.getloadavg(),
        "python": platform.python_version(), "streamlit": version("streamlit"), "plotly": version("plotly"),
        "playwright": version("playwright"), "chromium": browser_version, "torch": torch.__version__,
        "debyecalculator": version("debyecalculator"), "numba": version("numba"),
    }
    print(f"swaxs UI latency benchmark  {info['date']}  commit {commit}"
          f"{' (swaxs_lib/pages/app.py modified)' if dirty else ''}")
    print(f"CPU {cpu}, {info['logical_cores']} logical cores; torch threads {info['torch_threads']}; load average "
          + ", ".join(f"{x:.2f}" for x in info["load_average"]))
    print(f"python {info['python']}, streamlit {info['streamlit']}, plotly {info['plotly']}, playwright "
          f"{info['playwright']}, chromium {browser_version} (headless, --disable-gpu), torch {info['torch']}, "
          f"debyecalculator {info['debyecalculator']}, numba {info['numba']}", flush=True)
    return info


# ---------------------------------------------------------------- main

def main(argv=None) -> int:
    global N_Q
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="6,12", help="comma-separated icosahedron shell counts (default 6,12: 561 and "
                                                   "5,083 Au atoms)")
    p.add_argument("--repeats", type=int, help="moves per B case (default 7; 3 with --quick)")
    p.add_argument("--size-repeats", type=int,
                   help="cold size changes per cluster size, each on freshly started servers (default 3; 1 with "
                        "--quick)")
    p.add_argument("--quick", action="store_true", help="3 moves per B case, 1 cold size change")
    p.add_argument("--points", type=int, default=N_Q, help=f"Q points of the synthetic data (default {N_Q}; the "
                                                            "live plot's target covers 1,000 to 6,000)")
    p.add_argument("--apps", default=",".join(APPS), help=f"comma-separated subset of {','.join(APPS)}")
    p.add_argument("--app-root", default=str(REPO),
                   help="folder whose app.py is 'ours' (default: this checkout); e.g. a worktree with a change to "
                        "compare, with the peer and everything else unchanged")
    p.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "ui_latency.json"), help="JSON output path")
    p.add_argument("--keep", action="store_true", help="keep the temporary store and server logs")
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.size_repeats is None:
        args.size_repeats = 1 if args.quick else 3
    if not 50 <= args.points <= 20_000:
        p.error("--points: 50 to 20,000")
    N_Q = args.points
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    if set(apps) - set(APPS):
        p.error(f"--apps: unknown {', '.join(sorted(set(apps) - set(APPS)))}; expected some of {','.join(APPS)}")
    if not all(2 <= s <= 29 for s in sizes):
        p.error("--sizes: shell counts from 2 to 29 (the size-cold case goes to N + 1 <= 30)")
    if not 1 <= args.repeats <= 29 or args.size_repeats < 0:
        p.error("--repeats: 1 to 29 (B stays below the size-cold values); --size-repeats: >= 0")
    if not Path(CHROMIUM).exists():
        p.error(f"{CHROMIUM} is missing (apt-get install chromium)")
    app_root = Path(args.app_root).resolve()
    if not (app_root / "app.py").is_file():
        p.error(f"--app-root: no app.py in {app_root}")

    # SIGTERM (a CI timeout) unwinds through the finally below, so no server outlives the run
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="swaxs-ui-latency-"))
    data_file, db, dataset_id = write_dataset(folder)
    ours_env = dict(os.environ, SWAXS_DB=str(db))
    peer_env = dict(os.environ, SWAXS_PEER_DATA=str(data_file))
    servers: list[Server] = []

    def started(script, env, name):
        server = Server(script, env, folder / f"{name}.log", app_root if script == "app.py" else REPO).start()
        servers.append(server)
        return server

    samples = {(app, s, case): [] for app in apps for s in sizes for case in CASES}
    t_start = time.time()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            info = header(browser.version)
            info["app_root"] = str(app_root)
            if app_root != REPO:
                print(f"ours: {app_root}/app.py", flush=True)
            print(f"data: {N_Q} Q points {Q_MIN}..{Q_MAX} 1/A (DebyeCalculator's float32 grid), synthetic Au I(Q); "
                  f"store and logs in {folder}", flush=True)

            ours = started("app.py", ours_env, "ours") if "ours" in apps else None
            peer = started(str(PEER_APP.relative_to(REPO)), peer_env, "peer") if set(apps) - {"ours"} else None
            for shells in sizes:
                for app in apps:
                    server = ours if app == "ours" else peer
                    got = measure_b_cases(browser, app, server.url, dataset_id, shells, args.repeats)
                    for case, values in got.items():
                        samples[(app, shells, case)] += values
                        print(f"  {icosahedron_atom_count(shells):>6} atoms  {app:<16} {case:<9} "
                              + " ".join(f"{v['latency_ms']:.0f}" for v in values) + " ms", flush=True)
            for server in servers:
                server.stop()
            servers.clear()

            for k in range(args.size_repeats):
                b = round(SIZE_COLD_B0 + k * B_STEP, 10)
                for shells in sizes:
                    # fresh processes: the N + 1 cluster was never built there (and B is new to the store)
                    ours = started("app.py", ours_env, "ours") if "ours" in apps else None
                    peer = started(str(PEER_APP.relative_to(REPO)), peer_env, "peer") if set(apps) - {"ours"} else None
                    for app in apps:
                        server = ours if app == "ours" else peer
                        value = measure_size_cold(browser, app, server.url, dataset_id, shells, b)
                        samples[(app, shells, "size cold")].append(value)
                        print(f"  {icosahedron_atom_count(shells):>6} atoms  {app:<16} size cold {shells}->{shells + 1} "
                              f"shells ({icosahedron_atom_count(shells + 1)} atoms), B {b:g}: {value['latency_ms']:.0f} ms",
                              flush=True)
                    for server in servers:
                        server.stop()
                    servers.clear()
            browser.close()
    finally:
        for server in servers:
            server.stop()

    rows = []
    for shells in sizes:
        n, n1 = icosahedron_atom_count(shells), icosahedron_atom_count(shells + 1)
        for case in CASES:
            if case == "size cold" and not args.size_repeats:
                continue
            row = {"shells": shells, "atoms": f"{n}→{n1}" if case == "size cold" else str(n), "n_atoms": n,
                   "case": case}
            for app in APPS:
                row[app] = summary(samples.get((app, shells, case), []))
            rows.append(row)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(rows)
    info["load_average_end"] = os.getloadavg()
    info["wall_s"] = round(time.time() - t_start, 1)
    out = {"machine": info, "method": {
        "q_points": N_Q, "q_range_inv_angstrom": [Q_MIN, Q_MAX], "repeats": args.repeats,
        "size_repeats": args.size_repeats, "b_start": B_START, "b_step": B_STEP, "size_cold_b0": SIZE_COLD_B0,
        "latency": "keydown on the slider to the first animation frame whose plotly trace 1 data differ "
                   "(performance.now() in the page)",
    }, "rows": rows}
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(f"\nJSON: {path}   ({info['wall_s']:.0f} s, load average at the end "
          + ", ".join(f"{x:.2f}" for x in info["load_average_end"]) + ")")

    print(f"\nTargets: a slider move on a ~5,000-atom cluster with {N_Q} Q points, median redraw at most "
          + ", ".join(f"{case} {ms:.0f} ms" for case, ms in TARGETS_MS.items()))
    big = [r for r in rows if abs(r["n_atoms"] - 5000) < 200 and "ours" in apps]
    if not big:
        print("  not run (no ~5,000-atom size)")
    for r in big:
        m = r["ours"]["median_ms"]
        verdict = "n/a" if m is None else ("PASS" if m <= TARGETS_MS[r["case"]] else "FAIL")
        floor = r["floor"]["median_ms"], r["floor-svg"]["median_ms"]
        print(f"  {r['atoms']:>11} {r['case']:<10} median {_ms(m)} ms (max {_ms(r['ours']['max_ms'])} ms; peer floor "
              f"{_ms(floor[0])} ms WebGL, {_ms(floor[1])} ms SVG)  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
