#!/bin/sh
# Issue 10, item 1: a plugin crate built with panic = "abort" must not
# compile (its first panic would abort the host; catch_unwind cannot help).
#
#   panic-abort-refused.sh SDK_DIR WORK_DIR
#
# Builds a two-line plugin crate depending on the SDK by path, once with
# panic = "unwind" (must build) and once with "abort" (must fail with the
# SDK's message). Offline: the SDK has no dependencies.
set -eu
sdk=$1
work=$2
rm -rf "$work" && mkdir -p "$work/src"
cat >"$work/src/lib.rs" <<'RS'
use uvplug::prelude::*;
pub struct P;
impl Plugin for P {
    fn init(_: &mut Ctx<Self>, _: &str) -> Result<Self> { Ok(P) }
}
export_plugin!(P, name = "p", version = "1");
RS
manifest() {
  cat >"$work/Cargo.toml" <<TOML
[package]
name = "abort-plugin"
version = "0.1.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
[dependencies]
uvplug = { path = "$sdk" }
[workspace]
[profile.dev]
panic = "$1"
TOML
}
export CARGO_TARGET_DIR="$work/target"
manifest unwind
cargo build --offline --quiet --manifest-path "$work/Cargo.toml"
manifest abort
if cargo build --offline --manifest-path "$work/Cargo.toml" >"$work/log" 2>&1; then
  echo "FAIL: the plugin built with panic = \"abort\"" >&2
  exit 1
fi
if ! grep -q 'uvplug plugins must be built with panic = "unwind"' "$work/log"; then
  echo "FAIL: the build failed without the SDK's message:" >&2
  cat "$work/log" >&2
  exit 1
fi
echo "ok: panic = \"abort\" refused with the SDK's message"
