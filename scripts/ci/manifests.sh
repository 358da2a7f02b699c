#!/usr/bin/env bash
# CI step for k8s/: renders every overlay and the base with each component, validates every object
# against the Kubernetes 1.32 schemas, lints the YAML and the scripts, runs checkov, then the Rust
# tests that check the manifests against the code. Installs its tools (pip, apt) when missing.
set -euo pipefail

usage() { echo "usage: $0   env: OUT (rendered manifests, default target/k8s-rendered), K8S_VERSION (1.32.0)"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/target/k8s-rendered}
K8S_VERSION=${K8S_VERSION:-1.32.0}
SCRIPTS=(kind-up.sh kind-down.sh minikube-up.sh minikube-down.sh deploy.sh smoke-test.sh ci/manifests.sh)

step() { echo "==> $*"; }

install_tools() {
  step "tools"
  command -v kubectl >/dev/null || { echo "error: kubectl is required (kubectl kustomize renders k8s/)" >&2; exit 1; }
  local pkg missing=()
  for pkg in kubernetes-validate checkov yamllint; do command -v "$pkg" >/dev/null || missing+=("$pkg"); done
  if [[ ${#missing[@]} -gt 0 ]]; then python3 -m pip install --quiet "${missing[@]}"; fi
  if ! command -v shellcheck >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
  fi
}

# A kustomization with the base and one component. kustomize refuses absolute paths, hence relative.
wrap_component() {
  local component=$1 dir=$2
  mkdir -p "$dir"
  cat >"$dir/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources:
  - $(realpath --relative-to="$dir" "$ROOT/k8s/base")
components:
  - $(realpath --relative-to="$dir" "$ROOT/k8s/components/$component")
YAML
}

render() {
  rm -rf "$OUT" && mkdir -p "$OUT"
  local dir name wrappers
  wrappers=$(mktemp -d)
  step "render base"
  kubectl kustomize "$ROOT/k8s/base" >"$OUT/base.yaml"
  for dir in "$ROOT"/k8s/overlays/*/; do
    name=$(basename "$dir")
    step "render overlays/$name"
    kubectl kustomize "$dir" >"$OUT/overlay-$name.yaml"
  done
  for dir in "$ROOT"/k8s/components/*/; do
    name=$(basename "$dir")
    step "render base + component $name"
    wrap_component "$name" "$wrappers/$name"
    kubectl kustomize "$wrappers/$name" >"$OUT/base+$name.yaml"
  done
  rm -rf "$wrappers"
}

validate() {
  local file
  for file in "$OUT"/*.yaml; do
    step "kubernetes-validate $K8S_VERSION --strict $(basename "$file")"
    kubernetes-validate -k "$K8S_VERSION" --strict --quiet "$file"
  done
}

lint() {
  step "yamllint k8s/"
  yamllint -c "$ROOT/k8s/.yamllint.yaml" --strict "$ROOT/k8s"
  step "shellcheck ${SCRIPTS[*]}"
  (cd "$ROOT/scripts" && shellcheck "${SCRIPTS[@]}")
}

scan() {
  step "checkov (kubernetes) on the rendered manifests"
  checkov --directory "$OUT" --framework kubernetes --quiet --compact --skip-download
}

rust_tests() {
  step "cargo test -p shop --test manifests"
  (cd "$ROOT" && cargo test -p shop --test manifests)
}

install_tools
render
validate
lint
scan
rust_tests
step "manifests OK"
