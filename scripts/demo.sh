#!/bin/sh
# make demo: check the sample policy, run the dataplane over the sample
# capture, then verify the evidence records and print a report.
set -eu
BUILD=${1:-build}
CTL=$BUILD/ctl/sluice-ctl
OUT=$BUILD/demo
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== sluice-ctl check / test samples/policy.cfg"
"$CTL" check samples/policy.cfg
"$CTL" test samples/policy.cfg
echo
echo "== sluice --pcap samples/demo.pcap (dataplane, offline mode)"
"$BUILD/dataplane/sluice" --pcap samples/demo.pcap --out "$OUT/out.pcap" \
	--policy samples/policy.cfg --records "$OUT/records"
echo
echo "== sluice-ctl records verify / tail"
"$CTL" records verify "$OUT/records"
"$CTL" records tail "$OUT/records" -n 4
echo
echo "== sluice-ctl report (subscriber addresses pseudonymised)"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$OUT/pseudonym.key"
"$CTL" report "$OUT/records" --key-file "$OUT/pseudonym.key" --format csv
echo
echo "demo output in $OUT/: out.pcap (forwarded + injected packets), records/"
