#!/usr/bin/env bash
# Classification benchmark: documents classified per second (classification alone, and
# with field extraction) over generated pages of every catalog type at three scan qualities
# plus out-of-scope pages, on their truth texts and on the texts sohoa-worker recognised.
# The recognition of the same pages is timed too, and the ratio printed: how many documents
# are classified in the time one page is recognised.
# Usage: scripts/bench-classify.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-7}
export OMP_THREAD_LIMIT=1
cargo build --release -q -p sohoa-worker
cargo build --release -q -p sohoa --bin sohoa --example bench_classify
target=${CARGO_TARGET_DIR:-target}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
worker=$target/release/sohoa-worker
types=$(grep -c '^\[\[doc_type\]\]' policies/doc-types.toml)
$worker samples -o "$work" --seed "$seed" --count "$types" --out-of-scope 4 >/dev/null

# two recognitions at a time, one per core
started=$(date +%s.%N)
ls "$work"/*.png "$work"/*.jpg | xargs -P 2 -I{} sh -c \
  'f="{}"; "$0" scan "$f" --json | python3 -c "import json,sys; sys.stdout.write(json.load(sys.stdin)[\"text\"])" > "${f%.*}.ocr.txt"' "$worker"
pages=$(ls "$work"/*.ocr.txt | wc -l)
# seconds a page takes one core
per_page=$(awk -v a="$started" -v b="$(date +%s.%N)" -v n="$pages" 'BEGIN { print (b - a) * 2 / n }')
printf 'ocr pages=%d seconds_per_page_per_core=%.2f\n' "$pages" "$per_page"

"$target/release/examples/bench_classify" "$work" policies 3 | tee "$work/classify.txt"
per_s=$(sed -n 's/^texts=ocr.*classify_extract_per_s=\([0-9.]*\).*/\1/p' "$work/classify.txt")
awk -v r="$per_s" -v p="$per_page" 'BEGIN { printf "ratio: %.0f documents classified with their fields in the time one page is recognised\n", r * p }'
"$target/release/sohoa" classify eval "$work" | sed -n '1,12p'
