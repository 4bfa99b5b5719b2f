#!/usr/bin/env python3
"""No leak across a reload loop: a dataplane under load (offline mode
replaying the sample in a loop) reloads two policy revisions and an
artefact alternately, with a shadow candidate switched on and off and a
rule disabled and enabled. Its resident memory after the warm-up must not
grow with the number of reloads (checked in a normal build; a sanitizer
build holds freed memory in quarantine, and its LeakSanitizer checks the
process at exit instead), and it must stop cleanly with every packet
accounted for.

usage: test_reload_leak.py SLUICE SLUICE_CTL SOURCE_DIR   (standard library only)
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import finish, check, wait_for  # noqa: E402

SLUICE, CTL, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
T = tempfile.mkdtemp(prefix="sluice-reload-")
SOCK = os.path.join(T, "s.sock")


def sanitized():
    out = subprocess.run(["ldd", SLUICE], capture_output=True, text=True).stdout
    return "libasan" in out


def ctl(*args):
    return subprocess.run([CTL, "--socket", SOCK, *args], capture_output=True, text=True,
                          timeout=120)


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS")).split()[1])


def main():
    pol_a = os.path.join(SRC, "samples", "policy.cfg")
    pol_b = os.path.join(T, "b.cfg")
    with open(pol_a) as f:
        text = f.read()
    with open(pol_b, "w") as f:
        f.write(text.replace('revision = "2026-11-23.1"', 'revision = "2026-11-23.2"'))
    art = os.path.join(T, "a.art")
    subprocess.run([CTL, "compile", pol_a, "-o", art], check=True, capture_output=True)
    asan = sanitized()
    rounds = 12 if asan else 60
    p = subprocess.Popen([SLUICE, "--pcap", os.path.join(SRC, "samples", "demo.pcap"),
                          "--out", "/dev/null", "--policy", pol_a, "--records",
                          os.path.join(T, "rec"), "--socket", SOCK, "--loop", "100000000",
                          "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: os.path.exists(SOCK), 60)

        def one_round(i):
            ok = ctl("reload", pol_b).returncode == 0
            ok &= ctl("reload", art).returncode == 0
            if i % 3 == 0:
                ok &= ctl("shadow", pol_b).returncode == 0
                ok &= ctl("rule", "disable", "1002").returncode == 0
                ok &= ctl("shadow", "off").returncode == 0
                ok &= ctl("rule", "enable", "1002").returncode == 0
            return ok

        ok = all(one_round(i) for i in range(5))
        base = rss(p.pid)
        ok &= all(one_round(i) for i in range(rounds))
        grown = rss(p.pid) - base
        check(ok, f"{2 * (rounds + 5)} reloads (policy, artefact), shadow and rule switches answered")
        if asan:
            print(f"(sanitizer build: resident memory {grown:+d} KiB, not judged; "
                  "LeakSanitizer checks at exit)")
        else:
            check(grown < 4096, f"resident memory after {2 * rounds} more reloads: {grown:+d} KiB "
                  "(less than 4 MiB)")
    finally:
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
    check(p.returncode == 0, f"clean stop (exit {p.returncode}; a leak fails a sanitizer build here)")
    lines = out.strip().splitlines()
    s = json.loads(lines[-1]) if lines else {}
    check(s.get("packets_in", 0) > 0 and
          s["packets_in"] == s["packets_out"] + s["dropped_policy"] + s["dropped_overload"],
          "every packet accounted for across the reloads")
    finish(T, err)


if __name__ == "__main__":
    main()
