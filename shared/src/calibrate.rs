//! Calibration of the latency model from measurements: fits η_c, η_m, t_layer and t_token of
//! SCIENCE.md §4.3 to measured decode (and, where given, prefill) rates, and reports in-sample and
//! leave-one-out error.
//!
//! Method: a grid over η_m (and η_c when prefill rows identify it), and for each grid point the
//! overheads by non-negative least squares on relative error. With only two linear unknowns the NNLS
//! is a 2×2 solve plus its boundary cases, written here rather than pulled in from a solver crate
//! (and it keeps the crate's dependencies WebAssembly-clean).
//!
//! Input CSV columns (header names, any order): `device, power_mode, engine, precision, model,
//! batch, decode_tokens_per_sec` (required), `hf_architecture, source, prompt_tokens,
//! generated_tokens, prefill_tokens_per_sec, rate_includes_prefill, config` (optional). `model` (or
//! `hf_architecture`) names a reference model unless `config` names a config.json; `precision` is an
//! engine label (`q4f16_ft`, `Q4_K_M`, `Q8_0`, `fp16`, `AWQ`…).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::arch::{Architecture, ArchitectureSpec};
use crate::cost::Phase;
use crate::error::{Error, Result};
use crate::frontier::Objective;
use crate::hardware::Catalogue;
use crate::models::find_model;
use crate::precision::Precision;
use crate::roofline::{phase_parts, routed_experts_per_pass, Efficiency, Latency, Target};
use crate::workload::Workload;

/// Prompt length assumed for a row without `prompt_tokens` (short chat prompts, as in the public
/// Jetson benchmarks); at these lengths the KV traffic is under 1% of a step for every reference model.
pub const DEFAULT_PROMPT_TOKENS: u64 = 32;
/// Generated tokens assumed for a row without `generated_tokens`.
pub const DEFAULT_GENERATED_TOKENS: u64 = 128;

/// One row of a measurements file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementRow {
    /// Device id in the catalogue.
    pub device: String,
    /// Power mode name or alias.
    pub power_mode: String,
    /// Inference engine and version.
    pub engine: String,
    /// Engine precision label.
    pub precision: String,
    /// Reference model name.
    pub model: String,
    /// Hugging Face id, used when `model` does not resolve.
    #[serde(default)]
    pub hf_architecture: Option<String>,
    /// Batch size.
    pub batch: u64,
    /// Measured decode rate, tokens per second per sequence.
    pub decode_tokens_per_sec: f64,
    /// Where the figure comes from.
    #[serde(default)]
    pub source: Option<String>,
    /// Prompt length of the measurement.
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    /// Generated tokens of the measurement.
    #[serde(default)]
    pub generated_tokens: Option<u64>,
    /// Measured prefill rate, prompt tokens per second.
    #[serde(default)]
    pub prefill_tokens_per_sec: Option<f64>,
    /// Whether `decode_tokens_per_sec` is an output throughput that includes the prefill (generated
    /// tokens over the whole request, as vLLM's serving benchmarks report it) rather than the decode
    /// rate alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_includes_prefill: Option<bool>,
    /// A Hugging Face config.json describing the model, as a path relative to the measurements file
    /// (CSV column `config`). The reader of the file resolves it into `architecture`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The measured architecture, for a candidate that is not a reference model (what `rooflaw measure
    /// latency` records, or a `config` file read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<ArchitectureSpec>,
}

const REQUIRED: [&str; 7] = ["device", "power_mode", "engine", "precision", "model", "batch", "decode_tokens_per_sec"];

/// Parses measurements: a CSV with the columns above, or JSON (a list of rows, or one row per line as
/// `rooflaw measure latency --out FILE` appends them; the records' extra fields are ignored).
pub fn parse_measurements(text: &str, what: &str) -> Result<Vec<MeasurementRow>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return parse_measurements_json(trimmed, what);
    }
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| Error::parse(what, format!("cannot read the header line: {e}")))?.clone();
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !headers.iter().any(|h| h == *c)).collect();
    if !missing.is_empty() {
        return Err(Error::parse(what, format!("missing column(s) {}; the header must name {}", missing.join(", "), REQUIRED.join(", "))));
    }
    let mut rows = Vec::new();
    for (i, rec) in reader.deserialize::<MeasurementRow>().enumerate() {
        let row =
            rec.map_err(|e| Error::parse(format!("{what} line {}", i + 2), format!("{e}; check the value against the column's meaning")))?;
        if !(row.decode_tokens_per_sec.is_finite() && row.decode_tokens_per_sec > 0.0) {
            return Err(Error::parse(format!("{what} line {}", i + 2), "decode_tokens_per_sec must be a positive number"));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::parse(what, "no measurement rows after the header"));
    }
    Ok(rows)
}

fn parse_measurements_json(text: &str, what: &str) -> Result<Vec<MeasurementRow>> {
    let rows: Vec<MeasurementRow> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|e| Error::parse(what, format!("{e}; expected a list of measurement records")))?
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map_err(|e| Error::parse(format!("{what} line {}", i + 1), format!("{e}; expected one measurement record per line")))
            })
            .collect::<Result<_>>()?
    };
    if let Some((i, _)) = rows.iter().enumerate().find(|(_, r)| !(r.decode_tokens_per_sec.is_finite() && r.decode_tokens_per_sec > 0.0)) {
        return Err(Error::parse(format!("{what} record {}", i + 1), "decode_tokens_per_sec must be a positive number"));
    }
    if rows.is_empty() {
        return Err(Error::parse(what, "no measurement records"));
    }
    Ok(rows)
}

/// Which row fields split the rows into separately fitted profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum GroupKey {
    /// Device id.
    Device,
    /// Power mode.
    PowerMode,
    /// Engine.
    Engine,
    /// Precision label.
    Precision,
}

/// A row that was left out of the fit, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SkippedRow {
    /// 1-based data line (header is line 1).
    pub line: usize,
    /// Model name as written.
    pub model: String,
    /// Why it was left out.
    pub reason: String,
}

/// A row used in the fit, with its prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRow {
    /// Data line.
    pub line: usize,
    /// Model id.
    pub model: String,
    /// Device id.
    pub device: String,
    /// "decode", "prefill", or "request" (a whole request per generated token, for a rate that
    /// includes the prefill).
    pub phase: String,
    /// Measured seconds per decode step (or per prefill).
    pub measured_secs: f64,
    /// Fitted model's prediction.
    pub predicted_secs: f64,
    /// Prediction of the model refitted without this row (leave-one-out).
    pub loo_predicted_secs: Option<f64>,
}

/// Which measurements a profile speaks for: the values of the fields it was grouped by (None: any).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Scope {
    /// Device id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Power mode (catalogue name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_mode: Option<String>,
    /// Engine: its family for a known engine (`mlc`, `llama.cpp`, …: [`ENGINES`]), else as written
    /// in the measurements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Precision label, as written in the measurements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
}

/// A fitted calibration profile: usable by `predict --calibration FILE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationProfile {
    /// What the profile was fitted on (group values, or "all rows").
    pub label: String,
    /// The group it was fitted on (empty: all rows).
    #[serde(default)]
    pub scope: Scope,
    /// η_c, η_m and the overheads.
    pub efficiency: Efficiency,
    /// Whether prefill rows identified η_c (otherwise it is left at 1: peak).
    pub eta_compute_identified: bool,
    /// Rows used.
    pub rows_used: usize,
    /// Mean absolute relative error on the rows fitted.
    pub in_sample_mape: f64,
    /// Mean absolute relative error, each row predicted by a fit without it.
    pub loo_mape: Option<f64>,
    /// The leave-one-out error of the decode rows only (with the whole-request rows, per generated token).
    #[serde(default)]
    pub loo_mape_decode: Option<f64>,
    /// The leave-one-out error of the prefill rows only (none without prefill rows).
    #[serde(default)]
    pub loo_mape_prefill: Option<f64>,
    /// Prediction interval of a calibrated decode step, from the decode (and whole-request) rows'
    /// leave-one-out residuals.
    #[serde(default)]
    pub interval_decode: Option<Interval>,
    /// Prediction interval of a calibrated prefill, from the prefill rows' leave-one-out residuals
    /// (none without prefill rows: the prefill is then not calibrated).
    #[serde(default)]
    pub interval_prefill: Option<Interval>,
    /// Prediction interval of a whole request (prefill and decode), from the rows whose rate includes
    /// the prefill.
    #[serde(default)]
    pub interval_request: Option<Interval>,
    /// Rows with their predictions.
    pub rows: Vec<FittedRow>,
}

