#!/usr/bin/env bash
# Fuzzes with libFuzzer (cargo-fuzz on the nightly toolchain):
# - verify, sign: signature verification and signing; any bytes must end in a report or an
#   error, never a panic, a hang or runaway memory; what signing accepts, verification must
#   read back. Seeds are a real searchable scan (sohoa-worker ocr), the same with object
#   streams (qpdf), and each signed once and twice.
# - intake_png, intake_jpeg, intake_tiff, intake_pdf: the upload decoders, the service's
#   intake check (sniffing, pixel and page limits, whole decode) and the worker's page
#   decoders, with a one-megapixel, three-page limit; pages within the limits or an error.
#   Seeds are generated scans (sohoa-worker samples) and the sample scan, made small and
#   written in the encodings scanners use (examples/fuzz_seeds.rs), and for PDF also the
#   searchable scan.
# Prints libFuzzer's figures (inputs run, per second, peak RSS) and the corpus size per target; a crashing
# input is left in fuzz/artifacts/TARGET/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (every target by default)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=(verify sign intake_png intake_jpeg intake_tiff intake_pdf)
fi

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo build -q -p sohoa --bin sohoa --example fuzz_seeds
cargo build -q -p sohoa-worker --bin sohoa-worker
bin=${CARGO_TARGET_DIR:-target}/debug

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sohoa=$bin/sohoa
$sohoa pki demo "$work/pki" >/dev/null
OMP_THREAD_LIMIT=1 $bin/sohoa-worker ocr samples/scans/giay-chung-sinh.png -o "$work/scan.pdf"
qpdf --object-streams=generate "$work/scan.pdf" "$work/modern.pdf"
sign() { # IN OUT OFFICIAL
  $sohoa sign "$1" -o "$2" --key "$work/pki/$3.key" --cert "$work/pki/$3.pem" --chain "$work/pki/root.pem" \
    --visible 1,300,40,240,110 --image "$work/pki/$3.png" --seal-image "$work/pki/seal.png" 2>/dev/null
}
for base in scan modern; do
  sign "$work/$base.pdf" "$work/$base-once.pdf" official1
  sign "$work/$base-once.pdf" "$work/$base-twice.pdf" official2
done
OMP_THREAD_LIMIT=1 $bin/sohoa-worker samples -o "$work/samples" --count 1 --seed 7 --out-of-scope 1 >/dev/null
$bin/examples/fuzz_seeds "$work/uploads" "$work"/samples/*.png "$work"/samples/*.jpg samples/scans/*.png
cp "$work/scan.pdf" "$work/modern.pdf" "$work/uploads/pdf/"

for target in "${targets[@]}"; do
  corpus=fuzz/corpus/$target
  mkdir -p "$corpus"
  case $target in
    verify | sign) cp "$work"/*.pdf "$corpus/" ;;
    intake_*) cp "$work/uploads/${target#intake_}"/* "$corpus/" ;;
  esac
  echo "== $target: $seconds s"
  cargo +nightly fuzz run -s none "$target" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 2>&1 |
    grep -E '^#[0-9]+[[:space:]]+DONE|^Done|stat::|panic|ERROR|SUMMARY|Test unit written' || true
  echo "corpus: $(find "$corpus" -type f | wc -l) files, $(du -sh "$corpus" | cut -f1)"
done
