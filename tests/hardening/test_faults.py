#!/usr/bin/env python3
"""Faults against a running dataplane (offline mode replaying the sample
capture in a loop, with records and a control socket). Each fault must give
a clear error, keep forwarding under the last good policy (the packet and
rule counters go on), and lose no record already acknowledged: the chain
head `status` reported before the fault is still in the chain afterwards
(`sluice-ctl records verify --expect SEQ:HASH`).

- records full: RLIMIT_FSIZE of 1 byte on the running process (writes fail
  with EFBIG; SIGXFSZ must not kill it), then lifted: writing resumes and
  a loss record counts what could not be written;
- records directory unwritable: EACCES on segment creation (the process
  runs without CAP_DAC_OVERRIDE, segments rotate every second, the
  directory is made read-only, then writable again);
- records directory is a file: refused at start with a clear message;
- policy list file missing at reload: reload refused with FILE:LINE, the
  running policy unchanged and still enforced;
- artefact corrupted (a flipped byte, truncated): reload refused, running
  policy unchanged; a corrupted artefact at start: refused;
- control clients vanishing: mid-request, mid-response, without reading a
  large answer, after pipelining requests they never read, many at once.
- control clients holding every slot without a word: turned away while
  they are fresh; once idle for 2 s, the oldest's slot goes to a newcomer
  and it is told why.

usage: test_faults.py SLUICE SLUICE_CTL SOURCE_DIR   (standard library only)
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import FAILS, NOT_YET, check  # noqa: E402
from sltest import wait_for as sl_wait_for  # noqa: E402

SLUICE, CTL, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
T = tempfile.mkdtemp(prefix="sluice-faults-")
SAMPLE = os.path.join(SRC, "samples", "demo.pcap")
POLICY = os.path.join(SRC, "samples", "policy.cfg")
RUNNING = []      # dataplanes to stop whatever happens (they loop forever)


def wait_for(cond, secs):
    return sl_wait_for(cond, secs, NOT_YET)


class Dataplane:
    """sluice replaying the sample in a loop; stdout and stderr go to
    pipes (an RLIMIT_FSIZE would truncate files)."""

    def __init__(self, name, policy=POLICY, config="", prefix=()):
        self.name = name
        self.dir = os.path.join(T, name)
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "s.sock")
        self.rec = os.path.join(self.dir, "rec")
        cfg = os.path.join(self.dir, "sluice.cfg")
        with open(cfg, "w") as f:
            f.write(f'policy = "{policy}";\n' + config)
        self.p = subprocess.Popen(
            [*prefix, SLUICE, "--pcap", SAMPLE, "--out", "/dev/null", "--config", cfg,
             "--records", self.rec, "--socket", self.sock, "--loop", "100000000", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        RUNNING.append(self)
        self.err = []
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()
        self.up = wait_for(lambda: self.status() is not None, 30)

    def _drain(self):
        for line in self.p.stderr:
            self.err.append(line)

    def ctl(self, *args, timeout=60):
        return subprocess.run([CTL, "--socket", self.sock, *args], capture_output=True,
                              text=True, timeout=timeout)

    def json(self, *args):
        r = self.ctl("--json", *args)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def status(self):
        return self.json("status") if os.path.exists(self.sock) else None

    def hits(self, rule):
        return {r["id"]: r["hits"] for r in self.json("rules")}[rule]

    def flowing(self, rule=1002):
        """Packets go on and rule keeps matching (enforced): over 0.3 s."""
        a, ha = self.json("stats")["total"], self.hits(rule)
        time.sleep(0.3)
        b, hb = self.json("stats")["total"], self.hits(rule)
        return b["rx_pkts"] > a["rx_pkts"] and b["tx_pkts"] > a["tx_pkts"] and hb > ha

    def ack(self):
        """The chain head on disk and synced (fsynced once a second)."""
        r = self.status()["records"]
        check(wait_for(lambda: self.status()["records"]["synced_seq"] >= r["seq"], 10),
              f"{self.name}: records synced up to the head acknowledged")
        return r["seq"], r["head"]

    def stop(self):
        if self in RUNNING:
            RUNNING.remove(self)
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.t.join(5)
        return self.p.returncode, "".join(self.err)

    def verify(self, ack):
        return subprocess.run([CTL, "records", "verify", self.rec, "--expect", f"{ack[0]}:{ack[1]}"],
                              capture_output=True, text=True)

    def losses(self, cause):
        n = 0
        for seg in sorted(glob.glob(os.path.join(self.rec, "*.jsonl"))):
            for line in open(seg, encoding="utf-8"):
                if '"loss"' in line:
                    ev = json.loads(line)
                    if ev.get("type") == "loss" and cause in ev.get("cause", ""):
                        n += ev["count"]
        return n

    def admin(self, text):
        g = subprocess.run([CTL, "records", "grep", self.rec, "--json"], capture_output=True,
                           text=True)
        return any(text in json.loads(x).get("text", "") for x in g.stdout.splitlines()
                   if '"admin"' in x)


def records_full():
    d = Dataplane("full")
    check(d.up, "records full: dataplane up")
    ack = d.ack()
    subprocess.run(["prlimit", "--pid", str(d.p.pid), "--fsize=1:unlimited"], check=True)
    check(wait_for(lambda: d.status()["records"]["state"] == "failing", 10),
          "records full: status says the records are failing")
    check(d.flowing(), "records full: packets forwarded and the policy enforced meanwhile")
    subprocess.run(["prlimit", "--pid", str(d.p.pid), "--fsize=unlimited:unlimited"], check=True)
    check(wait_for(lambda: d.status()["records"]["state"] == "ok", 10),
          "records full: writing again once there is room")
    wait_for(lambda: "writing again" in "".join(d.err), 5)
    rc, err = d.stop()
    check(rc == 0, f"records full: clean stop (exit {rc})")
    check("write failed: File too large" in err and "writing again" in err,
          "records full: clear messages on stderr: " +
          " | ".join(x.strip() for x in err.splitlines() if "records" in x)[:200])
    v = d.verify(ack)
    check(v.returncode == 0, "records full: records verify, with the head acknowledged "
          f"before the fault (seq {ack[0]}) still in the chain")
    check(d.losses("records write error: File too large") > 0,
          "records full: a loss record counts the events that could not be written")


def records_unwritable():
    if shutil.which("setpriv") is None:
        print("skip records unwritable: no setpriv")
        return
    # root would write anyway: run without CAP_DAC_OVERRIDE
    d = Dataplane("unwritable", config="records = { segment_seconds = 1; };\n",
                  prefix=("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"))
    if not d.up:
        d.stop()
        print("skip records unwritable: cannot run without CAP_DAC_OVERRIDE here")
        return
    ack = d.ack()
    os.chmod(d.rec, 0o500)
    check(wait_for(lambda: d.status()["records"]["state"] == "failing", 10),
          "records unwritable: status says the records are failing")
    check(d.flowing(), "records unwritable: packets forwarded and the policy enforced meanwhile")
    os.chmod(d.rec, 0o750)
    check(wait_for(lambda: d.status()["records"]["state"] == "ok", 10),
          "records unwritable: writing again once the directory is writable")
    wait_for(lambda: "writing again" in "".join(d.err), 5)
    rc, err = d.stop()
    check(rc == 0 and "Permission denied" in err and "writing again" in err,
          f"records unwritable: clean stop (exit {rc}), stderr names the error and the recovery")
    check(d.verify(ack).returncode == 0, "records unwritable: acknowledged head still in the "
          "verified chain")
    check(d.losses("Permission denied") > 0, "records unwritable: loss record written")


def records_not_a_dir():
    f = os.path.join(T, "notadir")
    open(f, "w").close()
    p = subprocess.run([SLUICE, "--pcap", SAMPLE, "--out", "/dev/null", "--policy", POLICY,
                        "--records", f], capture_output=True, text=True, timeout=120)
    check(p.returncode != 0 and f"records {f}" in p.stderr,
          "records directory is a file: refused at start: " + p.stderr.strip().splitlines()[-1])


def list_missing():
    pdir = os.path.join(T, "listpol")
    os.makedirs(pdir)
    with open(POLICY) as f:
        text = f.read()
    text = text.replace('match = { domain = [ ".malware.test" ]; };',
                        'match = { domain_file = "malware.txt"; };')
    assert "malware.txt" in text
    pol = os.path.join(pdir, "policy.cfg")
    with open(pol, "w") as f:
        f.write(text)
    with open(os.path.join(pdir, "malware.txt"), "w") as f:
        f.write(".malware.test\n")
    d = Dataplane("list", policy=pol)
    check(d.up, "list missing: dataplane up")
    ack = d.ack()
    before = d.status()["policy"]
    os.unlink(os.path.join(pdir, "malware.txt"))
    r = d.ctl("reload", pol)
    check(r.returncode == 1 and "policy.cfg:" in r.stderr and "malware.txt" in r.stderr,
          "list missing: reload refused with FILE:LINE: " + r.stderr.strip().splitlines()[0][:160])
    after = d.status()["policy"]
    check(after["digest"] == before["digest"] and after["generation"] == before["generation"],
          "list missing: the running policy is unchanged")
    check(d.flowing(1002), "list missing: rule 1002 (from the missing list) still enforced, "
          "packets forwarded")
    with open(os.path.join(pdir, "malware.txt"), "w") as f:
        f.write(".malware.test\n")
    check(d.ctl("reload", pol).returncode == 0, "list missing: reload works once the list is back")
    rc, _ = d.stop()
    check(rc == 0 and d.verify(ack).returncode == 0, "list missing: clean stop, records verify "
          "with the acknowledged head")
    check(d.admin("reload rejected"), "list missing: the rejected reload is in the records")


def artefact_corrupt():
    art = os.path.join(T, "policy.art")
    subprocess.run([CTL, "compile", POLICY, "-o", art], check=True, capture_output=True)
    blob = open(art, "rb").read()
    flipped = os.path.join(T, "flipped.art")
    b = bytearray(blob)
    b[len(b) // 2] ^= 0x20
    open(flipped, "wb").write(bytes(b))
    short = os.path.join(T, "short.art")
    open(short, "wb").write(blob[:len(blob) - 100])
    d = Dataplane("artefact", policy=art)
    check(d.up, "artefact corrupted: dataplane up on the artefact")
    ack = d.ack()
    before = d.status()["policy"]
    r = d.ctl("reload", flipped)
    check(r.returncode == 1 and "corrupt artefact: checksum mismatch" in r.stderr,
          "artefact corrupted: flipped byte refused: " + r.stderr.strip().splitlines()[0][:160])
    r = d.ctl("reload", short)
    check(r.returncode == 1 and "truncated artefact" in r.stderr,
          "artefact corrupted: truncated artefact refused: " +
          r.stderr.strip().splitlines()[0][:160])
    after = d.status()["policy"]
    check(after["digest"] == before["digest"] and after["generation"] == before["generation"],
          "artefact corrupted: the running policy is unchanged")
    check(d.flowing(), "artefact corrupted: packets forwarded, policy enforced")
    rc, _ = d.stop()
    check(rc == 0 and d.verify(ack).returncode == 0, "artefact corrupted: clean stop, records "
          "verify with the acknowledged head")
    p = subprocess.run([SLUICE, "--pcap", SAMPLE, "--out", "/dev/null", "--policy", flipped],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode != 0 and "corrupt artefact" in p.stderr,
          "artefact corrupted: refused at start")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS")).split()[1])


def clients_vanish():
    d = Dataplane("clients")
    check(d.up, "clients: dataplane up")
    ack = d.ack()

    def conn():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.sock)      # blocking: waits while the listen backlog is full
        s.settimeout(5)
        return s

    # many clients: gone at once, half a request, a request never read
    # (a busy server, all 16 slots taken by clients it has not yet seen
    # go, answers "too many control clients" and closes: a send may then
    # find the connection gone, which is as good as vanishing)
    for i in range(40):
        s = conn()
        try:
            if i % 3 == 1:
                s.sendall(b'{"v":1,"cmd":"sta')
            elif i % 3 == 2:
                s.sendall(b'{"v":1,"cmd":"rules"}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.close()
    check(wait_for(lambda: d.status() is not None, 10), "clients: served after 40 clients vanished")
    # a large answer the client stops reading after 1 KiB, then vanishes
    s = conn()
    s.sendall(b'{"v":1,"cmd":"flows","opts":{"limit":100000}}\n')
    s.recv(1024)
    seq0 = d.status()["records"]["seq"]
    check(wait_for(lambda: d.status()["records"]["seq"] > seq0, 10),
          "clients: records keep being written while a client stalls mid-answer")
    s.close()
    # a client pipelining requests it never reads: one answer held, not all
    base = rss(d.p.pid)
    s = conn()
    s.setblocking(False)
    req = b'{"v":1,"cmd":"stats"}\n' * 4000
    sent, end = 0, time.time() + 5
    while sent < len(req) and time.time() < end:
        try:
            sent += s.send(req[sent:])
        except BlockingIOError:
            time.sleep(0.01)
    time.sleep(0.5)
    grown = rss(d.p.pid) - base
    check(d.status() is not None, "clients: others served while one pipelines without reading")
    check(grown < 8192, f"clients: memory bounded for a client that never reads ({grown} KiB)")
    s.close()
    # a reload whose client is killed before the answer
    k = subprocess.Popen([CTL, "--socket", d.sock, "reload", POLICY], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(0.05)
    k.kill()
    k.wait()
    check(wait_for(lambda: d.status() is not None, 30) and d.flowing(),
          "clients: forwarding and enforcing after every vanished client")
    # every slot held by a client that connects and says nothing: once they
    # have been idle for 2 s, a new client takes the slot of the oldest,
    # which is told why and closed; before that, newcomers are turned away
    idle = [conn() for _ in range(16)]
    for s in idle:
        s.settimeout(0.05)
    check(d.status() is None, "clients: with 16 fresh idle clients, a 17th is turned away")
    # served once the oldest has been idle for 2 s (each try before that is
    # turned away)
    check(wait_for(lambda: d.status() is not None, 10), "clients: served once they are idle")
    st = d.status()
    check(st is not None and st["control"]["evicted"] >= 1 and st["control"]["refused"] >= 1,
          f"clients: with 16 idle clients, a new one is served (control: {st and st['control']})")
    told = []
    for s in idle:
        try:
            told.append(s.recv(4096))
        except socket.timeout:
            pass
        s.close()
    check(any(b"idle while every control slot was taken" in t for t in told),
          "clients: the idle client that lost its slot is told why")
    rc, _ = d.stop()
    check(rc == 0 and d.verify(ack).returncode == 0, "clients: clean stop, records verify")


def main():
    try:
        records_full()
        records_unwritable()
        records_not_a_dir()
        list_missing()
        artefact_corrupt()
        clients_vanish()
    finally:
        for d in list(RUNNING):
            d.stop()
        if FAILS:
            print(f"{len(FAILS)} failure(s); kept {T}")
        else:
            shutil.rmtree(T, ignore_errors=True)
    if FAILS:
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
