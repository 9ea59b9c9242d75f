//! The `rooflaw` command line: architectures, devices, latency prediction, roofline plots and
//! calibration, over the science crate. Errors are one line with a fix, exit code 2.

mod cli;
mod output;
mod plot;
mod reproduce;
mod search;
mod serve;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::Serialize;

use cli::{ArchCommand, CalibrateArgs, Cli, Command, DevicesCommand, Format, GroupArg, LevelArg, ModelArgs, PredictArgs, TargetArgs};
use output::{bytes, count, pct, print_csv, print_json, print_table, secs, table};
use rooflaw::calibrate::{builtin_calibration, fit, parse_measurements, select_profile, CalibrationProfile, GroupKey};
use rooflaw::cost::Phase;
use rooflaw::hardware::parse_devices;
use rooflaw::models::{find_model, reference_models};
use rooflaw::precision::DType;
use rooflaw::report::predict;
use rooflaw::roofline::breakdown;
use rooflaw::{hf, Architecture, ArchitectureSpec, Catalogue, Level, Precision, Target, Workload};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the context chain joined with ": ".
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {} (check the path)", path.display()))
}

fn catalogue(cli: &Cli) -> Result<Catalogue> {
    let cat = Catalogue::default();
    Ok(match &cli.devices {
        None => cat,
        Some(p) => cat.with(parse_devices(&read(p, "devices file")?, &p.display().to_string())?),
    })
}

fn load_architecture(m: &ModelArgs) -> Result<Architecture> {
    if let Some(p) = &m.hf_config {
        return Ok(hf::from_hf_config(&read(p, "config.json")?)?);
    }
    if let Some(p) = &m.spec {
        return Ok(ArchitectureSpec::from_json(&read(p, "architecture file")?)?);
    }
    match &m.model {
        Some(name) => Ok(find_model(name)?.architecture()?),
        None => bail!("no architecture given; name a model (see `rooflaw arch list`) or pass --hf-config FILE"),
    }
}

fn precision(t: &TargetArgs) -> Result<Precision> {
    let mut p = Precision::preset(&t.precision)?;
    if let Some(w) = &t.weights {
        p.weights = DType::parse("weights", w)?;
    }
    if let Some(a) = &t.activations {
        p.activations = DType::parse("activations", a)?;
    }
    if let Some(k) = &t.kv {
        p.kv = DType::parse("kv", k)?;
    }
    Ok(p)
}

fn target(cat: &Catalogue, t: &TargetArgs) -> Result<Target> {
    let device = cat.get(&t.device)?;
    let workload = Workload::new(t.batch, t.prompt, t.generate)?;
    Ok(Target::new(device, t.power_mode.as_deref(), workload, precision(t)?)?)
}

/// The calibration for the calibrated level: the built-in profile, or the profile of a file (one profile,
/// or the list `calibrate --group-by … --out` writes) that matches the target's device and power mode.
fn calibration(t: &TargetArgs, target: &Target) -> Result<CalibrationProfile> {
    match &t.calibration {
        None => Ok(builtin_calibration().clone()),
        Some(p) => {
            let text = read(p, "calibration file")?;
            let hint =
                || format!("{} is not a calibration profile (write one with `rooflaw calibrate FILE --out PROFILE.json`)", p.display());
            let profiles: Vec<CalibrationProfile> = match serde_json::from_str::<CalibrationProfile>(&text) {
                Ok(one) => vec![one],
                Err(_) => serde_json::from_str(&text).with_context(hint)?,
            };
            let profile = select_profile(&profiles, target).cloned().with_context(hint)?;
            profile.efficiency.validate()?;
            Ok(profile)
        }
    }
}

fn level(l: LevelArg) -> Level {
    match l {
        LevelArg::Paper => Level::Paper,
        LevelArg::Roofline => Level::Roofline,
        LevelArg::Calibrated => Level::Calibrated,
    }
}

fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Arch(ArchCommand::List) => arch_list(cli.format),
        Command::Arch(ArchCommand::Show(m)) => arch_show(cli.format, &load_architecture(m)?),
        Command::Devices(DevicesCommand::List) => devices_list(cli.format, &catalogue(cli)?),
        Command::Devices(DevicesCommand::Show { id }) => devices_show(cli.format, &catalogue(cli)?, id),
        Command::Predict(args) => predict_cmd(cli.format, &catalogue(cli)?, args),
        Command::RooflinePlot(args) => {
            let cat = catalogue(cli)?;
            let t = target(&cat, &args.target)?;
            let mut archs = args.models.iter().map(|m| Ok(find_model(m)?.architecture()?)).collect::<Result<Vec<_>>>()?;
            if let Some(p) = &args.hf_config {
                archs.push(hf::from_hf_config(&read(p, "config.json")?)?);
            }
            let cal = calibration(&args.target, &t)?;
            plot::roofline_plot(&archs, &t, level(args.level), &cal.efficiency, &args.out)?;
            println!("wrote {}", args.out.display());
            Ok(())
        }
        Command::Calibrate(args) => calibrate_cmd(cli.format, &catalogue(cli)?, args),
        Command::Law(args) => search::law_cmd(cli.format, args),
        Command::Fit(args) => search::fit_cmd(cli.format, args),
        Command::Frontier(args) => search::frontier_cmd(cli.format, &catalogue(cli)?, args),
        Command::Match(args) => search::match_cmd(cli.format, &catalogue(cli)?, args),
        Command::Theory(args) => search::theory_cmd(cli.format, &catalogue(cli)?, args),
        Command::Reproduce(args) => reproduce::reproduce_cmd(&catalogue(cli)?, args),
        Command::Serve(args) => serve::serve(args),
    }
}

