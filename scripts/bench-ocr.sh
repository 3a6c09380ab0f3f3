#!/usr/bin/env bash
# OCR benchmark: sohoa-worker against the tesseract CLI (with OpenMP as users run it, and
# with OMP_THREAD_LIMIT=1) and OCRmyPDF (with and without --deskew --clean), on the same
# 20 generated pages (7 clean, 7 ordinary, 6 poor). Prints seconds per page (one process
# per page), pages per second over the batch with 1 and 2 workers, peak RSS, and the
# character error rate of each tool's PDF text (pdftotext) per scan quality. Then one
# engine reads the same pages over and over, SOAK_PAGES in all (a worker's long batch), and
# the resident set is printed along the way: it must stay flat.
# Usage: scripts/bench-ocr.sh [SEED] [SOAK_PAGES (default 1000, 0 to skip)]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-11}
soak=${2:-1000}

need=()
for p in tesseract-ocr tesseract-ocr-vie ghostscript unpaper poppler-utils python3-venv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; fi
venv=target/bench-venv
[ -x "$venv/bin/ocrmypdf" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q ocrmypdf; }
cargo build --release -p sohoa-worker -q --bin sohoa-worker --example ocr_memory
release=${CARGO_TARGET_DIR:-target}/release

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
worker=$release/sohoa-worker
$worker samples -o "$work/pages" --seed "$seed" --count 7 --quality clean,ordinary >/dev/null
$worker samples -o "$work/poor" --seed "$((seed + 1))" --count 6 --quality poor >/dev/null
for f in "$work"/poor/*; do mv "$f" "$work/pages/p-$(basename "$f")"; done
python3 scripts/bench/ocr.py "$work/pages" "$worker" "$venv/bin/ocrmypdf" "$work/out"
if [ "$soak" -gt 0 ]; then
  echo
  echo "memory over a batch of $soak pages (one engine, the 20 pages in turn):"
  OMP_THREAD_LIMIT=1 $release/examples/ocr_memory "$work/pages" "$soak" 100
fi
