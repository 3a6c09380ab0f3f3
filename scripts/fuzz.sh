#!/usr/bin/env bash
# Fuzzes signature verification and signing with libFuzzer (cargo-fuzz on the nightly
# toolchain): any bytes must end in a report or an error, never a panic, a hang or runaway
# memory; what signing accepts, verification must read back. Seeds are a real searchable scan
# (sohoa-worker ocr), the same with object streams (qpdf), and each signed once and twice.
# Prints libFuzzer's figures per target; a crashing input is left in fuzz/artifacts/TARGET/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (targets: verify sign)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
if [ $# -gt 0 ]; then targets=("$@"); else targets=(verify sign); fi

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo build -q -p sohoa --bin sohoa
cargo build -q -p sohoa-worker --bin sohoa-worker

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sohoa=./target/debug/sohoa
$sohoa pki demo "$work/pki" >/dev/null
OMP_THREAD_LIMIT=1 ./target/debug/sohoa-worker ocr samples/scans/giay-chung-sinh.png -o "$work/scan.pdf"
qpdf --object-streams=generate "$work/scan.pdf" "$work/modern.pdf"
sign() { # IN OUT OFFICIAL
  $sohoa sign "$1" -o "$2" --key "$work/pki/$3.key" --cert "$work/pki/$3.pem" --chain "$work/pki/root.pem" \
    --visible 1,300,40,240,110 --image "$work/pki/$3.png" --seal-image "$work/pki/seal.png" 2>/dev/null
}
for base in scan modern; do
  sign "$work/$base.pdf" "$work/$base-once.pdf" official1
  sign "$work/$base-once.pdf" "$work/$base-twice.pdf" official2
done

for target in "${targets[@]}"; do
  corpus=fuzz/corpus/$target
  mkdir -p "$corpus"
  cp "$work"/*.pdf "$corpus/"
  echo "== $target: $seconds s"
  cargo +nightly fuzz run -s none "$target" "$corpus" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
    -print_final_stats=1 2>&1 | grep -E '^#[0-9]+[[:space:]]+DONE|^Done|stat::|panicked|ERROR|SUMMARY|Test unit written' || true
done
