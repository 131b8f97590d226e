#!/usr/bin/env bash
# Install what the tests need into .venv (Debian's chromium for the browser tests and GSL,
# which diffpy.pdffit2 compiles against) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
if ! command -v chromium >/dev/null || ! command -v gsl-config >/dev/null; then
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium libgsl-dev >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q -r requirements-test.txt
# pdffit2 ships no wheel for Python 3.11: a build made without GSL installs but cannot import.
if ! .venv/bin/python -c "import diffpy.pdffit2" 2>/dev/null; then
  .venv/bin/python -m pip install -q --no-cache-dir --force-reinstall --no-deps "$(grep -i '^diffpy.pdffit2==' requirements-test.txt)"
fi
.venv/bin/python -m pytest -q "$@"
