#!/usr/bin/env bash
# Starts a single-node Garage S3 server for the tests, with two buckets (archive and
# replica) and one key allowed on both, and prints the test environment as `export` lines
# (also kept in DIR/env). Usage: garage-start.sh [DIR]; DIR defaults to $SOHOA_GARAGE_DIR
# or /tmp/sohoa-garage. Idempotent: a running server is left as it is, a stopped one is
# started again on its data and ports. Ports are picked free on 127.0.0.1 the first time.
set -euo pipefail

dir="${1:-${SOHOA_GARAGE_DIR:-${TMPDIR:-/tmp}/sohoa-garage}}"
garage="${GARAGE_BIN:-$(command -v garage || echo "$HOME/.cargo/bin/garage")}"
[ -x "$garage" ] || { echo "garage-start: no garage binary (run scripts/install-garage.sh)" >&2; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
conf="$dir/garage.toml"

if [ ! -f "$conf" ]; then
  read -r s3_port rpc_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
  secret="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
  cat > "$conf" <<CONF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$secret"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"
CONF
fi
s3_port="$(sed -n 's/^api_bind_addr = "127.0.0.1:\([0-9]*\)"/\1/p' "$conf")"

g() { "$garage" -c "$conf" "$@"; }

if ! { [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }; then
  nohup "$garage" -c "$conf" server </dev/null >>"$dir/garage.log" 2>&1 &
  echo $! >"$dir/pid"
fi
for _ in $(seq 1 150); do
  g status >/dev/null 2>&1 && break
  sleep 0.2
done
g status >/dev/null || { echo "garage-start: the server did not answer; see $dir/garage.log" >&2; exit 1; }

if [ ! -f "$dir/env" ]; then
  id="$(g node id -q 2>/dev/null | cut -d@ -f1)"
  g layout assign -z dc1 -c 1G "$id" >/dev/null
  g layout apply --version 1 >/dev/null
  g bucket create sohoa-test >/dev/null
  g bucket create sohoa-replica >/dev/null
  key="$(g key create sohoa-test)"
  key_id="$(grep -i 'key id' <<<"$key" | awk '{print $NF}')"
  key_secret="$(grep -i 'secret key' <<<"$key" | awk '{print $NF}')"
  for bucket in sohoa-test sohoa-replica; do
    g bucket allow --read --write --owner "$bucket" --key sohoa-test >/dev/null
  done
  cat >"$dir/env" <<ENV
export SOHOA_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port
export SOHOA_TEST_S3_REGION=garage
export SOHOA_TEST_S3_BUCKET=sohoa-test
export SOHOA_TEST_S3_REPLICA_BUCKET=sohoa-replica
export SOHOA_TEST_S3_KEY_ID=$key_id
export SOHOA_TEST_S3_SECRET=$key_secret
export SOHOA_TEST_GARAGE_DIR=$dir
ENV
fi

# The S3 port opens a moment after RPC answers.
for _ in $(seq 1 150); do
  (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break
  sleep 0.1
done
cat "$dir/env"
