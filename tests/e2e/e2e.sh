#!/bin/bash
# End-to-end test: a client namespace and a server namespace joined only
# through the sluice dataplane (veth pairs, net_af_packet on the outer ends).
# Real servers (python http.server, openssl s_server, a DNS responder) and
# real clients (curl, dig). Allowed requests must succeed; blocked ones get
# the 403 page, a reset or NXDOMAIN, never reach the server, and are
# recorded. Skips (exit 77) without root or tools; cleans up after itself.
#
# usage: e2e.sh SLUICE SLUICE_CTL SOURCE_DIR
set -u
SLUICE=$(readlink -f "$1")
CTL=$(readlink -f "$2")
SRC=$(readlink -f "$3")
. "$(dirname "$(readlink -f "$0")")/../netns.sh"
need_netns curl dig openssl ethtool python3 ping

ID=$$
NC=slc$ID
NS=sls$ID
T=$(mktemp -d /tmp/sluice-e2e-XXXXXX)
PIDS=""
FAIL=0

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	netns_teardown "$NC $NS" "vc$ID vs$ID"
	if [ "$FAIL" = 0 ]; then rm -rf "$T"; else echo "(kept $T)"; fi
}
trap cleanup EXIT

inc() { ip netns exec "$NC" "$@"; }
ins() { ip netns exec "$NS" "$@"; }

# ---- network: client 192.0.2.10 | sluice | server 192.0.2.20 (one L2 segment)
ip netns add "$NC" && ip netns add "$NS" || { bad "netns"; exit 1; }
ip link add "vc$ID" type veth peer name "ci$ID"
ip link add "vs$ID" type veth peer name "si$ID"
ip link set "ci$ID" netns "$NC"
ip link set "si$ID" netns "$NS"
for d in "vc$ID" "vs$ID"; do
	ip link set "$d" up
	ethtool -K "$d" tx off tso off gso off gro off >/dev/null 2>&1
done
inc ip link set lo up
ins ip link set lo up
inc ip addr add 192.0.2.10/24 dev "ci$ID"
ins ip addr add 192.0.2.20/24 dev "si$ID"
ins ip addr add 192.0.2.21/24 dev "si$ID"   # a blocked address (rule 6)
inc ip -6 addr add 2001:db8:1::10/64 dev "ci$ID" nodad
ins ip -6 addr add 2001:db8:1::20/64 dev "si$ID" nodad
inc ip link set "ci$ID" up
ins ip link set "si$ID" up
# partial checksums would reach the far side unfinished: offloads off
inc ethtool -K "ci$ID" tx off tso off gso off >/dev/null 2>&1
ins ethtool -K "si$ID" tx off tso off gso off >/dev/null 2>&1

# ---- servers
mkdir -p "$T/www/verify"
echo "hello allowed" > "$T/www/index.html"
echo "secret page" > "$T/www/secret"
printf '%s\n' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$T/www/eicar.txt"
(cd "$T/www" && exec ip netns exec "$NS" python3 -m http.server 80 --bind :: \
	>"$T/http.log" 2>&1) &
PIDS="$PIDS $!"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=www.example -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
ip netns exec "$NS" openssl s_server -accept 443 -cert "$T/cert.pem" -key "$T/key.pem" -www -quiet \
	>"$T/tls.log" 2>&1 &
PIDS="$PIDS $!"
ip netns exec "$NS" python3 "$SRC/tests/e2e/dnsd.py" --listen 192.0.2.20 --answer 192.0.2.20 >"$T/dns.log" 2>&1 &
PIDS="$PIDS $!"
# a UDP sink: one line per datagram received (length, first 8 bytes)
ip netns exec "$NS" python3 -u -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("2001:db8:1::20", 7777))
while True:
    d, a = s.recvfrom(65535)
    print(len(d), d[:8].decode("ascii", "replace"))' >"$T/udp.log" 2>&1 &
PIDS="$PIDS $!"

# ---- policy and dataplane
cat > "$T/policy.cfg" <<'EOF'
policy = { name = "e2e"; revision = "1"; };
rules = (
  { id = 1; name = "blocked web site"; basis = "CSL Art.47"; action = "block-page";
    match = { domain = [ "blocked.example" ]; }; },
  { id = 2; name = "phishing over TLS"; basis = "CSL Art.47"; action = "reset";
    match = { domain = [ ".phish.test" ]; }; },
  { id = 3; name = "malware domains"; basis = "CSL Art.47"; action = "reset";
    match = { domain = [ ".malware.test" ]; }; },
  { id = 4; name = "EICAR"; basis = "CSL Art.47"; action = "drop";
    match = { payload = [ "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" ]; }; },
  { id = 5; name = "watched site"; basis = "CSL Art.47"; action = "log";
    match = { domain = [ "www.example" ]; }; },
  { id = 6; name = "blocked host"; basis = "CSL Art.47"; action = "drop";
    match = { ip = [ "192.0.2.21" ]; }; }
);
EOF
cat > "$T/sluice.cfg" <<EOF
policy = "policy.cfg";
ports = ( [0, 1] );
records = { dir = "$T/records"; ring = 64; };   # small: events reuse their slots soon
control = { socket = "$T/sluice.sock"; };
idle_sleep_us = 20;
limits = { flows = 4096; mbufs = 8191; };
EOF
NCPU=$(nproc)
"$SLUICE" --no-huge --no-pci --no-shconf -m 512 --lcores "0@(0-$((NCPU-1))),1@(0-$((NCPU-1)))" \
	--log-level='*:warning' \
	--vdev "net_af_packet0,iface=vc$ID" --vdev "net_af_packet1,iface=vs$ID" \
	-- --config "$T/sluice.cfg" >"$T/sluice.log" 2>&1 &
