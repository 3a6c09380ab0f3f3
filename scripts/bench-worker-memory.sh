#!/usr/bin/env bash
# Worker memory over a long batch: a release `sohoa serve` with one supervised worker takes
# N scans (generated pages, uploaded in turn) through the queue; the worker's resident
# memory is sampled as jobs complete and printed at 10 %, 50 % and 100 % of the batch.
# Usage: scripts/bench-worker-memory.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
cargo build --release --workspace --bins -q
release=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SOHOA_DATA_DIR=$work SOHOA_INDEX_URL=sqlite://$work/sohoa.db SOHOA_ARCHIVE_URL=file://$work/archive \
  SOHOA_POLICIES_DIR=$PWD/policies SOHOA_WORKERS=1 SOHOA_LISTEN=127.0.0.1:$port SOHOA_LOG=warn
$release/sohoa init >/dev/null
. "$work/tokens.txt"
$release/sohoa serve & server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
$release/sohoa-worker samples -o "$work/pages" --count 10 --quality clean,ordinary >/dev/null
api=http://127.0.0.1:$port/api/v1
code=$(curl -sf -X POST "$api/dossiers" -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' \
  -d '{"procedure":"1.001193","applicant":{"kind":"citizen","id":"001204012345","name":"Nguyễn Văn An"}}' | sed -E 's/.*"code":"([^"]+)".*/\1/')
pages=("$work"/pages/*.png "$work"/pages/*.jpg)
for i in $(seq 0 $((n - 1))); do
  curl -sf -o /dev/null -X POST "$api/dossiers/$code/components/hospital_birth_notice/scans" \
    -H "Authorization: Bearer $SCANNER" --data-binary @"${pages[$((i % ${#pages[@]}))]}"
done
worker=$(pgrep -f "sohoa-worker --api http://127.0.0.1:$port" | head -1)
python3 - "$api" "$AUDITOR" "$ADMIN" "$worker" "$n" <<'PY'
import json, sys, time, urllib.request
api, auditor, admin, pid, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def done():
    req = urllib.request.Request(f"{api}/jobs?state=done&limit=1000", headers={"Authorization": f"Bearer {admin}"})
    return len(json.load(urllib.request.urlopen(req))["jobs"])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
marks, seen, peak, start = {max(1, n // 10): None, n // 2: None, n: None}, 0, 0.0, time.monotonic()
while seen < n:
    time.sleep(0.5)
    seen, now = done(), rss()
    peak = max(peak, now)
    for m in marks:
        if marks[m] is None and seen >= m:
            marks[m] = now
print(f"{n} jobs in {time.monotonic() - start:.0f} s through one worker process")
for m, v in sorted(marks.items()):
    print(f"worker RSS after {m:>5} jobs: {v:6.1f} MB")
print(f"worker peak RSS:           {peak:6.1f} MB")
PY
