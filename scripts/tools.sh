#!/usr/bin/env bash
# Installs what building and testing the site needs, when it is missing (sourced by site.sh and test.sh):
# the wasm32 target, Trunk 0.21.14, wasm-bindgen-cli at the version Cargo.lock pins, wasm-opt 132 from
# the npm package binaryen, and Debian's chromium + chromium-driver for the browser tests.
# Everything comes from the package registries (TOOLCHAIN.md): Trunk's own downloads are disabled.
set -euo pipefail

rustup target add wasm32-unknown-unknown >/dev/null

have_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"; }

if ! have_version trunk "0.21.14"; then
  echo "installing trunk 0.21.14 (about 7 minutes on 2 cores)"
  cargo install trunk --version 0.21.14 --locked
fi

WBG=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)
if ! have_version wasm-bindgen "$WBG"; then
  echo "installing wasm-bindgen-cli $WBG (about 3 minutes)"
  # Without --locked: with it, the install fails on a dependency the registry mirror lags on (TOOLCHAIN.md).
  cargo install wasm-bindgen-cli --version "$WBG"
fi

TOOLS="${ROOFLAW_TOOLS:-$HOME/.cache/rooflaw-tools}"
if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then
  echo "installing wasm-opt (npm binaryen@132.0.0) into $TOOLS"
  mkdir -p "$TOOLS"
  npm install --silent --prefix "$TOOLS" binaryen@132.0.0
fi
export PATH="$TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"

if [ "${ROOFLAW_NO_BROWSER:-}" != "1" ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  echo "installing Debian's chromium and chromium-driver"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
