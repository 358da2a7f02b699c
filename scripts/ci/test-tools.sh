#!/usr/bin/env bash
# What scripts/test.sh needs beyond a bare Rust image (the build pod's rust:*-slim): cargo-nextest
# (JUnit XML for Jenkins), `kill` (procps; the shutdown tests signal the real binary), git, and
# Chromium with its chromedriver (the storefront's browser tests). Skips what is there: the CI tools
# image (jenkins/ci-tools/Dockerfile) has all of it, and kubectl, which tests/manifests.rs runs.
set -euo pipefail

NEXTEST_VERSION=${NEXTEST_VERSION:-0.9.143}
usage() { echo "usage: $0   env: NEXTEST_VERSION (default $NEXTEST_VERSION)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

step() { echo "==> $*"; }

install_procps() {
  step "kill (procps)"
  if [[ -x /bin/kill || -x /usr/bin/kill ]]; then echo "    already installed"; return; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends procps >/dev/null
}

# From crates.io with its locked dependencies: a few minutes in a fresh pod.
install_nextest() {
  step "cargo-nextest $NEXTEST_VERSION"
  if cargo nextest --version >/dev/null 2>&1; then echo "    already installed: $(cargo nextest --version | head -n1)"; return; fi
  cargo install cargo-nextest --locked --version "$NEXTEST_VERSION"
}

# Debian's, as scripts/test.sh would install them (it does so only as root; here, in every case).
install_chromium() {
  step "chromium and chromium-driver"
  if command -v chromedriver >/dev/null; then echo "    already installed"; return; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
}

# git: the Plan stage's diff (xtask affected) and the tests that clone the repository. The checkout
# belongs to the jnlp container's user, so git run as root here must be told it is safe.
install_git() {
  step "git"
  if ! command -v git >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git >/dev/null
  else echo "    already installed"; fi
  git config --global --get-all safe.directory 2>/dev/null | grep -qx '\*' || git config --global --add safe.directory '*'
}

install_procps
install_git
install_chromium
install_nextest
