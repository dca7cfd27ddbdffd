# Shared helpers for tests/daemon/test_*.sh (sourced, bash).
#
# ctest runs each test with UVPLUGD, UVP_RUST_PLUGIN_DIR,
# UVP_TEST_PLUGIN_DIR and UVP_SOURCE_DIR in the environment (see the
# daemon.* hunk in CMakeLists.txt). Tests assert exact values; they may
# wait for a line with a generous timeout but never assert on durations.
#
#   T                 a fresh temporary directory, removed on exit
#   start_daemon LOG ARGS...   run "$UVPLUGD" ARGS in the background with
#                     stderr+stdout in LOG; sets DAEMON_PID
#   stop_daemon [SIG] signal DAEMON_PID (default TERM) and wait; sets
#                     DAEMON_RC
#   wait_for_line FILE REGEX [TIMEOUT_S]   wait until a line of FILE matches
#                     the extended REGEX; fails the test on timeout
#   count_lines FILE REGEX   number of lines of FILE matching REGEX
#   free_port         print a TCP port on 127.0.0.1 nobody listens on
#   assert_eq WHAT EXPECTED ACTUAL   fail unless equal
#   assert_match WHAT REGEX ACTUAL   fail unless ACTUAL matches REGEX
#   fail MSG          print MSG and the daemon log, exit 1
set -u
set -o pipefail

: "${UVPLUGD:?UVPLUGD must name the uvplugd binary}"
: "${UVP_TEST_PLUGIN_DIR:?}"
: "${UVP_RUST_PLUGIN_DIR:?}"
: "${UVP_SOURCE_DIR:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/uvpd-test.XXXXXX")
DAEMON_PID=""
DAEMON_LOG=""
DAEMON_RC=""

# Kill a daemon the test left running, then remove the temp dir.
_uvpd_cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  rm -rf "$T"
}
trap _uvpd_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -n "$DAEMON_LOG" ] && [ -f "$DAEMON_LOG" ]; then
    echo "---- daemon log ($DAEMON_LOG), last 60 lines ----" >&2
    tail -n 60 "$DAEMON_LOG" >&2
  fi
  exit 1
}

assert_eq() {
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

assert_match() {
  [[ "$3" =~ $2 ]] || fail "$1: '$3' does not match /$2/"
}

# val FILE SAMPLE: the value of the exposition line whose first field is
# SAMPLE (e.g. 'uvplug_ready{worker="0"}'), or "missing".
val() {
  awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' "$1"
}

count_lines() {
  grep -cE -- "$2" "$1" 2>/dev/null || true
}

wait_for_line() {
  local file=$1 re=$2 timeout=${3:-15}
  local deadline=$((SECONDS + timeout))
  while ! grep -qE -- "$re" "$file" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      fail "no line matching /$re/ in $file within ${timeout}s"
    fi
    if [ -n "$DAEMON_PID" ] && ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      grep -qE -- "$re" "$file" 2>/dev/null && return 0
      fail "daemon exited before a line matching /$re/ appeared"
    fi
    sleep 0.05
  done
}

start_daemon() {
  DAEMON_LOG=$1
  shift
  "$UVPLUGD" "$@" >"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
}

stop_daemon() {
  local sig=${1:-TERM}
  kill "-$sig" "$DAEMON_PID" 2>/dev/null || true
  DAEMON_RC=0
  wait "$DAEMON_PID" || DAEMON_RC=$?
  DAEMON_PID=""
}

# A port the kernel just handed out and released: good enough for a test
# that binds it a moment later on loopback.
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  fail "no free port"
}

# Plugins copied by tests keep the modes safe loading accepts.
umask 022
PROBE="$UVP_TEST_PLUGIN_DIR/daemon_probe.so"

# Number of open fds and of mappings of a process.
fd_count() { ls "/proc/$1/fd" | wc -l; }
maps_count() { wc -l <"/proc/$1/maps"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# True when the daemon binary is built with AddressSanitizer.
# (Not `ldd | grep -q`: grep -q exits at the first match, ldd then dies of
# SIGPIPE, and pipefail turns the match into a failure.)
daemon_is_asan() {
  local libs
  libs=$(ldd "$UVPLUGD" 2>/dev/null || true)
  [[ $libs == *libasan* ]]
}

# Wait until the daemon catches SIGHUP and SIGUSR1 (its handlers are in
# place: before that, SIGUSR1's default action would kill it). For runs
# whose log level hides the "started" line.
# The exe check comes first: until it execs, the forked shell has the
# shell's own handlers, SIGUSR1 among them.
wait_for_handlers() {
  local deadline=$((SECONDS + ${1:-15})) mask exe
  exe=$(readlink -f "$UVPLUGD")
  while :; do
    mask=""
    if [ "$(readlink "/proc/$DAEMON_PID/exe" 2>/dev/null)" = "$exe" ]; then
      mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$DAEMON_PID/status" 2>/dev/null || true)
    fi
    if [ -n "$mask" ] && (( (0x$mask >> 0) & 1 )) && (( (0x$mask >> 9) & 1 )); then
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited before its signal handlers were in place"
    [ "$SECONDS" -lt "$deadline" ] || fail "no SIGHUP/SIGUSR1 handlers within the timeout"
    sleep 0.05
  done
}
