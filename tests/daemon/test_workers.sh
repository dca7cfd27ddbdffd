# Worker loops (docs/uvplugd.md "Worker loops", docs/scaling.md): two
# workers, each with its own host on its own thread.
#   - replicas = all: one instance per worker, each with its own state (a
#     sink counts only its own worker's ticks);
#   - worker = 1: an instance on worker 1 only;
#   - a quarantined instance on worker 1 leaves worker 0 and worker 1's
#     other instances running;
#   - /metrics: one exposition, every per-host and per-plugin series with
#     a worker label, promtool clean;
#   - SIGHUP adds an instance on both workers and moves one between
#     workers, SIGUSR1 logs both workers' stats, SIGTERM stops both with
#     exit 0;
#   - --check reports a placement on a worker that does not exist and a
#     bad workers value; workers = auto runs one loop per CPU.
# Rules: M5 (each host on its worker's thread: TSan clean), M6 (the
# quarantine stays on worker 1; signals reach both), M7 (labels), M3.
# Only C plugins (the probe): under TSan (label below) every plugin is
# instrumented too, and a race makes uvplugd exit 66, not 0.
# UVP_TEST_LABELS: tsan
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is missing (cmake/deps.sh installs it)"
command -v promtool >/dev/null ||
  fail "promtool is missing (Debian package prometheus, cmake/deps.sh)"

PORT=$(free_port)
N=40
cat >"$T/uvplugd.ini" <<INI
[host]
workers = 2
metrics_listen = 127.0.0.1:$PORT

[plugin sink]
path = $PROBE
replicas = all
config = in=ticks

[plugin solo]
path = $PROBE
worker = 1
config = in=ticks

[plugin bad]
path = $PROBE
worker = 1
config = in=ticks panic=1

[plugin tick]
path = $PROBE
replicas = all
config = out=ticks count=$N every_ms=5
INI

URL=http://127.0.0.1:$PORT
scrape() {
  local code
  code=$(curl -sS --max-time 10 -o "$1" -w '%{http_code}' "$URL/metrics" || echo curl-failed)
  assert_eq "GET /metrics" 200 "$code"
  promtool check metrics <"$1" >"$1.promtool" 2>&1 ||
    fail "promtool check metrics: $(cat "$1.promtool")"
}

start_daemon "$T/log" -c "$T/uvplugd.ini"
wait_for_line "$T/log" "started: 6 of 6 instances running on 2 workers"
# Worker 0 is the main thread; worker 1 has its own (TSan adds one more).
libs=$(ldd "$UVPLUGD" 2>/dev/null || true)
extra=0
[[ $libs == *libtsan* ]] && extra=1
assert_eq "threads" "$((2 + extra))" "$(ls "/proc/$DAEMON_PID/task" | wc -l)"
# Both replicas of tick publish their N ticks, each on its own loop.
wait_for_line "$T/log" "tick@w0: probe: sent $N"
wait_for_line "$T/log" "tick@w1: probe: sent $N"
# the bad instance panics at its first event: quarantined on worker 1 only
wait_for_line "$T/log" "bad@w1: .*quarantin"

scrape "$T/m"
M=$T/m
for w in 0 1; do
  # each replica has its own state: N events, not 2N
  assert_eq "sink events on worker $w" "$N" \
    "$(val "$M" "uvplug_plugin_events_total{worker=\"$w\",plugin=\"sink\"}")"
  assert_eq "tick published on worker $w" "$N" \
    "$(val "$M" "uvplug_plugin_published_total{worker=\"$w\",plugin=\"tick\"}")"
  assert_eq "host published on worker $w" "$N" \
    "$(val "$M" "uvplug_published_total{worker=\"$w\"}")"
  assert_eq "sink running on worker $w" 1 \
    "$(val "$M" "uvplug_plugin_state{worker=\"$w\",plugin=\"sink\",state=\"running\"}")"
