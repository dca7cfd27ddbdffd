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

# A metrics endpoint that cannot be served is a start-up failure (exit 1):
# a non-loopback address without metrics_public, or a port in use.
printf '[host]\nmetrics_listen = 0.0.0.0:%s\n[plugin p]\npath = %s\n' \
  "$(free_port)" "$PROBE" >"$T/public.ini"
rc=0
"$UVPLUGD" -c "$T/public.ini" >"$T/public.log" 2>&1 || rc=$?
assert_eq "exit code (non-loopback metrics)" 1 "$rc"
grep -q "not starting: metrics_listen = 0.0.0.0:[0-9]*: .*metrics_public = yes" "$T/public.log" || fail "no reason: $(cat "$T/public.log")"
assert_eq "destroys after the refused start" 1 "$(count_lines "$T/public.log" "p: probe: seen 0 events$")"

port=$(free_port)
printf '[host]\nmetrics_listen = 127.0.0.1:%s\n[plugin p]\npath = %s\n' \
  "$port" "$PROBE" >"$T/port.ini"
start_daemon "$T/first.log" -c "$T/port.ini"
wait_for_line "$T/first.log" "started: 1 of 1 instances running"
rc=0
"$UVPLUGD" -c "$T/port.ini" >"$T/second.log" 2>&1 || rc=$?
assert_eq "exit code (port in use)" 1 "$rc"
grep -q "not starting: metrics_listen = 127.0.0.1:$port: " "$T/second.log" || fail "no reason: $(cat "$T/second.log")"
stop_daemon TERM
assert_eq "exit code of the first" 0 "$DAEMON_RC"
echo ok
