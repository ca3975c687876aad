# The otelcol-dockerlogs distribution in a FROM scratch image: `make image` (tag otelcol-dockerlogs:dev).
#
# The binary is NOT compiled in a `FROM golang` build stage. `make image` first runs `make otelcol` on the host
# (ocb, then `go build` with CGO_ENABLED=0, so the binary is static and needs no libc), then stages the build
# context in build/image/ and builds this file there:
#   otelcol-dockerlogs        bin/otelcol-dockerlogs
#   ca-certificates.crt       the host's /etc/ssl/certs/ca-certificates.crt (TLS to Loki or a tcp:// daemon)
#   config.yaml               collector-config.yaml
#   passwd, group             deploy/image/: the non-root user otelcol, uid/gid 10001
#   storage/                  an empty directory, the file_storage checkpoints, owned by 10001
# Why: the machines this project is built and tested on have no registry access, so no base image (not even
# golang) can be pulled; FROM scratch plus a host-built static binary needs none, and the same two steps work
# unchanged with Docker 20.10's classic builder and with BuildKit.
#
# Run it (the socket's group must be added: the user is not root and not in the docker group):
#   docker run -d --name otelcol-dockerlogs \
#     --group-add "$(stat -c %g /var/run/docker.sock)" --group-add 0 \
#     -v /var/run/docker.sock:/var/run/docker.sock:ro \
#     -v /var/lib/docker/containers:/var/lib/docker/containers:ro \
#     -v otelcol-dockerlogs-storage:/var/lib/otelcol-dockerlogs \
#     -e LOKI_ENDPOINT=http://loki.example:3100 \
#     otelcol-dockerlogs:dev
FROM scratch

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY passwd group /etc/
COPY otelcol-dockerlogs /otelcol-dockerlogs
COPY config.yaml /etc/otelcol-dockerlogs/config.yaml
# A named volume mounted here starts as a copy of this directory, so uid 10001 can write its checkpoints.
COPY --chown=10001:10001 storage/ /var/lib/otelcol-dockerlogs/

# Numeric, so that runtimes checking "run as non-root" (Kubernetes runAsNonRoot) can verify it without /etc/passwd.
USER 10001:10001
ENV OTELCOL_STORAGE_DIR=/var/lib/otelcol-dockerlogs
# json-file logs are read from their files when the daemon's containers directory is mounted at
# /var/lib/docker/containers (read-only, with --group-add 0: the directory is 0710 root:root), else through the API.
ENV OTELCOL_LOG_FILES=true
# Health check (13133) and the collector's own metrics (8888) listen on localhost unless OTELCOL_LISTEN_HOST=0.0.0.0.
EXPOSE 13133 8888

LABEL org.opencontainers.image.title="otelcol-dockerlogs" \
      org.opencontainers.image.description="OpenTelemetry Collector reading Docker container logs through the Docker API"

ENTRYPOINT ["/otelcol-dockerlogs"]
# The feature gate makes health_check answer from component status: 500 while the daemon is unreachable.
CMD ["--config", "/etc/otelcol-dockerlogs/config.yaml", "--feature-gates=+extension.healthcheck.useComponentStatus"]
