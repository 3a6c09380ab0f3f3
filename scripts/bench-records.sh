#!/usr/bin/env bash
# Records benchmark: ingest (content and manifest archived, then the record and its log leaf
# indexed, records waiting on the index committed in groups) on both index engines, SQLite
# and PostgreSQL, to file:// and to Garage, beside the disk's floor measured before and after
# the file:// runs, and the index alone; then, at RECORDS records in SQLite, the reuse lookup
# (owner, type, valid today) and the inclusion proof timed in process, and GET a record and
# GET its proof through a release `sohoa serve` driven by wrk (a consumer naming a procedure
# as its purpose, so every read is also written to the access log), with the CPU the service
# itself used per request beside the rate (wrk and the index share the machine's cores with
# it; the per-CPU-second figure is what a replica on cores of its own serves). The seeded index is kept in
# $BENCH_RECORDS_DIR (target/bench-records) and topped up on the next run.
# The read figures are taken the same way on PostgreSQL too (its database kept between runs
# like the SQLite file) and printed beside SQLite's.
# BENCH_INGEST_ONLY=1 stops after the ingest figures; BENCH_SKIP_INGEST=1 leaves them out;
# BENCH_ENGINES=sqlite or postgres takes the read figures on one engine only.
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

ingest_runs() {
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
}

