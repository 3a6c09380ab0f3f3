#!/usr/bin/env bash
# Peak memory (maximum resident set, `/usr/bin/time -v`) and throughput of the archive's
# streaming path: put then get of a 1 GiB object, and small-record ingest (a blob and a
# manifest each), against file:// and against a Garage started for the run. Prints a table.
# BENCH_ARCHIVE_MIB and BENCH_ARCHIVE_RECORDS change the sizes. The target: under 64 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

mib="${BENCH_ARCHIVE_MIB:-1024}"
records="${BENCH_ARCHIVE_RECORDS:-2000}"
cargo build -q --example archive_stream
bin="${CARGO_TARGET_DIR:-target}/debug/examples/archive_stream"

work="$(mktemp -d)"
scripts/install-garage.sh
garage_env="$(scripts/garage-start.sh "$work/garage")"
trap 'scripts/garage-stop.sh --purge "$work/garage"; rm -rf "$work"' EXIT
eval "$garage_env"
export SOHOA_S3_ENDPOINT="$SOHOA_TEST_S3_ENDPOINT" SOHOA_S3_REGION="$SOHOA_TEST_S3_REGION" \
  SOHOA_S3_ACCESS_KEY_ID="$SOHOA_TEST_S3_KEY_ID" SOHOA_S3_SECRET_ACCESS_KEY="$SOHOA_TEST_S3_SECRET" SOHOA_S3_ALLOW_HTTP=true

# Runs the driver under time -v; prints its figures and the peak RSS in MB.
measure() {
  /usr/bin/time -v -o "$work/time" "$bin" "$@" >"$work/out"
  local rss_kb
  rss_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")"
  echo "$(cat "$work/out") rss_mb=$((rss_kb / 1024))"
}
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }

printf '| backend | put %s MiB (MiB/s) | get (MiB/s) | peak RSS put+get (MB) | ingest %s records (records/s) | peak RSS ingest (MB) |\n' "$mib" "$records"
printf '|---|---|---|---|---|---|\n'
for backend in file garage; do
  case "$backend" in
    file) url="file://$work/archive" ;;
    garage) url="s3://$SOHOA_TEST_S3_BUCKET/bench" ;;
  esac
  big="$(measure put-get "$url" "$mib")"
  small="$(measure ingest "$url" "$records" 4096)"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$backend" "$(field put_mib_s "$big")" "$(field get_mib_s "$big")" \
    "$(field rss_mb "$big")" "$(field records_s "$small")" "$(field rss_mb "$small")"
  rm -rf "$work/archive"
done
