#!/usr/bin/python3
"""Generate the overload fixtures under tests/hardening/cases/<name>/:
capture.pcap, policy.cfg, config.cfg, expected.json, run by
tests/pcap/run_case.py like the pcap suite (and, under
tests/hardening/live/<name>/, captures and policies for
test_overload_live.py). Each case drives one limit with
a small configuration, once fail-open and once fail-closed, and checks the
per-cause counter and the verdicts (what went through uninspected, what was
dropped). Deterministic; the output is committed, run this again after
changing a case. Needs scapy (/usr/bin/python3)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pcap"))
from pcapgen import CLIENT_MAC, SERVER_MAC, TcpConv, http_get, l2, tls_client_hello  # noqa: E402
from scapy.all import IP, UDP, Ether, Raw, fragment, wrpcap  # noqa: E402

CASES = os.path.join(HERE, "cases")
C, S = "192.0.2.10", "198.51.100.10"
ZERO = {"flow_table": 0, "reassembly_ooo": 0, "reassembly_ip": 0, "field_buffers": 0,
        "stream_states": 0, "events": 0, "rx_backlog": 0}


def overload(**kw):
    d = dict(ZERO)
    d.update(kw)
    return d


def policy(rules):
    body = ",\n".join("  { " + r + " }" for r in rules)
    return f'policy = {{ name = "hardening"; revision = "1"; }};\nrules = (\n{body}\n);\n'


def rule(rid, action, match):
    return (f'id = {rid}; name = "rule {rid}"; basis = "test"; action = "{action}"; '
            f'match = {{ {match} }};')


def write(name, frames, pol, expected, config):
    d = os.path.join(CASES, name)
    os.makedirs(d, exist_ok=True)
    wrpcap(os.path.join(d, "capture.pcap"), frames)
    with open(os.path.join(d, "policy.cfg"), "w") as f:
        f.write(pol)
    with open(os.path.join(d, "config.cfg"), "w") as f:
        f.write('policy = "policy.cfg";\n' + config)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


def both(name, frames, pol, config, open_exp, closed_exp):
    """The same traffic and limits, fail-open and fail-closed."""
    write(name + "-open", frames, pol, open_exp, 'overload = "open";\n' + config)
    write(name + "-closed", frames, pol, closed_exp, 'overload = "closed";\n' + config)


PAYLOAD_DROP = policy([rule(1, "drop", 'payload = [ "SECRETWORD" ];')])


def case_flow_table():
    # 64 flows fill the table (limits.flows = 64, nothing idle enough to
    # evict); 4 more flows carry the keyword without a flow entry; then an
    # old flow sends it and is still inspected (dropped by the rule)
    fr, t = [], 0.0
    first = None
    for i in range(64):
        c = TcpConv(C, S, 40000 + i, 80, t0=t).handshake()
        t = c.t
        fr += c.frames
        first = first or c
    extra = []
    for i in range(4):
        c = TcpConv(C, S, 45000 + i, 80, t0=t).handshake().send(True, f"new flow {i} SECRETWORD")
        t = c.t
        extra += c.frames      # S, SA, A, PA, A: 5 each
    first.t = t
    first.send(True, "old flow SECRETWORD")   # PA (dropped) + the server's ACK (dropped)
    fr += extra + first.frames[-2:]
    cfg = "limits = { flows = 64; };\ntimeouts = { evict_min_idle_ms = 3600000; };\n"
    n = len(fr)
    both("flow-table", fr, PAYLOAD_DROP, cfg,
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 2, "dropped_policy": 2,
                      "dropped_overload": 0, "overload": overload(flow_table=20)},
          "out_frames": [{"contains": "SECRETWORD", "count": 4}]},
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 22, "dropped_policy": 2,
                      "dropped_overload": 20, "overload": overload(flow_table=20)},
          "out_absent": ["SECRETWORD"]})
    # with eviction allowed the old idle flows make room: nothing is
    # uninspected
    write("flow-table-evict", fr, PAYLOAD_DROP,
          {"flows_per_rule": {"1": 5}, "records_verify": True,
           "summary": {"packets_in": n, "dropped_overload": 0, "overload": ZERO,
                       "flows_evicted": 5},
           "out_absent": ["SECRETWORD"]},
          'overload = "closed";\nlimits = { flows = 64; };\ntimeouts = { evict_min_idle_ms = 0; };\n')


def case_ooo():
    # flow A: 1000 bytes beyond a 10-byte hole (ooo_bytes_per_flow = 256
    # cannot hold them): the hole is given up, so "SECRET" + "WORD" across
    # it is never seen whole; flow B: the same with 20 bytes, which fit
    a = TcpConv(C, S, 41000, 80).handshake()
    a.segment(True, 10, "WORD" + "a" * 996)
    a.segment(True, 0, "xxxxSECRET")
    a.advance(True, 1010).close()
    b = TcpConv(C, S, 41001, 80, t0=a.t).handshake()
    b.segment(True, 10, "WORD-tail-")
    b.segment(True, 0, "xxxxSECRET")
    b.advance(True, 20).close()
    fr = a.frames + b.frames
    n = len(fr)
    # A: S SA A [ahead] [hole] FA FA A; B likewise: B's hole fill
    # completes the keyword (dropped, then the rest of B: 3)
    both("ooo-memory", fr, PAYLOAD_DROP, "limits = { ooo_bytes_per_flow = 256; };\n",
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 4, "dropped_policy": 4,
                      "dropped_overload": 0, "overload": overload(reassembly_ooo=1)},
          "out_frames": [{"contains": "aaaaaaaaaa", "count": 1},
                         {"contains": "xxxxSECRET", "count": 1}]},
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 9, "dropped_policy": 4,
                      "dropped_overload": 5, "overload": overload(reassembly_ooo=1)},
          "out_absent": ["aaaaaaaaaa", "xxxxSECRET"]})


def case_field_buffers():
    # two HTTP request heads split over segments; one field buffer
    # (limits.field_buffers = 1): A holds it, B finds none and its Host is
    # never extracted
    a = TcpConv(C, S, 42000, 80).handshake()
    b = TcpConv(C, S, 42001, 80, t0=a.t).handshake()
    a.t = b.t
    head_a, head_b = http_get("login.bank.example", "/a"), http_get("login.bank.example", "/b")
    a.send(True, head_a[:20])
    b.t = a.t
    b.send(True, head_b[:20])
    a.t = b.t
    a.send(True, head_a[20:]).send(False, "HTTP/1.1 200 OK\r\n\r\nA-BODY")
    b.t = a.t
    b.send(True, head_b[20:]).send(False, "HTTP/1.1 200 OK\r\n\r\nB-BODY")
    fr = a.frames + b.frames
    fr.sort(key=lambda f: float(f.time))
    n = len(fr)
    pol = policy([rule(1, "reset", 'domain = [ "login.bank.example" ];')])
    # A: reset on its second head segment (2 injected; its server ACK,
    # response and the client's ACK dropped: 4); B: open, all forwarded;
    # closed, its first head segment and the 5 packets after dropped
    both("field-buffers", fr, pol, "limits = { field_buffers = 1; };\n",
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 4, "injected": 2, "dropped_policy": 4,
                      "dropped_overload": 0, "overload": overload(field_buffers=1)},
          "out_contains": ["B-BODY", "GET /b"], "out_absent": ["A-BODY"]},
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 10, "injected": 2, "dropped_policy": 4,
                      "dropped_overload": 6, "overload": overload(field_buffers=1)},
          "out_absent": ["A-BODY", "B-BODY", "GET /b"]})


def case_tls_hello_padded():
    # ClientHellos padded past the field buffer (16.6 KB), a way to slip a
    # name past the domain rules. A: the name before the padding, found in
    # the part that fits: reset (2 injected; its 7 later packets dropped).
    # B: the padding first: the name is not in what fits, a field-buffer
    # overload (open: forwarded uninspected; closed: the segment that
    # filled the buffer and the 6 packets after it dropped)
    a = TcpConv(C, S, 44000, 443).handshake()
    a.send(True, tls_client_hello("a.padded.example", pad=20000)).send(False, "A-SERVER-DATA")
    b = TcpConv(C, S, 44001, 443, t0=a.t).handshake()
    b.send(True, tls_client_hello("b.padded.example", pad=20000, pad_first=True))
    b.send(False, "B-SERVER-DATA")
    fr = a.frames + b.frames
    n = len(fr)
    pol = policy([rule(1, "reset", 'domain = [ ".padded.example" ];')])
    both("tls-hello-padded", fr, pol, "",
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 7, "injected": 2, "dropped_policy": 7,
                      "dropped_overload": 0, "overload": overload(field_buffers=1)},
          "out_contains": ["B-SERVER-DATA"], "out_absent": ["A-SERVER-DATA"]},
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 14, "injected": 2, "dropped_policy": 7,
                      "dropped_overload": 7, "overload": overload(field_buffers=1)},
          "out_absent": ["A-SERVER-DATA", "B-SERVER-DATA"]})


def case_stream_states():
    # one payload stream state per size class (limits.stream_states = 1):
    # A opens it, B gets none and its data is not scanned (fail-open: each
    # of B's two segments tries again; A keeps its state after its drop
    # until the flow ends)
    a = TcpConv(C, S, 43000, 80).handshake()
    b = TcpConv(C, S, 43001, 80, t0=a.t).handshake()
    a.t = b.t
    a.send(True, "hello from A ")
    b.t = a.t
    b.send(True, "B says SECRETWORD")
    a.t = b.t
    a.send(True, "A says SECRETWORD")
    b.t = a.t
    b.send(True, "B goes on")
    fr = sorted(a.frames + b.frames, key=lambda f: float(f.time))
    n = len(fr)
    both("stream-states", fr, PAYLOAD_DROP, "limits = { stream_states = 1; };\n",
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 2, "dropped_policy": 2,
                      "dropped_overload": 0, "overload": overload(stream_states=2)},
          "out_contains": ["B says SECRETWORD", "B goes on"], "out_absent": ["A says"]},
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": n, "packets_out": n - 6, "dropped_policy": 2,
                      "dropped_overload": 4, "overload": overload(stream_states=1)},
          "out_absent": ["A says", "B says", "B goes on"]})


def frag_udp(ident, sport, text):
    p = IP(src=C, dst=S, id=ident) / UDP(sport=sport, dport=9000) / Raw(load=text)
    return [l2(CLIENT_MAC, SERVER_MAC, None) / f for f in fragment(p, fragsize=32)]


def case_fragments():
    # two fragmented datagrams interleaved, one reassembly entry
    # (limits.fragment_flows = 1): X's fragments hold it, Y's first two find
    # no room; X completes (keyword: dropped) and frees it; Y's last is held
    x = frag_udp(0x1111, 7000, b"x" * 20 + b"FRAG-KEYWORD-SPLIT-HERE" + b"x" * 30)
    y = frag_udp(0x2222, 7001, b"y" * 20 + b"FRAG-KEYWORD-SPLIT-HERE" + b"y" * 30)
    assert len(x) == 3 and len(y) == 3
    fr = [x[0], y[0], x[1], y[1], x[2], y[2]]
    for i, f in enumerate(fr):
        f.time = 0.001 * (i + 1)
    pol = policy([rule(1, "drop", 'payload = [ "FRAG-KEYWORD" ];')])
    both("fragments", fr, pol, "limits = { fragment_flows = 1; };\n",
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": 6, "packets_out": 5, "dropped_policy": 1,
                      "dropped_overload": 0, "overload": overload(reassembly_ip=2)}},
         {"flows_per_rule": {"1": 1}, "records_verify": True,
          "summary": {"packets_in": 6, "packets_out": 3, "dropped_policy": 1,
                      "dropped_overload": 2, "overload": overload(reassembly_ip=2)}})


def case_fragment_padding():
    # a TCP segment in two fragments, the keyword across them; each frame
    # carries junk after its datagram (Ethernet padding, which the receiver
    # ignores): kept in the reassembled datagram it would sit inside the
    # keyword and hide it
    c = TcpConv(C, S, 44000, 80).handshake()
    c.send(True, b"A" * 23 + b"SECRETWORD" + b"z" * 10)
    req = c.frames[-2]
    req[IP].id = 0x4242
    out = []
    for f in fragment(req[IP], fragsize=48):
        raw = bytes(l2(CLIENT_MAC, SERVER_MAC, None) / f) + b"JUNKJUNKJUNK"
        p = Ether(raw)
        p.time = req.time
        out.append(p)
    assert len(out) == 2 and b"SECRE" in bytes(out[0]) and b"TWORD" in bytes(out[1])
    c.frames[-2:-1] = out
    fr = c.frames
    write("fragment-padding", fr, PAYLOAD_DROP,
          {"flows_per_rule": {"1": 1},
           "summary": {"packets_in": len(fr), "dropped_overload": 0, "overload": ZERO}},
          "")


LIVE = os.path.join(HERE, "live")


def live_fixture(name, frames, pol):
    """A capture and policy for test_overload_live.py (its checks are in
    the script: they are relations, not exact counts)."""
    d = os.path.join(LIVE, name)
    os.makedirs(d, exist_ok=True)
    wrpcap(os.path.join(d, "capture.pcap"), frames)
    with open(os.path.join(d, "policy.cfg"), "w") as f:
        f.write(pol)


def case_live_rx_backlog():
    # the worker's queue is always full (a capture device in live mode):
    # flow A is blocked in the first burst, which is inspected; from the
    # second full burst on the worker is behind. A's later packets stay
    # dropped, flow B's keyword goes through uninspected (fail-open) or is
    # dropped (fail-closed); the last, partial burst is inspected again.
    a = TcpConv(C, S, 46000, 80).handshake().send(True, "A: SECRETWORD")
    fr = list(a.frames)
    t = a.t
    for i in range(32 - len(fr)):
        p = l2(CLIENT_MAC, SERVER_MAC, None) / IP(src=C, dst=S) / UDP(sport=5000, dport=5001) / \
            Raw(load=b"filler %d" % i)
        t += 0.001
        p.time = t
        fr.append(p)
    for i in range(300):
        p = l2(CLIENT_MAC, SERVER_MAC, None) / IP(src=C, dst=S) / UDP(sport=5002, dport=5003) / \
            Raw(load=b"more %d" % i)
        t += 0.001
        p.time = t
        fr.append(p)
    a.t = t
    a.send(True, "A: after the block")
    b = TcpConv(C, S, 46001, 80, t0=a.t).handshake().send(True, "B: SECRETWORD while behind")
    fr += a.frames[-2:] + b.frames
    t = b.t
    for i in range(32 * 4 - (len(fr) % 32) + 5):   # then a partial last burst of 5
        p = l2(CLIENT_MAC, SERVER_MAC, None) / IP(src=C, dst=S) / UDP(sport=5004, dport=5005) / \
            Raw(load=b"tail %d" % i)
        t += 0.001
        p.time = t
        fr.append(p)
    assert len(fr) % 32 == 5
    live_fixture("rx-backlog", fr, PAYLOAD_DROP)


def case_live_events():
    # every ICMP packet matches eight logged address rules: eight events a
    # packet, far more than a 64-entry event ring takes while the records
    # writer keeps up; and TCP flows whose logged keyword event may be lost
    rules = [rule(10 + i, "log", f'ip = [ "198.51.100.{64 + i}/32", "198.51.100.64/26" ];')
             for i in range(8)]
    rules.append(rule(1, "log", 'payload = [ "SECRETWORD" ];'))
    fr, t = [], 0.0
    for i in range(4000):
        p = l2(CLIENT_MAC, SERVER_MAC, None) / IP(src=C, dst="198.51.100.%d" % (64 + i % 8)) / \
            UDP(sport=6000 + i % 50, dport=7) / Raw(load=b"ping")
        p[IP].proto = 1   # ICMP number, UDP bytes: a flowless packet
        t += 0.0001
        p.time = t
        fr.append(p)
        if i % 40 == 0:
            c = TcpConv(C, S, 47000 + i // 40, 80, t0=t).handshake().send(True, "SECRETWORD %d" % i)
            t = c.t
            fr += c.frames
    live_fixture("events-ring", fr, policy(rules))


def main():
    for name, fn in sorted(globals().items()):
        if name.startswith("case_"):
            fn()
    print("cases written to", CASES)


if __name__ == "__main__":
    main()
