# Every target uses the module proxy alone: "direct" cannot reach source hosts here.
export GOPROXY := $(shell go env GOPROXY | cut -d, -f1)
export CGO_ENABLED ?= 1

GO_PACKAGES := ./...

.PHONY: build test unit lint load load-reopen load-pipeline load-files hostile shortlived

## build: compile every package of the module.
build:
	go build $(GO_PACKAGES)

## test: the whole test suite against a real Docker engine (started here when none answers), and the alert rules; one package at a time, since the end-to-end and receiver tests each load the 2 cores and the engine.
test: lint rules
	scripts/with-docker.sh go test -p 1 -race -count=1 -timeout 60m $(GO_PACKAGES)

## unit: the tests that need no Docker engine (integration tests skip without one).
unit:
	go test -race -count=1 -short $(GO_PACKAGES)

## load: the receiver's throughput on 1,000,000 lines against a raw API read, and 60 containers on 50 streams for 2 minutes (prints figures).
load:
	DOCKERLOGS_LOAD=1 scripts/with-docker.sh go test -count=1 -v -run 'TestLoad' -timeout 30m ./receiver/dockerlogsreceiver/

## load-reopen: what one reopen costs the daemon on a container with 1,000,000 lines of history (prints figures).
load-reopen:
	DOCKERLOGS_LOAD=1 scripts/with-docker.sh go test -count=1 -v -run TestReopenCost -timeout 30m ./receiver/dockerlogsreceiver/internal/docker/

## load-pipeline: bin/otelcol-dockerlogs on 1,000,000 lines of history under each pipeline design (before, durable, wait_for_result), into a counting OTLP sink (prints figures).
load-pipeline:
	DOCKERLOGS_LOAD=1 scripts/with-docker.sh go test -count=1 -v -run TestLoadPipelines -timeout 60m ./e2e/

## shortlived: 20 --rm containers writing 200 lines to each output and exiting at once, 10 at a time, 5 rounds: each container whole or counted as removed_unread; prints the fraction of lines delivered.
shortlived:
	DOCKERLOGS_SHORTLIVED=1 scripts/with-docker.sh go test -race -count=5 -v -run 'TestShortLivedContainersReadWholeOrCounted$$' -timeout 30m ./receiver/dockerlogsreceiver/

## load-files: host CPU per line (collector + dockerd) reading 1,000,000 lines of history through the API and from the json-file files (prints figures).
load-files:
	DOCKERLOGS_LOAD=1 scripts/with-docker.sh go test -count=1 -v -run TestLoadLogFilesHostCPU -timeout 60m ./receiver/dockerlogsreceiver/

## hostile: TestHostileContainers (e2e/hostile_test.go), every variant (make test leaves out those still open), with a random seed, printed first (HOSTILE_SEED=... runs one again), and HOSTILE_ITEMS numbered lines per container (default 200; make test runs a fixed seed with 40).
ifeq ($(origin HOSTILE_SEED), undefined)
HOSTILE_SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif
HOSTILE_ITEMS ?= 200
hostile:
	@echo "hostile: HOSTILE_SEED=$(HOSTILE_SEED) HOSTILE_ITEMS=$(HOSTILE_ITEMS)"
	HOSTILE_ALL=1 HOSTILE_SEED=$(HOSTILE_SEED) HOSTILE_ITEMS=$(HOSTILE_ITEMS) scripts/with-docker.sh go test -race -count=1 -v -run TestHostileContainers -timeout 90m ./e2e/

## lint: formatting, a tidy go.mod and go.sum, and vet.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	@# -diff prints what tidy would change as a unified diff and fails, without touching the files.
	@go mod tidy -diff || { echo "go.mod/go.sum are not tidy: the diff above is what 'go mod tidy' would change; run it and commit the result"; exit 1; }
	go vet $(GO_PACKAGES)

# ---------------------------------------------------------------------------------------------------------------
# Alert rules of the docker_logs receiver (alerts/): promtool validates them and runs their unit tests.
# scripts/promtool.sh uses promtool from PATH, else extracts it from Debian's prometheus package into .cache/tools;
# without either it skips on a developer machine and fails under CI=true.

