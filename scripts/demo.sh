#!/usr/bin/env bash
# `make demo`: start Postgres if none is configured, migrate, seed the demo tenant and
# serve API + UI + workers on http://localhost:8080. Ctrl-C stops everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .tmp

started_here=""
if [ -z "${VIGIL_DATABASE_URL:-}" ]; then
  admin=$(scripts/devdb.sh url)
  case "$admin" in *:54329/*) started_here=1 ;; esac
  base=${admin%%\?*}; base=${base%/*}
  psql "$admin" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'vigil_demo'" | grep -q 1 ||
    psql "$admin" -qc "CREATE DATABASE vigil_demo"
  export VIGIL_DATABASE_URL="$base/vigil_demo?sslmode=disable"
fi
cleanup() { if [ -n "$started_here" ]; then scripts/devdb.sh stop; fi; }
trap cleanup EXIT

# A stable master key for the demo, kept out of git.
if [ -z "${VIGIL_MASTER_KEY:-}" ]; then
  [ -f .tmp/demo-master-key ] || head -c 32 /dev/urandom | base64 > .tmp/demo-master-key
  VIGIL_MASTER_KEY=$(cat .tmp/demo-master-key)
  export VIGIL_MASTER_KEY
fi
export VIGIL_LOG_FORMAT="${VIGIL_LOG_FORMAT:-text}"
export VIGIL_HTTP_ADDR="${VIGIL_HTTP_ADDR:-:8080}"

bin/vigil migrate up
bin/vigil demo seed
echo
echo "Vigil is starting on http://localhost:${VIGIL_HTTP_ADDR##*:}"
bin/vigil serve --with-worker
