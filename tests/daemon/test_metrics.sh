# GET /metrics, /ready and /live of the real uvplugd (docs/uvplugd.md,
# "Metrics" and "Health endpoints"): scraped while a ticker publishes and a
# counter and a tap count, the text passes `promtool check metrics`, and
# once the ticker's fixed count is done the counters hold exact values.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is missing (cmake/deps.sh installs it)"
command -v promtool >/dev/null ||
  fail "promtool is missing (Debian package prometheus, cmake/deps.sh)"

R=$UVP_RUST_PLUGIN_DIR
PORT=$(free_port)
N=150 # ticks: 150 x 10 ms, long enough to scrape while they flow
cat >"$T/uvplugd.ini" <<INI
[host]
metrics_listen = 127.0.0.1:$PORT
log_level = info

[plugin ticker]
path = $R/libticker.so
config = topic=ticks every_ms=10 count=$N

[plugin counter]
path = $R/libcounter.so
config = topic=ticks

[plugin tap]
path = $R/libtap.so
config = topic=ticks max_per_sec=2
INI

URL=http://127.0.0.1:$PORT
# get PATH OUT: the body in OUT, the status code on stdout.
get() {
  curl -sS --max-time 10 -o "$2" -w '%{http_code}' "$URL$1" || echo "curl-failed"
}
# val FILE SERIES: the value of one series (name and labels, exact).

start_daemon "$T/log" -c "$T/uvplugd.ini"
# Up when /live answers; the daemon serves once every plugin is loaded.
for _ in $(seq 1 200); do
  [ "$(get /live "$T/live" 2>/dev/null)" = 200 ] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "uvplugd exited at start-up"
  sleep 0.05
done
assert_eq "/live" 200 "$(get /live "$T/live")"
assert_eq "/live body" "live" "$(cat "$T/live")"
assert_eq "/ready once started" 200 "$(get /ready "$T/ready")"
assert_eq "/ready body" "ready" "$(cat "$T/ready")"
assert_eq "unknown path" 404 "$(get /nope "$T/nope")"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")
assert_eq "POST /metrics" 405 "$code"
# HTTP/1.1 keep-alive: a scraper's second request reuses the connection.
conns=$(curl -sS --max-time 10 -o /dev/null -o /dev/null -w '%{num_connects} ' "$URL/live" "$URL/metrics")
assert_eq "connections opened for two requests" "1 0 " "$conns"

# Scrapes while events flow: valid text, counters that only grow.
assert_eq "first scrape" 200 "$(get /metrics "$T/m1")"
# M3: the exposition format, mid-flow and after.
promtool check metrics <"$T/m1" >"$T/promtool1" 2>&1 ||
  fail "promtool check metrics (mid-flow): $(cat "$T/promtool1")"
sleep 0.3
assert_eq "second scrape" 200 "$(get /metrics "$T/m2")"
c1=$(val "$T/m1" 'uvplug_plugin_events_total{worker="0",plugin="counter"}')
c2=$(val "$T/m2" 'uvplug_plugin_events_total{worker="0",plugin="counter"}')
assert_match "counter events mid-flow" '^[0-9]+$' "$c1"
[ "$c1" -le "$c2" ] || fail "counter went down between scrapes: $c1 > $c2"
[ "$c2" -le "$N" ] || fail "counter saw more than $N events: $c2"
assert_eq "ticker state" 1 "$(val "$T/m1" 'uvplug_plugin_state{worker="0",plugin="ticker",state="running"}')"
assert_eq "ready gauge" 1 "$(val "$T/m1" 'uvplug_ready')"
# M1: served from the loop thread: no MHD thread (and these plugins start no
# work, so the libuv pool never starts either).
assert_eq "threads in uvplugd" 1 "$(ls "/proc/$DAEMON_PID/task" | wc -l)"

# The ticker's fixed count done: every counter is exact.
wait_for_line "$T/log" "ticker: done after $N" 20
assert_eq "final scrape" 200 "$(get /metrics "$T/m")"
promtool check metrics <"$T/m" >"$T/promtool" 2>&1 ||
  fail "promtool check metrics: $(cat "$T/promtool")"
