#!/usr/bin/python3
"""Generate sluice's own pcap fixtures under tests/pcap/cases/<name>/:
capture.pcap, policy.cfg, expected.json (and config.cfg when a case needs
dataplane settings). Deterministic; the output is committed, run this
again after changing a case. Reserved names and addresses only."""
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pcapgen import (CLIENT_MAC, SERVER_MAC, TcpConv, dns_answer, dns_query,  # noqa: E402
                     dns_tcp_message, http_get, http_response, icmp_echo, l2,
                     tls_client_hello, tls_server_hello_stub)
from scapy.all import IP, IPv6, IPv6ExtHdrFragment, Raw, TCP, UDP, fragment, fragment6, wrpcap  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
C, S = "192.0.2.10", "198.51.100.10"
C6, S6 = "2001:db8:1::10", "2001:db8:2::10"


def policy(name, rules, extra=""):
    body = ",\n".join("  { " + r + " }" for r in rules)
    return f'policy = {{ name = "{name}"; revision = "1"; }};\n{extra}rules = (\n{body}\n);\n'


def rule(rid, action, match, more=""):
    return (f'id = {rid}; name = "rule {rid}"; basis = "CSL Art.47"; action = "{action}"; '
            f'{more}match = {{ {match} }};')


def write(name, frames, pol, expected, config=None):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    wrpcap(os.path.join(d, "capture.pcap"), frames)
    with open(os.path.join(d, "policy.cfg"), "w") as f:
        f.write(pol)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    if config:
        with open(os.path.join(d, "config.cfg"), "w") as f:
            f.write(config)
    elif os.path.exists(os.path.join(d, "config.cfg")):
        os.remove(os.path.join(d, "config.cfg"))


def http_conv(host, path, body, sport=40000, client=C, server=S, vlans=None, **kw):
    c = TcpConv(client, server, sport, 80, vlans=vlans, **kw).handshake()
    c.send(True, http_get(host, path)).send(False, http_response(body)).close()
    return c


def case_http_block_page():
    c = http_conv("login.bank.example", "/verify?x=1", "SECRET-PHISH-BODY")
    ok = http_conv("www.example", "/", "hello-allowed", sport=40001, t0=1.0)
    write("http-block-page", c.frames + ok.frames,
          policy("t", [rule(1001, "block-page", 'domain = [ "login.bank.example" ];')]),
          {"flows_per_rule": {"1001": 1},
           "summary": {"packets_in": 20, "injected": 2, "dropped_policy": 7},
           "out_contains": ["403 Forbidden", "1001", "CSL Art.47", "hello-allowed"],
           "out_absent": ["SECRET-PHISH-BODY", "GET /verify"],
           "records_verify": True})


def case_http_url_reset():
    c = http_conv("login.bank.example", "/verify/step2?id=7", "SECRET-BODY")
    ok = http_conv("login.bank.example", "/about", "about-page", sport=40001, t0=1.0)
    write("http-url-reset", c.frames + ok.frames,
          policy("t", [rule(1, "reset", 'url = [ "login.bank.example/verify*" ];')]),
          {"flows_per_rule": {"1": 1}, "summary": {"injected": 2, "dropped_policy": 7},
           "out_absent": ["SECRET-BODY"], "out_contains": ["about-page"]})


def case_tls_sni_reset():
    c = TcpConv(C, S, 40100, 443).handshake()
    c.send(True, tls_client_hello("a.phish.test")).send(False, tls_server_hello_stub()).close()
    ok = TcpConv(C, S, 40101, 443, t0=1.0).handshake()
    ok.send(True, tls_client_hello("phish.test")).send(False, tls_server_hello_stub()).close()
    write("tls-sni-reset", c.frames + ok.frames,
          policy("t", [rule(7, "block-page", 'domain = [ "*.phish.test" ];')]),
          {"flows_per_rule": {"7": 1}, "summary": {"injected": 2, "dropped_policy": 7},
           "out_frames": [{"contains": "phish.test", "count": 1}]})


