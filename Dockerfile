# syntax=docker/dockerfile:1
# tokenpace as a container image: the static build without the embedded
# engine, alone in an otherwise empty image.
#
#   docker build -t tokenpace:latest .
#
# (deploy/k8s/bench-shards.yaml runs this image.) The build stage compiles
# tokenpace with Rust's musl target: one statically linked file, no C++
# toolchain needed. The runtime stage holds that file and the CA
# certificates https targets are checked against, nothing else: no shell,
# no libc, no package manager. scripts/container lays out the same runtime
# root without docker, checks that the binary needs nothing else (it runs
# sim and bench inside a chroot of it) and can turn it into an image with
# `docker import`, for hosts that cannot pull the base images below.
ARG RUST_IMAGE=rust:1-bookworm

FROM ${RUST_IMAGE} AS build
ARG TARGET=x86_64-unknown-linux-musl
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add "${TARGET}"
WORKDIR /src
COPY . .
RUN cargo build --release --locked --no-default-features --target "${TARGET}" \
 && cp "target/${TARGET}/release/tokenpace" /tokenpace

FROM scratch AS runtime
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /tokenpace /usr/local/bin/tokenpace
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# Not root; the k8s manifest gives this group the results volume.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/tokenpace"]
