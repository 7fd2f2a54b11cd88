#!/usr/bin/env bash
# Runs a command with a real PostgreSQL: installs Debian's postgresql if missing, starts a
# throwaway cluster on a loopback port (never touching a system cluster), creates a database,
# runs the command with FLOTILLA_TEST_POSTGRES_URL set, and stops the cluster on exit.
#
#   scripts/with-postgres.sh              # the store tests only
#   scripts/with-postgres.sh npm test     # the whole suite, PostgreSQL halves included (CI does this)
#
# With FLOTILLA_TEST_POSTGRES_URL already set, it only runs the command against that database.
# Environment: FLOTILLA_PG_PORT (default 54329).
set -euo pipefail

cd "$(dirname "$0")/.."
command=("$@")
[ ${#command[@]} -eq 0 ] && command=(npx node --test --test-concurrency=2 "test/store/**/*.test.ts")

run_tests() {
  "${command[@]}"
}

if [ -n "${FLOTILLA_TEST_POSTGRES_URL:-}" ]; then
  run_tests
  exit $?
fi

pg_bin() {
  # Newest installed server version.
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bin)" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed and this is not root: apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "Installing PostgreSQL (Debian package)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq
  timeout 600 apt-get install -y -qq postgresql >/dev/null
fi
bin="$(pg_bin)"

port="${FLOTILLA_PG_PORT:-54329}"
work="$(mktemp -d /tmp/flotilla-pg.XXXXXX)"
data="$work/data"

# initdb and the server refuse to run as root: use the package's postgres user then.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$work"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync -E UTF8 >"$work/initdb.log" 2>&1 ||
  { cat "$work/initdb.log" >&2; exit 1; }
# Loopback only; fsync off because this cluster is thrown away after the run.
"${as_pg[@]}" "$bin/pg_ctl" -D "$data" -l "$work/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c fsync=off -c max_connections=200" start >/dev/null ||
  { cat "$work/server.log" >&2; exit 1; }
"${as_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres flotilla_test

export FLOTILLA_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/flotilla_test"
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $FLOTILLA_TEST_POSTGRES_URL" >&2
run_tests
