//! `rooflaw train`: train an architecture on prepared text, resume a run, or check it (`--dry-run`).

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rooflaw::Architecture;
use rooflaw_train::model::burn_param_count;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rooflaw_train::trainer::{create_run, train_on, Backend, Metrics, Outcome, RunConfig};

use crate::render::{count, print_json, Format};
use crate::resolve::Train;

/// What a signal does to a training run.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnSignal {
    /// SIGUSR1 or SIGTERM: checkpoint after the current step and exit.
    pub stop: bool,
    /// Then requeue the Slurm job the trainer runs in.
    pub requeue: bool,
}

/// Exit code of a run stopped by a signal after its checkpoint (resume it with `--resume`).
const STOPPED: i32 = 4;

/// `train`.
pub fn run(format: Format, args: &Train, signals: OnSignal) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    if signals.stop {
        for sig in [signal_hook::consts::SIGUSR1, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(|e| anyhow::anyhow!("cannot watch signal {sig}: {e}"))?;
        }
    }
    let outcome = match args {
        Train::DryRun { architecture, seq } => return dry_run(format, architecture, *seq),
        Train::New { run, backend, model, data, peak_flops, options, quiet } => {
            create_run(run, model, data, *backend, *peak_flops, options.clone())?;
            go(format, *backend, run, *quiet, &stop)?
        }
        Train::Resume { run, backend, quiet } => {
            let config: RunConfig = serde_json::from_str(&std::fs::read_to_string(run.join("config.json"))?)?;
            go(format, backend.unwrap_or(config.backend), run, *quiet, &stop)?
        }
    };
    if let Some(step) = outcome {
        if signals.requeue {
            requeue_slurm_job()?;
            eprintln!("stopped by a signal after the checkpoint of step {step}; the Slurm job was requeued and resumes from it");
            std::process::exit(0);
        }
        eprintln!("stopped by a signal after the checkpoint of step {step}; continue with `rooflaw train --resume RUN`");
        std::process::exit(STOPPED);
    }
    Ok(())
}

/// `scontrol requeue` of the Slurm job (an array task as `JOB_TASK`) this process runs in.
fn requeue_slurm_job() -> Result<()> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let id = match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID"), var("SLURM_JOB_ID")) {
        (Some(a), Some(t), _) => format!("{a}_{t}"),
        (_, _, Some(j)) => j,
        _ => bail!("--requeue needs a Slurm job (SLURM_JOB_ID is not set); the checkpoint is saved: resume with --resume"),
    };
    let status = std::process::Command::new("scontrol")
        .args(["requeue", &id])
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run scontrol to requeue job {id}: {e}; the checkpoint is saved"))?;
    if !status.success() {
        bail!("scontrol requeue {id} failed ({status}); the checkpoint is saved: resume with --resume");
    }
    Ok(())
}

/// Exits the process when standard input closes: the parent holding its other end (`rooflaw serve`'s
/// worker) is gone. The run loses at most the steps since its last checkpoint and resumes when claimed
/// again.
pub fn exit_with_parent() {
    std::thread::spawn(|| {
        let mut buf = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(std::io::Read::read(&mut stdin, &mut buf), Ok(n) if n > 0) {}
        eprintln!("error: the server that started this trainer is gone; the run resumes from its last checkpoint");
        std::process::exit(3);
    });
}

fn dry_run(format: Format, a: &Architecture, seq: usize) -> Result<()> {
    let (burn, science) = (burn_param_count(a), a.params().total);
    let flops = rooflaw::cost::training_flops_per_token(a, seq as u64)?;
    match format {
        Format::Json | Format::Csv => print_json(&serde_json::json!({
            "model": a.name,
            "params": { "burn": burn, "science": science },
            "seq": seq,
            "flops_per_token": flops,
        }))?,
        Format::Table => println!(
            "{}: {} parameters in burn, {} in the science crate ({}); {:.4e} training FLOPs per token at {} tokens per sequence",
            a.name,
            count(burn),
            count(science),
            if burn == science { "equal" } else { "DIFFERENT" },
            flops,
            seq
        ),
    }
    if burn != science {
        bail!("burn counts {burn} parameters and the science crate {science}: this architecture cannot be trained as described");
    }
    Ok(())
}

/// Trains to the end (None) or until a signal sets `stop` (the step checkpointed).
fn go(format: Format, backend: Backend, run: &std::path::Path, quiet: bool, stop: &AtomicBool) -> Result<Option<u64>> {
    let bar = (!quiet && format == Format::Table).then(|| {
        let b = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} steps, {msg}, ETA {eta}") {
            b.set_style(style);
        }
        b
    });
    let mut on_step = |m: &Metrics, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(m.step);
            b.set_message(format!("loss {:.4}, {:.0} tokens/s", m.train_loss, m.tokens_per_sec));
        }
        if stop.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let s = match train_on(backend, run, &mut on_step)? {
        Outcome::Finished(s) => s,
        Outcome::Stopped { step } => {
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            return Ok(Some(step));
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match format {
        Format::Json | Format::Csv => print_json(&s)?,
        Format::Table => {
            println!(
                "{}: {} steps, {} tokens in {:.1} s; validation loss on the {} {:.4} nats/token (perplexity {:.2}), unigram entropy {:.4}; wrote {}/run.json",
                run.display(),
                count(s.steps),
                count(s.tokens),
                s.wall_secs,
                s.validation_set,
                s.val_loss,
                s.val_perplexity,
                s.unigram_entropy_nats,
                run.display()
            );
        }
    }
    Ok(None)
}
