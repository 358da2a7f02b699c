#!/usr/bin/env bash
# Fuzzes the REST API from its own OpenAPI document with schemathesis: thousands of generated
# requests, valid and invalid, against the real shop (`shop up`). Every answer must be a documented
# status code with a JSON body of the documented shape, and never a server error.
# Usage: scripts/ci/api-fuzz.sh [max examples per operation, default 50]
set -euo pipefail
cd "$(dirname "$0")/../.."

EXAMPLES=${1:-50}
VENV=target/schemathesis-venv
SCHEMATHESIS_VERSION=4.32.5
WORK=$(mktemp -d)
SHOP_PID=

step() { echo; echo "==> $*"; }
cleanup() {
  [[ -z $SHOP_PID ]] || kill -TERM "$SHOP_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

install() {
  step "schemathesis $SCHEMATHESIS_VERSION in $VENV"
  [[ -x $VENV/bin/st ]] || python3 -m venv "$VENV"
  "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" \
    || "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
}

start_shop() {
  step "starting the shop (cargo build -p shop; shop up --ephemeral-ports)"
  cargo build --quiet --locked -p shop
  target/debug/shop up --ephemeral-ports --data-dir "$WORK" >"$WORK/out.log" 2>"$WORK/err.log" &
  SHOP_PID=$!
  local _
  for _ in $(seq 1 300); do
    BASE=$(sed -n 's/^gateway listening on //p' "$WORK/out.log")
    ADMIN=$(sed -n 's/^gateway admin on //p' "$WORK/out.log") # /readyz: the admin port only
    [[ -n $BASE && -n $ADMIN ]] && curl -fs --connect-timeout 3 --max-time 10 "$ADMIN/readyz" >/dev/null && return
    sleep 0.1
  done
  cat "$WORK/err.log" >&2
  echo "the shop did not become ready" >&2
  exit 1
}

fuzz() {
  local token
  token=$(curl -fs -X POST "$BASE/api/v1/session" -H 'content-type: application/json' -d '{"name":"fuzz"}' \
    | sed -E 's/.*"token":"([^"]+)".*/\1/')
  step "schemathesis: every operation of $BASE/api/v1/openapi.json, $EXAMPLES examples each"
  # positive_data_acceptance is left out: a request valid by the schema may still be refused for
  # what it means (a total above 99 in a cart, an idempotency key reused for another cart).
  "$VENV/bin/st" run "$BASE/api/v1/openapi.json" --url "$BASE" -H "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance --max-examples "$EXAMPLES" --seed 1 --no-color
}

install
start_shop
fuzz
