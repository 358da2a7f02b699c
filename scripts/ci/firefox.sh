#!/usr/bin/env bash
# The storefront's browser tests in Firefox (tests/storefront.rs, in_a_browser_*), the same tests
# CI runs in Chromium: Debian's firefox-esr driven through geckodriver (built from crates.io: Debian
# does not package it, and its release downloads are not reachable here). Installs what it needs,
# skipping what is there; screenshots go to target/screenshots/firefox/.
set -euo pipefail
cd "$(dirname "$0")/../.."

GECKODRIVER_VERSION=${GECKODRIVER_VERSION:-0.37.1}
TOOLS=target/ci-tools/geckodriver
step() { echo "==> $*"; }

command -v cargo-nextest >/dev/null || cargo nextest --version >/dev/null 2>&1 ||
  { echo "error: cargo-nextest is needed (cargo install cargo-nextest --locked)" >&2; exit 1; }
if ! command -v firefox-esr >/dev/null && ! command -v firefox >/dev/null; then
  command -v apt-get >/dev/null || { echo "error: install Firefox (and put it on PATH) first" >&2; exit 1; }
  step "firefox-esr (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr >/dev/null
fi
if [[ ! -x $TOOLS/bin/geckodriver ]]; then
  step "geckodriver $GECKODRIVER_VERSION (cargo install, a few minutes the first time)"
  cargo install geckodriver --locked --version "$GECKODRIVER_VERSION" --root "$TOOLS"
fi
step "the browser tests in Firefox $( (firefox-esr --version || firefox --version) 2>/dev/null | head -n 1)"
WEBDRIVER_BROWSER=firefox GECKODRIVER="$PWD/$TOOLS/bin/geckodriver" \
  cargo nextest run --test storefront -E 'test(/^in_a_browser_/)'
