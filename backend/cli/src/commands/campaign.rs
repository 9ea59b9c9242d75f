//! `rooflaw campaign`: training campaigns. `run` drives one to its end (local workers or Slurm), `status`
//! shows a stored one, `simulate` replays campaigns against a synthetic true law.

use std::io::IsTerminal;

use anyhow::Result;
use rooflaw::api::{simulate as run_simulation, Context};
use rooflaw_server::campaign::{run_headless, view, CampaignView};

use crate::render::{count, plot, print_json, print_table, secs, table, Format};
use crate::resolve::{CampaignRun, Simulate};

/// `campaign run`: drives the campaign until it stops, logging each round, then prints its rounds.
pub fn run(format: Format, args: CampaignRun) -> Result<()> {
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()).with_target(false).try_init();
    let v = rooflaw_server::block_on(run_headless(args.config, args.start, |c| {
        eprintln!(
            "campaign {} '{}' on the {} executor (resume it with `rooflaw campaign run --resume {}`)",
            c.id, c.name, c.executor, c.id
        );
    }))?;
    show(format, &v)
}

/// `campaign retry`.
pub fn retry(format: Format, config: rooflaw_server::Config, id: i64, job: i64) -> Result<()> {
    let j = rooflaw_server::block_on(rooflaw_server::campaign::retry_headless(config, id, job))?;
    match format {
        Format::Table => {
            println!("job {} ({}) of campaign {id} is queued again; it resumes from its checkpoint", j.id, j.name);
            Ok(())
        }
        _ => print_json(&j),
    }
}

/// `campaign status`.
pub fn status(format: Format, database: &str, id: i64) -> Result<()> {
    show(format, &rooflaw_server::block_on(view(database, id))?)
}

fn show(format: Format, v: &CampaignView) -> Result<()> {
    if format != Format::Table {
        return print_json(v);
    }
    let c = &v.campaign;
    println!(
        "campaign {} '{}': {}{}; runs chosen by {}",
        c.id,
        c.name,
        c.status,
        c.stop_reason.as_ref().map_or(String::new(), |r| format!(" ({r})")),
        rooflaw::campaign::describe_choice(&c.request)
    );
    let mut tb =
        table(&["round", "runs", "completed", "failed", "fit RMSE", "frontier moved", "best design", "its latency", "P(best)", "P(front)"]);
    for r in &v.rounds {
        let jobs: Vec<_> = v.jobs.iter().filter(|j| j.round == r.round).collect();
        let s = r.summary.as_ref();
        let best = s.map(|s| &s["best"]);
        tb.add_row(vec![
            r.round.to_string(),
            jobs.len().to_string(),
            jobs.iter().filter(|j| j.status == "completed").count().to_string(),
            jobs.iter().filter(|j| j.status == "failed").count().to_string(),
            s.and_then(|s| s["fit"]["rmse"].as_f64()).map_or("–".into(), |x| format!("{x:.4}")),
            s.and_then(|s| s["shift"].as_f64()).map_or("–".into(), |x| format!("{x:.5}")),
            best.and_then(|b| b["name"].as_str()).unwrap_or("–").to_string(),
            best.and_then(|b| b["latency_secs"].as_f64()).map_or("–".into(), secs),
            s.and_then(|s| s["odds"]["p_best"].as_f64()).map_or("–".into(), |p| format!("{p:.2}")),
            best.and_then(|b| b["p_pareto"].as_f64()).map_or("–".into(), |p| format!("{p:.2}")),
        ]);
    }
    print_table(&tb);
    let failed: Vec<_> = v.jobs.iter().filter(|j| j.status == "failed").collect();
    for j in failed.iter().take(5) {
        println!("job {} ({}) failed: {}", j.id, j.name, j.error.as_deref().unwrap_or("?"));
    }
    println!("{} jobs in all", count(v.jobs.len() as u64));
    Ok(())
}

/// `campaign simulate`: every strategy's campaigns, how many runs each needed, and the mean regret.
pub fn simulate(format: Format, ctx: &Context, args: &Simulate) -> Result<()> {
    let report = run_simulation(&args.request, ctx)?;
    if let Some(p) = &args.plot {
        plot::simulation_plot(&report, p)?;
    }
    match format {
        Format::Json => print_json(&report),
        Format::Csv => {
            println!("strategy,seed,runs,regret");
            for t in &report.traces {
                for (runs, e) in &t.errors {
                    println!("{},{},{runs},{e}", t.strategy.name(), t.seed);
                }
            }
            Ok(())
        }
        Format::Table => {
            let r = &args.request;
            println!(
                "{} campaigns per strategy on {} ({} candidates, {} latency on {}, {} level): true law '{}' with noise {} nats; {} start runs, then {} per round, up to {}",
                r.seeds, report.space, report.candidates, report.objective, report.device, report.level, report.truth, r.noise, r.initial, r.batch, r.max_runs
            );
            let mut tb = table(&[
                "strategy",
                "runs until the mean regret ≤ tolerance",
                "median over seeds",
                "per seed",
                "mean regret at the start",
                "at the end",
            ]);
            for s in &report.summary {
                let first = s.mean_regret.first().map_or("–".to_string(), |e| format!("{:.4} ({} runs)", e.1, e.0));
                let last = s.mean_regret.last().map_or("–".to_string(), |e| format!("{:.4} ({} runs)", e.1, e.0));
                tb.add_row(vec![
                    s.strategy.name().to_string(),
                    s.mean_runs_to_tolerance.map_or(format!("> {}", r.max_runs), |n| n.to_string()),
                    s.median_runs.map_or(format!("> {}", r.max_runs), |n| n.to_string()),
                    s.runs_to_tolerance.iter().map(|x| x.map_or("–".to_string(), |n| n.to_string())).collect::<Vec<_>>().join(" "),
                    first,
                    last,
                ]);
            }
            print_table(&tb);
            println!(
                "regret: the true loss of the design the fitted law calls best within each latency, minus the true frontier's, averaged over latencies (nats); tolerance {}",
                r.tolerance
            );
            Ok(())
        }
    }
}
