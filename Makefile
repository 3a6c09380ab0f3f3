# Two commands: `make run` serves on 127.0.0.1:8080, `make test` runs every test tier.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo

.PHONY: run test deps test-deps build lint bench

deps:
	@scripts/install-deps.sh

# pyHanko in a virtual environment, for the signing interoperability tests (tests/sign.rs).
test-deps: deps
	@scripts/install-test-tools.sh

build: deps
	$(CARGO) build --release --workspace --bins

run: build
	./target/release/sohoa init
	exec ./target/release/sohoa serve

# Unit tests (in src/), integration tests (tests/api.rs, tests/index.rs: the app on port 0
# with a real SQLite file, archive and worker binary) and end-to-end tests (tests/e2e.rs:
# the built binaries as an operator runs them).
test: deps test-deps lint
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: deps
	scripts/bench-intake.sh
	scripts/bench-ocr.sh
	scripts/bench-sign.sh
