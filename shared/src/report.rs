//! One candidate's full latency and memory report: every level side by side, the closed forms and the
//! memory footprint against the device's usable memory. This is the JSON that `rooflaw predict
//! --format json` prints; its keys are stable and documented in the README.

use serde::Serialize;

use crate::arch::{Architecture, ParamBreakdown};
use crate::calibrate::CalibrationProfile;
use crate::roofline::{closed_form, latency, memory_footprint, ClosedForm, Efficiency, Latency, Level, Memory, Target};
use crate::workload::Workload;

/// Which calibration the calibrated level used, and how good it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
            calibrated: latency(arch, target, Level::Calibrated, &eff),
        },
        closed_form: closed_form(arch, target),
        memory,
        usable_memory_bytes: target.usable_memory_bytes,
        fits_in_memory: memory.total_bytes <= target.usable_memory_bytes,
        calibration: calibration.into(),
    }
}
