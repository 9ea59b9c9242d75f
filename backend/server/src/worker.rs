//! Training workers. Each claims a run from the database's queue with a lease, trains it in a child
//! process (`rooflaw train --resume RUN_DIR`, so that a crash in burn cannot take the server down),
//! renews the lease while the child lives, turns new lines of the run's `metrics.jsonl` into events,
//! and records the run's end. A run whose worker died (server killed) is claimed again when its lease
//! ends and resumes from its last checkpoint; a cancelled run's child is stopped at the next heartbeat.
//!
//! The child gets a pipe as its standard input and exits when it closes (`--exit-with-parent`), so a
//! killed server leaves no trainer behind; the trainer also locks its run folder, so two trainers never
//! write one run.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rooflaw_store::{Run, Store};
use rooflaw_train::trainer::create_run;
use serde_json::Value;

use crate::runs::RunRequest;
use crate::{Config, Events};

/// A run's folder under the data folder.
pub fn run_dir(data_dir: &Path, id: i64) -> PathBuf {
    data_dir.join("runs").join(format!("run-{id:06}"))
}

/// One worker's loop: claim, train, record; forever.
pub async fn work(store: Store, config: std::sync::Arc<Config>, events: Events, name: String) {
    loop {
        match store.claim_run(&name, config.lease_ms()).await {
            Ok(Some(run)) => {
                events.bump();
                let id = run.id;
                if let Err(e) = train_one(&store, &config, &events, &name, run).await {
                    tracing::error!(run = id, worker = %name, error = %e, "the worker lost track of a run; its lease will run out and another worker will resume it");
                }
                events.bump();
            }
            Ok(None) => events.wait(Duration::from_millis(500)).await,
            Err(e) => {
                tracing::warn!(worker = %name, error = %e, "cannot claim a run; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// What the trainer says when another trainer holds its run folder (`trainer::train`).
const LOCKED: &str = "another trainer is running";

/// Where the trainer's standard error goes (appended by every attempt).
const LOG: &str = "trainer.log";

async fn train_one(store: &Store, config: &Config, events: &Events, owner: &str, run: Run) -> anyhow::Result<()> {
    let dir = run_dir(&config.data_dir, run.id);
    tracing::info!(run = run.id, attempt = run.attempts, worker = owner, dir = %dir.display(), "training");
    if !dir.join("config.json").exists() {
        let created = serde_json::from_value::<RunRequest>(run.request.clone())
            .map_err(anyhow::Error::from)
            .and_then(|req| req.resolve(&config.data_dir))
            .and_then(|r| create_run(&dir, &r.model, &r.data, r.backend, None, r.options));
        if let Err(e) = created {
            store.finish_run(run.id, owner, Err(&format!("cannot create the run folder: {e}"))).await?;
            return Ok(());
        }
    }
    let mut last_step = last_metrics_step(store, run.id).await?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(LOG))?;
    let mut child = Command::new(&config.trainer)
        .arg("train")
        .arg("--resume")
        .arg(&dir)
        .args(["--quiet", "--exit-with-parent", "--threads", &config.train_threads.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start the trainer {}: {e}", config.trainer.display()))?;
    let mut beat = Instant::now();
    let status = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        last_step = forward_metrics(store, events, run.id, &dir, last_step).await?;
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if beat.elapsed() >= config.heartbeat() {
            beat = Instant::now();
            if !store.heartbeat(run.id, owner, config.lease_ms()).await? {
                // Cancelled, or the lease was lost: stop the trainer (its checkpoints stay for a retry).
                stop(&mut child);
                break None;
            }
        }
    };
    forward_metrics(store, events, run.id, &dir, last_step).await?;
    match status {
        None => tracing::info!(run = run.id, "stopped: cancelled or reclaimed"),
        Some(s) if s.success() => {
            let record: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json"))?)?;
            store.finish_run(run.id, owner, Ok(&record)).await?;
            tracing::info!(run = run.id, "completed");
        }
        Some(s) => {
            let message = last_line(&dir.join(LOG)).unwrap_or_else(|| format!("the trainer exited with {s}"));
            if message.contains(LOCKED) {
                // The trainer of an earlier attempt (cancelled, then retried) has not stopped yet: queue the
                // run again instead of failing it.
                store.release_run(run.id, owner).await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            } else {
                store.finish_run(run.id, owner, Err(&message)).await?;
                tracing::warn!(run = run.id, error = %message, "failed");
            }
        }
    }
    Ok(())
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The last step already sent as an event (a resumed run logs again the steps after its checkpoint:
/// they are identical and not sent twice).
async fn last_metrics_step(store: &Store, run_id: i64) -> anyhow::Result<i64> {
    let mut last = -1;
    let mut after = 0;
    loop {
        let page = store.events_after(Some(run_id), after, 1000).await?;
        let Some(tail) = page.last() else { break };
        after = tail.id;
        last = page.iter().filter(|e| e.kind == "metrics").filter_map(|e| e.data["step"].as_i64()).fold(last, i64::max);
    }
    Ok(last)
}

/// The complete lines of a `metrics.jsonl` (a line being written has no newline yet), one per step.
pub fn complete_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n').filter(|l| l.ends_with('\n'))
}

/// Sends the run's metrics lines with a step after `last` as `metrics` events; returns the new last step.
/// Line k holds step k + 1 (a resumed run keeps exactly the lines up to its checkpoint), so the lines of
/// steps already sent are skipped without being parsed.
async fn forward_metrics(store: &Store, events: &Events, run_id: i64, dir: &Path, mut last: i64) -> anyhow::Result<i64> {
    let Ok(text) = std::fs::read_to_string(dir.join("metrics.jsonl")) else { return Ok(last) };
    let mut sent = false;
    for line in complete_lines(&text).skip(last.max(0) as usize) {
        let Ok(m) = serde_json::from_str::<Value>(line) else { continue };
        let step = m["step"].as_i64().unwrap_or(-1);
        if step > last {
            store.append_event(run_id, "metrics", &m).await?;
            last = step;
            sent = true;
        }
    }
    if sent {
        events.bump();
    }
    Ok(last)
}

/// The last non-empty line of a log (the trainer's one-line error).
fn last_line(path: &Path) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path).ok()?.read_to_string(&mut text).ok()?;
    text.lines().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim().trim_start_matches("error: ").to_string())
}
