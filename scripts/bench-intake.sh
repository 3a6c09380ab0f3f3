#!/usr/bin/env bash
# Intake benchmark: dossier creations per second and scan upload throughput against a
# release `sohoa serve` (SQLite index and file archive in a temp dir, no local workers so
# that only intake is measured), driven by wrk. The floor to compare uploads with is
# `sha256sum` over the same bytes: intake sniffs, decodes (pixel check), hashes, stores and
# queues each page.
# Dossier creation runs for 4 s over five agencies: the 4-digit daily sequence holds 9,999
# dossiers per agency per day, and a longer run would measure refusals.
# Usage: scripts/bench-intake.sh [UPLOAD_SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
connections=${2:-16}

command -v wrk >/dev/null || { echo "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --workspace --bins -q
release=${CARGO_TARGET_DIR:-target}/release

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SOHOA_DATA_DIR=$work SOHOA_INDEX_URL=sqlite://$work/sohoa.db SOHOA_ARCHIVE_URL=file://$work/archive \
  SOHOA_POLICIES_DIR=$PWD/policies SOHOA_WORKERS=0 SOHOA_LISTEN=127.0.0.1:$port SOHOA_LOG=warn
$release/sohoa init >/dev/null
. "$work/tokens.txt"
export SCANNER
$release/sohoa serve & server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

mkdir -p "$work/pages"
python3 scripts/bench/pages.py "$work/pages" 20
export PAGES=$work/pages
page_bytes=$(stat -c %s "$work"/pages/*.png | awk '{s+=$1} END {print int(s/NR)}')

code=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/dossiers" -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' \
  -d '{"procedure":"1.001193","applicant":{"kind":"citizen","id":"001204012345","name":"Nguyễn Văn An"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
export UPLOAD_PATH=/api/v1/dossiers/$code/components/hospital_birth_notice/scans

TOKENS=$(for a in $(awk -F'"' '/^code/ {print $2}' policies/agencies.toml); do $release/sohoa token create --role scanner --agency "$a"; done | xargs)
export TOKENS
echo "== dossier creation: POST /api/v1/dossiers, $connections connections, 4s"
wrk -t2 -c"$connections" -d4s --latency -s scripts/bench/dossier.lua "http://127.0.0.1:$port/api/v1/dossiers" | tee "$work/dossier.txt"

echo "== scan upload: $((page_bytes / 1024)) KiB A4 PNG pages at 150 dpi, distinct bodies, $connections connections, ${seconds}s"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s scripts/bench/upload.lua "http://127.0.0.1:$port$UPLOAD_PATH" | tee "$work/upload.txt"

# the floor: hashing the same pages with sha256sum, 50 passes
start=$(date +%s.%N)
for _ in $(seq 50); do sha256sum "$work"/pages/*.png >/dev/null; done
end=$(date +%s.%N)

dossiers=$(awk '/Requests\/sec/ {print $2}' "$work/dossier.txt")
uploads=$(awk '/Requests\/sec/ {print $2}' "$work/upload.txt")
python3 - "$dossiers" "$uploads" "$page_bytes" "$start" "$end" <<'PY'
import sys
dossiers, uploads, size, start, end = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
hash_mbs = 50 * 20 * size / (end - start) / 1e6
upload_mbs = uploads * size / 1e6
print()
print(f"{'measure':<34}{'value':>14}")
print(f"{'dossier creations per second':<34}{dossiers:>14.0f}")
print(f"{'page uploads per second':<34}{uploads:>14.0f}")
print(f"{'upload throughput MB/s':<34}{upload_mbs:>14.1f}")
print(f"{'sha256sum MB/s (same pages)':<34}{hash_mbs:>14.1f}")
print(f"{'upload / sha256sum':<34}{upload_mbs / hash_mbs:>14.2f}")
PY