/// A prediction interval as factors on a calibrated latency: the measured value lies in
/// [low·predicted, high·predicted] with probability `level`.
///
/// Derived from the leave-one-out residuals r_i = ln(measured_i / predicted_i), each row predicted by
/// a fit without it: with their mean r̄, standard deviation s and count n, the factors are
/// exp(r̄ ± t_{(1+level)/2, n−1}·s·√(1 + 1/n)), the Student-t prediction interval of a new row's log
/// ratio. The mean stays in: a profile that is biased on its own held-out rows says so.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Interval {
    /// Coverage probability (0.9).
    pub level: f64,
    /// Lower factor on the prediction.
    pub low: f64,
    /// Upper factor on the prediction.
    pub high: f64,
    /// Leave-one-out residuals it rests on.
    pub rows: usize,
}

/// Coverage of the intervals reported.
pub const INTERVAL_LEVEL: f64 = 0.9;

/// t_{0.95, ν} for ν = 1…30 (two-sided 90%); 1.645, the normal quantile, above.
const T_95: [f64; 30] = [
    6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729,
    1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697,
];

/// The two-sided 90% Student-t quantile for the residuals of `rows` rows (n − 1 degrees of freedom).
pub(crate) fn t_95(rows: usize) -> f64 {
    T_95.get(rows.saturating_sub(2)).copied().unwrap_or(1.645)
}

impl Interval {
    /// The 90% interval from measured and held-out predicted seconds; None with fewer than 3 pairs.
    pub fn from_loo(pairs: &[(f64, f64)]) -> Option<Interval> {
        let r: Vec<f64> = pairs.iter().filter(|(m, p)| *m > 0.0 && *p > 0.0).map(|(m, p)| (m / p).ln()).collect();
        let n = r.len();
        if n < 3 {
            return None;
        }
        let mean = r.iter().sum::<f64>() / n as f64;
        let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let t = t_95(n);
        let half = t * sd * (1.0 + 1.0 / n as f64).sqrt();
        Some(Interval { level: INTERVAL_LEVEL, low: (mean - half).exp(), high: (mean + half).exp(), rows: n })
    }

    /// The interval around `secs`.
    pub fn around(&self, secs: f64) -> [f64; 2] {
        [secs * self.low, secs * self.high]
    }
}

/// Intervals of one calibrated latency (None where the profile has no rows of that phase).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LatencyInterval {
    /// Coverage probability.
    pub level: f64,
    /// Prefill seconds, low and high.
    pub prefill_secs: Option<[f64; 2]>,
    /// All decode steps.
    pub decode_secs: Option<[f64; 2]>,
    /// One decode step.
    pub decode_per_token_secs: Option<[f64; 2]>,
    /// Prefill plus decode: the sum of the phases' bounds (their errors are not assumed to cancel).
    pub total_secs: Option<[f64; 2]>,
}

impl CalibrationProfile {
    /// The interval factors of a frontier objective: a phase's own, or for the total a whole request's
    /// (where requests were measured), else the widest of the two phases' (a bound on their sum).
    pub fn objective_interval(&self, objective: Objective) -> Option<Interval> {
        match objective {
            Objective::Prefill => self.interval_prefill,
            Objective::Decode => self.interval_decode,
            Objective::Total => self.interval_request.or(match (self.interval_prefill, self.interval_decode) {
                (Some(p), Some(d)) => {
                    Some(Interval { level: p.level, low: p.low.min(d.low), high: p.high.max(d.high), rows: p.rows + d.rows })
                }
                _ => None,
            }),
        }
    }

    /// The prediction interval of a latency this profile's calibrated level produced.
    pub fn interval(&self, l: &Latency) -> LatencyInterval {
        let prefill = self.interval_prefill.map(|i| i.around(l.prefill_secs));
        let decode = self.interval_decode.map(|i| i.around(l.decode_secs));
        LatencyInterval {
            level: INTERVAL_LEVEL,
            prefill_secs: prefill,
            decode_secs: decode,
            decode_per_token_secs: self.interval_decode.map(|i| i.around(l.decode_per_token_secs)),
            total_secs: match (prefill, decode) {
                (Some(p), Some(d)) => Some([p[0] + d[0], p[1] + d[1]]),
                // Without generated tokens the total is the prefill.
                (Some(p), None) if l.decode_secs == 0.0 => Some(p),
                // Whole requests measured: their interval speaks for the total.
                _ => self.interval_request.map(|i| i.around(l.total_secs)),
            },
        }
    }
}

/// Everything a calibration run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// One profile per group.
    pub profiles: Vec<CalibrationProfile>,
    /// Rows left out, with reasons.
    pub skipped: Vec<SkippedRow>,
}

/// What an observation's seconds measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measured {
    /// One decode step.
    Decode,
    /// The prefill.
    Prefill,
    /// The whole request per generated token: (prefill + every decode step) / S_out.
    Request,
}

impl Measured {
    fn name(self) -> &'static str {
        match self {
            Measured::Decode => "decode",
            Measured::Prefill => "prefill",
            Measured::Request => "request",
        }
    }
}

/// A usable observation: a target and architecture, what was measured and the measured seconds.
#[derive(Debug, Clone)]
struct Obs {
    line: usize,
    arch: Architecture,
    target: Target,
    kind: Measured,
    measured_secs: f64,
    group: String,
    scope: Scope,
}

fn resolve(rows: &[MeasurementRow], catalogue: &Catalogue, group_by: &[GroupKey]) -> (Vec<Obs>, Vec<SkippedRow>) {
    let mut obs = Vec::new();
    let mut skipped = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        let skip = |reason: String| SkippedRow { line, model: row.model.clone(), reason };
        let Some(precision) = Precision::from_engine_label(&row.precision) else {
            skipped.push(skip(format!(
                "precision '{}' does not name a modelled weight format (q4f16, Q4_*, Q8_*, fp16, int8…)",
                row.precision
            )));
            continue;
        };
        if let (Some(config), None) = (&row.config, &row.architecture) {
            skipped.push(skip(format!("its config.json ({config}) was not read: give the file to `rooflaw calibrate`, which reads it")));
            continue;
        }
        let arch = match &row.architecture {
            Some(spec) => spec.validate(),
            None => {
                let model = find_model(&row.model).or_else(|e| row.hf_architecture.as_deref().map_or(Err(e), find_model));
                model.and_then(|m| m.architecture())
            }
        };
        let arch = match arch {
            Ok(a) => a,
            Err(e) if row.architecture.is_some() => {
                skipped.push(skip(format!("its architecture is invalid: {e}")));
                continue;
            }
            Err(_) => {
                skipped.push(skip(format!(
                    "model '{}' is not a reference model (add it to models.json, or it is outside the modelled family)",
                    row.model
                )));
                continue;
            }
        };
        let prompt = row.prompt_tokens.unwrap_or(DEFAULT_PROMPT_TOKENS);
        let generated = row.generated_tokens.unwrap_or(DEFAULT_GENERATED_TOKENS);
        let target = catalogue
            .get(&row.device)
            .and_then(|d| Workload::new(row.batch, prompt, generated).and_then(|w| Target::new(d, Some(&row.power_mode), w, precision)));
        let target = match target {
            Ok(t) => t,
            Err(e) => {
                skipped.push(skip(e.to_string()));
                continue;
            }
        };
        let mut scope = Scope::default();
        for k in group_by {
            match k {
                GroupKey::Device => scope.device = Some(target.device_id.clone()),
                GroupKey::PowerMode => scope.power_mode = Some(target.power_mode.clone()),
                GroupKey::Engine => {
                    scope.engine = Some(engine_family(&row.engine).map_or_else(|| row.engine.trim().to_string(), str::to_string))
                }
                GroupKey::Precision => scope.precision = Some(row.precision.clone()),
            }
        }
        let group = [&scope.device, &scope.power_mode, &scope.engine, &scope.precision]
            .iter()
            .filter_map(|v| v.as_deref())
            .collect::<Vec<_>>()
            .join(" / ");
        obs.push(Obs {
            line,
            arch: arch.clone(),
            target: target.clone(),
            kind: if row.rate_includes_prefill == Some(true) { Measured::Request } else { Measured::Decode },
            measured_secs: 1.0 / row.decode_tokens_per_sec,
            group: group.clone(),
            scope: scope.clone(),
        });
        if let Some(rate) = row.prefill_tokens_per_sec.filter(|r| r.is_finite() && *r > 0.0) {
            obs.push(Obs { line, arch, target, kind: Measured::Prefill, measured_secs: prompt as f64 / rate, group, scope });
        }
    }
    (obs, skipped)
}

