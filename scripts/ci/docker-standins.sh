#!/usr/bin/env bash
# CI only: CI has a real Docker engine but cannot reach an image registry, so `FROM rust:...` and
# `FROM gcr.io/distroless/...` cannot be pulled. This script installs Debian's Docker, starts the
# daemon and imports offline stand-ins under the exact names the Dockerfile uses; the real Dockerfile
# is then built unchanged. Users and machines with a registry never need this: they pull the real images.
set -euo pipefail

usage() { echo "usage: $0   (env: STANDINS_DIR=/var/tmp/shop-standins)"; }
[[ $# -eq 0 ]] || { usage; exit 2; }

BUILDER_IMAGE=rust:1.95-slim-bookworm
RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
DIR=${STANDINS_DIR:-/var/tmp/shop-standins}
DOCKER=/usr/bin/docker
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

step() { echo "==> $*"; }
have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

install_tools() {
  step "install docker.io and debootstrap (Debian packages)"
  if [[ -x $DOCKER ]] && command -v debootstrap >/dev/null; then echo "    already installed"; return; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
}

start_dockerd() {
  step "start dockerd"
  if "$DOCKER" info >/dev/null 2>&1; then echo "    already running"; return; fi
  nohup dockerd >/tmp/dockerd.log 2>&1 &
  for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && return; sleep 1; done
  echo "dockerd did not start, see /tmp/dockerd.log" >&2; exit 1
}

debian_rootfs() {
  step "debootstrap a minimal bookworm rootfs in $DIR/bookworm"
  if [[ -f $DIR/bookworm/.done ]]; then echo "    already there"; return; fi
  rm -rf "$DIR/bookworm" && mkdir -p "$DIR"
  debootstrap --variant=minbase bookworm "$DIR/bookworm" "$MIRROR" >"$DIR/debootstrap.log"
  touch "$DIR/bookworm/.done"
}

builder_standin() {
  step "import builder stand-in $BUILDER_IMAGE (bookworm + gcc + host Rust $(rustc -V | cut -d' ' -f2))"
  if have_image "$BUILDER_IMAGE"; then echo "    already imported"; return; fi
  local root=$DIR/builder sysroot
  rm -rf "$root" && cp -a "$DIR/bookworm" "$root" && rm -f "$root/.done"
  chroot "$root" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends \
    gcc libc6-dev pkg-config ca-certificates >"$DIR/builder-apt.log" 2>&1
  chroot "$root" apt-get clean
  # The registries are reached through a TLS proxy that only the host's CA bundle trusts.
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  sysroot=$(rustc --print sysroot)
  mkdir -p "$root/usr/local/rust" "$root/usr/local/cargo/bin" "$root/usr/local/rustup"
  cp -a "$sysroot/bin" "$sysroot/lib" "$root/usr/local/rust/"
  tar -C "$root" -c . | "$DOCKER" import \
    -c 'ENV RUSTUP_HOME=/usr/local/rustup' -c 'ENV CARGO_HOME=/usr/local/cargo' \
    -c 'ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$BUILDER_IMAGE" >/dev/null
  rm -rf "$root"
}

runtime_standin() {
  step "import runtime stand-in $RUNTIME_IMAGE (glibc, libgcc, libssl, CA certs, tzdata, user 65532)"
  if have_image "$RUNTIME_IMAGE"; then echo "    already imported"; return; fi
  local root=$DIR/runtime debs=$DIR/debs deb
  rm -rf "$root" "$debs" && mkdir -p "$root" "$debs"
  # The package set of distroless cc-debian12, unpacked without dpkg, docs and man pages.
  (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root base-files netbase tzdata libc6 libgcc-s1 libgomp1 libstdc++6 libssl3 >/dev/null)
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian" "$root/usr/share/info"
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot" "$root/root"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  chmod 1777 "$root/tmp" && chown 65532:65532 "$root/home/nonroot"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$root/etc/group"
  tar -C "$root" -c . | "$DOCKER" import -c 'USER 65532' -c 'WORKDIR /home/nonroot' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' - "$RUNTIME_IMAGE" >/dev/null
  rm -rf "$root" "$debs"
}

install_tools
start_dockerd
debian_rootfs
builder_standin
runtime_standin
step "stand-ins ready"
"$DOCKER" images --format '    {{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E 'rust|distroless'
