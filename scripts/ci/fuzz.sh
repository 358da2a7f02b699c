#!/usr/bin/env bash
# Coverage-guided fuzzing of the gateway's REST API (fuzz/fuzz_targets/rest_api.rs) with cargo-fuzz
# and libFuzzer, for a bounded time (FUZZ_SECONDS, default 90). Needs the nightly toolchain (cargo
# fuzz builds with sanitizers); installs cargo-fuzz from crates.io when missing. libFuzzer prints
# its progress (executions, coverage) as it goes; a crash stops the run with the input that caused
# it, saved under fuzz/artifacts/, and this script fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_TO_RUN=${FUZZ_SECONDS:-90}

if ! rustup toolchain list | grep '^nightly' >/dev/null; then
  echo "error: cargo fuzz needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz from crates.io"
  cargo install --locked cargo-fuzz
fi

mkdir -p fuzz/corpus/rest_api
echo "==> building the fuzz target (nightly, AddressSanitizer)"
cargo +nightly fuzz build rest_api
echo "==> fuzzing the REST API for ${SECONDS_TO_RUN} s"
cargo +nightly fuzz run rest_api fuzz/corpus/rest_api -- \
  -max_total_time="$SECONDS_TO_RUN" -timeout=10 -print_final_stats=1
echo "==> fuzz: no crash, no 500, every error in the JSON shape"
