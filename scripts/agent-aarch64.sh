#!/usr/bin/env bash
# Cross-builds rooflaw-agent for a Jetson (aarch64, static musl: it runs on JetPack 5 and 6 alike, whatever
# their glibc) and runs it under qemu-user against a real server on loopback: it registers with its facts,
# claims a job and reports the job's error (it is given no llama-bench), which the server
# stores. Part of scripts/test.sh. Linked with rust-lld (shipped with rustup), so no cross C toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-musl
rustup target add "$TARGET" >/dev/null
if ! command -v qemu-aarch64-static >/dev/null && ! command -v qemu-aarch64 >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq qemu-user-static >/dev/null
fi
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64)

CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld \
  cargo build --release -q -p rooflaw-agent --no-default-features --target "$TARGET"
AGENT="target/$TARGET/release/rooflaw-agent"
# ELF e_machine (2 bytes at offset 18) is 0xb7 for aarch64; a static binary names no dynamic loader.
[ "$(od -An -tx1 -j18 -N2 "$AGENT" | tr -d ' ')" = "b700" ] || { echo "$AGENT is not an aarch64 binary" >&2; exit 1; }
! grep -q "ld-linux" "$AGENT" || { echo "$AGENT is not statically linked" >&2; exit 1; }
"$QEMU" "$AGENT" --version

cargo build --release -q -p rooflaw-cli
R=target/release/rooflaw
WORK=$(mktemp -d)
# The server wants a site folder; the site itself is built later in the test run.
mkdir -p "$WORK/site" && echo '<html>rooflaw</html>' > "$WORK/site/index.html"
"$R" serve --addr 127.0.0.1:0 --workers 0 --dir "$WORK/site" --data-dir "$WORK/data" > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
URL=$(head -1 "$WORK/serve.out" | grep -o 'http://[0-9.:]*' | head -1 || true)
[ -n "$URL" ] || { echo "rooflaw serve did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }
MEASURE=$("$R" token create --name jetson --scope measure --data-dir "$WORK/data")
TRAIN=$("$R" token create --name lab --scope train --data-dir "$WORK/data")
JOB='{"device": "jetson-agx-orin-64gb", "job": {"architecture": {"layers": 2, "d_model": 64, "heads": 4, "ffn_ratio": 4, "vocab_size": 512}, "engine": "llama.cpp", "precision": "Q4_0"}}'
curl -fsS -H "Authorization: Bearer $TRAIN" -H 'Content-Type: application/json' -d "$JOB" "$URL/api/v1/measure-jobs" > /dev/null

ROOFLAW_TOOLS="$WORK/no-tools" "$QEMU" "$AGENT" --server "$URL" --token "$MEASURE" --device jetson-agx-orin-64gb --name orin-under-qemu --once --spool "$WORK/spool"
AGENTS=$(curl -fsS "$URL/api/v1/agents")
JOBS=$(curl -fsS "$URL/api/v1/measure-jobs")
echo "$AGENTS" | grep -q '"name":"orin-under-qemu"' || { echo "the agent did not register: $AGENTS" >&2; exit 1; }
echo "$JOBS" | grep -q '"status":"failed"' || { echo "the job was not reported: $JOBS" >&2; exit 1; }
echo "$JOBS" | grep -q 'llama-bench was not found' || { echo "the job's error is not the expected one: $JOBS" >&2; exit 1; }
echo "aarch64 agent under qemu: registered, claimed the job, reported: $(echo "$JOBS" | grep -o 'llama-bench was not found[^;]*' | head -1)"
