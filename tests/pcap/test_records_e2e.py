#!/usr/bin/env python3
"""Records end to end: run the dataplane over the sample capture with
blocking rules and evidence capture on, then `records verify` and `report`,
and check the counts against what the capture contains (samples/demo.pcap,
made by scripts/gen-sample.py: one flow per case).

usage: test_records_e2e.py SLUICE SLUICE_CTL SOURCE_DIR   (standard library only)
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import finish, check  # noqa: E402

SLUICE, CTL, SRC = (os.path.abspath(a) for a in sys.argv[1:4])

# rule id -> (matches, flows, action, mode) the sample capture must produce
EXPECTED = {
    1001: (3, 3, "block-page", "enforce"),  # HTTP URL, TLS SNI, IPv6+VLAN HTTP
    1002: (1, 1, "reset", "enforce"),       # DNS query for dl.malware.test
    1003: (1, 1, "drop", "enforce"),        # EICAR in a server response
    1004: (2, 2, "drop", "enforce"),        # TCP to the ordered range + ICMP (no flow)
    1005: (1, 1, "reset", "enforce"),       # leaflet from outside the zone
    2001: (1, 1, "reset", "shadow"),        # shadow rule: recorded, not enforced
    9001: (1, 1, "allow", "enforce"),       # exemption
}
NOT_REPORTED = {3001}                       # report = false in the policy


def main():
    t = tempfile.mkdtemp(prefix="sluice-rec-e2e-")
    rec = os.path.join(t, "records")
    key = os.path.join(t, "key")
    with open(key, "w") as f:
        f.write("0123456789abcdef0123456789abcdef\n")
    cfg = os.path.join(t, "sluice.cfg")
    with open(cfg, "w") as f:
        f.write(f'policy = "{SRC}/samples/policy.cfg";\n'
                f'records = {{ dir = "{rec}"; capture = true; pseudonym_key_file = "{key}"; }};\n')
    p = subprocess.run([SLUICE, "--pcap", os.path.join(SRC, "samples", "demo.pcap"),
                        "--out", os.path.join(t, "out.pcap"), "--config", cfg, "--json"],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "dataplane ran over the sample capture")
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    check(summary["records_written"] == 13 and summary["events_lost"] == 0,
          f"13 evidence events written, none lost ({summary['records_written']})")

    v = subprocess.run([CTL, "records", "verify", rec], capture_output=True, text=True)
    check(v.returncode == 0 and "OK" in v.stdout, "records verify: " + v.stdout.strip())
    pcaps = [x for x in os.listdir(rec) if x.endswith(".pcap")]
    check(len(pcaps) == 1 and os.path.getsize(os.path.join(rec, pcaps[0])) > 24,
          "evidence capture written beside the segment")

    r = subprocess.run([CTL, "report", rec, "--config", cfg, "--format", "json"],
                       capture_output=True, text=True)
    check(r.returncode == 0, "report runs")
    rep = json.loads(r.stdout)
    rows = {x["id"]: x for x in rep["rules"]}
    for rid, (matches, flows, action, mode) in EXPECTED.items():
        row = rows.get(rid)
        ok = row is not None and row["matches"] == matches and row["flows"] == flows and \
            row["by_action"].get(action, {}).get(mode) == matches
        check(ok, f"report: rule {rid} has {matches} {mode} {action} match(es) on {flows} flow(s)"
              + ("" if ok else f" (got {row})"))
    check(not NOT_REPORTED & set(rows), "rules with report = false are left out")
    text = json.dumps(rep)
    check("192.0.2.10" not in text and '"p:' in text, "subscriber addresses pseudonymised")
    head = rep["records"]["chain_head"]
    check(rep["records"]["verified"] is True and head["seq"] == 13 and len(head["hash"]) == 64,
          "report carries the verified chain head")
    x = subprocess.run([CTL, "records", "verify", rec, "--expect", f"{head['seq']}:{head['hash']}"],
                       capture_output=True, text=True)
    check(x.returncode == 0, "records verify --expect the report's chain head")

    c = subprocess.run([CTL, "report", rec, "--config", cfg, "--format", "csv", "--identify"],
                       capture_output=True, text=True)
    body = [ln for ln in c.stdout.splitlines() if not ln.startswith("#")]
    rows_csv = list(csv.DictReader(io.StringIO("\n".join(body))))
    check(any("192.0.2.10" in ",".join(x.values()) for x in rows_csv),
          "--identify shows real subscriber addresses")
    finish(t)


if __name__ == "__main__":
    main()
