# SPDX-License-Identifier: Apache-2.0
# Multi-stage build on Debian 12: the same packages as a bare-metal install.
#   docker build -t postern .
#   docker run -p 3000:3000 -v postern-data:/data \
#     -e ENCRYPTION_KEY=$(openssl rand -hex 32) -e SESSION_SECRET=$(openssl rand -hex 32) \
#     -e BASE_URL=https://mail-mcp.example.com postern

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config ca-certificates \
      libcaf-dev libboost1.81-dev libssl-dev liblmdb-dev rapidjson-dev \
      libetpan-dev libexpat1-dev libspdlog-dev libargon2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake --preset release -DPOSTERN_ENABLE_BENCHMARKS=OFF \
 && cmake --build --preset release \
 && strip build/release/postern

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcaf-core0.17 libssl3 liblmdb0 libetpan20 libexpat1 \
      libspdlog1.10 libfmt9 libargon2-1 libsasl2-modules \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin postern \
 && mkdir -p /data && chown postern:postern /data && chmod 700 /data
COPY --from=build /src/build/release/postern /usr/local/bin/postern
USER postern
# The TypeScript original's variables, plus DATA_DIR and BIND. Without
# ENCRYPTION_KEY / SESSION_SECRET, keys are generated into the volume.
ENV PORT=3000 \
    BIND=0.0.0.0 \
    DATA_DIR=/data \
    BASE_URL=http://localhost:3000
VOLUME ["/data"]
EXPOSE 3000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/postern"]
