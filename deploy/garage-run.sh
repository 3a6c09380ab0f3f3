#!/bin/sh
# Runs Garage for compose.yaml: starts the server, gives a fresh node its layout, creates the
# archive bucket and imports the key the sohoa services use (each step skipped when done, so
# a restart keeps everything), then waits on the server. Settings: GARAGE_CONFIG (default
# /etc/garage.toml), GARAGE_BUCKET (default sohoa-archive), GARAGE_KEY_ID, GARAGE_KEY_SECRET,
# GARAGE_RPC_SECRET; GARAGE_BIN names the binary (default garage on the PATH).
set -eu
conf="${GARAGE_CONFIG:-/etc/garage.toml}"
bucket="${GARAGE_BUCKET:-sohoa-archive}"
bin="${GARAGE_BIN:-garage}"
: "${GARAGE_KEY_ID:?GARAGE_KEY_ID is required}" "${GARAGE_KEY_SECRET:?GARAGE_KEY_SECRET is required}" "${GARAGE_RPC_SECRET:?GARAGE_RPC_SECRET is required}"
g() { "$bin" -c "$conf" "$@"; }

"$bin" -c "$conf" server &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT
tries=0
until g status >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 150 ] || { echo "garage-run: the server did not answer" >&2; exit 1; }
  sleep 0.2
done
if g layout show | grep -q "No nodes currently have a role"; then
  id="$(g node id -q | cut -d@ -f1)"
  g layout assign -z dc1 -c 1G "$id" >/dev/null
  g layout apply --version 1 >/dev/null
fi
g bucket info "$bucket" >/dev/null 2>&1 || g bucket create "$bucket" >/dev/null
g key info "$GARAGE_KEY_ID" >/dev/null 2>&1 || g key import --yes -n sohoa "$GARAGE_KEY_ID" "$GARAGE_KEY_SECRET" >/dev/null
g bucket allow --read --write --owner "$bucket" --key "$GARAGE_KEY_ID" >/dev/null
echo "garage-run: ready, bucket $bucket"
wait "$server"