def case_tls_split_and_on_ack():
    # ClientHello in 3 segments, the first riding on the handshake ACK
    ch = tls_client_hello("split.example", pad=600)
    c = TcpConv(C, S, 40200, 443)
    c.frames.append(c._pkt(True, "S", c.cseq, 0))
    c.cseq += 1
    c.frames.append(c._pkt(False, "SA", c.sseq, c.cseq))
    c.sseq += 1
    c.send(True, ch, mss=250)  # first segment is the handshake's ACK
    c.send(False, tls_server_hello_stub()).close()
    write("tls-split-on-ack", c.frames,
          policy("t", [rule(3, "log", 'domain = [ "split.example" ];')]),
          {"flows_per_rule": {"3": 1}, "summary": {"dropped_policy": 0}})


def case_dns_udp():
    fr = [dns_query(C, "198.51.100.53", 50001, "dl.malware.test", qid=0x0101, t=0.1),
          dns_answer(C, "198.51.100.53", 50001, "dl.malware.test", "198.51.100.99", qid=0x0101, t=0.2),
          dns_query(C, "198.51.100.53", 50002, "www.example", qid=0x0102, t=0.3),
          dns_answer(C, "198.51.100.53", 50002, "www.example", "198.51.100.10", qid=0x0102, t=0.4),
          dns_query(C, "198.51.100.53", 50003, "x.drop.test", qid=0x0103, t=0.5),
          dns_query(C, "198.51.100.53", 50004, "MALWARE.TEST.", qid=0x0104, t=0.6)]
    write("dns-nxdomain", fr,
          policy("t", [rule(1, "reset", 'domain = [ ".malware.test" ];'),
                       rule(2, "drop", 'domain = [ "*.drop.test" ];')]),
          {"flows_per_rule": {"1": 2, "2": 1},
           "summary": {"packets_in": 6, "injected": 2, "dropped_policy": 4, "packets_out": 2},
           "out_frames": [{"contains": "dl\x07malware", "count": 1},
                          {"contains": "MALWARE", "count": 1}]})


def case_dns_tcp():
    c = TcpConv(C, "198.51.100.53", 40300, 53).handshake()
    c.send(True, dns_tcp_message("evil.malware.test")).send(False, b"\x00\x02\x00\x00").close()
    write("dns-tcp-nxdomain", c.frames,
          policy("t", [rule(1, "reset", 'domain = [ ".malware.test" ];')]),
          {"flows_per_rule": {"1": 1}, "summary": {"injected": 2}})


def case_dns_allow_per_query():
    """An allowed name clears that query, not the socket: a later query on
    the same 5-tuple (UDP) or connection (TCP) is still judged."""
    R = "198.51.100.53"
    fr = [dns_query(C, R, 50010, "www.allowed.test", qid=0x0201, t=0.1),
          dns_answer(C, R, 50010, "www.allowed.test", "198.51.100.20", qid=0x0201, t=0.2),
          dns_query(C, R, 50010, "dl.malware.test", qid=0x0202, t=0.3),
          dns_answer(C, R, 50010, "dl.malware.test", "198.51.100.99", qid=0x0202, t=0.4)]
    c = TcpConv(C, R, 40310, 53, t0=1.0).handshake()
    c.send(True, dns_tcp_message("www.allowed.test")).send(False, b"\x00\x02\x00\x00")
    c.send(True, dns_tcp_message("evil.malware.test")).close()
    write("dns-allow-per-query", fr + c.frames,
          policy("t", [rule(1, "reset", 'domain = [ ".malware.test" ];'),
                       rule(2, "allow", 'domain = [ ".allowed.test" ];')]),
          {"flows_per_rule": {"1": 2, "2": 2},
           # UDP: the second query and its answer; TCP: reset, so the
           # second query's segment and the rest of the connection
           "summary": {"dropped_policy": 7, "injected": 3},
           "out_frames": [{"contains": "www\x07allowed", "count": 3},
                          {"contains": "dl\x07malware", "count": 1},
                          {"contains": "evil\x07malware", "count": 1}]})


