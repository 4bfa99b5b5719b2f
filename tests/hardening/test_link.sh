#!/bin/bash
# Fault: a port's link goes down and comes back. A client and a server
# namespace joined only through sluice: each namespace's veth is bridged
# with a tap device of sluice (net_tap reports the link state of its
# interface; net_af_packet always says up). The server-side tap is set
# down under the running dataplane, then up again. sluice must keep running, report the link
# state (status, stderr, an admin record), forward again once the link is
# up, keep enforcing its policy throughout, and lose no record acknowledged
# before the fault. Needs root and network namespaces: skips (exit 77)
# otherwise; cleans up after itself.
#
# usage: test_link.sh SLUICE SLUICE_CTL
set -u
SLUICE=$(readlink -f "$1")
CTL=$(readlink -f "$2")
. "$(dirname "$(readlink -f "$0")")/../netns.sh"
need_netns ping python3
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"

ID=$$
NC=slkc$ID
NS=slks$ID
T=$(mktemp -d /tmp/sluice-link-XXXXXX)
SPID=""
FAIL=0

cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && sleep 0.3 && kill -9 "$SPID" 2>/dev/null
	netns_teardown "$NC $NS" "lc$ID ls$ID bc$ID bs$ID"
	if [ "$FAIL" = 0 ]; then rm -rf "$T"; else echo "(kept $T)"; fi
}
trap cleanup EXIT

inc() { ip netns exec "$NC" "$@"; }
ctlj() { "$CTL" --socket "$T/s.sock" --json "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
link_of() { ctlj status | field "d['ports'][$1]['link']"; }

# ---- client 192.0.2.10 | sluice | server 192.0.2.20 and .30 (one segment)
ip netns add "$NC" && ip netns add "$NS" || { bad "netns"; exit 1; }
ip link add "lc$ID" type veth peer name "kc$ID"
ip link add "ls$ID" type veth peer name "ks$ID"
ip link set "kc$ID" netns "$NC"
ip link set "ks$ID" netns "$NS"
ip link add "bc$ID" type bridge
ip link add "bs$ID" type bridge
ip link set "lc$ID" master "bc$ID"
ip link set "ls$ID" master "bs$ID"
for d in "lc$ID" "ls$ID" "bc$ID" "bs$ID"; do ip link set "$d" up; done
ip netns exec "$NC" ip addr add 192.0.2.10/24 dev "kc$ID"
ip netns exec "$NS" ip addr add 192.0.2.20/24 dev "ks$ID"
ip netns exec "$NS" ip addr add 192.0.2.30/24 dev "ks$ID"
ip netns exec "$NC" ip link set "kc$ID" up
ip netns exec "$NS" ip link set "ks$ID" up

cat > "$T/policy.cfg" <<'EOF'
policy = { name = "link"; revision = "1"; };
rules = (
  { id = 1; name = "address under order"; basis = "test"; action = "drop";
    match = { ip = [ "192.0.2.30/32" ]; }; }
);
EOF
cat > "$T/sluice.cfg" <<EOF
policy = "policy.cfg";
ports = ( [0, 1] );
records = { dir = "$T/records"; };
control = { socket = "$T/s.sock"; };
idle_sleep_us = 20;
limits = { flows = 4096; mbufs = 4095; };
EOF
NCPU=$(nproc)
"$SLUICE" --no-huge --no-pci --no-shconf -m 256 --lcores "0@(0-$((NCPU-1))),1@(0-$((NCPU-1)))" \
	--log-level='*:warning' \
	--vdev "net_tap0,iface=tc$ID" --vdev "net_tap1,iface=ts$ID" \
	-- --config "$T/sluice.cfg" >"$T/sluice.log" 2>&1 &
SPID=$!
wait_for 20 grep -q "running" "$T/sluice.log" || { cat "$T/sluice.log"; bad "sluice did not start"; exit 1; }
ip link set "tc$ID" master "bc$ID" && ip link set "ts$ID" master "bs$ID" || bad "bridge the taps"
wait_for 10 inc ping -c1 -W1 192.0.2.20 && ok "forwarding through sluice" || bad "no connectivity through sluice"
inc ping -c2 -W1 192.0.2.30 >/dev/null 2>&1 && bad "blocked address answered" || ok "blocked address dropped"
[ "$(link_of 1)" = up ] && ok "status: port 1 link up" || bad "status: port 1 link $(link_of 1)"
sleep 1.2    # a flush (once a second): what status shows is on disk
ACK=$(ctlj status | field "'%d:%s' % (d['records']['seq'], d['records']['head'])")

# ---- the server-side link goes down
ip link set "ts$ID" down
wait_for 5 bash -c "[ \"\$($CTL --socket $T/s.sock --json status | python3 -c \"import json,sys; print(json.load(sys.stdin)['ports'][1]['link'])\")\" = down ]" \
	&& ok "status: port 1 link down" || bad "status does not show the link down"
wait_for 5 grep -q "port 1 (net_tap1): link down" "$T/sluice.log" \
	&& ok "stderr: $(grep 'link down' "$T/sluice.log")" || bad "no link down message"
LOST0=$(ctlj stats | field "d['total']['tx_fail'] + d['ports'][1]['dev_oerrors']")
inc ping -c1 -W1 192.0.2.20 >/dev/null 2>&1 && bad "ping through a down link" || ok "no forwarding while the link is down"
LOST1=$(ctlj stats | field "d['total']['tx_fail'] + d['ports'][1]['dev_oerrors']")
[ "$LOST1" -gt "$LOST0" ] && ok "packets toward the down port counted as lost (tx_fail + dev_oerrors $LOST0 -> $LOST1)" \
	|| bad "packets toward the down port not counted ($LOST0 -> $LOST1)"
kill -0 "$SPID" 2>/dev/null && ctlj stats >/dev/null && ok "sluice keeps running and serving" \
	|| bad "sluice gone after link down"

# ---- and comes back
ip link set "ts$ID" up
wait_for 10 inc ping -c1 -W1 192.0.2.20 && ok "forwarding again once the link is up" \
	|| bad "no forwarding after the link came back"
[ "$(link_of 1)" = up ] && ok "status: port 1 link up again" || bad "status: port 1 link $(link_of 1)"
inc ping -c2 -W1 192.0.2.30 >/dev/null 2>&1 && bad "blocked address answered after the fault" \
	|| ok "blocked address still dropped (policy enforced)"
wait_for 5 grep -q "port 1 (net_tap1): link up" "$T/sluice.log" && ok "stderr: link up" \
	|| bad "no link up message"

kill -INT "$SPID"
wait_for 10 bash -c "! kill -0 $SPID" || bad "sluice did not stop on SIGINT"
SPID=""
"$CTL" records verify "$T/records" --expect "$ACK" >"$T/verify.out" 2>&1 \
	&& ok "records verify, the head acknowledged before the fault still in the chain" \
	|| bad "records verify: $(cat "$T/verify.out")"
G=$("$CTL" records grep "$T/records" --json)
echo "$G" | grep -q '"port 1 (net_tap1) link down"' && echo "$G" | grep -q 'link up' \
	&& ok "link changes are in the records" || bad "link changes not recorded"
[ "$("$CTL" records grep "$T/records" --rule 1 | wc -l)" -ge 1 ] && ok "the blocked address is recorded" \
	|| bad "no record for rule 1"

[ "$FAIL" = 0 ] && echo "PASS" || { echo "--- sluice log"; cat "$T/sluice.log"; }
exit $FAIL
