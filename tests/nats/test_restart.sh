# Issue 14, NATS bridge: the server restarts in the middle of a stream.
# Both bridges reconnect (reconnects > 0) and the account is exact:
#   A: pub.published == bridge.sent + bridge.refused (refused: libnats's
#      reconnect buffer was full, the event never left A, no seq taken)
#   B: bridge.received + bridge.dropped == A's bridge.sent (dropped:
#      sequence gaps, including the tail that B's sync frames reveal)
#   B: count.received == bridge.received and count.gaps == A.refused +
#      B.dropped (seq_pub's numbers are consecutive at the source)
# Nothing is lost without being counted. The reconnect buffer is kept
# small (64 KiB) so that some events are refused too.
. "$(dirname "$0")/lib.sh"

N=600000
nats_start
host_section "$PORT_b" >"$T/b.ini"
cat >>"$T/b.ini" <<INI
[plugin count]
path = $P/seq_count.so
config = topic=ev

[plugin bridge]
path = $NATS_BRIDGE
config = url=$NATS_URL in=uvplug.ev reconnect_wait_ms=50 sync_ms=200
INI
host_section "$PORT_a" >"$T/a.ini"
cat >>"$T/a.ini" <<INI
[plugin bridge]
path = $NATS_BRIDGE
config = url=$NATS_URL out=ev buffer=65536 reconnect_wait_ms=50 sync_ms=200

[plugin pub]
path = $P/seq_pub.so
config = topic=ev n=$N batch=200 size=16 start_on=nats_bridge.status
INI

uvpd_start b "$T/b.ini"
wait_for_line "$LOG_b" "bridge: ready: 0 out, 1 in" 15
uvpd_start a "$T/a.ini"
wait_for_line "$LOG_a" "bridge: ready: 1 out, 0 in" 15
# Restart the server once some events went through, before the end.
wait_until "first events at B" 20 \
  bash -c "[ \"\$(curl -sS --max-time 5 $URL_b/metrics | awk '/counter=\"received\"/ && /plugin=\"count\"/ {print \$2}')\" -gt 1000 ]"
nats_stop
grep -q "seq_pub done" "$LOG_a" && fail "the stream ended before the restart; raise N"
nats_start
wait_for_line "$LOG_a" "seq_pub done n=$N" 50

settled() {
  local sent refused recv drop
  sent=$(named "$URL_a" bridge sent)
  refused=$(named "$URL_a" bridge refused)
  recv=$(named "$URL_b" bridge received)
  drop=$(named "$URL_b" bridge dropped)
  [ $((sent + refused)) -eq "$N" ] && [ $((recv + drop)) -eq "$sent" ]
}
wait_until "B accounted for every event A sent" 30 settled

sent=$(named "$URL_a" bridge sent)
refused=$(named "$URL_a" bridge refused)
recv=$(named "$URL_b" bridge received)
drop=$(named "$URL_b" bridge dropped)
echo "restart: published=$N sent=$sent refused=$refused received=$recv dropped=$drop"
assert_eq "A: published = sent + refused" "$N" "$((sent + refused))"
assert_eq "B: received + dropped = A sent" "$sent" "$((recv + drop))"
# The last events the bridge published may still wait in B's host queue.
wait_until "B's seq_count saw all $recv" 30 named_eq "$URL_b" count received "$recv"
# seq_count sees a gap when the next number arrives; a lost tail (after
# its last_seq) only the bridge's sync frames reveal.
tail=$((N - $(named "$URL_b" count last_seq)))
assert_eq "B count gaps + lost tail = refused + dropped" "$((refused + drop))" \
  "$(($(named "$URL_b" count gaps) + tail))"
assert_eq "B count out_of_order" 0 "$(named "$URL_b" count out_of_order)"
assert_eq "B bridge out_of_order" 0 "$(named "$URL_b" bridge out_of_order)"
assert_eq "B local_refused" 0 "$(named "$URL_b" bridge local_refused)"
ra=$(named "$URL_a" bridge reconnects)
rb=$(named "$URL_b" bridge reconnects)
[ "$ra" -ge 1 ] || fail "A reconnects: $ra"
[ "$rb" -ge 1 ] || fail "B reconnects: $rb"
assert_eq "A disconnects = reconnects" "$ra" "$(named "$URL_a" bridge disconnects)"
[ "$recv" -gt 0 ] || fail "nothing received"
uvpd_stop a
uvpd_stop b
echo "PASS"
