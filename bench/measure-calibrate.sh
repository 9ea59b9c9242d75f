#!/usr/bin/env bash
# End-to-end latency calibration on this machine (issue 10): measure the machine's ceilings, save them as
# a device, time 12 architectures (dense and MoE; depth, width, GQA and QK-norm varied) with the burn
# engine, and with llama.cpp (F16) when llama-bench is installed (scripts/llama-cpp.sh), then fit one
# calibration profile per engine and report its leave-one-out error on decode and prefill.
#
#   bench/measure-calibrate.sh [OUT_DIR]      (default: target/measure-calibrate)
#
# Models of 60–200 M parameters, so that fp32 and F16 weights exceed the caches and stream from memory as
# on a device. One thread, 128-token prompts, 32 generated tokens, 3 repeats after a warm-up. ≈10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-target/measure-calibrate}"
rm -rf "$OUT/records.jsonl" "$OUT/specs"
mkdir -p "$OUT/specs"
cargo build --release -q -p rooflaw-cli
R=target/release/rooflaw

$R measure roofline --save-device bench-box --to "$OUT/devices.json"

# name layers d_model heads kv_heads experts active qk_norm
while read -r name l d h kv e k qk; do
  if [ "$e" = 1 ]; then moe=""; else moe=", \"experts\": $e, \"active_experts\": $k"; fi
  printf '{"name": "%s", "layers": %s, "d_model": %s, "heads": %s, "kv_heads": %s, "ffn_ratio": 3.0, "vocab_size": 32000, "qk_norm": "%s"%s}\n' \
    "$name" "$l" "$d" "$h" "$kv" "$qk" "$moe" > "$OUT/specs/$name.json"
done <<'ARCHS'
l8-d768-mha 8 768 12 12 1 1 none
l16-d512-mqa 16 512 8 1 1 1 none
l24-d512-gqa 24 512 8 2 1 1 per_head
l4-d1280-mha 4 1280 20 20 1 1 none
l6-d1024-gqa 6 1024 16 4 1 1 per_head
l12-d768-gqa 12 768 12 4 1 1 none
l10-d896-gqa 10 896 14 2 1 1 none
l8-d1024-gqa 8 1024 16 4 1 1 per_head
l3-d1536-gqa 3 1536 24 8 1 1 none
l6-d640-moe8x2 6 640 10 2 8 2 none
l8-d512-moe16x1 8 512 8 4 16 1 per_head
l4-d768-moe4x2 4 768 12 4 4 2 none
ARCHS

common=(--prompt 128 --generate 32 --repeat 3 --warmup 1 --threads 1 --device bench-box --out "$OUT/records.jsonl")
for spec in "$OUT"/specs/*.json; do
  $R measure latency --spec "$spec" --engine burn "${common[@]}" | sed -n '3p'
done
TOOLS="${ROOFLAW_TOOLS:-$HOME/.cache/rooflaw-tools}"
if [ -x "$TOOLS/llama.cpp-b11434/bin/llama-bench" ]; then
  for spec in "$OUT"/specs/*.json; do
    $R measure latency --spec "$spec" --engine llama.cpp --precision F16 "${common[@]}" | sed -n '3p'
  done
else
  echo "llama-bench not installed (scripts/llama-cpp.sh): burn only"
fi

$R --devices "$OUT/devices.json" calibrate "$OUT/records.jsonl" --group-by engine --out "$OUT/calibration.json" | grep '^profile'
echo "records: $OUT/records.jsonl; calibration: $OUT/calibration.json"
