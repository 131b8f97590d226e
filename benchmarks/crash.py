"""Crash test of the store: kill -9 writers, a running job's worker and the dashboard mid-write, restart, verify.

Each round, on one temporary store:

* ``--store-writers`` processes add datasets through the Store API in a loop (a unique random curve each,
  read by ``read_measurement_bytes``), and ``--cli-writers`` processes run ``python -m swaxs_lib import FILE``
  in a loop; a writer appends ``id sha256`` to its acknowledgement file (flushed and fsynced) only after
  ``add_dataset`` returned, or after the command exited 0 with the id on its JSON line;
* a background job (the ``selftest`` task: steps of 50 ms, progress and heartbeat written to the store every
  0.5 s) runs in its detached worker;
* the dashboard (``streamlit run app.py`` on the store, 127.0.0.1) runs, unless ``--no-server``;

then, at a random moment (uniform in ``--kill-after`` seconds), every one of those processes gets SIGKILL
(each writer's whole process group, so a CLI import in flight dies too; the job worker; the server).

After each round: the store opens; every dataset ever acknowledged (this round and all before) is present,
and the sha256 of its stored raw bytes equals the sha256 its writer computed of the file (so neither lost
nor changed); every killed job reads ``failed`` (or ``done``, if it finished before the kill) through
``get_job``, none stays ``running`` or ``queued``; a new dataset can be added and a new job run to ``done``;
and the restarted dashboard answers its health check.

Run from the repository root::

    .venv/bin/python benchmarks/crash.py                      # 10 rounds, 3 + 1 writers, a job, the server
    .venv/bin/python benchmarks/crash.py --rounds 2 --no-server --cli-writers 0   # what tests/test_crash_short.py runs

Prints kills survived and data lost (must be 0); ``--json`` writes the figures.  Exit 1 if anything was lost,
changed, left running, or the store did not open.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PY = sys.executable


# ---------------------------------------------------------------- writer processes

def _curve(rng, tag: str) -> bytes:
    import numpy as np

    n = int(rng.integers(20, 200))
    q = np.sort(rng.uniform(0.01, 0.5, n))
    q = np.unique(q)
    i = 1e3 * np.exp(-(q * rng.uniform(5, 50)) ** 2 / 3) + rng.uniform(0.1, 1.0)
    return (f"# crash test {tag}\n# q_A^-1 I\n" + "".join(f"{a:.8g} {b:.8g}\n" for a, b in zip(q, i))).encode()


def _ack(fd: int, dataset_id: str, sha: str) -> None:
    os.write(fd, f"{dataset_id} {sha}\n".encode())
    os.fsync(fd)


def store_writer(db: str, ack_path: str, tag: str) -> None:
    """Add datasets through the Store API until killed."""
    import numpy as np

    from swaxs_lib.io import read_measurement_bytes
    from swaxs_lib.store import Store

    rng = np.random.default_rng(zlib.crc32(tag.encode()))
    store = Store(db)
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for k in range(10**9):
        raw = _curve(rng, f"{tag}-{k}")
        name = f"crash-{tag}-{k}.dat"
        record = store.add_dataset(name, raw, name, read_measurement_bytes(raw, name))
        _ack(fd, record.id, hashlib.sha256(raw).hexdigest())


def cli_writer(db: str, ack_path: str, tag: str, folder: str) -> None:
    """Run ``python -m swaxs_lib import FILE`` in a loop until killed."""
    import numpy as np

    rng = np.random.default_rng(zlib.crc32(tag.encode()))
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    env = {**os.environ, "SWAXS_DB": db, "PYTHONPATH": str(REPO)}
    for k in range(10**9):
        raw = _curve(rng, f"{tag}-{k}")
        path = Path(folder) / f"crash-{tag}-{k}.dat"
        path.write_bytes(raw)
        done = subprocess.run([PY, "-m", "swaxs_lib", "import", str(path)],
                              cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode == 0:
            _ack(fd, json.loads(done.stdout.strip().splitlines()[-1])["id"], hashlib.sha256(raw).hexdigest())
        else:
            print(f"import failed ({done.returncode}): {done.stderr.strip()[-300:]}", file=sys.stderr, flush=True)
            time.sleep(0.2)


# ---------------------------------------------------------------- driver

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [PY, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=REPO, env={**os.environ, "SWAXS_DB": str(db)}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def healthy(url: str, timeout_s: float = 90.0) -> bool:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def read_acks(folder: Path) -> dict[str, str]:
    acks = {}
    for path in folder.glob("ack-*.txt"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and len(parts[1]) == 64:
                acks[parts[0]] = parts[1]
    return acks


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def verify(db: Path, folder: Path, job_ids: list[str]) -> dict:
    """Open the store, check every acknowledged dataset and every job; add a dataset and run a job."""
    import numpy as np

    from swaxs_lib import jobs
    from swaxs_lib.errors import SwaxsInputError
    from swaxs_lib.io import read_measurement_bytes
    from swaxs_lib.store import Store

    out = {"store_opens": False, "acknowledged": 0, "lost": 0, "changed": 0, "jobs_bad": [], "writable": False}
    t0 = time.perf_counter()
    store = Store(db)
    counts = store.table_counts()
    out["store_opens"], out["open_s"] = True, round(time.perf_counter() - t0, 3)
    out["datasets_in_store"] = counts.get("datasets")
    acks = read_acks(folder)
    out["acknowledged"] = len(acks)
    for dataset_id, sha in acks.items():
        try:
            record = store.get_dataset(dataset_id)
        except SwaxsInputError:
            out["lost"] += 1
            continue
        if hashlib.sha256(record.raw_bytes).hexdigest() != sha or record.raw_sha256 != sha:
            out["changed"] += 1
    states = {}
    for job_id in job_ids:
        status = jobs.get_job(store, job_id).status
        states[status] = states.get(status, 0) + 1
        if status not in ("failed", "done"):
            out["jobs_bad"].append(f"{job_id}: {status}")
    out["job_states"] = states
    raw = _curve(np.random.default_rng(len(acks)), "after")
    store.add_dataset("after recovery", raw, "after.dat", read_measurement_bytes(raw, "after.dat"))
    done = jobs.submit(store, "selftest", {"steps": 2, "seconds": 0.0}, detach=False)
    out["writable"] = done.status == "done"
    return out


def run(args) -> dict:
    from swaxs_lib import jobs
    from swaxs_lib.store import Store

    folder = Path(tempfile.mkdtemp(prefix="swaxs-crash-"))
    db = folder / "swaxs.duckdb"
    Store(db).table_counts()  # create it
    rng = random.Random(args.seed)
    rounds, job_ids, killed = [], [], 0
    print(f"crash test: {args.rounds} rounds, {args.store_writers} Store-API writers, {args.cli_writers} CLI "
          f"writers, a job, {'the server' if args.server else 'no server'}; store {db}", flush=True)
    try:
        for r in range(args.rounds):
            procs = []
            server = url = None
            if args.server:
                server, url = start_server(db, folder / "server.log")
                procs.append(("server", server))
            for w in range(args.store_writers):
                procs.append(("store writer", subprocess.Popen(
                    [PY, __file__, "--writer", "store", "--db", str(db), "--ack", str(folder / f"ack-s{r}-{w}.txt"),
                     "--tag", f"s{r}-{w}"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                    start_new_session=True, stderr=open(folder / "writers.log", "ab"))))
            for w in range(args.cli_writers):
                procs.append(("cli writer", subprocess.Popen(
                    [PY, __file__, "--writer", "cli", "--db", str(db), "--ack", str(folder / f"ack-c{r}-{w}.txt"),
                     "--tag", f"c{r}-{w}", "--folder", str(folder)], cwd=REPO,
                    env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True,
                    stderr=open(folder / "writers.log", "ab"))))
            job = jobs.submit(Store(db), "selftest", {"steps": 100_000, "seconds": 0.05}, label="crash test job")
            job_ids.append(job.id)
            # wait until every writer has written at least once (or a timeout), then the random moment
            t_start = time.time()
            deadline = t_start + 120
            while time.time() < deadline and sum(f.stat().st_size > 0 for f in folder.glob(f"ack-?{r}-*.txt")) < (
                    args.store_writers + args.cli_writers):
                time.sleep(0.05)
            wait = rng.uniform(*args.kill_after)
            time.sleep(wait)
            before = len(read_acks(folder))
            status = Store(db).get_result(job.id).status
            worker_pid = ((Store(db).get_result(job.id).result or {}).get("worker") or {}).get("pid")
            # SIGKILL everything at once
            for _, proc in procs:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if worker_pid:
                for kill in (os.killpg, os.kill):
                    try:
                        kill(int(worker_pid), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
            for _, proc in procs:
                proc.wait()
            killed += len(procs) + (1 if worker_pid else 0)
            time.sleep(0.2)  # let the killed worker become a zombie or vanish
            check = verify(db, folder, job_ids)
            if args.server:
                server, url = start_server(db, folder / "server.log")
                check["server_restarted"] = healthy(url)
                kill_group(server)
            row = {"round": r + 1, "kill_after_s": round(wait, 2), "job_status_at_kill": status,
                   "acks_before_kill": before, "processes_killed": len(procs) + (1 if worker_pid else 0), **check}
            rounds.append(row)
            print(f"  round {r + 1}: killed {row['processes_killed']} processes {wait:.1f} s after the first acks "
                  f"(job {status}); {check['acknowledged']} acknowledged so far, lost {check['lost']}, changed "
                  f"{check['changed']}, jobs {check['job_states']}, store opened in {check['open_s']} s"
                  + (f", server restarted {'ok' if check.get('server_restarted') else 'FAILED'}" if args.server
                     else ""), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    last = rounds[-1] if rounds else {}
    ok = bool(rounds) and all(x["store_opens"] and x["writable"] and not x["lost"] and not x["changed"]
                              and not x["jobs_bad"] and x.get("server_restarted", True) for x in rounds)
    return {"rounds": rounds, "kills_survived": sum(x["processes_killed"] for x in rounds if x["store_opens"]),
            "rounds_survived": sum(1 for x in rounds if x["store_opens"] and x["writable"]),
            "acknowledged": last.get("acknowledged", 0), "lost": max((x["lost"] for x in rounds), default=0),
            "changed": max((x["changed"] for x in rounds), default=0),
            "jobs_left_running": sum(len(x["jobs_bad"]) for x in rounds), "ok": ok}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--store-writers", type=int, default=3)
    p.add_argument("--cli-writers", type=int, default=1)
    p.add_argument("--no-server", dest="server", action="store_false", help="do not start (and kill) the dashboard")
    p.add_argument("--kill-after", default="0.5,4", help="the kill comes uniformly within MIN,MAX seconds after "
                                                          "every writer's first acknowledgement (default 0.5,4)")
    p.add_argument("--seed", type=int, default=19)
    p.add_argument("--keep", action="store_true", help="keep the temporary store")
    p.add_argument("--json", default=None, help="write the figures here")
    p.add_argument("--writer", choices=["store", "cli"], help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--ack", help=argparse.SUPPRESS)
    p.add_argument("--tag", help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.writer == "store":
        store_writer(args.db, args.ack, args.tag)
        return 0
    if args.writer == "cli":
        cli_writer(args.db, args.ack, args.tag, args.folder)
        return 0
    try:
        lo, hi = (float(x) for x in args.kill_after.split(","))
        assert 0 <= lo <= hi
    except (ValueError, AssertionError):
        p.error(f"--kill-after: {args.kill_after!r}; expected MIN,MAX seconds with 0 <= MIN <= MAX")
    args.kill_after = (lo, hi)
    if args.rounds < 1 or args.store_writers + args.cli_writers < 1:
        p.error("--rounds >= 1 and at least one writer")
    t0 = time.time()
    result = run(args)
    result["wall_s"] = round(time.time() - t0, 1)
    print(f"\nkills survived: {result['kills_survived']} processes in {result['rounds_survived']} of {args.rounds} "
          f"rounds; acknowledged datasets {result['acknowledged']}, data lost {result['lost']}, changed "
          f"{result['changed']}, jobs left running {result['jobs_left_running']}  ({result['wall_s']:.0f} s)")
    print("PASS" if result["ok"] else "FAIL")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
