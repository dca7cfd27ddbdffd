# SIGTERM: a graceful stop runs every destroy (each probe registration logs
# "probe: destroy") and exits 0; a second SIGTERM during a slow stop exits
# at once with the forced-exit code 5.
. "$(dirname "$0")/lib.sh"

cat >"$T/u.ini" <<INI
[host]
metrics_listen =
[plugin a]
path = $PROBE
config = in=t subs=3
[plugin b]
path = $PROBE
config = subs=5
[plugin c]
path = $PROBE
config = in=t
INI
start_daemon "$T/log" -c "$T/u.ini"
wait_for_line "$T/log" "started: 3 of 3 instances running"
stop_daemon TERM
assert_eq "exit code after SIGTERM" 0 "$DAEMON_RC"
# a: 1 + 3, b: 5, c: 1
assert_eq "destroys" 10 "$(count_lines "$T/log" ": probe: destroy$")"
assert_eq "stop lines" 3 "$(count_lines "$T/log" "probe: seen 0 events$")"
assert_eq "stopped" 1 "$(count_lines "$T/log" "uvplugd: stopped$")"
grep -q "uvplugd: SIGTERM: stopping" "$T/log" || fail "no SIGTERM line"

# SIGINT is the same graceful stop.
start_daemon "$T/log2" -c "$T/u.ini"
wait_for_line "$T/log2" "started: 3 of 3 instances running"
stop_daemon INT
assert_eq "exit code after SIGINT" 0 "$DAEMON_RC"
assert_eq "destroys after SIGINT" 10 "$(count_lines "$T/log2" ": probe: destroy$")"

# A stop that waits (the host drains a plugin's running work, up to
# work_drain_ms, with the loop running): a second SIGTERM forces exit 5.
cat >"$T/slow.ini" <<INI
[host]
metrics_listen =
[plugin slow]
path = $PROBE
config = work_ms=5000
INI
start_daemon "$T/log3" -c "$T/slow.ini"
wait_for_line "$T/log3" "started: 1 of 1 instances running"
kill -TERM "$DAEMON_PID"
wait_for_line "$T/log3" "slow: probe: seen 0 events"
kill -TERM "$DAEMON_PID"
stop_daemon TERM
assert_eq "exit code after a second SIGTERM" 5 "$DAEMON_RC"
grep -q "second SIGTERM while stopping: exiting at once (5)" "$T/log3" || fail "no forced-exit line"
assert_eq "stopped lines" 0 "$(count_lines "$T/log3" "uvplugd: stopped$")"
echo ok
