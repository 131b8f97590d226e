#!/usr/bin/env bash
# Run the tests. First, what the run command installs (requirements.txt alone) goes into its own
# .venv-runtime, where `pip check` must pass and every command and page must run on shipped data
# (scripts/runtime_smoke.py): a dependency missing from requirements.txt fails here, before the test
# requirements could hide it. Then the test requirements go into .venv and pytest runs. Debian's chromium
# (browser tests) and libgsl-dev (diffpy.pdffit2 compiles against it) come from apt-get, as root or via sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
apt_install gsl-config:libgsl-dev chromium:chromium

make_venv .venv-runtime requirements.txt
.venv-runtime/bin/python -m pip check
# .venv is built while the smoke run uses .venv-runtime (a separate environment: nothing it installs can reach
# the smoke run); `wait` fails the script if that build failed.
make_venv .venv requirements-test.txt &
test_venv=$!
.venv-runtime/bin/python scripts/runtime_smoke.py
wait "$test_venv"
# --dist loadscope keeps each module on one worker, so its module-scoped fixtures (a store, a server) are built once.
.venv/bin/python -m pytest -q --numprocesses "${SWAXS_TEST_WORKERS:-2}" --dist loadscope --durations=25 "$@"
