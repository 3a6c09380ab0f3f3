#!/usr/bin/env bash
# Installs the Python peers the tests compare sohoa against into virtual environments,
# skipping the work when they are already there. Idempotent; `make test` runs it.
#   pyHanko and its CLI (tests/sign.rs)           SOHOA_PYHANKO_VENV, default ~/.venv/sohoa-pyhanko
#   schemathesis and bagit (tests/openapi.rs, tests/export.rs)
#                                                 SOHOA_TOOLS_VENV, default ~/.venv/sohoa-tools
set -euo pipefail

venv="${SOHOA_PYHANKO_VENV:-$HOME/.venv/sohoa-pyhanko}"
if ! { [ -x "$venv/bin/pyhanko" ] && "$venv/bin/python" -c 'import pyhanko' 2>/dev/null; }; then
  echo "installing pyHanko into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'pyhanko==0.38.0' 'pyhanko-cli==0.6.0'
fi

tools="${SOHOA_TOOLS_VENV:-$HOME/.venv/sohoa-tools}"
if ! { [ -x "$tools/bin/schemathesis" ] && [ -x "$tools/bin/bagit.py" ]; }; then
  echo "installing schemathesis and bagit into $tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check 'schemathesis==4.32.5' 'bagit==1.9.0'
fi
