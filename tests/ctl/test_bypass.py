#!/usr/bin/env python3
"""Live mode with a policy that has no rules: the workers forward whole
bursts without decoding them (the bypass). Every frame comes out as it
went in, in order; the counters count them all as bypassed; no flow is
kept. A reload to a policy with rules then turns inspection back on, and
a shadow candidate with rules keeps it on.

usage: test_bypass.py SLUICE SLUICE_CTL SOURCE_DIR   (standard library only)
"""
import os
import signal
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import finish, check, read_pcap, wait_for, ctl_json as sltest_ctl_json  # noqa: E402

SLUICE, CTL, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
CAP = os.path.join(SRC, "tests", "hardening", "live", "rx-backlog", "capture.pcap")
RULES = os.path.join(SRC, "tests", "hardening", "live", "rx-backlog", "policy.cfg")
T = tempfile.mkdtemp(prefix="sluice-bypass-")


def ctl(sock, *args):
    return subprocess.run([CTL, "--socket", sock, "--json", *args], capture_output=True,
                          text=True, timeout=60)


def ctl_json(sock, *args):
    return sltest_ctl_json(CTL, sock, *args)


def main():
    empty = os.path.join(T, "empty.cfg")
    with open(empty, "w") as f:
        f.write('policy = { name = "empty"; revision = "1"; };\nrules = ();\n')
    sock, out = os.path.join(T, "s.sock"), os.path.join(T, "out.pcap")
    with open(os.path.join(T, "sluice.cfg"), "w") as f:
        f.write(f'policy = "{empty}";\nports = ( [0] );\ncontrol = {{ socket = "{sock}"; }};\n'
                'idle_sleep_us = 20;\n')
    frames_in = read_pcap(CAP)
    n = len(frames_in)
    p = subprocess.Popen([SLUICE, "--no-huge", "--no-pci", "--no-shconf", "-m", "512", "-l", "0-1",
                          "--log-level=*:warning", "--vdev",
                          f"net_pcap0,rx_pcap={CAP},tx_pcap={out}", "--",
                          "--config", os.path.join(T, "sluice.cfg")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err = ""
    try:
        done = wait_for(lambda: os.path.exists(sock) and (ctl_json(sock, "stats") or {})
                        .get("total", {}).get("rx_pkts") == n, 60)
        check(done, f"all {n} packets received")
        st = ctl_json(sock, "stats")["total"]
        check(st["bypass_pkts"] == n, f"every packet bypassed ({st['bypass_pkts']} of {n})")
        check(st["tx_pkts"] == n and st["dropped_policy"] == 0, "every packet forwarded")
        check(st["flows_created"] == 0 and st["flows_active"] == 0, "no flow kept")
        r = ctl(sock, "reload", RULES)
        check(r.returncode == 0, "reload to a policy with rules")
        s = ctl_json(sock, "status") or {}
        check(s.get("policy", {}).get("name") == "hardening", "the new policy is active")
        r = ctl(sock, "reload", empty)
        check(r.returncode == 0, "reload back to the empty policy")
        r = ctl(sock, "shadow", RULES)
        check(r.returncode == 0, "shadow candidate with rules beside the empty policy")
        r = ctl(sock, "shadow", "off")
        check(r.returncode == 0, "shadow off")
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    check(p.returncode == 0, f"sluice exits 0 ({p.returncode})")
    frames_out = read_pcap(out)
    check(frames_out == frames_in, f"output frames identical to input, in order "
          f"({len(frames_out)} of {n})")
    finish(T, err)


if __name__ == "__main__":
    main()
