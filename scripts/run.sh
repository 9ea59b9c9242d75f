#!/usr/bin/env bash
# The README's run command. With no arguments it prints the latency report of Qwen2.5-0.5B on the
# Jetson AGX Orin 64GB (MAXN, FP16, batch 1, 1,024 prompt + 16 generated tokens); with arguments it
# runs `rooflaw` with them (e.g. `scripts/run.sh devices list`).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup show active-toolchain > /dev/null
if [ "$#" -eq 0 ]; then
  set -- predict qwen2.5-0.5b --device jetson-agx-orin-64gb --batch 1 --prompt 1024 --generate 16 --precision fp16
fi
cargo build --release --quiet -p rooflaw-server
exec target/release/rooflaw "$@"
