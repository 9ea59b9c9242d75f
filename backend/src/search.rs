//! The loss half of the CLI: `law`, `fit`, `frontier`, `match`, `theory` and `reproduce`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::cli::{FitArgs, Format, FrontierArgs, LawArgs, LawChoice, LevelArg, MatchArgs, ObjectiveArg, RobustArg, SpaceArgs, TheoryArgs};
use crate::output::{bytes, count, pct, print_csv, print_json, print_table, secs, table};
use crate::plot;
use crate::{calibration, level, load_architecture, read, target};
use rooflaw::fit::{fit_law, parse_runs, FitOptions, Robust};
use rooflaw::frontier::{
    best_feasible, find_scenario, match_reference, pareto_2d, pareto_3d, refine, Budget, Evaluator, Objective, Point, RefineOptions,
};
use rooflaw::law::{find_law, Law, LawInputs};
use rooflaw::models::reference_models;
use rooflaw::space::{find_space, Candidate, DesignSpace};
use rooflaw::theory::{analyse, TheoryInput};
use rooflaw::{Architecture, Catalogue, Precision, Target};

/// A built-in law by name, or a law file.
pub fn load_law(choice: &LawChoice) -> Result<Law> {
    match find_law(&choice.law) {
        Ok(l) => Ok(l.clone()),
        Err(e) => {
            let path = Path::new(&choice.law);
            if path.exists() {
                Ok(Law::from_json(&read(path, "law file")?, &path.display().to_string())?)
            } else {
                Err(e.into())
            }
        }
    }
}

fn objective(o: ObjectiveArg) -> Objective {
    match o {
        ObjectiveArg::Prefill => Objective::Prefill,
        ObjectiveArg::Decode => Objective::Decode,
        ObjectiveArg::Total => Objective::Total,
    }
}

/// The candidates of a space: the space, how many combinations or draws were tried, and the valid ones.
pub fn candidates(s: &SpaceArgs, vocab: Option<(u64, bool)>) -> Result<(DesignSpace, usize, Vec<Candidate>)> {
    let space = match find_space(&s.space) {
        Ok(sp) => sp.clone(),
        Err(e) => {
            let path = Path::new(&s.space);
            if !path.exists() {
                return Err(e.into());
            }
            DesignSpace::from_json(&read(path, "space file")?, &path.display().to_string())?
        }
    };
    let space = match vocab {
        Some((v, tied)) => space.with_vocab(v, tied),
        None => space,
    };
    let (tried, cands) = space.candidates(s.samples, s.seed)?;
    Ok((space, tried as usize, cands))
}

fn evaluate(
    space: &DesignSpace,
    s: &SpaceArgs,
    ev: &Evaluator,
    mut cands: Vec<Candidate>,
) -> (Vec<Candidate>, Vec<Point>, Option<rooflaw::frontier::RefineReport>) {
    let mut points = ev.evaluate(&cands);
    let report = match (space, s.refine) {
        (DesignSpace::Continuous(c), true) => {
            Some(refine(c, ev, &mut cands, &mut points, &RefineOptions { seed: s.seed, ..Default::default() }))
        }
        _ => None,
    };
    (cands, points, report)
}

#[derive(Serialize)]
struct CandidateRow<'a> {
    name: &'a str,
    on_frontier: bool,
    layers: u64,
    d_model: u64,
    heads: u64,
    kv_heads: u64,
    head_dim: u64,
    ffn_ratio: f64,
    intermediate_size: u64,
    experts: u64,
    active_experts: u64,
    vocab_size: u64,
    loss: f64,
    perplexity: f64,
    latency_secs: f64,
    memory_bytes: f64,
    total_params: u64,
}

fn row<'a>(a: &'a Architecture, p: &Point, on_frontier: bool) -> CandidateRow<'a> {
    CandidateRow {
        name: &a.name,
        on_frontier,
        layers: a.layers,
        d_model: a.d_model,
        heads: a.heads,
        kv_heads: a.kv_heads,
        head_dim: a.head_dim,
        ffn_ratio: a.ffn_ratio(),
        intermediate_size: a.intermediate_size,
        experts: a.experts,
        active_experts: a.active_experts,
        vocab_size: a.vocab_size,
        loss: p.loss,
        perplexity: p.loss.exp(),
        latency_secs: p.latency_secs,
        memory_bytes: p.memory_bytes,
        total_params: a.params().total,
    }
}

