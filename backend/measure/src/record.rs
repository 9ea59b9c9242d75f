//! The measurement protocol (SCIENCE.md §8) and its record: a warm-up, then R repeats of a prefill and
//! every decode step at its context length; the median, the spread and the raw samples; and a verdict on
//! reliability that flags a noisy run or a busy host rather than dropping it.
//!
//! A record flattens a calibration [`MeasurementRow`], so that a stored record is also a row that
//! `calibrate` fits.

use anyhow::{bail, Result};
use rooflaw::calibrate::MeasurementRow;
use rooflaw::Architecture;
use serde::{Deserialize, Serialize};

use crate::energy::Energy;
use crate::host::Host;

/// Today's date (UTC, `YYYY-MM-DD`).
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Coefficient of variation above which a phase is flagged as unreliable.
pub const MAX_CV: f64 = 0.10;

/// What to time: batch, prompt, generated tokens, the KV depth before the prompt, warm-up and repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyPlan {
    /// Sequences decoded together.
    pub batch: u64,
    /// Prompt tokens prefilled (timed).
    pub prompt: u64,
    /// Tokens generated after the prompt, each step timed.
    pub generate: u64,
    /// Tokens already in the KV cache before the prompt (untimed; llama-bench's `-d`).
    pub depth: u64,
    /// Untimed runs first.
    pub warmup: u32,
    /// Timed runs.
    pub repeat: u32,
}

impl LatencyPlan {
    /// A checked plan.
    pub fn new(batch: u64, prompt: u64, generate: u64, depth: u64, warmup: u32, repeat: u32) -> Result<Self> {
        if batch == 0 {
            bail!("--batch must be at least 1");
        }
        if prompt == 0 {
            bail!("--prompt must be at least 1 token (the prefill that fills the KV cache)");
        }
        if generate == 0 {
            bail!("--generate must be at least 1 token (each decode step is timed)");
        }
        if repeat == 0 {
            bail!("--repeat must be at least 1 (3 or more give a spread)");
        }
        if depth + prompt + generate > 1 << 20 {
            bail!("a context of {} tokens is beyond what is measured here (at most 1,048,576)", depth + prompt + generate);
        }
        Ok(LatencyPlan { batch, prompt, generate, depth, warmup, repeat })
    }

    /// Context length after the last decode step.
    pub fn final_context(&self) -> u64 {
        self.depth + self.prompt + self.generate
    }
}

/// Summary of timed samples (seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// Mean.
    pub mean: f64,
    /// Fastest sample.
    pub min: f64,
    /// Slowest sample.
    pub max: f64,
    /// Sample standard deviation (0 for one sample).
    pub stddev: f64,
    /// stddev / mean.
    pub cv: f64,
    /// The samples, in the order they were taken.
    pub samples: Vec<f64>,
}

impl Stats {
    /// Summary of `samples`; `None` when there are none or one is not a finite positive time.
    pub fn of(samples: Vec<f64>) -> Option<Stats> {
        if samples.is_empty() || samples.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return None;
        }
        let n = samples.len() as f64;
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 };
        let mean = samples.iter().sum::<f64>() / n;
        let stddev = if samples.len() > 1 { (samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
        Some(Stats { median, mean, min: sorted[0], max: sorted[sorted.len() - 1], stddev, cv: stddev / mean, samples })
    }
}

/// Raw times of one measurement: a prefill per repeat, and per repeat every decode step (step i at a
/// context of depth + prompt + i tokens).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhaseTimes {
    /// Seconds per prefill, one per repeat.
    pub prefill: Vec<f64>,
    /// Seconds per decode step, one list per repeat.
    pub decode: Vec<Vec<f64>>,
}

/// Who measured what, where: the fields of a record that the engine does not time.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// Device id (a catalogue or custom device; `measure roofline --save-device` makes one).
    pub device: String,
    /// Power mode (`default` for a custom device).
    pub power_mode: String,
    /// Engine: `burn`, `llama.cpp`, `vllm`, `mlc`.
    pub engine: String,
    /// Engine version or build commit.
    pub engine_version: String,
    /// Backend within the engine (`cpu`, `wgpu`, `cuda`).
    pub backend: String,
    /// Precision label (`fp32`, `F16`, `Q8_0`, `Q4_0`…).
    pub precision: String,
    /// Threads the engine ran with.
    pub threads: usize,
}

/// The host's load around a measurement: 1-minute load averages before and after.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// Before the warm-up.
    pub before: f64,
    /// After the last repeat.
    pub after: f64,
}

