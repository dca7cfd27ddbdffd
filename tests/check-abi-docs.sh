#!/usr/bin/env bash
# Every ABI function (UVP_EXTERN declarations, uvp_api entries, plugin
# hooks) must carry the four tags of STYLE.md §5 in the comment block right
# before it, so nobody has to guess who frees what, on which thread, until
# when. Prints each function missing a tag; exits 1 if any.
set -euo pipefail
dir="${1:-$(dirname "$0")/../include/uvplug}"
awk '
  /\/\*\*/            { block = ""; inblock = 1 }
  inblock             { block = block $0 "\n" }
  /\*\//              { inblock = 0; next }
  inblock             { next }
  /^UVP_EXTERN [^;]*\(/ || /^  [a-z].*\(\*[a-z_]+\)\(/ {
    match($0, /(uvp_[a-z_]+|\(\*[a-z_]+\))\(/)
    name = substr($0, RSTART, RLENGTH - 1)
    for (i = 1; i <= 4; i++) {
      split("THREAD: OWNERSHIP: LIFETIME: SINCE:", tags, " ")
      if (index(block, tags[i]) == 0) {
        printf "%s:%d: %s lacks %s\n", FILENAME, FNR, name, tags[i]
        bad = 1
      }
    }
    count++
    block = ""
  }
  END {
    printf "check-abi-docs: %d functions checked\n", count
    exit bad
  }
' "$dir/plugin.h" "$dir/uvplug.h"
