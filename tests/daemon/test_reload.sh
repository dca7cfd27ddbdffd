# SIGHUP while a ticker publishes: in one reload an instance is added, one
# removed, one reloaded for its config, one reloaded for its file's content
# (hash), and two stay untouched; the untouched counter sees every event.
. "$(dirname "$0")/lib.sh"

mkdir "$T/p"
cp "$PROBE" "$T/p/probe.so"
cp "$PROBE" "$T/p/hashed.so"
N=150
conf() { # $1: 1 or 2
  cat <<INI
[host]
plugin_dir = $T/p
metrics_listen =
[plugin tick]
path = probe.so
config = out=ticks count=$N every_ms=20
[plugin keep]
path = probe.so
config = in=ticks
[plugin change]
path = probe.so
config = in=ticks subs=$1
[plugin hashed]
path = hashed.so
INI
  if [ "$1" = 1 ]; then
    printf '[plugin gone]\npath = probe.so\nconfig = in=ticks\n'
  else
    printf '[plugin new]\npath = probe.so\nconfig = in=ticks\n'
  fi
}
conf 1 >"$T/u.ini"
start_daemon "$T/log" -c "$T/u.ini"
wait_for_line "$T/log" "started: 5 of 5 instances running"
wait_for_line "$T/log" "keep: probe: seen|tick: probe: sent|uvplugd: started" 5

# New content for hashed.so (another valid plugin), then the new config.
cp "$UVP_TEST_PLUGIN_DIR/counter_plugin.so" "$T/p/hashed.so.new"
mv "$T/p/hashed.so.new" "$T/p/hashed.so"
conf 2 >"$T/u.ini.new"
mv "$T/u.ini.new" "$T/u.ini"
kill -HUP "$DAEMON_PID"
wait_for_line "$T/log" "reload done: "
grep -q "reload done: 1 added, 2 reloaded, 1 removed, 2 unchanged$" "$T/log" || fail "wrong reload summary: $(grep 'reload done' "$T/log")"
grep -q "uvplugd: reloaded change from $T/p/probe.so$" "$T/log" || fail "change not reloaded"
grep -q "uvplugd: reloaded hashed from $T/p/hashed.so$" "$T/log" || fail "hashed not reloaded"
grep -q "uvplugd: unloaded gone$" "$T/log" || fail "gone not unloaded"
grep -q "uvplugd: loaded new from $T/p/probe.so$" "$T/log" || fail "new not loaded"
sed -n '/SIGHUP: reloading/,$p' "$T/log" >"$T/after"
assert_eq "keep and tick untouched" 0 "$(count_lines "$T/after" "(keep|tick): probe: (started|seen|destroy)|loaded (keep|tick)")"

wait_for_line "$T/log" "tick: probe: sent $N" 20
kill -USR1 "$DAEMON_PID"
wait_for_line "$T/log" "stats daemon: instances=5 running=5 reloads_ok=1 reloads_failed=0"
# SIGUSR1's line for the untouched counter: every tick, one subscription.
grep -q "stats keep: state=running calls=$N events=$N published=0 errors=0 panics=0 registrations=1 " "$T/log" || fail "wrong stats line for keep: $(grep 'stats keep' "$T/log")"
stop_daemon TERM
assert_eq "exit code" 0 "$DAEMON_RC"
# The untouched counter saw every event: no gap across the reload.
assert_eq "keep's count" 1 "$(count_lines "$T/log" "keep: probe: seen $N events$")"
echo ok