/// One latency measurement: a calibration row plus everything needed to judge and reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRecord {
    /// Device, engine, precision, model and rates, as `calibrate` reads them.
    #[serde(flatten)]
    pub row: MeasurementRow,
    /// Engine version or build commit.
    pub engine_version: String,
    /// Backend within the engine.
    pub backend: String,
    /// Threads the engine ran with.
    pub threads: usize,
    /// The plan: batch, prompt, generate, depth, warm-up and repeats.
    pub plan: LatencyPlan,
    /// Seconds per prefill of `plan.prompt` tokens (per batch).
    pub prefill: Stats,
    /// Seconds per decode step, every step of every repeat (samples repeat by repeat).
    pub decode: Stats,
    /// Median decode step of each repeat: their spread is the run-to-run noise (step times also grow
    /// with the context, which is not noise).
    pub decode_repeat_medians: Vec<f64>,
    /// False when a warning below applies; the record is kept either way.
    pub reliable: bool,
    /// Why the record may not be reliable.
    pub warnings: Vec<String>,
    /// Host load around the run.
    pub load: Load,
    /// The machine.
    pub host: Host,
    /// Energy per token, where a power sensor exists.
    pub energy: Energy,
    /// When (RFC 3339, UTC).
    pub measured_at: String,
    /// The rooflaw version that measured.
    pub rooflaw_version: String,
}

