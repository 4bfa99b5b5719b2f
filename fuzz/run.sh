#!/bin/sh
# Run libFuzzer targets for a bounded time each (make fuzz). Seeds the
# corpus of every target from the test fixtures (fuzz/seeds.py), adds the
# committed corpus and regression inputs, runs each target for SECONDS,
# and prints one line per target. Crashes, leaks and timeouts are written
# to BUILD/crashes/<target>/; the exit status is 1 when any target failed.
#
# usage: fuzz/run.sh BUILD SECONDS TARGET...
set -u
BUILD=$1
SECONDS_EACH=$2
shift 2
SRC=$(cd "$(dirname "$0")/.." && pwd)
LOGS="$BUILD/fuzz-logs"
mkdir -p "$LOGS"
python3 "$SRC/fuzz/seeds.py" "$SRC" "$BUILD/corpus" "$BUILD/ctl/sluice-ctl" || exit 1

# leaks inside libconfig's parser on syntax errors are not ours
export LSAN_OPTIONS="suppressions=$SRC/tests/hardening/lsan.supp:print_suppressions=0"
status=0
for t in "$@"; do
	bin="$BUILD/fuzz/fuzz_$t"
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing (configure with CC=clang -Dfuzz=true)" >&2
		exit 1
	fi
	mkdir -p "$BUILD/corpus/$t" "$BUILD/crashes/$t"
	dirs="$BUILD/corpus/$t"
	for d in "$SRC/fuzz/corpus/$t" "$SRC/fuzz/regressions/$t"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$BUILD/crashes/$t/" $dirs \
		>"$LOGS/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$LOGS/$t.log" | tail -1)
	if [ $rc = 0 ]; then
		echo "fuzz_$t: clean, ${runs:-?} runs in $SECONDS_EACH s ($cov)"
	else
		echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} runs: see $LOGS/$t.log and $BUILD/crashes/$t/"
		grep -E "^==[0-9]+==ERROR|SUMMARY|runtime error|pools not full" "$LOGS/$t.log" | head -5
		status=1
	fi
done
exit $status
