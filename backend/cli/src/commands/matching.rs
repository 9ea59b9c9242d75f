//! `rooflaw match`: the best frontier design at or below a reference model's latency.

use anyhow::Result;
use rooflaw::api::{matching, Context, MatchRequest};

use crate::render::{bytes, print_csv, print_json, secs, secs_range, Format};

/// `match`: the best co-designed architecture at the reference's latency (candidates share the
/// reference's vocabulary and tying, so the comparison is about the body).
pub fn run(format: Format, ctx: &Context, req: &MatchRequest) -> Result<()> {
    let matched = matching(req, ctx)?;
    let (m, t) = (&matched.report, &matched.target);
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(m)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("calibration".into(), matched.calibration.clone().into());
                o.insert("latency_interval".into(), serde_json::to_value(matched.latency_interval)?);
            }
            print_json(&v)
        }
        Format::Csv => print_csv(&[serde_json::json!({
            "reference": m.reference.architecture.name,
            "reference_loss": m.reference.prediction.loss,
            "reference_latency_secs": m.reference.latency_secs,
            "best": m.best.as_ref().map(|b| b.architecture.name.clone()),
            "best_loss": m.best.as_ref().map(|b| b.prediction.loss),
            "best_latency_secs": m.best.as_ref().map(|b| b.latency_secs),
            "latency_interval_low": matched.latency_interval.map(|i| i.low),
            "latency_interval_high": matched.latency_interval.map(|i| i.high),
            "loss_difference": m.loss_difference,
            "perplexity_ratio": m.perplexity_ratio,
        })]),
        Format::Table => {
            let range = |x: f64| matched.latency_interval.map_or(String::new(), |i| format!(" [90%: {}]", secs_range(i.around(x))));
            let r = &m.reference;
            println!(
                "reference {}: {} latency {}{} on {} ({}, {} level), predicted loss {:.4} (ppl {:.2}){}",
                r.architecture.name,
                matched.objective.name(),
                secs(r.latency_secs),
                range(r.latency_secs),
                t.device_id,
                t.precision,
                matched.level.name(),
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
                None => println!("no candidate of space {} is as fast and fits in memory", matched.space),
                Some(b) => {
                    let a = &b.architecture;
                    println!(
                        "best co-designed at ≤ that latency: {} ({}), latency {}{}, memory {}, loss {:.4} (ppl {:.2})",
                        a.name,
                        a.summary(),
                        secs(b.latency_secs),
                        range(b.latency_secs),
                        bytes(b.memory_bytes),
                        b.prediction.loss,
                        b.prediction.perplexity
                    );
                    if let (Some(d), Some(ratio)) = (m.loss_difference, m.perplexity_ratio) {
                        println!("predicted gain: loss {d:+.4}, perplexity × {ratio:.4} ({:+.2}%)", (ratio - 1.0) * 100.0);
                    }
                }
            }
            if matched.level == rooflaw::Level::Calibrated {
                println!("calibration: {}", matched.calibration);
            }
            Ok(())
        }
    }
}
