# Lookout — the two commands of the quick start are `make run` and `make test`.
SWIFT ?= swift
# LISTEN overrides the listen address (default :10100, or what --config.file in ARGS says).
LISTEN ?=
ARGS ?=

.PHONY: run build release test bench bench-journal bench-events bench-rules function-order clean

## run: install what is missing, build (release), start `lookout serve` on the embedded defaults
run: release
	.build/release/lookout serve $(if $(LISTEN),--web.listen-address=$(LISTEN)) $(ARGS)

# The release binary carries the Swift runtime statically: one file to deploy, ~5 MiB less RSS.
# Every function gets a section of its own, so that the link can put those a running daemon calls
# together (linker/lookout.order, Package.swift); the benchmarks build with the same flags, so
# that they share the compiled modules.
RELEASE_FLAGS = -c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections
release:
	scripts/bootstrap
	$(SWIFT) build $(RELEASE_FLAGS) --product lookout

build:
	scripts/bootstrap
	$(SWIFT) build

## test: install what the tests need, build once, run every test (unit and integration)
test:
	scripts/bootstrap --test
	$(SWIFT) build --build-tests
	LOOKOUT_BINARY="$$($(SWIFT) build --show-bin-path)/lookout" $(SWIFT) test --skip-build

## bench: scrape throughput, RSS and where a scrape's time goes, against node_exporter; appends to bench/RESULTS.md
bench: release
	scripts/bootstrap --bench
	$(SWIFT) build $(RELEASE_FLAGS) --product ScrapeBenchmark
	bench/scrape.sh

## bench-journal: journal read speed against journalctl, shipping against a Python bulk shipper
bench-journal: release
	scripts/bootstrap --bench
	bench/journal.sh

## bench-events: pipeline-event ingest, batched and single, with durability on
bench-events: release
	scripts/bootstrap --bench
	bench/events.sh

## bench-rules: one rule-evaluation round and the history's memory on a busy host
bench-rules: release
	$(SWIFT) build $(RELEASE_FLAGS) --product RulesBenchmark
	bench/rules.sh

## function-order: list the functions a running daemon executes (linker/lookout.order) and relink the release with it
function-order: release
	scripts/bootstrap --bench
	scripts/function-order
	$(SWIFT) build $(RELEASE_FLAGS) --product lookout

clean:
	rm -rf .build
