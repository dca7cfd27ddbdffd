#!/bin/bash
# Run one libFuzzer target and write its figures as key=value lines.
#
#   fuzz/run.sh BINARY NAME SECONDS SEED_DIR WORK_DIR [REPORT_FILE]
#
# SECONDS 0 replays SEED_DIR once (every seed must pass). Otherwise the
# target fuzzes for SECONDS from a fresh copy of SEED_DIR in WORK_DIR/corpus
# (the checked-in seeds are never written) with -print_final_stats=1, and
# REPORT_FILE (default WORK_DIR/fuzz-NAME.txt) gets target=, seconds=,
# execs=, corpus_files=, crashes=, from libFuzzer's final stats. A crash
# leaves its input in WORK_DIR/artifacts/ and fails the run.
set -u
bin=$1 name=$2 secs=$3 seeds=$4 work=$5
report=${6:-$work/fuzz-$name.txt}
dict=$(dirname "$0")/$name.dict
args=(-close_fd_mask=2 -rss_limit_mb=2048 -timeout=30)
[ -f "$dict" ] && args+=(-dict="$dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
if [ "$secs" = 0 ]; then
  exec "$bin" "${args[@]}" -runs=0 "$seeds"
fi
cp -r "$seeds"/. "$work/corpus/"
start=$(date +%s)
"$bin" "${args[@]}" -max_total_time="$secs" -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" 2>&1 \
  | tee "$work/log.txt" | grep -E '^(#|==|stat::|SUMMARY|INFO: Running)' \
  | tail -40
rc=${PIPESTATUS[0]}
took=$(( $(date +%s) - start ))
crashes=$(find "$work/artifacts" -type f | wc -l)
[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
stat() { sed -n "s/^stat::$1: *//p" "$work/log.txt" | tail -1; }
mkdir -p "$(dirname "$report")"
{
  echo "target=$name"
  echo "seconds=$took"
  echo "execs=$(stat number_of_executed_units)"
  echo "execs_per_sec=$(stat average_exec_per_sec)"
  echo "new_units=$(stat new_units_added)"
  echo "corpus_files=$(find "$work/corpus" -type f | wc -l)"
  echo "peak_rss_mb=$(stat peak_rss_mb)"
  echo "crashes=$crashes"
} > "$report"
cat "$report"
exit "$rc"