def case_payload_drop_both_ways():
    c = TcpConv(C, S, 40400, 80).handshake()
    c.send(True, http_get("files.example", "/eicar"))
    resp = http_response(EICAR + "-TRAILER-AFTER-MATCH")
    c.send(False, resp[:120], ack=False)     # ends inside the keyword
    c.send(False, resp[120:], ack=False)     # completes it: dropped
    c.send(True, "CLIENT-AFTER-BLOCK")       # later packets of the flow: dropped
    c.close()
    write("payload-drop-both-ways", c.frames,
          policy("t", [rule(9, "drop", 'payload = [ "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" ];')]),
          {"flows_per_rule": {"9": 1}, "summary": {"injected": 0, "dropped_policy": 6, "packets_out": 6},
           "out_absent": ["TRAILER-AFTER-MATCH", "CLIENT-AFTER-BLOCK"]})


def case_stream_ooo_retransmit():
    c = TcpConv(C, S, 40500, 80).handshake()
    # keyword "SECRETWORD" split over three segments sent out of order; a
    # retransmission of the middle with different bytes must be ignored
    c.segment(True, 6, "WORD")        # future segment first
    c.segment(True, 0, "SECRET")      # fills the hole: match
    c.advance(True, 10)
    c.segment(True, 0, "tail-1")
    c.segment(True, 2, "XXXXXXXX")     # overlapping rewrite of delivered bytes: ignored
    c.advance(True, 6)
    c.close()
    c2 = TcpConv(C, S, 40501, 80, t0=1.0).handshake()
    c2.segment(True, 0, "BENIGNWO")
    c2.segment(True, 0, "SECRETWO")    # retransmission with other bytes: first copy wins
    c2.advance(True, 8)
    c2.segment(True, 0, "RD")
    c2.advance(True, 2)
    c2.close()
    write("stream-ooo-retransmit", c.frames + c2.frames,
          policy("t", [rule(5, "log", 'payload = [ "SECRETWORD" ];'),
                       rule(6, "log", 'payload = [ "BENIGNWORD" ];')]),
          {"flows_per_rule": {"5": 1, "6": 1}, "summary": {"dropped_policy": 0}})


def case_stream_ooo_conflict():
    # Out of order "ABCD" is held at 4..7; then the same place with other
    # bytes "W0RD". A receiver may keep the second copy (Linux replaces an
    # out-of-order segment that a new one covers), so "EVILW0RD" could
    # reach it while "EVILABCD" was inspected: the second copy is dropped.
    c = TcpConv(C, S, 40502, 80).handshake()
    c.segment(True, 4, "ABCD")
    c.segment(True, 4, "W0RD")
    c.segment(True, 0, "EVIL")
    c.advance(True, 8)
    c.close()
    write("stream-ooo-conflict", c.frames,
          policy("t", [rule(7, "drop", 'payload = [ "EVILW0RD" ];')]),
          {"flows_per_rule": {"7": 0}, "out_absent": ["W0RD"], "out_contains": ["ABCD"],
           "summary": {"dropped_policy": 0, "dropped_malformed": 1,
                       "packets_out": len(c.frames) - 1}})


def case_tfo():
    c = TcpConv(C, S, 40600, 80).handshake(syn_data=http_get("tfo.example", "/"))
    c.send(False, http_response("tfo-body")).close()
    write("http-tcp-fast-open", c.frames,
          policy("t", [rule(4, "reset", 'domain = [ "tfo.example" ];')]),
          {"flows_per_rule": {"4": 1}, "out_absent": ["tfo-body"], "summary": {"injected": 2}})


def case_keepalive():
    c = TcpConv(C, S, 40700, 80).handshake()
    c.send(True, http_get("www.example", "/first")).send(False, http_response("first-ok"))
    c.send(True, http_get("www.example", "/second/bad")).send(False, http_response("second-body"))
    c.close()
    write("http-keepalive-second-request", c.frames,
          policy("t", [rule(8, "block-page", 'url = [ "www.example/second/*" ];')]),
          {"flows_per_rule": {"8": 1}, "out_contains": ["first-ok", "403 Forbidden"],
           "out_absent": ["second-body"]})


