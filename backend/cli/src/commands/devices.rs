//! `rooflaw devices list` and `rooflaw devices show`: the hardware catalogue.

use anyhow::Result;
use rooflaw::api::Context;
use serde::Serialize;

use crate::render::{bytes, print_csv, print_json, print_table, table, Format};

#[derive(Serialize)]
struct DeviceRow<'a> {
    id: &'a str,
    name: &'a str,
    power_mode: &'a str,
    fp16_flops_per_sec: Option<f64>,
    int8_ops_per_sec: Option<f64>,
    fp8_flops_per_sec: Option<f64>,
    mem_bandwidth_bytes_per_sec: Option<f64>,
    memory_capacity_bytes: f64,
    usable_memory_bytes: f64,
    derived: bool,
    to_verify: bool,
}

/// `devices list`.
pub fn list(format: Format, ctx: &Context) -> Result<()> {
    let mut rows = Vec::new();
    for d in ctx.catalogue.devices() {
        let m = d.power_mode(None)?;
        let peaks = m.peak_flops_per_sec.unwrap_or_default();
        rows.push(DeviceRow {
            id: &d.id,
            name: &d.name,
            power_mode: &m.name,
            fp16_flops_per_sec: peaks.fp16,
            int8_ops_per_sec: peaks.int8,
            fp8_flops_per_sec: peaks.fp8,
            mem_bandwidth_bytes_per_sec: m.mem_bandwidth_bytes_per_sec,
            memory_capacity_bytes: d.memory_capacity_bytes,
            usable_memory_bytes: d.usable_memory_bytes,
            derived: m.derived,
            to_verify: m.to_verify,
        });
    }
    match format {
        Format::Json => print_json(&rows),
        Format::Csv => print_csv(&rows),
        Format::Table => {
            let tera = |v: Option<f64>| v.map_or("–".to_string(), |x| format!("{:.1}", x / 1e12));
            let mut t = table(&["id", "mode", "FP16 TFLOP/s", "INT8 TOP/s", "FP8", "GB/s", "memory", "usable", "flags"]);
            for r in &rows {
                let flags = [(r.derived, "derived"), (r.to_verify, "to verify")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, s)| *s)
                    .collect::<Vec<_>>()
                    .join(", ");
                t.add_row(vec![
                    r.id.to_string(),
                    r.power_mode.to_string(),
                    tera(r.fp16_flops_per_sec),
                    tera(r.int8_ops_per_sec),
                    tera(r.fp8_flops_per_sec),
                    r.mem_bandwidth_bytes_per_sec.map_or("–".into(), |b| format!("{:.1}", b / 1e9)),
                    bytes(r.memory_capacity_bytes),
                    bytes(r.usable_memory_bytes),
                    flags,
                ]);
            }
            print_table(&t);
            Ok(())
        }
    }
}

/// `devices show ID`.
pub fn show(format: Format, ctx: &Context, id: &str) -> Result<()> {
    let d = ctx.catalogue.get(id).map_err(|e| anyhow::anyhow!("{e} (see `rooflaw devices list`; add a device with --devices FILE)"))?;
    match format {
        Format::Json => print_json(&serde_json::json!({ "devices": [d] })),
        Format::Csv => {
            #[derive(Serialize)]
            struct ModeRow<'a> {
                device: &'a str,
                power_mode: &'a str,
                power_watts: Option<f64>,
                gpu_clock_hz: Option<f64>,
                fp32: Option<f64>,
                fp16: Option<f64>,
                bf16: Option<f64>,
                int8: Option<f64>,
                fp8: Option<f64>,
                mem_bandwidth_bytes_per_sec: Option<f64>,
                derived: bool,
                to_verify: bool,
            }
            let rows: Vec<ModeRow> = d
                .power_modes
                .iter()
                .map(|m| {
                    let p = m.peak_flops_per_sec.unwrap_or_default();
                    ModeRow {
                        device: &d.id,
                        power_mode: &m.name,
                        power_watts: m.power_watts,
                        gpu_clock_hz: m.gpu_clock_hz,
                        fp32: p.fp32,
                        fp16: p.fp16,
                        bf16: p.bf16,
                        int8: p.int8,
                        fp8: p.fp8,
                        mem_bandwidth_bytes_per_sec: m.mem_bandwidth_bytes_per_sec,
                        derived: m.derived,
                        to_verify: m.to_verify,
                    }
                })
                .collect();
            print_csv(&rows)
        }
        Format::Table => {
            println!("{} ({}), compute capability {}", d.name, d.id, d.compute_capability.as_deref().unwrap_or("–"));
            println!(
                "memory {} installed, {} usable for a model: {}",
                bytes(d.memory_capacity_bytes),
                bytes(d.usable_memory_bytes),
                d.usable_memory_note
            );
            for (p, why) in &d.unsupported_precisions {
                println!("no {p}: {why}");
            }
            println!("source: {}", d.source);
            let tera = |v: Option<f64>| v.map_or("–".to_string(), |x| format!("{:.2}", x / 1e12));
            let mut t = table(&["mode", "W", "GPU MHz", "FP32", "FP16", "BF16", "INT8", "FP8 (T/s)", "GB/s", "note"]);
            for m in &d.power_modes {
                let p = m.peak_flops_per_sec.unwrap_or_default();
                let mut note = m.note.clone();
                if m.to_verify {
                    note = format!("[to verify] {note}");
                }
                t.add_row(vec![
                    m.name.clone(),
                    m.power_watts.map_or("–".into(), |w| format!("{w:.0}")),
                    m.gpu_clock_hz.map_or("–".into(), |c| format!("{:.0}", c / 1e6)),
                    tera(p.fp32),
                    tera(p.fp16),
                    tera(p.bf16),
                    tera(p.int8),
                    tera(p.fp8),
                    m.mem_bandwidth_bytes_per_sec.map_or("–".into(), |b| format!("{:.1}", b / 1e9)),
                    note,
                ]);
            }
            print_table(&t);
            Ok(())
        }
    }
}
