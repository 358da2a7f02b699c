#!/usr/bin/env bash
# Runs every test of the workspace: against SQLite always, and against a real PostgreSQL when one
# is at hand. Usage: scripts/test.sh [extra cargo-nextest arguments]
#
# PostgreSQL, in this order: TEST_POSTGRES_URL if set; Debian's PostgreSQL on this machine (started,
# and installed first when run as root with apt); otherwise the PostgreSQL runs are skipped and the
# summary at the end says how to enable them. Under CI (CI=true) PostgreSQL is required.
# Written for bash 3.2 and BSD tools too (macOS).
set -euo pipefail
cd "$(dirname "$0")/.."

POSTGRES_IMAGE=$(sed -n 's/^POSTGRES_IMAGE=//p' k8s/versions.env)
POSTGRES_LIB=${POSTGRES_LIB:-/usr/lib/postgresql} # where Debian installs PostgreSQL
POSTGRES_SKIPPED=""
RESTART_SKIPPED=""
BROWSER_SKIPPED=""
KUBECTL_SKIPPED=""

step() { printf '\n==> %s\n' "$*"; }

# Prints why PostgreSQL is not available, or nothing once TEST_POSTGRES_URL is exported.
local_postgres() {
  if ! ls "$POSTGRES_LIB"/*/bin/postgres >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
      echo "no PostgreSQL server on this machine (and no root apt-get to install one)"
      return
    fi
    step "PostgreSQL: installing Debian's postgresql" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "PostgreSQL is installed but this is not root: start it and set TEST_POSTGRES_URL"
    return
  fi
  local dir version=""
  for dir in "$POSTGRES_LIB"/*/; do version=$(basename "$dir"); done
  if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
    step "PostgreSQL $version: starting the cluster" >&2
    pg_ctlcluster "$version" main start >&2
  fi
  step "PostgreSQL $version: setting the test password" >&2
  su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  export TEST_POSTGRES_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
}

ensure_postgres() {
  if [[ -n ${TEST_POSTGRES_URL:-} ]]; then
    step "PostgreSQL: using TEST_POSTGRES_URL"
    return
  fi
  local why
  why=$(local_postgres)
  if [[ -z $why ]]; then
    # local_postgres ran in a subshell: export its URL here.
    export TEST_POSTGRES_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
    return
  fi
  if [[ ${CI:-} == true ]]; then
    echo "error: CI=true requires PostgreSQL: $why" >&2
    exit 1
  fi
  POSTGRES_SKIPPED=$why
  step "PostgreSQL: $why; testing on SQLite only"
}