def case_vlan_qinq():
    c = http_conv("login.bank.example", "/", "QINQ-BODY", vlans=[100, 200])
    write("qinq-block-page", c.frames,
          policy("t", [rule(1, "block-page", 'domain = [ "login.bank.example" ];')]),
          {"flows_per_rule": {"1": 1}, "summary": {"injected": 2},
           "out_frames": [{"contains": "403 Forbidden", "count": 1, "ethertype": "88a8"}],
           "out_absent": ["QINQ-BODY"]})


def case_ipv6_ext_headers():
    from scapy.all import IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop
    fr = []
    c = TcpConv(C6, S6, 40800, 8080).handshake()
    c.send(True, http_get("v6.phish.test", "/x"))
    # add a hop-by-hop and destination options header to the request frame
    req = c.frames[-2]
    ip6 = req[IPv6]
    tcp = ip6[TCP]
    new = l2(CLIENT_MAC, SERVER_MAC, None) / IPv6(src=ip6.src, dst=ip6.dst) / IPv6ExtHdrHopByHop() / \
        IPv6ExtHdrDestOpt() / tcp
    new.time = req.time
    c.frames[-2] = new
    c.send(False, http_response("V6-BODY")).close()
    fr += c.frames
    write("ipv6-ext-headers", fr,
          policy("t", [rule(2, "reset", 'domain = [ ".phish.test" ];')]),
          {"flows_per_rule": {"2": 1}, "out_absent": ["V6-BODY"], "summary": {"injected": 2}})


def case_ip_rules():
    c = TcpConv(C, "198.51.100.201", 40900, 443).handshake()
    c.send(True, tls_client_hello("anything.example")).close()
    fr = c.frames + [icmp_echo(C, "198.51.100.202", t=2.0), icmp_echo(C, S, t=2.1),
                     icmp_echo("2001:db8:1::1", "2001:db8:bad::1", t=2.2)]
    write("ip-rules", fr,
          policy("t", [rule(4, "drop", 'ip = [ "198.51.100.200/29", "2001:db8:bad::/48" ];')]),
          # ICMP has no flow: each packet is checked against both ends and
          # recorded on its own (flow id 0)
          {"summary": {"packets_out": 1, "dropped_policy": len(c.frames) + 2},
           "flows_per_rule": {"4": 2}, "events_per_rule": {"4": 3}})


def case_origin_zone():
    out = http_conv("leaflets.example", "/", "Forbidden-Leaflet from abroad", server="198.51.100.30")
    inn = http_conv("intranet.example", "/", "forbidden-leaflet internal", sport=40001,
                    server="192.0.2.30", t0=1.0)
    extra = 'zones = { domestic = { cidr = [ "192.0.2.0/24" ]; }; };\n'
    write("origin-zone", out.frames + inn.frames,
          policy("t", [rule(50, "reset", 'payload = [ "/forbidden-leaflet/i" ]; origin = "!domestic";')],
                 extra),
          {"flows_per_rule": {"50": 1}, "out_contains": ["forbidden-leaflet internal"],
           "out_absent": ["from abroad"]})


def case_precedence_shadow():
    a = http_conv("safe.bank.example", "/", EICAR)                               # allow beats drop
    b = http_conv("www.casino.test", "/", "casino-body", sport=40001, t0=1.0)    # shadow only
    c = http_conv("news.example", "/", "news-body", sport=40002, t0=2.0)          # log
    d = http_conv("old.example", "/", "old-body", sport=40003, t0=3.0)            # expired rule
    write("precedence-shadow-expiry", a.frames + b.frames + c.frames + d.frames,
          policy("t", [rule(1, "drop", 'payload = [ "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" ];'),
                       rule(2, "allow", 'domain = [ "safe.bank.example" ];'),
                       rule(3, "reset", 'domain = [ ".casino.test" ];', 'mode = "shadow"; '),
                       rule(4, "log", 'domain = [ "news.example" ];'),
                       rule(5, "drop", 'domain = [ "old.example" ];', 'expires = "2020-01-01"; ')]),
          {"flows_per_rule": {"1": 0, "2": 1, "3": 1, "4": 1, "5": 0},
           "summary": {"dropped_policy": 0, "injected": 0},
           "out_contains": ["EICAR-STANDARD", "casino-body", "news-body", "old-body"]})


