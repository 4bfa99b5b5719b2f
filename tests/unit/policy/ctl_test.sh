#!/bin/sh
# Exit codes and output of the sluice-ctl policy verbs (check, compile,
# test, explain). Usage: ctl_test.sh SLUICE_CTL SOURCE_ROOT
# SL_FIXTURES points at tests/unit/policy/fixtures.
set -u
CTL=$1
ROOT=$2
FIX=${SL_FIXTURES:-$ROOT/tests/unit/policy/fixtures}
EX=$ROOT/samples/example/policy.cfg
NOW=1780272000   # 2026-06-01: the example rule is not expired yet
T=$(mktemp -d /tmp/sluice-ctl-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# run EXPECTED_STATUS CMD...: output in $T/out and $T/err
run() {
	want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" != "$want" ]; then
		fail "exit $got, expected $want: $*"
		sed 's/^/  out: /' "$T/out" >&2
		sed 's/^/  err: /' "$T/err" >&2
	fi
}

has() { # has FILE TEXT
	grep -qF -- "$2" "$T/$1" || { fail "$1 lacks: $2"; sed "s/^/  $1: /" "$T/$1" >&2; }
}

# check
run 0 "$CTL" check --now $NOW "$EX"
has out "ok: example-operator revision 2026-11-23.1: 1 rules (0 shadow, 0 expired), 6 domains, 1 urls, 2 payloads, 2 cidrs, 1 zones, digest "
run 0 "$CTL" --json check --now $NOW "$EX"
has out '"ok":true'
has out '"digest":'
run 0 "$CTL" check "$EX" --json --now $NOW
has out '"rules":1'
run 1 "$CTL" check "$FIX/errors.cfg"
has err "$FIX/errors.cfg:13: rule 1001: unknown action \"rst\""
has err "$FIX/errors.cfg:23: rule 1001: payload regex \"/evil(/\": Missing close parenthesis"
has err "$FIX/lists/bad.txt:7: rule 1001: bad domain \"white space.test\""
has err "$FIX/errors.cfg: 22 errors"
run 1 "$CTL" check --json "$FIX/errors.cfg"
has out '"ok":false'
has out '"line":13'
run 1 "$CTL" check "$T/missing.cfg"
has err "missing.cfg:"
run 2 "$CTL" check
run 2 "$CTL" check --bogus "$EX"
run 0 "$CTL" check --help
has out "usage: sluice-ctl check"

# compile
run 0 "$CTL" compile --now $NOW "$EX" -o "$T/ex.slp"
has out "compiled $EX -> $T/ex.slp"
[ -s "$T/ex.slp" ] || fail "no artefact written"
digest=$("$CTL" check --json --now $NOW "$EX" | sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p')
run 0 "$CTL" check --now $NOW "$T/ex.slp"
has out "digest $(echo "$digest" | cut -c1-12)"
run 0 "$CTL" compile --json --now $NOW "$EX" -o "$T/ex2.slp"
has out '"artefact_bytes":'
cmp -s "$T/ex.slp" "$T/ex2.slp" || fail "two compiles of the same policy differ"
run 2 "$CTL" compile "$EX"
run 1 "$CTL" compile "$FIX/errors.cfg" -o "$T/bad.slp"
[ -e "$T/bad.slp" ] && fail "artefact written for a bad policy"
run 0 "$CTL" compile --help
# a damaged artefact
cp "$T/ex.slp" "$T/bad.slp"
printf 'X' | dd of="$T/bad.slp" bs=1 seek=400 conv=notrunc 2>/dev/null
run 1 "$CTL" check "$T/bad.slp"
has err "corrupt artefact: checksum mismatch"

# test
run 0 "$CTL" test --now $NOW "$EX"
has out "3 passed, 0 failed"
cat >"$T/failing.cfg" <<'CFG'
policy = { name = "f"; revision = "1"; };
rules = ( { id = 7; name = "r"; basis = "b"; action = "log";
  match = { domain = [ "*.a.test" ]; };
  tests = { match = [ "domain:x.a.test",
                      "domain:a.test" ]; }; } );
CFG
run 1 "$CTL" test "$T/failing.cfg"
has out "1 passed, 1 failed"
has err "$T/failing.cfg:5: rule 7: test \"domain:a.test\" should match but does not"
run 1 "$CTL" test --json "$T/failing.cfg"
has out '"failed":1'
run 1 "$CTL" test "$T/ex.slp"
has err "artefact has no test vectors"
run 1 "$CTL" test "$FIX/errors.cfg"
run 0 "$CTL" test --help

# explain
run 0 "$CTL" explain --now $NOW "$EX" domain:a.phish.test --port 443 --proto tcp --origin 203.0.113.9
has out "rule 1001 \"phishing clone of a bank\""
has out "applies"
has out "verdict: rule 1001 -> reset"
run 0 "$CTL" explain --now $NOW "$EX" domain:a.phish.test --proto tcp --origin 192.0.2.9
has out "port: server port unknown"
has out "origin: 192.0.2.9 is in zone domestic"
has out "verdict: no enforce rule applies -> none"
run 0 "$CTL" explain --now $NOW "$T/ex.slp" url:login.bank.example/verify?x=1 --port 80 --proto tcp --origin 3fff::1
has out "verdict: rule 1001 -> reset"
run 0 "$CTL" explain --now $NOW "$EX" 'payload:xx\x45VIL7payload' --port 80 --proto tcp --origin 203.0.113.9
has out "verdict: rule 1001 -> reset"
run 0 "$CTL" explain --now $NOW "$EX" ip:198.51.100.20 --port 80 --proto tcp --origin 203.0.113.9
has out "matched ip"
run 0 "$CTL" explain --now 1800000000 "$EX" ip:198.51.100.20 --port 80 --proto tcp --origin 203.0.113.9
has out "expired at 2027-01-01T00:00:00Z"
run 0 "$CTL" explain --now $NOW "$EX" domain:phish.test
has out "no rule matches"
run 0 "$CTL" --json explain --now $NOW "$EX" sni:a.phish.test --port 443 --proto tcp --origin 203.0.113.9
has out '"action":"reset"'
has out '"applies":true'
run 2 "$CTL" explain "$EX" bogus:x
run 2 "$CTL" explain "$EX" noseparator
run 2 "$CTL" explain "$EX" domain:a.test --port 70000
run 2 "$CTL" explain "$EX"
run 0 "$CTL" explain --help
has out "usage: sluice-ctl explain"

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "ok"
