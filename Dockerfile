# syntax=docker/dockerfile:1
#
# The skein image: the `skein` binary on Debian bookworm-slim, run as an unprivileged user
# (uid 10001) in /workspace. It holds no workspace: the example one in this repository
# (skein.toml, database/, templates/) is left out. Build it from the repository root:
#
#   docker build -t skein .
#
# A team makes its own image by adding its workspace on top, in a Dockerfile next to its
# skein.toml. A directory is copied with its name as the target, because COPY copies a
# directory's contents, not the directory itself:
#
#   FROM skein
#   COPY skein.toml ./
#   COPY database/ database/
#   COPY templates/ templates/
#
# `docker run --rm <team image>` then runs `skein up`; pass another command as arguments
# (`docker run --rm <team image> status`). For databases on a server (PostgreSQL, MySQL,
# MariaDB) skein writes nothing to the container's filesystem, so the container can run
# with a read-only root filesystem. Only a `sqlite://` URL needs a writable path.
# "Running in Kubernetes" in the README shows the Job that runs this image.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Only what the build reads: the workspace manifests, the lock file and the crates. The
# registry, git and target caches survive between builds, so a change to one crate
# rebuilds that crate and what depends on it, not the dependencies.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p skein-migrate --bin skein \
    && install -D -m 0755 target/release/skein /out/skein

# The builder is bookworm too, so the binary finds the glibc it was linked against.
FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="skein" \
      org.opencontainers.image.description="Keeps the schemas of many databases in step" \
      org.opencontainers.image.source="https://github.com/skein-migrate/skein" \
      org.opencontainers.image.licenses="Apache-2.0"
# ca-certificates: TLS to the database servers and to the AWS and GCP secret managers.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 skein \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin skein
COPY --from=build /out/skein /usr/local/bin/skein
WORKDIR /workspace
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
ENTRYPOINT ["skein"]
CMD ["up"]
