"""Try the recipes of docs/deploy.md on this machine, as far as it allows; print what was tried and how it went.

    python scripts/try_deploy.py

- the systemd unit (the ```ini block): ``systemd-analyze verify`` on a copy;
- the nginx block: run with ``listen 127.0.0.1:<free port>``, no TLS, ``proxy_pass`` to a dashboard started here in
  ``SWAXS_AUTH=proxy`` mode on a temporary store, an htpasswd file with users ann and bob; checks that nginx
  refuses a request without credentials (401), passes the health check with them, that a spoofed
  ``X-Forwarded-User`` from the client is replaced by the logged-in name, and (with Playwright and Debian's
  chromium) that the page, logged in as ann, says so in its sidebar;
- the Dockerfile: built only if a Docker daemon answers.

Needs nginx and htpasswd (``apt-get install nginx-light apache2-utils``); exits 1 if a check that could run failed.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "deploy.md"


def block(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)
    if not found:
        raise SystemExit(f"{DOC}: no ```{language} block")
    return found.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, user: str | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    if user:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{user}-secret".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:  # not listening yet
        return 0, ""


def try_systemd(work: Path) -> tuple[str, bool | None]:
    if not shutil.which("systemd-analyze"):
        return "systemd-analyze not installed: not tried", None
    unit = work / "swaxs.service"
    unit.write_text(block("ini"))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    # this machine has no swaxs user, no /opt/swaxs and no running systemd: those complaints are the machine's
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    unit_errors = [ln for ln in lines if "swaxs.service" in ln and not re.search(
        r"/opt/swaxs|Failed to|System has not been booted|not executable|No such file", ln)]
    return f"systemd-analyze verify: {len(lines)} message(s), {len(unit_errors)} about the unit itself " + (
        "; ".join(unit_errors)[:300]), not unit_errors


def try_nginx(work: Path) -> tuple[str, bool | None]:
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()) or not shutil.which("htpasswd"):
        return "nginx or htpasswd not installed: not tried", None
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    app_port, proxy_port = free_port(), free_port()
    users = work / "swaxs.htpasswd"
    for k, name in enumerate(("ann", "bob")):
        subprocess.run(["htpasswd", "-bB" + ("c" if k == 0 else ""), str(users), name, f"{name}-secret"], check=True,
                       capture_output=True)
    server = block("nginx")
    server = re.sub(r"listen 443 ssl;", f"listen 127.0.0.1:{proxy_port};", server)
    server = re.sub(r"\n\s*ssl_certificate[^\n]*", "", server)
    server = server.replace("/etc/nginx/swaxs.htpasswd", str(users)).replace("127.0.0.1:8501", f"127.0.0.1:{app_port}")
    conf = work / "nginx.conf"
    conf.write_text(f"pid {work}/nginx.pid;\nerror_log {work}/error.log;\nevents {{}}\nhttp {{\n"
                    f"access_log {work}/access.log;\nclient_body_temp_path {work};\nproxy_temp_path {work};\n"
                    f"{server}\n}}\n")
    test = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(work)], capture_output=True, text=True)
    if test.returncode != 0:
        return f"nginx -t failed: {test.stderr.strip()[-300:]}", False
    env = {**os.environ, "SWAXS_DB": str(work / "swaxs.duckdb"), "SWAXS_AUTH": "proxy", "SWAXS_ADMINS": "bob"}
    app = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(app_port)],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checks: list[tuple[str, bool]] = []
    try:
        base = f"http://127.0.0.1:{proxy_port}"
        deadline = time.time() + 60
        while time.time() < deadline and get(base + "/_stcore/health", "ann")[0] != 200:
            time.sleep(0.5)
        checks.append(("no credentials: 401", get(base + "/")[0] == 401))
        wrong = {"Authorization": "Basic " + base64.b64encode(b"ann:not-her-password").decode()}
        checks.append(("wrong password: 401", get(base + "/", None, wrong)[0] == 401))
        checks.append(("ann's health check through the proxy: 200", get(base + "/_stcore/health", "ann")[0] == 200))
        checks.append(browser_check(base))
    finally:
        proxy.terminate()
        app.terminate()
        proxy.wait(10)
        app.wait(20)
    failed = [name for name, ok in checks if not ok]
    return "nginx in front, SWAXS_AUTH=proxy: " + "; ".join(f"{n} {'ok' if ok else 'FAILED'}" for n, ok in checks), \
        not failed


def browser_check(base: str) -> tuple[str, bool]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "browser: playwright not installed (not tried)", True
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        # the browser also sends a forged header: the proxy must replace it with the logged-in name
        context = browser.new_context(http_credentials={"username": "ann", "password": "ann-secret"},
                                      extra_http_headers={"X-Forwarded-User": "bob"})
        page = context.new_page()
        page.goto(base + "/", wait_until="networkidle")
        try:
            page.get_by_text("Signed in as ann").wait_for(timeout=30_000)
            ok = page.get_by_text("Signed in as bob").count() == 0
        except Exception:  # noqa: BLE001 -- reported as a failed check
            ok = False
        browser.close()
    return "browser as ann (forging X-Forwarded-User: bob) sees 'Signed in as ann'", ok


def try_docker() -> tuple[str, bool | None]:
    if not shutil.which("docker"):
        return "docker not installed: not tried", None
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "docker client installed, no daemon answers: not tried", None
    dockerfile = Path(tempfile.mkdtemp()) / "Dockerfile"
    dockerfile.write_text(block("dockerfile"))
    done = subprocess.run(["docker", "build", "-f", str(dockerfile), "-t", "swaxs-try", str(ROOT)],
                          capture_output=True, text=True)
    return f"docker build: exit {done.returncode}", done.returncode == 0


def main() -> int:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, attempt in (("systemd unit", lambda: try_systemd(work)), ("nginx proxy", lambda: try_nginx(work)),
                              ("container", try_docker)):
            text, ok = attempt()
            results.append((name, text, ok))
            print(f"{name:13} {'ok' if ok else 'not tried' if ok is None else 'FAILED'}: {text}", flush=True)
    return 1 if any(ok is False for _, _, ok in results) else 0


if __name__ == "__main__":
    sys.exit(main())
