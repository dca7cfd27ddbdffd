# Shared helpers of tests/nats/test_*.sh (sourced, bash), on top of
# tests/daemon/lib.sh (T, start_daemon, wait_for_line, free_port, fail,
# assert_eq...).
#
# ctest passes NATS_BRIDGE (the built nats_bridge.so) besides the daemon
# tests' variables. Each test starts its own nats-server on a free
# loopback port and two uvplugd processes, A and B, each with metrics on
# its own port.
#
#   nats_start            start nats-server on NATS_PORT; NATS_PID
#   nats_stop             stop it (TERM) and wait
#   uvpd_start NAME INI   start uvplugd NAME (a or b) with config INI; sets
#                         PID_<NAME>, LOG_<NAME>, URL_<NAME> from PORT_<NAME>
#   named URL PLUGIN COUNTER   a named counter (uvplug_plugin_named_total)
#                         from URL/metrics, "missing" when absent
#   wait_until DESC TIMEOUT CMD...   retry CMD every 0.1 s until it
#                         succeeds, else fail with DESC
. "$(dirname "$0")/../daemon/lib.sh"

: "${NATS_BRIDGE:?NATS_BRIDGE must name nats_bridge.so}"
if ! command -v nats-server >/dev/null 2>&1; then
  echo "SKIP: nats-server is not installed (Debian package nats-server;" \
    "cmake/deps.sh installs it)"
  exit 77
fi
command -v curl >/dev/null || fail "curl is missing (cmake/deps.sh installs it)"

NATS_PORT=$(free_port)
NATS_URL=nats://127.0.0.1:$NATS_PORT
NATS_PID=""
PORT_a=$(free_port)
PORT_b=$(free_port)
P=$UVP_TEST_PLUGIN_DIR

_nats_cleanup() {
  for pid in "$NATS_PID" "${PID_a:-}" "${PID_b:-}"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  _uvpd_cleanup
}
trap _nats_cleanup EXIT

nats_start() {
  nats-server -a 127.0.0.1 -p "$NATS_PORT" >>"$T/nats.log" 2>&1 &
  NATS_PID=$!
  wait_until "nats-server listening on $NATS_PORT" 15 \
    bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT" 2>/dev/null
}

nats_stop() {
  kill -TERM "$NATS_PID" 2>/dev/null || true
  wait "$NATS_PID" 2>/dev/null || true
  NATS_PID=""
}

# On failure: both daemons' counters and log tails, and the server's log.
fail() {
  echo "FAIL: $*" >&2
  for n in a b; do
    local url log
    eval "url=\${URL_$n:-}; log=\${LOG_$n:-}"
    [ -n "$url" ] && curl -sS --max-time 5 "$url/metrics" 2>/dev/null |
      grep '^uvplug_plugin_named_total' | sed "s/^/[$n] /" >&2
    [ -n "$log" ] && tail -n 20 "$log" | sed "s/^/[$n] /" >&2
  done
  tail -n 10 "$T/nats.log" | sed 's/^/[nats] /' >&2
  exit 1
}

wait_until() {
  local desc=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out: $desc"
    sleep 0.1
  done
}

# [host] section of a test daemon: metrics on its own port, info log.
host_section() {
  printf '[host]\nlog_level = info\nmetrics_listen = 127.0.0.1:%s\n\n' "$1"
}

uvpd_start() {
  local name=$1 ini=$2
  "$UVPLUGD" -c "$ini" >"$T/$name.log" 2>&1 &
  eval "PID_$name=$!"
  eval "LOG_$name=$T/$name.log"
  eval "URL_$name=http://127.0.0.1:\$PORT_$name"
  DAEMON_LOG=$T/$name.log # what fail() prints
}

named() {
  curl -sS --max-time 10 "$1/metrics" 2>/dev/null |
    awk -v k="uvplug_plugin_named_total{worker=\"0\",plugin=\"$2\",counter=\"$3\"}" \
      '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }'
}

# named_eq URL PLUGIN COUNTER VALUE: for wait_until.
named_eq() { [ "$(named "$1" "$2" "$3")" = "$4" ]; }

uvpd_stop() {
  local pid
  eval "pid=\$PID_$1"
  kill -TERM "$pid" 2>/dev/null || true
  local rc=0
  wait "$pid" || rc=$?
  eval "PID_$1="
  assert_eq "uvplugd $1 exit status" 0 "$rc"
}