def case_fragments():
    fr = []
    # IPv4: TCP segment with the keyword fragmented into 3 IP fragments
    c = TcpConv(C, S, 41000, 80).handshake()
    c.send(True, http_get("frag.example", "/") + b"X" * 40 + b"FRAGMENTED-KEYWORD" + b"Y" * 40)
    req = c.frames[-2]
    req[IP].id = 0x1234
    frags = fragment(req[IP], fragsize=48)
    eth = l2(CLIENT_MAC, SERVER_MAC, None)
    c.frames[-2:-1] = [eth / f for f in frags]
    fr += c.frames
    # IPv6 UDP datagram fragmented, keyword across the fragment boundary
    pl = b"A" * 60 + b"V6-FRAG-KEYWORD" + b"B" * 60
    p6 = IPv6(src=C6, dst=S6) / IPv6ExtHdrFragment(id=0x5678) / UDP(sport=5000, dport=6000) / Raw(load=pl)
    for f6 in fragment6(p6, 96):
        fr.append(l2(CLIENT_MAC, SERVER_MAC, None) / f6)
    write("ip-fragments", fr,
          policy("t", [rule(1, "log", 'payload = [ "FRAGMENTED-KEYWORD" ];'),
                       rule(2, "log", 'payload = [ "V6-FRAG-KEYWORD" ];')]),
          {"flows_per_rule": {"1": 1, "2": 1}, "summary": {"dropped_policy": 0,
                                                           "packets_in": len(fr), "packets_out": len(fr)}})


def case_fragments_many():
    # Datagrams rte_ip_frag gives up (more than 8 fragments, a fragment
    # twice) are reassembled apart and inspected: a drop rule stops each by
    # dropping the fragment that completes it
    fr = []
    eth = l2(CLIENT_MAC, SERVER_MAC, None)
    # A: IPv4 UDP, EICAR in 12 fragments, in order
    a = IP(src=C, dst=S, id=0x2001) / UDP(sport=5100, dport=6100) / Raw(load=b"a" * 150 + EICAR.encode() + b"a" * 150)
    fa = fragment(a, fragsize=32)
    assert len(fa) >= 12
    fr += [eth / f for f in fa]
    # B: IPv6 UDP, EICAR in 12 fragments, last to first
    b = IPv6(src=C6, dst=S6) / IPv6ExtHdrFragment(id=0x2002) / UDP(sport=5101, dport=6101) / \
        Raw(load=b"b" * 200 + EICAR.encode() + b"b" * 200)
    fb = fragment6(b, 96)
    assert len(fb) >= 9
    fr += [eth / f for f in reversed(fb)]
    # C: IPv4 UDP, nothing to find, 12 fragments: all forwarded (reassembled too)
    c = IP(src=C, dst=S, id=0x2003) / UDP(sport=5102, dport=6102) / Raw(load=b"clean-" * 60)
    fr += [eth / f for f in fragment(c, fragsize=32)]
    # D: EICAR in 3 fragments, the first one sent twice
    d = IP(src=C, dst=S, id=0x2004) / UDP(sport=5103, dport=6103) / Raw(load=b"d" * 20 + EICAR.encode() + b"d" * 20)
    fd = fragment(d, fragsize=48)
    assert len(fd) == 3
    fr += [eth / f for f in (fd[0], fd[0], fd[1], fd[2])]
    # E: 12 fragments and a second, different version of the third:
    # receivers resolve such overlaps differently (or discard them), so
    # they are refused, and every fragment of the datagram from then on is
    # dropped (the 7th, where rte_ip_frag gave up, and the 5 after it)
    e = IP(src=C, dst=S, id=0x2005) / UDP(sport=5104, dport=6104) / Raw(load=b"e" * 360)
    fe = fragment(e, fragsize=32)
    other = fe[2].copy()
    other[Raw].load = b"E" * len(other[Raw].load)
    fr += [eth / f for f in fe[:6] + [other] + fe[6:]]
    n = len(fr)
    write("ip-fragments-many", fr,
          policy("t", [rule(1, "drop", 'payload = [ "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" ];')]),
          {"flows_per_rule": {"1": 3},
           "summary": {"packets_in": n, "packets_out": n - 3 - 6, "dropped_policy": 3,
                       "dropped_overload": 0, "dropped_malformed": 6,
                       "fragments_reassembled_apart": 4, "fragments_refused": 1,
                       "overload": {"flow_table": 0, "reassembly_ooo": 0, "reassembly_ip": 0,
                                    "field_buffers": 0, "stream_states": 0, "events": 0,
                                    "rx_backlog": 0}}})


