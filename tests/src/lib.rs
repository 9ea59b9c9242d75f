//! Helpers shared by the integration tests in `tests/tests/` and the browser benchmark.

pub mod browser;

use std::path::PathBuf;

/// Path of a fixture file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// The `rooflaw` binary of the same build profile as the running test (built by `cargo test
/// --workspace`, or `cargo build -p rooflaw-server`).
pub fn rooflaw_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test> → target/<profile>/rooflaw
    let dir = exe.parent().and_then(|p| p.parent()).map(PathBuf::from).unwrap_or_default();
    let bin = dir.join(format!("rooflaw{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} is missing: run `cargo build -p rooflaw-server` (or `cargo test --workspace`) first", bin.display());
    bin
}
