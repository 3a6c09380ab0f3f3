# Two commands: `make run` serves on 127.0.0.1:8080, `make test` runs every test tier.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo

.PHONY: run test soak deps test-deps test-garage test-postgres build lint bench

deps:
	@scripts/install-deps.sh

# pyHanko in a virtual environment, for the signing interoperability tests (tests/sign.rs).
test-deps: deps
	@scripts/install-test-tools.sh

# Garage, the S3 server the archive tests run against (tests/archive/garage.rs): built from
# crates.io once (about 12 minutes), then a single node with two buckets started in
# $(GARAGE_DIR); its settings, as `export` lines, are in $(GARAGE_DIR)/env.
GARAGE_DIR ?= $(or $(TMPDIR),/tmp)/sohoa-garage
test-garage:
	@scripts/install-garage.sh
	@scripts/garage-start.sh $(GARAGE_DIR) >/dev/null

# Debian's PostgreSQL cluster started, and a role the tests make their databases with
# (tests/common/postgres.rs); its URL, as an `export` line, is in $(POSTGRES_DIR)/env.
POSTGRES_DIR ?= $(or $(TMPDIR),/tmp)/sohoa-postgres
test-postgres: deps
	@scripts/postgres-start.sh $(POSTGRES_DIR) >/dev/null

build: deps
	$(CARGO) build --release --workspace --bins

run: build
	./target/release/sohoa init
	exec ./target/release/sohoa serve

# Unit tests (in src/), integration tests (tests/api.rs, tests/index.rs: the app on port 0
# with a real SQLite file, archive and worker binary) and end-to-end tests (tests/e2e.rs:
# the built binaries as an operator runs them). The archive suite (tests/archive.rs) runs
# against file:// and against the Garage that test-garage starts; Garage is stopped after.
# The index suite (tests/index.rs) runs on SQLite and PostgreSQL; the API tests run a
# second time with the app's index on PostgreSQL.
test: deps test-deps lint test-garage test-postgres
	$(CARGO) build --workspace --bins
	source $(GARAGE_DIR)/env && source $(POSTGRES_DIR)/env && $(CARGO) test --workspace --no-fail-fast; status=$$?; \
	  SOHOA_TEST_INDEX=postgres $(CARGO) test -p sohoa --no-fail-fast --test api --test e2e --test faults || status=1; \
	  scripts/garage-stop.sh --purge $(GARAGE_DIR); exit $$status

# The fault trials at full size: 100 worker kills during OCR, 1,000 uploads with serve
# killed five times; each prints its figures (trials, lost, duplicated, sealed once,
# orphans, leftovers, time); 1,000 uploads over two replicas on a PostgreSQL and a Garage of
# the test's own, with three rounds of replica, worker, PostgreSQL and Garage faults; then
# a 10,000-document import killed twice with its memory sampled;
# the held-out orientation run and the OCR conformance run over
# every OCRmyPDF test resource (a table of both tools' exits, times, sizes and word F1).
soak: deps test-deps
	$(CARGO) build --workspace --bins
	SOHOA_FAULT_WORKER_KILLS=$${SOHOA_FAULT_WORKER_KILLS:-100} SOHOA_FAULT_UPLOADS=$${SOHOA_FAULT_UPLOADS:-1000} \
	  SOHOA_FAULT_SERVE_KILLS=$${SOHOA_FAULT_SERVE_KILLS:-5} $(CARGO) test --test faults -- --test-threads=1 --nocapture
	SOHOA_FAULT_UPLOADS=$${SOHOA_FAULT_UPLOADS:-1000} SOHOA_FAULT_ROUNDS=$${SOHOA_FAULT_ROUNDS:-3} SOHOA_FAULT_PACE=$${SOHOA_FAULT_PACE:-8} \
	  $(CARGO) test --test faults_distributed -- --nocapture
	scripts/soak-import.sh $${SOHOA_SOAK_IMPORT:-10000}
	scripts/soak-orientation.sh
	SOHOA_OCRMYPDF_FULL=1 $(CARGO) test -p sohoa-worker --test ocrmypdf every_resource -- --nocapture

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: deps
	scripts/bench-intake.sh
	scripts/bench-archive-memory.sh
	scripts/bench-records.sh
	scripts/bench-pipeline.sh
	scripts/bench-ocr.sh
	scripts/bench-heldout.sh
	scripts/bench-classify.sh
	scripts/bench-sign.sh
