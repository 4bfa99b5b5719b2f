#!/usr/bin/env python3
"""Run sluice over one pcap fixture and check the expected verdicts.

A case directory holds capture.pcap, policy.cfg and expected.json:

  flows_per_rule   {rule id: distinct flows with an evidence record}  (0 = no match)
  events_per_rule  {rule id: evidence events}                          (optional)
  summary          {key: exact value} from `sluice --json` (packets_in, packets_out,
                   dropped_policy, injected, ...)
  out_contains     [text] each must occur in some forwarded or injected frame
  out_absent       [text] none may occur in any output frame
  out_frames       [{"contains": text, "count": n, "ethertype": "8100"}] frames
                   containing text (and their outer ethertype)
  records_verify   true: `sluice-ctl records verify` must pass

Standard library only (no scapy), so it runs wherever the tests run.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import read_pcap  # noqa: E402


def read_events(records_dir):
    events = []
    for seg in sorted(glob.glob(os.path.join(records_dir, "*.jsonl"))):
        with open(seg, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                ev = json.loads(line)
                if ev.get("type", ev.get("kind")) in ("match", "event") or "rule" in ev:
                    events.append(ev)
    return events


def rule_id(ev):
    r = ev.get("rule")
    if isinstance(r, dict):
        return r.get("id")
    return ev.get("rule_id", r)


def flow_id(ev):
    fl = ev.get("flow")
    if isinstance(fl, dict):
        return fl.get("id")
    return ev.get("flow_id")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--ctl")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    exp = json.load(open(os.path.join(a.case, "expected.json")))
    tmp = tempfile.mkdtemp(prefix="sluice-case-")
    out = os.path.join(tmp, "out.pcap")
    rec = os.path.join(tmp, "records")
    cmd = [a.sluice, "--pcap", os.path.join(a.case, "capture.pcap"), "--out", out,
           "--policy", os.path.join(a.case, "policy.cfg"), "--records", rec, "--json"]
    if os.path.exists(os.path.join(a.case, "config.cfg")):
        cmd += ["--config", os.path.join(a.case, "config.cfg")]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    failures = []
    if p.returncode != 0:
        print(p.stdout)
        print(p.stderr, file=sys.stderr)
        print(f"FAIL: sluice exited {p.returncode}")
        return 1
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    events = [e for e in read_events(rec) if rule_id(e) is not None]

    for rid, want in exp.get("flows_per_rule", {}).items():
        got = len({flow_id(e) for e in events if str(rule_id(e)) == str(rid)})
        if got != want:
            failures.append(f"rule {rid}: {got} flows recorded, expected {want}")
    for rid, want in exp.get("events_per_rule", {}).items():
        got = sum(1 for e in events if str(rule_id(e)) == str(rid))
        if got != want:
            failures.append(f"rule {rid}: {got} events, expected {want}")
    for k, want in exp.get("summary", {}).items():
        if summary.get(k) != want:
            failures.append(f"summary {k} = {summary.get(k)}, expected {want}")
    frames = read_pcap(out)
    if summary.get("packets_out") is not None and \
            len(frames) != summary["packets_out"] + summary.get("injected", 0):
        failures.append(f"output capture has {len(frames)} frames, summary says "
                        f"{summary['packets_out']} forwarded + {summary.get('injected', 0)} injected")
    for text in exp.get("out_contains", []):
        if not any(text.encode() in fr for fr in frames):
            failures.append(f"output never contains {text!r}")
    for text in exp.get("out_absent", []):
        n = sum(1 for fr in frames if text.encode() in fr)
        if n:
            failures.append(f"output contains {text!r} in {n} frame(s)")
    for spec in exp.get("out_frames", []):
        hits = [fr for fr in frames if spec["contains"].encode() in fr]
        if len(hits) != spec["count"]:
            failures.append(f"{len(hits)} output frames contain {spec['contains']!r}, "
                            f"expected {spec['count']}")
        for fr in hits:
            if "ethertype" in spec and fr[12:14].hex() != spec["ethertype"]:
                failures.append(f"frame with {spec['contains']!r} has ethertype {fr[12:14].hex()}, "
                                f"expected {spec['ethertype']}")
    if exp.get("records_verify") and a.ctl:
        v = subprocess.run([a.ctl, "records", "verify", rec], capture_output=True, text=True)
        if v.returncode != 0:
            failures.append("records verify failed: " + v.stdout + v.stderr)

    print(json.dumps(summary))
    for e in events:
        print(f"event rule={rule_id(e)} flow={flow_id(e)} field={e.get('field')} "
              f"value={str(e.get('value'))[:80]!r}")
    if failures:
        for f in failures:
            print("FAIL:", f)
        print(f"(output kept in {tmp})")
        return 1
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
