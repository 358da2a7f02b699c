# shellcheck shell=sh
# Helpers for the scripts in scripts/. POSIX sh: they run under dash, BusyBox ash and macOS's /bin/sh,
# with BSD or BusyBox sed, grep, awk and date (no GNU-only options). A script sets ROOT first:
#   ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
#   . "$ROOT/scripts/lib/common.sh"
# sh has no portable `local`: the helpers here name their variables _like_this.

# shellcheck disable=SC2034 # used by the scripts that source this file
NAMESPACE=shop # fixed by the overlays of k8s/

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# need TOOL...: stops with a clear message when a tool is not on PATH.
need() {
  for _tool in "$@"; do
    command -v "$_tool" >/dev/null 2>&1 || die "$_tool not found on PATH: install it, then re-run $0"
  done
}

# service_names: the first column of services.txt, the one list of what is built and deployed.
service_names() {
  while read -r _name _kind _rest; do
    case $_name in '' | '#'*) continue ;; esac
    printf '%s\n' "$_name"
  done <"$ROOT/services.txt"
}

# read_versions: the versions of everything that is not built here, from k8s/versions.env.
read_versions() {
  # shellcheck source=/dev/null
  . "$ROOT/k8s/versions.env"
}

# version_older A B: true when version A (v1.2.3) is older than version B.
version_older() {
  awk -v a="${1#v}" -v b="${2#v}" 'BEGIN {
    split(a, x, "."); split(b, y, ".")
    for (i = 1; i <= 3; i++) if (x[i] + 0 != y[i] + 0) exit !(x[i] + 0 < y[i] + 0)
    exit 1
  }'
}

# seconds DURATION: 300, 300s or 5m as a number of seconds (every TIMEOUT accepts the three forms).
seconds() {
  _n=${1%[sm]}
  case $_n in '' | *[!0-9]*) die "not a duration: '$1' (write e.g. 300, 300s or 5m)" ;; esac
  case $1 in *m) echo $((_n * 60)) ;; *) echo "$_n" ;; esac
}

now() { date +%s; }

# deployed_image NAME: the image the Deployment NAME runs in the namespace shop (its container NAME);
# nothing if there is no such Deployment. Needs KUBECTL.
deployed_image() {
  "$KUBECTL" -n "$NAMESPACE" get deployment "$1" \
    -o "jsonpath={.spec.template.spec.containers[?(@.name==\"$1\")].image}" 2>/dev/null || true
}

# image_tag: the tag for images built from this tree. A clean tree: the commit (12 hex). A tree with
# changes: <commit>-dirty-<8 hex>, a hash of the changes (git diff HEAD, plus the names and contents of
# untracked files that git does not ignore). The same tree gives the same tag, so a re-run reuses the
# images; other changes give another tag, so Kubernetes never keeps running a stale image.
image_tag() {
  _sha=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null) ||
    die "$ROOT is not a git checkout with a commit: set TAG to tag the images"
  if [ -z "$(git -C "$ROOT" status --porcelain)" ]; then
    printf '%s\n' "$_sha"
    return 0
  fi
  _hash=$(tree_changes | git hash-object --stdin)
  printf '%s-dirty-%s\n' "$_sha" "$(printf '%s' "$_hash" | cut -c1-8)"
}

tree_changes() {
  git -C "$ROOT" diff HEAD --binary --no-color --no-ext-diff
  git -C "$ROOT" ls-files --others --exclude-standard | while IFS= read -r _file; do
    printf '%s\n' "$_file"
    git -C "$ROOT" hash-object -- "$_file"
  done
}

# http_status URL [MAX_SECONDS]: the status of GET URL (000: no answer). Never waits over MAX_SECONDS.
http_status() {
  curl -s -o /dev/null -w '%{http_code}' --connect-timeout 3 --max-time "${2:-10}" "$1" || true
}

# wait_http URL SECONDS: polls GET URL every 2 s until it answers 200; stops after SECONDS.
wait_http() {
  _deadline=$(($(now) + $2))
  while :; do
    _status=$(http_status "$1")
    [ "$_status" = 200 ] && return 0
    [ "$(now)" -lt "$_deadline" ] ||
      die "$1 did not answer 200 within $2 s (last answer: $_status; 000 means no connection)"
    sleep 2
  done
}

# The ingress, the same on kind and minikube: the Gateway API CRDs, then Traefik from
# k8s/ingress/traefik (IngressClass and GatewayClass "traefik"). Needs WORK (a temp dir) and T (seconds).
install_gateway_api() {
  step "Gateway API $GATEWAY_API_VERSION CRDs (the Gateway and HTTPRoute kinds Traefik serves)"
  curl -fsSL --connect-timeout 10 --max-time 120 --retry 3 -o "$WORK/gateway-api.yaml" \
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/$GATEWAY_API_VERSION/standard-install.yaml"
  kubectl apply --server-side --request-timeout=60s -f "$WORK/gateway-api.yaml"
  kubectl wait --for=condition=Established --timeout="${T}s" crd/gatewayclasses.gateway.networking.k8s.io \
    crd/gateways.gateway.networking.k8s.io crd/httproutes.gateway.networking.k8s.io
}

install_traefik() {
  step "Traefik, the ingress controller (kubectl apply -k k8s/ingress/traefik)"
  kubectl apply --request-timeout=60s -k "$ROOT/k8s/ingress/traefik"
  kubectl -n traefik rollout status deployment/traefik --timeout="${T}s"
}

# stop_port_forward PIDFILE: stops the kubectl port-forward a previous run left, if it still runs.
stop_port_forward() {
  [ -f "$1" ] || return 0
  _pid=$(cat "$1")
  # ps -p (macOS, procps); BusyBox's ps has no -p, only -o.
  if kill -s 0 "$_pid" 2>/dev/null && { ps -p "$_pid" -o comm= 2>/dev/null ||
    ps -o pid,comm 2>/dev/null | awk -v p="$_pid" '$1 == p { print $2 }'; } | grep -q kubectl; then
    kill "$_pid"
    note "stopped the port-forward of a previous run (pid $_pid)"
  fi
  rm -f "$1"
}