def case_malformed():
    rnd = random.Random(7)
    fr = []
    good = bytes(l2(CLIENT_MAC, SERVER_MAC, None) / IP(src=C, dst=S) / TCP(sport=1, dport=80, flags="S"))
    fr.append(good[:10])                                  # truncated Ethernet
    fr.append(good[:20])                                  # truncated IPv4
    b = bytearray(good); b[14] = 0x43; fr.append(bytes(b))  # IHL 3
    b = bytearray(good); b[16:18] = struct.pack("!H", 2000); fr.append(bytes(b))  # total length > frame
    b = bytearray(good); b[46] = 0x20; fr.append(bytes(b))  # TCP data offset 2
    fr.append(good[:40])                                  # truncated TCP
    b = bytearray(good); b[14] = 0x75; fr.append(bytes(b))  # IP version 7
    for _ in range(20):
        fr.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200))))
    fr.append(good)
    frames = []
    from scapy.all import Ether
    for i, raw in enumerate(fr):
        p = Ether(raw) if len(raw) >= 14 else Raw(load=raw)
        p.time = i * 0.001
        frames.append(p)
    write("malformed", frames, policy("t", [rule(1, "drop", 'payload = [ "never-matches-xyz" ];')]),
          {"summary": {"packets_in": len(fr), "packets_out": len(fr), "dropped_policy": 0}})


def case_malformed_drop():
    good = bytes(l2(CLIENT_MAC, SERVER_MAC, None) / IP(src=C, dst=S) / TCP(sport=1, dport=80, flags="S"))
    from scapy.all import Ether
    fr = []
    for i, raw in enumerate([good[:20], good[:40], good]):
        p = Ether(raw)
        p.time = i * 0.001
        fr.append(p)
    write("malformed-drop", fr, policy("t", [rule(1, "drop", 'payload = [ "never-matches-xyz" ];')]),
          {"summary": {"packets_in": 3, "packets_out": 1, "dropped_malformed": 2}},
          config='policy = "policy.cfg";\nmalformed = "drop";\n')


def case_stream_depth():
    c = TcpConv(C, S, 41100, 80).handshake()
    c.send(False, b"Z" * 3000 + b"DEEP-KEYWORD", mss=1000)
    c.send(False, b"EARLY-KEYWORD")
    c.close()
    write("inspect-depth", c.frames,
          policy("t", [rule(1, "log", 'payload = [ "DEEP-KEYWORD" ];')]),
          {"flows_per_rule": {"1": 0}},
          config='policy = "policy.cfg";\nlimits = { inspect_depth = 2048; };\n')


def tls_rec(ct, body):
    if isinstance(body, str):
        body = body.encode()
    return struct.pack("!BBBH", ct, 3, 3, len(body)) + body


