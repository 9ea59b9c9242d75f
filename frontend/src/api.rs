//! The JavaScript API for pages that want numbers without the UI (exported with wasm-bindgen):
//! `predict(requestJson)` and `frontier(requestJson)`, each returning a JSON string. Errors are thrown as
//! JavaScript errors carrying the science crate's message.

use rooflaw::calibrate::builtin_calibration;
use rooflaw::frontier::{pareto_2d, Evaluator, Objective};
use rooflaw::hardware::builtin_devices;
use rooflaw::hf::from_hf_config;
use rooflaw::law::Law;
use rooflaw::models::find_model;
use rooflaw::{Architecture, ArchitectureSpec, Level, Precision, Target, Workload};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::pages::explorer::space_candidates;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetRequest {
    #[serde(default = "default_device")]
    device: String,
    #[serde(default)]
    power_mode: Option<String>,
    #[serde(default = "one")]
    batch: u64,
    #[serde(default = "prompt")]
    prompt_tokens: u64,
    #[serde(default = "generate")]
    generated_tokens: u64,
    #[serde(default = "fp16")]
    precision: String,
}

fn default_device() -> String {
    "jetson-agx-orin-64gb".into()
}
fn one() -> u64 {
    1
}
fn prompt() -> u64 {
    1024
}
fn generate() -> u64 {
    16
}
fn fp16() -> String {
    "fp16".into()
}

fn target(r: &TargetRequest) -> Result<Target, JsError> {
    let device =
        builtin_devices().iter().find(|d| d.id == r.device).ok_or_else(|| JsError::new(&format!("unknown device '{}'", r.device)))?;
    let w = Workload::new(r.batch, r.prompt_tokens, r.generated_tokens).map_err(|e| JsError::new(&e.to_string()))?;
    let p = Precision::preset(&r.precision).map_err(|e| JsError::new(&e.to_string()))?;
    Target::new(device, r.power_mode.as_deref(), w, p).map_err(|e| JsError::new(&e.to_string()))
}

#[derive(Deserialize)]
struct PredictRequest {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    spec: Option<ArchitectureSpec>,
    #[serde(default)]
    hf_config: Option<String>,
    #[serde(flatten)]
    target: TargetRequest,
}

fn architecture(r: &PredictRequest) -> Result<Architecture, JsError> {
    let a = match (&r.spec, &r.hf_config, &r.model) {
        (Some(s), _, _) => s.validate(),
        (None, Some(cfg), _) => from_hf_config(cfg),
        (None, None, Some(m)) => find_model(m).and_then(|m| m.architecture()),
        (None, None, None) => return Err(JsError::new("give model, spec or hf_config")),
    };
    a.map_err(|e| JsError::new(&e.to_string()))
}

/// `predict({model | spec | hf_config, device, power_mode, batch, prompt_tokens, generated_tokens,
/// precision})` → the CLI's `predict --format json` report plus `loss` (published law).
#[wasm_bindgen]
pub fn predict(request: &str) -> Result<String, JsError> {
    let r: PredictRequest = serde_json::from_str(request).map_err(|e| JsError::new(&format!("request: {e}")))?;
    let a = architecture(&r)?;
    let t = target(&r.target)?;
    let p = rooflaw::report::predict(&a, &t, builtin_calibration());
    let loss = Law::paper().predict(&a);
    serde_json::to_string(&serde_json::json!({ "prediction": p, "loss": loss })).map_err(|e| JsError::new(&e.to_string()))
}

#[derive(Deserialize)]
struct FrontierRequest {
    #[serde(default = "table5")]
    space: String,
    #[serde(default = "samples")]
    samples: usize,
    #[serde(default = "seed")]
    seed: u64,
    #[serde(default = "total")]
    objective: String,
    #[serde(default = "roofline")]
    level: String,
    #[serde(flatten)]
    target: TargetRequest,
}

fn table5() -> String {
    "paper-table5".into()
}
fn samples() -> usize {
    50_000
}
fn seed() -> u64 {
    1
}
fn total() -> String {
    "total".into()
}
fn roofline() -> String {
    "roofline".into()
}

/// `frontier({space, samples, seed, objective, level, device, …})` → `{candidates, frontier: [{architecture,
/// loss, latency_secs, memory_bytes}]}` with the published law.
#[wasm_bindgen]
pub fn frontier(request: &str) -> Result<String, JsError> {
    let r: FrontierRequest = serde_json::from_str(request).map_err(|e| JsError::new(&format!("request: {e}")))?;
    let t = target(&r.target)?;
    let objective = Objective::parse(&r.objective).map_err(|e| JsError::new(&e.to_string()))?;
    let level = match r.level.as_str() {
        "paper" => Level::Paper,
        "roofline" => Level::Roofline,
        "calibrated" => Level::Calibrated,
        other => return Err(JsError::new(&format!("unknown level '{other}'; use paper, roofline or calibrated"))),
    };
    let cands = space_candidates(&r.space, r.samples, r.seed).map_err(|e| JsError::new(&e))?;
    let ev = Evaluator { target: &t, level, efficiency: builtin_calibration().efficiency, law: Law::paper(), objective };
    let points = ev.evaluate(&cands);
    let front: Vec<serde_json::Value> = pareto_2d(&points)
        .into_iter()
        .map(|i| serde_json::json!({ "architecture": cands[i].arch.to_spec(), "loss": points[i].loss, "latency_secs": points[i].latency_secs, "memory_bytes": points[i].memory_bytes }))
        .collect();
    serde_json::to_string(&serde_json::json!({ "candidates": cands.len(), "frontier": front })).map_err(|e| JsError::new(&e.to_string()))
}
