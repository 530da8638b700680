# purchase-predict as a SageMaker container: SageMaker starts it as `<image> train` for a
# training job and `<image> serve` for an endpoint; both are this binary's subcommands (the
# contract: src/cloud/sagemaker/container.rs). Build, push to ECR and use it: README,
# "Our own container".
#
#   docker build -t purchase-predict:0.1.0 .
#
# The binary is built without the `sagemaker` feature: inside the container nothing calls AWS.
ARG RUST_IMAGE=docker.io/library/rust:1.85-slim-bookworm
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim
# Where the binary comes from: the `build` stage below, or an image holding a binary built
# outside (/purchase-predict), as scripts/container.sh does where no registry is reachable.
ARG BINARY_FROM=build

FROM ${RUST_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libxgboost-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY data/fonts ./data/fonts
RUN cargo build --release --locked --no-default-features --features cli --bin purchase-predict \
 && cp target/release/purchase-predict /purchase-predict

FROM ${BINARY_FROM} AS binary

# Debian 12's libxgboost0 is XGBoost 1.7.4, the version of SageMaker's xgboost:1.7-1 image.
FROM ${BASE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libxgboost0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=binary /purchase-predict /usr/local/bin/purchase-predict
# SageMaker sends requests to port 8080 (or SAGEMAKER_BIND_TO_PORT) and lays out /opt/ml.
EXPOSE 8080
WORKDIR /opt/ml
ENTRYPOINT ["/usr/local/bin/purchase-predict"]