pub fn law_cmd(format: Format, args: &LawArgs) -> Result<()> {
    let a = load_architecture(&args.model)?;
    let law = load_law(&args.law)?;
    let p = law.predict(&a);
    match format {
        Format::Json => print_json(&serde_json::json!({ "model": a.name, "law": law, "inputs": LawInputs::of(&a), "prediction": p })),
        Format::Csv => print_csv(&[
            serde_json::json!({ "model": a.name, "law": law.name, "loss": p.loss, "perplexity": p.perplexity, "extrapolated": !p.extrapolation.is_empty() }),
        ]),
        Format::Table => {
            let x = LawInputs::of(&a);
            println!("{} under law '{}' ({} training tokens)", a.name, law.name, law.training_tokens);
            println!("inputs: l = {}, d = {}, r = {:.3}, ρ = {:.4}, d_m = {}", x.layers, x.d_model, x.ffn_ratio, x.rho, x.kv_width);
            println!("predicted loss {:.4}, perplexity {:.2}", p.loss, p.perplexity);
            if p.extrapolation.is_empty() {
                println!("inside the law's fitted range");
            }
            for e in &p.extrapolation {
                println!("EXTRAPOLATION: {} = {} is outside the fitted range [{}, {}]", e.variable, e.value, e.range[0], e.range[1]);
            }
            Ok(())
        }
    }
}

pub fn fit_cmd(format: Format, args: &FitArgs) -> Result<()> {
    let text = read(&args.runs, "runs file")?;
    let runs = parse_runs(&text, &args.runs.display().to_string())?;
    if !(0.0..1.0).contains(&args.holdout) {
        bail!("--holdout {} must be in [0, 1), e.g. 0.2", args.holdout);
    }
    let opts = FitOptions {
        name: args.name.clone(),
        robust: match args.robust {
            RobustArg::Huber => Robust::Huber { delta: args.huber_delta },
            RobustArg::LeastSquares => Robust::LeastSquares,
        },
        restarts: args.restarts,
        bootstrap: args.bootstrap,
        seed: args.seed,
        holdout_fraction: args.holdout,
        folds: args.folds,
    };
    let report = fit_law(&runs, &opts)?;
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&report.law)?)
            .with_context(|| format!("cannot write {} (check the directory)", out.display()))?;
    }
    if let Some(p) = &args.plot {
        plot::fit_plot(&report, p)?;
    }
    match format {
        Format::Json => print_json(&report),
        Format::Csv => print_csv(&report.intervals),
        Format::Table => {
            println!(
                "Eq. 2 fitted to {} runs ({}, {} restarts, seed {}){}",
                runs.len(),
                match report.huber_delta {
                    Some(d) => format!("Huber δ = {d:.4}"),
                    None => "least squares".into(),
                },
                opts.restarts,
                opts.seed,
                if report.bootstrap_samples > 0 {
                    format!(", 95% intervals from {} bootstrap resamples", report.bootstrap_samples)
                } else {
                    String::new()
                }
            );
            let mut t = table(&["coefficient", "estimate", "2.5%", "97.5%"]);
            for iv in &report.intervals {
                t.add_row(vec![iv.name.clone(), format!("{:.5}", iv.estimate), format!("{:.5}", iv.lo), format!("{:.5}", iv.hi)]);
            }
            print_table(&t);
            let m = report.train;
            println!("fit on all runs: R² {:.4}, RMSE {:.4}, MAPE {}", m.r2, m.rmse, pct(m.mape));
            if let Some(h) = &report.holdout {
                println!(
                    "held out ({}): fitted on {}, tested on {}: R² {:.4}, RMSE {:.4}, MAPE {}",
                    h.split,
                    h.fitted_on,
                    h.metrics.runs,
                    h.metrics.r2,
                    h.metrics.rmse,
                    pct(h.metrics.mape)
                );
            }
            if let Some(cv) = &report.cross_validation {
                println!(
                    "{}-fold cross-validation: R² {:.4}, RMSE {:.4}, MAPE {}",
                    cv.folds,
                    cv.metrics.r2,
                    cv.metrics.rmse,
                    pct(cv.metrics.mape)
                );
            }
            if let Some(out) = &args.out {
                println!("wrote {} (use it with --law {})", out.display(), out.display());
            }
            Ok(())
        }
    }
}

