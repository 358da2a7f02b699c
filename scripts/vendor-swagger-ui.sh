#!/bin/sh
# Vendors Swagger UI's browser files into the storefront (services/storefront/static/swagger-ui/),
# from npm's swagger-ui-dist at the pinned VERSION, checked against its pinned INTEGRITY.
#
# Why committed files: the storefront's API docs page (/api-docs) must load nothing from the
# internet at run time (no CDN), and the image build needs only the Rust toolchain and the
# repository (no Node at build time). The storefront compiles these files into its binary.
#
# To upgrade: set VERSION and INTEGRITY (`npm view swagger-ui-dist@X dist.integrity`), run this
# script, check /api-docs in a browser (tests/storefront.rs does), and commit the result.
set -eu
VERSION=5.35.0
INTEGRITY=sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
# The bundle's own notices of the libraries inside it (swagger-ui-bundle.js.LICENSE.txt) ship with it.
FILES="swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE"

ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
DEST=$ROOT/services/storefront/static/swagger-ui
WORK=$(mktemp -d "${TMPDIR:-/tmp}/swagger-ui.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

for tool in npm openssl base64 tar; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is needed" >&2; exit 1; }
done

echo "==> npm pack swagger-ui-dist@$VERSION"
# npm bounds every request (no `timeout`: macOS has none).
(cd "$WORK" && npm pack --silent --fetch-timeout=60000 --fetch-retries=2 "swagger-ui-dist@$VERSION" >/dev/null)
TARBALL=$WORK/swagger-ui-dist-$VERSION.tgz
[ -f "$TARBALL" ] || { echo "error: npm pack gave no $TARBALL" >&2; exit 1; }

echo "==> checking the tarball against $INTEGRITY"
GOT=sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 | tr -d '\n')
[ "$GOT" = "$INTEGRITY" ] || { echo "error: integrity mismatch: got $GOT" >&2; exit 1; }

tar -xzf "$TARBALL" -C "$WORK"
mkdir -p "$DEST"
# Every file, or none: a package without one of them is not the one these pages expect.
for file in $FILES; do
  [ -f "$WORK/package/$file" ] || { echo "error: the package has no $file" >&2; exit 1; }
done
for file in $FILES; do
  cp "$WORK/package/$file" "$DEST/$file"
  echo "    $DEST/$file"
done
echo "==> Swagger UI $VERSION vendored into ${DEST#"$ROOT"/}"
