# Every target uses the module proxy alone: "direct" cannot reach source hosts here.
export GOPROXY := $(shell go env GOPROXY | cut -d, -f1)
export CGO_ENABLED ?= 1

GO_PACKAGES := ./...

.PHONY: build test unit lint

## build: compile every package of the module.
build:
	go build $(GO_PACKAGES)

## test: the whole test suite against a real Docker engine (started here when none answers).
test: lint
	scripts/with-docker.sh go test -race -count=1 -timeout 30m $(GO_PACKAGES)

## unit: the tests that need no Docker engine (integration tests skip without one).
unit:
	go test -race -count=1 -short $(GO_PACKAGES)

## lint: formatting and vet.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet $(GO_PACKAGES)
