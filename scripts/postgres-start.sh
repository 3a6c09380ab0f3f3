#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster for the tests and makes the role they connect as, then
# prints the test environment as `export` lines (also kept in DIR/env). Usage:
# postgres-start.sh [DIR]; DIR defaults to $SOHOA_POSTGRES_DIR or /tmp/sohoa-postgres.
# Idempotent: a running cluster is left as it is; the role is made once. The role may create
# databases: each test makes its own (tests/common/postgres.rs).
set -euo pipefail

dir="${1:-${SOHOA_POSTGRES_DIR:-${TMPDIR:-/tmp}/sohoa-postgres}}"
mkdir -p "$dir"
command -v pg_lsclusters >/dev/null || { echo "postgres-start: PostgreSQL is not installed (run scripts/install-deps.sh)" >&2; exit 2; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# The newest installed version's cluster; a machine whose package made none gets one.
version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$version/main"; then
  $sudo pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
  # a cluster that was not shut down cleanly syncs its data directory before it starts,
  # which takes longer than pg_ctl's default minute on a busy disk
  $sudo pg_ctlcluster "$version" main start -- -t 300
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')"

psql_admin() { $sudo runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
password="${SOHOA_POSTGRES_PASSWORD:-sohoa-test}"
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'sohoa_test'")" != "1" ]; then
  psql_admin -c "CREATE ROLE sohoa_test LOGIN CREATEDB PASSWORD '$password'"
fi

# Databases earlier test runs left behind (named sohoa_t_<unix seconds>_...), once a day old:
# a run going on beside this one keeps its own.
cutoff=$(( $(date +%s) - 86400 ))
for db in $(psql_admin -tAc "SELECT datname FROM pg_database WHERE datname ~ '^sohoa_t_[0-9]+_'"); do
  created="${db#sohoa_t_}"; created="${created%%_*}"
  if [ "$created" -lt "$cutoff" ]; then psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; fi
done

url="postgres://sohoa_test:$password@127.0.0.1:$port/postgres"
# Wait until the server takes connections over TCP (a cluster just started may not yet).
for _ in $(seq 50); do
  PGPASSWORD="$password" psql -X -q -h 127.0.0.1 -p "$port" -U sohoa_test -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.2
done
echo "export SOHOA_TEST_POSTGRES_URL=$url" | tee "$dir/env"
