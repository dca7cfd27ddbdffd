# Issue 14, NATS bridge: B's bridge is reloaded (SIGHUP, changed config)
# and, in a second step, removed while A streams into it, so its on_unload
# runs with libnats delivering: it must close the inbox, wait for the
# subscription's and the connection's last callbacks, and free everything
# (ASan/TSan builds: uvplugd exits 0 only without a report). The reloaded
# instance (a new ctx, counters from 0, O4) keeps delivering: B's
# seq_count sees the stream to its last number. During a reload the old
# and the new instance are both subscribed for a moment (U5), so B may see
# a few events twice; those are counted in seq_count's out_of_order.
. "$(dirname "$0")/lib.sh"

N=400000
nats_start
bridge_b() { # CONFIG-EXTRA
  host_section "$PORT_b" >"$T/b.ini"
  cat >>"$T/b.ini" <<INI
[plugin count]
path = $P/seq_count.so
config = topic=ev

[plugin bridge]
path = $NATS_BRIDGE
config = url=$NATS_URL in=uvplug.ev $1
INI
}
bridge_b ""
host_section "$PORT_a" >"$T/a.ini"
cat >>"$T/a.ini" <<INI
[plugin bridge]
path = $NATS_BRIDGE
config = url=$NATS_URL out=ev

[plugin pub]
path = $P/seq_pub.so
config = topic=ev n=$N batch=100 size=16 start_on=nats_bridge.status
INI

received_b() { named "$URL_b" count received; }
uvpd_start b "$T/b.ini"
wait_for_line "$LOG_b" "bridge: ready: 0 out, 1 in" 15
DAEMON_PID=$PID_b wait_for_handlers
uvpd_start a "$T/a.ini"
wait_until "first events at B" 20 bash -c "[ \"\$(curl -sS --max-time 5 $URL_b/metrics | awk '/plugin=\"count\",counter=\"received\"/ {print \$2}')\" -gt 1000 ]"

bridge_b "sync_ms=300"
kill -HUP "$PID_b"
wait_for_line "$LOG_b" "reload done: 0 added, 1 reloaded, 0 removed, 1 unchanged" 20
grep -q "seq_pub done" "$LOG_a" && fail "the stream ended before the reload; raise N"
wait_for_line "$LOG_a" "seq_pub done n=$N" 50
wait_until "B saw the last event" 30 named_eq "$URL_b" count last_seq "$N"
new_recv=$(named "$URL_b" bridge received)
[ "$new_recv" -gt 0 ] || fail "the reloaded bridge received nothing"
[ "$new_recv" -lt "$N" ] || fail "the reloaded bridge's counters did not start at 0 ($new_recv)"
assert_eq "B bad_frames" 0 "$(named "$URL_b" bridge bad_frames)"

# Remove the bridge while A streams again (a second publisher instance).
cat >>"$T/a.ini" <<INI

[plugin pub2]
path = $P/seq_pub.so
config = topic=ev n=$N batch=100 size=16
INI
DAEMON_PID=$PID_a wait_for_handlers
kill -HUP "$PID_a"
wait_for_line "$LOG_a" "reload done: 1 added" 20
host_section "$PORT_b" >"$T/b.ini"
printf '[plugin count]\npath = %s\nconfig = topic=ev\n' "$P/seq_count.so" >>"$T/b.ini"
kill -HUP "$PID_b"
wait_for_line "$LOG_b" "reload done: 0 added, 0 reloaded, 1 removed, 1 unchanged" 20
assert_eq "B bridge gone from /metrics" missing "$(named "$URL_b" bridge received)"
kill -0 "$PID_b" || fail "B died"
uvpd_stop a
uvpd_stop b
echo "PASS"
