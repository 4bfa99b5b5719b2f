#!/bin/sh
# sluice-ctl records/report verbs over the records fixture: exit codes
# (0 ok, 1 failure / nothing found, 2 usage) and the main outputs.
# usage: test_ctl.sh SLUICE_CTL RECORDS_FIXTURE
set -u
CTL=$1
FIXTURE=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-ctl-records-XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
fails=0

# expect STATUS DESCRIPTION CMD...: run CMD, compare its exit status
expect() {
	want=$1
	what=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: exit $got, expected $want: $*"
		sed 's/^/  out: /' "$T/out" | head -20
		sed 's/^/  err: /' "$T/err" | head -20
		fails=$((fails + 1))
	else
		echo "ok: $what"
	fi
}

# has FILE PATTERN DESCRIPTION: grep -q
has() {
	if grep -q -- "$2" "$1"; then
		echo "ok: $3"
	else
		echo "FAIL: $3: no '$2' in:"
		sed 's/^/  /' "$1" | head -20
		fails=$((fails + 1))
	fi
}

hasnot() {
	if grep -q -- "$2" "$1"; then
		echo "FAIL: $3: '$2' found in:"
		sed 's/^/  /' "$1" | head -20
		fails=$((fails + 1))
	else
		echo "ok: $3"
	fi
}

D=$T/rec
"$FIXTURE" "$D" || { echo "FAIL: fixture"; exit 1; }
printf '0123456789abcdef0123456789abcdef\n' >"$T/key"

# ---- verify
expect 0 "verify intact" "$CTL" records verify "$D"
has "$T/out" ": OK: 19 events (seq 1..19)" "verify summary"
expect 0 "verify --json (after the verb)" "$CTL" records verify "$D" --json
has "$T/out" '"ok": true' "verify json ok"
expect 0 "verify --json (global)" "$CTL" --json records verify "$D"
has "$T/out" '"last_seq": 19' "verify json last_seq"
head=$(sed -n 's/.*"head": "\([0-9a-f]*\)".*/\1/p' "$T/out")
expect 0 "verify --expect head" "$CTL" records verify "$D" --expect "19:$head"
expect 1 "verify --expect wrong hash" "$CTL" records verify "$D" \
	--expect "19:0000000000000000000000000000000000000000000000000000000000000000"
expect 2 "verify --expect malformed" "$CTL" records verify "$D" --expect 19
expect 1 "verify missing dir" "$CTL" records verify "$T/nope"
expect 2 "verify without dir" "$CTL" records verify
expect 2 "unknown records command" "$CTL" records frob "$D"

cp -r "$D" "$T/bad"
seg=$(grep -l news.example "$T/bad"/seg-*.jsonl | head -1)
line=$(grep -n news.example "$seg" | head -1 | cut -d: -f1)
sed -i "${line}s/news.example/news.exbmple/" "$seg"
expect 1 "verify edited record" "$CTL" records verify "$T/bad"
has "$T/err" "$(basename "$seg"):$line: content altered" "verify names FILE:LINE"

# ---- tail / grep
expect 0 "tail -n 3" "$CTL" records tail "$D" -n 3
[ "$(wc -l <"$T/out")" -eq 3 ] && echo "ok: tail prints 3 lines" || {
	echo "FAIL: tail -n 3 printed $(wc -l <"$T/out") lines"; fails=$((fails + 1)); }
has "$T/out" "#19 admin sluice stopped" "tail readable line"
expect 0 "tail --json" "$CTL" records tail "$D" -n 1 --json
has "$T/out" '^{"seq":19,"type":"admin"' "tail raw json line"
expect 2 "tail bad -n" "$CTL" records tail "$D" -n x
expect 0 "grep --rule 101" "$CTL" records grep "$D" --rule 101
[ "$(wc -l <"$T/out")" -eq 5 ] && echo "ok: grep rule 101: 5 events" || {
	echo "FAIL: grep rule 101 printed $(wc -l <"$T/out") lines"; fails=$((fails + 1)); }
expect 0 "grep --addr --from --to" "$CTL" records grep "$D" --addr 192.0.2.10 \
	--from 2026-11-21 --to 2026-11-22T12:00:01Z
[ "$(wc -l <"$T/out")" -eq 2 ] && echo "ok: grep addr/window: 2 events" || {
	echo "FAIL: grep addr/window printed $(wc -l <"$T/out") lines"; fails=$((fails + 1)); }
expect 0 "grep --addr prefix --action" "$CTL" records grep "$D" --addr 2001:db8::/32 --action drop
has "$T/out" "\\[2001:db8::1\\]:50000 -> \\[2001:db8:1::80\\]:80" "grep v6 endpoints"
expect 1 "grep nothing found" "$CTL" records grep "$D" --rule 999
expect 2 "grep bad action" "$CTL" records grep "$D" --action frob
expect 2 "grep bad time" "$CTL" records grep "$D" --from yesterday
expect 2 "grep bad addr" "$CTL" records grep "$D" --addr 300.1.1.1

# tail -f follows until interrupted
timeout -s INT --preserve-status 2 "$CTL" records tail "$D" -n 1 -f >"$T/out" 2>"$T/err"
st=$?
[ "$st" -eq 0 ] && echo "ok: tail -f stops on SIGINT" || {
	echo "FAIL: tail -f exit $st"; fails=$((fails + 1)); }
has "$T/out" "#19 admin sluice stopped" "tail -f printed the last event"

# ---- report
expect 2 "report without key or --identify" "$CTL" report "$D"
has "$T/err" "--identify" "report asks for a key"
expect 0 "report --key-file" "$CTL" report "$D" --key-file "$T/key"
has "$T/out" '"matches": 10' "report totals"
has "$T/out" '"p:' "report pseudonyms"
hasnot "$T/out" '192\.0\.2\.' "report hides subscriber addresses"
expect 0 "report --identify" "$CTL" report "$D" --identify
has "$T/out" '"client": "192.0.2.10"' "report --identify shows addresses"
printf 'records = {\n  pseudonym_key_file = "key";\n};\n' >"$T/sluice.cfg"
expect 0 "report --config" "$CTL" report "$D" --config "$T/sluice.cfg" --authority cac
has "$T/out" '"matches": 5' "report authority filter"
expect 0 "report csv -o" "$CTL" report "$D" --key-file "$T/key" --format csv -o "$T/r.csv" \
	--from 2026-11-21 --to 2026-11-21
has "$T/r.csv" '^total,,,,,,,4,' "report csv window total"
expect 2 "report bad format" "$CTL" report "$D" --identify --format xml
expect 2 "report key and config" "$CTL" report "$D" --key-file "$T/key" --config "$T/sluice.cfg"
printf 'short\n' >"$T/short"
expect 2 "report short key" "$CTL" report "$D" --key-file "$T/short"
expect 1 "report missing key file" "$CTL" report "$D" --key-file "$T/none"
expect 1 "report on tampered records" "$CTL" report "$T/bad" --identify
has "$T/out" '"verified": false' "report says verification failed"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all checks passed"
