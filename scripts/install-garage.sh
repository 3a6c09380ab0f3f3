#!/usr/bin/env bash
# Installs the Garage S3 server (2.x) from crates.io into ~/.cargo/bin, skipping the work
# when it is already there. Idempotent; `make test-garage` runs it. The build takes about
# 12 minutes on two cores and uses its own target directory, removed afterwards.
set -euo pipefail

bin="$HOME/.cargo/bin/garage"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -Eq '[^0-9.]2\.[0-9]+\.[0-9]+'; then
  exit 0
fi
echo "installing garage 2.1.0 into $HOME/.cargo/bin (about 12 minutes)"
target="${GARAGE_BUILD_DIR:-${TMPDIR:-/tmp}/sohoa-garage-build}"
CARGO_TARGET_DIR="$target" cargo install garage --version 2.1.0 --locked
rm -rf "$target"
"$bin" --version
