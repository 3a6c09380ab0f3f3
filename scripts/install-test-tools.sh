#!/usr/bin/env bash
# Installs the Python peers the signing tests compare sohoa against (pyHanko and its CLI)
# into a virtual environment, skipping the work when they are already there. Idempotent;
# `make test` and tests/sign.rs run it. SOHOA_PYHANKO_VENV overrides the location.
set -euo pipefail

venv="${SOHOA_PYHANKO_VENV:-$HOME/.venv/sohoa-pyhanko}"
if [ -x "$venv/bin/pyhanko" ] && "$venv/bin/python" -c 'import pyhanko' 2>/dev/null; then
  exit 0
fi
echo "installing pyHanko into $venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'pyhanko==0.38.0' 'pyhanko-cli==0.6.0'
