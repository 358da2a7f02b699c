#!/usr/bin/env bash
# The lint stage: formatting (cargo fmt --check) and clippy with every warning an error, over the
# whole workspace and all targets (tests included). Adds the rustfmt and clippy components if missing.
# Both checks always run, so one run shows every problem; the exit status is non-zero if either fails.
set -euo pipefail

usage() { echo "usage: $0   (no arguments; run from anywhere in the repository)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }
cd "$(dirname "$0")/../.."

FAILED=()

step() { echo "==> $*"; }

ensure_components() {
  step "rustfmt and clippy"
  cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1 && return
  rustup component add rustfmt clippy
}

check_format() {
  step "cargo fmt --all -- --check"
  cargo fmt --all -- --check || FAILED+=("cargo fmt (fix: cargo fmt --all)")
}

run_clippy() {
  step "cargo clippy --workspace --all-targets --locked -- -D warnings"
  cargo clippy --workspace --all-targets --locked -- -D warnings || FAILED+=("cargo clippy")
}

ensure_components
check_format
run_clippy
if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "lint FAILED: ${FAILED[*]}" >&2
  exit 1
fi
step "lint OK"