SPID=$!
PIDS="$PIDS $SPID"
wait_for 20 grep -q "running" "$T/sluice.log" || { cat "$T/sluice.log"; bad "sluice did not start"; exit 1; }
wait_for 10 inc ping -c1 -W1 192.0.2.20 || bad "no connectivity through sluice"
wait_for 10 inc curl -s -o /dev/null --max-time 2 http://192.0.2.20/ || bad "http server not reachable"
wait_for 10 ins bash -c "exec 3<>/dev/tcp/192.0.2.20/443" || bad "tls server not up"

# ---- allowed traffic
out=$(inc curl -s --max-time 5 --resolve www.example:80:192.0.2.20 http://www.example/)
[ "$out" = "hello allowed" ] && ok "allowed HTTP request succeeds (and is logged)" || bad "allowed HTTP: '$out'"
out=$(inc curl -sk --max-time 5 --resolve www.example:443:192.0.2.20 https://www.example/)
case "$out" in *"s_server"*|*"Ciphers"*|*"HTTP"*) ok "allowed HTTPS request with SNI succeeds";;
	*) bad "allowed HTTPS: '$(echo "$out" | head -c 200)'";; esac
enc=$("$CTL" --socket "$T/sluice.sock" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["encrypted_bytes"])')
[ "${enc:-0}" -gt 0 ] && ok "HTTPS: the TLS application data is passed by, not scanned ($enc bytes)" \
	|| bad "encrypted_bytes after HTTPS: '$enc'"
out=$(inc dig +time=2 +tries=1 @192.0.2.20 ok.example A +short)
[ "$out" = "192.0.2.20" ] && ok "allowed DNS query answered" || bad "allowed DNS: '$out'"
out=$(inc curl -s --max-time 5 -g "http://[2001:db8:1::20]/")
[ "$out" = "hello allowed" ] && ok "allowed HTTP over IPv6" || bad "IPv6 HTTP: '$out'"

