#!/usr/bin/env bash
# Checks the README's test command (scripts/test.sh) where no PostgreSQL is at hand, as on a
# newcomer's Mac or as a non-root user: it must run every test on SQLite, pass, and say at the end
# that the PostgreSQL runs were skipped and how to enable them; under CI=true it must refuse.
# Stand-ins for `id` (a non-root user) and `cargo` (records its arguments) keep this fast.
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
step() { echo "==> $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

mkdir -p "$WORK/bin" "$WORK/empty"
printf '#!/bin/sh\n[ "${1:-}" = -u ] && { echo 1000; exit 0; }\nexec /usr/bin/id "$@"\n' >"$WORK/bin/id"
printf '#!/bin/sh\necho "cargo $*" >>"%s/cargo.log"\n[ "$*" = "nextest --version" ] && [ -n "${NO_NEXTEST:-}" ] && exit 1\nexit 0\n' "$WORK" >"$WORK/bin/cargo"
chmod +x "$WORK/bin/id" "$WORK/bin/cargo"

run() { # run CI POSTGRES_LIB: scripts/test.sh as a non-root user without TEST_POSTGRES_URL
  rm -f "$WORK/cargo.log" "$WORK/bin/pg_config"
  # Without PostgreSQL's programs, pg_config (if any) finds none either.
  [ "$2" != "$WORK/empty" ] || { printf '#!/bin/sh\nexit 1\n' >"$WORK/bin/pg_config"; chmod +x "$WORK/bin/pg_config"; }
  env -u TEST_POSTGRES_URL CI="$1" POSTGRES_LIB="$2" PATH="$WORK/bin:$PATH" \
    bash scripts/test.sh >"$WORK/out" 2>&1
}

for lib in "$WORK/empty" /usr/lib/postgresql; do
  step "no TEST_POSTGRES_URL, not root, PostgreSQL under $lib: SQLite only, passes, says so"
  run "" "$lib" || { cat "$WORK/out"; fail "scripts/test.sh failed"; }
  grep -q "PostgreSQL runs were SKIPPED" "$WORK/out" || { cat "$WORK/out"; fail "no note about the skipped runs"; }
  grep -q "TEST_POSTGRES_URL=postgres://" "$WORK/out" || fail "the note does not say how to enable them"
  tail -n 5 "$WORK/out" | grep -q "scripts/test.sh" || fail "the note is not at the end"
  grep -qE "^cargo (nextest run|test) --workspace" "$WORK/cargo.log" || fail "the tests did not run"
  if [ "$lib" = "$WORK/empty" ]; then
    grep -q "test(=postgres_restarted_under_load)" "$WORK/cargo.log" ||
      fail "the PostgreSQL restart test was not left out without PostgreSQL's programs"
    grep -q "restart test (tests/postgres_restart.rs) was SKIPPED" "$WORK/out" ||
      fail "no note about the skipped restart test"
  elif grep -q "test(=postgres_restarted_under_load)" "$WORK/cargo.log"; then
    fail "the PostgreSQL restart test was left out although initdb is here"
  fi
done

# passes [VAR=VALUE...] [-- ARG...]: scripts/test.sh as a non-root user, PostgreSQL's programs at
# hand, without TEST_POSTGRES_URL, with those settings and arguments; it must pass.
passes() {
  local settings=()
  while [[ $# -gt 0 && $1 != -- ]]; do settings+=("$1"); shift; done
  [[ $# -eq 0 ]] || shift
  rm -f "$WORK/cargo.log"
  env -u TEST_POSTGRES_URL CI="" POSTGRES_LIB=/usr/lib/postgresql ${settings[@]+"${settings[@]}"} \
    PATH="$WORK/bin:$PATH" bash scripts/test.sh "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "scripts/test.sh failed"; }
}
# ran PATTERN WHY / said PATTERN WHY: cargo was run with PATTERN / the output says PATTERN.
ran() { grep -q -- "$1" "$WORK/cargo.log" || { cat "$WORK/cargo.log"; fail "$2"; }; }
said() { grep -q -- "$1" "$WORK/out" || { cat "$WORK/out"; fail "$2"; }; }

step "no chromedriver, not root: the browser tests are left out, and the summary says so"
passes CHROMEDRIVER="$WORK/no-chromedriver"
ran "test(/^in_a_browser_/)" "the browser tests were not left out"
said "browser tests (tests/storefront.rs, in_a_browser_\*) were SKIPPED" "no note about the browser tests"

step "no kubectl: the manifest and pipeline tests are left out, and the summary says so"
passes KUBECTL="$WORK/no-kubectl"
ran "binary(=manifests) | binary(=jenkinsfile)" "the manifest tests were not left out"
said "tests/manifests.rs, tests/jenkinsfile.rs) were SKIPPED" "no note about the manifest tests"

step "a filter of the caller's is narrowed by what is left out (nextest would run the union of two -E)"
passes CHROMEDRIVER="$WORK/no-chromedriver" -- -E 'test(checkout)'
ran "(test(checkout)) - (test(/^in_a_browser_/))" "the caller's filter is not narrowed"
[ "$(grep -o -- ' -E ' "$WORK/cargo.log" | wc -l)" -eq 1 ] || { cat "$WORK/cargo.log"; fail "more than one -E"; }

step "without cargo-nextest and without kubectl: cargo test, the manifest tests left out by target"
passes KUBECTL="$WORK/no-kubectl" NO_NEXTEST=1
ran "^cargo test --workspace --exclude shop" "no cargo test of the other packages"
grep "^cargo test -p shop" "$WORK/cargo.log" | grep -q -- "--test storefront" || { cat "$WORK/cargo.log"; fail "the shop's tests did not run"; }
if grep "^cargo test -p shop" "$WORK/cargo.log" | grep -q -- "--test manifests"; then fail "the manifest tests ran without kubectl"; fi

step "CI=true without PostgreSQL: refuses"
if run true "$WORK/empty"; then fail "CI=true passed without PostgreSQL"; fi
grep -q "CI=true requires PostgreSQL" "$WORK/out" || { cat "$WORK/out"; fail "no clear error"; }
[[ ! -e $WORK/cargo.log ]] || fail "tests ran although PostgreSQL was required"
step "scripts/test.sh without PostgreSQL: OK"
