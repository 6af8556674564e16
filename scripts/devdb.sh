#!/usr/bin/env bash
# Finds or starts a PostgreSQL server for tests and the demo, without Docker.
#
#   scripts/devdb.sh url    prints an admin URL (starting a throwaway cluster if needed)
#   scripts/devdb.sh stop   stops the throwaway cluster, if this repo started one
#
# Order: $VIGIL_TEST_DATABASE_URL if set; else a server on 127.0.0.1:5432 that lets
# user postgres in; else a cluster under .tmp/pg (git-ignored) on port 54329, created
# with the local PostgreSQL binaries (run as the postgres user when we are root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.tmp/pg"
port=54329

find_bin() {
  local b
  b=$(command -v pg_ctl 2>/dev/null || true)
  if [ -n "$b" ]; then dirname "$b"; return; fi
  for d in /usr/lib/postgresql/*/bin /usr/local/opt/postgresql*/bin /opt/homebrew/opt/postgresql*/bin /usr/local/pgsql/bin; do
    if [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
}

can_connect() {
  if command -v psql >/dev/null 2>&1; then
    psql "$1" -Atqc 'select 1' >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/127.0.0.1/${2}") 2>/dev/null
  fi
}

start_cluster() {
  local bin
  bin=$(find_bin)
  if [ -z "$bin" ]; then
    cat >&2 <<'MSG'
No PostgreSQL server answers and no PostgreSQL binaries (initdb, pg_ctl) were found.
Install them, or point VIGIL_TEST_DATABASE_URL / VIGIL_DATABASE_URL at a server:
  Debian/Ubuntu: sudo apt-get install -y postgresql
  macOS:         brew install postgresql@16
  Docker:        docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16
MSG
    exit 1
  fi
  local run=()
  if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
  mkdir -p "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
  if ! "${run[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

case "${1:-url}" in
  url)
    if [ -n "${VIGIL_TEST_DATABASE_URL:-}" ]; then echo "$VIGIL_TEST_DATABASE_URL"; exit 0; fi
    default="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    if can_connect "$default" 5432; then echo "$default"; exit 0; fi
    start_cluster
    ;;
  stop)
    bin=$(find_bin)
    if [ -n "$bin" ] && [ -f "$dir/data/PG_VERSION" ]; then
      run=(); [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
      "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: $0 url|stop" >&2; exit 2 ;;
esac
