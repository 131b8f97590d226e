# Sourced by serve.sh and test.sh: Debian packages and Python environments, made the same way for both.

SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# apt_install COMMAND:PACKAGE...: install (as root or through sudo) the packages whose command is missing.
apt_install() {
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} with apt-get" >&2
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# make_venv DIR REQUIREMENTS: create DIR, install REQUIREMENTS into it, and rebuild diffpy.pdffit2 if it
# does not import. pdffit2 ships no wheel for Python 3.11: pip compiles it against GSL (libgsl-dev), and a
# build made while GSL was missing installs, is cached by pip, and fails on import; --no-cache-dir rebuilds it.
make_venv() {
  local dir="$1" requirements="$2" pin
  python3 -m venv "$dir"
  "$dir/bin/python" -m pip install -q -r "$requirements"
  pin="$(grep -ih '^diffpy.pdffit2==' requirements.txt || true)"
  if [ -n "$pin" ] && ! "$dir/bin/python" -c "import diffpy.pdffit2" 2>/dev/null; then
    echo "rebuilding $pin (its build cannot import)" >&2
    "$dir/bin/python" -m pip install -q --no-cache-dir --force-reinstall --no-deps "$pin"
  fi
}
