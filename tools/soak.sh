#!/usr/bin/env bash
# tools/soak.sh: the soak of issue 12 (make soak, make soak-tsan); checks
# contract B13 (every post and publish accounted for) and B14 (flat RSS, fds).
#
# Runs the real uvplugd with the Rust example plugins (ticker, counter-a,
# counter-b, tap) and the two stress plugins, 2 producer threads each
# (4 in all): the C one (tests/plugins/stress_plugin.c) in mode=post, the
# Rust one (rust-plugins/examples/stress-plugin) in mode=publish, both with
# block=0 and remote_limit = 1024, so the remote queue fills and refuses
# (UVP_EAGAIN, retried by the producer). Every RELOAD_EVERY seconds a
# SIGHUP with a changed config reloads counter-b and tap for real. Every
# STRESS_CYCLE seconds stress-c is removed under load by a SIGHUP (its
# remote closes while its producers post), its final counters are read and
# checked, and it is added again with the other block= flag (so both
# UVP_POST_NONBLOCK and UVP_POST_BLOCK producers meet the close); its counts
# are summed over these generations. stress-rust and the tallies never
# change, so their counts run for the whole soak. Every second RSS, fds, mappings and threads are
# read from /proc; /metrics is scraped every 30 s and at the end.
#
# At the end a SIGHUP removes both stress instances: their remotes close,
# producers see UVP_ECLOSED, on_unload joins them, so the plugins' own
# counters are final; two soak_tally instances (tests/plugins/soak_tally.c)
# copy them to files. Then the daemon stops with SIGTERM (exit 0 expected).
#
# Checks (any failure: exit 1):
#   C stress    per generation: attempted == received + dropped +
#               refused_closed, destroyed == received + dropped (each post
#               destroyed once)
#   Rust stress host's delivered on stress.items == received (it is the
#               only subscriber), host's published on it <= attempted -
#               refused_closed (the rest were queued when it stopped)
#   both        order_errors == 0; host's remote_refused_total ==
#               retries_eagain of both (every EAGAIN seen by a producer)
#   daemon      every SIGHUP a successful reload, no quarantine, no panic,
#               no error line in its log, exit 0, no sanitizer report
#   resources   RSS slope after warm-up <= RSS_SLOPE_MAX kB/min (least
#               squares over the 1 s samples; judged when at least 60 s
#               follow the warm-up); fds after == fds before
#
# Output: OUT_DIR/soak-<UTC timestamp>.txt (key=value), the samples next to
# it (.samples: t rss_kb fds maps threads), and a summary on stdout.
# Plain bash + awk + curl: python3 is not on a fresh Debian 12.
#
# Usage: tools/soak.sh BUILD_DIR [seconds]
#   env: SOAK_SECONDS (600), RELOAD_EVERY (5), STRESS_CYCLE (60),
#   WARMUP (60, at most 1/4 of
#   the run), RSS_SLOPE_MAX (kB/min, 64; 32768 under tsan), OUT_DIR
#   (soak), SOAK_LABEL
#   (release; tsan adds TSAN_OPTIONS and setarch -R), SOAK_PORT (random)
set -euo pipefail

BUILD=${1:?usage: tools/soak.sh BUILD_DIR [seconds]}
SECONDS_TOTAL=${2:-${SOAK_SECONDS:-600}}
RELOAD_EVERY=${RELOAD_EVERY:-5}
STRESS_CYCLE=${STRESS_CYCLE:-60}
OUT_DIR=${OUT_DIR:-soak}
LABEL=${SOAK_LABEL:-release}
# TSan's own memory (shadow, sync objects, history) grows with the events
# it sees, several MB a minute here: under TSan the bound only catches a
# runaway, the release run is the one that shows RSS flat.
if [[ $LABEL == tsan ]]; then RSS_SLOPE_MAX=${RSS_SLOPE_MAX:-32768}; fi
RSS_SLOPE_MAX=${RSS_SLOPE_MAX:-64}
WARMUP=${WARMUP:-60}
if ((WARMUP * 4 > SECONDS_TOTAL)); then WARMUP=$((SECONDS_TOTAL / 4)); fi

