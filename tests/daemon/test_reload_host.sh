# SIGHUP applies the new log_level at once, says which [host] changes wait
# for a restart, and keeps the instances given with --plugin untouched.
. "$(dirname "$0")/lib.sh"

conf() { # $1: log level, $2: batch
  cat <<INI
[host]
metrics_listen =
log_level = $1
batch = $2
[plugin filed]
path = $PROBE
config = in=t
INI
}
conf warn 64 >"$T/u.ini"
start_daemon "$T/log" -c "$T/u.ini" --plugin "$PROBE:cli:in=t subs=1"
wait_for_handlers
# At warn, nothing is logged at start-up; SIGUSR1's info lines neither.
kill -USR1 "$DAEMON_PID"
conf debug 128 >"$T/u.ini.new"
mv "$T/u.ini.new" "$T/u.ini"
sleep 0.5
assert_eq "info lines at warn" 0 "$(count_lines "$T/log" " info ")"
kill -HUP "$DAEMON_PID"
wait_for_line "$T/log" "reload: changed \[host\] keys other than log_level"
wait_for_line "$T/log" "reload done: 0 added, 0 reloaded, 0 removed, 1 unchanged$"
kill -USR1 "$DAEMON_PID"
wait_for_line "$T/log" "stats daemon: instances=2 running=2 reloads_ok=1"
grep -q "info uvplugd: stats cli: state=running" "$T/log" || fail "the --plugin instance is gone"
stop_daemon TERM
assert_eq "exit code" 0 "$DAEMON_RC"
assert_eq "cli destroys" 2 "$(count_lines "$T/log" "cli: probe: destroy$")"

# Without -c, SIGHUP only says there is nothing to reload.
start_daemon "$T/cli.log" --plugin "$PROBE:solo"
wait_for_line "$T/cli.log" "started: 1 of 1 instances running"
kill -HUP "$DAEMON_PID"
wait_for_line "$T/cli.log" "SIGHUP: no config file \(-c\); nothing to reload$"
stop_daemon TERM
assert_eq "exit code without -c" 0 "$DAEMON_RC"
echo ok