M=$T/m
assert_eq "ticker published" "$N" "$(val "$M" 'uvplug_plugin_published_total{worker="0",plugin="ticker"}')"
assert_eq "ticker calls" "$N" "$(val "$M" 'uvplug_plugin_calls_total{worker="0",plugin="ticker"}')"
assert_eq "counter events" "$N" "$(val "$M" 'uvplug_plugin_events_total{worker="0",plugin="counter"}')"
assert_eq "tap events" "$N" "$(val "$M" 'uvplug_plugin_events_total{worker="0",plugin="tap"}')"
assert_eq "counter errors" 0 "$(val "$M" 'uvplug_plugin_errors_total{worker="0",plugin="counter"}')"
assert_eq "counter panics" 0 "$(val "$M" 'uvplug_plugin_panics_total{worker="0",plugin="counter"}')"
assert_eq "topic published" "$N" "$(val "$M" 'uvplug_topic_published_total{worker="0",topic="ticks"}')"
assert_eq "topic delivered" "$((2 * N))" "$(val "$M" 'uvplug_topic_delivered_total{worker="0",topic="ticks"}')"
assert_eq "topic subscribers" 2 "$(val "$M" 'uvplug_topic_subscribers{worker="0",topic="ticks"}')"
assert_eq "host published" "$N" "$(val "$M" 'uvplug_published_total{worker="0"}')"
assert_eq "host delivered" "$((2 * N))" "$(val "$M" 'uvplug_delivered_total{worker="0"}')"
assert_eq "queue refused" 0 "$(val "$M" 'uvplug_queue_refused_total{worker="0"}')"
assert_eq "plugins running" 3 "$(val "$M" 'uvplug_plugins{worker="0",state="running"}')"
# ticker's timer is gone; counter and tap subscribe, tap has its window timer
assert_eq "subscriptions" 2 "$(val "$M" 'uvplug_registrations{worker="0",kind="subscription"}')"
assert_eq "timers" 1 "$(val "$M" 'uvplug_registrations{worker="0",kind="timer"}')"
assert_eq "counter registrations" 1 "$(val "$M" 'uvplug_plugin_registrations{worker="0",plugin="counter"}')"
for p in ticker counter tap; do
  assert_eq "$p instance running" 1 \
    "$(val "$M" "uvplug_instance_status{worker=\"0\",plugin=\"$p\",status=\"running\"}")"
  assert_eq "$p instance failed" 0 \
    "$(val "$M" "uvplug_instance_status{worker=\"0\",plugin=\"$p\",status=\"failed\"}")"
  # The histogram's +Inf bucket is its count, and counts every event.
  inf=$(val "$M" "uvplug_callback_duration_seconds_bucket{worker=\"0\",plugin=\"$p\",le=\"+Inf\"}")
  assert_eq "$p histogram count" "$inf" \
    "$(val "$M" "uvplug_callback_duration_seconds_count{worker=\"0\",plugin=\"$p\"}")"
done
cnt=$(val "$M" 'uvplug_callback_duration_seconds_count{worker="0",plugin="counter"}')
[ "$cnt" -ge "$N" ] || fail "counter histogram counts $cnt callbacks, fewer than $N events"
assert_match "loop idle seconds" '^[0-9]+\.[0-9]{9}$' "$(val "$M" 'uvplug_loop_idle_seconds_total{worker="0"}')"
assert_eq "reloads ok" 0 "$(val "$M" 'uvplug_reloads_total{result="ok"}')"
assert_eq "build info" 1 "$(grep -c '^uvplug_build_info{version="[0-9.]*",library="[0-9.]*"} 1$' "$M")"
assert_match "content type" 'text/plain; version=0.0.4' \
  "$(curl -sS --max-time 10 -o /dev/null -w '%{content_type}' "$URL/metrics")"

# The tap logged at most 2 lines a second and reported what it suppressed.
wait_for_line "$T/log" "tap: suppressed [0-9]+ events on ticks" 10

stop_daemon TERM
assert_eq "exit code after SIGTERM" 0 "$DAEMON_RC"
# Stopped means not listening any more.
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$URL/live" 2>/dev/null || true)
assert_eq "/live after exit" 000 "$code"
echo "ok"
