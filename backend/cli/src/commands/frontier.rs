//! `rooflaw frontier`: the loss–latency Pareto frontier of a design space, budgets and a plot.

use anyhow::Result;
use rooflaw::api::{frontier, to_csv, Context};
use rooflaw::models::reference_models;
use rooflaw::space::DesignSpace;
use rooflaw::uncertain::Uncertainty;

use crate::render::{bytes, count, plot, print_json, print_table, secs, secs_range, table, Format};
use crate::resolve::Frontier;

/// What the uncertain frontier rests on, in one line.
fn uncertainty_line(u: &Uncertainty, candidates: usize) -> String {
    let law = if u.law_draws > 0 {
        format!("the law's {} bootstrap fits", u.law_draws)
    } else {
        "the law as exact (it carries no bootstrap: fit one with `rooflaw fit` for its uncertainty)".to_string()
    };
    let latency = u.latency.map_or("latencies as exact (no calibration interval at this level)".to_string(), |l| {
        format!("a latency factor ×e^({:+.2} ± {:.2}) shared by every design (the calibration's interval)", l.bias, l.sd)
    });
    let width = u.band.iter().filter_map(|b| Some(b.high? - b.low?)).fold(None, |m: Option<f64>, w| Some(m.map_or(w, |m| m.max(w))));
    format!(
        "P(front): share of {} draws on the frontier, from {law} and {latency}; {} of {} candidates are on it in some draw{}",
        u.draws,
        count(u.possible as u64),
        count(candidates as u64),
        width.map_or(String::new(), |w| format!("; the frontier's 90% band is at most {w:.4} nats wide"))
    )
}

/// `frontier`: searches the space, draws it when asked, and prints the frontier (or every candidate).
pub fn run(format: Format, ctx: &Context, args: &Frontier) -> Result<()> {
    let s = frontier(&args.request, ctx)?;
    let t = &s.target;
    if let Some(p) = &args.plot {
        let ev = s.evaluator();
        let refs: Vec<_> =
            reference_models().iter().filter_map(|m| m.architecture().ok()).map(|a| (a.name.clone(), ev.point(&a))).collect();
        plot::frontier_plot(&s, &refs, p)?;
    }
    match format {
        Format::Json => print_json(&s.report(args.all)),
        Format::Csv => {
            print!("{}", to_csv(&s.records(args.all))?);
            Ok(())
        }
        Format::Table => {
            println!(
                "space {}: {} {} → {} valid candidates{}; {} on the frontier ({} latency, {} level, {} on {} ({}), batch {}, {} + {} tokens, law '{}'{})",
                s.space.name(),
                count(s.tried),
                if matches!(s.space, DesignSpace::Grid(_)) { "combinations" } else { "Latin-hypercube draws" },
                count(s.valid as u64),
                s.refinement.as_ref().map_or(String::new(), |r| format!(", +{} from {} refinement rounds ({})", r.added, r.rounds, if r.converged { "converged" } else { "round limit" })),
                s.front.len(),
                s.objective.name(),
                s.level.name(),
                t.precision,
                t.device_id,
                t.power_mode,
                t.workload.batch,
                t.workload.prompt_tokens,
                t.workload.generated_tokens,
                s.law.name,
                if s.with_memory { ", memory as a third objective" } else { "" }
            );
            let interval = s.latency_interval();
            let range = |x: f64| interval.map_or("–".to_string(), |iv| secs_range(iv.around(x)));
            let u = s.uncertainty.as_ref();
            let mut tb =
                table(&["#", "l", "d", "heads/kv", "r", "E/K", "loss", "ppl", "latency", "90% interval", "memory", "params", "P(front)"]);
            for (k, &i) in s.front.iter().enumerate() {
                let (a, p) = (&s.candidates[i].arch, &s.points[i]);
                tb.add_row(vec![
                    (k + 1).to_string(),
                    a.layers.to_string(),
                    a.d_model.to_string(),
                    format!("{}/{}", a.heads, a.kv_heads),
                    format!("{:.2}", a.ffn_ratio()),
                    format!("{}/{}", a.experts, a.active_experts),
                    format!("{:.4}", p.loss),
                    format!("{:.2}", p.perplexity()),
                    secs(p.latency_secs),
                    range(p.latency_secs),
                    bytes(p.memory_bytes),
                    count(a.params().total),
                    u.map_or("–".to_string(), |u| format!("{:.2}", u.p_pareto(i))),
                ]);
            }
            print_table(&tb);
            if let Some(u) = u {
                println!("{}", uncertainty_line(u, s.candidates.len()));
            }
            if s.level == rooflaw::Level::Calibrated {
                println!(
                    "calibration: {}{}",
                    s.calibration.label,
                    if interval.is_none() {
                        format!("; it has no measured rows of {} latency, so no interval", s.objective.name())
                    } else {
                        String::new()
                    }
                );
            }
            let budget = s.budget;
            if budget.latency_secs.is_some() || budget.memory_bytes.is_some() {
                let feasible = s.feasible();
                let what = format!(
                    "{}{}",
                    budget.latency_secs.map_or(String::new(), |l| format!("{} ≤ {}", s.objective.name(), secs(l))),
                    budget.memory_bytes.map_or(String::new(), |m| format!(" memory ≤ {}", bytes(m)))
                );
                match s.best {
                    Some(i) => println!(
                        "budget {what}: {} feasible; best {} (loss {:.4}, ppl {:.2}, {}{}, {})",
                        count(feasible as u64),
                        s.candidates[i].arch.name,
                        s.points[i].loss,
                        s.points[i].perplexity(),
                        secs(s.points[i].latency_secs),
                        interval.map_or(String::new(), |_| format!(" [90%: {}]", range(s.points[i].latency_secs))),
                        bytes(s.points[i].memory_bytes)
                    ),
                    None => println!("budget {what}: no candidate is feasible; relax the budget or widen the space"),
                }
                if let Some(o) = u.and_then(|u| u.best) {
                    println!(
                        "  odds over the draws: best in {:.0}%, within the budget in {:.0}%{}{}",
                        o.p_best * 100.0,
                        o.p_within_budget * 100.0,
                        match o.most_often {
                            Some(k) if k != o.index => {
                                format!("; {} is best more often ({:.0}%)", s.candidates[k].arch.name, o.p_most_often * 100.0)
                            }
                            _ => String::new(),
                        },
                        if o.p_none > 0.0 { format!("; no design fits in {:.0}%", o.p_none * 100.0) } else { String::new() }
                    );
                }
            }
            Ok(())
        }
    }
}
