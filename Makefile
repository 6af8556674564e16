# Vigil's entry points. `make demo` and `make test` are the README's two commands.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
STATICCHECK_VERSION := v0.8.2

.PHONY: build test lint generate demo frontend vet staticcheck clean

## build: the vigil binary in bin/ (with the UI when frontend/dist exists)
build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/vigil ./cmd/vigil

## test: every test (starts a throwaway Postgres when none answers)
test:
	scripts/test.sh

## lint: gofmt, go vet and staticcheck
lint: vet staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

staticcheck:
	@command -v staticcheck >/dev/null 2>&1 || GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	PATH="$$PATH:$$(go env GOPATH)/bin" staticcheck ./...

## generate: regenerate committed generated code; must leave no diff
generate:
	go generate ./...

## frontend: build the web UI into frontend/dist (embedded by the next `make build`)
frontend:
	@if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm run build; \
	else echo "frontend: no UI sources yet"; fi

## demo: build, start Postgres if needed, migrate, seed a demo tenant and serve on :8080
demo: frontend build
	scripts/demo.sh

clean:
	rm -rf bin .tmp