.PHONY: rules

## rules: promtool check rules and promtool test rules on alerts/ (each alert firing and not firing).
rules:
	scripts/promtool.sh check rules alerts/docker-logs.rules.yml
	cd alerts && ../scripts/promtool.sh test rules docker-logs.rules.test.yml

# ---------------------------------------------------------------------------------------------------------------
# The distribution: ocb build, container image, local run.

OCB_VERSION := v0.165.0
# ocb is installed per version under .cache (gitignored), so a builder of another release in PATH is never used.
OCB_DIR := $(CURDIR)/.cache/tools/ocb-$(OCB_VERSION)
OCB := $(OCB_DIR)/builder
DIST := otelcol-dockerlogs
DIST_SRC := build/$(DIST)
DIST_BIN := bin/$(DIST)
IMAGE ?= otelcol-dockerlogs:dev

.PHONY: otelcol image run ocb victoria-logs

## ocb: install the OpenTelemetry Collector Builder $(OCB_VERSION) when missing.
ocb: $(OCB)
$(OCB):
	GOBIN=$(OCB_DIR) go install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

## otelcol: generate the distribution with ocb into build/ and compile it statically to bin/otelcol-dockerlogs.
# Always runs: go build is incremental, so an unchanged tree costs seconds and a changed receiver is never missed.
otelcol: $(OCB)
	@mkdir -p $(DIST_SRC) bin
	$(OCB) --config builder-config.yaml --skip-compilation
	cd $(DIST_SRC) && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o $(CURDIR)/$(DIST_BIN) .

## image: the distribution in a FROM scratch image $(IMAGE), built from bin/otelcol-dockerlogs (see Dockerfile).
# The context is staged in build/image: only what the image holds is sent to the engine.
IMAGE_CTX := build/image
CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt
image: otelcol
	@test -r $(CA_CERTS) || { echo "$(CA_CERTS) is missing: install ca-certificates or set CA_CERTS"; exit 1; }
	rm -rf $(IMAGE_CTX) && mkdir -p $(IMAGE_CTX)/storage
	cp $(DIST_BIN) $(CA_CERTS) deploy/image/passwd deploy/image/group $(IMAGE_CTX)/
	cp collector-config.yaml $(IMAGE_CTX)/config.yaml
	scripts/with-docker.sh docker build -q -t $(IMAGE) -f Dockerfile $(IMAGE_CTX)

## run: the distribution with collector-config.yaml against the local engine (a private dockerd and a demo container when none), next to a log store with a web UI (VictoriaLogs, unless LOKI_ENDPOINT is set) and Prometheus with the alert rules; prints their addresses, and stops them all on Ctrl-C.
run: otelcol $(if $(LOKI_ENDPOINT),,victoria-logs)
	VLOGS_BIN=$(VLOGS) scripts/with-docker.sh scripts/run-local.sh

## victoria-logs: install the VictoriaLogs log store that make run and the end-to-end tests (e2e/) ship logs to, when missing.
VLOGS_VERSION := v1.52.1
VLOGS := $(CURDIR)/.cache/tools/victoria-logs-$(VLOGS_VERSION)/victoria-logs
victoria-logs: $(VLOGS)
$(VLOGS):
	GOBIN=$(dir $(VLOGS)) go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$(VLOGS_VERSION)

# ---------------------------------------------------------------------------------------------------------------
# Benchmarks (bench/): the distribution against the real engine, and the Go micro-benchmarks of the hot path.

.PHONY: bench
BENCH_RUN ?= Test
BENCH_ARGS ?=

## bench: B1 throughput, B3 reopen/restart cost, B4 many containers, B5 soak, B6 many hosts and the micro-benchmarks; prints figures, asserts no speed, rewrites docs/benchmarks.md (BENCH_RUN=TestB4 for one, BENCH_ARGS='-b4-containers=60' for flags).
bench: otelcol
	DOCKERLOGS_BENCH=1 scripts/with-docker.sh go test -count=1 -v -timeout 180m -run '$(BENCH_RUN)' ./bench/ -args $(BENCH_ARGS)
