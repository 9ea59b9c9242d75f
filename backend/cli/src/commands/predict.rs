//! `rooflaw predict`: latency at every level, the closed forms and memory; or the per-operator
//! breakdown at one level.

use anyhow::Result;
use rooflaw::api::{breakdown_of, predict, Breakdown, Context, PredictRequest};
use rooflaw::Level;
use serde::Serialize;

use crate::render::{bytes, moe_terms, pct, print_csv, print_json, print_table, secs, secs_range, table, Format};

#[derive(Serialize)]
struct PredictRow<'a> {
    model: &'a str,
    device: &'a str,
    power_mode: &'a str,
    precision: &'a str,
    batch: u64,
    prompt_tokens: u64,
    generated_tokens: u64,
    level: &'static str,
    prefill_secs: f64,
    decode_secs: f64,
    decode_per_token_secs: f64,
    total_secs: f64,
    memory_total_bytes: f64,
    fits_in_memory: bool,
}

/// `predict`: the summary at every level, or the per-operator breakdown at one.
pub fn run(format: Format, ctx: &Context, req: &PredictRequest, breakdown: Option<Level>) -> Result<()> {
    if let Some(level) = breakdown {
        return print_breakdown(format, &breakdown_of(req, level, ctx)?);
    }
    let p = predict(req, ctx)?;
    match format {
        Format::Json => print_json(&p),
        Format::Csv => {
            let rows: Vec<PredictRow> =
                [("paper", p.latency.paper), ("roofline", p.latency.roofline), ("calibrated", p.latency.calibrated)]
                    .into_iter()
                    .map(|(level, l)| PredictRow {
                        model: &p.model,
                        device: &p.device,
                        power_mode: &p.power_mode,
                        precision: &p.precision,
                        batch: p.workload.batch,
                        prompt_tokens: p.workload.prompt_tokens,
                        generated_tokens: p.workload.generated_tokens,
                        level,
                        prefill_secs: l.prefill_secs,
                        decode_secs: l.decode_secs,
                        decode_per_token_secs: l.decode_per_token_secs,
                        total_secs: l.total_secs,
                        memory_total_bytes: p.memory.total_bytes,
                        fits_in_memory: p.fits_in_memory,
                    })
                    .collect();
            print_csv(&rows)
        }
        Format::Table => {
            let w = p.workload;
            println!(
                "{} on {} ({}), {}, batch {}, {} prompt + {} generated tokens",
                p.model, p.device, p.power_mode, p.precision, w.batch, w.prompt_tokens, w.generated_tokens
            );
            let mut tb = table(&["level", "prefill", "decode", "per token", "total"]);
            for (name, l) in [("paper", p.latency.paper), ("roofline", p.latency.roofline), ("calibrated", p.latency.calibrated)] {
                tb.add_row(vec![
                    name.to_string(),
                    secs(l.prefill_secs),
                    secs(l.decode_secs),
                    secs(l.decode_per_token_secs),
                    secs(l.total_secs),
                ]);
            }
            let iv = p.calibrated_interval;
            let range = |r: Option<[f64; 2]>| r.map_or("no rows".to_string(), secs_range);
            tb.add_row(vec![
                format!("calibrated, {:.0}% interval", iv.level * 100.0),
                range(iv.prefill_secs),
                range(iv.decode_secs),
                range(iv.decode_per_token_secs),
                range(iv.total_secs),
            ]);
            let cf = p.closed_form;
            let per_token = if w.generated_tokens > 0 { cf.decode_secs / w.generated_tokens as f64 } else { 0.0 };
            tb.add_row(vec![
                "closed form (Eq. 29/37)".to_string(),
                secs(cf.prefill_secs),
                secs(cf.decode_secs),
                secs(per_token),
                secs(cf.prefill_secs + cf.decode_secs),
            ]);
            print_table(&tb);
            let m = p.memory;
            println!(
                "memory: weights {} + KV cache {} + activations {} = {} of {} usable ({}); Eq. 42 weights {}",
                bytes(m.weight_bytes),
                bytes(m.kv_cache_bytes),
                bytes(m.activation_bytes),
                bytes(m.total_bytes),
                bytes(p.usable_memory_bytes),
                if p.fits_in_memory { "fits" } else { "DOES NOT FIT" },
                bytes(cf.weight_bytes)
            );
            let e = p.calibration.efficiency;
            println!(
                "calibration: {}: η_c {:.3}, η_m {:.3}, {} per layer, {} per pass{}; error on its rows {} in-sample, {} leave-one-out",
                p.calibration.label,
                e.compute,
                e.memory,
                secs(e.layer_overhead_secs),
                secs(e.token_overhead_secs),
                moe_terms(&e),
                pct(p.calibration.in_sample_mape),
                p.calibration.loo_mape.map_or("–".into(), pct)
            );
            println!("note: paper and roofline levels are bounds at peak hardware, not measurements; the calibrated level is fitted to measurements and carries the error above.");
            Ok(())
        }
    }
}

fn print_breakdown(format: Format, b: &Breakdown) -> Result<()> {
    let (records, t) = (&b.rows, &b.target);
    match format {
        Format::Json => print_json(records),
        Format::Csv => print_csv(records),
        Format::Table => {
            println!(
                "{} on {} ({}), {}, {} level; decode rows are summed over all {} steps; ridge point {:.1} FLOP/byte",
                b.model,
                t.device_id,
                t.power_mode,
                t.precision,
                b.level.name(),
                t.workload.generated_tokens,
                t.ridge_flops_per_byte()
            );
            let mut tb =
                table(&["phase", "operator", "×", "GFLOP", "weights", "activations", "KV read", "KV write", "FLOP/B", "bound", "time"]);
            for r in records {
                tb.add_row(vec![
                    r.phase.to_string(),
                    r.operator.to_string(),
                    format!("{}", r.repeats),
                    format!("{:.3}", r.flops / 1e9),
                    bytes(r.weight_bytes),
                    bytes(r.activation_bytes),
                    bytes(r.kv_read_bytes),
                    bytes(r.kv_write_bytes),
                    format!("{:.1}", r.intensity_flops_per_byte),
                    r.bound.to_string(),
                    secs(r.time_secs),
                ]);
            }
            print_table(&tb);
            Ok(())
        }
    }
}
