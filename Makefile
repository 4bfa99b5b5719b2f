# Thin wrapper around meson. On a fresh Debian 12 machine, as root:
#   make demo   install what is missing, build, run the dataplane on the sample
#   make test   install what is missing, build, run every test suite, then
#               the unit, pcap, ctl and hardening suites again in a
#               sanitizer build (ASan + UBSan + LeakSanitizer)
#   make fuzz   build the libFuzzer targets (clang) and run each for
#               FUZZ_SECONDS (default 60)
#   make bench  install what is missing, build, run the benchmarks (minutes)
BUILD ?= build
MESON_OPTS ?=
TEST_ARGS ?=

.PHONY: all deps build demo test test-sanitize bench fuzz clean

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja:
	@./scripts/deps.sh
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: deps build
	@./scripts/demo.sh $(BUILD)

test: deps build
	meson test -C $(BUILD) --print-errorlogs $(TEST_ARGS)
	@$(MAKE) --no-print-directory test-sanitize

# The same code under AddressSanitizer and UndefinedBehaviorSanitizer, and
# LeakSanitizer at every process exit (leaks in libconfig's parser are
# suppressed: tests/hardening/lsan.supp). DPDK's own libraries are not
# instrumented. Slower: timeouts are tripled. See docs/hardening.md.
ASAN_BUILD ?= build-asan
SAN_SUITES ?= --suite unit --suite pcap --suite ctl --suite hardening
SAN_ENV = ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_summary=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_summary=1:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/hardening/lsan.supp:print_suppressions=0

$(ASAN_BUILD)/build.ninja:
	@./scripts/deps.sh
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

test-sanitize: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	$(SAN_ENV) meson test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier 3 \
		$(SAN_SUITES) $(TEST_ARGS)

# make fuzz: libFuzzer targets in a clang build of their own; each runs for
# FUZZ_SECONDS on a corpus seeded from the test fixtures (build-fuzz/corpus)
# and stops at the first crash, written to build-fuzz/crashes/<target>/.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= dataplane policy artefact ctlproto engine_decode engine_stream engine_app

$(FUZZ_BUILD)/build.ninja:
	@./scripts/deps.sh
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false

fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# make bench: install what is missing, build, run every benchmark figure
# (several minutes): a table on stdout, the results JSON in bench/results/.
# BENCH_ARGS="--quick" for the one-minute set; see README, Benchmarks.
BENCH_ARGS ?=
bench: deps build
	$(BUILD)/bench/sluice-bench $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
