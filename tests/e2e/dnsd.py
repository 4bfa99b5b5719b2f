#!/usr/bin/env python3
"""A tiny authoritative DNS responder for the end-to-end test: answers every
A query with one address, over UDP and TCP. Standard library only."""
import argparse
import socket
import socketserver
import struct
import threading


def answer(query, addr):
    if len(query) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qd < 1:
        return None
    i = 12
    while i < len(query) and query[i] != 0:
        i += 1 + query[i]
    qend = i + 5
    if qend > len(query):
        return None
    qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
    question = query[12:qend]
    rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080
    if qtype == 1:
        hdr = struct.pack("!HHHHHH", qid, rflags, 1, 1, 0, 0)
        rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(addr)
        return hdr + question + rr
    return struct.pack("!HHHHHH", qid, rflags, 1, 0, 0, 0) + question


class Udp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        r = answer(data, self.server.addr)
        if r:
            sock.sendto(r, self.client_address)


class Tcp(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            hdr = self.rfile.read(2)
            if len(hdr) < 2:
                return
            n = struct.unpack("!H", hdr)[0]
            r = answer(self.rfile.read(n), self.server.addr)
            if r:
                self.wfile.write(struct.pack("!H", len(r)) + r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--answer", required=True)
    ap.add_argument("--port", type=int, default=53)
    a = ap.parse_args()
    socketserver.ThreadingUDPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    u = socketserver.ThreadingUDPServer((a.listen, a.port), Udp)
    t = socketserver.ThreadingTCPServer((a.listen, a.port), Tcp)
    u.addr = t.addr = a.answer
    threading.Thread(target=u.serve_forever, daemon=True).start()
    print("dnsd ready", flush=True)
    t.serve_forever()


if __name__ == "__main__":
    main()