/// The terms of an observation at efficiencies (η_c, η_m): the operator seconds outside the experts
/// and of the expert FFN GEMMs (both at those ceilings, without overheads), per measured unit (a decode
/// step, or the prefill).
fn obs_parts(o: &Obs, e: &Efficiency) -> (f64, f64) {
    let steps = o.target.workload.generated_tokens.max(1) as f64;
    let phase = |phase| phase_parts(&o.arch, &o.target, e, phase);
    match o.kind {
        // A decode observation is one step of the measured workload: its operator seconds are the mean step.
        Measured::Decode => {
            let (rest, experts) = phase(Phase::Decode);
            (rest / steps, experts / steps)
        }
        Measured::Prefill => phase(Phase::Prefill),
        Measured::Request => {
            let ((pr, pe), (dr, de)) = (phase(Phase::Prefill), phase(Phase::Decode));
            ((pr + dr) / steps, (pe + de) / steps)
        }
    }
}

/// The fixed-time multipliers of an observation: layers per pass, passes, and distinct routed
/// experts per pass summed over the MoE layers (per measured unit, as [`obs_parts`]).
fn obs_fixed(o: &Obs) -> [f64; 3] {
    let layers = o.arch.layers as f64;
    let moe_layers = o.arch.moe_layers() as f64;
    let routed = |phase| if o.arch.is_moe() { moe_layers * routed_experts_per_pass(&o.arch, &o.target, phase) } else { 0.0 };
    match o.kind {
        Measured::Decode => [layers, 1.0, routed(Phase::Decode)],
        Measured::Prefill => [layers, 1.0, routed(Phase::Prefill)],
        Measured::Request => {
            // One prefill pass and S_out decode passes, per generated token.
            let steps = o.target.workload.generated_tokens.max(1) as f64;
            let per = |x: f64, y: f64| (x + steps * y) / steps;
            [per(layers, layers), per(1.0, 1.0), per(routed(Phase::Prefill), routed(Phase::Decode))]
        }
    }
}

/// Least squares of Σ ((f_i·v − c_i)/m_i)² over v ≥ 0 (the first `free` entries of v; the others
/// stay 0), by trying every set of free variables and keeping the best non-negative solution: at
/// most 7 small solves, exact for problems this size. Returns the solution and its sum of squares.
fn nnls(features: &[[f64; 3]], c: &[f64], m: &[f64], free: usize) -> ([f64; 3], f64) {
    let sse = |v: &[f64; 3]| {
        features.iter().zip(c).zip(m).map(|((f, c), m)| ((f[0] * v[0] + f[1] * v[1] + f[2] * v[2] - c) / m).powi(2)).sum::<f64>()
    };
    let mut best = ([0.0; 3], sse(&[0.0; 3]));
    for set in 1u32..(1 << free) {
        let idx: Vec<usize> = (0..free).filter(|k| set & (1 << k) != 0).collect();
        let n = idx.len();
        // Normal equations of the weighted problem, augmented: [AᵀA | Aᵀc].
        let mut a = vec![vec![0.0; n + 1]; n];
        for ((f, c), m) in features.iter().zip(c).zip(m) {
            let w = 1.0 / (m * m);
            for (r, &i) in idx.iter().enumerate() {
                for (k, &j) in idx.iter().enumerate() {
                    a[r][k] += w * f[i] * f[j];
                }
                a[r][n] += w * f[i] * c;
            }
        }
        let Some(x) = solve(a) else { continue };
        let mut v = [0.0; 3];
        for (k, &i) in idx.iter().enumerate() {
            v[i] = x[k];
        }
        if v.iter().all(|x| x.is_finite() && *x >= 0.0) {
            let e = sse(&v);
            if e < best.1 {
                best = (v, e);
            }
        }
    }
    best
}

/// Gauss–Jordan elimination with partial pivoting on an augmented n×(n+1) system; None when singular.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let n = a.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        let scale = a.iter().map(|r| r[col].abs()).fold(0.0, f64::max);
        let tiny = a[pivot][col].abs() <= 1e-12 * scale.max(f64::MIN_POSITIVE);
        if tiny || !a[pivot][col].is_finite() {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some(a.iter().enumerate().map(|(i, r)| r[n] / r[i]).collect())
}

/// MoE observations from at least this many architectures fit the expert terms; with fewer, the
/// expert efficiency stays 1 and the expert overhead 0 (they would only absorb noise).
const MOE_ARCHITECTURES_TO_FIT: usize = 2;

/// Distinct MoE architectures among the observations.
fn moe_architectures(obs: &[&Obs]) -> usize {
    let mut moe: Vec<&str> = obs.iter().filter(|o| o.arch.is_moe()).map(|o| o.arch.name.as_str()).collect();
    moe.sort_unstable();
    moe.dedup();
    moe.len()
}

/// Which MoE terms a fit may use.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MoeTerms {
    /// η_e, the experts' compute efficiency.
    efficiency: bool,
    /// t_expert, the time per routed expert.
    overhead: bool,
}

impl MoeTerms {
    const ALL: [MoeTerms; 4] = [
        MoeTerms { efficiency: false, overhead: false },
        MoeTerms { efficiency: true, overhead: false },
        MoeTerms { efficiency: false, overhead: true },
        MoeTerms { efficiency: true, overhead: true },
    ];
}

/// The compute-efficiency grid (η_c, and η_e·η_c for the experts) and the bandwidth grid.
const COMPUTE_STEPS: usize = 20;
const MEMORY_STEPS: usize = 100;

/// Every observation's operator seconds on the efficiency grid, computed once and shared by the full
/// fit and every leave-one-out refit.
struct Grid<'a> {
    obs: Vec<&'a Obs>,
    compute: Vec<f64>,
    /// `[obs][compute][memory]`: (rest, experts).
    parts: Vec<(f64, f64)>,
}

impl<'a> Grid<'a> {
    fn new(obs: Vec<&'a Obs>) -> Self {
        let wide = obs.iter().any(|o| o.kind != Measured::Decode || o.arch.is_moe());
        let compute: Vec<f64> = if wide { (1..=COMPUTE_STEPS).map(|k| k as f64 / COMPUTE_STEPS as f64).collect() } else { vec![1.0] };
        let mut parts = Vec::with_capacity(obs.len() * compute.len() * MEMORY_STEPS);
        for o in &obs {
            for &c in &compute {
                for k in 1..=MEMORY_STEPS {
                    parts.push(obs_parts(o, &Efficiency::ceilings(c, k as f64 / MEMORY_STEPS as f64)));
                }
            }
        }
        Grid { obs, compute, parts }
    }

    fn at(&self, o: usize, c: usize, m: usize) -> (f64, f64) {
        self.parts[(o * self.compute.len() + c) * MEMORY_STEPS + m]
    }

