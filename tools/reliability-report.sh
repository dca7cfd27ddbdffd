#!/usr/bin/env bash
# tools/reliability-report.sh: regenerates the figures of docs/reliability.md
# from the batteries' result files (issue 12), between the markers
#   <!-- BEGIN GENERATED: tools/reliability-report.sh -->
#   <!-- END GENERATED -->
# Nothing between them is typed by hand: run this after a battery ran.
#
# Inputs (key=value lines; a missing one is shown as "not run"):
#   build*/reliability/alloc.txt       allocation-failure injection (newest)
#   build*/reliability/fuzz-*.txt      libFuzzer runs, one row per file
#   build*/reliability/hostile.txt     the hostile-plugin corpus (newest)
#   soak/soak-<label>-<time>.txt       the soak, newest per label
#                                      (release, tsan)
# Usage: tools/reliability-report.sh [DOC]   (default docs/reliability.md)
#        tools/reliability-report.sh --stdout   prints the block only
# Plain bash + awk: python3 is not on a fresh Debian 12.
set -euo pipefail

cd "$(dirname "$0")/.."
DOC=${1:-docs/reliability.md}
BEGIN='<!-- BEGIN GENERATED: tools/reliability-report.sh -->'
END='<!-- END GENERATED -->'

# kv FILE KEY: the value of KEY's first line in FILE, or "?".
kv() {
  awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print; f = 1; exit }
    END { if (!f) print "?" }' "$1"
}

# newest GLOB...: the most recently modified existing file, or nothing.
newest() {
  local f best=
  for f in "$@"; do
    [[ -f $f ]] || continue
    if [[ -z $best || $f -nt $best ]]; then best=$f; fi
  done
  [[ -n $best ]] && echo "$best"
  return 0
}

when() { date -u -r "$1" +%Y-%m-%dT%H:%MZ; }

alloc_section() {
  local f
  f=$(newest build*/reliability/alloc.txt)
  echo "### Allocation-failure injection"
  echo
  if [[ -z $f ]]; then
    echo "not run (no build*/reliability/alloc.txt)"
    return
  fi
  echo "| scenarios | runs | allocation sites reached | sites failed | failures injected | UVP_ENOMEM returned | leaks | tests failed | file |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "| $(kv "$f" scenarios) | $(kv "$f" runs) |" \
    "$(kv "$f" alloc_sites_reached) | $(kv "$f" alloc_sites_failed) |" \
    "$(kv "$f" alloc_failures_injected) | $(kv "$f" enomem_returned) |" \
    "$(kv "$f" leaks) | $(kv "$f" tests_failed) | \`$f\` ($(when "$f")) |"
}

fuzz_section() {
  local f any=0
  echo "### Fuzzing (libFuzzer)"
  echo
  for f in build*/reliability/fuzz-*.txt; do
    [[ -f $f ]] || continue
    if ((!any)); then
      echo "| target | seconds | executions | exec/s | corpus files | crashes | file |"
      echo "|---|---|---|---|---|---|---|"
      any=1
    fi
    echo "| $(kv "$f" target) | $(kv "$f" seconds) | $(kv "$f" execs) |" \
      "$(kv "$f" execs_per_sec) | $(kv "$f" corpus_files) | $(kv "$f" crashes) | \`$f\` ($(when "$f")) |"
  done
  ((any)) || echo "not run (no build*/reliability/fuzz-*.txt)"
}

hostile_section() {
  local f
  f=$(newest build*/reliability/hostile.txt)
  echo "### Hostile-plugin corpus"
  echo
  if [[ -z $f ]]; then
    echo "not run (no build*/reliability/hostile.txt)"
    return
  fi
  echo "| cases | passed | known defects | case lines | file |"
  echo "|---|---|---|---|---|"
  echo "| $(kv "$f" cases) | $(kv "$f" passed) | $(kv "$f" known_defects) |" \
    "$(grep -c '^case=' "$f" || true) | \`$f\` ($(when "$f")) |"
}

soak_row() { # soak_row FILE
  local f=$1
  echo "| $(kv "$f" label) | $(kv "$f" seconds) | $(kv "$f" reloads) |" \
    "$(kv "$f" attempted) | $(kv "$f" delivered) |" \
    "$(kv "$f" dropped_at_stop) | $(kv "$f" refused) | $(kv "$f" balance) |" \
    "$(kv "$f" rss_slope_kb_per_min) (bound $(kv "$f" rss_slope_bound_kb_per_min)) |" \
    "$(kv "$f" rss_start_kb) → $(kv "$f" rss_end_kb) |" \
    "$(kv "$f" fds_before) → $(kv "$f" fds_after) |" \
    "$(kv "$f" maps_before) → $(kv "$f" maps_after) |" \
    "$(kv "$f" faults) | $(kv "$f" result) | \`$f\` |"
}

soak_section() {
  local label f any=0
  echo "### Soak"
  echo
  echo "| run | seconds | reloads | attempted | delivered | dropped at stop | refused | balance | RSS slope kB/min | RSS kB start → end | fds | mappings | faults | result | file |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for label in release tsan; do
    f=$(newest soak/soak-"$label"-*.txt)
    if [[ -z $f ]]; then
      echo "| $label | not run | | | | | | | | | | | | | |"
    else
      soak_row "$f"
      any=1
    fi
  done
  if ((any)); then
    echo
    echo "balance = attempted − delivered − dropped at stop − refused (must be 0)."
  fi
}

block() {
  echo "$BEGIN"
  echo
  echo "Generated $(date -u +%Y-%m-%dT%H:%MZ) from the result files below."
  echo
  alloc_section
  echo
  fuzz_section
  echo
  hostile_section
  echo
  soak_section
  echo
  echo "$END"
}

if [[ $DOC == --stdout ]]; then
  block
  exit 0
fi
[[ -f $DOC ]] || { echo "reliability-report: no $DOC" >&2; exit 2; }
if ! grep -qxF "$BEGIN" "$DOC" || ! grep -qxF "$END" "$DOC"; then
  echo "reliability-report: $DOC lacks the markers" >&2
  exit 2
fi
block >"$DOC.block"
awk -v b="$BEGIN" -v e="$END" -v blk="$DOC.block" '
  $0 == b { while ((getline l < blk) > 0) print l; skip = 1; next }
  $0 == e { skip = 0; next }
  !skip' "$DOC" >"$DOC.tmp"
rm -f "$DOC.block"
mv "$DOC.tmp" "$DOC"
echo "reliability-report: $DOC updated"