#[derive(Serialize)]
struct ModelRow<'a> {
    id: &'a str,
    name: &'a str,
    total_params: u64,
    active_params: u64,
    published_params: u64,
    layers: u64,
    d_model: u64,
    heads: u64,
    kv_heads: u64,
    experts: u64,
    active_experts: u64,
    hf_id: &'a str,
    source: &'a str,
}

fn arch_list(format: Format) -> Result<()> {
    let mut rows = Vec::new();
    for m in reference_models() {
        let a = m.architecture()?;
        let p = a.params();
        rows.push((m, a, p));
    }
    let records: Vec<ModelRow> = rows
        .iter()
        .map(|(m, a, p)| ModelRow {
            id: &m.id,
            name: &a.name,
            total_params: p.total,
            active_params: p.active,
            published_params: m.published_params,
            layers: a.layers,
            d_model: a.d_model,
            heads: a.heads,
            kv_heads: a.kv_heads,
            experts: a.experts,
            active_experts: a.active_experts,
            hf_id: &m.hf_id,
            source: &m.source,
        })
        .collect();
    match format {
        Format::Json => print_json(&records),
        Format::Csv => print_csv(&records),
        Format::Table => {
            let mut t = table(&["id", "parameters", "active", "l", "d", "heads/kv", "E/K", "published as"]);
            for (m, a, p) in &rows {
                t.add_row(vec![
                    m.id.clone(),
                    count(p.total),
                    count(p.active),
                    a.layers.to_string(),
                    a.d_model.to_string(),
                    format!("{}/{}", a.heads, a.kv_heads),
                    format!("{}/{}", a.experts, a.active_experts),
                    m.published_note.clone(),
                ]);
            }
            print_table(&t);
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct ArchReport<'a> {
    architecture: &'a Architecture,
    params: rooflaw::ParamBreakdown,
    gqa: f64,
    ffn_ratio: f64,
    rho: f64,
}

#[derive(Serialize)]
struct ComponentRow {
    component: &'static str,
    parameters: u64,
}

fn arch_show(format: Format, a: &Architecture) -> Result<()> {
    let p = a.params();
    let components = [
        ("embedding", p.embedding),
        ("attention", p.attention),
        ("ffn_total", p.ffn_total),
        ("ffn_active", p.ffn_active),
        ("router", p.router),
        ("norms", p.norms),
        ("lm_head", p.lm_head),
        ("total", p.total),
        ("active", p.active),
        ("non_embedding_active", p.non_embedding_active),
    ];
    match format {
        Format::Json => print_json(&ArchReport { architecture: a, params: p, gqa: a.gqa(), ffn_ratio: a.ffn_ratio(), rho: a.rho() }),
        Format::Csv => print_csv(&components.map(|(component, parameters)| ComponentRow { component, parameters })),
        Format::Table => {
            println!("{}", a.name);
            println!(
                "  layers {}, d_model {}, heads {} / kv_heads {} (gqa {}), head_dim {}, expert FFN {} (r = {:.3}), experts {} / active {} (ρ = {:.3}), vocab {}, {}, qk_norm {:?}, attention bias {:?}",
                a.layers,
                a.d_model,
                a.heads,
                a.kv_heads,
                a.gqa(),
                a.head_dim,
                a.intermediate_size,
                a.ffn_ratio(),
                a.experts,
                a.active_experts,
                a.rho(),
                a.vocab_size,
                if a.tied_embeddings { "tied embeddings" } else { "untied embeddings" },
                a.qk_norm,
                a.attention_bias
            );
            let mut t = table(&["component", "parameters"]);
            for (c, n) in components {
                t.add_row(vec![c.to_string(), count(n)]);
            }
            print_table(&t);
            Ok(())
        }
    }
}

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

fn devices_list(format: Format, cat: &Catalogue) -> Result<()> {
    let mut rows = Vec::new();
    for d in cat.devices() {
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

fn devices_show(format: Format, cat: &Catalogue, id: &str) -> Result<()> {
    let d = cat.get(id)?;
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

#[derive(Serialize)]
struct BreakdownRow<'a> {
    phase: &'static str,
    operator: &'a str,
    repeats: f64,
    flops: f64,
    weight_bytes: f64,
    activation_bytes: f64,
    kv_read_bytes: f64,
    kv_write_bytes: f64,
    bytes: f64,
    intensity_flops_per_byte: f64,
    bound: &'static str,
    time_secs: f64,
}

fn predict_cmd(format: Format, cat: &Catalogue, args: &PredictArgs) -> Result<()> {
    let arch = load_architecture(&args.model)?;
    let t = target(cat, &args.target)?;
    let cal = calibration(&args.target, &t)?;
    if let Some(l) = args.breakdown {
        return print_breakdown(format, &arch, &t, level(l), &cal);
    }
    let p = predict(&arch, &t, &cal);
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
                "calibration: {}: η_c {:.3}, η_m {:.3}, {} per layer, {} per pass; error on its rows {} in-sample, {} leave-one-out",
                p.calibration.label,
                e.compute,
                e.memory,
                secs(e.layer_overhead_secs),
                secs(e.token_overhead_secs),
                pct(p.calibration.in_sample_mape),
                p.calibration.loo_mape.map_or("–".into(), pct)
            );
            println!("note: paper and roofline levels are bounds at peak hardware, not measurements; the calibrated level is fitted to measurements and carries the error above.");
            Ok(())
        }
    }
}

fn print_breakdown(format: Format, arch: &Architecture, t: &Target, level: Level, cal: &CalibrationProfile) -> Result<()> {
    let mut rows = breakdown(arch, t, level, &cal.efficiency, Phase::Prefill);
    rows.extend(breakdown(arch, t, level, &cal.efficiency, Phase::Decode));
    let records: Vec<BreakdownRow> = rows
        .iter()
        .map(|r| BreakdownRow {
            phase: match r.phase {
                Phase::Prefill => "prefill",
                Phase::Decode => "decode",
            },
            operator: r.name,
            repeats: r.repeats,
            flops: r.cost.flops,
            weight_bytes: r.cost.weight_bytes,
            activation_bytes: r.cost.activation_bytes,
            kv_read_bytes: r.cost.kv_read_bytes,
            kv_write_bytes: r.cost.kv_write_bytes,
            bytes: r.bytes,
            intensity_flops_per_byte: r.intensity_flops_per_byte,
            bound: match r.bound {
                rooflaw::roofline::Bound::Compute => "compute",
                rooflaw::roofline::Bound::Memory => "memory",
            },
            time_secs: r.time_secs,
        })
        .collect();
    match format {
        Format::Json => print_json(&records),
        Format::Csv => print_csv(&records),
        Format::Table => {
            println!(
                "{} on {} ({}), {}, {} level; decode rows are summed over all {} steps; ridge point {:.1} FLOP/byte",
                arch.name,
                t.device_id,
                t.power_mode,
                t.precision,
                level.name(),
                t.workload.generated_tokens,
                t.ridge_flops_per_byte()
            );
            let mut tb =
                table(&["phase", "operator", "×", "GFLOP", "weights", "activations", "KV read", "KV write", "FLOP/B", "bound", "time"]);
            for r in &records {
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

fn calibrate_cmd(format: Format, cat: &Catalogue, args: &CalibrateArgs) -> Result<()> {
    let text = read(&args.measurements, "measurements file")?;
    let rows = parse_measurements(&text, &args.measurements.display().to_string())?;
    let keys: Vec<GroupKey> = args
        .group_by
        .iter()
        .map(|g| match g {
            GroupArg::Device => GroupKey::Device,
            GroupArg::PowerMode => GroupKey::PowerMode,
            GroupArg::Engine => GroupKey::Engine,
            GroupArg::Precision => GroupKey::Precision,
        })
        .collect();
    let report = fit(&rows, cat, &keys)?;
    if let Some(out) = &args.out {
        // One profile as an object; several (with --group-by) as a list that `predict` picks from.
        let json = if report.profiles.len() == 1 {
            serde_json::to_string_pretty(&report.profiles[0])
        } else {
            serde_json::to_string_pretty(&report.profiles)
        }
        .context("cannot encode the profiles")?;
        std::fs::write(out, json)
            .with_context(|| format!("cannot write {} (check the directory exists and is writable)", out.display()))?;
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
                println!(
                    "profile {}: η_c {} , η_m {:.3}, t_layer {}, t_token {}; {} rows, MAPE {} in-sample, {} leave-one-out",
                    p.label,
                    if p.eta_compute_identified { format!("{:.3}", e.compute) } else { "1 (not identified: no prefill rows)".to_string() },
                    e.memory,
                    secs(e.layer_overhead_secs),
                    secs(e.token_overhead_secs),
                    p.rows_used,
                    pct(p.in_sample_mape),
                    p.loo_mape.map_or("–".into(), pct)
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
