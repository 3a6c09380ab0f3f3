# Multi-stage image: build with Rust on Debian 12, run on a slim Debian 12 with Tesseract.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libclang-dev libtesseract-dev libleptonica-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --workspace --bins

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/sohoa --create-home sohoa
COPY --from=build /src/target/release/sohoa /src/target/release/sohoa-worker /usr/local/bin/
COPY policies /etc/sohoa/policies
WORKDIR /var/lib/sohoa
USER sohoa
ENV SOHOA_LISTEN=0.0.0.0:8080 \
    SOHOA_POLICIES_DIR=/etc/sohoa/policies \
    SOHOA_WORKER_BINARY=/usr/local/bin/sohoa-worker \
    OMP_THREAD_LIMIT=1
VOLUME /var/lib/sohoa
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sh", "-c", "sohoa init && exec sohoa serve"]
