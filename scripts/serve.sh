#!/usr/bin/env bash
# Install what the dashboard and every command need into .venv and start the dashboard. GSL (libgsl-dev,
# which diffpy.pdffit2 compiles against) comes from apt-get, as root or through sudo, when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
apt_install gsl-config:libgsl-dev
make_venv .venv requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