BUILD=$(cd "$BUILD" && pwd)
DAEMON=$BUILD/uvplugd
PLUGINS=$BUILD/tests/plugins
RUST=
for d in release debug; do
  if [[ -f $BUILD/rust/$d/libticker.so ]]; then RUST=$BUILD/rust/$d; break; fi
done
for f in "$DAEMON" "$PLUGINS/stress_plugin.so" "$PLUGINS/soak_tally.so" \
  "$RUST/libticker.so" "$RUST/libstress_plugin.so"; do
  [[ -e $f ]] || { echo "soak: missing $f (build it first)" >&2; exit 2; }
done
STRESS_C=$PLUGINS/stress_plugin.so
STRESS_R=$RUST/libstress_plugin.so

mkdir -p "$OUT_DIR"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$OUT_DIR/soak-$LABEL-$STAMP.txt
SAMPLES=$OUT_DIR/soak-$LABEL-$STAMP.samples
WORK=$(mktemp -d "${TMPDIR:-/tmp}/uvplug-soak.XXXXXX")
LOG=$WORK/uvplugd.log
PID=

cleanup() {
  if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    sleep 2
    kill -KILL "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- config -----------------------------------------------------------------

# write_config PHASE STRESS_C STRESS_RUST: PHASE 0/1 flips counter-b's
# remote_limit and tap's max_per_sec, so each SIGHUP really reloads those
# two; STRESS_C is 0 (no stress-c) or 1 + its block= flag; STRESS_RUST 0/1.
write_config() {
  local phase=$1 sc=$2 sr=$3 f=$WORK/soak.ini
  {
    printf '[host]\nlog_level = info\nmetrics_listen = 127.0.0.1:%s\n' "$PORT"
    printf 'restart = on-fault\nfault_policy = quarantine\n'
    printf 'plugin_dir = %s\n\n' "$RUST"
    printf '[plugin tally-c]\npath = %s\n' "$PLUGINS/soak_tally.so"
    printf 'config = lib=%s out=%s/tally-c.txt every_ms=250\n\n' \
      "$STRESS_C" "$WORK"
    printf '[plugin tally-rust]\npath = %s\n' "$PLUGINS/soak_tally.so"
    printf 'config = lib=%s out=%s/tally-rust.txt every_ms=250\n\n' \
      "$STRESS_R" "$WORK"
    printf '[plugin ticker]\npath = libticker.so\n'
    printf 'config = topic=ticks every_ms=10 count=4000000000\n\n'
    printf '[plugin counter-a]\npath = libcounter.so\nconfig = topic=ticks\n\n'
    printf '[plugin counter-b]\npath = libcounter.so\nconfig = topic=ticks\n'
    printf 'remote_limit = %s\n\n' $((phase ? 512 : 256))
    printf '[plugin tap]\npath = libtap.so\n'
    printf 'config = topic=ticks max_per_sec=%s\n\n' $((phase ? 2 : 1))
    if ((sc)); then
      printf '[plugin stress-c]\npath = %s\n' "$STRESS_C"
      printf 'config = producers=2 count=4294967295 mode=post block=%s\n' \
        $((sc - 1))
      printf 'remote_limit = 1024\n\n'
    fi
    if ((sr)); then
      printf '[plugin stress-rust]\npath = %s\n' "$STRESS_R"
      printf 'config = producers=2 count=4294967295 mode=publish block=0\n'
      printf 'remote_limit = 1024\n'
    fi
  } >"$f.tmp"
  mv "$f.tmp" "$f"
}

# ---- reading the daemon ---------------------------------------------------

scrape() { curl -sf --max-time 10 "http://127.0.0.1:$PORT/metrics" >"$1"; }

# metric FILE NAME: the sum of every sample of NAME (any labels), 0 if none.
metric() {
  awk -v n="$2" '{ k = $1; sub(/\{.*/, "", k) } k == n { s += $NF }
    END { printf "%.0f\n", s + 0 }' "$1"
}

# sample_line T: "T rss_kb fds maps threads" of the daemon now.
sample_line() {
  local rss thr fds maps
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status")
  thr=$(awk '/^Threads:/ { print $2 }' "/proc/$PID/status")
  fds=$(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  maps=$(wc -l <"/proc/$PID/maps")
  echo "$1 $rss $fds $maps $thr"
}

# tally FILE KEY
tally() { awk -F= -v k="$2" '$1 == k { print $2 }' "$1"; }

# wait_tally FILE: until the tally wrote twice more and two reads agree.
wait_tally() {
  local f=$1 seq0 prev="" cur
  seq0=$(tally "$f" seq)
  for _ in $(seq 100); do
    sleep 0.5
    (($(tally "$f" seq) >= seq0 + 2)) || continue
    cur=$(grep -v '^seq=' "$f")
    [[ $cur == "$prev" ]] && return 0
    prev=$cur
  done
  return 1
}

fail() { FAILS+=("$1"); }

# wait_gone NAME: until a scrape shows no series of instance NAME.
wait_gone() {
  for _ in $(seq 120); do
    sleep 0.5
    scrape "$WORK/metrics-gone.txt" || continue
    grep -q "plugin=\"$1\"" "$WORK/metrics-gone.txt" || return 0
  done
  return 1
}

# wait_present NAME: until a scrape shows instance NAME running.
wait_present() {
  for _ in $(seq 120); do
    sleep 0.5
    scrape "$WORK/metrics-gone.txt" || continue
    grep -q "^uvplug_instance_status{plugin=\"$1\",status=\"running\"} 1" \
      "$WORK/metrics-gone.txt" && return 0
  done
  return 1
}

# C_ATT... sum stress-c's counters over its generations (on_init resets
# them, so each generation is read once it is unloaded and final).
C_ATT=0 C_RCV=0 C_DES=0 C_REF=0 C_RET=0 C_ORD=0 C_DROP=0 C_GENS=0
# end_generation: read the unloaded stress-c's final counters, check them
# and add them up.
end_generation() {
  local f=$WORK/tally-c.txt a r d x e o p
  wait_tally "$f" || { fail "tally-c did not settle"; return; }
  a=$(tally "$f" attempted) r=$(tally "$f" received) d=$(tally "$f" destroyed)
  x=$(tally "$f" refused_closed) e=$(tally "$f" retries_eagain)
  o=$(tally "$f" order_errors) p=$(tally "$f" dropped)
  C_GENS=$((C_GENS + 1))
  ((a == r + p + x)) ||
    fail "stress-c generation $C_GENS: attempted $a != received $r + dropped $p + refused $x"
  ((d == r + p)) ||
    fail "stress-c generation $C_GENS: destroyed $d != received $r + dropped $p"
  ((r > 0)) || fail "stress-c generation $C_GENS: nothing received"
  C_ATT=$((C_ATT + a)) C_RCV=$((C_RCV + r)) C_DES=$((C_DES + d))
  C_REF=$((C_REF + x)) C_RET=$((C_RET + e)) C_ORD=$((C_ORD + o))
  C_DROP=$((C_DROP + p))
}

# ---- start --------------------------------------------------------------------

RUNNER=()
# The reload check runs in a spawned uvplugd --check-one (not a fork of
# the multi-threaded daemon), so TSan's default die_after_fork stays on.
if [[ $LABEL == tsan ]]; then
  export TSAN_OPTIONS="halt_on_error=0 exitcode=66 log_path=$WORK/sanitizer"
  command -v setarch >/dev/null && RUNNER=(setarch "$(uname -m)" -R)
fi
ready=0
for attempt in 1 2 3 4 5; do
  PORT=${SOAK_PORT:-$((20000 + (RANDOM % 20000)))}
  write_config 0 1 1
  "${RUNNER[@]}" "$DAEMON" -c "$WORK/soak.ini" >"$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 240); do
    if curl -sf --max-time 2 "http://127.0.0.1:$PORT/ready" >/dev/null; then
      ready=1
      break
    fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.25
  done
  ((ready)) && break
  kill -TERM "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  echo "soak: uvplugd did not become ready on port $PORT (try $attempt):" >&2
  tail -5 "$LOG" >&2
done
((ready)) || { echo "soak: giving up" >&2; exit 1; }
echo "soak: uvplugd pid $PID on 127.0.0.1:$PORT, $SECONDS_TOTAL s, " \
  "reload every $RELOAD_EVERY s, label $LABEL, work dir $WORK"

# ---- run ----------------------------------------------------------------------

: >"$SAMPLES"
FAILS=()
phase=0
reloads_sent=0
c_block=0
c_live=1 # stress-c is loaded (a failed re-add ends the cycling)
next_cycle=$STRESS_CYCLE
next_reload=$RELOAD_EVERY
next_scrape=30
scrapes=0
start=$(date +%s)
t=0
while ((t < SECONDS_TOTAL)); do
  sleep 1
  t=$(($(date +%s) - start))
  kill -0 "$PID" 2>/dev/null || { fail "uvplugd died at t=$t s"; break; }
  sample_line "$t" >>"$SAMPLES"
  if ((c_live && t >= next_cycle && t + 10 < SECONDS_TOTAL)); then
    # A new stress-c generation: remove it (its remote closes under load),
    # account for it, add it again with the other block= flag.
    next_cycle=$((next_cycle + STRESS_CYCLE))
    write_config "$phase" 0 1
    kill -HUP "$PID"
    reloads_sent=$((reloads_sent + 1))
    wait_gone stress-c || fail "stress-c not removed at t=$t s"
    end_generation
    c_block=$((1 - c_block))
    write_config "$phase" $((1 + c_block)) 1
    kill -HUP "$PID"
    reloads_sent=$((reloads_sent + 1))
    if ! wait_present stress-c; then
      # Its counters stay those of the generation just read: stop here so
      # that none is counted twice, and keep stress-c out of the config.
      fail "stress-c not added again at t=$t s (see the log)"
      c_live=0
      write_config "$phase" 0 1
    fi
    next_reload=$(($(date +%s) - start + RELOAD_EVERY))
  elif ((t >= next_reload && t < SECONDS_TOTAL)); then
    next_reload=$((next_reload + RELOAD_EVERY))
    phase=$((1 - phase))
    write_config "$phase" $((c_live ? 1 + c_block : 0)) 1
    kill -HUP "$PID"
    reloads_sent=$((reloads_sent + 1))
  fi
  if ((t >= next_scrape)); then
    next_scrape=$((next_scrape + 30))
    scrape "$WORK/metrics.txt" && scrapes=$((scrapes + 1))
  fi
done

# ---- stop the load, read the exact counts --------------------------------------

if scrape "$WORK/metrics-end.txt"; then
  scrapes=$((scrapes + 1))
else
  fail "final scrape failed"
fi
read -r _ rss_end fds_after maps_after thr_after < <(tail -1 "$SAMPLES")
read -r _ rss_start fds_before maps_before thr_before < <(head -1 "$SAMPLES")
write_config "$phase" 0 0
kill -HUP "$PID"
if ! wait_gone stress-c || ! wait_gone stress-rust; then
  fail "stress instances not removed by the final SIGHUP"
fi
((c_live)) && end_generation
wait_tally "$WORK/tally-rust.txt" || fail "tally-rust did not settle"
scrape "$WORK/metrics-final.txt" && scrapes=$((scrapes + 1))
cp "$WORK/tally-rust.txt" "$WORK/tr"
read -r _ rss_final fds_final maps_final thr_final < <(sample_line end)

kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=

# ---- figures ------------------------------------------------------------------

M=$WORK/metrics-final.txt
lab() { # lab NAME LABELS: one labelled sample of the final scrape
  awk -v k="$1{$2}" '$1 == k { v = $2 } END { printf "%.0f\n", v + 0 }' "$M"
}
c_att=$C_ATT c_rcv=$C_RCV c_des=$C_DES c_ref=$C_REF c_ret=$C_RET
c_ord=$C_ORD c_drop=$C_DROP
r_att=$(tally "$WORK/tr" attempted) r_rcv=$(tally "$WORK/tr" received)
r_ref=$(tally "$WORK/tr" refused_closed) r_ret=$(tally "$WORK/tr" retries_eagain)
r_ord=$(tally "$WORK/tr" order_errors)
h_pub=$(lab uvplug_topic_published_total 'topic="stress.items"')
h_del=$(lab uvplug_topic_delivered_total 'topic="stress.items"')
h_refused=$(metric "$M" uvplug_remote_refused_total)
r_drop=$((r_att - r_rcv - r_ref)) # accepted, not delivered: queued at stop
r_unpub=$((r_att - r_ref - h_pub))
reloads_ok=$(lab uvplug_reloads_total 'result="ok"')
reloads_failed=$(lab uvplug_reloads_total 'result="failed"')
restarts=$(metric "$M" uvplug_restarts_total)
quarantines=$(grep -c 'quarantined after a fault' "$LOG" || true)
log_errors=$(grep -c '^[^ ]* error ' "$LOG" || true)
log_warnings=$(grep -c '^[^ ]* warn ' "$LOG" || true)
panics=$(metric "$WORK/metrics-end.txt" uvplug_plugin_panics_total)
cb_errors=$(metric "$WORK/metrics-end.txt" uvplug_plugin_errors_total) # loaded ones
sanitizer=$(find "$WORK" -name 'sanitizer*' 2>/dev/null | wc -l)
if ((sanitizer)); then
  mkdir -p "$OUT_DIR/soak-$LABEL-$STAMP.sanitizer"
  cp "$WORK"/sanitizer* "$OUT_DIR/soak-$LABEL-$STAMP.sanitizer/"
fi
faults=$((quarantines + panics + cb_errors + restarts + log_errors + sanitizer))

attempted=$((c_att + r_att))
delivered=$((c_rcv + r_rcv))
refused=$((c_ref + r_ref))
dropped=$((c_drop + r_drop))
retries=$((c_ret + r_ret))

# Least squares over the samples after warm-up: slope in kB per minute.
read -r slope n_fit rss_min rss_max < <(awk -v w="$WARMUP" '
  $1 >= w { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2
            if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
  END { d = n * sxx - sx * sx
        s = (n > 1 && d != 0) ? (n * sxy - sx * sy) / d * 60 : 0
        printf "%.2f %d %d %d\n", s, n, min, max }' "$SAMPLES")
# Every 10 % of the run: "t:rss" pairs, the RSS over time in one line.
rss_series=$(awk -v n="$(wc -l <"$SAMPLES")" '
  { if (NR == 1 || NR == n || NR % int(n / 10 + 1) == 0)
      s = s (s == "" ? "" : ",") $1 ":" $2 } END { print s }' "$SAMPLES")

# ---- checks -------------------------------------------------------------------

((c_att == c_rcv + c_drop + c_ref)) ||
  fail "C stress: attempted $c_att != received $c_rcv + dropped $c_drop + refused $c_ref"
((c_des == c_rcv + c_drop)) ||
  fail "C stress: destroyed $c_des != received $c_rcv + dropped $c_drop"
((h_del == r_rcv)) ||
  fail "Rust stress: host delivered $h_del on stress.items != received $r_rcv"
((r_unpub >= 0 && h_pub >= h_del)) ||
  fail "Rust stress: host published $h_pub > attempted $r_att - refused $r_ref"
((c_ord == 0 && r_ord == 0)) || fail "order errors: C $c_ord, Rust $r_ord"
((h_refused == retries)) ||
  fail "host remote_refused_total $h_refused != producers' EAGAIN retries $retries"
((attempted == delivered + dropped + refused)) ||
  fail "attempted $attempted != delivered $delivered + dropped $dropped + refused $refused"
((c_rcv > 0 && r_rcv > 0)) || fail "no load: C received $c_rcv, Rust $r_rcv"
((reloads_ok == reloads_sent + 1 && reloads_failed == 0)) ||
  fail "reloads: $reloads_sent + 1 sent, $reloads_ok ok, $reloads_failed failed"
((faults == 0)) || fail "faults: quarantines $quarantines panics $panics callback errors $cb_errors restarts $restarts log errors $log_errors sanitizer reports $sanitizer"
((rc == 0)) || fail "uvplugd exit status $rc"
((fds_after == fds_before)) || fail "fds $fds_before -> $fds_after"
# Under a minute after warm-up the allocator's first steps dominate the
# fit: the slope is reported, not judged.
rss_checked=no
if ((SECONDS_TOTAL - WARMUP >= 60)); then
  rss_checked=yes
  awk -v s="$slope" -v m="$RSS_SLOPE_MAX" 'BEGIN { exit !(s <= m) }' ||
    fail "RSS slope $slope kB/min > $RSS_SLOPE_MAX"
fi

# ---- report -------------------------------------------------------------------

{
  echo "label=$LABEL"
  echo "date=$STAMP"
  echo "seconds=$SECONDS_TOTAL"
  echo "producers=4"
  echo "reload_every_s=$RELOAD_EVERY"
  echo "reloads=$reloads_sent"
  echo "reloads_ok=$reloads_ok"
  echo "reloads_failed=$reloads_failed"
  echo "attempted=$attempted"
  echo "delivered=$delivered"
  echo "refused=$refused"
  echo "dropped_at_stop=$dropped"
  echo "balance=$((attempted - delivered - dropped - refused))"
  echo "eagain_retries=$retries"
  echo "host_remote_refused=$h_refused"
  echo "c_generations=$C_GENS"
  echo "c_attempted=$c_att"
  echo "c_received=$c_rcv"
  echo "c_destroyed=$c_des"
  echo "c_dropped=$c_drop"
  echo "c_refused_closed=$c_ref"
  echo "c_retries_eagain=$c_ret"
  echo "c_order_errors=$c_ord"
  echo "rust_attempted=$r_att"
  echo "rust_received=$r_rcv"
  echo "rust_refused_closed=$r_ref"
  echo "rust_retries_eagain=$r_ret"
  echo "rust_order_errors=$r_ord"
  echo "host_topic_published=$h_pub"
  echo "host_topic_delivered=$h_del"
  echo "rss_start_kb=$rss_start"
  echo "rss_end_kb=$rss_end"
  echo "rss_min_after_warmup_kb=$rss_min"
  echo "rss_max_after_warmup_kb=$rss_max"
  echo "rss_warmup_s=$WARMUP"
  echo "rss_slope_kb_per_min=$slope"
  echo "rss_slope_bound_kb_per_min=$RSS_SLOPE_MAX"
  echo "rss_slope_checked=$rss_checked"
  echo "rss_samples_fitted=$n_fit"
  echo "rss_series=$rss_series"
  echo "fds_before=$fds_before"
  echo "fds_after=$fds_after"
  echo "maps_before=$maps_before"
  echo "maps_after=$maps_after"
  echo "threads_before=$thr_before"
  echo "threads_after=$thr_after"
  echo "fds_without_stress=$fds_final"
  echo "maps_without_stress=$maps_final"
  echo "threads_without_stress=$thr_final"
  echo "rss_without_stress_kb=$rss_final"
  echo "scrapes=$scrapes"
  echo "faults=$faults"
  echo "quarantines=$quarantines"
  echo "panics=$panics"
  echo "callback_errors=$cb_errors"
  echo "restarts=$restarts"
  echo "log_errors=$log_errors"
  echo "log_warnings=$log_warnings"
  echo "sanitizer_reports=$sanitizer"
  echo "exit_status=$rc"
  echo "failures=${#FAILS[@]}"
  if ((${#FAILS[@]})); then echo "result=FAIL"; else echo "result=PASS"; fi
} >"$REPORT"

echo
echo "== soak ($LABEL): $SECONDS_TOTAL s, 4 producers, $reloads_sent reloads =="
printf '  events   attempted %s = delivered %s + dropped at stop %s + refused %s\n' \
  "$attempted" "$delivered" "$dropped" "$refused"
printf '           (EAGAIN retries %s, host remote_refused %s)\n' "$retries" "$h_refused"
printf '  RSS      %s -> %s kB; after %s s warm-up %s..%s kB, slope %s kB/min (bound %s, checked: %s)\n' \
  "$rss_start" "$rss_end" "$WARMUP" "$rss_min" "$rss_max" "$slope" "$RSS_SLOPE_MAX" "$rss_checked"
printf '  fds      %s -> %s; maps %s -> %s; threads %s -> %s\n' \
  "$fds_before" "$fds_after" "$maps_before" "$maps_after" "$thr_before" "$thr_after"
printf '  faults   %s (quarantines %s, panics %s, callback errors %s, restarts %s, log errors %s, sanitizer %s)\n' \
  "$faults" "$quarantines" "$panics" "$cb_errors" "$restarts" "$log_errors" "$sanitizer"
printf '  reloads  %s sent + 1 final, %s ok, %s failed; exit %s\n' \
  "$reloads_sent" "$reloads_ok" "$reloads_failed" "$rc"
echo "  report   $REPORT"
if ((${#FAILS[@]})); then
  cp "$LOG" "$OUT_DIR/soak-$LABEL-$STAMP.log"
  printf '  FAIL     %s\n' "${FAILS[@]}"
  exit 1
fi
echo "  PASS"
