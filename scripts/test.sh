#!/usr/bin/env bash
# The README's test command: installs what a fresh machine lacks, then runs every check and test.
# Heavy checks (real training, GPU runs) are not part of this command; they have their own flags.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain (pinned by rust-toolchain.toml) and the wasm32 target"
rustup show active-toolchain
rustup target add wasm32-unknown-unknown
rustup component add rustfmt clippy

step "format"
cargo fmt --all -- --check

step "lints (native, and the science crate for the browser)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p rooflaw --target wasm32-unknown-unknown -- -D warnings

step "the science crate builds for wasm32-unknown-unknown"
cargo build -p rooflaw --target wasm32-unknown-unknown

step "tests (unit, integration, CLI) and the benchmarks in test mode"
cargo build -p rooflaw-server
cargo test --workspace --all-targets
