"""Helpers shared by the Python test scripts (standard library only):
checks that collect failures, ending a script, reading a capture's frames, waiting on a
condition with a bound, and sluice-ctl's JSON answers.

A script in tests/<suite>/ imports it with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import sltest
"""
import json
import shutil
import struct
import subprocess
import sys
import time

FAILS = []   # what failed, in order; written by check()


def check(cond, what):
    """Print ok/FAIL for one expectation; remember a failure."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def finish(workdir, err=""):
    """End a script: on failures keep workdir, show the tail of the
    process's stderr (if given) and exit 1; else remove it, print PASS."""
    if FAILS:
        print(f"{len(FAILS)} failure(s); kept {workdir}")
        if err:
            print("--- stderr\n" + err[-3000:])
        sys.exit(1)
    shutil.rmtree(workdir, ignore_errors=True)
    print("PASS")


def read_pcap(path):
    """The frames of a classic pcap file (either byte order), in order."""
    frames = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return frames
        magic = struct.unpack("<I", hdr[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                break
            _, _, incl, _ = struct.unpack(endian + "IIII", ph)
            frames.append(f.read(incl))
    return frames


# errors that mean "not there yet" while a dataplane starts or recovers
NOT_YET = (ValueError, KeyError, TypeError, OSError)


def wait_for(cond, secs, tolerate=()):
    """Poll cond() every 50 ms for at most secs. Exceptions propagate,
    except those in tolerate, which count as false (e.g. NOT_YET)."""
    end = time.time() + secs
    while time.time() < end:
        try:
            if cond():
                return True
        except tolerate:
            pass
        time.sleep(0.05)
    return False


def ctl_json(ctl, sock, *args, timeout=60):
    """sluice-ctl --json VERB... against sock: the answer, or None."""
    p = subprocess.run([ctl, "--socket", sock, "--json", *args], capture_output=True,
                       text=True, timeout=timeout)
    return json.loads(p.stdout) if p.returncode == 0 else None
