#!/usr/bin/env bash
# Orientation soak: 520 upright poor scans in faces nothing was tuned on, 130 of them also
# turned 90, 180 and 270 degrees, and 130 pages with little or no text, in release; fails
# on any wrong turn (workers/tests/orientation.rs, the ignored test). About 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -p sohoa-worker --test orientation -- --ignored --nocapture soak_