    /// Fits the observations `members` (indices into `obs`) with the MoE terms `terms` allows.
    fn fit(&self, members: &[usize], terms: MoeTerms) -> Efficiency {
        let obs: Vec<&Obs> = members.iter().map(|&i| self.obs[i]).collect();
        let identified = obs.iter().any(|o| o.kind != Measured::Decode);
        let fit_moe = moe_architectures(&obs) >= MOE_ARCHITECTURES_TO_FIT;
        let top = self.compute.len() - 1;
        let c_choices: Vec<usize> = if identified { (0..self.compute.len()).collect() } else { vec![top] };
        let m: Vec<f64> = obs.iter().map(|o| o.measured_secs).collect();
        let fixed: Vec<[f64; 3]> = obs.iter().map(|o| obs_fixed(o)).collect();
        let free = if fit_moe && terms.overhead { 3 } else { 2 };
        let fit_moe = fit_moe && terms.efficiency;
        let mut best = (Efficiency::PEAK, f64::INFINITY);
        let mut c = vec![0.0; obs.len()];
        for &kc in &c_choices {
            // The experts' compute ceiling η_e·η_c is at most η_c.
            let e_choices: Vec<usize> = if fit_moe { (0..=kc).collect() } else { vec![kc] };
            for &ke in &e_choices {
                for km in 0..MEMORY_STEPS {
                    for (j, &i) in members.iter().enumerate() {
                        c[j] = m[j] - self.at(i, kc, km).0 - self.at(i, ke, km).1;
                    }
                    let (v, sse) = nnls(&fixed, &c, &m, free);
                    if sse < best.1 {
                        let e = Efficiency {
                            compute: self.compute[kc],
                            memory: (km + 1) as f64 / MEMORY_STEPS as f64,
                            layer_overhead_secs: v[0],
                            token_overhead_secs: v[1],
                            expert_efficiency: self.compute[ke] / self.compute[kc],
                            expert_overhead_secs: v[2],
                        };
                        best = (e, sse);
                    }
                }
            }
        }
        // Refine η_m around the best grid point.
        let b = best.0;
        for k in -10..=10 {
            let eta_m = b.memory + k as f64 * 0.001;
            if k == 0 || eta_m <= 0.0 || eta_m > 1.0 {
                continue;
            }
            let e = Efficiency { memory: eta_m, ..b };
            for (j, o) in obs.iter().enumerate() {
                // Operator seconds only: the overheads are what the solve below fits.
                let (rest, experts) = obs_parts(o, &e);
                c[j] = m[j] - rest - experts;
            }
            let (v, sse) = nnls(&fixed, &c, &m, free);
            if sse < best.1 {
                best = (Efficiency { layer_overhead_secs: v[0], token_overhead_secs: v[1], expert_overhead_secs: v[2], ..e }, sse);
            }
        }
        best.0
    }
}

fn predict_obs(o: &Obs, e: &Efficiency) -> f64 {
    let (rest, experts) = obs_parts(o, e);
    let [layers, one, routed] = obs_fixed(o);
    rest + experts + layers * e.layer_overhead_secs + one * e.token_overhead_secs + routed * e.expert_overhead_secs
}

/// (measured, leave-one-out predicted) seconds of one phase's rows.
fn phase_pairs(rows: &[FittedRow], phase: &str) -> Vec<(f64, f64)> {
    rows.iter()
        .filter(|r| if phase == "request" { r.phase == phase } else { in_phase(r, phase) })
        .filter_map(|r| r.loo_predicted_secs.map(|p| (r.measured_secs, p)))
        .collect()
}

/// Whether a fitted row speaks for `phase`: a whole request per generated token counts as decode (the
/// time per generated token it is), alongside the decode steps.
fn in_phase(r: &FittedRow, phase: &str) -> bool {
    r.phase == phase || (phase == "decode" && r.phase == "request")
}

/// Fits one profile per group of rows (one profile for all rows when `group_by` is empty).
pub fn fit(rows: &[MeasurementRow], catalogue: &Catalogue, group_by: &[GroupKey]) -> Result<CalibrationReport> {
    let (obs, skipped) = resolve(rows, catalogue, group_by);
    let mut groups: Vec<String> = obs.iter().map(|o| o.group.clone()).collect();
    groups.sort();
    groups.dedup();
    let mut profiles = Vec::new();
    for g in groups {
        let members: Vec<&Obs> = obs.iter().filter(|o| o.group == g).collect();
        if members.len() < 3 {
            if group_by.is_empty() {
                return Err(Error::invalid(
                    "measurements",
                    format!("only {} usable row(s); the fit has three free terms (η_m, t_layer, t_token)", members.len()),
                    "give at least 3 rows that resolve to a reference model, a priced device mode and a modelled precision",
                ));
            }
            continue;
        }
        let grid = Grid::new(members.clone());
        let all: Vec<usize> = (0..members.len()).collect();
        let loo_of = |terms: MoeTerms| -> Vec<Option<f64>> {
            (0..members.len())
                .map(|i| {
                    let rest: Vec<usize> = all.iter().copied().filter(|j| *j != i).collect();
                    (rest.len() >= 3).then(|| predict_obs(members[i], &grid.fit(&rest, terms)))
                })
                .collect()
        };
        // With MoE rows, each set of MoE terms is tried and the one whose leave-one-out predictions
        // are closest to the measurements kept: a term that only fits noise does not stay.
        let loo_error = |loo: &[Option<f64>]| -> f64 {
            members.iter().zip(loo).filter_map(|(o, p)| p.map(|p| ((p - o.measured_secs) / o.measured_secs).abs())).sum()
        };
        let candidates: &[MoeTerms] =
            if moe_architectures(&members) >= MOE_ARCHITECTURES_TO_FIT { &MoeTerms::ALL } else { &MoeTerms::ALL[..1] };
        let (terms, loo) = candidates
            .iter()
            .map(|&t| (t, loo_of(t)))
            .min_by(|a, b| loo_error(&a.1).total_cmp(&loo_error(&b.1)))
            .unwrap_or((MoeTerms::ALL[0], Vec::new()));
        let eff = grid.fit(&all, terms);
        let rows: Vec<FittedRow> = members
            .iter()
            .zip(&loo)
            .map(|(o, l)| FittedRow {
                line: o.line,
                model: o.arch.name.clone(),
                device: o.target.device_id.clone(),
                phase: o.kind.name().to_string(),
                measured_secs: o.measured_secs,
                predicted_secs: predict_obs(o, &eff),
                loo_predicted_secs: *l,
            })
            .collect();
        let mape = |f: &dyn Fn(&FittedRow) -> Option<f64>| {
            let errs: Vec<f64> = rows.iter().filter_map(|r| f(r).map(|p| (p - r.measured_secs).abs() / r.measured_secs)).collect();
            (!errs.is_empty()).then(|| errs.iter().sum::<f64>() / errs.len() as f64)
        };
        let phase_loo = |phase: &str| mape(&|r| r.loo_predicted_secs.filter(|_| in_phase(r, phase)));
        profiles.push(CalibrationProfile {
            label: if g.is_empty() { "all rows".to_string() } else { g },
            scope: members[0].scope.clone(),
            efficiency: eff,
            eta_compute_identified: members.iter().any(|o| o.kind != Measured::Decode),
            rows_used: members.len(),
            in_sample_mape: mape(&|r| Some(r.predicted_secs)).unwrap_or(0.0),
            loo_mape: mape(&|r| r.loo_predicted_secs),
            loo_mape_decode: phase_loo("decode"),
            loo_mape_prefill: phase_loo("prefill"),
            interval_decode: Interval::from_loo(&phase_pairs(&rows, "decode")),
            interval_prefill: Interval::from_loo(&phase_pairs(&rows, "prefill")),
            interval_request: Interval::from_loo(&phase_pairs(&rows, "request")),
            rows,
        });
    }
    if profiles.is_empty() {
        return Err(Error::invalid("measurements", "no group has the 3 usable rows a fit needs", "group by fewer keys, or add rows"));
    }
    Ok(CalibrationReport { profiles, skipped })
}

