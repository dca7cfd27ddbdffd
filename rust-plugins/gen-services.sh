#!/bin/sh
# Regenerate the C headers of the example services from their Rust crates
# with cbindgen (the Rust -> C direction; gen-sys.sh is the other one).
#
#   gen-services.sh          rewrite the headers
#   gen-services.sh --check  regenerate into temp files and diff against the
#                            checked-in headers; exit 1 on drift
#
# Exit codes: 0 ok, 1 drift, 2 usage or cbindgen failure, 77 no cbindgen.
#
# Needs cbindgen (Debian package `cbindgen`, 0.24) and cargo. The argument
# structs and index constants come out of uvplug's service! macro, so
# cbindgen reads the macro-expanded crate ([parse.expand] in each
# cbindgen.toml), which rustc prints only with -Zunpretty=expanded:
# RUSTC_BOOTSTRAP=1 allows that flag on a stable toolchain, for this
# expansion only (nothing is built with it). Works from any directory.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cbindgen=${CBINDGEN:-cbindgen}

case "$PATH" in
  *"$HOME/.cargo/bin"*) ;;
  *) [ -d "$HOME/.cargo/bin" ] && PATH="$PATH:$HOME/.cargo/bin" ;;
esac
export PATH

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if ! command -v "$cbindgen" >/dev/null 2>&1; then
  echo "gen-services.sh: cbindgen not found (apt-get install cbindgen); skipped" >&2
  exit 77
fi

# crate (package name) : crate directory : header, one service per line.
services="kv-service:examples/kv-service:include/uvplug/services/kv.h"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT INT TERM
status=0
for s in $services; do
  crate=${s%%:*}
  rest=${s#*:}
  dir=${rest%%:*}
  out="$repo/${rest#*:}"
  # cbindgen's WARN lines name what it skipped (the macro's other items,
  # which have no C form); they are expected and not shown.
  if ! (cd "$here" && RUSTC_BOOTSTRAP=1 "$cbindgen" --quiet \
        --config "$dir/cbindgen.toml" --crate "$crate" --output "$tmp"); then
    echo "gen-services.sh: cbindgen failed on $crate" >&2
    exit 2
  fi
  if [ "$check" = 1 ]; then
    if diff -u "$out" "$tmp" >&2; then
      echo "gen-services.sh: ${out#"$repo"/} matches $dir"
    else
      echo "gen-services.sh: DRIFT: ${out#"$repo"/} differs from what" \
           "$dir generates; run rust-plugins/gen-services.sh and commit" \
           "the result" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$out")"
    cp "$tmp" "$out"
    echo "gen-services.sh: wrote ${out#"$repo"/}"
  fi
done
exit "$status"
