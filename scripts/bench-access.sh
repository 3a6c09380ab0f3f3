#!/usr/bin/env bash
# Access logging's cost on GET /api/v1/records/{id}: requests per second through a release
# `sohoa serve` driven by wrk (as scripts/bench-records.sh does for GET record), with a
# consumer token naming a purpose, for two builds on the same seeded SQLite index: BEFORE,
# a `sohoa` built from a commit without the access log, and this tree's. The index is seeded
# by this tree's bench_records example; BEFORE gets a copy without the access log's migration
# and those after it.
# Usage: scripts/bench-access.sh BEFORE_SOHOA [RECORDS] [WRK_SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?the sohoa binary of a build without the access log}
records=${2:-20000}
seconds=${3:-15}
connections=${4:-32}
command -v wrk >/dev/null || { echo "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -q -p sohoa --bin sohoa --example bench_records
release=${CARGO_TARGET_DIR:-target}/release
after=$release/sohoa
export SOHOA_AGENCY=000.00.31.H29 SOHOA_LOG=warn SOHOA_WORKERS=0 SOHOA_FIXITY_INTERVAL=0s SOHOA_POLICIES_DIR=$PWD/policies

work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

echo "== seeding $records records"
$release/examples/bench_records seed "$work/after.db" "$records" policies >/dev/null
$release/examples/bench_records lookup "$work/after.db" 10000 policies "$work/ids" >/dev/null
cp "$work/after.db" "$work/before.db"
# BEFORE knows no migration from the access log's (15) on: the later ones (imports, job
# priority) are taken out of its copy too, or it refuses an index newer than itself.
sqlite3 "$work/before.db" "DELETE FROM _sqlx_migrations WHERE version >= 15; DROP TABLE access_log; DROP TABLE access_nodes;
  DROP TABLE IF EXISTS import_items; DROP INDEX IF EXISTS records_number; DROP INDEX IF EXISTS jobs_ready_priority;
  ALTER TABLE jobs DROP COLUMN priority;"

# run NAME BINARY DB: serve DB with BINARY, drive GET /records/{id}?purpose=... with wrk
run() {
  local name=$1 bin=$2 db=$3 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export SOHOA_DATA_DIR=$work/data-$name SOHOA_INDEX_URL=sqlite://$db SOHOA_ARCHIVE_URL=file://$work/archive-$name \
    SOHOA_LISTEN=127.0.0.1:$port
  $bin init >/dev/null
  TOKEN=$($bin token create --role consumer --agency "$SOHOA_AGENCY")
  export TOKEN IDS=$work/ids SUFFIX="?purpose=1.001193"
  $bin serve & server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/v1/records/$(head -1 "$IDS")$SUFFIX" >/dev/null
  wrk -t2 -c"$connections" -d"${seconds}s" -s scripts/bench/records.lua "http://127.0.0.1:$port" | tail -1
  kill $server; wait $server 2>/dev/null || true; server=
}

echo "== wrk: GET /api/v1/records/{id}?purpose=, $connections connections, ${seconds}s each, before / after / before / after"
b1=$(run before1 "$before" "$work/before.db"); echo "before: $b1"
a1=$(run after1 "$after" "$work/after.db"); echo "after:  $a1"
b2=$(run before2 "$before" "$work/before.db"); echo "before: $b2"
a2=$(run after2 "$after" "$work/after.db"); echo "after:  $a2"
logged=$(sqlite3 "$work/after.db" "SELECT COUNT(*) FROM access_log")
echo
echo "| GET /records/{id} at $records records | req/s | p50 | p99 |"
echo "|---|---|---|---|"
for r in "without access log (run 1)|$b1" "with access log (run 1)|$a1" "without access log (run 2)|$b2" "with access log (run 2)|$a2"; do
  echo "| ${r%%|*} | $(field rps "${r#*|}") | $(field p50_ms "${r#*|}") ms | $(field p99_ms "${r#*|}") ms |"
done
echo "entries in the access log after the two runs: $logged"
