#!/bin/bash
# The dataplane unchanged on virtio: dpdk-testpmd replays the sample capture
# into a vhost-user port; sluice (live mode) runs on the virtio-user end,
# hairpinned, and testpmd writes what comes back to a capture. That capture
# must hold exactly the frames offline mode produces (forwarded + injected,
# in order).
# usage: virtio.sh SLUICE SOURCE_DIR  (sluice-ctl is found beside sluice)
set -u
SLUICE=$(readlink -f "$1")
SRC=$(readlink -f "$2")
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd (dpdk-dev) missing"; exit 77; }
T=$(mktemp -d /tmp/sluice-virtio-XXXXXX)
ID=$$
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf /var/run/dpdk/slvA$ID /var/run/dpdk/slvB$ID
	[ "${KEEP:-0}" = 1 ] && echo "(kept $T)" || rm -rf "$T"
}
trap cleanup EXIT
poll() { # poll SECONDS CMD...
	local n=$(( $1 * 20 )); shift
	while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; n=$((n - 1)); done
	return 1
}
LC="0@(0-$(($(nproc)-1))),1@(0-$(($(nproc)-1)))"
cat > "$T/s.cfg" <<EOF2
policy = "$SRC/samples/policy.cfg";
ports = ( [0] );
control = { socket = "$T/s.sock"; };
idle_sleep_us = 20;
limits = { flows = 4096; mbufs = 8191; };
EOF2
"$SLUICE" --lcores "$LC" --no-huge --no-pci -m 512 --file-prefix slvB$ID --log-level='*:warning' \
	--vdev "net_virtio_user0,path=$T/v.sock,server=1,queues=1" -- --config "$T/s.cfg" \
	>"$T/sluice.log" 2>&1 &
SPID=$!
PIDS="$PIDS $SPID"
# the virtio-user port listens (server=1) and waits for the vhost end
poll 20 test -S "$T/v.sock" || { echo "FAIL: sluice did not start"; cat "$T/sluice.log"; KEEP=1; exit 1; }
mkfifo "$T/cmd"
exec 3<>"$T/cmd"
dpdk-testpmd --lcores "$LC" --no-huge --no-pci -m 512 --file-prefix slvA$ID --log-level='*:warning' \
	--vdev "net_pcap0,rx_pcap=$SRC/samples/demo.pcap,tx_pcap=$T/out.pcap" \
	--vdev "net_vhost0,iface=$T/v.sock,client=1,queues=1" \
	-- -i --no-flush-rx --total-num-mbufs=8192 --port-topology=paired <&3 >"$T/testpmd.log" 2>&1 &
PIDS="$PIDS $!"
CTL=$(dirname "$SLUICE")/../ctl/sluice-ctl
poll 30 test -S "$T/s.sock" || { echo "FAIL: sluice did not start"; cat "$T/sluice.log"; KEEP=1; exit 1; }
link_up() { "$CTL" --socket "$T/s.sock" status | grep -q "link up"; }
poll 30 link_up || { echo "FAIL: virtio link never came up"; KEEP=1; exit 1; }
echo start >&3
rx_all() { "$CTL" --socket "$T/s.sock" --json stats | grep -q '"rx_pkts": 107'; }
poll 30 rx_all || { echo "FAIL: sluice did not receive the 107 frames"; "$CTL" --socket "$T/s.sock" stats; KEEP=1; exit 1; }
# testpmd forwards what sluice sends back to the capture: wait until it has all of it
back_all() { echo "show port stats 1" >&3; grep -q "RX-packets: 82 " "$T/testpmd.log"; }
poll 30 back_all || true
echo stop >&3
echo quit >&3
poll 30 bash -c "! kill -0 $(echo $PIDS | awk '{print $2}') 2>/dev/null"
# the vhost end is gone: sluice must see it, still run, and stop cleanly
poll 10 grep -q "link down" "$T/sluice.log" || { echo "FAIL: sluice did not see its vhost peer go"; KEEP=1; exit 1; }
kill -0 $SPID 2>/dev/null || { echo "FAIL: sluice died when its vhost peer went away"; cat "$T/sluice.log"; KEEP=1; exit 1; }
kill -INT $SPID
wait $SPID
src=$?
[ $src = 0 ] || { echo "FAIL: sluice exited with $src on SIGINT after its vhost peer had gone"; grep -v '^ *[0-9]*: ' "$T/sluice.log" | tail -5; KEEP=1; exit 1; }
grep -q "sluice: stopped" "$T/sluice.log" || { echo "FAIL: sluice did not report a clean stop"; KEEP=1; exit 1; }
echo "ok   sluice outlived its vhost peer and stopped cleanly (exit 0)"
# the same capture through offline mode
"$SLUICE" --pcap "$SRC/samples/demo.pcap" --out "$T/offline.pcap" --policy "$SRC/samples/policy.cfg" \
	--json >/dev/null 2>&1 || { echo "FAIL: offline run"; exit 1; }
python3 - "$T/out.pcap" "$T/offline.pcap" <<'PY'
import struct, sys
def frames(p):
    out = []
    with open(p, "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return out
            n = struct.unpack("<IIII", h)[2]
            out.append(f.read(n))
v, o = frames(sys.argv[1]), frames(sys.argv[2])
print(f"virtio path: {len(v)} frames, offline mode: {len(o)} frames")
if v != o:
    for i, (a, b) in enumerate(zip(v, o)):
        if a != b:
            print(f"FAIL: frame {i} differs")
            break
    sys.exit(1)
print("ok   identical frames, in the same order (forwarded and injected)")
PY
rc=$?
[ $rc = 0 ] && echo PASS || KEEP=1
exit $rc