impl LatencyRecord {
    /// Summarises raw times into a record, with the reliability verdict.
    pub fn assemble(
        who: Identity,
        arch: &Architecture,
        plan: LatencyPlan,
        times: PhaseTimes,
        load: Load,
        host: Host,
        energy: Energy,
    ) -> Result<Self> {
        let Some(prefill) = Stats::of(times.prefill.clone()) else { bail!("the engine returned no usable prefill time") };
        let all: Vec<f64> = times.decode.iter().flatten().copied().collect();
        let Some(decode) = Stats::of(all) else { bail!("the engine returned no usable decode time") };
        let medians: Vec<f64> = times.decode.iter().filter_map(|r| Stats::of(r.clone()).map(|s| s.median)).collect();
        let mut warnings = Vec::new();
        if plan.repeat < 3 {
            warnings.push(format!("{} repeat(s): the spread is not measured (use --repeat 3 or more)", plan.repeat));
        }
        if prefill.cv > MAX_CV {
            warnings.push(format!(
                "prefill times varied by {:.0}% (coefficient of variation) over {} repeats",
                prefill.cv * 100.0,
                plan.repeat
            ));
        }
        if let Some(m) = Stats::of(medians.clone()) {
            if m.cv > MAX_CV {
                warnings.push(format!("the median decode step varied by {:.0}% between repeats", m.cv * 100.0));
            }
        }
        let idle = host.cpus as f64 - who.threads as f64 + 0.5;
        let busiest = load.before.max(load.after);
        if busiest > idle {
            warnings.push(format!(
                "busy host: load average {busiest:.2} on {} CPUs while measuring with {} thread(s); other work competes for cores and memory bandwidth",
                host.cpus, who.threads
            ));
        }
        // The calibration's workload: a prompt that fills the context before the first decode step.
        // Prefill from a non-empty cache is not what the latency model prices, so it is left out there.
        let row = MeasurementRow {
            device: who.device,
            power_mode: who.power_mode,
            engine: who.engine,
            precision: who.precision,
            model: arch.name.clone(),
            hf_architecture: None,
            batch: plan.batch,
            decode_tokens_per_sec: 1.0 / decode.median,
            source: Some(format!("rooflaw measure latency on {}", host.hostname)),
            prompt_tokens: Some(plan.depth + plan.prompt),
            generated_tokens: Some(plan.generate),
            prefill_tokens_per_sec: (plan.depth == 0).then(|| plan.prompt as f64 / prefill.median),
            rate_includes_prefill: None,
            config: None,
            architecture: Some(arch.to_spec()),
        };
        Ok(LatencyRecord {
            row,
            engine_version: who.engine_version,
            backend: who.backend,
            threads: who.threads,
            plan,
            prefill,
            decode,
            decode_repeat_medians: medians,
            reliable: warnings.is_empty(),
            warnings,
            load,
            host,
            energy,
            measured_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            rooflaw_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::energy::Energy;

    #[test]
    fn stats_by_hand() {
        // Samples 1, 2, 3, 10: median (2+3)/2 = 2.5, mean 4, sample variance ((9+4+1+36)/3) = 50/3,
        // stddev 4.0825, cv 1.0206.
        let s = Stats::of(vec![3.0, 1.0, 10.0, 2.0]).unwrap();
        assert_eq!((s.median, s.mean, s.min, s.max), (2.5, 4.0, 1.0, 10.0));
        assert!((s.stddev - (50.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((s.cv - 1.020_620_726).abs() < 1e-6);
        assert_eq!(s.samples, vec![3.0, 1.0, 10.0, 2.0]);
        assert_eq!(Stats::of(vec![5.0]).unwrap().cv, 0.0);
        assert!(Stats::of(vec![]).is_none());
        assert!(Stats::of(vec![1.0, f64::NAN]).is_none());
        assert!(Stats::of(vec![1.0, 0.0]).is_none());
    }

    fn host(cpus: usize) -> Host {
        Host {
            hostname: "h".into(),
            os: "linux".into(),
            kernel: "6".into(),
            cpu_model: "cpu".into(),
            cpus,
            memory_total_bytes: 1 << 34,
            memory_available_bytes: 1 << 33,
        }
    }

    fn who(threads: usize) -> Identity {
        Identity {
            device: "box".into(),
            power_mode: "default".into(),
            engine: "burn".into(),
            engine_version: "burn 0.22.1".into(),
            backend: "cpu".into(),
            precision: "fp32".into(),
            threads,
        }
    }

    #[test]
    fn a_record_is_a_calibration_row_and_says_when_it_is_unreliable() {
        let arch = rooflaw::models::find_model("smollm2-135m").unwrap().architecture().unwrap();
        let plan = LatencyPlan::new(1, 128, 4, 0, 1, 3).unwrap();
        let steady = PhaseTimes { prefill: vec![0.100, 0.101, 0.099], decode: vec![vec![0.010, 0.011, 0.010, 0.012]; 3] };
        let r = LatencyRecord::assemble(
            who(1),
            &arch,
            plan,
            steady.clone(),
            Load { before: 0.2, after: 0.9 },
            host(2),
            Energy::none("no sensor"),
        )
        .unwrap();
        assert!(r.reliable, "{:?}", r.warnings);
        // Decode median over 12 steps: 10, 10, 10, 11, 11, 11, 12... sorted 6 × 10 ms, 3 × 11 ms, 3 × 12 ms → 10.5 ms.
        assert!((r.row.decode_tokens_per_sec - 1.0 / 0.0105).abs() < 1e-6);
        assert!((r.row.prefill_tokens_per_sec.unwrap() - 1280.0).abs() < 1e-6);
        // The stored JSON is also a calibration row.
        let row: MeasurementRow = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(row, r.row);
        assert_eq!(row.architecture.unwrap().validate().unwrap().params().total, arch.params().total);

        // A noisy prefill, a busy host and a single repeat are each flagged, and the record is kept.
        let noisy = PhaseTimes { prefill: vec![0.1, 0.2, 0.1], ..steady.clone() };
        let r = LatencyRecord::assemble(who(2), &arch, plan, noisy, Load { before: 1.5, after: 1.0 }, host(2), Energy::none("")).unwrap();
        assert!(!r.reliable);
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[0].starts_with("prefill times varied by 43%"), "{}", r.warnings[0]);
        assert!(r.warnings[1].starts_with("busy host: load average 1.50 on 2 CPUs"), "{}", r.warnings[1]);
        let once = LatencyPlan::new(1, 128, 4, 0, 1, 1).unwrap();
        let single = PhaseTimes { prefill: vec![0.1], decode: vec![vec![0.01; 4]] };
        let r = LatencyRecord::assemble(who(1), &arch, once, single, Load { before: 0.0, after: 0.0 }, host(2), Energy::none("")).unwrap();
        assert!(!r.reliable && r.warnings[0].contains("--repeat 3"));
        // From a non-empty KV cache the prefill is not a calibration row.
        let deep = LatencyPlan::new(1, 128, 4, 512, 1, 3).unwrap();
        let r = LatencyRecord::assemble(who(1), &arch, deep, steady, Load { before: 0.0, after: 0.0 }, host(2), Energy::none("")).unwrap();
        assert_eq!((r.row.prompt_tokens, r.row.prefill_tokens_per_sec), (Some(640), None));
    }

    #[test]
    fn bad_plans_are_explained() {
        assert!(LatencyPlan::new(0, 1, 1, 0, 0, 1).unwrap_err().to_string().contains("--batch"));
        assert!(LatencyPlan::new(1, 0, 1, 0, 0, 1).unwrap_err().to_string().contains("--prompt"));
        assert!(LatencyPlan::new(1, 1, 0, 0, 0, 1).unwrap_err().to_string().contains("--generate"));
        assert!(LatencyPlan::new(1, 1, 1, 0, 0, 0).unwrap_err().to_string().contains("--repeat"));
    }
}
