#!/usr/bin/env bash
# Installs the Python peers the tests compare sohoa against into virtual environments,
# skipping the work when they are already there. Idempotent; `make test` runs it.
#   pyHanko and its CLI (tests/sign.rs)           SOHOA_PYHANKO_VENV, default ~/.venv/sohoa-pyhanko
#   schemathesis and bagit (tests/openapi.rs, tests/export.rs)
#                                                 SOHOA_TOOLS_VENV, default ~/.venv/sohoa-tools
#   OCRmyPDF, Pillow, pikepdf, fpdf2 (workers/tests/ocrmypdf.rs, scripts/gen-scanned-pdfs.py)
#                                                 SOHOA_SCANS_VENV, default ~/.venv/sohoa-scans
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

# Pillow, pikepdf and fpdf2 (scripts/gen-scanned-pdfs.py writes tests/vectors/scanned/) and
# OCRmyPDF, the peer of the OCR conformance run (workers/tests/ocrmypdf.rs); OCRmyPDF needs
# Debian's ghostscript and tesseract-ocr, which scripts/install-deps.sh installs.
scans="${SOHOA_SCANS_VENV:-$HOME/.venv/sohoa-scans}"
if ! { [ -x "$scans/bin/ocrmypdf" ] && "$scans/bin/python" -c 'import PIL, pikepdf, fpdf' 2>/dev/null; }; then
  echo "installing OCRmyPDF, Pillow, pikepdf and fpdf2 into $scans"
  python3 -m venv "$scans"
  "$scans/bin/pip" install -q --disable-pip-version-check 'ocrmypdf==17.13.0' 'pikepdf==10.18.0' 'pillow==13.0.0' 'fpdf2==2.8.9'
fi

# playwright-core and axe-core for the desk's browser test (tests/browser.rs), at the versions
# tests/browser/package-lock.json pins, from the npm registry with the machine's Node.js
# (20 or newer); the browser is Debian's chromium, which scripts/install-deps.sh installs.
browser="$(cd "$(dirname "$0")/../tests/browser" && pwd)"
if ! { [ -f "$browser/node_modules/playwright-core/package.json" ] && [ -f "$browser/node_modules/axe-core/axe.min.js" ] \
       && [ "$browser/node_modules/.package-lock.json" -nt "$browser/package-lock.json" ]; }; then
  command -v npm >/dev/null || { echo "error: npm (Node.js 20 or newer) is required for the browser test" >&2; exit 1; }
  echo "installing playwright-core and axe-core into $browser/node_modules"
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
