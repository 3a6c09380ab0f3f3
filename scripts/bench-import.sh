#!/usr/bin/env bash
# Import throughput: N one-page documents (the sample birth notice, each changed in two
# pixels so that none is a duplicate) imported by `sohoa import` into a fresh installation
# (SQLite file, file:// archive); prints the command's documents/s and pages/s.
# Usage: scripts/bench-import.sh [N] [SOHOA_BINARY]
#
# With --ocr: N generated pages (`sohoa-worker samples`, clean, every type in turn) imported
# without a sheet by a served installation with W local workers, so that each page is read
# by OCR (import priority), classified and extracted; beside it, the OCR throughput of the
# same pages read by W `sohoa-worker ocr` processes at a time, with no queue.
# Usage: scripts/bench-import.sh --ocr [N] [W] [SOHOA_BINARY] [WORKER_BINARY]
set -euo pipefail
if [ "${1:-}" = "--ocr" ]; then
    exec "$(dirname "$0")/bench-import-ocr.sh" "${@:2}"
fi
n=${1:-300}
sohoa=${2:-target/release/sohoa}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$root/scripts/bench/installation.sh"
installation "$dir" "$root"
mkdir "$dir/batch"
python3 "$root/scripts/bench/import-batch.py" "$root/samples/scans/giay-chung-sinh.png" "$dir/batch" "$n"
"$sohoa" --config "$dir/sohoa.toml" import --batch "$dir/batch" --csv "$dir/batch/sheet.csv" --by bench | tail -2
