//! Helpers shared by the integration tests in `tests/tests/` and the browser benchmark.

pub mod browser;
pub mod http;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of a fixture file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// The `rooflaw` binary of the same build profile as the running test or benchmark (built by `cargo
/// test --workspace`, or `cargo build [--release] -p rooflaw-cli`).
pub fn rooflaw_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let name = format!("rooflaw{}", std::env::consts::EXE_SUFFIX);
    // A test runs from target/<profile>/deps/, a benchmark binary from target/<profile>/.
    let dirs: Vec<PathBuf> = exe.ancestors().skip(1).take(2).map(PathBuf::from).collect();
    let found = dirs.iter().map(|d| d.join(&name)).find(|b| b.is_file());
    assert!(
        found.is_some(),
        "no rooflaw binary beside {}: run `cargo build -p rooflaw-cli` (or `cargo test --workspace`) first",
        exe.display()
    );
    found.unwrap_or_default()
}

/// The `rooflaw-agent` binary of the same build profile (built by `cargo test --workspace`, or `cargo build
/// -p rooflaw-agent`).
pub fn agent_bin() -> PathBuf {
    let rooflaw = rooflaw_bin();
    let agent = rooflaw.with_file_name(format!("rooflaw-agent{}", std::env::consts::EXE_SUFFIX));
    assert!(agent.is_file(), "no rooflaw-agent beside {}: run `cargo build -p rooflaw-agent` first", rooflaw.display());
    agent
}

/// A token created with the CLI in a server's database (`db`: a Postgres URL, else the data folder's
/// SQLite file): its secret.
pub fn token(data: &Path, db: &Option<String>, name: &str, scopes: &[&str]) -> String {
    let data = data.to_string_lossy();
    let mut args = vec!["token", "create", "--name", name, "--data-dir", &data];
    if let Some(url) = db {
        args.extend(["--database", url.as_str()]);
    }
    args.push("--scope");
    args.extend_from_slice(scopes);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let secret = stdout(&o).trim().to_string();
    assert!(secret.starts_with("rl_") && secret.len() == 67, "{secret}");
    secret
}

/// `rooflaw measure roofline`, small and quick, saving this machine as device `id` in `devices`.
pub fn measure_device(devices: &Path, id: &str) -> Output {
    run(&[
        "measure",
        "roofline",
        "--stream-mib",
        "16",
        "--gemm-n",
        "256",
        "--passes",
        "2",
        "--save-device",
        id,
        "--to",
        &devices.to_string_lossy(),
    ])
}

/// Runs the `rooflaw` binary with `args`.
pub fn run(args: &[&str]) -> Output {
    let bin = rooflaw_bin();
    Command::new(&bin).args(args).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Prepares the committed fixture (two State of the Union addresses) as byte-level data in `out` with
/// `rooflaw data prepare`.
pub fn prepare_fixture(out: &Path) {
    let texts = [fixture("text/sotu-1790-washington.txt"), fixture("text/sotu-1861-lincoln.txt")];
    let o = run(&[
        "data",
        "prepare",
        "--tokenizer",
        "bytes",
        "--text",
        &texts[0].to_string_lossy(),
        &texts[1].to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A fresh folder for one test's files, under the system's temporary folder: removed when the test
/// passes, kept (and its path printed) when it fails, for a look at what went wrong. A training test's
/// folder holds checkpoints and run folders (a campaign's: 200 MB), so passing tests must not leave it.
pub fn tmp(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("rooflaw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    Scratch { path: dir, keep: false }
}

/// A test's folder from [`tmp`]; derefs to its path.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    /// Keeps the folder after all: for a test that fails by returning an error rather than panicking.
    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// Passes `result` on, keeping the folder when it is an error.
    pub fn keep_on_error<T, E>(mut self, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() {
            self.keep();
        }
        result
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep || std::thread::panicking() {
            eprintln!("kept the failed test's files in {}", self.path.display());
        } else if std::fs::remove_dir_all(&self.path).is_err() {
            // A process that has just been killed (Chromium writing its profile) may still add a file.
            std::thread::sleep(std::time::Duration::from_millis(300));
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The databases the API tests run on: SQLite (`None`: the server's default file) always, and Postgres when
/// `ROOFLAW_TEST_POSTGRES` names a server (`scripts/test.sh` starts one with `scripts/postgres.sh`): a fresh
/// database per test and process. With `ROOFLAW_REQUIRE_POSTGRES=1` a missing server is a failure.
pub fn databases(test: &str) -> Vec<Option<String>> {
    let mut out = vec![None];
    match std::env::var("ROOFLAW_TEST_POSTGRES") {
        Ok(base) if !base.is_empty() => out.push(Some(format!("{}/rooflaw_{test}_{}", base.trim_end_matches('/'), std::process::id()))),
        _ => assert!(
            std::env::var("ROOFLAW_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "ROOFLAW_REQUIRE_POSTGRES=1 but no ROOFLAW_TEST_POSTGRES: start one with `source scripts/postgres.sh start`"
        ),
    }
    out
}
