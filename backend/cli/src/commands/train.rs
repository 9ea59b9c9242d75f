//! `rooflaw train`: train an architecture on prepared text, resume a run, or check it (`--dry-run`).

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rooflaw::Architecture;
use rooflaw_train::model::burn_param_count;
use rooflaw_train::trainer::{create_run, train_on, Backend, Metrics, RunConfig};

use crate::render::{count, print_json, Format};
use crate::resolve::Train;

/// `train`.
pub fn run(format: Format, args: &Train) -> Result<()> {
    match args {
        Train::DryRun { architecture, seq } => dry_run(format, architecture, *seq),
        Train::New { run, backend, model, data, peak_flops, options, quiet } => {
            create_run(run, model, data, *backend, *peak_flops, options.clone())?;
            go(format, *backend, run, *quiet)
        }
        Train::Resume { run, backend, quiet } => {
            let config: RunConfig = serde_json::from_str(&std::fs::read_to_string(run.join("config.json"))?)?;
            go(format, backend.unwrap_or(config.backend), run, *quiet)
        }
    }
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

fn go(format: Format, backend: Backend, run: &std::path::Path, quiet: bool) -> Result<()> {
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
    };
    let s = train_on(backend, run, &mut on_step)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match format {
        Format::Json | Format::Csv => print_json(&s),
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
            Ok(())
        }
    }
}
