#!/usr/bin/python3
"""Generate samples/demo.pcap: a small mixed capture exercising every action
of samples/policy.cfg (reserved names and addresses only)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "pcap"))
from pcapgen import (TcpConv, dns_answer, dns_query, http_get, http_response,  # noqa: E402
                     icmp_echo, tls_client_hello, tls_server_hello_stub)
from scapy.all import wrpcap  # noqa: E402

EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
C = "192.0.2.10"


def main(out):
    frames = []
    t = 1.0

    def add(conv):
        nonlocal t
        frames.extend(conv.frames)
        t = conv.t + 0.01

    # 1. allowed web page
    c = TcpConv(C, "198.51.100.10", 40001, 80, t0=t).handshake()
    c.send(True, http_get("www.example", "/")).send(False, http_response("hello from www.example\n")).close()
    add(c)
    # 2. phishing URL -> block page (1001)
    c = TcpConv(C, "198.51.100.11", 40002, 80, t0=t).handshake()
    c.send(True, http_get("login.bank.example", "/verify?acct=1")).send(False, http_response("phish")).close()
    add(c)
    # 3. TLS to a phishing host -> reset (block-page acts as reset for TLS)
    c = TcpConv(C, "198.51.100.12", 40003, 443, t0=t).handshake()
    c.send(True, tls_client_hello("shop.phish.test")).send(False, tls_server_hello_stub())
    add(c)
    # 4. DNS for a malware domain -> NXDOMAIN (1002); 5. DNS for an allowed one
    frames.append(dns_query(C, "198.51.100.53", 50001, "dl.malware.test", qid=0x0101, t=t))
    frames.append(dns_answer(C, "198.51.100.53", 50001, "dl.malware.test", "198.51.100.99", qid=0x0101, t=t + 0.001))
    frames.append(dns_query(C, "198.51.100.53", 50002, "www.example", qid=0x0102, t=t + 0.002))
    frames.append(dns_answer(C, "198.51.100.53", 50002, "www.example", "198.51.100.10", qid=0x0102, t=t + 0.003))
    t += 0.01
    # 6. EICAR split across two server segments -> drop (1003)
    c = TcpConv(C, "198.51.100.13", 40006, 80, t0=t).handshake()
    c.send(True, http_get("files.example", "/eicar.com")).send(False, http_response(EICAR), mss=60).close()
    add(c)
    # 7. connection to an address under order -> drop (1004)
    c = TcpConv(C, "198.51.100.201", 40007, 443, t0=t).handshake()
    add(c)
    frames.append(icmp_echo(C, "198.51.100.202", t=t))
    # 8. leaflet from a server outside the zone -> reset (1005); same text from inside passes
    c = TcpConv(C, "198.51.100.30", 40008, 80, t0=t).handshake()
    c.send(True, http_get("leaflets.example", "/today")).send(False, http_response("Forbidden-Leaflet #7")).close()
    add(c)
    c = TcpConv(C, "192.0.2.30", 40009, 80, t0=t).handshake()
    c.send(True, http_get("intranet.example", "/today")).send(False, http_response("forbidden-leaflet (internal copy)")).close()
    add(c)
    # 9. shadow rule: recorded, not blocked (2001)
    c = TcpConv(C, "198.51.100.14", 40010, 443, t0=t).handshake()
    c.send(True, tls_client_hello("www.casino.test")).send(False, tls_server_hello_stub()).close()
    add(c)
    # 10. log rule (3001)
    c = TcpConv(C, "198.51.100.15", 40011, 80, t0=t).handshake()
    c.send(True, http_get("news.example", "/")).send(False, http_response("news")).close()
    add(c)
    # 11. IPv6 in VLAN 100 to the phishing host -> block page
    c = TcpConv("2001:db8:1::10", "2001:db8:2::11", 40012, 80, vlans=[100], t0=t).handshake()
    c.send(True, http_get("login.bank.example", "/verify")).send(False, http_response("phish6")).close()
    add(c)
    # 12. exemption: allow wins although the path carries the EICAR string
    c = TcpConv(C, "198.51.100.16", 40013, 80, t0=t).handshake()
    c.send(True, http_get("safe.bank.example", "/")).send(False, http_response(EICAR)).close()
    add(c)
    wrpcap(out, frames)
    print(f"{out}: {len(frames)} frames")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "samples", "demo.pcap"))
