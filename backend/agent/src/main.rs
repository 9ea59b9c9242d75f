//! `rooflaw-agent`: see the library's documentation and backend/agent/README.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rooflaw_agent::client::Client;
use rooflaw_agent::run::{work, Options};

/// Measure latency on this device for a rooflaw server: register, claim jobs, run them, post records.
#[derive(Debug, Parser)]
#[command(name = "rooflaw-agent", version)]
struct Args {
    /// The server (http://HOST:PORT).
    #[arg(long, env = "ROOFLAW_SERVER")]
    server: String,
    /// A token with the `measure` scope (`rooflaw token create NAME --scopes measure`).
    #[arg(long, env = "ROOFLAW_TOKEN", hide_env_values = true)]
    token: String,
    /// The device id measurements are recorded under (e.g. jetson-agx-orin-64gb, or one saved by
    /// `rooflaw measure roofline --save-device`).
    #[arg(long)]
    device: String,
    /// The agent's name on the server (default: the host name).
    #[arg(long)]
    name: Option<String>,
    /// Power mode recorded with each measurement (on a Jetson, the nvpmodel mode you set).
    #[arg(long, default_value = "default")]
    power_mode: String,
    /// Engine threads when a job does not say.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds between claims when there is no job.
    #[arg(long, default_value_t = 5)]
    poll_secs: u64,
    /// Where results wait until the server has them (default: ~/.cache/rooflaw-agent/spool).
    #[arg(long)]
    spool: Option<PathBuf>,
    /// llama-bench, when it is not in the tools cache or on PATH.
    #[arg(long)]
    llama_bench: Option<PathBuf>,
    /// Stop when there is no job left instead of polling.
    #[arg(long)]
    once: bool,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let result = (|| -> anyhow::Result<()> {
        if a.threads == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        let client = Client::new(&a.server, &a.token)?;
        let host = rooflaw_measure::host::Host::this().hostname;
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
        let o = Options {
            name: a.name.clone().unwrap_or(host),
            device: a.device.clone(),
            power_mode: a.power_mode.clone(),
            threads: a.threads,
            poll: Duration::from_secs(a.poll_secs.max(1)),
            spool: a.spool.clone().unwrap_or_else(|| home.join(".cache/rooflaw-agent/spool")),
            llama_bench: a.llama_bench.clone(),
            once: a.once,
        };
        let done = work(&client, &o)?;
        println!("rooflaw-agent: {} job(s) done: {:?}", done.len(), done);
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
