#!/usr/bin/env bash
# Bridged events/s between two uvplugd processes through a real
# nats-server on loopback (issue 14; docs/nats-bridge.md, "Figures").
#
#   tools/bench-nats.sh BUILD_DIR [N] [RUNS]
#
# A runs seq_pub (N numbered 16-byte events, BATCH per 1 ms tick, default
# 2000: up to 2 M/s, above what the path carries; 5000 or 20000 per tick
# measured no faster) and a bridge with out=ev; B runs a bridge with
# in=uvplug.ev and seq_count, which logs when the N-th event arrived. B's
# libnats pending bound holds the whole stream (core NATS has no flow
# control; the bench measures the path, not the drop policy). One run's
# rate is N over the time from seq_pub's first tick (A's log) to that line
# (B's log), both stamped by the same clock (ms). Every run must deliver all N in order.
# Prints the median of RUNS (default 3) as one JSON line like
# uvplug-bench's and appends it to BUILD_DIR/bench/results.jsonl.
# Exits 77 (nothing written) when nats-server or the bridge is missing.
set -euo pipefail

B=$(cd "${1:?usage: tools/bench-nats.sh BUILD_DIR [N] [RUNS]}" && pwd)
N=${2:-2000000}
RUNS=${3:-3}
BATCH=${BATCH:-2000}
PENDING=$((N + N / 10 > 2097151 ? 2097151 : N + N / 10)) # bridge's cap
BRIDGE=$B/plugins/nats_bridge.so
PLUG=$B/tests/plugins
if ! command -v nats-server >/dev/null || [ ! -f "$BRIDGE" ]; then
  echo "bench-nats: skipped: needs nats-server and $BRIDGE" >&2
  exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/bench-nats.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# Wait (at most $3 s) for a line matching $2 in file $1.
wait_line() {
  local deadline=$((SECONDS + $3))
  until grep -qE -- "$2" "$1" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "bench-nats: no /$2/ in $1" >&2
      tail -n 20 "$1" >&2
      exit 1
    fi
    sleep 0.02
  done
}
# Milliseconds since the epoch of the first line matching $2 in $1.
stamp_ms() {
  local ts
  ts=$(grep -m1 -E -- "$2" "$1" | cut -d' ' -f1)
  python3 -c "import datetime,sys; t=datetime.datetime.strptime(sys.argv[1], '%Y-%m-%dT%H:%M:%S.%fZ'); print(int(t.replace(tzinfo=datetime.timezone.utc).timestamp()*1000))" "$ts"
}

NP=$(port)
URL=nats://127.0.0.1:$NP
nats-server -a 127.0.0.1 -p "$NP" >"$T/nats.log" 2>&1 &
PIDS+=($!)
wait_line "$T/nats.log" "Server is ready" 15

one_run() {
  local r=$1
  cat >"$T/b.ini" <<INI
[host]
log_level = info
metrics_listen =
[plugin count]
path = $PLUG/seq_count.so
config = topic=ev expect=$N
[plugin bridge]
path = $BRIDGE
config = url=$URL in=uvplug.ev pending=$PENDING
INI
  cat >"$T/a.ini" <<INI
[host]
log_level = info
metrics_listen =
[plugin bridge]
path = $BRIDGE
config = url=$URL out=ev
[plugin pub]
path = $PLUG/seq_pub.so
config = topic=ev n=$N batch=$BATCH size=16 start_on=nats_bridge.status
INI
  "$B/uvplugd" -c "$T/b.ini" >"$T/b$r.log" 2>&1 &
  local pb=$!
  PIDS+=($pb)
  wait_line "$T/b$r.log" "bridge: ready" 15
  "$B/uvplugd" -c "$T/a.ini" >"$T/a$r.log" 2>&1 &
  local pa=$!
  PIDS+=($pa)
  wait_line "$T/b$r.log" "seq_count complete n=$N" 120
  kill -TERM "$pa" "$pb"
  wait "$pa" "$pb" || true
  grep -qE "counters count: received=$N gaps=0 out_of_order=0" "$T/b$r.log" || {
    echo "bench-nats: run $r did not deliver all $N in order" >&2
    grep "counters" "$T/a$r.log" "$T/b$r.log" >&2
    exit 1
  }
  local t0 t1
  t0=$(stamp_ms "$T/a$r.log" "seq_pub start")
  t1=$(stamp_ms "$T/b$r.log" "seq_count complete")
  echo $((t1 - t0))
}

ms=()
for r in $(seq 1 "$RUNS"); do
  ms+=("$(one_run "$r")")
  echo "bench-nats: run $r: $N events in ${ms[-1]} ms" >&2
done
line=$(python3 - "$N" "${ms[@]}" <<'PY'
import json, statistics, sys, time, os
n = int(sys.argv[1]); ms = sorted(max(1, int(x)) for x in sys.argv[2:])
med = statistics.median(ms)
ns = lambda m: m * 1e6 / n
print(json.dumps({"case": "nats.bridge", "status": "ok",
  "ns_per_event": round(ns(med), 1), "events_per_s": round(n * 1000 / med),
  "runs": len(ms), "min": round(ns(ms[0]), 1), "max": round(ns(ms[-1]), 1),
  "events": n, "payload_bytes": 16,
  "note": "two uvplugd processes, one nats-server, loopback; end to end",
  "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "nproc": os.cpu_count()},
  separators=(",", ":")))
PY
)
echo "$line"
mkdir -p "$B/bench"
echo "$line" >>"$B/bench/results.jsonl"
