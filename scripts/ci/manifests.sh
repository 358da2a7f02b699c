#!/usr/bin/env bash
# CI step for k8s/: renders every overlay, the base with each component, and the cluster's ingress
# controller (k8s/ingress/traefik), validates every object against the schemas of the oldest and the
# newest supported Kubernetes, lints the YAML, runs checkov, then the Rust tests that check the
# manifests against the code. Installs its tools (pip, apt) when missing.
set -euo pipefail

usage() { echo "usage: $0   env: OUT (rendered manifests, default target/k8s-rendered), K8S_VERSIONS (\"1.35.0 1.37.0\")"; }
[[ $# -eq 0 ]] || { usage; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/target/k8s-rendered}
# The oldest and the newest Kubernetes the shop supports (k8s/versions.env names the newest).
K8S_VERSIONS=${K8S_VERSIONS:-1.35.0 1.37.0}
# Pinned: 1.37.0 is the first release that bundles the 1.37 schemas.
KUBERNETES_VALIDATE=kubernetes-validate==1.37.0

step() { echo "==> $*"; }

install_tools() {
  step "tools"
  command -v kubectl >/dev/null || { echo "error: kubectl is required (kubectl kustomize renders k8s/)" >&2; exit 1; }
  local pkg missing=()
  for pkg in checkov yamllint; do command -v "$pkg" >/dev/null || missing+=("$pkg"); done
  python3 -m pip show kubernetes-validate 2>/dev/null | grep -qx "Version: ${KUBERNETES_VALIDATE#*==}" \
    || missing+=("$KUBERNETES_VALIDATE")
  python3 -c 'import jsonschema' 2>/dev/null || missing+=(jsonschema)
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
  step "render ingress/traefik"
  kubectl kustomize "$ROOT/k8s/ingress/traefik" >"$OUT/ingress-traefik.yaml"
  for dir in "$ROOT"/k8s/components/*/; do
    name=$(basename "$dir")
    step "render base + component $name"
    wrap_component "$name" "$wrappers/$name"
    kubectl kustomize "$wrappers/$name" >"$OUT/base+$name.yaml"
  done
  rm -rf "$wrappers"
}

# Gateway API kinds are CRDs that kubernetes-validate has no schema for: validate-gateway-api.py
# checks them against the schemas of the pinned release's CRDs (scripts/ci/schemas/gateway-api/),
# tests/manifests.rs checks their references and ports, and the API server their CEL rules on apply.
validate() {
  local file version
  for version in $K8S_VERSIONS; do
    for file in "$OUT"/*.yaml; do
      step "kubernetes-validate $version --strict $(basename "$file")"
      kubernetes-validate -k "$version" --strict --quiet "$file"
    done
  done
  step "validate-gateway-api (Gateway API CRD schemas, strict) on the rendered manifests"
  python3 "$ROOT/scripts/ci/validate-gateway-api.py" "$OUT"/*.yaml
}

# The user-facing scripts are checked by scripts/ci/user-scripts.sh; this one by itself here.
lint() {
  step "yamllint k8s/"
  yamllint -c "$ROOT/k8s/.yamllint.yaml" --strict "$ROOT/k8s"
  step "shellcheck scripts/ci/manifests.sh"
  shellcheck "$ROOT/scripts/ci/manifests.sh"
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
