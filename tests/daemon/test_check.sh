# --check opens, verifies and loads every plugin in a child process and
# reports every broken one with its own reason, exit 1; a good config
# passes with exit 0.
. "$(dirname "$0")/lib.sh"

mkdir "$T/p"
cp "$PROBE" "$T/p/good.so"
cp "$PROBE" "$T/p/insecure.so"
chmod 666 "$T/p/insecure.so"
mkdir "$T/p/dir.so"
sum=$(sha256sum "$T/p/good.so" | cut -d' ' -f1)

cat >"$T/good.ini" <<INI
[host]
plugin_dir = $T/p
metrics_listen =
[plugin a]
path = good.so
sha256 = $sum
[plugin b]
path = good.so
config = in=ticks cmdline=1
INI
rc=0
"$UVPLUGD" --check -c "$T/good.ini" >"$T/good.log" 2>&1 || rc=$?
DAEMON_LOG="$T/good.log"
assert_eq "--check of a good config" 0 "$rc"
grep -qF "check: 2 plugin(s) checked, 0 problem(s)" "$T/good.log" || fail "no summary"
# The plugin ran in a freshly started uvplugd, not in a fork of this one.
grep -qE "b: probe: cmdline [^ ]*uvplugd --check-one 1  0 $T/p/good.so b in=ticks cmdline=1" "$T/good.log" ||
  fail "the check did not run in a spawned uvplugd --check-one"

cat >"$T/bad.ini" <<INI
[host]
plugin_dir = $T/p
metrics_listen =
[plugin missing]
path = nope.so
[plugin notreg]
path = dir.so
[plugin abi]
path = $UVP_TEST_PLUGIN_DIR/abi_major.so
[plugin pin]
path = good.so
sha256 = 0000000000000000000000000000000000000000000000000000000000000000
[plugin perms]
path = insecure.so
[plugin ctor]
path = $UVP_TEST_PLUGIN_DIR/ctor_abort.so
[plugin fine]
path = good.so
INI
rc=0
"$UVPLUGD" --check -c "$T/bad.ini" >"$T/bad.log" 2>&1 || rc=$?
DAEMON_LOG="$T/bad.log"
assert_eq "--check of broken plugins" 1 "$rc"
expect() { grep -qE -- "$1" "$T/bad.log" || fail "missing /$1/"; }
expect "check: missing: $T/p/nope.so: cannot open: No such file or directory \(UVP_ENOTFOUND\)$"
expect "check: notreg: $T/p/dir.so: .*\(UVP_ENOTREG\)$"
expect "check: abi: .*abi_major.so: built for ABI [0-9]+\.[0-9]+, host speaks ABI .*\(UVP_EABI\)$"
expect "check: pin: $T/p/good.so: .*\(UVP_EHASH\)$"
expect "check: perms: $T/p/insecure.so: .*\(UVP_EFILEMODE\)$"
expect "check: ctor: .*ctor_abort.so: crashed while loading \(signal 6, "
expect "check: fine: ok \($T/p/good.so\)( descriptor probe 1\.0, unload-safe)?$"
expect "check: 7 plugin\(s\) checked, 6 problem\(s\)$"

# Without --check the same config does not start: exit 4, nothing runs.
rc=0
"$UVPLUGD" -c "$T/bad.ini" >"$T/run.log" 2>&1 || rc=$?
assert_eq "start-up with a missing plugin" 4 "$rc"

# unsafe_loading = yes: the mode check is off (the pin is still checked),
# and the daemon says so loudly.
sed 's/^metrics_listen =$/metrics_listen =\nunsafe_loading = yes/' "$T/bad.ini" >"$T/unsafe.ini"
rc=0
"$UVPLUGD" --check -c "$T/unsafe.ini" >"$T/unsafe.log" 2>&1 || rc=$?
DAEMON_LOG="$T/unsafe.log"
assert_eq "--check with unsafe_loading" 1 "$rc"
assert_eq "warnings" 1 "$(count_lines "$T/unsafe.log" "warn uvplugd: UNSAFE LOADING: unsafe_loading = yes turns off")"
grep -q "check: perms: ok ($T/p/insecure.so)" "$T/unsafe.log" || fail "perms still refused"
grep -q "check: pin: .*(UVP_EHASH)$" "$T/unsafe.log" || fail "pin not checked"
grep -q "check: 7 plugin(s) checked, 5 problem(s)$" "$T/unsafe.log" || fail "wrong summary"
echo ok