/// The profiles as JSON: one profile as an object, several (a grouped fit) as a list. This is the
/// calibration file format; [`profiles_from_json`] reads it back.
pub fn profiles_to_json(profiles: &[CalibrationProfile]) -> Result<String> {
    let json = match profiles {
        [one] => serde_json::to_string_pretty(one),
        many => serde_json::to_string_pretty(many),
    };
    json.map_err(|e| Error::parse("calibration profiles", e.to_string()))
}

/// Reads a calibration file (one profile, or a list of them) and checks each profile's terms.
pub fn profiles_from_json(text: &str, what: &str) -> Result<Vec<CalibrationProfile>> {
    let profiles = match serde_json::from_str::<CalibrationProfile>(text) {
        Ok(one) => vec![one],
        Err(_) => serde_json::from_str::<Vec<CalibrationProfile>>(text).map_err(|e| {
            Error::parse(what, format!("{e}; expected a calibration profile, or a list of them, as a calibration fit writes"))
        })?,
    };
    if profiles.is_empty() {
        return Err(Error::parse(what, "the list holds no calibration profile; fit one on measurements"));
    }
    for p in &profiles {
        p.efficiency.validate()?;
    }
    Ok(profiles)
}

/// The profile that speaks for `target`: the one whose device and power mode match it (a profile not
/// grouped by a field matches any value), preferring the most specific; the first profile otherwise.
pub fn select_profile<'a>(profiles: &'a [CalibrationProfile], target: &Target) -> Option<&'a CalibrationProfile> {
    let fits = |p: &CalibrationProfile| {
        p.scope.device.as_deref().is_none_or(|d| d == target.device_id)
            && p.scope.power_mode.as_deref().is_none_or(|m| m == target.power_mode)
    };
    let specificity = |p: &CalibrationProfile| usize::from(p.scope.device.is_some()) + usize::from(p.scope.power_mode.is_some());
    profiles.iter().filter(|p| fits(p)).max_by_key(|p| specificity(p)).or(profiles.first())
}

/// The engines `--engine` and the built-in profiles know, and what each is.
pub const ENGINES: [(&str, &str); 8] = [
    ("mlc", "MLC LLM (TVM-compiled CUDA kernels; q4f16_ft / q4f16_1)"),
    ("llama.cpp", "llama.cpp (GGUF; CUDA, Vulkan or CPU)"),
    ("vllm", "vLLM (W4A16 and AWQ checkpoints)"),
    ("tensorrt-llm", "TensorRT-LLM"),
    ("tinychat", "TinyChat (AWQ W4A16)"),
    ("transformers", "Hugging Face transformers (PyTorch eager)"),
    ("ollama", "Ollama (a vendored llama.cpp)"),
    ("burn", "burn, the trainer's own model (rooflaw measure latency --engine burn)"),
];

/// The engine the calibrated level assumes when none is named: the one the built-in measurements
/// cover best.
pub const DEFAULT_ENGINE: &str = "mlc";

/// The engine family a measurement's engine label names (`MLC 0.1.2` → `mlc`, `llama.cpp b10964
/// (CUDA)` → `llama.cpp`), or None for an engine outside [`ENGINES`].
pub fn engine_family(label: &str) -> Option<&'static str> {
    let l = label.to_ascii_lowercase();
    // Order matters: Ollama vendors llama.cpp, and TinyChat's README benchmarks transformers.
    let family = if l.contains("ollama") {
        "ollama"
    } else if l.contains("transformers") {
        "transformers"
    } else if l.contains("mlc") {
        "mlc"
    } else if l.contains("llama.cpp") || l.contains("llama_cpp") || l.contains("llama-cpp") || l.contains("llamacpp") {
        "llama.cpp"
    } else if l.contains("vllm") {
        "vllm"
    } else if l.contains("tensorrt") || l.contains("trt-llm") || l.contains("trtllm") {
        "tensorrt-llm"
    } else if l.contains("tinychat") {
        "tinychat"
    } else if l.trim() == "burn" || l.starts_with("burn ") {
        "burn"
    } else {
        return None;
    };
    Some(family)
}

/// An engine name given by a user: its family, or an error that lists the known engines.
pub fn parse_engine(name: &str) -> Result<&'static str> {
    engine_family(name).ok_or_else(|| Error::Unknown {
        kind: "engine",
        name: name.to_string(),
        fix: format!("use one of {}", ENGINES.iter().map(|(e, _)| *e).collect::<Vec<_>>().join(", ")),
    })
}

/// The built-in profiles: one per engine with at least 3 usable public Jetson Orin rows in
/// `data/orin_measurements.csv`, then every row pooled (the profile an engine without rows of its own
/// gets: its leave-one-out residuals span the engines' spread, so its interval is wider).
pub fn builtin_profiles() -> &'static [CalibrationProfile] {
    static PROFILES: OnceLock<Vec<CalibrationProfile>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        #[allow(clippy::expect_used)] // reason: embedded data, fitted in the tests (`builtin_profiles_fit_the_public_rows`)
        let rows = parse_measurements(include_str!("../data/orin_measurements.csv"), "built-in measurements").expect("embedded CSV parses");
        let cat = Catalogue::default();
        #[allow(clippy::expect_used)] // reason: as above
        let mut profiles = fit(&rows, &cat, &[GroupKey::Engine]).expect("embedded rows fit").profiles;
        for p in &mut profiles {
            p.label = format!("built-in: {}, public Jetson Orin measurements ({} rows)", p.label, p.rows_used);
        }
        #[allow(clippy::expect_used)] // reason: as above
        let mut pooled = fit(&rows, &cat, &[]).expect("embedded rows fit").profiles.remove(0);
        pooled.label = format!("built-in: every engine pooled, public Jetson Orin measurements ({} rows)", pooled.rows_used);
        profiles.push(pooled);
        profiles
    })
}

/// The built-in profile of `engine` (a name [`parse_engine`] accepts). An engine without public rows of
/// its own gets the pooled profile, labelled so.
pub fn builtin_for_engine(engine: &str) -> Result<CalibrationProfile> {
    let family = parse_engine(engine)?;
    match builtin_profiles().iter().find(|p| p.scope.engine.as_deref() == Some(family)) {
        Some(p) => Ok(p.clone()),
        None => pooled_builtin(&format!("fewer than 3 usable public {family} measurements, so every engine's rows pooled")),
    }
}

/// The built-in profile fitted on every engine's rows (the last of [`builtin_profiles`]), its label
/// saying why it prices the rows at hand.
fn pooled_builtin(why: &str) -> Result<CalibrationProfile> {
    let mut pooled = builtin_profiles()
        .last()
        .cloned()
        .ok_or_else(|| Error::invalid("engine", "no built-in profile", "fit one with rooflaw calibrate"))?;
    pooled.label = format!("{} — {why}", pooled.label);
    Ok(pooled)
}

/// The profiles of `profiles` that speak for `engine` (a family from [`ENGINES`], or a label as
/// written for another engine): those fitted on its rows when there are any, else those fitted on
/// every engine's rows.
pub fn profiles_for_engine(profiles: &[CalibrationProfile], engine: &str) -> Vec<CalibrationProfile> {
    let same = |p: &&CalibrationProfile| p.scope.engine.as_deref().is_some_and(|e| engine_family(e).unwrap_or(e) == engine);
    let own: Vec<CalibrationProfile> = profiles.iter().filter(same).cloned().collect();
    if own.is_empty() {
        profiles.iter().filter(|p| p.scope.engine.is_none()).cloned().collect()
    } else {
        own
    }
}

/// The built-in profile of the default engine ([`DEFAULT_ENGINE`]). Used by the calibrated level when
/// no engine and no other calibration is given.
pub fn builtin_calibration() -> &'static CalibrationProfile {
    #[allow(clippy::expect_used)] // reason: the default engine has rows in the embedded data (`builtin_profiles_fit_the_public_rows`)
    builtin_profiles()
        .iter()
        .find(|p| p.scope.engine.as_deref() == Some(DEFAULT_ENGINE))
        .expect("the default engine has a built-in profile")
}