# ---- blocked traffic
code=$(inc curl -s -o "$T/page" -w '%{http_code}' --max-time 5 \
	--resolve blocked.example:80:192.0.2.20 http://blocked.example/secret)
if [ "$code" = 403 ] && grep -q "CSL Art.47" "$T/page"; then ok "blocked site gets the 403 block page naming the basis"
else bad "block page: code $code, page: $(head -c 300 "$T/page")"; fi
grep -q "GET /secret" "$T/http.log" && bad "blocked request reached the server" || ok "blocked request never reached the server"

inc curl -sk --max-time 5 --resolve login.phish.test:443:192.0.2.20 https://login.phish.test/ >/dev/null 2>"$T/curl-tls.err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 28 ]; then ok "TLS to a blocked SNI is reset (curl exit $rc)"
else bad "TLS reset: curl exit $rc"; fi

out=$(inc dig +time=2 +tries=1 @192.0.2.20 dl.malware.test A)
echo "$out" | grep -q "status: NXDOMAIN" && ok "DNS query for a blocked domain gets NXDOMAIN" || bad "DNS NXDOMAIN: $out"
out=$(inc dig +tcp +time=2 +tries=1 @192.0.2.20 x.malware.test A)
echo "$out" | grep -q "status: NXDOMAIN" && ok "DNS over TCP for a blocked domain gets NXDOMAIN" || bad "DNS/TCP NXDOMAIN: $out"

inc curl -s --max-time 4 -o "$T/eicar.out" --resolve files.example:80:192.0.2.20 http://files.example/eicar.txt
rc=$?
if [ $rc -ne 0 ] && ! grep -q "EICAR-STANDARD" "$T/eicar.out" 2>/dev/null; then
	ok "download carrying the EICAR string is stopped (curl exit $rc, content never arrived)"
else bad "EICAR drop: curl exit $rc, got: $(head -c 200 "$T/eicar.out")"; fi

# a 15 KB UDP datagram leaves the client in 11 IPv6 fragments, more than
# rte_ip_frag holds: still reassembled and inspected. (IPv6: net_af_packet
# has the kernel reassemble IPv4 before it hands packets over, see README)
udp_send() {
	inc python3 -c 'import socket, sys
socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(
    sys.argv[1].encode() + b"." * 15000 + sys.argv[2].encode(), ("2001:db8:1::20", 7777))' "$1" "$2"
}
udp_send CLEAN-01 "nothing to see"
wait_for 5 grep -q CLEAN-01 "$T/udp.log" && ok "a UDP datagram in 11 fragments passes whole" \
	|| bad "the clean 11-fragment datagram did not arrive: $(cat "$T/udp.log")"
udp_send EICAR-01 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
# a clean one after it, on the same path: once it is in, so would the other be
udp_send CLEAN-02 "nothing to see"
wait_for 5 grep -q CLEAN-02 "$T/udp.log" || bad "the second clean datagram did not arrive"
grep -q EICAR-01 "$T/udp.log" && bad "the 11-fragment datagram carrying EICAR arrived" \
	|| ok "a UDP datagram in 11 fragments carrying EICAR never arrives"
apart=$("$CTL" --socket "$T/sluice.sock" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["reassembled_apart"])')
[ "${apart:-0}" -ge 2 ] && ok "both reassembled past rte_ip_frag's 8 fragments ($apart)" \
	|| bad "reassembled_apart: '$apart'"

# an address rule stops ICMP too, both ways; ICMP belongs to no flow, and
# its events say so (flow id 0) even in event slots that carried flows'
# events before (more events than the ring's 64 come first)
for i in $(seq 70); do inc dig +time=1 +tries=1 @192.0.2.20 "n$i.malware.test" A >/dev/null; done
inc ping -c2 -W1 192.0.2.21 >/dev/null && bad "ping to a blocked address answered" \
	|| ok "ping to a blocked address gets no answer"
ins ping -c2 -W1 192.0.2.10 -I 192.0.2.21 >/dev/null && bad "ping from a blocked address answered" \
	|| ok "ping from a blocked address gets no answer"

# ---- a policy without rules forwards everything untouched (bypass);
# the policy back in force blocks again, in both directions
printf 'policy = { name = "empty"; revision = "1"; };\nrules = ();\n' > "$T/empty.cfg"
"$CTL" --socket "$T/sluice.sock" reload "$T/empty.cfg" >"$T/reload.out" 2>&1 || bad "reload to an empty policy: $(cat "$T/reload.out")"
out=$(inc curl -s --max-time 5 --resolve blocked.example:80:192.0.2.20 http://blocked.example/secret)
[ "$out" = "secret page" ] && ok "empty policy: the formerly blocked site is reached" || bad "empty policy: '$out'"
out=$(inc dig +time=2 +tries=1 @192.0.2.20 dl.malware.test A +short)
[ "$out" = "192.0.2.20" ] && ok "empty policy: DNS answered" || bad "empty policy DNS: '$out'"
byp=$("$CTL" --socket "$T/sluice.sock" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["bypass_pkts"])')
[ "${byp:-0}" -gt 0 ] && ok "empty policy: packets forwarded by the bypass ($byp)" || bad "bypass_pkts: '$byp'"
"$CTL" --socket "$T/sluice.sock" reload "$T/policy.cfg" >"$T/reload.out" 2>&1 || bad "reload back: $(cat "$T/reload.out")"
code=$(inc curl -s -o "$T/page2" -w '%{http_code}' --max-time 5 \
	--resolve blocked.example:80:192.0.2.20 http://blocked.example/secret)
[ "$code" = 403 ] && ok "policy back in force: the site is blocked again" || bad "after bypass: code $code"
[ "$(grep -c "GET /secret" "$T/http.log")" = 1 ] && ok "only the request under the empty policy reached the server" \
	|| bad "requests to /secret at the server: $(grep -c "GET /secret" "$T/http.log")"
out=$(inc dig +time=2 +tries=1 @192.0.2.20 dl.malware.test A)
echo "$out" | grep -q "status: NXDOMAIN" && ok "policy back in force: NXDOMAIN again" || bad "after bypass DNS: $out"

# ---- records
kill -INT "$SPID"
wait_for 10 bash -c "! kill -0 $SPID" || bad "sluice did not stop on SIGINT"
"$CTL" records verify "$T/records" >"$T/verify.out" 2>&1 && ok "records verify" || bad "records verify: $(cat "$T/verify.out")"
for r in 1 2 3 4 5 6; do
	n=$("$CTL" records grep "$T/records" --rule $r | wc -l)
	[ "$n" -ge 1 ] && ok "rule $r recorded ($n events)" || bad "rule $r has no record"
done

ids=$("$CTL" records grep "$T/records" --rule 6 --json | python3 -c '
import json, sys
print(" ".join(sorted({json.loads(l)["flow"]["id"] for l in sys.stdin if l.strip()})))')
[ "$ids" = "0000000000000000" ] && ok "ICMP events carry no flow id (flow id 0)" \
	|| bad "rule 6 (ICMP) events have flow ids: '$ids'"

[ "$FAIL" = 0 ] && echo "PASS" || { echo "--- sluice log"; cat "$T/sluice.log"; }
exit $FAIL
