#!/usr/bin/env bash
# Records benchmark: ingest (content and manifest archived, then the record and its log leaf
# indexed, records waiting on the index committed in groups) on both index engines, SQLite
# and PostgreSQL, to file:// and to Garage, beside the disk's floor measured before and after
# the file:// runs, and the index alone; then, at RECORDS records in SQLite, the reuse lookup
# (owner, type, valid today) and the inclusion proof timed in process, and GET a record and
# GET its proof through a release `sohoa serve` driven by wrk. The seeded index is kept in
# $BENCH_RECORDS_DIR (target/bench-records) and topped up on the next run.
# BENCH_INGEST_ONLY=1 stops after the ingest figures.
# Usage: scripts/bench-records.sh [RECORDS] [WRK_SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
seconds=${2:-20}
connections=${3:-32}
ingest_file=${BENCH_INGEST_FILE:-5000}
ingest_garage=${BENCH_INGEST_GARAGE:-2000}

if [ -n "${BENCH_INGEST_ONLY:-}" ]; then
  cargo build --release -q -p sohoa --example bench_records
else
  command -v wrk >/dev/null || { echo "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk; }
  cargo build --release -q --workspace --bins --example bench_records
fi
release=${CARGO_TARGET_DIR:-target}/release
bench=$release/examples/bench_records
sohoa=$release/sohoa
export SOHOA_AGENCY=000.00.31.H29 SOHOA_LOG=warn

work=$(mktemp -d)
scripts/install-garage.sh
garage_env=$(scripts/garage-start.sh "$work/garage")
eval "$(scripts/postgres-start.sh "$work/postgres")"
pg=${SOHOA_TEST_POSTGRES_URL%/*}
# A database of its own per PostgreSQL ingest run, dropped on exit.
pg_dbs=(sohoa_bench_file_$$ sohoa_bench_garage_$$ sohoa_bench_alone_$$)
cleanup() {
  kill $server 2>/dev/null || true
  wait 2>/dev/null || true
  for db in "${pg_dbs[@]}"; do psql -X -q "$SOHOA_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; done
  scripts/garage-stop.sh --purge "$work/garage"
  rm -rf "$work"
}
trap cleanup EXIT
server=
for db in "${pg_dbs[@]}"; do psql -X -q "$SOHOA_TEST_POSTGRES_URL" -c "CREATE DATABASE $db" >/dev/null; done
eval "$garage_env"
export SOHOA_S3_ENDPOINT="$SOHOA_TEST_S3_ENDPOINT" SOHOA_S3_REGION="$SOHOA_TEST_S3_REGION" \
  SOHOA_S3_ACCESS_KEY_ID="$SOHOA_TEST_S3_KEY_ID" SOHOA_S3_SECRET_ACCESS_KEY="$SOHOA_TEST_S3_SECRET" SOHOA_S3_ALLOW_HTTP=true
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# The disk's floor for file://: two 4 KiB files written and synced per record, 16 at a time.
floor() {
  python3 - "$work/floor-$1" "$ingest_file" <<'PY'
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
}

echo "== ingest: 4 KiB content + manifest + record and log leaf, 16 in flight"
floor_before=$(floor before)
echo "floor                $floor_before (two synced 4 KiB files per record, before)"
file_sqlite=$($bench ingest "file://$work/archive-sqlite" "$work/ingest-file.db" "$ingest_file" 4096 policies)
echo "file://, SQLite      $file_sqlite"
file_pg=$($bench ingest "file://$work/archive-pg" "$pg/${pg_dbs[0]}" "$ingest_file" 4096 policies)
echo "file://, PostgreSQL  $file_pg"
floor_after=$(floor after)
echo "floor                $floor_after (after)"
garage_sqlite=$($bench ingest "s3://$SOHOA_TEST_S3_BUCKET/bench-sqlite" "$work/ingest-garage.db" "$ingest_garage" 4096 policies)
echo "Garage, SQLite       $garage_sqlite"
garage_pg=$($bench ingest "s3://$SOHOA_TEST_S3_BUCKET/bench-pg" "$pg/${pg_dbs[1]}" "$ingest_garage" 4096 policies)
echo "Garage, PostgreSQL   $garage_pg"
alone_sqlite=$($bench ingest none "$work/ingest-alone.db" "$ingest_file" 4096 policies)
echo "index alone, SQLite      $alone_sqlite"
alone_pg=$($bench ingest none "$pg/${pg_dbs[2]}" "$ingest_file" 4096 policies)
echo "index alone, PostgreSQL  $alone_pg"

ingest_table() {
  echo "| ingest, 16 in flight ($ingest_file records to file://, $ingest_garage to Garage) | records/s | target |"
  echo "|---|---|---|"
  echo "| to file://, SQLite | $(field ingest_records_s "$file_sqlite") | 1000 |"
  echo "| to file://, PostgreSQL | $(field ingest_records_s "$file_pg") | 1000 |"
  echo "| the disk's floor, before / after the two (two synced 4 KiB files per record) | $(field floor_records_s "$floor_before") / $(field floor_records_s "$floor_after") | |"
  echo "| to Garage, SQLite | $(field ingest_records_s "$garage_sqlite") | 200 |"
  echo "| to Garage, PostgreSQL | $(field ingest_records_s "$garage_pg") | 200 |"
  echo "| the index alone, SQLite | $(field ingest_records_s "$alone_sqlite") | |"
  echo "| the index alone, PostgreSQL | $(field ingest_records_s "$alone_pg") | |"
}
if [ -n "${BENCH_INGEST_ONLY:-}" ]; then
  echo
  ingest_table
  exit 0
fi

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
echo "| reuse lookup, in process | $(field p50_us "$reuse") µs | $(field p99_us "$reuse") µs | | p99 < 2 ms |"
echo "| inclusion proof, in process | $(field p50_us "$proof") µs | $(field p99_us "$proof") µs | | < 1 ms |"
echo "| GET record, wrk | $(field p50_ms "$get") ms | $(field p99_ms "$get") ms | $(field rps "$get") req/s | 5000 req/s |"
echo "| GET proof, wrk | $(field p50_ms "$get_proof") ms | $(field p99_ms "$get_proof") ms | $(field rps "$get_proof") req/s | |"
echo "service peak RSS: ${rss} MB; wrk errors: record $(field errors "$get"), proof $(field errors "$get_proof")"
echo
ingest_table