fn memory_budget(text: &Option<String>, t: &Target) -> Result<Option<f64>> {
    match text.as_deref() {
        None => Ok(None),
        Some("usable") => Ok(Some(t.usable_memory_bytes)),
        Some(v) => match v.parse::<f64>() {
            Ok(b) if b > 0.0 => Ok(Some(b)),
            _ => bail!("--memory-budget '{v}' is not a positive number of bytes; use e.g. 4e9, or `usable`"),
        },
    }
}

pub fn frontier_cmd(format: Format, cat: &Catalogue, args: &FrontierArgs) -> Result<()> {
    let t = target(cat, &args.target)?;
    let law = load_law(&args.law)?;
    let cal = calibration(&args.target, &t)?;
    let scenario = args.scenario.as_deref().map(find_scenario).transpose()?;
    let obj = scenario.map_or(objective(args.space.objective), |s| s.objective);
    if let Some(b) = args.latency_budget {
        if !b.is_finite() || b <= 0.0 {
            bail!("--latency-budget {b} must be a positive number of seconds, e.g. 0.1");
        }
    }
    let budget = Budget {
        latency_secs: args.latency_budget.or(scenario.map(|s| s.latency_secs)),
        memory_bytes: memory_budget(&args.memory_budget, &t)?,
    };
    let ev = Evaluator { target: &t, level: level(args.space.level), efficiency: cal.efficiency, law: &law, objective: obj };
    let (space, tried, cands) = candidates(&args.space, None)?;
    let valid = cands.len();
    let (cands, points, refined) = evaluate(&space, &args.space, &ev, cands);
    let front = if args.with_memory { pareto_3d(&points) } else { pareto_2d(&points) };
    let best = best_feasible(&points, &budget);
    if let Some(p) = &args.plot {
        let refs: Vec<(String, Point)> =
            reference_models().iter().filter_map(|m| m.architecture().ok()).map(|a| (a.name.clone(), ev.point(&a))).collect();
        plot::frontier_plot(&points, &front, best, &refs, &budget, &ev, space.name(), p)?;
    }
    let on_front: std::collections::HashSet<usize> = front.iter().copied().collect();
    match format {
        Format::Json => {
            let rows: Vec<CandidateRow> = if args.all {
                cands.iter().zip(&points).enumerate().map(|(i, (c, p))| row(&c.arch, p, on_front.contains(&i))).collect()
            } else {
                front.iter().map(|&i| row(&cands[i].arch, &points[i], true)).collect()
            };
            print_json(&serde_json::json!({
                "space": space.name(),
                "assumptions": space.assumptions(),
                "tried": tried,
                "valid": valid,
                "evaluated": cands.len(),
                "refinement": refined,
                "device": t.device_id,
                "power_mode": t.power_mode,
                "precision": t.precision.to_string(),
                "workload": t.workload,
                "objective": obj.name(),
                "level": ev.level.name(),
                "law": law.name,
                "budget": budget,
                "best_feasible": best.map(|i| row(&cands[i].arch, &points[i], on_front.contains(&i))),
                "candidates": rows,
            }))
        }
        Format::Csv => {
            let rows: Vec<CandidateRow> = if args.all {
                cands.iter().zip(&points).enumerate().map(|(i, (c, p))| row(&c.arch, p, on_front.contains(&i))).collect()
            } else {
                front.iter().map(|&i| row(&cands[i].arch, &points[i], true)).collect()
            };
            print_csv(&rows)
        }
        Format::Table => {
            println!(
                "space {}: {} {} → {} valid candidates{}; {} on the frontier ({} latency, {} level, {} on {} ({}), batch {}, {} + {} tokens, law '{}'{})",
                space.name(),
                count(tried as u64),
                if matches!(space, DesignSpace::Grid(_)) { "combinations" } else { "Latin-hypercube draws" },
                count(valid as u64),
                refined.as_ref().map_or(String::new(), |r| format!(", +{} from {} refinement rounds ({})", r.added, r.rounds, if r.converged { "converged" } else { "round limit" })),
                front.len(),
                obj.name(),
                ev.level.name(),
                t.precision,
                t.device_id,
                t.power_mode,
                t.workload.batch,
                t.workload.prompt_tokens,
                t.workload.generated_tokens,
                law.name,
                if args.with_memory { ", memory as a third objective" } else { "" }
            );
            let mut tb = table(&["#", "l", "d", "heads/kv", "r", "E/K", "loss", "ppl", "latency", "memory", "params"]);
            for (k, &i) in front.iter().enumerate() {
                let (a, p) = (&cands[i].arch, &points[i]);
                tb.add_row(vec![
                    (k + 1).to_string(),
                    a.layers.to_string(),
                    a.d_model.to_string(),
                    format!("{}/{}", a.heads, a.kv_heads),
                    format!("{:.2}", a.ffn_ratio()),
                    format!("{}/{}", a.experts, a.active_experts),
                    format!("{:.4}", p.loss),
                    format!("{:.2}", p.loss.exp()),
                    secs(p.latency_secs),
                    bytes(p.memory_bytes),
                    count(a.params().total),
                ]);
            }
            print_table(&tb);
            if budget.latency_secs.is_some() || budget.memory_bytes.is_some() {
                let feasible = points.iter().filter(|p| budget.admits(p)).count();
                let what = format!(
                    "{}{}",
                    budget.latency_secs.map_or(String::new(), |l| format!("{} ≤ {}", obj.name(), secs(l))),
                    budget.memory_bytes.map_or(String::new(), |m| format!(" memory ≤ {}", bytes(m)))
                );
                match best {
                    Some(i) => println!(
                        "budget {what}: {} feasible; best {} (loss {:.4}, ppl {:.2}, {}, {})",
                        count(feasible as u64),
                        cands[i].arch.name,
                        points[i].loss,
                        points[i].loss.exp(),
                        secs(points[i].latency_secs),
                        bytes(points[i].memory_bytes)
                    ),
                    None => println!("budget {what}: no candidate is feasible; relax the budget or widen the space"),
                }
            }
            Ok(())
        }
    }
}