[ -n "${BENCH_SKIP_INGEST:-}" ] || ingest_runs
ingest_table() {
  [ -z "${BENCH_SKIP_INGEST:-}" ] || return 0
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
# A consumer reads a citizen's record for a procedure (the access log requires a purpose).
purpose=1.001193
# CPU seconds (user + system) process $1 has used so far.
cpu_seconds() { python3 -c "import os, sys; f = open(f'/proc/{sys.argv[1]}/stat').read().rsplit(')', 1)[1].split(); print((int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK'))" "$1"; }
mkdir -p "$dir"
# The read figures, engine by engine, on an index of $records records: $1 names the engine,
# $2 the index (a SQLite file, or a PostgreSQL database kept between runs like the file).
reads() {
  local engine=$1 db=$2 url lookup port
  echo "== $engine: seeding $db up to $records records (index only; resumes where it stops)"
  $bench seed "$db" "$records" policies | tee "$work/seed-$engine"
  echo "== $engine, in process: reuse lookup and inclusion proof, 10000 random records"
  lookup=$($bench lookup "$db" 10000 policies "$work/ids-$engine")
  echo "$lookup"
  grep '^reuse' <<<"$lookup" >"$work/reuse-$engine"
  grep '^proof' <<<"$lookup" >"$work/proof-$engine"
  case $db in postgres://*) url=$db ;; /*) url=sqlite://$db ;; *) url=sqlite://$PWD/$db ;; esac
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rm -rf "$work/data"
  SOHOA_DATA_DIR=$work/data SOHOA_INDEX_URL=$url SOHOA_ARCHIVE_URL=file://$work/archive \
    SOHOA_POLICIES_DIR=$PWD/policies SOHOA_WORKERS=0 SOHOA_LISTEN=127.0.0.1:$port SOHOA_FIXITY_INTERVAL=0s \
    bash -c "$sohoa init >/dev/null && $sohoa token create --role consumer --agency $SOHOA_AGENCY >$work/token && exec $sohoa serve" &
  server=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  TOKEN=$(cat "$work/token") IDS=$work/ids-$engine
  export TOKEN IDS
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/v1/records/$(head -1 "$IDS")/proof?purpose=$purpose" >/dev/null
  echo "== $engine, wrk: GET /api/v1/records/{id}?purpose=, $connections connections, ${seconds}s"
  local cpu_before cpu_after
  cpu_before=$(cpu_seconds $server)
  SUFFIX="?purpose=$purpose" wrk -t2 -c"$connections" -d"${seconds}s" -s scripts/bench/records.lua "http://127.0.0.1:$port" | tee /dev/stderr | tail -1 >"$work/get-$engine"
  cpu_after=$(cpu_seconds $server)
  # the replica's own CPU per request: what it would serve on cores of its own, the index,
  # wrk and the rest of the machine elsewhere
  python3 -c "import sys; rps, secs, cpu = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'service_cpu_s={cpu:.2f} per_core_rps={rps * secs / cpu:.0f}')" \
    "$(field rps "$(cat "$work/get-$engine")")" "$seconds" "$(python3 -c "print($cpu_after - $cpu_before)")" | tee "$work/get-cpu-$engine"
  echo "== $engine, wrk: GET /api/v1/records/{id}/proof?purpose=, $connections connections, ${seconds}s"
  SUFFIX="/proof?purpose=$purpose" wrk -t2 -c"$connections" -d"${seconds}s" -s scripts/bench/records.lua "http://127.0.0.1:$port" | tee /dev/stderr | tail -1 >"$work/proof-get-$engine"
  awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$server/status" >"$work/rss-$engine"
  kill $server
  wait $server 2>/dev/null || true
  server=
}
engines=,${BENCH_ENGINES:-sqlite,postgres},
[[ $engines != *,sqlite,* ]] || reads SQLite "$dir/records-$records.db"
if [[ $engines == *,postgres,* ]]; then
  # Kept between runs, like the SQLite file; drop it with DROP DATABASE sohoa_bench_records_<N>.
  pg_reads=sohoa_bench_records_$records
  psql -X -q "$SOHOA_TEST_POSTGRES_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$pg_reads'" | grep -q 1 ||
    psql -X -q "$SOHOA_TEST_POSTGRES_URL" -c "CREATE DATABASE $pg_reads" >/dev/null
  reads PostgreSQL "$pg/$pg_reads"
fi

# a figure of a run left out (BENCH_ENGINES) is empty
v() { field "$1" "$(cat "$work/$2" 2>/dev/null)"; }
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
echo "| measure (at $records records) | SQLite p50 | SQLite p99 | SQLite rate | PostgreSQL p50 | PostgreSQL p99 | PostgreSQL rate | target |"
echo "|---|---|---|---|---|---|---|---|"
echo "| seeding (index only, 16 in flight) | | | $(v seed_records_s seed-SQLite) records/s | | | $(v seed_records_s seed-PostgreSQL) records/s | |"
echo "| reuse lookup, in process | $(v p50_us reuse-SQLite) µs | $(v p99_us reuse-SQLite) µs | | $(v p50_us reuse-PostgreSQL) µs | $(v p99_us reuse-PostgreSQL) µs | | p99 < 2 ms |"
echo "| inclusion proof, in process | $(v p50_us proof-SQLite) µs | $(v p99_us proof-SQLite) µs | | $(v p50_us proof-PostgreSQL) µs | $(v p99_us proof-PostgreSQL) µs | | < 1 ms |"
echo "| GET record, wrk | $(v p50_ms get-SQLite) ms | $(v p99_ms get-SQLite) ms | $(v rps get-SQLite) req/s | $(v p50_ms get-PostgreSQL) ms | $(v p99_ms get-PostgreSQL) ms | $(v rps get-PostgreSQL) req/s | 5000 req/s |"
echo "| GET record, the replica's own CPU | | | $(v per_core_rps get-cpu-SQLite) req per CPU-second | | | $(v per_core_rps get-cpu-PostgreSQL) req per CPU-second | 5000 req/s |"
echo "| GET proof, wrk | $(v p50_ms proof-get-SQLite) ms | $(v p99_ms proof-get-SQLite) ms | $(v rps proof-get-SQLite) req/s | $(v p50_ms proof-get-PostgreSQL) ms | $(v p99_ms proof-get-PostgreSQL) ms | $(v rps proof-get-PostgreSQL) req/s | |"
echo "service peak RSS: SQLite $(cat "$work/rss-SQLite" 2>/dev/null) MB, PostgreSQL $(cat "$work/rss-PostgreSQL" 2>/dev/null) MB; wrk errors: SQLite $(v errors get-SQLite), PostgreSQL $(v errors get-PostgreSQL)"
echo
ingest_table
