#!/usr/bin/env bash
# Pipeline benchmark: scans from upload (202) to sealed record, on the multi-host topology run
# as processes on this machine: one PostgreSQL database and one Garage, 1 and 2 release
# `sohoa serve` replicas, 2 and 4 `sohoa-worker --api` workers (one OCR thread each, spread
# over the replicas). Each configuration gets a fresh database, bucket prefix and data dir;
# UPLOADS one-page scans (the sample birth notice, made unique per upload) are uploaded 8 at
# a time, spread over the replicas, and each is followed until its scan is sealed. Prints one
# table: scans/s (= pages/s) from the first upload to the last seal, and p50/p99 of upload
# to sealed, with the load average seen.
# Usage: scripts/bench-pipeline.sh [UPLOADS]
set -euo pipefail
cd "$(dirname "$0")/.."
uploads=${1:-40}
cargo build --release -q --workspace --bins
release=${CARGO_TARGET_DIR:-target}/release
export SOHOA_LOG=warn OMP_THREAD_LIMIT=1

work=$(mktemp -d)
scripts/install-garage.sh
garage_env=$(scripts/garage-start.sh "$work/garage")
eval "$(scripts/postgres-start.sh "$work/postgres")"
eval "$garage_env"
pids=()
dbs=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_all
  for db in "${dbs[@]}"; do psql -X -q "$SOHOA_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; done
  scripts/garage-stop.sh --purge "$work/garage"
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# One configuration: $1 replicas, $2 workers; prints its table row.
run() {
  local replicas=$1 workers=$2 dir="$work/r$1-w$2" db="sohoa_bench_pipeline_${1}_${2}_$$"
  mkdir -p "$dir"
  psql -X -q "$SOHOA_TEST_POSTGRES_URL" -c "CREATE DATABASE $db" >/dev/null
  dbs+=("$db")
  cat >"$dir/sohoa.toml" <<EOF
data_dir = "$dir/data"
index_url = "${SOHOA_TEST_POSTGRES_URL%/*}/$db"
archive_url = "s3://$SOHOA_TEST_S3_BUCKET/r$1-w$2"
s3_endpoint = "$SOHOA_TEST_S3_ENDPOINT"
s3_region = "$SOHOA_TEST_S3_REGION"
s3_access_key_id = "$SOHOA_TEST_S3_KEY_ID"
s3_secret_access_key = "$SOHOA_TEST_S3_SECRET"
s3_allow_http = true
policies_dir = "$PWD/policies"
workers = 0
tlog_key = "$dir/data/tlog.key"
fixity_interval = "0"
EOF
  $release/sohoa --config "$dir/sohoa.toml" init >/dev/null
  sed -n 's/^WORKER=//Ip' "$dir/data/tokens.txt" >"$dir/worker.token"
  local bases=() r w
  for ((r = 0; r < replicas; r++)); do
    local port
    port=$(free_port)
    SOHOA_LISTEN=127.0.0.1:$port $release/sohoa --config "$dir/sohoa.toml" serve 2>"$dir/serve-$r.log" &
    pids+=($!)
    bases+=("http://127.0.0.1:$port")
  done
  for base in "${bases[@]}"; do
    until curl -sf "$base/readyz" >/dev/null; do sleep 0.2; done
  done
  for ((w = 0; w < workers; w++)); do
    $release/sohoa-worker --api "${bases[w % replicas]}" --token-file "$dir/worker.token" --id "w$w" 2>"$dir/worker-$w.log" &
    pids+=($!)
  done
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  python3 scripts/bench/pipeline.py "$dir/data/tokens.txt" "$uploads" samples/scans/giay-chung-sinh.png "${bases[@]}" |
    sed "s/^/| $replicas | $workers | /; s/\$/ $load |/"
  stop_all
}

echo "pipeline: $uploads one-page scans per row, upload to sealed record, PostgreSQL + Garage; $(getconf _NPROCESSORS_ONLN) cores"
echo "| replicas | workers | scans | sealed | scans/s (= pages/s) | p50 upload→sealed | p99 upload→sealed | load avg (1/5/15 min) at start |"
echo "|---|---|---|---|---|---|---|---|"
for config in "1 2" "1 4" "2 2" "2 4"; do
  # shellcheck disable=SC2086
  run $config
done
