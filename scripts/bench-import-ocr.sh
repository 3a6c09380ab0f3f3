#!/usr/bin/env bash
# Import throughput without a sheet beside the OCR throughput of the same pages with the same
# workers (run through `scripts/bench-import.sh --ocr`).
# Usage: scripts/bench-import-ocr.sh [N] [W] [SOHOA_BINARY] [WORKER_BINARY]
set -euo pipefail
n=${1:-40}
w=${2:-2}
sohoa=$(realpath "${3:-target/release/sohoa}")
worker=$(realpath "${4:-target/release/sohoa-worker}")
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
export OMP_THREAD_LIMIT=1
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

"$worker" samples --quality clean --count "$n" --seed 5 --policies "$root/policies" -o "$dir/batch" > /dev/null
pages=$(find "$dir/batch" -name '*.png' -o -name '*.jpg' | wc -l)

# OCR alone: the same pages, W recognitions at a time.
start=$(date +%s.%N)
find "$dir/batch" \( -name '*.png' -o -name '*.jpg' \) -print0 | xargs -0 -P "$w" -I{} "$worker" ocr {} --json > /dev/null
ocr_s=$(echo "$(date +%s.%N) - $start" | bc)

# The import: a served installation with W local workers reads each page (import priority).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
source "$root/scripts/bench/installation.sh"
installation "$dir" "$root" "listen = \"127.0.0.1:$port\"
workers = $w
worker_binary = \"$worker\""
"$sohoa" --config "$dir/sohoa.toml" serve 2> "$dir/serve.log" &
serve_pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do sleep 0.2; done
start=$(date +%s.%N)
"$sohoa" --config "$dir/sohoa.toml" import --batch "$dir/batch" --by bench --jobs $((2 * w + 2)) | tail -2
import_s=$(echo "$(date +%s.%N) - $start" | bc)

python3 - "$pages" "$w" "$ocr_s" "$import_s" <<'PY'
import sys
pages, w, ocr, imp = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"{pages} pages, {w} workers: OCR alone {pages / ocr:.2f} pages/s ({ocr:.1f} s); "
      f"import without a sheet {pages / imp:.2f} pages/s ({imp:.1f} s); ratio {ocr / imp:.2f}")
PY
