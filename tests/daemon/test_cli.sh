# uvplugd's command line: --help, --version, bad usage and exit codes, and
# bare plugin names resolved against the plugin directory only.
. "$(dirname "$0")/lib.sh"

rc=0
"$UVPLUGD" --help >"$T/help" 2>&1 || rc=$?
assert_eq "--help exit code" 0 "$rc"
for opt in --config --plugin --plugin-dir --check --log-level --version; do
  grep -q -- "$opt" "$T/help" || fail "--help does not mention $opt"
done

rc=0
"$UVPLUGD" --version >"$T/version" 2>&1 || rc=$?
assert_eq "--version exit code" 0 "$rc"
assert_match "--version line 1" "^uvplugd [0-9]+\.[0-9]+\.[0-9]+$" "$(sed -n 1p "$T/version")"
assert_match "--version line 2" "^libuvplug [0-9]+\.[0-9]+\.[0-9]+ " "$(sed -n 2p "$T/version")"
assert_match "--version line 3" "^plugin ABI [0-9]+\.[0-9]+$" "$(sed -n 3p "$T/version")"

rc=0
"$UVPLUGD" --no-such-option >"$T/bad" 2>&1 || rc=$?
assert_eq "unknown option exit code" 2 "$rc"
grep -q "unknown option '--no-such-option'" "$T/bad" || fail "no reason for the bad option"

rc=0
"$UVPLUGD" >"$T/none" 2>&1 || rc=$?
assert_eq "nothing to run exit code" 2 "$rc"

rc=0
"$UVPLUGD" --log-level loud --plugin x.so >"$T/lvl" 2>&1 || rc=$?
assert_eq "bad --log-level exit code" 2 "$rc"

rc=0
"$UVPLUGD" --plugin >"$T/noval" 2>&1 || rc=$?
assert_eq "--plugin without a value" 2 "$rc"
grep -q "option '--plugin' needs a value" "$T/noval" || fail "no reason for --plugin"

# A bare name is looked up in the plugin directory, never on the system
# library path: libc.so.6 is not there.
rc=0
"$UVPLUGD" --check --plugin-dir "$T" --plugin libc.so.6:c >"$T/bare" 2>&1 || rc=$?
assert_eq "--check of a bare system library name" 1 "$rc"
grep -q "check: c: $T/libc.so.6: cannot open" "$T/bare" || fail "libc.so.6 was not looked up in $T: $(cat "$T/bare")"

# The old positional SPEC form and --plugin both work; the bare name is
# found in --plugin-dir.
rc=0
"$UVPLUGD" --check --plugin-dir "$UVP_TEST_PLUGIN_DIR" \
  --plugin daemon_probe.so:one "$PROBE:two:in=x" >"$T/ok" 2>&1 || rc=$?
assert_eq "--check of two good plugins" 0 "$rc"
grep -q "check: one: ok ($UVP_TEST_PLUGIN_DIR/daemon_probe.so)" "$T/ok" || fail "one not ok: $(cat "$T/ok")"
grep -q "check: two: ok" "$T/ok" || fail "two not ok"
grep -q "check: 2 plugin(s) checked, 0 problem(s)" "$T/ok" || fail "no summary"

# --run-ms: a quick run that stops by itself, exit 0.
rc=0
"$UVPLUGD" --run-ms 200 --plugin "$PROBE:p" >"$T/run" 2>&1 || rc=$?
assert_eq "--run-ms exit code" 0 "$rc"
grep -q "uvplugd: stopped$" "$T/run" || fail "no stopped line"
echo ok
