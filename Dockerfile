# One Dockerfile for every service of the shop. Build one image per service with a build argument:
#   DOCKER_BUILDKIT=1 docker build --build-arg SERVICE=catalog -t shop-catalog:dev .
# or all of them with scripts/build-images.sh. Stages:
#   chef    - the Rust toolchain plus cargo-chef
#   planner - computes recipe.json: the manifests and lock file, i.e. the dependency graph
#   deps    - compiles the dependencies (re-run only when recipe.json changes), kept in its layer
#   builder - compiles the binaries of all services at once. It takes no SERVICE argument, so
#             BuildKit builds it once and reuses it for all images.
#   pick    - selects the binary named by SERVICE, from the builder stage or from an image of it
#             (--build-arg BUILDER=...)
#   runtime - distroless, non-root, one binary and nothing else (no shell)

# The stage (or image) that holds the compiled binaries in /out. scripts/build-images.sh builds the
# `builder` stage once as an image and passes it here, so all images come from one snapshot of the source.
ARG BUILDER=builder

FROM rust:1.95-slim-bookworm AS chef
ARG CARGO_CHEF_VERSION=0.1.78
# cargo-auditable writes the crates a binary is built from (names, versions, sources) into a section
# of the binary, so the image's SBOM lists them: a stripped Rust binary says nothing otherwise.
ARG CARGO_AUDITABLE_VERSION=0.7.7
WORKDIR /src
RUN --mount=type=cache,id=shop-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}" \
    && cargo install cargo-auditable --locked --version "${CARGO_AUDITABLE_VERSION}"

FROM chef AS planner
COPY . .
# The packages that become images, by convention: the gateway and every crate under services/ (a
# crate is named as its folder). A new service crate is picked up as is; tools such as loadgen are not.
RUN cargo chef prepare --recipe-path recipe.json \
    && for dir in gateway loadgen services/*/; do printf -- '-p %s\n' "$(basename "${dir}")"; done > packages

FROM chef AS deps
# The dependencies, compiled by `cook` in a step of their own, whose cache key is the recipe
# (manifests + Cargo.lock), not the source code. No cache mount for target/ here: the compiled
# dependencies stay in this layer, so a registry cache export (mode=max, the Jenkins pipeline) carries
# them to the next build pod, whose BuildKit starts empty.
COPY --from=planner /src/recipe.json /src/packages ./
RUN --mount=type=cache,id=shop-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=shop-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    xargs -a packages cargo chef cook --release --recipe-path recipe.json

FROM deps AS builder
COPY . .
# The same packages as `cook` (so the same features of every dependency): their binaries only.
# They build in a cache mount seeded from the dependencies' layer (again whenever the recipe
# changes): where BuildKit keeps its state (a laptop, a persistent daemon), a change to one service
# recompiles that crate only; in a fresh build pod, the dependencies still come from the layer.
# The binaries are copied to /out: the cache mount is not part of the image.
RUN --mount=type=cache,id=shop-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=shop-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=shop-target,target=/cache/target,sharing=locked \
    recipe=$(sha256sum recipe.json) \
    && if [ "$(cat /cache/target/.recipe 2>/dev/null)" != "${recipe}" ]; then \
         find /cache/target -mindepth 1 -delete && cp -a target/. /cache/target/ \
         && echo "${recipe}" > /cache/target/.recipe; \
       fi \
    && CARGO_TARGET_DIR=/cache/target xargs -a packages cargo auditable build --release --locked --bins \
    && mkdir -p /out \
    && while read -r _ package; do cp "/cache/target/release/${package}" /out/; done < packages \
    && rm -rf target

FROM ${BUILDER} AS pick
ARG SERVICE
RUN test -n "${SERVICE}" && test -x "/out/${SERVICE}" \
    || { echo "SERVICE must be one of: $(ls -m /out)"; exit 1; }; \
    mkdir -p /pick/data && cp "/out/${SERVICE}" /pick/service

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
# SQLite files and anything else the service writes go to DATA_DIR; mount a volume or tmpfs there and
# run with a read-only root filesystem.
ENV DATA_DIR=/data
COPY --from=pick --chown=65532:65532 /pick/data /data
COPY --from=pick /pick/service /usr/local/bin/service
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/service"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/service", "healthcheck"]
ARG SERVICE
ARG VERSION=dev
# The image tag (scripts/build-images.sh: the commit): with VERSION, what x-shop-version says, so
# a rolling update shows the release switching over.
ARG RELEASE=dev
ENV SHOP_VERSION="${VERSION}+${RELEASE}"
ARG REVISION=unknown
ARG SOURCE=https://github.com/rust-shop/shop
LABEL org.opencontainers.image.title="shop-${SERVICE}" \
      org.opencontainers.image.description="The shop's ${SERVICE} service" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