pub fn match_cmd(format: Format, cat: &Catalogue, args: &MatchArgs) -> Result<()> {
    let reference = load_architecture(&args.model)?;
    let t = target(cat, &args.target)?;
    let law = load_law(&args.law)?;
    let cal = calibration(&args.target, &t)?;
    let ev = Evaluator {
        target: &t,
        level: level(args.space.level),
        efficiency: cal.efficiency,
        law: &law,
        objective: objective(args.space.objective),
    };
    // Candidates share the reference's vocabulary and tying, so the comparison is about the body.
    let (space, _, cands) = candidates(&args.space, Some((reference.vocab_size, reference.tied_embeddings)))?;
    let (cands, points, _) = evaluate(&space, &args.space, &ev, cands);
    let m = match_reference(&ev, &reference, &cands, &points);
    match format {
        Format::Json => print_json(&m),
        Format::Csv => print_csv(&[serde_json::json!({
            "reference": m.reference.architecture.name,
            "reference_loss": m.reference.prediction.loss,
            "reference_latency_secs": m.reference.latency_secs,
            "best": m.best.as_ref().map(|b| b.architecture.name.clone()),
            "best_loss": m.best.as_ref().map(|b| b.prediction.loss),
            "best_latency_secs": m.best.as_ref().map(|b| b.latency_secs),
            "loss_difference": m.loss_difference,
            "perplexity_ratio": m.perplexity_ratio,
        })]),
        Format::Table => {
            let r = &m.reference;
            println!(
                "reference {}: {} latency {} on {} ({}, {} level), predicted loss {:.4} (ppl {:.2}){}",
                r.architecture.name,
                ev.objective.name(),
                secs(r.latency_secs),
                t.device_id,
                t.precision,
                ev.level.name(),
                r.prediction.loss,
                r.prediction.perplexity,
                if r.prediction.extrapolation.is_empty() {
                    String::new()
                } else {
                    format!(
                        " — EXTRAPOLATED ({})",
                        r.prediction
                            .extrapolation
                            .iter()
                            .map(|e| format!("{} = {:.3}", e.variable, e.value))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            );
            match &m.best {
                None => println!("no candidate of space {} is as fast and fits in memory", space.name()),
                Some(b) => {
                    let a = &b.architecture;
                    println!(
                        "best co-designed at ≤ that latency: {} ({}), latency {}, memory {}, loss {:.4} (ppl {:.2})",
                        a.name,
                        a.summary(),
                        secs(b.latency_secs),
                        bytes(b.memory_bytes),
                        b.prediction.loss,
                        b.prediction.perplexity
                    );
                    if let (Some(d), Some(ratio)) = (m.loss_difference, m.perplexity_ratio) {
                        println!("predicted gain: loss {d:+.4}, perplexity × {ratio:.4} ({:+.2}%)", (ratio - 1.0) * 100.0);
                    }
                }
            }
            Ok(())
        }
    }
}

pub fn theory_cmd(format: Format, cat: &Catalogue, args: &TheoryArgs) -> Result<()> {
    let law = load_law(&args.law)?;
    let mut input = TheoryInput::WORKED_EXAMPLE;
    if !args.worked_example {
        input.prefill_target_secs = None;
        input.decode_target_secs = None;
        input.prompt_tokens = 1024.0;
        input.generated_tokens = 16.0;
    }
    let precision = Precision::preset(&args.precision)?;
    input.weight_bytes = precision.weights.bytes();
    input.kv_bytes = precision.kv.bytes();
    if let Some(id) = &args.device {
        let d = cat.get(id)?;
        let profile = d.profile(args.power_mode.as_deref())?;
        input.peak_flops_per_sec = profile.peak_flops(precision.math()?, d)?;
        input.mem_bandwidth_bytes_per_sec = profile.mem_bandwidth_bytes_per_sec;
        input.memory_budget_bytes = profile.usable_memory_bytes;
    } else if !args.worked_example && (args.peak_flops.is_none() || args.bandwidth.is_none() || args.memory_budget.is_none()) {
        bail!("give --device ID (or --peak-flops, --bandwidth and --memory-budget), or --worked-example");
    }
    macro_rules! set {
        ($field:ident, $arg:expr) => {
            if let Some(v) = $arg {
                input.$field = v;
            }
        };
    }
    set!(peak_flops_per_sec, args.peak_flops);
    set!(mem_bandwidth_bytes_per_sec, args.bandwidth);
    set!(memory_budget_bytes, args.memory_budget);
    set!(batch, args.batch);
    set!(prompt_tokens, args.prompt);
    set!(generated_tokens, args.generate);
    set!(d_model, args.d_model);
    set!(ffn_ratio, args.ffn_ratio);
    set!(gqa, args.gqa);
    if args.prefill_target.is_some() {
        input.prefill_target_secs = args.prefill_target;
    }
    if args.decode_target.is_some() {
        input.decode_target_secs = args.decode_target;
    }
    let r = analyse(&input, &law.coefficients)?;
    match format {
        Format::Json => print_json(&r),
        Format::Csv => print_csv(&[serde_json::json!({
            "eta": r.eta, "eta_prefill": r.eta_prefill, "regime": r.regime.name(),
            "rho_memory_bound": r.rho_memory_bound, "rho_prefill_memory": r.rho_prefill_memory,
            "rho_decode_memory_quadratic": r.rho_decode_memory.map(|x| x.quadratic),
            "rho_decode_memory_linear": r.rho_decode_memory.map(|x| x.linear),
            "layers_prefill": r.layers_prefill, "layers_decode": r.layers_decode, "layers_memory_dense": r.layers_memory_dense,
        })]),
        Format::Table => {
            let i = &r.input;
            println!(
                "π {:.3} TFLOP/s, β {:.1} GB/s, memory budget {}, B {}, S_in {}, S_out {}, b_w {}, b_kv {}; evaluated at d = {}, r = {}, gqa = {}",
                i.peak_flops_per_sec / 1e12,
                i.mem_bandwidth_bytes_per_sec / 1e9,
                bytes(i.memory_budget_bytes),
                i.batch,
                i.prompt_tokens,
                i.generated_tokens,
                i.weight_bytes,
                i.kv_bytes,
                i.d_model,
                i.ffn_ratio,
                i.gqa
            );
            let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("–".to_string(), f);
            let mut t = table(&["quantity", "value"]);
            t.add_row(vec!["F̄_p (FLOPs per token)".into(), opt(r.prefill_flops_budget, &|v| format!("{v:.4e}"))]);
            t.add_row(vec!["M̄_d (bytes per decode step)".into(), opt(r.decode_bytes_budget, &|v| bytes(v))]);
            t.add_row(vec!["η = M̄_d / M".into(), opt(r.eta, &|v| format!("{v:.4}"))]);
            t.add_row(vec!["η_p = F̄_p / M".into(), opt(r.eta_prefill, &|v| format!("{v:.4}"))]);
            t.add_row(vec!["regime".to_string(), r.regime.name().to_string()]);
            t.add_row(vec!["ρ* latency-bound (Thm 5.1)".to_string(), r.rho_latency_bound.to_string()]);
            t.add_row(vec!["ρ* memory-bound (Eq. 9)".into(), opt(r.rho_memory_bound, &|v| format!("{v:.4}"))]);
            t.add_row(vec!["ρ* prefill + memory (Eq. 10)".into(), opt(r.rho_prefill_memory, &|v| format!("{v:.4}"))]);
            if let Some(x) = r.rho_decode_memory {
                t.add_row(vec!["ρ* decode + memory, paper's quadratic (Eq. 11)".into(), format!("{:.4}", x.quadratic)]);
                t.add_row(vec![
                    "ρ* decode + memory, direct linear form".into(),
                    format!("{:.4} (difference {:+.4})", x.linear, x.difference),
                ]);
            }
            t.add_row(vec!["l* prefill".into(), opt(r.layers_prefill, &|v| format!("{v:.2}"))]);
            t.add_row(vec!["l* decode".into(), opt(r.layers_decode, &|v| format!("{v:.2}"))]);
            t.add_row(vec!["l* memory (dense)".into(), format!("{:.2}", r.layers_memory_dense)]);
            for (name, fp) in
                [("prefill (P1)", r.optimum_prefill), ("decode", r.optimum_decode), ("memory (dense)", Some(r.optimum_memory))]
            {
                if let Some(p) = fp {
                    t.add_row(vec![
                        format!("r*, gqa*, l* {name}"),
                        format!(
                            "{:.3}, {:.3}, {:.2} ({} iterations{})",
                            p.ffn_ratio,
                            p.gqa,
                            p.layers,
                            p.iterations,
                            if p.converged { "" } else { ", NOT converged" }
                        ),
                    ]);
                }
            }
            print_table(&t);
            for n in &r.notes {
                println!("note: {n}");
            }
            Ok(())
        }
    }
}

/// For `reproduce`: one frontier on a target.
pub fn frontier_of(t: &Target, lvl: LevelArg, law: &Law, obj: Objective, cands: &[Candidate]) -> (Vec<Point>, Vec<usize>) {
    let ev = Evaluator { target: t, level: level(lvl), efficiency: rooflaw::Efficiency::PEAK, law, objective: obj };
    let points = ev.evaluate(cands);
    let front = pareto_2d(&points);
    (points, front)
}
