# The same SIGHUP reload with the Rust example plugins an operator runs
# first: while the ticker publishes, counter-new is added, counter-gone
# removed, counter-chg reloaded (its topic changed) and counter-keep left
# alone; counter-keep counts every tick.
. "$(dirname "$0")/lib.sh"

R=$UVP_RUST_PLUGIN_DIR
[ -f "$R/libticker.so" ] || fail "no $R/libticker.so (cargo build of rust-plugins)"
N=120
conf() { # $1: counter-chg's topic, $2: the last instance
  cat <<INI
[host]
plugin_dir = $R
metrics_listen =
[plugin ticker]
path = libticker.so
config = topic=ticks every_ms=20 count=$N
[plugin counter-keep]
path = libcounter.so
config = topic=ticks
[plugin counter-chg]
path = libcounter.so
config = topic=$1
[plugin $2]
path = libcounter.so
config = topic=ticks
INI
}
conf other counter-gone >"$T/u.ini"
start_daemon "$T/log" -c "$T/u.ini"
wait_for_line "$T/log" "started: 4 of 4 instances running"
conf ticks counter-new >"$T/u.ini.new"
mv "$T/u.ini.new" "$T/u.ini"
kill -HUP "$DAEMON_PID"
wait_for_line "$T/log" "reload done: 1 added, 1 reloaded, 1 removed, 2 unchanged$"
grep -q "counter-chg: seen 0 events$" "$T/log" || fail "the old counter-chg did not stop"
wait_for_line "$T/log" "ticker: done after $N" 20
stop_daemon TERM
assert_eq "exit code" 0 "$DAEMON_RC"
assert_eq "counter-keep saw every tick" 1 "$(count_lines "$T/log" "counter-keep: seen $N events$")"
echo ok
