#!/usr/bin/env bash
# The README's test command: installs what a fresh machine lacks, then runs every check and test:
# formatting, lints (native and wasm32), unit and integration tests, the CLI tests, the science crate's
# tests on wasm32 in headless Chromium, the site build, and the end-to-end browser tests.
# Heavy checks (real training, GPU runs) are not part of this command; they have their own flags.
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
