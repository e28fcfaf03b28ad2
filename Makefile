# yanit: the two commands of the README are `go run ./cmd/yanit dev` and `make test`.
.PHONY: test test-go setup-postgres setup-chromium build vet

# Everything: prepare PostgreSQL + pgvector, then every test with -race on both stores.
test: setup-postgres setup-chromium test-go

setup-postgres:
	bash scripts/setup-postgres.sh

# Headless Chromium for the browser tests (the simulator's page).
setup-chromium:
	bash scripts/setup-chromium.sh

test-go:
	bash scripts/test.sh

build:
	go build -o bin/yanit ./cmd/yanit

vet:
	go vet ./...
