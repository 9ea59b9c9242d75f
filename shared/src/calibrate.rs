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
//! generated_tokens, prefill_tokens_per_sec` (optional). `model` (or `hf_architecture`) must name a
//! reference model; `precision` is an engine label (`q4f16_ft`, `Q4_K_M`, `Q8_0`, `fp16`…).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::arch::{Architecture, ArchitectureSpec};
use crate::error::{Error, Result};
use crate::hardware::Catalogue;
use crate::models::find_model;
use crate::precision::Precision;
use crate::roofline::{latency, Efficiency, Level, Target};
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
    /// The measured architecture, for a candidate that is not a reference model (what `rooflaw measure
    /// latency` records). JSON only: a CSV row names a reference model.
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
    /// "decode" or "prefill".
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
    /// Engine, as written in the measurements.
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
    /// The leave-one-out error of the decode rows only.
    #[serde(default)]
    pub loo_mape_decode: Option<f64>,
    /// The leave-one-out error of the prefill rows only (none without prefill rows).
    #[serde(default)]
    pub loo_mape_prefill: Option<f64>,
    /// Rows with their predictions.
    pub rows: Vec<FittedRow>,
}

/// Everything a calibration run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// One profile per group.
    pub profiles: Vec<CalibrationProfile>,
    /// Rows left out, with reasons.
    pub skipped: Vec<SkippedRow>,
}

/// A usable observation: a target and architecture, the phase and the measured seconds.
#[derive(Debug, Clone)]
struct Obs {
    line: usize,
    arch: Architecture,
    target: Target,
    decode: bool,
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
                GroupKey::Engine => scope.engine = Some(row.engine.clone()),
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
            decode: true,
            measured_secs: 1.0 / row.decode_tokens_per_sec,
            group: group.clone(),
            scope: scope.clone(),
        });
        if let Some(rate) = row.prefill_tokens_per_sec.filter(|r| r.is_finite() && *r > 0.0) {
            obs.push(Obs { line, arch, target, decode: false, measured_secs: prompt as f64 / rate, group, scope });
        }
    }
    (obs, skipped)
}

/// Roofline part (no overheads) of an observation at efficiencies (η_c, η_m), and the number of
/// forward passes it contains (1 for a decode step or a prefill).
fn roofline_secs(o: &Obs, eta_c: f64, eta_m: f64) -> f64 {
    let eff = Efficiency { compute: eta_c, memory: eta_m, layer_overhead_secs: 0.0, token_overhead_secs: 0.0 };
    let lat = latency(&o.arch, &o.target, Level::Calibrated, &eff);
    if o.decode {
        lat.decode_per_token_secs
    } else {
        lat.prefill_secs
    }
}

