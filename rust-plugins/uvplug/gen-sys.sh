#!/bin/sh
# Regenerate rust-plugins/uvplug/src/sys.rs from include/uvplug/plugin.h.
#
#   gen-sys.sh          rewrite src/sys.rs
#   gen-sys.sh --check  regenerate into a temp file and diff against the
#                       checked-in src/sys.rs; exit 1 on drift
#
# Exit codes: 0 ok, 1 drift, 2 usage or bindgen failure, 77 no bindgen.
#
# Needs bindgen (Debian package `bindgen`, 0.60) and rustfmt on PATH (or in
# ~/.cargo/bin). Works from any directory. Building a plugin never needs it:
# sys.rs is checked in. Set BINDGEN to use another bindgen binary.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
header="$repo/include/uvplug/plugin.h"
out="$here/src/sys.rs"
bindgen=${BINDGEN:-bindgen}

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

if ! command -v "$bindgen" >/dev/null 2>&1; then
  # 77: the "skipped" code of automake and of ctest's SKIP_RETURN_CODE.
  echo "gen-sys.sh: bindgen not found (apt-get install bindgen); skipped" >&2
  exit 77
fi

tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.raw"' EXIT INT TERM

# --no-doc-comments: the header's comment blocks are the reference; as Rust
#   doc comments their indented lines would turn into doctests.
# --translate-enum-integer-types + default (consts) enum style: every enum
#   constant (UVP_EINVAL, UVP_LOG_INFO, ...) comes through as a plain const.
# --blocklist-type '__.*': glibc's __uint*_t typedefs are not ABI of ours.
if ! "$bindgen" "$header" \
  --allowlist-type 'uvp_.*|UVP_.*' \
  --allowlist-function 'uvp_.*|UVP_.*' \
  --allowlist-var 'uvp_.*|UVP_.*' \
  --blocklist-type '__.*' \
  --no-prepend-enum-name \
  --translate-enum-integer-types \
  --size_t-is-usize \
  --no-doc-comments \
  -- -I"$repo/include" >"$tmp.raw"; then
  echo "gen-sys.sh: bindgen failed on $header" >&2
  exit 2
fi

# Replace bindgen's banner with ours and put a SAFETY comment before every
# unsafe block of the layout tests (the crate rule: grep -rn unsafe shows
# one before each).
{
  echo "// generated — do not edit: run rust-plugins/uvplug/gen-sys.sh (bindgen from include/uvplug/plugin.h)"
  sed -e '1{/automatically generated/d;}' \
      -e 's|^\( *\)unsafe {$|\1// SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used\n\1// with addr_of! to compute an offset, never read.\n\1unsafe {|' \
      "$tmp.raw"
} >"$tmp"

if [ "$check" = 1 ]; then
  if diff -u "$out" "$tmp" >&2; then
    echo "gen-sys.sh: src/sys.rs matches include/uvplug/plugin.h"
    exit 0
  fi
  echo "gen-sys.sh: DRIFT: rust-plugins/uvplug/src/sys.rs differs from what" \
       "include/uvplug/plugin.h generates; run rust-plugins/uvplug/gen-sys.sh" \
       "and commit the result" >&2
  exit 1
fi
cp "$tmp" "$out"
echo "gen-sys.sh: wrote $out"
