#!/usr/bin/env bash
# Runs every test of the workspace against SQLite and a real PostgreSQL.
# Usage: scripts/test.sh [extra cargo-nextest arguments]
#
# PostgreSQL: uses TEST_POSTGRES_URL if set; otherwise starts Debian's PostgreSQL on this machine
# (installing it when run as root), because the storage and end-to-end tests run on both databases.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

ensure_postgres() {
  if [[ -n "${TEST_POSTGRES_URL:-}" ]]; then
    step "PostgreSQL: using TEST_POSTGRES_URL"
    return
  fi
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "PostgreSQL is not installed and this is not root: install it or set TEST_POSTGRES_URL" >&2
      exit 1
    fi
    step "PostgreSQL: installing Debian's postgresql"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf "%f\n" | sort -n | tail -1)
  if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
    step "PostgreSQL $version: starting the cluster"
    pg_ctlcluster "$version" main start
  fi
  step "PostgreSQL $version: setting the test password"
  su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  export TEST_POSTGRES_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
}

run_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    step "cargo nextest run --workspace ${*:-}"
    cargo nextest run --workspace "$@"
  else
    step "cargo test --workspace (install cargo-nextest for JUnit output)"
    cargo test --workspace
  fi
}

ensure_postgres
run_tests "$@"
