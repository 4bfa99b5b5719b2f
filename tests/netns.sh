# Shared by the shell tests that build network namespaces around sluice
# (tests/e2e/e2e.sh, tests/hardening/test_link.sh): reporting, polling,
# the skip checks and the teardown. Sourced, not run.
#
# A test sets FAIL=0, calls need_netns TOOL..., and in its cleanup calls
# netns_teardown with its namespaces and host-side links.

skip() { echo "SKIP: $*"; exit 77; }
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; FAIL=1; }

# wait_for SECONDS CMD...: poll every 0.1 s until CMD succeeds
wait_for() {
	local n=$(( $1 * 10 )); shift
	while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}

# need_netns TOOL...: skip (exit 77) unless root, the tools, and network
# namespaces that can actually be made here
need_netns() {
	local t
	[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
	for t in ip "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "needs $t"
	done
	ip netns add "sl-probe-$$" 2>/dev/null || skip "cannot create network namespaces here"
	ip netns del "sl-probe-$$"
}

# netns_teardown "NS..." "LINK...": kill what still runs in the namespaces,
# delete them and the host-side links (missing ones are fine)
netns_teardown() {
	local n l
	for n in $1; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	for l in $2; do
		ip link del "$l" 2>/dev/null
	done
}
