//! A measurement job as the server queues it and an agent runs it: the architecture, the engine, the
//! precision and the plan. The server checks it on submission with [`JobSpec::plans`]; the agent runs
//! each plan and posts the records.

use anyhow::{bail, Result};
use rooflaw::ArchitectureSpec;
use serde::{Deserialize, Serialize};

use crate::record::LatencyPlan;

/// Engines a job may name.
pub const ENGINES: [&str; 4] = ["burn", "llama.cpp", "vllm", "mlc"];

/// Where an MLC job's compiled model is on the device (MLC has no random-weight mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MlcJob {
    /// The compiled MLC model of the job's architecture (a folder with mlc-chat-config.json, or HF://…-MLC).
    pub model: String,
    /// Its compiled library, when not bundled.
    #[serde(default)]
    pub lib: Option<String>,
    /// The prompts file (default `/data/prompts/completion_{prompt}.json`, as in jetson-containers).
    #[serde(default)]
    pub prompts: Option<String>,
}

/// What to measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JobSpec {
    /// The architecture (random weights).
    pub architecture: ArchitectureSpec,
    /// `burn`, `llama.cpp`, `vllm` or `mlc`.
    pub engine: String,
    /// For `mlc`: the compiled model on the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlc: Option<MlcJob>,
    /// Precision label (`fp32` for burn; `F16`, `Q8_0`, `Q4_0`… for llama.cpp; `fp16`/`bf16` for vLLM).
    #[serde(default)]
    pub precision: Option<String>,
    /// Sequences decoded together.
    #[serde(default = "one")]
    pub batch: u64,
    /// Prompt tokens.
    #[serde(default = "prompt")]
    pub prompt: u64,
    /// Generated tokens.
    #[serde(default = "generate")]
    pub generate: u64,
    /// KV depths, one record each.
    #[serde(default = "depths")]
    pub depths: Vec<u64>,
    /// Timed repeats.
    #[serde(default = "repeat")]
    pub repeat: u32,
    /// Warm-up runs.
    #[serde(default = "one32")]
    pub warmup: u32,
    /// Engine threads (0: the agent's default).
    #[serde(default)]
    pub threads: usize,
}

fn one() -> u64 {
    1
}
fn one32() -> u32 {
    1
}
fn prompt() -> u64 {
    128
}
fn generate() -> u64 {
    32
}
fn depths() -> Vec<u64> {
    vec![0]
}
fn repeat() -> u32 {
    5
}

impl JobSpec {
    /// The engine's precision: the one given, else the engine's default.
    pub fn precision(&self) -> String {
        self.precision.clone().unwrap_or_else(|| match self.engine.as_str() {
            "burn" => "fp32".into(),
            "vllm" => "fp16".into(),
            "mlc" => "q4f16_1".into(),
            _ => "F16".into(),
        })
    }

    /// Checks the job and returns one plan per depth.
    pub fn plans(&self) -> Result<Vec<LatencyPlan>> {
        if !ENGINES.contains(&self.engine.as_str()) {
            bail!("unknown engine '{}': use one of {}", self.engine, ENGINES.join(", "));
        }
        if self.engine == "burn" && !self.precision().eq_ignore_ascii_case("fp32") {
            bail!("the burn engine runs fp32 weights; use precision fp32, or engine llama.cpp for F16, Q8_0 and Q4_0");
        }
        if self.engine == "mlc" && self.mlc.is_none() {
            bail!("an mlc job needs \"mlc\": {{\"model\": …}}, the compiled MLC model of the architecture on the device");
        }
        if self.depths.is_empty() || self.depths.len() > 16 {
            bail!("depths must list between 1 and 16 KV depths");
        }
        if self.repeat > 100 || self.warmup > 10 || self.generate > 4096 || self.batch > 256 {
            bail!("a job is bounded: at most 100 repeats, 10 warm-ups, 4,096 generated tokens and a batch of 256");
        }
        self.architecture.validate()?;
        self.depths.iter().map(|d| LatencyPlan::new(self.batch, self.prompt, self.generate, *d, self.warmup, self.repeat)).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn jobs_take_defaults_and_refuse_bad_input() {
        let job: JobSpec = serde_json::from_str(
            r#"{"architecture": {"layers": 2, "d_model": 64, "heads": 4, "ffn_ratio": 4, "vocab_size": 500}, "engine": "burn"}"#,
        )
        .unwrap();
        let plans = job.plans().unwrap();
        assert_eq!(plans, vec![LatencyPlan::new(1, 128, 32, 0, 1, 5).unwrap()]);
        assert_eq!(job.precision(), "fp32");
        let bad = JobSpec { engine: "tensorrt".into(), ..job.clone() };
        assert_eq!(bad.plans().unwrap_err().to_string(), "unknown engine 'tensorrt': use one of burn, llama.cpp, vllm, mlc");
        let mlc = JobSpec { engine: "mlc".into(), ..job.clone() };
        assert!(mlc.plans().unwrap_err().to_string().contains("compiled MLC model"));
        let mlc = JobSpec { mlc: Some(MlcJob { model: "/models/m-MLC".into(), lib: None, prompts: None }), ..mlc };
        assert!(mlc.plans().is_ok() && mlc.precision() == "q4f16_1");
        let bad = JobSpec { precision: Some("F16".into()), ..job.clone() };
        assert!(bad.plans().unwrap_err().to_string().contains("fp32"));
        let bad = JobSpec { architecture: ArchitectureSpec { heads: 3, ..job.architecture.clone() }, ..job.clone() };
        assert!(bad.plans().is_err());
        assert!(serde_json::from_str::<JobSpec>(r#"{"architecture": {}, "engine": "burn", "oops": 1}"#).is_err());
    }
}
