#!/bin/bash
# Dataplane config errors: every problem as FILE:LINE in one run, exit 1,
# and a valid config with every group accepted.
# usage: test_config.sh SLUICE SOURCE_DIR
set -u
SLUICE=$1 SRC=$2
T=$(mktemp -d /tmp/sluice-cfg-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
cat > "$T/bad.cfg" <<EOF2
policy = "$SRC/samples/policy.cfg";
overload = "sometimes";
limits = { flows = 10; bogus = 3; };
records = { dir = 5; };
portz = ( [0, 1] );
EOF2
out=$("$SLUICE" --pcap "$SRC/samples/demo.pcap" --out "$T/o.pcap" --config "$T/bad.cfg" 2>&1)
rc=$?
for want in "bad.cfg:2: overload" "bad.cfg:3: flows" "bad.cfg:3: limits: unknown key 'bogus'" \
	    "bad.cfg:4: dir: expected a string" "bad.cfg:5: unknown key 'portz'"; do
	echo "$out" | grep -qF "$want" && echo "ok   $want" || { echo "FAIL missing: $want"; fail=1; }
done
[ $rc = 1 ] && echo "ok   exit status 1" || { echo "FAIL exit $rc"; fail=1; }
printf 'policy = "x.cfg";\nlimits = {\n' > "$T/syntax.cfg"
out=$("$SLUICE" --pcap "$SRC/samples/demo.pcap" --out "$T/o.pcap" --config "$T/syntax.cfg" 2>&1)
echo "$out" | grep -q "syntax.cfg:[0-9]*: " && echo "ok   syntax error with its line" || { echo "FAIL syntax: $out"; fail=1; }
cat > "$T/good.cfg" <<EOF2
policy = "$SRC/samples/policy.cfg";
ports = ( [0] );
overload = "closed";
malformed = "drop";
idle_sleep_us = 10;
records = { dir = "rec"; segment_mb = 1; segment_seconds = 60; retention_days = 200; capture = true; ring = 1024; };
timeouts = { tcp = 100; tcp_closed = 5; udp = 30; other = 10; fragment_ms = 500; evict_min_idle_ms = 0; };
limits = { flows = 1024; inspect_depth = 65536; ooo_bytes_per_flow = 4096; ooo_chunks = 1024;
           field_buffers = 16; stream_states = 2048; fragment_flows = 64; fragment_mbufs = 256;
           mbufs = 4096; rx_desc = 256; tx_desc = 256; };
EOF2
"$SLUICE" --pcap "$SRC/samples/demo.pcap" --out "$T/o.pcap" --config "$T/good.cfg" --json >"$T/out" 2>&1 \
	&& grep -q '"packets_in":107' "$T/out" && echo "ok   every setting accepted" || { echo "FAIL good config: $(cat "$T/out")"; fail=1; }
[ -d "$T/rec" ] && echo "ok   relative records dir resolved against the config" || { echo "FAIL records dir"; fail=1; }
# the policy from --policy when the config has none; neither: an error
printf 'overload = "closed";\n' > "$T/nopol.cfg"
"$SLUICE" --pcap "$SRC/samples/demo.pcap" --out "$T/o.pcap" --config "$T/nopol.cfg" \
	--policy "$SRC/samples/policy.cfg" --json >"$T/out" 2>&1 \
	&& grep -q '"packets_in":107' "$T/out" && echo "ok   --policy with a config without one" || { echo "FAIL --policy + config: $(cat "$T/out")"; fail=1; }
out=$("$SLUICE" --pcap "$SRC/samples/demo.pcap" --out "$T/o.pcap" --config "$T/nopol.cfg" 2>&1)
rc=$?
echo "$out" | grep -qF "nopol.cfg: 'policy' is required" && [ $rc = 1 ] \
	&& echo "ok   no policy anywhere: an error, exit 1" || { echo "FAIL no policy ($rc): $out"; fail=1; }
exit $fail
