#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the test fixtures: every
capture under tests/ and samples/ (frames, whole captures, client streams,
TCP segment programs), every policy file (and its compiled artefact), and
control-protocol requests and responses. Standard library only.

usage: seeds.py SOURCE_DIR OUT_DIR [SLUICE_CTL]
Writes OUT_DIR/<target>/<sha1> files; existing files are kept.
"""
import glob
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile


def read_pcap(path):
    """[(ts, frame)] of a classic pcap (Ethernet or raw IP, any endianness)."""
    out = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return out, 1
        magic = struct.unpack("<I", hdr[:4])[0]
        e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        linktype = struct.unpack(e + "I", hdr[20:24])[0]
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                break
            sec, frac, incl, _ = struct.unpack(e + "IIII", ph)
            out.append((sec + frac / 1e6, f.read(incl)))
    return out, linktype


def to_ether(frame, linktype):
    if linktype == 1:
        return frame
    if linktype in (101, 12, 228, 229) and frame:   # raw IP
        et = b"\x86\xdd" if frame[0] >> 4 == 6 else b"\x08\x00"
        return b"\x00\x01\x00\x00\x00\x00" + b"\x00" * 6 + et + frame
    if linktype == 113 and len(frame) >= 16:       # Linux cooked
        return b"\x00\x01\x00\x00\x00\x00" + b"\x00" * 6 + frame[14:16] + frame[16:]
    return None


def parse(frame):
    """(src, dst, proto, sport, dport, flags, seq, payload) of an
    unfragmented TCP/UDP frame, or None."""
    off = 12
    et = struct.unpack("!H", frame[off:off + 2])[0] if len(frame) >= 14 else 0
    off += 2
    while et in (0x8100, 0x88A8) and len(frame) >= off + 4:
        et = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    if et == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 15) * 4
        tot = struct.unpack("!H", frame[off + 2:off + 4])[0]
        if struct.unpack("!H", frame[off + 6:off + 8])[0] & 0x3FFF:
            return None
        proto = frame[off + 9]
        src, dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
        l4, end = off + ihl, off + tot
    elif et == 0x86DD and len(frame) >= off + 40:
        proto = frame[off + 6]
        src, dst = frame[off + 8:off + 24], frame[off + 24:off + 40]
        l4 = off + 40
        end = l4 + struct.unpack("!H", frame[off + 4:off + 6])[0]
        while proto in (0, 43, 60) and len(frame) >= l4 + 8:
            proto, l4 = frame[l4], l4 + (frame[l4 + 1] + 1) * 8
    else:
        return None
    if proto == 6 and len(frame) >= l4 + 20:
        sport, dport, seq = struct.unpack("!HHI", frame[l4:l4 + 8])
        doff = (frame[l4 + 12] >> 4) * 4
        return src, dst, 6, sport, dport, frame[l4 + 13], seq, frame[l4 + doff:end]
    if proto == 17 and len(frame) >= l4 + 8:
        sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
        return src, dst, 17, sport, dport, 0, 0, frame[l4 + 8:end]
    return None


class Out:
    def __init__(self, root):
        self.root = root
        self.n = {}

    def add(self, target, data):
        d = os.path.join(self.root, target)
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, hashlib.sha1(data).hexdigest())
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(data)
            self.n[target] = self.n.get(target, 0) + 1


def capture_seeds(out, path, idx):
    pkts, linktype = read_pcap(path)
    frames = [f for f in (to_ether(fr, linktype) for _, fr in pkts) if f is not None]
    # decoder: each frame (a few per capture are enough)
    for fr in frames[:64]:
        out.add("engine_decode", fr)
    # dataplane: the whole capture, with the mode byte varied, and a
    # second pass after a reload and with a shadow candidate
    prog = b""
    for i, fr in enumerate(frames):
        op = 1 if i % 7 == 3 else 0
        prog += bytes([op]) + struct.pack("<H", len(fr)) + fr
    for mode in (0x00, 0x3F & (idx * 11 + 5)):
        out.add("dataplane", bytes([mode, 0]) + prog[:190000])
    ctl = bytes([2]) + struct.pack("<H", 2) + bytes([3]) + struct.pack("<H", 50)
    out.add("dataplane", bytes([0x21, 0]) + ctl + prog[:90000] +
            bytes([2]) + struct.pack("<H", 1) + prog[:90000])
    # client streams (extractors) and segment programs (reassembly)
    flows = {}
    for fr in frames:
        p = parse(fr)
        if p is None:
            continue
        src, dst, proto, sport, dport, flags, seq, pl = p
        if proto == 17:
            if pl and (dport == 53 or sport == 53):
                out.add("engine_app", bytes([1, 0]) + pl)
            continue
        key = (src, sport, dst, dport)
        fl = flows.setdefault(key, {"isn": None, "segs": [], "syn": False})
        if flags & 2:
            fl["isn"], fl["syn"] = seq, not flags & 0x10
        if pl:
            fl["segs"].append((seq, pl))
    for (src, sport, dst, dport), fl in flows.items():
        if not fl["segs"]:
            continue
        client = fl["syn"] or (fl["isn"] is None and sport > dport)
        if not client:
            continue
        isn = fl["isn"] if fl["isn"] is not None else (fl["segs"][0][0] - 1) & 0xFFFFFFFF
        stream = b"".join(pl for _, pl in sorted(fl["segs"], key=lambda s: (s[0] - isn) & 0xFFFFFFFF))
        port53 = 1 if dport == 53 else 0
        out.add("engine_app", bytes([port53, 0]) + stream[:60000])
        out.add("engine_app", bytes([port53, 0x35]) + stream[:60000])
        prog = struct.pack("!I", isn) + bytes([port53])
        for seq, pl in fl["segs"]:
            rel = (seq - isn - 1) & 0xFFFFFFFF
            for k in range(0, len(pl), 255):
                chunk = pl[k:k + 255]
                if rel + k > 0xFFFF:
                    break
                prog += bytes([0]) + struct.pack("!HB", rel + k, len(chunk)) + chunk
        out.add("engine_stream", prog)


def policy_seeds(out, src, ctl):
    files = sorted(set(glob.glob(os.path.join(src, "tests", "**", "*.cfg"), recursive=True) +
                       [os.path.join(src, "samples", "policy.cfg")]))
    tmp = tempfile.mkdtemp(prefix="sluice-seeds-")
    for i, p in enumerate(files):
        with open(p, "rb") as f:
            text = f.read()
        if b"rules" not in text:
            continue   # dataplane configs, not policies
        out.add("policy", text)
        if ctl is None:
            continue
        art = os.path.join(tmp, f"{i}.art")
        r = subprocess.run([ctl, "compile", p, "-o", art], capture_output=True)
        if r.returncode == 0 and os.path.exists(art):
            with open(art, "rb") as f:
                a = f.read()
            out.add("artefact", b"\x00" + a)
            out.add("artefact", b"\x01" + a)
            os.unlink(art)
    os.rmdir(tmp)


def ctl_seeds(out):
    reqs = [
        {"v": 1, "cmd": "status"}, {"v": 1, "cmd": "stats"},
        {"v": 1, "cmd": "rules", "opts": {"top": 10}},
        {"v": 1, "cmd": "flows", "opts": {"limit": 5, "blocked": True}},
        {"v": 1, "cmd": "reload", "args": ["policy.cfg"]}, {"v": 1, "cmd": "reload"},
        {"v": 1, "cmd": "shadow", "args": ["off"]}, {"v": 1, "cmd": "diff", "opts": {"top": 3}},
        {"v": 1, "cmd": "rule", "args": ["disable", "1002"]},
        {"v": 9, "cmd": "status"}, {"v": 1, "cmd": "nope"}, {"v": 1, "cmd": "reload", "args": [1]},
    ]
    for r in reqs:
        out.add("ctlproto", json.dumps(r).encode())
    for raw in [b"garbage", b"{}", b"\x00\xff\xfe", b"[" * 64, b'{"v":1,"cmd":"sta',
                b'{"v":1,"ok":true,"result":{"a":1}}',
                b'{"v":1,"ok":false,"error":"x","diag":["f:1: e"]}']:
        out.add("ctlproto", raw)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    ctl = sys.argv[3] if len(sys.argv) > 3 else None
    out = Out(dst)
    caps = sorted(glob.glob(os.path.join(src, "tests", "**", "*.pcap"), recursive=True) +
                  glob.glob(os.path.join(src, "samples", "*.pcap")))
    for i, c in enumerate(caps):
        capture_seeds(out, c, i)
    policy_seeds(out, src, ctl)
    ctl_seeds(out)
    print("seeds:", ", ".join(f"{k} +{v}" for k, v in sorted(out.n.items())) or "none new")
    return 0


if __name__ == "__main__":
    sys.exit(main())