/// One measurement priced by the profile of its engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluatedRow {
    /// Data line.
    pub line: usize,
    /// Model id.
    pub model: String,
    /// Device id.
    pub device: String,
    /// Engine family (or the label as written, for an engine outside [`ENGINES`]).
    pub engine: String,
    /// "decode", "prefill" or "request".
    pub phase: String,
    /// Measured seconds.
    pub measured_secs: f64,
    /// The profile's prediction.
    pub predicted_secs: f64,
    /// The prediction's 90% interval, where the profile has one for the phase.
    pub interval_secs: Option<[f64; 2]>,
    /// The profile that priced it.
    pub profile: String,
    /// That profile's leave-one-out error.
    pub profile_loo_mape: Option<f64>,
}

/// The error of one engine's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineError {
    /// Engine.
    pub engine: String,
    /// The profile that priced its rows.
    pub profile: String,
    /// That profile's own leave-one-out error on the rows it was fitted to.
    pub profile_loo_mape: Option<f64>,
    /// Rows.
    pub rows: usize,
    /// Mean absolute relative error.
    pub mape: f64,
    /// Median absolute relative error.
    pub median_ape: f64,
    /// Share of the rows with an interval whose measurement falls inside it.
    pub interval_coverage: Option<f64>,
}

/// What `rooflaw calibrate --evaluate` reports: every row against the current profiles, and the error
/// per engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Error per engine.
    pub engines: Vec<EngineError>,
    /// Every priced row.
    pub rows: Vec<EvaluatedRow>,
    /// Rows that could not be priced, with reasons.
    pub skipped: Vec<SkippedRow>,
}

