#!/bin/sh
# The Jenkins pipeline's plan: which images this commit changes, from the diff between BASE (the
# commit of the last successful build; empty: every image) and HEAD, over the workspace's dependency
# graph (cargo run -p xtask -- affected; docs/jenkins.md "Build only what changed"). Writes the names,
# one per line, to OUT; says why on stderr.
set -eu

usage() { echo "usage: $0   env: BASE (a commit, or empty for every image), OUT (default target/affected.txt)"; }
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

cd "$(dirname "$0")/../.."
OUT=${OUT:-target/affected.txt}
mkdir -p "$(dirname "$OUT")"
echo "==> images this commit changes (base: ${BASE:-none})"
cargo run --quiet --locked -p xtask -- affected --base "${BASE:-}" >"$OUT"
sed 's/^/    /' "$OUT"