done
# placement: solo and bad run on worker 1 only
assert_eq "solo events on worker 1" "$N" \
  "$(val "$M" 'uvplug_plugin_events_total{worker="1",plugin="solo"}')"
assert_eq "solo on worker 0" missing \
  "$(val "$M" 'uvplug_plugin_events_total{worker="0",plugin="solo"}')"
assert_eq "running on worker 0" 2 "$(val "$M" 'uvplug_plugins{worker="0",state="running"}')"
assert_eq "running on worker 1" 3 "$(val "$M" 'uvplug_plugins{worker="1",state="running"}')"
# the quarantined instance was unloaded from worker 1's host; the daemon's
# view of it says quarantined there, and nothing of it exists on worker 0
assert_eq "bad quarantined on worker 1" 1 \
  "$(val "$M" 'uvplug_instance_status{worker="1",plugin="bad",status="quarantined"}')"
assert_eq "bad on worker 0" missing \
  "$(val "$M" 'uvplug_instance_status{worker="0",plugin="bad",status="quarantined"}')"
assert_eq "solo running on worker 1" 1 \
  "$(val "$M" 'uvplug_instance_status{worker="1",plugin="solo",status="running"}')"
# worker 1's delivered: sink N + solo N + bad's one event before quarantine
assert_eq "delivered on worker 1" "$((2 * N + 1))" "$(val "$M" 'uvplug_delivered_total{worker="1"}')"
assert_eq "delivered on worker 0" "$N" "$(val "$M" 'uvplug_delivered_total{worker="0"}')"
# process-wide families: once, without a worker label
assert_eq "ready" 1 "$(val "$M" 'uvplug_ready')"
assert_eq "build_info lines" 1 "$(grep -c '^uvplug_build_info{' "$M")"
assert_eq "HELP lines of uvplug_topics" 1 "$(grep -c '^# HELP uvplug_topics ' "$M")"

# SIGUSR1: stats of both workers
kill -USR1 "$DAEMON_PID"
wait_for_line "$T/log" "uvplugd@w1: stats sink: state=running calls=$N events=$N"
wait_for_line "$T/log" "uvplugd@w0: stats sink: state=running calls=$N events=$N"
wait_for_line "$T/log" "uvplugd@w1: stats worker 1: instances=4 running=3 restarts=0"
wait_for_line "$T/log" "uvplugd@w0: stats daemon: instances=2 running=2 reloads_ok=0"

# SIGHUP: a new replicated instance loads on both workers; the others stay
cat >>"$T/uvplugd.ini" <<INI

[plugin late]
path = $PROBE
replicas = all
config = in=late
INI
kill -HUP "$DAEMON_PID"
wait_for_line "$T/log" "uvplugd@w0: reload done: 1 added, 0 reloaded, 0 removed, 2 unchanged"
# worker 1 also loads the quarantined bad again (a reload retries what is
# not running, as with one loop)
wait_for_line "$T/log" "uvplugd@w1: reload done: 2 added, 0 reloaded, 0 removed, 3 unchanged"
scrape "$T/m2"
assert_eq "reloads ok" 1 "$(val "$T/m2" 'uvplug_reloads_total{result="ok"}')"
for w in 0 1; do
  assert_eq "late on worker $w" 1 \
    "$(val "$T/m2" "uvplug_plugin_state{worker=\"$w\",plugin=\"late\",state=\"running\"}")"
  # kept instances kept their state across the reload
  assert_eq "sink events on worker $w after reload" "$N" \
    "$(val "$T/m2" "uvplug_plugin_events_total{worker=\"$w\",plugin=\"sink\"}")"
done

