#!/usr/bin/env bash
# Proves a deployed shop works end to end through its ingress: lists products, opens a session,
# adds a product to the cart and checks out. Exits non-zero at the first step that fails.
set -euo pipefail

usage() { echo "usage: $0 BASE_URL   e.g. $0 http://localhost   env: READY_TIMEOUT seconds (default 120)"; }

[[ $# -eq 1 && $1 != -h && $1 != --help ]] || { usage; exit 2; }
BASE=${1%/}
API=$BASE/api/v1
READY_TIMEOUT=${READY_TIMEOUT:-120}
CHECKOUT='{"shipping_address":{"name":"Smoke Test","street":"1 Main St","city":"Springfield","postal_code":"12345","country":"US"},
  "card":{"number":"4111111111111111","expiry_month":12,"expiry_year":2099,"cvv":"123"}}'
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT

step() { echo "==> $*"; }
fail() { echo "FAILED: $*" >&2; cat "$BODY" >&2; echo >&2; exit 1; }

# request METHOD URL [JSON] [extra curl args...]: the body goes to $BODY, the status is printed.
request() {
  local method=$1 url=$2 data=${3:-}
  local args=(-sS -o "$BODY" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json')
  shift "$(($# < 3 ? $# : 3))"
  [[ -n ${TOKEN:-} ]] && args+=(-H "Authorization: Bearer $TOKEN")
  [[ -n $data ]] && args+=(--data "$data")
  curl "${args[@]}" "$@" "$url"
}

check_tools() {
  local tool
  for tool in curl jq; do command -v "$tool" >/dev/null || fail "$tool not found on PATH"; done
}

# Waits (polling, no fixed sleep) until the gateway answers ready through the ingress.
wait_ready() {
  step "waiting up to ${READY_TIMEOUT}s for $BASE/readyz"
  local deadline=$((SECONDS + READY_TIMEOUT))
  until [[ $(request GET "$BASE/readyz" 2>/dev/null) == 200 ]]; do
    ((SECONDS < deadline)) || fail "$BASE/readyz did not answer 200"
    sleep 2
  done
}

list_products() {
  step "GET $API/products"
  [[ $(request GET "$API/products") == 200 ]] || fail "GET /products"
  PRODUCT_ID=$(jq -er '.products[0].id' "$BODY") || fail "no product in the catalog"
  echo "    $(jq '.products | length' "$BODY") products, first: $PRODUCT_ID"
}

open_session() {
  step "POST $API/session"
  local status
  status=$(request POST "$API/session" '{"name":"smoke-test"}')
  [[ $status =~ ^20[01]$ ]] || fail "POST /session answered $status"
  TOKEN=$(jq -er '.token' "$BODY") || fail "no token in the session response"
  echo "    user $(jq -r '.user_id' "$BODY")"
}

add_to_cart() {
  step "POST $API/cart/items ($PRODUCT_ID x 2)"
  local status
  status=$(request POST "$API/cart/items" "{\"product_id\":\"$PRODUCT_ID\",\"quantity\":2}")
  [[ $status == 200 ]] || fail "POST /cart/items answered $status"
  echo "    cart total: $(jq -r '.total.amount' "$BODY")"
}

checkout() {
  step "POST $API/checkout"
  local status
  status=$(request POST "$API/checkout" "$CHECKOUT" -H "Idempotency-Key: smoke-$(date +%s)-$RANDOM")
  [[ $status =~ ^20[01]$ ]] || fail "POST /checkout answered $status"
  echo "    order $(jq -r '.id' "$BODY"), total $(jq -r '.total.amount' "$BODY")"
}

check_tools
wait_ready
list_products
open_session
add_to_cart
checkout
step "smoke test passed against $BASE"
