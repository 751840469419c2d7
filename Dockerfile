FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p portico

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 && rm -rf /var/lib/apt/lists/*
# Portico runs as an unprivileged system user that owns only its data folder.
RUN useradd --system --home-dir /var/lib/portico --shell /usr/sbin/nologin portico \
    && mkdir -p /var/lib/portico && chown portico:portico /var/lib/portico
COPY --from=build /src/target/release/portico /usr/local/bin/portico
ENV PORTICO_DATA_DIR=/var/lib/portico
VOLUME /var/lib/portico
USER portico
EXPOSE 8080
CMD ["portico", "serve"]
