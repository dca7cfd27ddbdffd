# Start-up failure policy (on_load_failure = refuse | skip) and restart of
# quarantined plugins (restart = on-fault, a maximum rate), every restart
# counted and logged.
. "$(dirname "$0")/lib.sh"

cat >"$T/skip.ini" <<INI
[host]
metrics_listen =
on_load_failure = skip
[plugin missing]
path = $T/missing.so
[plugin ok]
path = $PROBE
INI
start_daemon "$T/skip.log" -c "$T/skip.ini"
wait_for_line "$T/skip.log" "started: 1 of 2 instances running"
grep -q "missing: skipped (on_load_failure = skip)" "$T/skip.log" || fail "no skip line"
stop_daemon TERM
assert_eq "exit code (skip)" 0 "$DAEMON_RC"

sed 's/on_load_failure = skip/on_load_failure = refuse/' "$T/skip.ini" >"$T/refuse.ini"
rc=0
"$UVPLUGD" -c "$T/refuse.ini" >"$T/refuse.log" 2>&1 || rc=$?
assert_eq "exit code (refuse)" 4 "$rc"
assert_eq "ok never loaded" 0 "$(count_lines "$T/refuse.log" "loaded ok")"

# A subscriber that panics on every event: quarantined, restarted twice,
# then left alone (restart_max_per_min = 2).
cat >"$T/restart.ini" <<INI
[host]
metrics_listen =
restart = on-fault
restart_max_per_min = 2
[plugin tick]
path = $PROBE
config = out=ticks count=100000 every_ms=50
[plugin bad]
path = $PROBE
config = in=ticks panic=1
INI
start_daemon "$T/restart.log" -c "$T/restart.ini"
wait_for_line "$T/restart.log" "bad: restarted \(restart 1\)" 15
wait_for_line "$T/restart.log" "bad: restarted \(restart 2\)" 15
wait_for_line "$T/restart.log" "bad: 2 restarts in the last minute \(restart_max_per_min\); not restarting it again until a SIGHUP" 15
kill -USR1 "$DAEMON_PID"
wait_for_line "$T/restart.log" "stats daemon: instances=2 running=1 reloads_ok=0 reloads_failed=0 restarts=2"
stop_daemon TERM
assert_eq "exit code (restart)" 0 "$DAEMON_RC"
assert_eq "quarantines" 3 "$(count_lines "$T/restart.log" "bad: quarantined after a fault")"
echo ok
