#!/usr/bin/env bash
# Fetches OCRmyPDF's public test resources (real scans and hand-made PDFs: bilevel, JBIG2,
# CCITT, JPEG 2000, palette, CMYK, rotated, skewed, multi-page) into a test cache for the OCR
# conformance run (workers/tests/ocrmypdf.rs), from OCRmyPDF's source distribution on PyPI,
# which carries tests/resources (checked for 17.13.0). Idempotent; prints the cache directory.
#   usage: scripts/fetch-ocrmypdf.sh [DIR]   (default: target/ocrmypdf)
set -euo pipefail

dir="${1:-${SOHOA_OCRMYPDF_DIR:-$(dirname "$0")/../target/ocrmypdf}}"
version="17.13.0"
data="$dir/ocrmypdf-$version"
mkdir -p "$dir"
if [ ! -f "$data/.complete" ]; then
  tmp="$(mktemp -d "$dir/fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # pip from the scans environment (scripts/install-test-tools.sh), else the system's
  py="${SOHOA_SCANS_VENV:-$HOME/.venv/sohoa-scans}/bin/python"
  [ -x "$py" ] || py=python3
  "$py" -m pip download -q --disable-pip-version-check --no-binary :all: --no-deps "ocrmypdf==$version" -d "$tmp" >&2
  tar -xzf "$tmp/ocrmypdf-$version.tar.gz" -C "$tmp" "ocrmypdf-$version/tests/resources"
  rm -rf "$data"
  mv "$tmp/ocrmypdf-$version/tests/resources" "$data"
  touch "$data/.complete"
fi
cd "$data" && pwd
