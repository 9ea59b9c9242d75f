//! `rooflaw serve`: the site, the API under /api/v1 and the training workers (`rooflaw-server`), on an
//! SQLite database in the data folder or on Postgres. The first line printed is the URL (`--port 0` picks
//! a free port), so that a harness can read it; logs go to standard error.

use std::io::{IsTerminal, Write};

use anyhow::Result;

/// `serve`: runs until interrupted.
pub fn run(config: rooflaw_server::Config) -> Result<()> {
    // Logs are best effort: a second subscriber (in tests) is not an error.
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()).with_target(false).try_init();
    rooflaw_server::block_on(rooflaw_server::serve(config, |url| {
        println!("rooflaw: {url} (the site; the API is under {url}api/v1; Ctrl-C to stop)");
        let _ = std::io::stdout().flush();
    }))
}
