#!/bin/sh
# Proves a deployed shop works end to end through its ingress: lists products, opens a session, adds
# a product to the cart and checks out; and the storefront answers on / with the products and their
# pictures (path-based routing: /api to the gateway, the rest to the storefront). Exits non-zero at
# the first step that fails.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() { echo "usage: $0 BASE_URL   e.g. $0 http://localhost   env: READY_TIMEOUT seconds (default 120)"; }
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  '' | -*) usage >&2; exit 2 ;;
esac
[ $# -eq 1 ] || { usage >&2; exit 2; }

BASE=${1%/}
API=$BASE/api/v1
READY_TIMEOUT=$(seconds "${READY_TIMEOUT:-120}")
TOKEN=
CHECKOUT='{"shipping_address":{"name":"Smoke Test","street":"1 Main St","city":"Springfield","postal_code":"12345","country":"US"},
  "card":{"number":"4111111111111111","expiry_month":12,"expiry_year":2099,"cvv":"123"}}'
BODY=$(mktemp "${TMPDIR:-/tmp}/shop-smoke.XXXXXX")
trap 'rm -f "$BODY"' EXIT
trap 'exit 130' INT TERM HUP

fail() {
  printf 'FAILED: %s\n' "$*" >&2
  cat "$BODY" >&2
  echo >&2
  exit 1
}

# request METHOD URL [JSON [HEADER]]: the body goes to $BODY; prints the status (000: no answer).
request() {
  method=$1 url=$2 data=${3:-} header=${4:-}
  set -- -sS -o "$BODY" -w '%{http_code}' --connect-timeout 5 --max-time 30 -X "$method" \
    -H 'Content-Type: application/json'
  if [ -n "$TOKEN" ]; then set -- "$@" -H "Authorization: Bearer $TOKEN"; fi
  if [ -n "$data" ]; then set -- "$@" --data "$data"; fi
  if [ -n "$header" ]; then set -- "$@" -H "$header"; fi
  curl "$@" "$url" || true
}

# The API through the ingress, not a health endpoint: the gateway serves those on its admin port only.
wait_ready() {
  step "waiting up to ${READY_TIMEOUT}s until GET $API/products answers 200"
  wait_http "$API/products" "$READY_TIMEOUT"
}

list_products() {
  step "GET $API/products"
  [ "$(request GET "$API/products")" = 200 ] || fail "GET /products"
  PRODUCT_ID=$(jq -er '.products[0].id' "$BODY") || fail "no product in the catalog"
  PICTURE=$(jq -er '.products[0].picture_url' "$BODY") || fail "no picture_url"
  note "$(jq '.products | length' "$BODY") products, first: $PRODUCT_ID"
}

open_session() {
  step "POST $API/session"
  status=$(request POST "$API/session" '{"name":"smoke-test"}')
  case $status in 200 | 201) ;; *) fail "POST /session answered $status" ;; esac
  TOKEN=$(jq -er '.token' "$BODY") || fail "no token in the session response"
  USER_ID=$(jq -r '.user_id' "$BODY")
  note "user $USER_ID"
}

add_to_cart() {
  step "POST $API/cart/items ($PRODUCT_ID x 2)"
  status=$(request POST "$API/cart/items" "{\"product_id\":\"$PRODUCT_ID\",\"quantity\":2}")
  [ "$status" = 200 ] || fail "POST /cart/items answered $status"
  note "cart total: $(jq -r '.total.amount' "$BODY")"
}

# The storefront, on the same host: the page of products, and a product's picture.
storefront() {
  step "GET $BASE/ (the storefront)"
  wait_http "$BASE/" "$READY_TIMEOUT"
  [ "$(request GET "$BASE/")" = 200 ] || fail "GET / (the storefront)"
  grep -q 'class="card"' "$BODY" || fail "the storefront's page lists no products"
  case $PICTURE in http*) picture=$PICTURE ;; *) picture=$BASE$PICTURE ;; esac
  step "GET $picture (a product's picture)"
  [ "$(request GET "$picture")" = 200 ] || fail "GET $picture"
}

# One checkout per session: the user id makes the idempotency key unique.
checkout() {
  step "POST $API/checkout"
  status=$(request POST "$API/checkout" "$CHECKOUT" "Idempotency-Key: smoke-$USER_ID")
  case $status in 200 | 201) ;; *) fail "POST /checkout answered $status" ;; esac
  note "order $(jq -r '.id' "$BODY"), total $(jq -r '.total.amount' "$BODY")"
}

need curl jq
wait_ready
list_products
storefront
open_session
add_to_cart
checkout
step "smoke test passed against $BASE"