/// Non-negative least squares of Σ ((r_i + l_i·x + y − m_i)/m_i)² over x, y ≥ 0.
fn nnls_overheads(r: &[f64], layers: &[f64], m: &[f64]) -> (f64, f64, f64) {
    let sse = |x: f64, y: f64| r.iter().zip(layers).zip(m).map(|((r, l), m)| ((r + l * x + y - m) / m).powi(2)).sum::<f64>();
    // Normal equations of the weighted problem: a_i = l_i/m_i, b_i = 1/m_i, target c_i = (m_i − r_i)/m_i.
    let (mut saa, mut sab, mut sbb, mut sac, mut sbc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for ((r, l), m) in r.iter().zip(layers).zip(m) {
        let (a, b, c) = (l / m, 1.0 / m, (m - r) / m);
        saa += a * a;
        sab += a * b;
        sbb += b * b;
        sac += a * c;
        sbc += b * c;
    }
    let mut candidates = vec![(0.0, 0.0)];
    let det = saa * sbb - sab * sab;
    if det.abs() > 1e-300 {
        candidates.push(((sac * sbb - sab * sbc) / det, (saa * sbc - sab * sac) / det));
    }
    candidates.push(((sac / saa).max(0.0), 0.0));
    candidates.push((0.0, (sbc / sbb).max(0.0)));
    candidates
        .into_iter()
        .filter(|(x, y)| *x >= 0.0 && *y >= 0.0 && x.is_finite() && y.is_finite())
        .map(|(x, y)| (x, y, sse(x, y)))
        .fold((0.0, 0.0, f64::INFINITY), |best, c| if c.2 < best.2 { c } else { best })
}

fn fit_obs(obs: &[&Obs]) -> Efficiency {
    let identified = obs.iter().any(|o| !o.decode);
    let eta_c_grid: Vec<f64> = if identified { (1..=20).map(|k| k as f64 * 0.05).collect() } else { vec![1.0] };
    let m: Vec<f64> = obs.iter().map(|o| o.measured_secs).collect();
    let layers: Vec<f64> = obs.iter().map(|o| o.arch.layers as f64).collect();
    let mut best = (Efficiency::PEAK, f64::INFINITY);
    let try_point = |eta_c: f64, eta_m: f64, best: &mut (Efficiency, f64)| {
        let r: Vec<f64> = obs.iter().map(|o| roofline_secs(o, eta_c, eta_m)).collect();
        let (x, y, sse) = nnls_overheads(&r, &layers, &m);
        if sse < best.1 {
            *best = (Efficiency { compute: eta_c, memory: eta_m, layer_overhead_secs: x, token_overhead_secs: y }, sse);
        }
    };
    for &eta_c in &eta_c_grid {
        for k in 1..=100 {
            try_point(eta_c, k as f64 * 0.01, &mut best);
        }
    }
    // Refine η_m around the best grid point.
    let (c0, m0) = (best.0.compute, best.0.memory);
    for k in -10..=10 {
        let eta_m = m0 + k as f64 * 0.001;
        if eta_m > 0.0 && eta_m <= 1.0 {
            try_point(c0, eta_m, &mut best);
        }
    }
    best.0
}

fn predict_obs(o: &Obs, e: &Efficiency) -> f64 {
    roofline_secs(o, e.compute, e.memory) + o.arch.layers as f64 * e.layer_overhead_secs + e.token_overhead_secs
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
        let eff = fit_obs(&members);
        let loo: Vec<Option<f64>> = (0..members.len())
            .map(|i| {
                let rest: Vec<&Obs> = members.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| *o).collect();
                (rest.len() >= 3).then(|| predict_obs(members[i], &fit_obs(&rest)))
            })
            .collect();
        let rows: Vec<FittedRow> = members
            .iter()
            .zip(&loo)
            .map(|(o, l)| FittedRow {
                line: o.line,
                model: o.arch.name.clone(),
                device: o.target.device_id.clone(),
                phase: if o.decode { "decode" } else { "prefill" }.to_string(),
                measured_secs: o.measured_secs,
                predicted_secs: predict_obs(o, &eff),
                loo_predicted_secs: *l,
            })
            .collect();
        let mape = |f: &dyn Fn(&FittedRow) -> Option<f64>| {
            let errs: Vec<f64> = rows.iter().filter_map(|r| f(r).map(|p| (p - r.measured_secs).abs() / r.measured_secs)).collect();
            (!errs.is_empty()).then(|| errs.iter().sum::<f64>() / errs.len() as f64)
        };
        let phase_loo = |phase: &str| mape(&|r| r.loo_predicted_secs.filter(|_| r.phase == phase));
        profiles.push(CalibrationProfile {
            label: if g.is_empty() { "all rows".to_string() } else { g },
            scope: members[0].scope.clone(),
            efficiency: eff,
            eta_compute_identified: members.iter().any(|o| !o.decode),
            rows_used: members.len(),
            in_sample_mape: mape(&|r| Some(r.predicted_secs)).unwrap_or(0.0),
            loo_mape: mape(&|r| r.loo_predicted_secs),
            loo_mape_decode: phase_loo("decode"),
            loo_mape_prefill: phase_loo("prefill"),
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

/// The built-in profile: all public Jetson Orin rows of `data/orin_measurements.csv` (MLC, W4A16 decode)
/// fitted together. Used by the calibrated level when no other calibration is given.
pub fn builtin_calibration() -> &'static CalibrationProfile {
    static PROFILE: OnceLock<CalibrationProfile> = OnceLock::new();
    PROFILE.get_or_init(|| {
        #[allow(clippy::expect_used)] // reason: embedded data, fitted in the tests (`builtin_profile_fits_the_public_rows`)
        let rows = parse_measurements(include_str!("../data/orin_measurements.csv"), "built-in measurements").expect("embedded CSV parses");
        #[allow(clippy::expect_used)] // reason: as above
        let report = fit(&rows, &Catalogue::default(), &[]).expect("embedded rows fit");
        let mut report = report;
        let mut p = report.profiles.remove(0);
        p.label = "built-in: public Jetson Orin decode rates (MLC, W4A16), all rows".to_string();
        p
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn builtin_profile_fits_the_public_rows() {
        let p = builtin_calibration();
        // 10 rows: 7 MLC q4f16 rows resolve; the GGUF row, the Q2_K row and LFM2.5 are skipped.
        assert_eq!(p.rows_used, 7);
        assert!(p.efficiency.memory > 0.3 && p.efficiency.memory <= 1.0, "{:?}", p.efficiency);
        assert!(p.in_sample_mape < 0.15, "{}", p.in_sample_mape);
        assert!(p.loo_mape.unwrap() >= p.in_sample_mape);
        assert!(!p.eta_compute_identified);
    }

    #[test]
    fn the_fit_recovers_known_terms_from_synthetic_rows() {
        // Rows generated from the model itself with η_m = 0.6, t_layer = 50 µs, t_token = 1 ms must come back.
        let truth = Efficiency { compute: 1.0, memory: 0.6, layer_overhead_secs: 50e-6, token_overhead_secs: 1e-3 };
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
        let truth = Efficiency { compute: 0.5, memory: 0.7, layer_overhead_secs: 20e-6, token_overhead_secs: 0.3e-3 };
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
            let t = Target::new(&device, None, Workload::new(1, 128, 32).unwrap(), Precision::preset("fp32").unwrap()).unwrap();
            let lat = latency(&arch, &t, Level::Calibrated, &truth);
            rows.push(MeasurementRow {
                device: "bench-box".into(),
                power_mode: "default".into(),
                engine: "burn".into(),
                precision: "fp32".into(),
                model: arch.name.clone(),
                hf_architecture: None,
                batch: 1,
                decode_tokens_per_sec: 1.0 / lat.decode_per_token_secs,
                source: None,
                prompt_tokens: Some(128),
                generated_tokens: Some(32),
                prefill_tokens_per_sec: Some(128.0 / lat.prefill_secs),
                architecture: Some(spec),
            });
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
    fn grouped_profiles_are_picked_by_device() {
        let rows = parse_measurements(include_str!("../data/orin_measurements.csv"), "m.csv").unwrap();
        let cat = Catalogue::default();
        let report = fit(&rows, &cat, &[GroupKey::Device]).unwrap();
        // AGX Orin has 2 usable rows and the Orin Nano Super 2: only the Orin Nano 8GB (3 rows) gets a profile.
        assert_eq!(report.profiles.len(), 1);
        assert_eq!(report.profiles[0].scope.device.as_deref(), Some("jetson-orin-nano-8gb"));
        let nano = Target::new(cat.get("jetson-orin-nano-8gb").unwrap(), None, Workload::PAPER, Precision::FP16).unwrap();
        assert_eq!(select_profile(&report.profiles, &nano).unwrap().scope.device.as_deref(), Some("jetson-orin-nano-8gb"));
        // A device without its own profile falls back to the first one rather than failing.
        let agx = Target::new(cat.get("jetson-agx-orin-64gb").unwrap(), None, Workload::PAPER, Precision::FP16).unwrap();
        assert!(select_profile(&report.profiles, &agx).is_some());
        let mut pooled = builtin_calibration().clone();
        pooled.label = "pooled".into();
        let both = [pooled, report.profiles[0].clone()];
        assert_eq!(select_profile(&both, &nano).unwrap().scope.device.as_deref(), Some("jetson-orin-nano-8gb"));
        assert_eq!(select_profile(&both, &agx).unwrap().label, "pooled");
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
