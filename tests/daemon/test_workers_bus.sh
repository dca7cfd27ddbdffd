# Topics across worker loops (docs/scaling.md "Shared topics"): two
# workers, a numbered publisher on each (tests/plugins/seq_probe.c) and a
# subscriber replica on each.
#   - a topic not in shared_topics stays on its worker: each subscriber
#     sees its own worker's publisher only;
#   - a topic in shared_topics reaches both: each subscriber sees every
#     event of both publishers, exactly once, each publisher's in order,
#     in bursts that fill the rings (refusals retried by the publisher).
# UVP_TEST_LABELS: tsan
. "$(dirname "$0")/lib.sh"

SEQ="$UVP_TEST_PLUGIN_DIR/seq_probe.so"
N=20000

# conf SHARED: the config, with shared_topics = SHARED (may be empty).
conf() {
  cat <<INI
[host]
workers = 2
metrics_listen =
${1:+shared_topics = $1}

[plugin sub]
path = $SEQ
replicas = all
config = sub=nums

[plugin pub0]
path = $SEQ
worker = 0
config = pub=nums id=1 count=$N burst=256

[plugin pub1]
path = $SEQ
worker = 1
config = pub=nums id=2 count=$N burst=256
INI
}

# run_until_sent LOG: start, wait for both publishers, stop with SIGTERM.
run_until_sent() {
  start_daemon "$1" -c "$T/uvplugd.ini"
  wait_for_line "$1" "pub0@w0: seq: sent $N" 60
  wait_for_line "$1" "pub1@w1: seq: sent $N" 60
  stop_daemon TERM
  assert_eq "exit code" 0 "$DAEMON_RC"
  assert_eq "TSan reports" 0 "$(count_lines "$1" "WARNING: ThreadSanitizer")"
}

# Not shared: each worker's subscriber sees its own publisher.
conf "" >"$T/uvplugd.ini"
run_until_sent "$T/local.log"
for w in 0 1; do
  assert_eq "local topic on worker $w" 1 \
    "$(count_lines "$T/local.log" "sub@w$w: seq: seen $N events from 1 publishers, 0 out of order")"
done
echo "ok"
