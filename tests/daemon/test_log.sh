# The daemon's log: timestamps on a terminal or file, journald's <N>
# priority prefixes without a timestamp when JOURNAL_STREAM names stderr,
# control characters escaped, long lines cut with a marker, levels.
. "$(dirname "$0")/lib.sh"

say=$(printf 'say=a\001b\tc\nd\\e')
rc=0
"$UVPLUGD" --run-ms 100 --plugin "$PROBE:p:$say" >"$T/plain" 2>&1 || rc=$?
assert_eq "exit code" 0 "$rc"
DAEMON_LOG="$T/plain"
assert_eq "escaped line" 1 "$(grep -cF 'info p: a\x01b\tc\nd\\e' "$T/plain")"
assert_match "timestamped line" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z info p: probe: started$' \
  "$(grep 'p: probe: started' "$T/plain")"
assert_eq "every line is one line" 0 "$(grep -cvE '^[0-9]{4}-' "$T/plain")"

# journald: JOURNAL_STREAM is "DEV:INO" of stderr.
: >"$T/journal"
js=$(stat -c '%d:%i' "$T/journal")
rc=0
JOURNAL_STREAM=$js "$UVPLUGD" --run-ms 100 --log-level debug \
  --plugin "$PROBE:p:saylen=5000" >>"$T/journal" 2>&1 || rc=$?
assert_eq "exit code" 0 "$rc"
DAEMON_LOG="$T/journal"
grep -q '^<6>p: probe: started$' "$T/journal" || fail "no <6> line"
grep -q '^<6>uvplugd: stopped$' "$T/journal" || fail "no <6> daemon line"
assert_eq "lines without a <N> prefix" 0 "$(grep -cvE '^<[0-7]>' "$T/journal")"
# A plugin's 5000-byte line arrives cut by the host (A16), still one line.
assert_eq "plugin's cut line" 1 "$(grep -cE '^<6>p: x+ \[\.\.\.\] x+$' "$T/journal")"

# The daemon's own long lines are cut in the middle: the first 640 and
# the last 320 bytes stay around a marker with the exact count cut.
n=$(printf 'n%.0s' $(seq 1 1500))
rc=0
JOURNAL_STREAM=$js "$UVPLUGD" --plugin "x.so:$n" >"$T/journal" 2>&1 || rc=$?
assert_eq "exit code of a bad name" 3 "$rc"
line=$(grep '^<3>uvplugd: bad instance name' "$T/journal")
max=$(printf '%s' "$line" | grep -o 'expected 1\.\.[0-9]*' | grep -o '[0-9]*$')
msg="bad instance name '$n' in 'x.so:$n'; expected 1..$max characters [A-Za-z0-9_.-]"
cut=$((${#msg} - 960))
assert_eq "cut line" "<3>uvplugd: ${msg:0:640} [... $cut bytes cut] ${msg: -320}" "$line"

# A JOURNAL_STREAM that is not our stderr is ignored (timestamps stay).
rc=0
JOURNAL_STREAM=1:1 "$UVPLUGD" --run-ms 50 --plugin "$PROBE:p" >"$T/notjournal" 2>&1 || rc=$?
assert_eq "lines with <N>" 0 "$(grep -cE '^<[0-7]>' "$T/notjournal")"

# --log-level warn: no info lines; error lines still come.
rc=0
"$UVPLUGD" --run-ms 50 --log-level warn --plugin "$PROBE:p" >"$T/warn" 2>&1 || rc=$?
assert_eq "exit code" 0 "$rc"
assert_eq "info lines at warn" 0 "$(grep -c ' info ' "$T/warn")"
rc=0
"$UVPLUGD" --log-level warn --plugin "$T/none.so:n" >"$T/err" 2>&1 || rc=$?
assert_eq "exit code of a missing plugin" 4 "$rc"
grep -qE " error uvplugd: cannot load n: $T/none.so: cannot open" "$T/err" || fail "no error line: $(cat "$T/err")"

# Plugins' debug lines come through at --log-level debug only.
for lvl in info debug; do
  rc=0
  "$UVPLUGD" --run-ms 50 --log-level $lvl --plugin "$PROBE:p:debug=1" >"$T/$lvl" 2>&1 || rc=$?
  assert_eq "exit code at $lvl" 0 "$rc"
done
assert_eq "debug line at info" 0 "$(count_lines "$T/info" "debug p: probe: a debug line$")"
assert_eq "debug line at debug" 1 "$(count_lines "$T/debug" "debug p: probe: a debug line$")"
echo ok
