#!/usr/bin/env bash
# Builds the `rooflaw` binary with wgpu training into target/wgpu/release/rooflaw and trains a tiny model on
# it for a few steps. On a machine without a GPU, wgpu runs on Mesa's lavapipe (a Vulkan driver on the CPU,
# ≈7× slower than the CPU backend): this script installs it with apt-get when it is missing (root only).
# Building adds ≈10 minutes; it is not part of scripts/test.sh (only `scripts/test.sh --full`).
set -euo pipefail
cd "$(dirname "$0")/.."

target=${WGPU_TARGET_DIR:-target/wgpu}
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 && [ "$(id -u)" = 0 ]; then
    echo "==> installing the Vulkan loader and Mesa's drivers (lavapipe)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libvulkan1 mesa-vulkan-drivers >/dev/null
fi

echo "==> cargo build --release -p rooflaw-cli --features wgpu"
cargo build --release -p rooflaw-cli --features wgpu --target-dir "$target"
bin=$target/release/rooflaw

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" data prepare --tokenizer bytes --text tests/fixtures/text --out "$work/data" >/dev/null
echo '{"layers": 2, "d_model": 64, "heads": 4, "kv_heads": 2, "ffn_ratio": 2, "vocab_size": 256, "tied_embeddings": true}' >"$work/tiny.json"
echo "==> training a tiny model for 16 steps with --backend wgpu"
"$bin" train --quiet --spec "$work/tiny.json" --data "$work/data" --tokens 8192 --batch 8 --seq 64 --warmup 2 \
    --eval-every 0 --out "$work/run" --backend wgpu
first=$(head -1 "$work/run/metrics.jsonl")
last=$(tail -1 "$work/run/metrics.jsonl")
echo "first step: $first"
echo "last step:  $last"
python3 - "$work/run/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
first, last = rows[0]["train_loss"], rows[-1]["train_loss"]
# A byte-level model starts near ln 256 = 5.55 nats; 16 AdamW steps must bring the loss down.
assert first > 5.0 and last < first - 0.3, (first, last)
print(f"wgpu trains: loss {first:.3f} -> {last:.3f} over {len(rows)} steps")
PY
echo "==> the device's ceilings and a latency measurement with --backend wgpu"
"$bin" measure roofline --backend wgpu --stream-mib 16 --gemm-n 256 --passes 2
"$bin" measure latency --spec "$work/tiny.json" --backend wgpu --prompt 16 --generate 4 --repeat 3 --format csv
