# Topics across worker loops (docs/scaling.md "Shared topics"): two
# workers, a numbered publisher on each (tests/plugins/seq_probe.c) and a
# subscriber replica on each.
#   - a topic not in shared_topics stays on its worker: each subscriber
#     sees its own worker's publisher only;
#   - a topic in shared_topics reaches both: each subscriber sees every
#     event of both publishers, exactly once, each publisher's in order,
#     in bursts that fill the rings (refusals retried by the publisher).
# Rules as uvplugd uses them: X1 (shared_topics is the declared scope;
# nums without it stays on its loop), X2 (each copy delivered once, on the
# receiver only), X3 (a full ring refuses the publish whole: the refusals
# the publishers retried equal bus_refused), X4 (per-publisher order,
# exactly once; bus_sent of one = bus_received of the other), M5-M7.
# UVP_TEST_LABELS: tsan
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is missing (cmake/deps.sh installs it)"
command -v promtool >/dev/null ||
  fail "promtool is missing (Debian package prometheus, cmake/deps.sh)"

SEQ="$UVP_TEST_PLUGIN_DIR/seq_probe.so"
N=20000
BURST=4096 # more than a ring (1024 cells): bursts fill it

# conf PORT SHARED: the config, with shared_topics = SHARED (may be empty).
conf() {
  cat <<INI
[host]
workers = 2
metrics_listen = 127.0.0.1:$1
${2:+shared_topics = $2}

[plugin sub]
path = $SEQ
replicas = all
config = sub=nums

[plugin pub0]
path = $SEQ
worker = 0
config = pub=nums id=1 count=$N burst=$BURST

[plugin pub1]
path = $SEQ
worker = 1
config = pub=nums id=2 count=$N burst=$BURST
INI
}


# run SHARED WANT LOG: start, wait until both publishers sent N and both
# subscribers were handed WANT events (the last ones may still be in a
# queue or a ring when "sent" is logged), scrape into $T/m, stop.
run() {
  local port
  port=$(free_port)
  conf "$port" "$1" >"$T/uvplugd.ini"
  start_daemon "$3" -c "$T/uvplugd.ini"
  wait_for_line "$3" "pub0@w0: seq: sent $N" 60
  wait_for_line "$3" "pub1@w1: seq: sent $N" 60
  for _ in $(seq 1 200); do
    curl -sS --max-time 10 -o "$T/m" "http://127.0.0.1:$port/metrics" || fail "scrape failed"
    [ "$(val "$T/m" 'uvplug_plugin_events_total{worker="0",plugin="sub"}')" = "$2" ] &&
      [ "$(val "$T/m" 'uvplug_plugin_events_total{worker="1",plugin="sub"}')" = "$2" ] && break
    sleep 0.05
  done
  promtool check metrics <"$T/m" >"$T/promtool" 2>&1 || fail "promtool: $(cat "$T/promtool")"
  stop_daemon TERM
  assert_eq "exit code" 0 "$DAEMON_RC"
  assert_eq "TSan reports" 0 "$(count_lines "$3" "WARNING: ThreadSanitizer")"
  for w in 0 1; do
    assert_eq "sub events on worker $w" "$2" \
      "$(val "$T/m" "uvplug_plugin_events_total{worker=\"$w\",plugin=\"sub\"}")"
  done
}

# Not shared: each worker's subscriber sees its own publisher only.
run "" "$N" "$T/local.log"
for w in 0 1; do
  assert_eq "local topic on worker $w" 1 \
    "$(count_lines "$T/local.log" "sub@w$w: seq: seen $N events from 1 publishers, 0 out of order")"
  assert_eq "no bus copies from worker $w" 0 "$(val "$T/m" "uvplug_bus_sent_total{worker=\"$w\"}")"
done

# Shared: every subscriber sees both publishers' N events, each in order
# (X3: a publish is delivered everywhere or refused; X4: FIFO per pair).
run nums $((2 * N)) "$T/shared.log"
for w in 0 1; do
  assert_eq "shared topic on worker $w" 1 \
    "$(count_lines "$T/shared.log" "sub@w$w: seq: seen $((2 * N)) events from 2 publishers, 0 out of order")"
  assert_eq "bus copies sent by worker $w" "$N" "$(val "$T/m" "uvplug_bus_sent_total{worker=\"$w\"}")"
  assert_eq "bus copies received by worker $w" "$N" \
    "$(val "$T/m" "uvplug_bus_received_total{worker=\"$w\"}")"
  assert_eq "bus copies dropped on worker $w" 0 "$(val "$T/m" "uvplug_bus_dropped_total{worker=\"$w\"}")"
  # the topic counts its own publishes and the copies it took from the bus
  assert_eq "topic published on worker $w" $((2 * N)) \
    "$(val "$T/m" "uvplug_topic_published_total{worker=\"$w\",topic=\"nums\"}")"
  # A publisher's refusals (a full ring, X3) are the bus's count of them:
  # retried, never lost.
  r=$(sed -n "s/.*pub$w@w$w: seq: sent $N (refused \([0-9]*\))$/\1/p" "$T/shared.log")
  assert_match "refusals of pub$w" '^[0-9]+$' "$r"
  assert_eq "bus refused on worker $w" "$r" "$(val "$T/m" "uvplug_bus_refused_total{worker=\"$w\"}")"
  echo "pub$w: $r publishes refused and retried"
done
echo "ok"
