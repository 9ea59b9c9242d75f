//! The JavaScript API for pages that want numbers without the UI (exported with wasm-bindgen):
//! `predict(requestJson)` and `frontier(requestJson)`, each returning a JSON string. Requests are the
//! science crate's `api` requests (the same defaults as the command line); errors are thrown as
//! JavaScript errors carrying the science crate's message.

use rooflaw::api::{self, CandidateRecord, Context, FrontierRequest, PredictRequest};
use rooflaw::law::Law;
use rooflaw::ArchitectureSpec;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::inputs::MAX_SAMPLES;

fn js(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// `predict({model | spec | hf_config, device, power_mode, batch, prompt_tokens, generated_tokens,
/// precision})` → the CLI's `predict --format json` report plus `loss` (published law).
#[wasm_bindgen]
pub fn predict(request: &str) -> Result<String, JsError> {
    let r: PredictRequest = serde_json::from_str(request).map_err(|e| js(format!("request: {e}")))?;
    let prediction = api::predict(&r, &Context::default()).map_err(js)?;
    let loss = Law::paper().predict(&r.model.architecture().map_err(js)?);
    serde_json::to_string(&serde_json::json!({ "prediction": prediction, "loss": loss })).map_err(js)
}

/// One frontier design: its architecture (a spec that `predict` takes back) and its record.
#[derive(Serialize)]
struct FrontierEntry {
    architecture: ArchitectureSpec,
    #[serde(flatten)]
    record: CandidateRecord,
}

/// `frontier({space, samples, seed, objective, level, device, …})` → `{candidates, frontier:
/// [{architecture, loss, latency_secs, memory_bytes, …}]}` with the published law.
#[wasm_bindgen]
pub fn frontier(request: &str) -> Result<String, JsError> {
    let r: FrontierRequest = serde_json::from_str(request).map_err(|e| js(format!("request: {e}")))?;
    if r.search.samples > MAX_SAMPLES {
        return Err(js(format!("samples: {} is more than {MAX_SAMPLES}; use e.g. 50000", r.search.samples)));
    }
    let s = api::frontier(&r, &Context::default()).map_err(js)?;
    let front: Vec<FrontierEntry> = s
        .front
        .iter()
        .zip(s.records(false))
        .map(|(&i, record)| FrontierEntry { architecture: s.candidates[i].arch.to_spec(), record })
        .collect();
    serde_json::to_string(&serde_json::json!({ "candidates": s.candidates.len(), "frontier": front })).map_err(js)
}
