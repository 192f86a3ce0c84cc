# Quell in containers: `quell api`, `quell worker`, `quell monitor` from one image.
# Used by docker-compose.yml (see README "Run it with Docker Compose");
# `docker build -t quell .` works on its own too.

# --- build: the same release build as scripts/lib.sh's quell_release_build
# (Swift runtime linked statically, with lld), Debian 12 like the runtime below.
FROM swift:6.3-bookworm AS build
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libhiredis-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# SwiftPM checks every target's directory, test targets included, so Tests/ comes too.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld \
        --scratch-path .build-release --product quell \
    && install -D -m 0755 .build-release/release/quell /out/quell

# --- runtime: glibc, libstdc++ and hiredis 0.14; nothing else.
FROM debian:bookworm-slim AS runtime
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libhiredis0.14 libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin quell
COPY --from=build /out/quell /usr/local/bin/quell
USER quell
# The API listens on all interfaces inside the container (QUELL_HOST, default 127.0.0.1 outside one).
ENV QUELL_HOST=0.0.0.0
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/quell"]
CMD ["--help"]