# Whether initdb and pg_ctl are here (where pg_config says, or Debian's place), for the restart test.
have_postgres_programs() {
  local bindir
  bindir=$(pg_config --bindir 2>/dev/null || true)
  [[ -n $bindir && -x $bindir/initdb ]] && return 0
  ls "$POSTGRES_LIB"/*/bin/initdb >/dev/null 2>&1
}

# The storefront's browser tests drive headless Chromium through chromedriver (CHROMEDRIVER, or the
# one on PATH): installed as root with apt; otherwise they are left out and the summary says so.
ensure_browser() {
  local driver=${CHROMEDRIVER:-chromedriver}
  command -v "$driver" >/dev/null 2>&1 && return
  if [[ -z ${CHROMEDRIVER:-} && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    step "browser tests: installing Debian's chromium and chromium-driver"
    apt-get update -qq
    # Debian's names; where they differ (Ubuntu's are snaps), the tests are left out below.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null || true
    command -v chromedriver >/dev/null && return
  fi
  if [[ ${CI:-} == true ]]; then
    echo "error: CI=true requires chromedriver and Chromium for the storefront's browser tests" >&2
    exit 1
  fi
  BROWSER_SKIPPED="no $driver on this machine"
  step "browser tests: $BROWSER_SKIPPED; leaving them out"
}

# The manifest and pipeline tests render Kustomize with kubectl (KUBECTL, or the one on PATH).
check_kubectl() {
  command -v "${KUBECTL:-kubectl}" >/dev/null 2>&1 && return
  if [[ ${CI:-} == true ]]; then
    echo "error: CI=true requires kubectl (the manifest tests render Kustomize with it)" >&2
    exit 1
  fi
  KUBECTL_SKIPPED="no ${KUBECTL:-kubectl} on this machine"
  step "manifest tests: $KUBECTL_SKIPPED; leaving them out"
}

run_tests() {
  # Every target, so that the binaries the process tests start (shop, loadgen) exist too; with the
  # tests' features, so that the test run below reuses this build.
  step "cargo build --workspace --all-targets"
  cargo build --workspace --all-targets --locked
  # Tests left out for want of a program: the PostgreSQL restart test (initdb, pg_ctl), the
  # browser tests (chromedriver), the manifest and pipeline tests (kubectl).
  local left_out=() skip_test=() skip_binaries=()
  if ! have_postgres_programs; then
    RESTART_SKIPPED=yes
    left_out+=("test(=postgres_restarted_under_load)")
    skip_test+=(--skip postgres_restarted_under_load)
  fi
  if [[ -n $BROWSER_SKIPPED ]]; then
    left_out+=("test(/^in_a_browser_/)")
    skip_test+=(--skip in_a_browser_)
  fi
  if [[ -n $KUBECTL_SKIPPED ]]; then
    left_out+=("binary(=manifests)" "binary(=jenkinsfile)")
    skip_binaries=(manifests jenkinsfile)
  fi
  if cargo nextest --version >/dev/null 2>&1; then
    # A filter of the caller's (-E EXPR) is narrowed by what is left out: nextest would run the
    # union of two -E options.
    local args=() user_filter="" left=""
    while [[ $# -gt 0 ]]; do
      case $1 in
        -E | --filterset | --filter-expr) user_filter=$2; shift 2 ;;
        -E=* | --filterset=* | --filter-expr=*) user_filter=${1#*=}; shift ;;
        *) args+=("$1"); shift ;;
      esac
    done
    if [[ ${#left_out[@]} -gt 0 ]]; then
      left=$(printf ' | %s' "${left_out[@]}")
      left=${left:3}
    fi
    if [[ -n $user_filter && -n $left ]]; then
      args+=(-E "($user_filter) - ($left)")
    elif [[ -n $user_filter ]]; then
      args+=(-E "$user_filter")
    elif [[ -n $left ]]; then
      args+=(-E "not ($left)")
    fi
    step "cargo nextest run --workspace ${args[*]:-}"
    local rc=0
    # A JUnit file of an earlier run (a shared cargo cache) must never pass for this one's.
    rm -rf "${CARGO_TARGET_DIR:-target}/nextest"
    cargo nextest run --workspace ${args[@]+"${args[@]}"} || rc=$?
    # nextest writes its JUnit files under the target directory; where that is elsewhere (the
    # Jenkins agent's cargo cache: CARGO_TARGET_DIR), copy them to ./target, where CI reads them.
    if [[ -n ${CARGO_TARGET_DIR:-} && -d $CARGO_TARGET_DIR/nextest && "$(cd "$CARGO_TARGET_DIR" && pwd)" != "$(pwd)/target" ]]; then
      mkdir -p target
      cp -R "$CARGO_TARGET_DIR/nextest" target/
    fi
    return "$rc"
  else
    [[ $# -eq 0 ]] || echo "note: without cargo-nextest the arguments '$*' are not used" >&2
    if [[ ${#skip_binaries[@]} -eq 0 ]]; then
      step "cargo test --workspace ${skip_test[*]:+-- ${skip_test[*]}} (install cargo-nextest for JUnit output and faster runs)"
      cargo test --workspace ${skip_test[@]+-- "${skip_test[@]}"}
    else
      # cargo test cannot leave a test binary out: every other package, then the root package's
      # test binaries one by one.
      local targets=() file name
      for file in tests/*.rs; do
        name=$(basename "$file" .rs)
        case " ${skip_binaries[*]} " in *" $name "*) continue ;; esac
        targets+=(--test "$name")
      done
      step "cargo test --workspace --exclude shop, then the shop's tests but ${skip_binaries[*]}"
      cargo test --workspace --exclude shop ${skip_test[@]+-- "${skip_test[@]}"}
      cargo test -p shop --lib --bins "${targets[@]}" ${skip_test[@]+-- "${skip_test[@]}"}
    fi
  fi
}

summary() {
  if [[ -n $KUBECTL_SKIPPED ]]; then
    cat <<MSG

NOTE: the manifest and pipeline tests (tests/manifests.rs, tests/jenkinsfile.rs) were SKIPPED
($KUBECTL_SKIPPED). They render the Kubernetes manifests with kubectl's Kustomize: install kubectl
(macOS: brew install kubectl; Debian/Ubuntu: see kubernetes.io/docs/tasks/tools) or set KUBECTL.
MSG
  fi
  if [[ -n $BROWSER_SKIPPED ]]; then
    cat <<MSG

NOTE: the storefront's browser tests (tests/storefront.rs, in_a_browser_*) were SKIPPED
($BROWSER_SKIPPED). They need Chromium (or Chrome) and its chromedriver: on Debian/Ubuntu
apt-get install chromium chromium-driver; on macOS brew install --cask chromedriver (with Chrome;
if macOS refuses to run it: xattr -d com.apple.quarantine "\$(command -v chromedriver)"); or point
CHROMEDRIVER at one.
MSG
  fi
  if [[ -n $RESTART_SKIPPED ]]; then
    cat <<MSG

NOTE: the PostgreSQL restart test (tests/postgres_restart.rs) was SKIPPED: it runs a PostgreSQL
server of its own and needs PostgreSQL's server programs (initdb, pg_ctl) on this machine
(pg_config --bindir says where; on Debian: apt-get install postgresql).
MSG
  fi
  [[ -z $POSTGRES_SKIPPED ]] && return
  cat <<MSG

NOTE: every test passed on SQLite, but the PostgreSQL runs were SKIPPED ($POSTGRES_SKIPPED).
To run them too, start a PostgreSQL and point the tests at it, e.g. with Docker:
  docker run -d --name shop-test-postgres -e POSTGRES_PASSWORD=postgres -p 5432:5432 $POSTGRES_IMAGE
  TEST_POSTGRES_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres scripts/test.sh
MSG
}

ensure_postgres
ensure_browser
check_kubectl
run_tests "$@"
summary
