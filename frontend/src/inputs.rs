//! The URL query read into the science crate's inputs: device, target, architecture, space, level and
//! objective. Defaults come from `rooflaw::api::defaults`; a value that does not parse is an error shown
//! beside its field, never silently replaced.

use rooflaw::api::{defaults, ModelRequest, TargetRequest};
use rooflaw::arch::{AttentionBias, QkNorm};
use rooflaw::calibrate::{builtin_for_engine, CalibrationProfile, DEFAULT_ENGINE};
use rooflaw::frontier::Objective;
use rooflaw::hardware::{builtin_devices, Device};
use rooflaw::hf::from_hf_config;
use rooflaw::space::{find_space, Candidate};
use rooflaw::{Architecture, ArchitectureSpec, Level, Target};

use crate::state::Query;

/// Most Latin-hypercube draws the site evaluates (to keep the page responsive).
pub const MAX_SAMPLES: usize = 200_000;

/// Draws of the wide space on the Match page (fewer than the Explorer's, for responsiveness).
pub const MATCH_SAMPLES: usize = 20_000;

/// A number from the query, or `default` when the key is absent; an unparsable value is an error
/// naming the field.
pub fn number<T: std::str::FromStr + ToString>(q: &Query, key: &str, label: &str, default: T) -> Result<T, String> {
    match q.opt(key) {
        None => Ok(default),
        Some(v) => v.trim().parse::<T>().map_err(|_| format!("{label}: '{v}' is not a valid number; enter e.g. {}", default.to_string())),
    }
}

/// A positive number from the query (custom device figures).
fn positive(q: &Query, key: &str, label: &str, default: f64) -> Result<f64, String> {
    let v = number(q, key, label, default)?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{label}: '{v}' is not a positive number; enter e.g. {default}"))
    }
}

/// Default custom-device figures: FP16 TFLOP/s, GB/s, usable GB.
pub const CUSTOM_DEFAULTS: (f64, f64, f64) = (40.0, 200.0, 16.0);

/// The device the query names: a catalogue device, or `custom` with `pi` (TFLOP/s), `bw` (GB/s) and
/// `mem` (usable GB).
pub fn device_of(q: &Query) -> Result<Device, String> {
    let id = q.get("device", defaults::DEVICE);
    if id == "custom" {
        let (pi, bw, mem) = CUSTOM_DEFAULTS;
        return Device::custom(
            "custom",
            positive(q, "pi", "peak compute (TFLOP/s)", pi)? * 1e12,
            positive(q, "bw", "bandwidth (GB/s)", bw)? * 1e9,
            positive(q, "mem", "usable memory (GB)", mem)? * 1e9,
        )
        .map_err(|e| e.to_string());
    }
    builtin_devices().iter().find(|d| d.id == id).cloned().ok_or_else(|| format!("unknown device '{id}'; pick one from the list"))
}

/// The target request the query describes (the device is resolved by [`target_of`]).
pub fn target_request(q: &Query) -> Result<TargetRequest, String> {
    let d = TargetRequest::default();
    Ok(TargetRequest {
        device: q.get("device", &d.device),
        power_mode: q.opt("mode").map(str::to_string),
        batch: number(q, "batch", "batch", d.batch)?,
        prompt_tokens: number(q, "prompt", "prompt_tokens", d.prompt_tokens)?,
        generated_tokens: number(q, "generate", "generated_tokens", d.generated_tokens)?,
        precision: q.get("precision", &d.precision),
        engine: q.opt("engine").map(str::to_string),
        ..d
    })
}

/// The built-in calibration of the engine the query names (the default engine when it names none).
pub fn calibration_of(q: &Query) -> Result<CalibrationProfile, String> {
    builtin_for_engine(&q.get("engine", DEFAULT_ENGINE)).map_err(|e| e.to_string())
}

/// Device, power mode, workload and precision from the query, validated by the science crate.
pub fn target_of(q: &Query) -> Result<Target, String> {
    let device = device_of(q)?;
    let r = target_request(q)?;
    let (w, p) = (r.workload().map_err(|e| e.to_string())?, r.precision().map_err(|e| e.to_string())?);
    Target::new(&device, r.power_mode.as_deref(), w, p).map_err(|e| e.to_string())
}

/// The latency level (`level`).
pub fn level_of(q: &Query) -> Result<Level, String> {
    q.opt("level").map_or(Ok(defaults::LEVEL), |v| Level::parse(v).map_err(|e| e.to_string()))
}

/// The objective (`objective`).
pub fn objective_of(q: &Query) -> Result<Objective, String> {
    q.opt("objective").map_or(Ok(defaults::OBJECTIVE), |v| Objective::parse(v).map_err(|e| e.to_string()))
}

/// Candidates of a built-in space (at most [`MAX_SAMPLES`] draws).
pub fn space_candidates(space: &str, samples: usize, seed: u64) -> Result<Vec<Candidate>, String> {
    if samples > MAX_SAMPLES {
        return Err(format!("samples: {samples} is more than {MAX_SAMPLES}; use e.g. {}", defaults::SAMPLES));
    }
    let (_, cands) = find_space(space).and_then(|s| s.candidates(samples, seed)).map_err(|e| e.to_string())?;
    Ok(cands)
}

/// Form keys and the spec field each one sets.
pub const FORM: [(&str, &str); 9] = [
    ("f_layers", "layers"),
    ("f_d", "d_model"),
    ("f_heads", "heads"),
    ("f_kv", "kv_heads"),
    ("f_hd", "head_dim"),
    ("f_inter", "intermediate_size"),
    ("f_e", "experts"),
    ("f_k", "active_experts"),
    ("f_vocab", "vocab_size"),
];

/// The architecture the query describes, or the science crate's error.
pub fn arch_of(q: &Query) -> Result<Architecture, String> {
    match q.get("src", if q.opt("spec").is_some() { "spec" } else { "preset" }).as_str() {
        "hf" => from_hf_config(&q.get("hf", "")).map_err(|e| e.to_string()),
        "spec" => ArchitectureSpec::from_json(&q.get("spec", "")).map_err(|e| e.to_string()),
        "form" => {
            let mut spec = ArchitectureSpec::default();
            for (key, name) in FORM {
                let v = q.get(key, "");
                let v = v.trim();
                if v.is_empty() && matches!(name, "head_dim" | "kv_heads") {
                    continue;
                }
                let n: u64 = v.parse().map_err(|_| format!("{name}: '{v}' is not a whole number; enter e.g. 16"))?;
                match name {
                    "layers" => spec.layers = n,
                    "d_model" => spec.d_model = n,
                    "heads" => spec.heads = n,
                    "kv_heads" => spec.kv_heads = Some(n),
                    "head_dim" => spec.head_dim = Some(n),
                    "intermediate_size" => spec.intermediate_size = Some(n),
                    "experts" => spec.experts = Some(n),
                    "active_experts" => spec.active_experts = Some(n),
                    _ => spec.vocab_size = n,
                }
            }
            spec.tied_embeddings = q.get("f_tied", "1") == "1";
            spec.qk_norm = match q.get("f_qk", "none").as_str() {
                "per_head" => QkNorm::PerHead,
                "full" => QkNorm::Full,
                _ => QkNorm::None,
            };
            spec.attention_bias = match q.get("f_bias", "none").as_str() {
                "qkv" => AttentionBias::Qkv,
                "all" => AttentionBias::All,
                _ => AttentionBias::None,
            };
            spec.validate().map_err(|e| e.to_string())
        }
        _ => ModelRequest::named(&q.get("model", defaults::MODEL)).architecture().map_err(|e| e.to_string()),
    }
}
