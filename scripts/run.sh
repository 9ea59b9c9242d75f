#!/usr/bin/env bash
# The README's run command. With no arguments: build the static site and serve it on
# http://127.0.0.1:${PORT:-8080}/ (the URL is printed). With arguments: run the `rooflaw` command line with
# them (e.g. `scripts/run.sh predict qwen2.5-0.5b --device jetson-agx-orin-64gb`).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup show active-toolchain > /dev/null
cargo build --release --quiet -p rooflaw-cli
if [ "$#" -gt 0 ]; then
  exec target/release/rooflaw "$@"
fi
bash scripts/site.sh
exec target/release/rooflaw serve --dir dist --port "${PORT:-8080}"
