# A new config that does not parse, or whose changed plugins fail to load,
# is rejected as a whole: the running set stays and keeps counting.
. "$(dirname "$0")/lib.sh"

N=120
base() {
  cat <<INI
[host]
metrics_listen =
[plugin tick]
path = $PROBE
config = out=ticks count=$N every_ms=20
[plugin keep]
path = $PROBE
config = in=ticks
INI
}
base >"$T/u.ini"
start_daemon "$T/log" -c "$T/u.ini"
wait_for_line "$T/log" "started: 2 of 2 instances running"

# 1: a syntax error.
{ base; echo "this is not ini"; } >"$T/u.ini"
kill -HUP "$DAEMON_PID"
wait_for_line "$T/log" "reload rejected: the new config has errors"
grep -q "$T/u.ini:9: expected 'key = value'" "$T/log" || fail "no line-9 reason"

# 2: a new plugin that cannot load, and a change to keep: neither applies.
{ base | sed 's/config = in=ticks/config = in=ticks subs=2/'
  printf '[plugin abi]\npath = %s\n' "$UVP_TEST_PLUGIN_DIR/abi_major.so"
  printf '[plugin crash]\npath = %s\n' "$UVP_TEST_PLUGIN_DIR/ctor_abort.so"
} >"$T/u.ini"
kill -HUP "$DAEMON_PID"
wait_for_line "$T/log" "reload rejected: plugins of the new config fail to load"
grep -q "reload: abi: .*(UVP_EABI)" "$T/log" || fail "no reason for abi"
grep -q "reload: crash: .*crashed while loading (signal 6" "$T/log" || fail "no reason for crash"
assert_eq "reloads of keep" 0 "$(count_lines "$T/log" "reloaded keep")"

wait_for_line "$T/log" "tick: probe: sent $N" 20
kill -USR1 "$DAEMON_PID"
wait_for_line "$T/log" "stats daemon: instances=2 running=2 reloads_ok=0 reloads_failed=2"
stop_daemon TERM
assert_eq "exit code" 0 "$DAEMON_RC"
assert_eq "keep's count" 1 "$(count_lines "$T/log" "keep: probe: seen $N events$")"
assert_eq "destroys" 1 "$(count_lines "$T/log" "keep: probe: destroy$")"
echo ok