# SIGHUP moving solo from worker 1 to worker 0: removed there, added here
sed -i '0,/^worker = 1$/s//worker = 0/' "$T/uvplugd.ini"
grep -A3 '^\[plugin solo\]' "$T/uvplugd.ini" | grep -q '^worker = 0$' || fail "test setup: solo not moved"
kill -HUP "$DAEMON_PID"
wait_for_line "$T/log" "uvplugd@w0: reload done: 1 added, 0 reloaded, 0 removed, 3 unchanged"
wait_for_line "$T/log" "uvplugd@w1: reload done: 0 added, 0 reloaded, 1 removed, 4 unchanged"
scrape "$T/m3"
assert_eq "reloads ok after the move" 2 "$(val "$T/m3" 'uvplug_reloads_total{result="ok"}')"
assert_eq "solo now on worker 0" 1 \
  "$(val "$T/m3" 'uvplug_instance_status{worker="0",plugin="solo",status="running"}')"
assert_eq "solo gone from worker 1" missing \
  "$(val "$T/m3" 'uvplug_instance_status{worker="1",plugin="solo",status="running"}')"
assert_eq "solo's fresh state on worker 0" 0 \
  "$(val "$T/m3" 'uvplug_plugin_events_total{worker="0",plugin="solo"}')"

stop_daemon TERM
assert_eq "exit code after SIGTERM" 0 "$DAEMON_RC"
assert_eq "TSan reports" 0 "$(count_lines "$T/log" "WARNING: ThreadSanitizer")"
assert_eq "sink@w0 saw its worker's ticks" 1 "$(count_lines "$T/log" "sink@w0: probe: seen $N events")"
assert_eq "sink@w1 saw its worker's ticks" 1 "$(count_lines "$T/log" "sink@w1: probe: seen $N events")"
assert_eq "solo saw worker 1's ticks" 1 "$(count_lines "$T/log" "solo@w1: probe: seen $N events")"
assert_eq "solo on worker 0 saw none" 1 "$(count_lines "$T/log" "solo@w0: probe: seen 0 events")"
assert_eq "worker 1 stopped" 1 "$(count_lines "$T/log" "uvplugd@w1: worker 1 stopped")"

# --check: a placement on a worker that does not exist, with its line
cat >"$T/bad.ini" <<INI
[host]
workers = 2
shared_topics = a,,b
[plugin x]
path = $PROBE
worker = 2
[plugin y]
path = $PROBE
replicas = all
worker = 0
INI
rc=0
"$UVPLUGD" --check -c "$T/bad.ini" >"$T/check" 2>&1 || rc=$?
assert_eq "--check exit code" 1 "$rc"
assert_eq "worker out of range" 1 \
  "$(count_lines "$T/check" "bad.ini:6: worker = 2 but \[host\] workers = 2; expected 0 to 1")"
assert_eq "worker with replicas" 1 \
  "$(count_lines "$T/check" "bad.ini:10: \[plugin y\] sets worker and replicas = all")"
assert_eq "empty shared topic" 1 \
  "$(count_lines "$T/check" "bad.ini:3: bad value 'a,,b' for shared_topics; expected topic names separated by commas")"

# workers = auto: one loop per CPU this process may run on (nproc counts
# the same affinity mask as uv_available_parallelism); bad values named.
printf '[host]\nworkers = auto\nmetrics_listen =\n[plugin p]\npath = %s\nreplicas = all\n' \
  "$PROBE" >"$T/auto.ini"
n=$(nproc)
[ "$n" -gt 64 ] && n=64
"$UVPLUGD" -c "$T/auto.ini" --run-ms 300 >"$T/auto.log" 2>&1 || fail "workers = auto run failed"
s=""
[ "$n" -gt 1 ] && s=s
assert_eq "auto workers" 1 \
  "$(count_lines "$T/auto.log" "started: $n of $n instances running on $n worker$s ")"
printf '[host]\nworkers = 0\n[plugin p]\npath = %s\n' "$PROBE" >"$T/zero.ini"
rc=0
"$UVPLUGD" --check -c "$T/zero.ini" >"$T/zero" 2>&1 || rc=$?
assert_eq "--check workers = 0" 1 "$rc"
assert_eq "workers = 0 named" 1 \
  "$(count_lines "$T/zero" "zero.ini:2: bad value '0' for workers; expected auto or an integer from 1 to 64")"
echo "ok"
