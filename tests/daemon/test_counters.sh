# Plugins' named counters (contract O4) as uvplugd shows them: one
# /metrics family, uvplug_plugin_named_total{plugin,counter} (promtool
# refuses "counter" inside a counter's name), that passes
# `promtool check metrics`, and a "counters NAME: k=v ..." line per
# instance in the SIGUSR1 (and final) stats. seq_pub publishes a fixed
# numbered stream that seq_count counts, so every value is exact.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is missing (cmake/deps.sh installs it)"
command -v promtool >/dev/null ||
  fail "promtool is missing (Debian package prometheus, cmake/deps.sh)"

P=$UVP_TEST_PLUGIN_DIR
PORT=$(free_port)
N=20000
cat >"$T/uvplugd.ini" <<INI
[host]
metrics_listen = 127.0.0.1:$PORT
log_level = info

[plugin count]
path = $P/seq_count.so
config = topic=s

[plugin pub]
path = $P/seq_pub.so
config = topic=s n=$N batch=500 size=8
INI

URL=http://127.0.0.1:$PORT

start_daemon "$T/log" -c "$T/uvplugd.ini"
wait_for_line "$T/log" "seq_pub done n=$N" 30
wait_for_handlers
# The last events may still be queued when "done" is logged: poll.
for _ in $(seq 1 100); do
  curl -sS --max-time 10 -o "$T/m" "$URL/metrics" || fail "curl failed"
  [ "$(val "$T/m" 'uvplug_plugin_named_total{worker="0",plugin="count",counter="received"}')" = "$N" ] && break
  sleep 0.05
done
promtool check metrics <"$T/m" >"$T/promtool" 2>&1 ||
  fail "promtool check metrics: $(cat "$T/promtool")"
assert_eq "one TYPE line" 1 "$(count_lines "$T/m" '^# TYPE uvplug_plugin_named_total counter$')"
assert_eq "received" "$N" "$(val "$T/m" 'uvplug_plugin_named_total{worker="0",plugin="count",counter="received"}')"
assert_eq "gaps" 0 "$(val "$T/m" 'uvplug_plugin_named_total{worker="0",plugin="count",counter="gaps"}')"
assert_eq "out_of_order" 0 "$(val "$T/m" 'uvplug_plugin_named_total{worker="0",plugin="count",counter="out_of_order"}')"
assert_eq "last_seq" "$N" "$(val "$T/m" 'uvplug_plugin_named_total{worker="0",plugin="count",counter="last_seq"}')"
assert_eq "published" "$N" "$(val "$T/m" 'uvplug_plugin_named_total{worker="0",plugin="pub",counter="published"}')"
assert_eq "six series" 6 "$(count_lines "$T/m" '^uvplug_plugin_named_total\{')"

kill -USR1 "$DAEMON_PID"
wait_for_line "$T/log" "counters count: received=$N gaps=0 out_of_order=0 last_seq=$N" 15
assert_match "pub line" "counters pub: published=$N refused=[0-9]+" \
  "$(grep -m1 'counters pub:' "$T/log")"
stop_daemon TERM
assert_eq "exit status" 0 "$DAEMON_RC"
assert_eq "final stats repeat the line" 2 \
  "$(count_lines "$T/log" "counters count: received=$N gaps=0")"
echo "PASS"
