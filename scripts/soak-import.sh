#!/usr/bin/env bash
# Import soak: a batch of N one-page documents with a sheet (scripts/bench/import-batch.py)
# imported by a release `sohoa import` that is killed with `kill -9` at about a third and two
# thirds of the way and started again each time; the import's resident memory is sampled
# five times a second. Fails unless every document is imported exactly once (N backfile records,
# N `imported` items, no content twice, one log leaf each), the archive's fixity run is clean,
# and the memory of the last run's final tenth is within 64 MiB of its second (the first is
# the start, before the batch is loaded).
# Prints the figures: time, documents/s, peak and per-tenth resident memory.
# Usage: scripts/soak-import.sh [N] [SOHOA_BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}
sohoa=${2:-}
if [ -z "$sohoa" ]; then
  (cd "$root" && cargo build --release -q -p sohoa --bin sohoa)
  sohoa=${CARGO_TARGET_DIR:-$root/target}/release/sohoa
fi
dir=$(mktemp -d)
import=
cleanup() {
  [ -n "$import" ] && kill -9 "$import" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
source "$root/scripts/bench/installation.sh"
installation "$dir" "$root"
mkdir "$dir/batch"
echo "== generating $n documents"
python3 "$root/scripts/bench/import-batch.py" "$root/samples/scans/giay-chung-sinh.png" "$dir/batch" "$n"
db=$dir/data/sohoa.db
done_items() { sqlite3 "$db" "SELECT COUNT(*) FROM import_items WHERE outcome = 'imported'" 2>/dev/null || echo 0; }

# run STOP_AT: import until STOP_AT documents are in, then kill -9 (0: to the end);
# RSS samples (kB, documents in) of this run go to $dir/rss-RUN.
run=0
run() {
  local stop_at=$1 rss
  run=$((run + 1))
  "$sohoa" --config "$dir/sohoa.toml" import --batch "$dir/batch" --csv "$dir/batch/sheet.csv" --by soak \
    --report "$dir/report-$run" > "$dir/out-$run" 2>&1 &
  import=$!
  : > "$dir/rss-$run"
  while kill -0 "$import" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$import/status" 2>/dev/null || true)
    local count
    count=$(done_items)
    [ -n "$rss" ] && echo "$rss $count" >> "$dir/rss-$run"
    if [ "$stop_at" -gt 0 ] && [ "$count" -ge "$stop_at" ]; then
      kill -9 "$import"
      wait "$import" 2>/dev/null || true
      echo "run $run: killed with $count documents in"
      import=
      return
    fi
    sleep 0.2
  done
  wait "$import" || { echo "run $run: the import failed"; cat "$dir/out-$run"; exit 1; }
  import=
  echo "run $run: finished; $(tail -1 "$dir/out-$run")"
}
start=$(date +%s.%N)
run $((n / 3))
run $((2 * n / 3))
run 0
seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")

q() { sqlite3 "$db" "$1"; }
records=$(q "SELECT COUNT(*) FROM records WHERE kind = 'backfile'")
imported=$(q "SELECT COUNT(*) FROM import_items WHERE outcome = 'imported'")
twice=$(q "SELECT COUNT(*) FROM (SELECT digest FROM records GROUP BY digest HAVING COUNT(*) > 1)")
leaves=$(q "SELECT COUNT(DISTINCT log_index) FROM records WHERE log_index IS NOT NULL")
fixity=0
"$sohoa" --config "$dir/sohoa.toml" archive fixity > "$dir/fixity" 2>&1 || fixity=$?
read -r first last peak < <(python3 - "$dir/rss-$run" "$dir"/rss-* <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
tenth = max(1, len(rows) // 10)
mean = lambda part: sum(r[0] for r in part) / len(part) / 1024
peak = max(int(l.split()[0]) for f in sys.argv[2:] for l in open(f) if l.strip()) / 1024
print(f"{mean(rows[tenth:2 * tenth] or rows[:tenth]):.0f} {mean(rows[-tenth:]):.0f} {peak:.0f}")
PY
)
echo
echo "| import soak, $n one-page documents with a sheet, killed twice | figure |"
echo "|---|---|"
echo "| time, three runs | $seconds s ($(python3 -c "print(f'{$n / $seconds:.0f}')") documents/s) |"
echo "| backfile records / imported items / log leaves | $records / $imported / $leaves |"
echo "| content stored twice | $twice |"
echo "| archive fixity exit | $fixity |"
echo "| resident memory, last run: second tenth / last tenth / peak of all runs | $first / $last / $peak MiB |"
status=0
[ "$records" = "$n" ] && [ "$imported" = "$n" ] && [ "$leaves" = "$n" ] || { echo "FAIL: not every document imported exactly once"; status=1; }
[ "$twice" = 0 ] || { echo "FAIL: content stored twice"; status=1; }
[ "$fixity" = 0 ] || { echo "FAIL: fixity"; cat "$dir/fixity"; status=1; }
[ $((last - first)) -le 64 ] || { echo "FAIL: memory grew by $((last - first)) MiB over the last run"; status=1; }
exit $status
