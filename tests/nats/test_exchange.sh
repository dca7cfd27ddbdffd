# Issue 14, NATS bridge: two uvplugd processes exchange 1,000,000 events
# through a real nats-server with exact counts. A: seq_pub publishes a
# numbered stream on topic ev (starting once its bridge reports "ready" on
# nats_bridge.status), the bridge sends it to subject uvplug.ev. B: the
# bridge receives uvplug.ev and publishes on ev, where seq_count checks
# every event arrived once and in order: all N, no drop, in a plain build;
# in a sanitizer build received + dropped = N exactly (see below).
. "$(dirname "$0")/lib.sh"

N=1000000
nats_start
host_section "$PORT_b" >"$T/b.ini"
cat >>"$T/b.ini" <<INI
[plugin count]
path = $P/seq_count.so
config = topic=ev

[plugin bridge]
path = $NATS_BRIDGE
config = url=$NATS_URL in=uvplug.ev pending=1100000
INI
host_section "$PORT_a" >"$T/a.ini"
cat >>"$T/a.ini" <<INI
[plugin bridge]
path = $NATS_BRIDGE
config = url=$NATS_URL out=ev

[plugin pub]
path = $P/seq_pub.so
config = topic=ev n=$N batch=2000 size=16 start_on=nats_bridge.status
INI

uvpd_start b "$T/b.ini"
wait_for_line "$LOG_b" "bridge: ready: 0 out, 1 in" 15
uvpd_start a "$T/a.ini"
wait_for_line "$LOG_a" "seq_pub done n=$N" 50
accounted() {
  local r d
  r=$(named "$URL_b" bridge received)
  d=$(named "$URL_b" bridge dropped)
  [ $((r + d)) -eq "$N" ]
}
wait_until "B accounted for $N events" 40 accounted
recv=$(named "$URL_b" bridge received)
drop=$(named "$URL_b" bridge dropped)
# The last events the bridge published may still wait in B's host queue.
wait_until "B's seq_count saw all $recv" 30 named_eq "$URL_b" count received "$recv"
echo "exchange: sent=$N received=$recv dropped=$drop"

# Core NATS has no flow control: a consumer that falls behind by more than
# libnats's pending bound loses messages (counted: the account stays
# exact). B's bound (pending=1100000) holds the whole stream, so a plain
# build drops nothing even on a loaded machine; a sanitizer build can be
# ten times slower and still drop under the server's own bounds.
libs=$(ldd "$UVPLUGD" 2>/dev/null || true)
if [[ $libs != *libtsan* && $libs != *libasan* ]]; then
  assert_eq "B bridge dropped" 0 "$drop"
fi
assert_eq "A pub published" "$N" "$(named "$URL_a" pub published)"
assert_eq "A bridge sent" "$N" "$(named "$URL_a" bridge sent)"
assert_eq "A bridge refused" 0 "$(named "$URL_a" bridge refused)"
assert_eq "B count = B bridge received" "$recv" "$(named "$URL_b" count received)"
# seq_count sees a gap when the next number arrives; a lost tail (after
# its last_seq) only the bridge's sync frames reveal.
tail=$((N - $(named "$URL_b" count last_seq)))
assert_eq "B count gaps + lost tail = B bridge dropped" "$drop" \
  "$(($(named "$URL_b" count gaps) + tail))"
assert_eq "B bridge out_of_order" 0 "$(named "$URL_b" bridge out_of_order)"
assert_eq "B bridge bad_frames" 0 "$(named "$URL_b" bridge bad_frames)"
assert_eq "B bridge local_refused" 0 "$(named "$URL_b" bridge local_refused)"
assert_eq "B count out_of_order" 0 "$(named "$URL_b" count out_of_order)"
assert_eq "B bridge sent (nothing goes back)" 0 "$(named "$URL_b" bridge sent)"
assert_eq "A bridge received" 0 "$(named "$URL_a" bridge received)"
assert_eq "A reconnects" 0 "$(named "$URL_a" bridge reconnects)"

uvpd_stop a
uvpd_stop b
# The final stats line carries the same counters.
assert_match "B final counters" "counters bridge: sent=0 received=$recv dropped=$drop " \
  "$(grep -m1 'counters bridge:' "$LOG_b")"
echo "PASS"
