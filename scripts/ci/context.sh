#!/usr/bin/env bash
# CI check of the image build context (.dockerignore): sends the context of a clean clone, plus
# decoys (a Jenkins admin password, fuzz corpora, test caches: files that exist in a working copy
# but git ignores), to the real Docker builder and lists what arrives. The context must hold no file
# that git ignores, nothing under jenkins/, docs/, tests/, k8s/ or scripts/, no Jenkinsfile, and
# still load as the cargo workspace. The same for jenkins/ (the controller image's context).
set -euo pipefail

usage() { echo "usage: $0   (needs a running Docker engine: scripts/ci/docker-standins.sh starts one)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

step() { echo "==> $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# context DIR OUT: the files the builder receives for DIR, one path per line, into OUT.
# (FROM scratch + COPY . /: no base image to pull; the local exporter writes the result to a folder.)
context() {
  local out
  out=$T/out-$(basename "$2")
  printf 'FROM scratch\nCOPY . /\n' |
    DOCKER_BUILDKIT=1 "$DOCKER" build -q -f- --output "type=local,dest=$out" "$1" >/dev/null
  (cd "$out" && find . -type f | sed 's|^\./||' | sort) >"$2"
}

step "a clean clone of $ROOT, plus files a working copy has and git ignores"
git clone -q "$ROOT" "$T/repo"
mkdir -p "$T/repo/fuzz/corpus/rest" "$T/repo/.hypothesis" "$T/repo/target/debug" "$T/repo/services/cart/target"
echo "ADMIN_PASSWORD=decoy" >"$T/repo/jenkins/admin.env"
: >"$T/repo/fuzz/corpus/rest/decoy"
: >"$T/repo/.hypothesis/decoy"
: >"$T/repo/target/debug/decoy"
: >"$T/repo/services/cart/target/decoy"
: >"$T/repo/shop.db"
for decoy in jenkins/admin.env fuzz/corpus/rest/decoy .hypothesis/decoy target/debug/decoy shop.db; do
  git -C "$T/repo" check-ignore -q "$decoy" || fail "the decoy $decoy is not ignored by git: fix the test"
done

step "the build context of the Dockerfile (.dockerignore)"
context "$T/repo" "$T/files"
echo "    $(wc -l <"$T/files") files, in: $(cut -d/ -f1 "$T/files" | sort -u | tr '\n' ' ')"
if ignored=$(git -C "$T/repo" check-ignore --stdin <"$T/files"); then
  fail "files that git ignores reach the build context:"$'\n'"$ignored"
fi
if stray=$(grep -E '^(jenkins/|docs/|tests/|k8s/|scripts/|fuzz/|\.ci/|\.github/|Jenkinsfile$|README\.md$|compose\.yaml$)' "$T/files"); then
  fail "files the build does not need reach the build context:"$'\n'"$stray"
fi
for needed in Cargo.toml Cargo.lock src/main.rs platform/Cargo.toml proto/Cargo.toml gateway/Cargo.toml; do
  grep -qx "$needed" "$T/files" || fail "$needed is missing from the build context"
done
step "the context loads as the workspace (cargo metadata, no network)"
cargo metadata --no-deps --offline --format-version 1 --manifest-path "$T/out-files/Cargo.toml" >/dev/null

step "the build context of the Jenkins controller image (jenkins/.dockerignore)"
context "$T/repo/jenkins" "$T/jenkins-files"
echo "    $(tr '\n' ' ' <"$T/jenkins-files")"
if grep -qx 'admin.env' "$T/jenkins-files"; then fail "jenkins/admin.env (the admin password) reaches the controller image's context"; fi
grep -qx 'plugins.txt' "$T/jenkins-files" || fail "jenkins/plugins.txt is missing from the controller image's context"

step "build contexts OK"
