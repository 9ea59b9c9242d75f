//! `rooflaw measure`: real latency of an architecture on this machine (`latency`), and this machine's
//! own roofline ceilings (`roofline`), saved as a device that the science crate prices against.

use std::io::Write;

use anyhow::{Context, Result};
use rooflaw::hardware::{parse_devices, Device, Peaks};
use rooflaw_measure::host::Host;
use rooflaw_measure::LatencyRecord;
use serde::Serialize;

use crate::render::{count, pct, print_json, print_table, secs, table, write_file, Format};
use crate::resolve::{Engine, MeasureLatency, MeasureRoofline};

/// `measure latency`: one record per KV depth, printed, and appended to `--out` as JSON lines.
pub fn latency(format: Format, req: &MeasureLatency) -> Result<()> {
    let mut records = Vec::new();
    for plan in &req.plans {
        let record = match &req.engine {
            Engine::Burn(backend) => rooflaw_train::latency::measure(&req.architecture, *backend, req.threads, *plan, &req.place)?,
            Engine::LlamaCpp(engine) => rooflaw_measure::llamacpp::measure(
                engine,
                &req.architecture,
                &req.precision,
                req.threads,
                *plan,
                &req.place.device,
                &req.place.power_mode,
            )?,
            Engine::Vllm(tool) => rooflaw_measure::adapters::vllm_measure(
                tool,
                &req.architecture,
                &req.precision,
                *plan,
                &req.place.device,
                &req.place.power_mode,
            )?,
            Engine::Mlc(script, model) => rooflaw_measure::adapters::mlc_measure(
                script,
                model,
                &req.architecture,
                &req.precision,
                *plan,
                &req.place.device,
                &req.place.power_mode,
            )?,
        };
        if let Some(out) = &req.out {
            // Appended as each depth finishes: a long run that dies keeps what it measured.
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(out)
                .with_context(|| format!("cannot open {}", out.display()))?;
            writeln!(f, "{}", serde_json::to_string(&record)?).with_context(|| format!("cannot write {}", out.display()))?;
        }
        records.push(record);
    }
    match format {
        Format::Json => print_json(&records),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            for r in &records {
                w.serialize(CsvRow::of(r))?;
            }
            w.flush()?;
            Ok(())
        }
        Format::Table => {
            let r0 = &records[0];
            println!(
                "{} ({} parameters) on {} with {} {} ({} thread(s), {}), batch {}, {} prompt + {} generated tokens, {} repeats after {} warm-up",
                req.architecture.name,
                count(req.architecture.params().total),
                r0.host.cpu_model,
                r0.engine_version,
                r0.row.precision,
                r0.threads,
                r0.backend,
                r0.plan.batch,
                r0.plan.prompt,
                r0.plan.generate,
                r0.plan.repeat,
                r0.plan.warmup
            );
            let mut t = table(&[
                "depth",
                "prefill",
                "±cv",
                "prefill tok/s",
                "decode step",
                "±cv (repeats)",
                "decode tok/s",
                "J/token (decode)",
                "reliable",
            ]);
            for r in &records {
                let repeat_cv = rooflaw_measure::Stats::of(r.decode_repeat_medians.clone()).map_or(0.0, |s| s.cv);
                t.add_row(vec![
                    r.plan.depth.to_string(),
                    secs(r.prefill.median),
                    pct(r.prefill.cv),
                    format!("{:.1}", r.plan.prompt as f64 * r.plan.batch as f64 / r.prefill.median),
                    secs(r.decode.median),
                    pct(repeat_cv),
                    format!("{:.1}", r.row.decode_tokens_per_sec),
                    r.energy.decode_joules_per_token.map_or("–".into(), |j| format!("{j:.4}")),
                    if r.reliable { "yes".into() } else { "NO".into() },
                ]);
            }
            print_table(&t);
            for r in &records {
                for w in &r.warnings {
                    println!("depth {}: {w}", r.plan.depth);
                }
            }
            if r0.energy.source.is_none() {
                println!("energy: {}", r0.energy.note);
            }
            if let Some(out) = &req.out {
                println!("appended {} record(s) to {} (fit them with `rooflaw calibrate {}`)", records.len(), out.display(), out.display());
            }
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct CsvRow<'a> {
    device: &'a str,
    power_mode: &'a str,
    engine: &'a str,
    engine_version: &'a str,
    precision: &'a str,
    model: &'a str,
    batch: u64,
    depth: u64,
    prompt_tokens: u64,
    generated_tokens: u64,
    prefill_median_secs: f64,
    prefill_cv: f64,
    decode_median_secs: f64,
    decode_tokens_per_sec: f64,
    prefill_tokens_per_sec: Option<f64>,
    reliable: bool,
    measured_at: &'a str,
}

impl<'a> CsvRow<'a> {
    fn of(r: &'a LatencyRecord) -> Self {
        CsvRow {
            device: &r.row.device,
            power_mode: &r.row.power_mode,
            engine: &r.row.engine,
            engine_version: &r.engine_version,
            precision: &r.row.precision,
            model: &r.row.model,
            batch: r.plan.batch,
            depth: r.plan.depth,
            prompt_tokens: r.plan.prompt,
            generated_tokens: r.plan.generate,
            prefill_median_secs: r.prefill.median,
            prefill_cv: r.prefill.cv,
            decode_median_secs: r.decode.median,
            decode_tokens_per_sec: r.row.decode_tokens_per_sec,
            prefill_tokens_per_sec: r.row.prefill_tokens_per_sec,
            reliable: r.reliable,
            measured_at: &r.measured_at,
        }
    }
}

/// What `measure roofline` found.
#[derive(Debug, Serialize)]
struct Ceilings {
    host: Host,
    threads: usize,
    backend: &'static str,
    stream: rooflaw_measure::stream::StreamRates,
    gemm_n: usize,
    gemm_fp32_flops_per_sec: f64,
    gpu_add_bandwidth_bytes_per_sec: Option<f64>,
    ridge_flops_per_byte: f64,
    saved_device: Option<Device>,
}

/// `measure roofline`.
pub fn roofline(format: Format, req: &MeasureRoofline) -> Result<()> {
    let stream = rooflaw_measure::stream::measure(req.elements, req.threads, req.passes)?;
    let gemm = rooflaw_train::latency::gemm_flops(req.backend, req.gemm_n, req.passes)?;
    // On a GPU backend the device's own memory is what the roofline prices: an add kernel there.
    let gpu_bandwidth = match req.backend {
        rooflaw_train::trainer::Backend::Cpu => None,
        b => Some(rooflaw_train::latency::add_bandwidth(b, req.elements / 2, req.passes)?),
    };
    let beta = gpu_bandwidth.unwrap_or(stream.triad);
    let host = Host::this();
    let saved = match &req.save {
        Some((id, file)) => Some(save(id, file, &host, req, beta, gemm)?),
        None => None,
    };
    let c = Ceilings {
        host,
        threads: req.threads,
        backend: req.backend.name(),
        stream,
        gemm_n: req.gemm_n,
        gemm_fp32_flops_per_sec: gemm,
        gpu_add_bandwidth_bytes_per_sec: gpu_bandwidth,
        ridge_flops_per_byte: gemm / beta,
        saved_device: saved,
    };
    match format {
        Format::Json | Format::Csv => print_json(&c),
        Format::Table => {
            println!("{} ({} logical CPUs), {} thread(s)", c.host.cpu_model, c.host.cpus, c.threads);
            let mut t = table(&["ceiling", "best of passes"]);
            for (name, v) in [("copy", stream.copy), ("scale", stream.scale), ("add", stream.add), ("triad", stream.triad)] {
                t.add_row(vec![format!("memory bandwidth, STREAM {name}"), format!("{:.2} GB/s", v / 1e9)]);
            }
            if let Some(bw) = gpu_bandwidth {
                t.add_row(vec![format!("memory bandwidth, add kernel ({})", c.backend), format!("{:.2} GB/s", bw / 1e9)]);
            }
            t.add_row(vec![format!("FP32 GEMM {n}×{n} ({})", c.backend, n = c.gemm_n), format!("{:.1} GFLOP/s", gemm / 1e9)]);
            t.add_row(vec!["ridge point".to_string(), format!("{:.1} FLOP/byte", c.ridge_flops_per_byte)]);
            print_table(&t);
            if let (Some(d), Some((_, file))) = (&c.saved_device, &req.save) {
                println!(
                    "saved device {} in {} (price against it: `rooflaw --devices {} predict MODEL --device {} --precision fp32`)",
                    d.id,
                    file.display(),
                    file.display(),
                    d.id
                );
            }
            Ok(())
        }
    }
}

/// The ceilings as a device: FP32 peak from the GEMM, bandwidth from the triad (the add kernel on a GPU
/// backend), memory from the host (a GPU's own memory is not read here: edit the file for a discrete GPU).
/// FP16 and BF16 are priced at the FP32 figure (CPU engines convert half-precision weights and compute
/// in FP32); INT8 and FP8 math are not measured, so the device refuses them.
fn save(id: &str, file: &std::path::Path, host: &Host, req: &MeasureRoofline, beta: f64, gemm: f64) -> Result<Device> {
    let mut d = Device::custom(id, gemm, beta, host.memory_total_bytes as f64 * 0.9)?;
    d.name = format!("{} ({} thread(s), measured)", host.cpu_model, req.threads);
    d.vendor = String::new();
    d.kind = "measured".into();
    d.memory_capacity_bytes = host.memory_total_bytes as f64;
    d.usable_memory_note = "90% of installed memory".into();
    for m in ["int8", "fp8"] {
        d.unsupported_precisions.insert(m.into(), format!("{m} math was not measured by `rooflaw measure roofline`"));
    }
    d.source = format!(
        "rooflaw measure roofline on {} ({}), {} thread(s): bandwidth {:.2} GB/s (STREAM triad, {} MiB arrays, on the CPU; an add kernel on a GPU backend), FP32 GEMM {}×{} on {} {:.1} GFLOP/s, {}",
        host.hostname,
        host.os,
        req.threads,
        beta / 1e9,
        (req.elements * 8) >> 20,
        req.gemm_n,
        req.gemm_n,
        req.backend.name(),
        gemm / 1e9,
        rooflaw_measure::record::today()
    );
    let mode = &mut d.power_modes[0];
    mode.peak_flops_per_sec = Some(Peaks { fp32: Some(gemm), fp16: Some(gemm), bf16: Some(gemm), int8: None, fp8: None });
    mode.note = "measured: FP32 GEMM and STREAM triad; FP16/BF16 at the FP32 figure".into();
    let mut devices =
        if file.is_file() { parse_devices(&std::fs::read_to_string(file)?, &file.display().to_string())? } else { Vec::new() };
    devices.retain(|x| x.id != d.id);
    devices.push(d.clone());
    write_file(file, &serde_json::to_string_pretty(&serde_json::json!({ "devices": devices }))?)?;
    Ok(d)
}
