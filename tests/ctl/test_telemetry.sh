#!/bin/bash
# Live mode on net_null ports: the /sluice/... telemetry endpoints answer
# dpdk-telemetry.py, and the control socket serves status.
# usage: test_telemetry.sh SLUICE SLUICE_CTL SOURCE_DIR
set -u
SLUICE=$1 CTL=$2 SRC=$3
command -v dpdk-telemetry.py >/dev/null || { echo "SKIP: dpdk-telemetry.py (dpdk-dev) missing"; exit 77; }
T=$(mktemp -d /tmp/sluice-tel-XXXXXX)
PREFIX=sltel$$
cat > "$T/s.cfg" <<EOF2
policy = "$SRC/samples/policy.cfg";
ports = ( [0, 1] );
control = { socket = "$T/s.sock"; };
idle_sleep_us = 100;
limits = { flows = 4096; mbufs = 8191; };
EOF2
"$SLUICE" --lcores "0@(0-$(($(nproc)-1))),1@(0-$(($(nproc)-1)))" --no-huge --no-pci -m 512 \
	--file-prefix "$PREFIX" --log-level='*:warning' --vdev net_null0 --vdev net_null1 \
	-- --config "$T/s.cfg" >"$T/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T" /var/run/dpdk/$PREFIX' EXIT
for _ in $(seq 100); do grep -q running "$T/log" && break; sleep 0.1; done
fail=0
out=$(echo /sluice/stats | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>&1)
echo "$out" | grep -q '"rx_pkts": [1-9]' && echo "ok   /sluice/stats counts packets" || { echo "FAIL /sluice/stats: $out"; fail=1; }
echo "$out" | grep -q '"verdict_block_page"' && echo "ok   every action has a counter" || { echo "FAIL verdict_block_page missing"; fail=1; }
out=$(echo /sluice/policy | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>&1)
echo "$out" | grep -q '"name": "sluice-demo"' && echo "ok   /sluice/policy" || { echo "FAIL /sluice/policy: $out"; fail=1; }
out=$(echo /sluice/rules | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>&1)
echo "$out" | grep -q '"1001"' && echo "ok   /sluice/rules" || { echo "FAIL /sluice/rules: $out"; fail=1; }
"$CTL" --socket "$T/s.sock" status | grep -q "live mode" && echo "ok   status over the control socket" || { echo "FAIL status"; fail=1; }
kill -INT $PID; wait $PID; rc=$?
[ $rc = 0 ] && echo "ok   clean stop on SIGINT" || { echo "FAIL exit $rc"; cat "$T/log"; fail=1; }
exit $fail
