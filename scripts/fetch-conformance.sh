#!/usr/bin/env bash
# Fetches outside signed-PDF corpora into a test cache for the conformance run
# (tests/signing/conformance.rs): pyHanko's test data (its PDFs and its testing CA) from
# the pyHanko source distribution on PyPI. Idempotent; prints the cache directory.
#   usage: scripts/fetch-conformance.sh [DIR]   (default: target/conformance)
# EU DSS's PAdES validation files are published only on GitHub and Maven, which this
# project's machines cannot reach; see docs/attacks.md.
set -euo pipefail

dir="${1:-${SOHOA_CONFORMANCE_DIR:-$(dirname "$0")/../target/conformance}}"
version="0.38.0"
data="$dir/pyhanko-$version"
mkdir -p "$dir"
if [ ! -f "$data/.complete" ]; then
  tmp="$(mktemp -d "$dir/fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # pip from pyHanko's environment (scripts/install-test-tools.sh), else the system's
  py="${SOHOA_PYHANKO_VENV:-$HOME/.venv/sohoa-pyhanko}/bin/python"
  [ -x "$py" ] || py=python3
  "$py" -m pip download -q --disable-pip-version-check --no-binary :all: --no-deps "pyhanko==$version" -d "$tmp" >&2
  tar -xzf "$tmp/pyhanko-$version.tar.gz" -C "$tmp" "pyhanko-$version/pyhanko_testing_commons/test_data/data/pdf" \
    "pyhanko-$version/pyhanko_testing_commons/test_data/data/crypto/testing-ca"
  rm -rf "$data"
  mv "$tmp/pyhanko-$version/pyhanko_testing_commons/test_data/data" "$data"
  touch "$data/.complete"
fi
cd "$data" && pwd
