FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p portico

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/portico /usr/local/bin/portico
ENV PORTICO_DATA_DIR=/var/lib/portico
VOLUME /var/lib/portico
EXPOSE 8080
CMD ["portico", "serve"]
