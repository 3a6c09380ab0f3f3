#!/usr/bin/env bash
# Stops the Garage that garage-start.sh started in DIR (same default); `--purge` also
# removes DIR with its data.
set -euo pipefail

purge=no
if [ "${1:-}" = "--purge" ]; then
  purge=yes
  shift
fi
dir="${1:-${SOHOA_GARAGE_DIR:-${TMPDIR:-/tmp}/sohoa-garage}}"
if [ -f "$dir/pid" ]; then
  pid="$(cat "$dir/pid")"
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
fi
if [ "$purge" = yes ]; then
  rm -rf "$dir"
fi
