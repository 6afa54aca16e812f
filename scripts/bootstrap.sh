#!/usr/bin/env bash
# Create the virtual environment and install the project with its dev tools.
# Debian's system Python refuses `pip install` outside a venv (PEP 668), so we always use one.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    echo "python3 -m venv failed; installing python3-venv" >&2
    apt-get update -qq && apt-get install -y -qq python3-venv
    "$PYTHON" -m venv "$VENV"
  fi
fi
stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e '.[dev]'
  touch "$stamp"
fi
# Compiled catalogs are build output (not tracked): compile from the .po sources.
"$VENV/bin/pybabel" compile -q -d onboarding/translations 2>/dev/null || \
  "$VENV/bin/pybabel" compile -d onboarding/translations
