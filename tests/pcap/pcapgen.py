"""Build TCP and UDP conversations as Ethernet frames for sluice's sample
capture, pcap fixtures and benchmark traffic. Needs scapy (Debian's
/usr/bin/python3 with python3-scapy). Deterministic: no randomness unless a
seeded random.Random is passed in.
"""
import struct

from scapy.all import DNS, DNSQR, DNSRR, Dot1Q, Ether, ICMP, IP, IPv6, Raw, TCP, UDP  # noqa: F401

CLIENT_MAC = "02:00:00:00:00:01"
SERVER_MAC = "02:00:00:00:00:02"


def l2(src_mac, dst_mac, vlans):
    """Ethernet with 802.1Q tags; two tags are QinQ (outer TPID 0x88a8)."""
    if vlans and len(vlans) == 2:
        frame = Ether(src=src_mac, dst=dst_mac, type=0x88A8)
    else:
        frame = Ether(src=src_mac, dst=dst_mac)
    for v in vlans or ():
        frame = frame / Dot1Q(vlan=v)
    return frame


def ip_layer(src, dst):
    return IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)


class TcpConv:
    """One TCP connection; tracks sequence numbers of both sides."""

    def __init__(self, client, server, sport, dport, vlans=None, server_vlans=None,
                 isn_c=1000, isn_s=50000, t0=0.0):
        self.c, self.s = client, server
        self.sport, self.dport = sport, dport
        self.cvl = vlans
        self.svl = vlans if server_vlans is None else server_vlans
        self.cseq, self.sseq = isn_c, isn_s
        self.frames = []
        self.t = t0

    def _pkt(self, from_client, flags, seq, ack, data=b""):
        if from_client:
            f = l2(CLIENT_MAC, SERVER_MAC, self.cvl) / ip_layer(self.c, self.s) / \
                TCP(sport=self.sport, dport=self.dport, flags=flags, seq=seq, ack=ack, window=65535)
        else:
            f = l2(SERVER_MAC, CLIENT_MAC, self.svl) / ip_layer(self.s, self.c) / \
                TCP(sport=self.dport, dport=self.sport, flags=flags, seq=seq, ack=ack, window=65535)
        if data:
            f = f / Raw(load=data)
        self.t += 0.001
        f.time = self.t
        return f

    def handshake(self, syn_data=b""):
        self.frames.append(self._pkt(True, "S", self.cseq, 0, syn_data))
        self.cseq += 1 + len(syn_data)
        self.frames.append(self._pkt(False, "SA", self.sseq, self.cseq))
        self.sseq += 1
        self.frames.append(self._pkt(True, "A", self.cseq, self.sseq))
        return self

    def send(self, from_client, data, mss=1400, ack=True):
        """Send data in segments of at most mss bytes; the peer ACKs at the end."""
        if isinstance(data, str):
            data = data.encode()
        for i in range(0, len(data), mss):
            chunk = data[i:i + mss]
            if from_client:
                self.frames.append(self._pkt(True, "PA", self.cseq, self.sseq, chunk))
                self.cseq += len(chunk)
            else:
                self.frames.append(self._pkt(False, "PA", self.sseq, self.cseq, chunk))
                self.sseq += len(chunk)
        if ack:
            if from_client:
                self.frames.append(self._pkt(False, "A", self.sseq, self.cseq))
            else:
                self.frames.append(self._pkt(True, "A", self.cseq, self.sseq))
        return self

    def segment(self, from_client, offset, data):
        """A raw segment at a relative offset from the side's current seq
        (for out-of-order and retransmission cases); does not advance seq."""
        if isinstance(data, str):
            data = data.encode()
        seq = (self.cseq if from_client else self.sseq) + offset
        ack = self.sseq if from_client else self.cseq
        self.frames.append(self._pkt(from_client, "PA", seq, ack, data))
        return self

    def advance(self, from_client, n):
        if from_client:
            self.cseq += n
        else:
            self.sseq += n
        return self

    def close(self):
        self.frames.append(self._pkt(True, "FA", self.cseq, self.sseq))
        self.cseq += 1
        self.frames.append(self._pkt(False, "FA", self.sseq, self.cseq))
        self.sseq += 1
        self.frames.append(self._pkt(True, "A", self.cseq, self.sseq))
        return self


def http_get(host, path="/", extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/7.88.1\r\n"
            f"Accept: */*\r\n{extra}\r\n").encode()


def http_response(body, status="200 OK", ctype="text/plain"):
    if isinstance(body, str):
        body = body.encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"\r\n").encode() + body


def tls_client_hello(sni, pad=0, pad_first=False):
    """A syntactically valid TLS 1.2/1.3 ClientHello with an SNI extension
    and, with pad, a padding extension of pad bytes (after the others, or
    first); framed in records of at most 16384 bytes."""
    name = sni.encode()
    ext_sni = struct.pack("!HH", 0, len(name) + 5) + struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    ext_ver = struct.pack("!HHB", 43, 3, 2) + b"\x03\x04"
    ext_grp = struct.pack("!HHH", 10, 4, 2) + b"\x00\x1d"
    exts = ext_sni + ext_ver + ext_grp
    if pad:
        ext_pad = struct.pack("!HH", 21, pad) + b"\x00" * pad
        exts = ext_pad + exts if pad_first else exts + ext_pad
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!H", 4) + b"\x13\x01\x13\x02" + \
        b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"".join(b"\x16\x03\x01" + struct.pack("!H", len(hs[i:i + 16384])) + hs[i:i + 16384]
                    for i in range(0, len(hs), 16384))


def tls_server_hello_stub():
    return b"\x16\x03\x03\x00\x04\x02\x00\x00\x00"


def dns_query(client, server, sport, qname, qid=0x1234, vlans=None, t=0.0, qtype="A"):
    f = l2(CLIENT_MAC, SERVER_MAC, vlans) / ip_layer(client, server) / UDP(sport=sport, dport=53) / \
        DNS(id=qid, rd=1, qd=DNSQR(qname=qname, qtype=qtype))
    f.time = t
    return f


def dns_answer(client, server, sport, qname, addr, qid=0x1234, vlans=None, t=0.0):
    f = l2(SERVER_MAC, CLIENT_MAC, vlans) / ip_layer(server, client) / UDP(sport=53, dport=sport) / \
        DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=qname), an=DNSRR(rrname=qname, rdata=addr, ttl=60))
    f.time = t
    return f


def dns_tcp_message(qname, qid=0x4321):
    msg = bytes(DNS(id=qid, rd=1, qd=DNSQR(qname=qname)))
    return struct.pack("!H", len(msg)) + msg


def icmp_echo(src, dst, t=0.0):
    if ":" in src:
        from scapy.all import ICMPv6EchoRequest
        f = l2(CLIENT_MAC, SERVER_MAC, None) / IPv6(src=src, dst=dst) / ICMPv6EchoRequest(data=b"ping")
    else:
        f = l2(CLIENT_MAC, SERVER_MAC, None) / IP(src=src, dst=dst) / ICMP() / Raw(load=b"ping")
    f.time = t
    return f
