#!/usr/bin/env python3
"""Control plane against a running dataplane (offline mode replaying the
sample capture in a loop, with a control socket):

- reload in a loop under load loses no packet: in == out + dropped by policy,
  no tx failure, no overload drop;
- a policy that fails to compile changes nothing and the errors come back
  as FILE:LINE; a killed client mid-request leaves the dataplane unharmed;
  concurrent clients are served; malformed requests get an error;
- the socket is mode 0660; rule enable/disable take effect and are recorded;
  shadow + diff; flows --blocked.

usage: test_control.py SLUICE SLUICE_CTL SOURCE_DIR   (standard library only)
"""
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import finish, check, wait_for  # noqa: E402

SLUICE, CTL, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
T = tempfile.mkdtemp(prefix="sluice-ctl-test-")
SOCK = os.path.join(T, "s.sock")


def ctl(*args, timeout=120):
    return subprocess.run([CTL, "--socket", SOCK, *args], capture_output=True, text=True,
                          timeout=timeout)


def ctl_json(*args):
    p = ctl("--json", *args)
    if p.returncode != 0:
        raise RuntimeError(f"{args}: {p.stderr}")
    return json.loads(p.stdout)


def raw(payload, read=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(SOCK)
    s.sendall(payload)
    data = b""
    if read:
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    s.close()
    return data


def main():
    pol_a = os.path.join(SRC, "samples", "policy.cfg")
    pol_b = os.path.join(T, "policy-b.cfg")
    with open(pol_a) as f:
        text = f.read()
    with open(pol_b, "w") as f:
        f.write(text.replace('revision = "2026-11-23.1"', 'revision = "2026-11-23.2"')
                .replace('"www.casino.test"', '"www.casino.test", "poker.test"'))
    bad = os.path.join(T, "bad.cfg")
    with open(bad, "w") as f:
        f.write(text.replace('action = "reset";\n    match = { domain = [ ".malware.test" ]; };',
                             'action = "rst";\n    match = { domain = [ ".malware.test" ]; };'))
    big = os.path.join(T, "big.cfg")
    with open(os.path.join(T, "big.txt"), "w") as f:
        for i in range(100000):
            f.write(f"host{i}.big.test\n")
    with open(big, "w") as f:
        f.write('policy = { name = "big"; revision = "1"; };\nrules = ( { id = 1; name = "big";'
                ' basis = "test"; action = "drop"; match = { domain_file = "big.txt"; }; } );\n')

    dp = subprocess.Popen([SLUICE, "--pcap", os.path.join(SRC, "samples", "demo.pcap"),
                           "--out", "/dev/null", "--policy", pol_a,
                           "--records", os.path.join(T, "rec"), "--socket", SOCK,
                           "--loop", "100000000", "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if not wait_for(lambda: os.path.exists(SOCK), 30):
            check(False, "control socket appears")
            return
        mode = stat.S_IMODE(os.stat(SOCK).st_mode)
        check(mode == 0o660, f"control socket mode is 0660 (got {oct(mode)})")

        st = ctl_json("status")
        digest_a = st["policy"]["digest"]
        check(st["policy"]["name"] == "sluice-demo" and st["mode"] == "offline", "status")
        s = ctl_json("stats")
        check(s["total"]["rx_pkts"] > 0, "stats: packets are flowing")

        # reload in a loop under load, alternating two revisions
        swaps = []
        for i in range(20):
            r = ctl_json("reload", pol_b if i % 2 == 0 else pol_a)
            swaps.append(r["swap_s"])
        check(ctl_json("status")["policy"]["revision"] == "2026-11-23.1",
              f"20 reloads under load (max swap {max(swaps) * 1000:.1f} ms)")

        # artefact reload
        art = os.path.join(T, "b.art")
        subprocess.run([CTL, "compile", pol_b, "-o", art], check=True, capture_output=True)
        r = ctl_json("reload", art)
        check(r["policy"]["revision"] == "2026-11-23.2", "reload from a compiled artefact")
        # a relative path names the caller's file, not one beside the dataplane
        p = subprocess.run([CTL, "--socket", SOCK, "--json", "reload", "b.art"], cwd=T,
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0 and json.loads(p.stdout)["policy"]["revision"] == "2026-11-23.2",
              "reload with a path relative to the caller's directory")

        # bad policy: errors with FILE:LINE, nothing changes
        p = ctl("reload", bad)
        check(p.returncode == 1 and "bad.cfg:" in p.stderr and "rst" in p.stderr,
              "bad policy is rejected with FILE:LINE: " + p.stderr.strip().splitlines()[0])
        check(ctl_json("status")["policy"]["revision"] == "2026-11-23.2",
              "the running policy is unchanged after a failed reload")

        # a client killed mid-request (while a large policy compiles)
        k = subprocess.Popen([CTL, "--socket", SOCK, "reload", big], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(0.1)
        k.kill()
        k.wait()
        raw(b'{"v":1,"cmd":"sta', read=False)   # half a request, then gone
        check(wait_for(lambda: ctl("status").returncode == 0, 30),
              "dataplane unharmed by clients that vanish mid-request")
        check(wait_for(lambda: ctl_json("status")["policy"]["name"] == "big", 60),
              "the orphaned reload still completes")
        ctl_json("reload", pol_a)
        check(ctl_json("status")["policy"]["digest"] == digest_a, "back to the first policy")

        # concurrent clients
        results = []

        def worker():
            for _ in range(5):
                results.append(ctl("status").returncode == 0 and ctl("stats").returncode == 0)
        ts = [threading.Thread(target=worker) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check(len(results) == 40 and all(results), "8 concurrent clients x 5 requests served")

        # malformed requests: an error each, never a crash
        for payload in [b"garbage\n", b"{}\n", b'{"v":9,"cmd":"status"}\n',
                        b'{"v":1,"cmd":"nope"}\n', b'{"v":1,"cmd":"reload","args":[1]}\n',
                        b"\x00\xff\xfe\n", b"[" * 5000 + b"\n"]:
            r = raw(payload)
            ok = False
            try:
                ok = json.loads(r)["ok"] is False
            except ValueError:
                pass
            check(ok, f"malformed request answered with an error: {payload[:24]!r}")
        r = raw(b"x" * (70 * 1024))
        check(b'"ok":false' in r, "oversized request refused")
        check(ctl("status").returncode == 0, "still serving after malformed requests")

        # rule disable / enable take effect and are recorded
        r = ctl_json("rule", "disable", "1002")
        check(r["enabled"] is False, "rule 1002 disabled")
        rules = {e["id"]: e for e in ctl_json("rules")}
        check(rules[1002]["enabled"] is False, "rules shows 1002 disabled")
        check(ctl("rule", "disable", "999999").returncode == 1, "unknown rule id refused")
        ctl_json("reload")
        check(1002 in ctl_json("status")["policy"]["disabled"], "a reload keeps the rule off")
        ctl_json("rule", "enable", "1002")
        check(ctl_json("status")["policy"]["disabled"] == [], "rule 1002 enabled again")

        # flows
        f = ctl_json("flows", "--blocked", "--limit", "5")
        check(f["total"] >= 1 and all(x["state"] == "blocked" for x in f["flows"]),
              f"flows --blocked lists blocked flows ({f['total']})")

        # shadow + diff
        r = ctl_json("shadow", pol_b)
        check(ctl_json("status")["shadow"]["revision"] == "2026-11-23.2", "shadow candidate running")
        d = {}

        def diff_compared_flows():   # the candidate has seen flows since it started
            d.update(ctl_json("diff"))
            return d["flows_compared"] > 0

        wait_for(diff_compared_flows, 30)
        check(d["flows_compared"] > 0, f"diff compares flows ({d['flows_compared']})")
        ctl_json("shadow", "off")
        check(ctl("diff").returncode == 1, "diff without a candidate is an error")
    finally:
        dp.send_signal(signal.SIGINT)
        try:
            out, err = dp.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            dp.kill()
            out, err = dp.communicate()
    summary = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(summary))
    check(summary["packets_in"] > 0 and
          summary["packets_in"] == summary["packets_out"] + summary["dropped_policy"],
          "no packet lost: in == out + dropped by policy")
    check(summary["tx_fail"] == 0 and summary["dropped_overload"] == 0 and
          summary["dropped_malformed"] == 0, "counters say 0 lost")
    v = subprocess.run([CTL, "records", "verify", os.path.join(T, "rec")], capture_output=True,
                       text=True)
    check(v.returncode == 0, "records verify after the session")
    g = subprocess.run([CTL, "records", "grep", os.path.join(T, "rec"), "--json"],
                       capture_output=True, text=True)
    admin = [json.loads(x) for x in g.stdout.splitlines() if '"admin"' in x]
    texts = " | ".join(a.get("text", "") for a in admin)
    check("rule 1002 disabled" in texts and "rule 1002 enabled" in texts,
          "rule switches are in the records")
    check("reload rejected" in texts, "the rejected reload is in the records")
    finish(T, err)


if __name__ == "__main__":
    main()
