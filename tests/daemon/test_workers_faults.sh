# Worker loops and faults (docs/scaling.md, docs/uvplugd.md "Worker
# loops"):
#   - restart = on-fault restarts a faulting instance on its own worker;
#     the replicas on both workers keep every event and worker 0 never
#     restarts anything;
#   - a plugin that fails to load on worker 1 refuses the start (exit 4);
#   - a stop that waits on worker 1 (a plugin's work draining) keeps the
#     main loop answering: a second SIGTERM exits 5 at once.
# Rules: M6 (faults contained to their worker; the exit waits for every
# worker, a second SIGTERM still exits 5), M5 (TSan clean).
# UVP_TEST_LABELS: tsan
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is missing (cmake/deps.sh installs it)"

PORT=$(free_port)
N=30
cat >"$T/uvplugd.ini" <<INI
[host]
workers = 2
restart = on-fault
metrics_listen = 127.0.0.1:$PORT

[plugin sink]
path = $PROBE
replicas = all
config = in=ticks

[plugin bad]
path = $PROBE
worker = 1
config = in=ticks panic=1

[plugin tick]
path = $PROBE
replicas = all
config = out=ticks count=$N every_ms=20
INI

start_daemon "$T/log" -c "$T/uvplugd.ini"
wait_for_line "$T/log" "started: 5 of 5 instances running on 2 workers"
wait_for_line "$T/log" "uvplugd@w1: bad: restarted \(restart 1\)"
wait_for_line "$T/log" "tick@w0: probe: sent $N"
wait_for_line "$T/log" "tick@w1: probe: sent $N"
code=$(curl -sS --max-time 10 -o "$T/m" -w '%{http_code}' "http://127.0.0.1:$PORT/metrics" || echo curl-failed)
assert_eq "GET /metrics" 200 "$code"
assert_eq "sink events on worker 0" "$N" \
  "$(val "$T/m" 'uvplug_plugin_events_total{worker="0",plugin="sink"}')"
assert_eq "sink events on worker 1" "$N" \
  "$(val "$T/m" 'uvplug_plugin_events_total{worker="1",plugin="sink"}')"
assert_eq "restarts on worker 0" 0 "$(val "$T/m" 'uvplug_restarts_total{worker="0"}')"
r1=$(val "$T/m" 'uvplug_restarts_total{worker="1"}')
assert_match "restarts on worker 1" '^[1-9][0-9]*$' "$r1"
assert_eq "bad's restarts are worker 1's" "$r1" \
  "$(val "$T/m" 'uvplug_instance_restarts_total{worker="1",plugin="bad"}')"
assert_eq "no restart line on worker 0" 0 "$(count_lines "$T/log" "uvplugd@w0: .*restart")"
assert_eq "no fault on worker 0" 0 "$(count_lines "$T/log" "@w0: .*(panicked|quarantined)")"
stop_daemon TERM
assert_eq "exit code after SIGTERM" 0 "$DAEMON_RC"
assert_eq "TSan reports" 0 "$(count_lines "$T/log" "WARNING: ThreadSanitizer")"

# A slow stop on worker 1: the main loop still takes the second SIGTERM.
cat >"$T/slow.ini" <<INI
[host]
workers = 2
metrics_listen =
[plugin slow]
path = $PROBE
worker = 1
config = work_ms=5000
INI
start_daemon "$T/log2" -c "$T/slow.ini"
wait_for_line "$T/log2" "started: 1 of 1 instances running on 2 workers"
kill -TERM "$DAEMON_PID"
wait_for_line "$T/log2" "slow@w1: probe: seen 0 events"
kill -TERM "$DAEMON_PID"
stop_daemon TERM
assert_eq "exit code after a second SIGTERM" 5 "$DAEMON_RC"
assert_eq "forced-exit line" 1 \
  "$(count_lines "$T/log2" "uvplugd@w0: second SIGTERM while stopping: exiting at once \(5\)")"
assert_eq "worker 1 not stopped" 0 "$(count_lines "$T/log2" "worker 1 stopped")"

# A plugin that cannot load on worker 1 refuses the start (exit 4) as on
# one loop; worker 0's instance is unloaded again and both threads end.
cat >"$T/refuse.ini" <<INI
[host]
workers = 2
metrics_listen =
[plugin fine]
path = $PROBE
[plugin missing]
path = $T/no-such-plugin.so
worker = 1
INI
rc=0
"$UVPLUGD" -c "$T/refuse.ini" >"$T/log3" 2>&1 || rc=$?
DAEMON_LOG=$T/log3
assert_eq "exit code of a refused start" 4 "$rc"
assert_eq "refused on worker 1" 1 \
  "$(count_lines "$T/log3" "uvplugd@w1: not starting: a plugin failed to load")"
assert_eq "fine stopped on worker 0" 1 "$(count_lines "$T/log3" "fine@w0: probe: seen 0 events")"
assert_eq "TSan reports (refused start)" 0 "$(count_lines "$T/log3" "WARNING: ThreadSanitizer")"
echo "ok"
