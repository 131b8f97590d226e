#!/usr/bin/env bash
# Install what the tests need (Debian's chromium included) into .venv and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
if ! command -v chromium >/dev/null; then
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q -r requirements-test.txt
.venv/bin/python -m pytest -q "$@"
