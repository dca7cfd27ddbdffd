# systemd notifications of the real uvplugd (docs/uvplugd.md, "systemd"):
# with NOTIFY_SOCKET pointed at a stand-in socket (tests/daemon/
# notify_listen.c), READY=1, then RELOADING=1 and READY=1 around a SIGHUP
# reload, then STOPPING=1 arrive in that order, all from the daemon's pid;
# STATUS= says how many instances run; WATCHDOG_USEC arms WATCHDOG=1 pings.
# Exits 77 (skipped) when uvplugd was built without libsystemd.
. "$(dirname "$0")/lib.sh"

if [ "${UVPD_HAVE_SYSTEMD:-0}" != 1 ]; then
  echo "uvplugd built without libsystemd: nothing to test"
  exit 77
fi
: "${UVPD_NOTIFY_LISTEN:?the notify_listen helper}"

R=$UVP_RUST_PLUGIN_DIR
cat >"$T/uvplugd.ini" <<INI
[host]
metrics_listen =

[plugin ticker]
path = $R/libticker.so
config = topic=ticks every_ms=20 count=1000000

[plugin counter]
path = $R/libcounter.so
INI

SOCK=$T/notify.sock
OUT=$T/notify.out
: >"$OUT"
# Its own output in a file: a listener left behind must not hold ctest's
# pipe open; and it goes with the test, whatever the way out.
"$UVPD_NOTIFY_LISTEN" "$SOCK" "$OUT" >"$T/listen.log" 2>&1 &
LISTEN_PID=$!
trap 'kill "$LISTEN_PID" 2>/dev/null; _uvpd_cleanup' EXIT
for _ in $(seq 1 200); do
  [ -S "$SOCK" ] && break
  sleep 0.02
done
[ -S "$SOCK" ] || fail "notify_listen did not bind $SOCK"

# count_at_least FILE REGEX N: wait until N lines match (15 s at most).
count_at_least() {
  local deadline=$((SECONDS + 15))
  while [ "$(count_lines "$1" "$2")" -lt "$3" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "fewer than $3 lines /$2/ in $1: $(cat "$1")"
    sleep 0.02
  done
}

# 200 ms watchdog: pings every 100 ms. WATCHDOG_PID unset: any pid may ping.
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=200000 start_daemon "$T/log" -c "$T/uvplugd.ini"
count_at_least "$OUT" ' READY=1$' 1
count_at_least "$OUT" ' STATUS=.*2 of 2 instances running' 1
count_at_least "$OUT" ' WATCHDOG=1$' 2

kill -HUP "$DAEMON_PID"
count_at_least "$OUT" ' READY=1$' 2

stop_daemon TERM
assert_eq "exit code after SIGTERM" 0 "$DAEMON_RC"
count_at_least "$OUT" ' STOPPING=1$' 1
kill -TERM "$LISTEN_PID"
wait "$LISTEN_PID" || fail "notify_listen failed"

# M4: the lifecycle messages in order, watchdog pings and status lines aside.
order=$(grep -E ' (READY|RELOADING|STOPPING)=1$' "$OUT" | awk '{print $2}' | tr '\n' ' ')
assert_eq "notification order" "READY=1 RELOADING=1 READY=1 STOPPING=1 " "$order"
# RELOADING=1 carries the reload's start time for Type=notify-reload.
[[ $(grep -A1 ' RELOADING=1$' "$OUT") =~ \ MONOTONIC_USEC=[0-9]+ ]] ||
  fail "no MONOTONIC_USEC with RELOADING=1: $(cat "$OUT")"
# Every datagram came from the daemon itself (kernel credentials).
pid_of_daemon=$(grep ' READY=1$' "$OUT" | head -1 | awk '{print $1}')
others=$(awk -v p="$pid_of_daemon" '$1 != p' "$OUT" | wc -l)
assert_eq "datagrams from another pid" 0 "$others"
[ "$pid_of_daemon" -gt 1 ] || fail "no sender pid: $(cat "$OUT")"

# Without NOTIFY_SOCKET the same daemon runs and stops as usual.
start_daemon "$T/log2" -c "$T/uvplugd.ini"
wait_for_line "$T/log2" "ticker" 10
stop_daemon TERM
assert_eq "exit code without NOTIFY_SOCKET" 0 "$DAEMON_RC"
echo "ok"
