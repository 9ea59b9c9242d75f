#!/usr/bin/env bash
# The README's test command: installs what a fresh machine lacks, then runs every check and test:
# formatting, lints (native and wasm32), a type-check of the GPU training backends, unit and integration
# tests in release (the CLI as a user runs it, training tiny models on the committed fixture, kill -9 and
# resume), the science crate's tests on wasm32 in headless Chromium, the site build, and the end-to-end
# browser tests. Heavy work is not part of this command and has its own scripts: the mini training
# campaign (scripts/mini-campaign.sh) and the PyTorch comparison (bench/compare-pytorch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain (pinned by rust-toolchain.toml) and the tools the site needs"
rustup show active-toolchain
rustup component add rustfmt clippy
source scripts/tools.sh

step "format"
cargo fmt --all -- --check

step "lints (native, and the browser builds of the science crate and the site)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p rooflaw -p rooflaw-web --target wasm32-unknown-unknown -- -D warnings

step "the GPU training backends type-check (CUDA needs DOCS_RS=1 offline, TOOLCHAIN.md; wgpu); building and running them is not part of this command"
DOCS_RS=1 cargo check -p rooflaw-cli --features cuda
cargo check -p rooflaw-cli --features wgpu

step "unit, integration and CLI tests, training on the fixture included (release: burn is ~60x slower in debug); benchmarks in test mode"
cargo build --release -p rooflaw-cli
cargo test --release --workspace --all-targets

step "the science crate's tests on wasm32, in headless Chromium"
# The law-fitting tests take tens of seconds in the browser; the runner's default limit is 20 s.
WASM_BINDGEN_TEST_TIMEOUT=600 cargo test -p rooflaw --target wasm32-unknown-unknown

step "the site builds (Trunk, offline)"
bash scripts/site.sh

step "end-to-end tests of the site in headless Chromium"
cargo test --release -p rooflaw-tests --test browser -- --ignored
