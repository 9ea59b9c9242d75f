#!/usr/bin/env bash
# Builds the static site into dist/ (Trunk, offline, the `site` profile: LTO and one codegen unit, then
# wasm-opt -Oz). Publish it by copying dist/ to any
# static host (GitHub Pages, S3, nginx): it needs no server.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOFLAW_NO_BROWSER=1 source scripts/tools.sh
cargo fetch --quiet
trunk build --release --cargo-profile site
echo "site built in $(pwd)/dist"
