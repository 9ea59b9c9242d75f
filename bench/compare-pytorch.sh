#!/usr/bin/env bash
# Training throughput of rooflaw (burn 0.22.1, flex CPU backend) against PyTorch on the same model, the
# same data and the same thread count, in alternating runs. Installs PyTorch from PyPI into a cached
# virtual environment the first time (several GB); never run by the tests.
#   bench/compare-pytorch.sh [ROUNDS]        (ARCH=..., STEPS=..., BATCH=..., SEQ=... to change the model)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
STEPS="${STEPS:-60}"; BATCH="${BATCH:-8}"; SEQ="${SEQ:-128}"
VENV="${ROOFLAW_TOOLS:-$HOME/.cache/rooflaw-tools}/torch-venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet torch numpy
fi
cargo build --release --quiet -p rooflaw-cli
R=target/release/rooflaw
WORK="${BENCH_DIR:-target/bench-pytorch}"
mkdir -p "$WORK"
[ -f "$WORK/data/manifest.json" ] || "$R" data prepare --tokenizer bytes --text tests/fixtures/text --out "$WORK/data" > /dev/null
# The model: 4 layers, d 256, 8 heads over 4 KV heads of 32, SwiGLU 768, bytes, tied head (3.3 M parameters).
ARCH="${ARCH:-{\"layers\": 4, \"d_model\": 256, \"heads\": 8, \"kv_heads\": 4, \"head_dim\": 32, \"intermediate_size\": 768, \"vocab_size\": 256, \"tied_embeddings\": true\}}"
echo "$ARCH" > "$WORK/arch.json"
"$VENV/bin/python" -c "import json; a = json.load(open('$WORK/arch.json')); a.setdefault('kv_heads', a['heads']); a.setdefault('head_dim', a['d_model'] // a['heads']); json.dump(a, open('$WORK/arch.py.json', 'w'))"
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for threads in 1 2; do
  : > "$WORK/burn-$threads.txt"; : > "$WORK/torch-$threads.txt"
  for round in $(seq "$ROUNDS"); do
    rm -rf "$WORK/run"
    "$R" train --threads "$threads" --spec "$WORK/arch.json" --data "$WORK/data" --tokens $((STEPS * BATCH * SEQ)) --batch "$BATCH" --seq "$SEQ" \
      --eval-every 0 --checkpoint-every 0 --eval-tokens "$SEQ" --out "$WORK/run" --quiet > /dev/null
    tail -n +6 "$WORK/run/metrics.jsonl" | sed -n 's/.*"tokens_per_sec":\([0-9.e+-]*\).*/\1/p' | median >> "$WORK/burn-$threads.txt"
    "$VENV/bin/python" bench/pytorch_reference.py "$WORK/data" "$WORK/arch.py.json" "$STEPS" "$BATCH" "$SEQ" "$threads" \
      | sed -n 's/.*"tokens_per_sec": \([0-9.e+-]*\).*/\1/p' >> "$WORK/torch-$threads.txt"
  done
  b=$(median < "$WORK/burn-$threads.txt"); t=$(median < "$WORK/torch-$threads.txt")
  printf 'threads %s: rooflaw %.0f tokens/s, PyTorch %.0f tokens/s, ratio %.2f (median of %s alternating rounds)\n' "$threads" "$b" "$t" "$(echo "$b / $t" | bc -l)" "$ROUNDS"
done
