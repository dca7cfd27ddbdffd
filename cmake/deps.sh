#!/bin/sh
# Install the Debian packages uvplug needs to build and test, when we can.
#
#   cmake/deps.sh [EXTRA_PACKAGE...]
#
# Checks each package with dpkg -s. When some are missing and we are root
# or have passwordless sudo, runs apt-get update once and apt-get install
# -y; otherwise prints the exact command to run and fails. A Rust
# toolchain counts as present when cargo is on PATH or in ~/.cargo/bin
# (rustup); else Debian 12's rustc-web/cargo-web (>= the SDK's MSRV 1.70)
# are installed. On systems without dpkg it only warns.
set -eu

# clang, libclang-rt-14-dev: libFuzzer for fuzz/ (make test-fuzz, make fuzz).
# libnats-dev, nats-server: the NATS bridge plugin and its tests (issue 14).
# cbindgen: the C headers of the example services (rust-plugins/gen-services.sh).
pkgs="cmake pkg-config libuv1-dev nettle-dev check valgrind bindgen cbindgen libinih-dev libmicrohttpd-dev libsystemd-dev prometheus curl clang libclang-rt-14-dev libnats-dev nats-server $*"

if ! command -v dpkg >/dev/null 2>&1; then
  echo "deps: no dpkg; install by hand: a C compiler, $pkgs, Rust >= 1.70" >&2
  exit 0
fi

missing=""
for p in $pkgs; do
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing="$missing $p"
  fi
done
if ! command -v cc >/dev/null 2>&1; then
  missing="$missing gcc libc6-dev"
fi
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  missing="$missing rustc-web cargo-web"
fi

[ -z "$missing" ] && exit 0
missing=${missing# }

if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  echo "deps: missing Debian packages: $missing" >&2
  echo "deps: run:  sudo apt-get install -y $missing" >&2
  exit 1
fi

echo "deps: installing $missing" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
