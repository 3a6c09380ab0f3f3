#!/usr/bin/env bash
# Records benchmark: ingest (content and manifest archived, then the record and its log leaf
# indexed) to file:// and to Garage; then, at RECORDS records in SQLite, the reuse lookup
# (owner, type, valid today) and the inclusion proof timed in process, and GET a record and
# GET its proof through a release `sohoa serve` driven by wrk. The seeded index is kept in
# $BENCH_RECORDS_DIR (target/bench-records) and topped up on the next run.
# Usage: scripts/bench-records.sh [RECORDS] [WRK_SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
seconds=${2:-20}
connections=${3:-32}
ingest_file=${BENCH_INGEST_FILE:-5000}
ingest_garage=${BENCH_INGEST_GARAGE:-2000}

command -v wrk >/dev/null || { echo "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -q --workspace --bins --example bench_records
release=${CARGO_TARGET_DIR:-target}/release
bench=$release/examples/bench_records
sohoa=$release/sohoa
export SOHOA_AGENCY=000.00.31.H29 SOHOA_LOG=warn

work=$(mktemp -d)
scripts/install-garage.sh
garage_env=$(scripts/garage-start.sh "$work/garage")
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; scripts/garage-stop.sh --purge "$work/garage"; rm -rf "$work"' EXIT
server=
eval "$garage_env"
export SOHOA_S3_ENDPOINT="$SOHOA_TEST_S3_ENDPOINT" SOHOA_S3_REGION="$SOHOA_TEST_S3_REGION" \
  SOHOA_S3_ACCESS_KEY_ID="$SOHOA_TEST_S3_KEY_ID" SOHOA_S3_SECRET_ACCESS_KEY="$SOHOA_TEST_S3_SECRET" SOHOA_S3_ALLOW_HTTP=true
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

echo "== ingest: 4 KiB content + manifest + record and log leaf, 16 in flight"
file=$($bench ingest "file://$work/archive" "$work/ingest-file.db" "$ingest_file" 4096 policies)
echo "file://  $file"
# The disk's floor for file://: two 4 KiB files written and synced per record, 16 at a time.
floor=$(python3 - "$work/floor" "$ingest_file" <<'PY'
import concurrent.futures, os, sys, time
root, count = sys.argv[1], int(sys.argv[2])
os.makedirs(root)
def record(i):
    for part in ("content", "manifest"):
        path = f"{root}/{i}.{part}"
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, os.urandom(4096))
        os.fsync(fd)
        os.close(fd)
        os.rename(path + ".tmp", path)
start = time.time()
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(record, range(count)))
print(f"floor_records_s={count / (time.time() - start):.0f}")
PY
)
echo "floor    $floor (two synced 4 KiB files per record)"
garage=$($bench ingest "s3://$SOHOA_TEST_S3_BUCKET/bench" "$work/ingest-garage.db" "$ingest_garage" 4096 policies)
echo "Garage   $garage"

dir=${BENCH_RECORDS_DIR:-target/bench-records}
mkdir -p "$dir"
db="$dir/records-$records.db"
echo "== seeding $db up to $records records (index only; resumes where the file stops)"
$bench seed "$db" "$records" policies

echo "== in process: reuse lookup and inclusion proof, 10000 random records"
lookup=$($bench lookup "$db" 10000 policies "$work/ids")
echo "$lookup"
reuse=$(grep '^reuse' <<<"$lookup")
proof=$(grep '^proof' <<<"$lookup")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SOHOA_DATA_DIR=$work/data SOHOA_INDEX_URL=sqlite://$PWD/$db SOHOA_ARCHIVE_URL=file://$work/archive \
  SOHOA_POLICIES_DIR=$PWD/policies SOHOA_WORKERS=0 SOHOA_LISTEN=127.0.0.1:$port SOHOA_FIXITY_INTERVAL=0s
$sohoa init >/dev/null
TOKEN=$($sohoa token create --role consumer --agency "$SOHOA_AGENCY")
export TOKEN IDS=$work/ids
$sohoa serve & server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/v1/records/$(head -1 "$IDS")/proof" >/dev/null

echo "== wrk: GET /api/v1/records/{id}, $connections connections, ${seconds}s"
get=$(wrk -t2 -c"$connections" -d"${seconds}s" -s scripts/bench/records.lua "http://127.0.0.1:$port" | tee /dev/stderr | tail -1)
echo "== wrk: GET /api/v1/records/{id}/proof, $connections connections, ${seconds}s"
get_proof=$(SUFFIX=/proof wrk -t2 -c"$connections" -d"${seconds}s" -s scripts/bench/records.lua "http://127.0.0.1:$port" | tee /dev/stderr | tail -1)
rss=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$server/status")

echo
echo "| measure (at $records records) | p50 | p99 | rate | target |"
echo "|---|---|---|---|---|"
echo "| ingest to file:// | | | $(field ingest_records_s "$file") records/s | 1000 records/s |"
echo "| two synced files per record (the disk's floor) | | | $(field floor_records_s "$floor") records/s | |"
echo "| ingest to Garage | | | $(field ingest_records_s "$garage") records/s | 200 records/s |"
echo "| reuse lookup, in process | $(field p50_us "$reuse") µs | $(field p99_us "$reuse") µs | | p99 < 2 ms |"
echo "| inclusion proof, in process | $(field p50_us "$proof") µs | $(field p99_us "$proof") µs | | < 1 ms |"
echo "| GET record, wrk | $(field p50_ms "$get") ms | $(field p99_ms "$get") ms | $(field rps "$get") req/s | 5000 req/s |"
echo "| GET proof, wrk | $(field p50_ms "$get_proof") ms | $(field p99_ms "$get_proof") ms | $(field rps "$get_proof") req/s | |"
echo "service peak RSS: ${rss} MB; wrk errors: record $(field errors "$get"), proof $(field errors "$get_proof")"
