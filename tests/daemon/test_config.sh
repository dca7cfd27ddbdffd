# The config file (B12 on hand-made inputs; fuzz_config on any): every
# error names the file and line and what was expected; unknown keys and
# sections are refused; all errors in one run.
. "$(dirname "$0")/lib.sh"

cfg="$T/bad.ini"
cat >"$cfg" <<INI
; line 1: a comment
[host]
queue_capacity = lots
colour = red

[plugin a]
path = $PROBE
fault_policy = sometimes

[metrics]
listen = x

[plugin b]
config = no path here
this line has no equals sign
[plugin a]
path = x.so
[plugin bad/name]
INI
rc=0
"$UVPLUGD" -c "$cfg" >"$T/log" 2>&1 || rc=$?
assert_eq "exit code of a bad config" 3 "$rc"
DAEMON_LOG="$T/log"
expect() { grep -qF -- "$1" "$T/log" || fail "missing: $1"; }
expect "$cfg:3: bad value 'lots' for queue_capacity; expected an integer >= 1"
expect "$cfg:4: unknown key 'colour' in [host]; expected one of: queue_capacity,"
expect "$cfg:8: bad value 'sometimes' for fault_policy; expected quarantine, log or abort"
expect "$cfg:10: unknown section [metrics]; expected [host] or [plugin NAME]"
expect "$cfg:15: expected 'key = value', a [section] or a comment"
expect "$cfg:16: instance 'a' defined twice; expected unique names (first on line 6)"
expect "$cfg:18: bad instance name 'bad/name'"
expect "$cfg:13: [plugin b] has no path; expected 'path = FILE'"
expect "not starting: 8 problem(s) in the configuration"
# the key under the unknown section is not reported again
assert_eq "errors on line 11" 0 "$(count_lines "$T/log" "$cfg:11:")"

# --check reports config errors too, exit 1.
rc=0
"$UVPLUGD" --check -c "$cfg" >"$T/check" 2>&1 || rc=$?
assert_eq "--check exit code of a bad config" 1 "$rc"

# An error on line N of an otherwise fine file.
printf '[host]\nlog_level = info\nbatch = 64\n\nrestart = sometimes\n' >"$T/n.ini"
rc=0
"$UVPLUGD" -c "$T/n.ini" >"$T/n.log" 2>&1 || rc=$?
assert_eq "exit code" 3 "$rc"
assert_eq "line-5 error" 1 "$(count_lines "$T/n.log" "$T/n.ini:5: bad value 'sometimes' for restart; expected never or on-fault$")"
assert_eq "errors in all" 1 "$(count_lines "$T/n.log" "$T/n.ini:[0-9]+:")"

# A missing file.
rc=0
"$UVPLUGD" -c "$T/absent.ini" >"$T/absent.log" 2>&1 || rc=$?
assert_eq "exit code of a missing file" 3 "$rc"
grep -q "$T/absent.ini: cannot read the config file: No such file or directory" "$T/absent.log" || fail "no reason for the missing file"

# A good file with a relative plugin_dir (relative to the file) and
# relative paths (relative to plugin_dir).
mkdir "$T/plugins"
cp "$PROBE" "$T/plugins/probe.so"
cat >"$T/good.ini" <<INI
[host]
plugin_dir = plugins
metrics_listen =
log_level = debug

[plugin p1]
path = probe.so
config = subs=1
enabled = yes

[plugin p2]
path = probe.so
enabled = no
INI
rc=0
"$UVPLUGD" --check -c "$T/good.ini" >"$T/good.log" 2>&1 || rc=$?
assert_eq "--check of a good file" 0 "$rc"
grep -qF "check: p1: ok ($T/plugins/probe.so)" "$T/good.log" || fail "p1 not resolved in plugin_dir: $(cat "$T/good.log")"
grep -qF "check: p2: disabled, not checked" "$T/good.log" || fail "p2 not disabled"

# A UTF-8 BOM and CRLF line ends (a file from a Windows editor) are fine.
printf '\xef\xbb\xbf[host]\r\nmetrics_listen =\r\n[plugin p]\r\npath = %s\r\n' \
  "$PROBE" >"$T/crlf.ini"
rc=0
"$UVPLUGD" --check -c "$T/crlf.ini" >"$T/crlf.log" 2>&1 || rc=$?
assert_eq "--check of a BOM+CRLF file" 0 "$rc"
grep -qF "check: p: ok ($PROBE)" "$T/crlf.log" || fail "p not checked: $(cat "$T/crlf.log")"
echo ok