/// Prices every measurement with the profile of its engine: from `profiles` when given (the one whose
/// engine, device and power mode match), else the built-in profile of the engine (the pooled one for
/// an engine without public rows, or outside [`ENGINES`]), and reports the error per engine.
pub fn evaluate(rows: &[MeasurementRow], catalogue: &Catalogue, profiles: &[CalibrationProfile]) -> Result<Evaluation> {
    let (obs, mut skipped) = resolve(rows, catalogue, &[GroupKey::Engine]);
    if obs.is_empty() {
        return Err(Error::invalid(
            "measurements",
            "no row could be priced",
            "each row needs a reference model (or a config.json), a priced device mode and a modelled precision",
        ));
    }
    let mut out = Vec::new();
    for o in &obs {
        let engine = o.scope.engine.clone().unwrap_or_default();
        let family = engine_family(&engine);
        let profile = if profiles.is_empty() {
            match family {
                Some(f) => builtin_for_engine(f)?,
                None => pooled_builtin(&format!("{engine} is not a known engine"))?,
            }
        } else {
            match select_profile(&profiles_for_engine(profiles, family.unwrap_or(&engine)), &o.target) {
                Some(p) => p.clone(),
                None => {
                    skipped.push(SkippedRow {
                        line: o.line,
                        model: o.arch.name.clone(),
                        reason: format!("the calibration has no profile for engine {engine}"),
                    });
                    continue;
                }
            }
        };
        let predicted = predict_obs(o, &profile.efficiency);
        let interval = match o.kind {
            Measured::Prefill => profile.interval_prefill,
            Measured::Decode | Measured::Request => profile.interval_decode,
        };
        out.push(EvaluatedRow {
            line: o.line,
            model: o.arch.name.clone(),
            device: o.target.device_id.clone(),
            engine,
            phase: o.kind.name().to_string(),
            measured_secs: o.measured_secs,
            predicted_secs: predicted,
            interval_secs: interval.map(|i| i.around(predicted)),
            profile: profile.label.clone(),
            profile_loo_mape: profile.loo_mape,
        });
    }
    if out.is_empty() {
        return Err(Error::invalid(
            "calibration",
            "no profile in the file matches the measurements' engines",
            "fit one on these engines' rows",
        ));
    }
    let mut engines: Vec<String> = out.iter().map(|r| r.engine.clone()).collect();
    engines.sort();
    engines.dedup();
    let summary = engines
        .into_iter()
        .map(|engine| {
            let mine: Vec<&EvaluatedRow> = out.iter().filter(|r| r.engine == engine).collect();
            let mut ape: Vec<f64> = mine.iter().map(|r| ((r.predicted_secs - r.measured_secs) / r.measured_secs).abs()).collect();
            ape.sort_by(f64::total_cmp);
            let with: Vec<&&EvaluatedRow> = mine.iter().filter(|r| r.interval_secs.is_some()).collect();
            let inside = with.iter().filter(|r| r.interval_secs.is_some_and(|[lo, hi]| (lo..=hi).contains(&r.measured_secs))).count();
            EngineError {
                profile: mine[0].profile.clone(),
                profile_loo_mape: mine[0].profile_loo_mape,
                rows: mine.len(),
                mape: ape.iter().sum::<f64>() / ape.len() as f64,
                median_ape: if ape.len() % 2 == 1 { ape[ape.len() / 2] } else { (ape[ape.len() / 2 - 1] + ape[ape.len() / 2]) / 2.0 },
                interval_coverage: (!with.is_empty()).then(|| inside as f64 / with.len() as f64),
                engine,
            }
        })
        .collect();
    Ok(Evaluation { engines: summary, rows: out, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roofline::{latency, Level};

    /// What `rooflaw measure latency` would record for `arch` (its spec `spec`) at fp32 on `device` with
    /// a 128-token prompt and 32 generated tokens, if the calibrated model with `truth` were exact.
    fn bench_box_row(
        arch: &Architecture,
        spec: ArchitectureSpec,
        batch: u64,
        device: &crate::hardware::Device,
        truth: &Efficiency,
    ) -> MeasurementRow {
        let t = Target::new(device, None, Workload::new(batch, 128, 32).unwrap(), Precision::preset("fp32").unwrap()).unwrap();
        let lat = latency(arch, &t, Level::Calibrated, truth);
        MeasurementRow {
            device: device.id.clone(),
            power_mode: "default".into(),
            engine: "burn".into(),
            precision: "fp32".into(),
            model: arch.name.clone(),
            hf_architecture: None,
            batch,
            decode_tokens_per_sec: 1.0 / lat.decode_per_token_secs,
            source: None,
            prompt_tokens: Some(128),
            generated_tokens: Some(32),
            prefill_tokens_per_sec: Some(128.0 / lat.prefill_secs),
            rate_includes_prefill: None,
            config: None,
            architecture: Some(spec),
        }
    }
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn profiles_round_trip_through_the_calibration_file_format() {
        // JSON keeps every field; floats to within the last digit.
        let same = |a: &[CalibrationProfile], b: &[CalibrationProfile]| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    x.label == y.label
                        && x.scope == y.scope
                        && x.rows.len() == y.rows.len()
                        && (x.efficiency.memory - y.efficiency.memory).abs() < 1e-12
                        && (x.efficiency.token_overhead_secs - y.efficiency.token_overhead_secs).abs() < 1e-15
                })
        };
        let one = builtin_calibration().clone();
        let back = profiles_from_json(&profiles_to_json(std::slice::from_ref(&one)).unwrap(), "file").unwrap();
        assert!(same(&back, std::slice::from_ref(&one)));
        let mut other = one.clone();
        other.label = "other".into();
        let two = vec![one.clone(), other];
        let text = profiles_to_json(&two).unwrap();
        assert!(text.trim_start().starts_with('['));
        assert!(same(&profiles_from_json(&text, "file").unwrap(), &two));
        assert!(profiles_from_json("[]", "file").unwrap_err().to_string().contains("no calibration profile"));
        assert!(profiles_from_json("{\"label\": 1}", "cal.json").unwrap_err().to_string().starts_with("cal.json: "));
        let mut bad = one;
        bad.efficiency.memory = 0.0;
        assert!(profiles_from_json(&profiles_to_json(&[bad]).unwrap(), "file").is_err());
    }

    #[test]
    fn builtin_profiles_fit_the_public_rows_per_engine() {
        let all = builtin_profiles();
        let engines: Vec<&str> = all.iter().filter_map(|p| p.scope.engine.as_deref()).collect();
        // transformers has 2 rows: too few for a profile of its own.
        assert_eq!(engines, ["llama.cpp", "mlc", "ollama", "tensorrt-llm", "tinychat", "vllm"]);
        assert!(all.last().unwrap().label.contains("every engine pooled"));
        let p = builtin_calibration();
        assert_eq!(p.scope.engine.as_deref(), Some(DEFAULT_ENGINE));
        // MLC: 17 decode rows and one prefill (Llama-2-7B on AGX Orin, 632.8 tokens/s), which identifies η_c.
        assert_eq!(p.rows_used, 18);
        assert!(p.eta_compute_identified);
        assert!(p.efficiency.memory > 0.3 && p.efficiency.memory <= 1.0, "{:?}", p.efficiency);
        assert!(p.in_sample_mape < 0.15 && p.loo_mape.unwrap() >= p.in_sample_mape, "{p:?}");
        // vLLM's rows are output throughputs that include the 2,048-token prefill: fitted as whole requests.
        let vllm = builtin_for_engine("vLLM 0.8").unwrap();
        assert!(vllm.rows.iter().all(|r| r.phase == "request") && vllm.rows_used >= 10, "{vllm:?}");
        // An engine without rows of its own is priced by the pooled profile, and says so; an unknown one
        // is refused with the list.
        assert!(builtin_for_engine("transformers").unwrap().label.contains("fewer than 3 usable public transformers measurements"));
        let err = builtin_for_engine("tgi").unwrap_err().to_string();
        assert!(err.contains("mlc, llama.cpp, vllm"), "{err}");
    }

    #[test]
    fn each_engine_is_priced_best_by_its_own_profile() {
        // The built-in rows, each priced by its own engine's profile, against all of them priced by the
        // default (MLC) profile: the engine key must lower the error of the engines that differ from MLC.
        let rows = parse_measurements(include_str!("../data/orin_measurements.csv"), "m.csv").unwrap();
        let cat = Catalogue::default();
        let own = evaluate(&rows, &cat, &[]).unwrap();
        // The MLC profile, unscoped, for every engine (a scoped one would price only MLC's rows).
        let mlc = CalibrationProfile { scope: Scope::default(), ..builtin_calibration().clone() };
        let mlc_only = evaluate(&rows, &cat, std::slice::from_ref(&mlc)).unwrap();
        // Scoped, it prices MLC's rows and leaves the others out, saying why.
        let scoped = evaluate(&rows, &cat, std::slice::from_ref(builtin_calibration())).unwrap();
        assert!(scoped.engines.iter().all(|e| e.engine == "mlc"), "{:?}", scoped.engines);
        assert!(scoped.skipped.iter().any(|s| s.reason == "the calibration has no profile for engine vllm"));
        let mape = |e: &Evaluation, engine: &str| e.engines.iter().find(|x| x.engine == engine).unwrap().mape;
        for engine in ["vllm", "llama.cpp", "tensorrt-llm", "tinychat"] {
            assert!(mape(&own, engine) < mape(&mlc_only, engine), "{engine}: {} vs {}", mape(&own, engine), mape(&mlc_only, engine));
        }
        // In-sample, the 90% intervals cover most rows.
        let covered: Vec<f64> = own.engines.iter().filter_map(|e| e.interval_coverage).collect();
        assert!(covered.iter().sum::<f64>() / covered.len() as f64 > 0.8, "{:?}", own.engines);
        assert!(own.rows.iter().all(|r| r.predicted_secs > 0.0) && own.skipped.iter().any(|s| s.model == "LFM2.5-1.2B"));
    }

    #[test]
    fn the_fit_recovers_known_terms_from_synthetic_rows() {
        // Rows generated from the model itself with η_m = 0.6, t_layer = 50 µs, t_token = 1 ms must come back.
        let truth = Efficiency { compute: 1.0, memory: 0.6, layer_overhead_secs: 50e-6, token_overhead_secs: 1e-3, ..Efficiency::PEAK };
        let cat = Catalogue::default();
        let mut rows = Vec::new();
        for (model, device) in [
            ("llama-3.2-1b", "jetson-orin-nano-8gb"),
            ("llama-3.2-3b", "jetson-agx-orin-64gb"),
            ("qwen2.5-0.5b", "jetson-orin-nx-16gb"),
            ("smollm2-360m", "jetson-agx-orin-64gb"),
            ("qwen3-1.7b", "jetson-orin-nano-8gb"),
        ] {
            let arch = find_model(model).unwrap().architecture().unwrap();
            let t = Target::new(cat.get(device).unwrap(), None, Workload::new(1, 32, 128).unwrap(), Precision::FP16).unwrap();
            let secs = latency(&arch, &t, Level::Calibrated, &truth).decode_per_token_secs;
            rows.push(MeasurementRow {
                device: device.into(),
                power_mode: t.power_mode.clone(),
                engine: "synthetic".into(),
                precision: "fp16".into(),
                model: model.into(),
                hf_architecture: None,
                batch: 1,
                decode_tokens_per_sec: 1.0 / secs,
                source: None,
                prompt_tokens: None,
                generated_tokens: None,
                prefill_tokens_per_sec: None,
                rate_includes_prefill: None,
                config: None,
                architecture: None,
            });
        }
        let p = &fit(&rows, &cat, &[]).unwrap().profiles[0];
        assert!((p.efficiency.memory - 0.6).abs() < 0.002, "{:?}", p.efficiency);
        assert!((p.efficiency.token_overhead_secs - 1e-3).abs() < 1e-4, "{:?}", p.efficiency);
        assert!(p.in_sample_mape < 0.002);
    }

    #[test]
    fn rows_that_carry_their_architecture_fit_on_a_custom_device() {
        // What `rooflaw measure latency` records: candidates that are not reference models, on a device
        // measured by `measure roofline`. Rows generated with η_c = 0.5, η_m = 0.7, t_layer = 20 µs,
        // t_token = 0.3 ms, decode and prefill, must give those terms back (η_c is identified by prefill).
        let truth = Efficiency { compute: 0.5, memory: 0.7, layer_overhead_secs: 20e-6, token_overhead_secs: 0.3e-3, ..Efficiency::PEAK };
        let device = crate::hardware::Device::custom("bench-box", 180e9, 14e9, 16e9).unwrap();
        let cat = Catalogue::default().with(vec![device.clone()]);
        let mut rows = Vec::new();
        for (layers, d, heads, kv) in [(2, 256, 4, 4), (4, 384, 6, 2), (6, 512, 8, 2), (8, 256, 4, 1), (3, 640, 10, 5)] {
            let spec = ArchitectureSpec {
                layers,
                d_model: d,
                heads,
                kv_heads: Some(kv),
                ffn_ratio: Some(3.0),
                vocab_size: 8000,
                ..Default::default()
            };
            let arch = spec.validate().unwrap();
            rows.push(bench_box_row(&arch, spec, 1, &device, &truth));
        }
        let report = fit(&rows, &cat, &[]).unwrap();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let p = &report.profiles[0];
        assert_eq!(p.rows_used, 10);
        assert!(p.eta_compute_identified);
        assert!((p.efficiency.compute - 0.5).abs() < 1e-9, "{:?}", p.efficiency);
        assert!((p.efficiency.memory - 0.7).abs() < 0.002, "{:?}", p.efficiency);
        assert!(p.in_sample_mape < 0.01, "{}", p.in_sample_mape);
        assert!(p.loo_mape_decode.unwrap() < 0.01 && p.loo_mape_prefill.unwrap() < 0.01, "{p:?}");
        // An invalid architecture is skipped with its reason, not fitted by name.
        let mut bad = rows[0].clone();
        bad.architecture = Some(ArchitectureSpec { heads: 3, ..bad.architecture.clone().unwrap() });
        let report = fit(&[bad, rows[1].clone(), rows[2].clone(), rows[3].clone()], &cat, &[]).unwrap();
        assert_eq!(report.skipped.len(), 1);
        assert!(report.skipped[0].reason.starts_with("its architecture is invalid"), "{}", report.skipped[0].reason);
    }

    #[test]
    fn the_fit_recovers_the_moe_terms_and_leaves_dense_profiles_without_them() {
        // Rows generated with η_e = 0.4 and t_expert = 30 µs on top of dense terms, for dense and MoE
        // candidates at batch 1 and 4 (a batch of 4 touches more experts per step), decode and prefill.
        let truth = Efficiency {
            compute: 0.5,
            memory: 0.7,
            layer_overhead_secs: 20e-6,
            token_overhead_secs: 0.3e-3,
            expert_efficiency: 0.4,
            expert_overhead_secs: 30e-6,
        };
        let device = crate::hardware::Device::custom("bench-box", 180e9, 14e9, 16e9).unwrap();
        let cat = Catalogue::default().with(vec![device.clone()]);
        let shapes = [
            (4, 384, None, None),
            (6, 512, None, None),
            (8, 256, None, None),
            (4, 384, Some(8), Some(2)),
            (6, 256, Some(16), Some(4)),
            (3, 512, Some(4), Some(1)),
        ];
        let mut rows = Vec::new();
        for (layers, d, experts, active) in shapes {
            let spec = ArchitectureSpec {
                layers,
                d_model: d,
                heads: d / 64,
                kv_heads: Some(2),
                intermediate_size: Some(d * 2),
                experts,
                active_experts: active,
                vocab_size: 8000,
                ..Default::default()
            };
            let arch = spec.validate().unwrap();
            for batch in [1, 4] {
                rows.push(bench_box_row(&arch, spec.clone(), batch, &device, &truth));
            }
        }
        let p = &fit(&rows, &cat, &[]).unwrap().profiles[0];
        let e = p.efficiency;
        assert!((e.expert_efficiency - 0.4).abs() < 0.01, "{e:?}");
        assert!((e.expert_overhead_secs - 30e-6).abs() < 2e-6, "{e:?}");
        assert!(p.in_sample_mape < 0.01 && p.loo_mape.unwrap() < 0.02, "{p:?}");
        // The dense rows alone have no expert terms to fit.
        let dense: Vec<MeasurementRow> = rows.iter().filter(|r| r.architecture.as_ref().unwrap().experts.is_none()).cloned().collect();
        let e = fit(&dense, &cat, &[]).unwrap().profiles[0].efficiency;
        assert_eq!((e.expert_efficiency, e.expert_overhead_secs), (1.0, 0.0));
    }

    #[test]
    fn the_interval_is_the_t_interval_of_the_log_residuals() {
        // Residuals ln(m/p) = ln 1.1, ln 0.9, ln 1.0, ln 1.2 (by hand: mean 0.04307, s 0.12384); n = 4,
        // t_{0.95,3} = 2.353, √(1 + 1/4) = 1.11803: half width 0.32578, factors e^{−0.28271} = 0.75374
        // and e^{0.36885} = 1.44607.
        let pairs = [(1.1, 1.0), (0.9, 1.0), (2.0, 2.0), (3.6, 3.0)];
        let i = Interval::from_loo(&pairs).unwrap();
        assert_eq!((i.rows, i.level), (4, 0.9));
        assert!((i.low - 0.75374).abs() < 2e-5 && (i.high - 1.44607).abs() < 2e-5, "{i:?}");
        assert_eq!(i.around(2.0), [2.0 * i.low, 2.0 * i.high]);
        assert!(Interval::from_loo(&pairs[..2]).is_none());
        // The built-in MLC profile has 17 decode rows and one prefill row: a decode interval only.
        let p = builtin_calibration();
        let d = p.interval_decode.unwrap();
        assert!(d.low < 1.0 && d.high > 1.0 && d.rows == 17, "{d:?}");
        assert!(p.interval_prefill.is_none());
        let l = Latency { prefill_secs: 0.5, decode_secs: 2.0, decode_per_token_secs: 0.02, total_secs: 2.5 };
        let li = p.interval(&l);
        assert_eq!(li.decode_secs, Some([2.0 * d.low, 2.0 * d.high]));
        assert_eq!((li.prefill_secs, li.total_secs), (None, None));
    }

    #[test]
    fn grouped_profiles_are_picked_by_device() {
        let rows: Vec<MeasurementRow> = parse_measurements(include_str!("../data/orin_measurements.csv"), "m.csv")
            .unwrap()
            .into_iter()
            .filter(|r| engine_family(&r.engine) == Some("mlc"))
            .collect();
        let cat = Catalogue::default();
        let report = fit(&rows, &cat, &[GroupKey::Device]).unwrap();
        // MLC rows: 4 usable on AGX Orin, 4 on the Orin Nano, 3 on the Orin Nano Super; none on the Orin NX.
        let devices: Vec<&str> = report.profiles.iter().filter_map(|p| p.scope.device.as_deref()).collect();
        assert_eq!(devices, ["jetson-agx-orin-64gb", "jetson-orin-nano-8gb", "jetson-orin-nano-super-8gb"]);
        let nano = Target::new(cat.get("jetson-orin-nano-8gb").unwrap(), None, Workload::PAPER, Precision::FP16).unwrap();
        assert_eq!(select_profile(&report.profiles, &nano).unwrap().scope.device.as_deref(), Some("jetson-orin-nano-8gb"));
        // A device without its own profile falls back to the first one rather than failing.
        let nx = Target::new(cat.get("jetson-orin-nx-16gb").unwrap(), None, Workload::PAPER, Precision::FP16).unwrap();
        assert!(select_profile(&report.profiles, &nx).is_some());
        let mut pooled = builtin_calibration().clone();
        pooled.label = "pooled".into();
        let both = [pooled, report.profiles[1].clone()];
        assert_eq!(select_profile(&both, &nano).unwrap().scope.device.as_deref(), Some("jetson-orin-nano-8gb"));
        assert_eq!(select_profile(&both, &nx).unwrap().label, "pooled");
    }

    #[test]
    fn measurement_records_are_read_as_json_lines_or_a_list() {
        let line = r#"{"device":"box","power_mode":"default","engine":"burn","precision":"fp32","model":"m","batch":1,"decode_tokens_per_sec":50.0,"prefill":{"median":0.1},"architecture":{"layers":2,"d_model":64,"heads":4,"vocab_size":500}}"#;
        let rows = parse_measurements(&format!("{line}\n\n{line}\n"), "m.jsonl").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].architecture.as_ref().unwrap().d_model, 64);
        assert_eq!(parse_measurements(&format!("[{line}]"), "m.json").unwrap().len(), 1);
        let err = parse_measurements(&format!("{line}\n{{\"device\": 1}}\n"), "m.jsonl").unwrap_err().to_string();
        assert!(err.starts_with("m.jsonl line 2:"), "{err}");
        let err = parse_measurements(&line.replace("50.0", "0"), "m.jsonl").unwrap_err().to_string();
        assert!(err.contains("decode_tokens_per_sec must be a positive number"), "{err}");
    }

    #[test]
    fn bad_files_are_explained() {
        let err = parse_measurements("device,model\nx,y\n", "m.csv").unwrap_err().to_string();
        assert!(err.starts_with("m.csv: missing column(s) power_mode, engine, precision, batch, decode_tokens_per_sec"), "{err}");
        let text = "device,power_mode,engine,precision,model,batch,decode_tokens_per_sec\na,b,c,fp16,m,1,fast\n";
        let err = parse_measurements(text, "m.csv").unwrap_err().to_string();
        assert!(err.starts_with("m.csv line 2:"), "{err}");
        let one = "device,power_mode,engine,precision,model,batch,decode_tokens_per_sec\njetson-agx-orin-64gb,MAXN,MLC,q4f16_ft,Llama-3.2-1B,1,160\n";
        let err = fit(&parse_measurements(one, "m.csv").unwrap(), &Catalogue::default(), &[]).unwrap_err().to_string();
        assert!(err.contains("only 1 usable row(s)"), "{err}");
    }
}
