#!/usr/bin/env bash
# Runs every test: Go (unit, integration against real Postgres and moto_server) and,
# once the front end has tests, the UI suites. `make test` calls this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

started_here=""
if [ -z "${VIGIL_TEST_DATABASE_URL:-}" ]; then
  VIGIL_TEST_DATABASE_URL=$(scripts/devdb.sh url)
  case "$VIGIL_TEST_DATABASE_URL" in *:54329/*) started_here=1 ;; esac
  export VIGIL_TEST_DATABASE_URL
fi
cleanup() { if [ -n "$started_here" ]; then scripts/devdb.sh stop; fi; }
trap cleanup EXIT

if ! command -v moto_server >/dev/null 2>&1; then
  echo "moto_server is not on PATH: AWS collector tests need it. Install with: pip install 'moto[server]'" >&2
  exit 1
fi

echo "== go test (postgres: ${VIGIL_TEST_DATABASE_URL%%\?*})"
go test -count=1 -timeout 20m ${GOTESTFLAGS:-} ./...

if [ -f frontend/package.json ] && grep -q '"test"' frontend/package.json; then
  echo "== frontend tests (unit + end-to-end in Chromium)"
  if [ ! -x /usr/bin/chromium ]; then
    echo "Chromium is missing: the UI tests drive Debian's chromium. Install it with: apt-get install -y chromium" >&2
    exit 1
  fi
  if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  fi
  (cd frontend && npm test)
fi
