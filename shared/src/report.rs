//! One candidate's full latency and memory report: every level side by side, the closed forms and the
//! memory footprint against the device's usable memory. This is the JSON that `rooflaw predict
//! --format json` prints; its keys are stable and documented in the README.

use serde::Serialize;

use crate::arch::{Architecture, ParamBreakdown};
use crate::calibrate::{CalibrationProfile, LatencyInterval};
use crate::roofline::{closed_form, latency, memory_footprint, ClosedForm, Efficiency, Latency, Level, Memory, Target};
use crate::workload::Workload;

/// Which calibration the calibrated level used, and how good it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CalibrationSummary {
    /// Profile label.
    pub label: String,
    /// Fitted terms.
    pub efficiency: Efficiency,
    /// In-sample mean absolute relative error.
    pub in_sample_mape: f64,
    /// Leave-one-out mean absolute relative error.
    pub loo_mape: Option<f64>,
}

impl From<&CalibrationProfile> for CalibrationSummary {
    fn from(p: &CalibrationProfile) -> Self {
        CalibrationSummary { label: p.label.clone(), efficiency: p.efficiency, in_sample_mape: p.in_sample_mape, loo_mape: p.loo_mape }
    }
}

/// Latency at each level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Levels {
    /// The paper's operator table at peak.
    pub paper: Latency,
    /// Every operator at peak.
    pub roofline: Latency,
    /// Every operator at calibrated efficiency plus overheads.
    pub calibrated: Latency,
}

/// The report for one architecture on one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Prediction {
    /// Architecture name.
    pub model: String,
    /// Device id.
    pub device: String,
    /// Power mode.
    pub power_mode: String,
    /// Precision, as text (`fp16`, `w:int4 a:fp16 kv:fp16`).
    pub precision: String,
    /// Workload.
    pub workload: Workload,
    /// Exact parameter counts.
    pub params: ParamBreakdown,
    /// Latency per level.
    pub latency: Levels,
    /// 90% prediction interval of the calibrated latency, from the calibration's leave-one-out
    /// residuals (a phase the calibration has no rows of has none).
    pub calibrated_interval: LatencyInterval,
    /// The paper's closed forms (Eq. 29 / 37 / 42).
    pub closed_form: ClosedForm,
    /// Memory footprint.
    pub memory: Memory,
    /// Memory usable on the device.
    pub usable_memory_bytes: f64,
    /// Whether the footprint fits in usable memory.
    pub fits_in_memory: bool,
    /// Calibration used by the calibrated level.
    pub calibration: CalibrationSummary,
}

/// Prices `arch` on `target` at every level.
pub fn predict(arch: &Architecture, target: &Target, calibration: &CalibrationProfile) -> Prediction {
    let eff = calibration.efficiency;
    let memory = memory_footprint(arch, &target.workload, &target.precision);
    let calibrated = latency(arch, target, Level::Calibrated, &eff);
    Prediction {
        model: arch.name.clone(),
        device: target.device_id.clone(),
        power_mode: target.power_mode.clone(),
        precision: target.precision.to_string(),
        workload: target.workload,
        params: arch.params(),
        latency: Levels {
            paper: latency(arch, target, Level::Paper, &eff),
            roofline: latency(arch, target, Level::Roofline, &eff),
            calibrated,
        },
        calibrated_interval: calibration.interval(&calibrated),
        closed_form: closed_form(arch, target),
        memory,
        usable_memory_bytes: target.usable_memory_bytes,
        fits_in_memory: memory.total_bytes <= target.usable_memory_bytes,
        calibration: calibration.into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::calibrate::builtin_calibration;
    use crate::hardware::Catalogue;
    use crate::models::reference_models;
    use crate::precision::Precision;

    #[test]
    fn totals_add_up_at_every_level_and_the_memory_verdict_follows_the_footprint() {
        let cat = Catalogue::default();
        for device in ["jetson-agx-orin-64gb", "jetson-orin-nano-8gb"] {
            let t = Target::new(cat.get(device).unwrap(), None, Workload::PAPER, Precision::preset("fp16").unwrap()).unwrap();
            for m in reference_models() {
                let p = predict(&m.architecture().unwrap(), &t, builtin_calibration());
                for l in [p.latency.paper, p.latency.roofline, p.latency.calibrated] {
                    assert!((l.prefill_secs + l.decode_secs - l.total_secs).abs() <= 1e-12 * l.total_secs, "{}: {l:?}", m.id);
                    assert!((l.decode_per_token_secs * 16.0 - l.decode_secs).abs() <= 1e-12 * l.decode_secs, "{}: {l:?}", m.id);
                }
                let mem = p.memory;
                assert!((mem.weight_bytes + mem.kv_cache_bytes + mem.activation_bytes - mem.total_bytes).abs() < 1.0);
                assert_eq!(p.fits_in_memory, mem.total_bytes <= p.usable_memory_bytes, "{} on {device}", m.id);
            }
        }
        // Hand check: Llama-3.1-8B's 8.03 B FP16 weights (16.1 GB) exceed the Orin Nano's 5.2 GB usable;
        // Qwen2.5-0.5B's (0.99 GB) fit.
        let nano =
            Target::new(cat.get("jetson-orin-nano-8gb").unwrap(), None, Workload::PAPER, Precision::preset("fp16").unwrap()).unwrap();
        let fits = |id: &str| {
            predict(&crate::models::find_model(id).unwrap().architecture().unwrap(), &nano, builtin_calibration()).fits_in_memory
        };
        assert!(fits("qwen2.5-0.5b"));
        assert!(!fits("llama-3.1-8b"));
    }
}