def case_tls_app_data():
    # Payload rules see plaintext only: TLS application data records are
    # passed by once both sides opened with their hello (encrypted =
    # "skip", the default), scanned with encrypted = "scan". The keyword
    # stands for a coincidence in ciphertext.
    kw = EICAR
    noise = bytes(random.Random(7).randrange(256) for _ in range(300))
    # A: a TLS exchange with the keyword inside application data records
    a = TcpConv(C, S, 41200, 443).handshake()
    a.send(True, tls_client_hello("a.tls.example"))
    a1 = tls_rec(23, noise + kw.encode())
    a.send(False, tls_server_hello_stub() + tls_rec(20, b"\x01") + a1)
    a2 = tls_rec(23, kw + "client-request")
    a.send(True, tls_rec(20, b"\x01") + a2)
    a3 = tls_rec(23, "A-SERVER-LATER " + kw)
    a.send(False, a3)
    a.close()
    # B: a ClientHello answered in plain HTTP: scanned, dropped
    b = TcpConv(C, S, 41201, 443, t0=a.t).handshake()
    b.send(True, tls_client_hello("b.tls.example"))
    b.send(False, http_response(kw))
    b.send(True, tls_rec(23, "B-CLIENT-LATER"))
    b.close()
    # C: the server's framing breaks after its hello: the rest is scanned
    c = TcpConv(C, S, 41202, 443, t0=b.t).handshake()
    c.send(True, tls_client_hello("c.tls.example"))
    c1 = tls_rec(23, noise)
    c.send(False, tls_server_hello_stub() + c1 + b"C-PLAIN " + kw.encode())
    c.send(False, "C-SERVER-LATER")
    c.close()
    # D: application data before the server's hello (0-RTT): scanned
    d = TcpConv(C, S, 41203, 443, t0=c.t).handshake()
    d.send(True, tls_client_hello("d.tls.example") + tls_rec(23, kw))
    d.send(False, tls_server_hello_stub() + tls_rec(23, "D-SERVER-LATER"))
    d.close()
    # E: the keyword's halves on either side of an application data
    # record, the first in a handshake record, the second where the
    # framing breaks: 300 bytes apart on the wire, so no match in either
    # mode (bytes passed by are a hole in the scanned stream, not a seam)
    e = TcpConv(C, S, 41204, 443, t0=d.t).handshake()
    e.send(True, tls_client_hello("e.tls.example"))
    e1 = tls_rec(23, noise)
    half = kw.index("ANTIVIRUS")
    e.send(False, tls_server_hello_stub() + tls_rec(22, b"\x0b" + kw[:half].encode()) + e1 +
           kw[half:].encode())
    e.send(False, "E-SERVER-LATER")
    e.close()
    # F: the same with the second half in the next segment
    f = TcpConv(C, S, 41205, 443, t0=e.t).handshake()
    f.send(True, tls_client_hello("f.tls.example"))
    f1 = tls_rec(23, noise)
    f.send(False, tls_server_hello_stub() + tls_rec(22, b"\x0b" + kw[:half].encode()) + f1)
    f.send(False, kw[half:] + "F-SERVER-LATER")
    f.close()
    fr = a.frames + b.frames + c.frames + d.frames + e.frames + f.frames
    pol = policy("t", [rule(9, "drop", 'payload = [ "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" ];')])
    enc = len(a1) + len(a2) + len(a3) + len(c1) + len(e1) + len(f1)
    n = len(fr)
    write("tls-app-data-skipped", fr, pol,
          {"flows_per_rule": {"9": 3},
           "summary": {"packets_in": n, "encrypted_bytes": enc},
           "out_contains": ["A-SERVER-LATER", "E-SERVER-LATER", "F-SERVER-LATER"],
           "out_absent": ["B-CLIENT-LATER", "C-SERVER-LATER", "D-SERVER-LATER"]})
    write("tls-app-data-scanned", fr, pol,
          {"flows_per_rule": {"9": 4},
           "summary": {"packets_in": n, "encrypted_bytes": 0},
           "out_contains": ["E-SERVER-LATER", "F-SERVER-LATER"],
           "out_absent": ["A-SERVER-LATER", "B-CLIENT-LATER", "C-SERVER-LATER",
                          "D-SERVER-LATER"]},
          config='policy = "policy.cfg";\nencrypted = "scan";\n')


def main():
    for name, fn in sorted(globals().items()):
        if name.startswith("case_"):
            fn()
    print("cases written to", HERE)


if __name__ == "__main__":
    main()
