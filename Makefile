# Thin wrapper around meson. On a fresh Debian 12 machine, as root:
#   make demo   install what is missing, build, run the dataplane on the sample
#   make test   install what is missing, build, run every test suite
#   make bench  install what is missing, build, run the benchmarks (minutes)
BUILD ?= build
MESON_OPTS ?=
TEST_ARGS ?=

.PHONY: all deps build demo test bench fuzz clean

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

# make bench: install what is missing, build, run every benchmark figure
# (several minutes): a table on stdout, the results JSON in bench/results/.
# BENCH_ARGS="--quick" for the one-minute set; see README, Benchmarks.
BENCH_ARGS ?=
bench: deps build
	$(BUILD)/bench/sluice-bench $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
