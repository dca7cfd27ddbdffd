# Issue 14, NATS bridge: connecting. A bridge whose server is not up yet
# still loads (one failed attempt, then libnats retries in the background),
# connects and reports ready once the server starts, and carries events
# then; a bad config token fails the load (exit 4) with a line naming it.
. "$(dirname "$0")/lib.sh"

host_section "$PORT_b" >"$T/b.ini"
cat >>"$T/b.ini" <<INI
[plugin count]
path = $P/seq_count.so
config = topic=ev

[plugin bridge]
path = $NATS_BRIDGE
config = url=$NATS_URL in=uvplug.ev reconnect_wait_ms=50
INI
uvpd_start b "$T/b.ini"
wait_for_line "$LOG_b" "bridge: $NATS_URL not reachable yet; retrying" 15
wait_for_line "$LOG_b" "started: 2 of 2 instances running" 15
nats_start
wait_for_line "$LOG_b" "bridge: ready: 0 out, 1 in" 20
assert_eq "B not counted as a reconnect" 0 "$(named "$URL_b" bridge reconnects)"

host_section "$PORT_a" >"$T/a.ini"
cat >>"$T/a.ini" <<INI
[plugin bridge]
path = $NATS_BRIDGE
config = url=$NATS_URL out=ev

[plugin pub]
path = $P/seq_pub.so
config = topic=ev n=1000 batch=100 size=8 start_on=nats_bridge.status
INI
uvpd_start a "$T/a.ini"
wait_until "B counted 1000" 20 named_eq "$URL_b" count received 1000
assert_eq "B gaps" 0 "$(named "$URL_b" count gaps)"
uvpd_stop a
uvpd_stop b

# A bad token: the load fails and the daemon does not start.
host_section "$PORT_a" >"$T/bad.ini"
printf '[plugin bridge]\npath = %s\nconfig = out=ev colour=red\n' \
  "$NATS_BRIDGE" >>"$T/bad.ini"
rc=0
"$UVPLUGD" -c "$T/bad.ini" >"$T/bad.log" 2>&1 || rc=$?
DAEMON_LOG=$T/bad.log
assert_eq "exit status (plugin failed to load)" 4 "$rc"
assert_eq "the bad token is named" 1 \
  "$(count_lines "$T/bad.log" "bridge: config: bad config token: 'colour=red'")"
echo "PASS"
