#!/usr/bin/env bash
# Heavy, not part of the test command: a campaign in miniature on this CPU. Trains 16 architectures shaped
# like the paper's Table 5 at small scale (layers, width, FFN ratio, experts E/K and GQA varied) on one
# corpus (the State of the Union addresses, byte-level tokens) with one token budget each, then fits the
# loss law (Eq. 2) to the runs with `rooflaw fit` and prints R², held-out error and the coefficients
# with intervals. Resumable: finished runs are kept, interrupted ones resume from their checkpoint.
#   TOKENS=1000000 CAMPAIGN_DIR=target/mini-campaign scripts/mini-campaign.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TOKENS="${TOKENS:-1000000}"
WORK="${CAMPAIGN_DIR:-target/mini-campaign}"
DATA_ROOT="${ROOFLAW_DATA_DIR:-$HOME/.cache/rooflaw/data}"
export ROOFLAW_DATA_DIR="$DATA_ROOT"
cargo build --release --quiet -p rooflaw-cli
R=target/release/rooflaw
mkdir -p "$WORK/runs"
start=$(date +%s)
"$R" data fetch sotu
if [ ! -f "$WORK/data/manifest.json" ]; then
  "$R" data prepare --tokenizer bytes --text "$DATA_ROOT/corpora/sotu" --out "$WORK/data"
fi
# name layers d_model ffn_ratio experts active kv_heads (head_dim 32, heads = d_model / 32)
ARCHS="
a01 2 64 1 1 1 1
a02 2 128 4 4 1 2
a03 2 192 2 8 2 6
a04 4 64 2 4 2 2
a05 4 128 1 8 1 4
a06 4 192 4 1 1 2
a07 6 64 4 8 2 1
a08 6 128 2 1 1 4
a09 6 192 1 4 1 3
a10 3 96 4 4 2 3
a11 3 160 1 1 1 5
a12 5 96 2 8 1 1
a13 5 160 4 4 1 5
a14 8 64 1 4 2 2
a15 8 128 2 8 2 2
a16 2 256 2 4 1 8
"
echo "$ARCHS" | while read -r name l d r e k kv; do
  [ -z "$name" ] && continue
  run="$WORK/runs/$name"
  if [ -f "$run/run.json" ]; then echo "$name: done"; continue; fi
  if [ -f "$run/config.json" ]; then
    "$R" train --resume "$run" --quiet
  else
    spec="$WORK/$name.json"
    printf '{"name": "%s", "layers": %s, "d_model": %s, "heads": %s, "kv_heads": %s, "head_dim": 32, "ffn_ratio": %s, "experts": %s, "active_experts": %s, "vocab_size": 256, "tied_embeddings": true}\n' \
      "$name" "$l" "$d" "$((d / 32))" "$kv" "$r" "$e" "$k" > "$spec"
    "$R" train --spec "$spec" --data "$WORK/data" --tokens "$TOKENS" --batch 8 --seq 128 --lr 2e-3 --warmup 100 \
      --eval-every 0 --checkpoint-every 500 --eval-tokens 65536 --out "$run" --quiet
  fi
done
"$R" fit "$WORK"/runs/* --bootstrap 200 --out "$WORK/law.json"
"$R" fit "$WORK"/runs/* --bootstrap 200 --format json > "$WORK/fit.json"
echo "wall time: $(( $(date +%s) - start )) s"
