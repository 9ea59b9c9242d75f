//! `rooflaw calibrate`: fit the calibrated latency model to measurements.

use anyhow::Result;
use rooflaw::api::Context;
use rooflaw::calibrate::{evaluate, fit, profiles_to_json, Evaluation};
use serde::Serialize;

use crate::render::{moe_terms, pct, print_csv, print_json, print_table, secs, secs_range, table, write_file, Format};
use crate::resolve::Calibrate;

/// `calibrate`: fits the profiles, writes them when asked, and reports each row's error.
pub fn run(format: Format, ctx: &Context, args: &Calibrate) -> Result<()> {
    if let Some(profiles) = &args.evaluate {
        return print_evaluation(format, &evaluate(&args.rows, &ctx.catalogue, profiles)?);
    }
    let report = fit(&args.rows, &ctx.catalogue, &args.group_by)?;
    if let Some(out) = &args.out {
        // One profile as an object; several (with --group-by) as a list that `predict` picks from.
        write_file(out, &profiles_to_json(&report.profiles)?)?;
    }
    match format {
        Format::Json => print_json(&report),
        Format::Csv => {
            #[derive(Serialize)]
            struct Row<'a> {
                profile: &'a str,
                line: usize,
                model: &'a str,
                device: &'a str,
                phase: &'a str,
                measured_secs: f64,
                predicted_secs: f64,
                loo_predicted_secs: Option<f64>,
            }
            let rows: Vec<Row> = report
                .profiles
                .iter()
                .flat_map(|p| {
                    p.rows.iter().map(move |r| Row {
                        profile: &p.label,
                        line: r.line,
                        model: &r.model,
                        device: &r.device,
                        phase: &r.phase,
                        measured_secs: r.measured_secs,
                        predicted_secs: r.predicted_secs,
                        loo_predicted_secs: r.loo_predicted_secs,
                    })
                })
                .collect();
            print_csv(&rows)
        }
        Format::Table => {
            for p in &report.profiles {
                let e = p.efficiency;
                let interval =
                    |i: Option<rooflaw::calibrate::Interval>| i.map_or("–".into(), |i| format!("×{:.2}–×{:.2}", i.low, i.high));
                println!(
                    "profile {}: η_c {} , η_m {:.3}, t_layer {}, t_token {}{}; {} rows, MAPE {} in-sample, {} leave-one-out (decode {}, prefill {}); 90% interval decode {}, prefill {}",
                    p.label,
                    if p.eta_compute_identified { format!("{:.3}", e.compute) } else { "1 (not identified: no prefill rows)".to_string() },
                    e.memory,
                    secs(e.layer_overhead_secs),
                    secs(e.token_overhead_secs),
                    moe_terms(&e),
                    p.rows_used,
                    pct(p.in_sample_mape),
                    p.loo_mape.map_or("–".into(), pct),
                    p.loo_mape_decode.map_or("–".into(), pct),
                    p.loo_mape_prefill.map_or("–".into(), pct),
                    interval(p.interval_decode),
                    interval(p.interval_prefill)
                );
                let mut t = table(&["line", "model", "device", "phase", "measured", "predicted", "error", "leave-one-out"]);
                for r in &p.rows {
                    t.add_row(vec![
                        r.line.to_string(),
                        r.model.clone(),
                        r.device.clone(),
                        r.phase.clone(),
                        secs(r.measured_secs),
                        secs(r.predicted_secs),
                        pct((r.predicted_secs - r.measured_secs) / r.measured_secs),
                        r.loo_predicted_secs.map_or("–".into(), secs),
                    ]);
                }
                print_table(&t);
            }
            for s in &report.skipped {
                println!("skipped line {} ({}): {}", s.line, s.model, s.reason);
            }
            if let Some(out) = &args.out {
                println!("wrote {} (use it with `rooflaw predict --calibration {}`)", out.display(), out.display());
            }
            Ok(())
        }
    }
}

/// `calibrate --evaluate`: the error per engine, then every row.
fn print_evaluation(format: Format, e: &Evaluation) -> Result<()> {
    match format {
        Format::Json => print_json(e),
        Format::Csv => print_csv(&e.rows),
        Format::Table => {
            let mut t = table(&["engine", "rows", "MAPE", "median", "in 90% interval", "profile", "profile's LOO"]);
            for x in &e.engines {
                t.add_row(vec![
                    x.engine.clone(),
                    x.rows.to_string(),
                    pct(x.mape),
                    pct(x.median_ape),
                    x.interval_coverage.map_or("no interval".into(), pct),
                    x.profile.clone(),
                    x.profile_loo_mape.map_or("–".into(), pct),
                ]);
            }
            print_table(&t);
            let mut t = table(&["line", "engine", "model", "device", "phase", "measured", "predicted", "error", "90% interval"]);
            for r in &e.rows {
                t.add_row(vec![
                    r.line.to_string(),
                    r.engine.clone(),
                    r.model.clone(),
                    r.device.clone(),
                    r.phase.clone(),
                    secs(r.measured_secs),
                    secs(r.predicted_secs),
                    pct((r.predicted_secs - r.measured_secs) / r.measured_secs),
                    r.interval_secs.map_or("–".into(), secs_range),
                ]);
            }
            print_table(&t);
            for s in &e.skipped {
                println!("skipped line {} ({}): {}", s.line, s.model, s.reason);
            }
            Ok(())
        }
    }
}
