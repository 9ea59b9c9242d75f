//! Engines that run on a device but not on this machine: vLLM's `vllm bench latency` with dummy
//! weights. The candidate is written as a Hugging Face `config.json` (the layouts of the GGUF writer),
//! vLLM times whole generations, and two runs separate the phases: a generation of one token is the
//! prefill, and (G-token generation − prefill) / (G − 1) is a decode step.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use rooflaw::Architecture;
use serde::Deserialize;

use crate::energy::Energy;
use crate::gguf::layout;
use crate::host::{self, Host};
use crate::record::{Identity, LatencyPlan, LatencyRecord, Load, PhaseTimes, Stats};

/// A Hugging Face config for `a` (llama, mixtral, qwen2, qwen3, qwen3_moe).
pub fn hf_config(a: &Architecture, context: u64) -> Result<serde_json::Value> {
    let (class, model_type) = match (layout(a)?, a.is_moe()) {
        ("llama", false) => ("LlamaForCausalLM", "llama"),
        ("llama", true) => ("MixtralForCausalLM", "mixtral"),
        ("qwen2", _) => ("Qwen2ForCausalLM", "qwen2"),
        ("qwen3", _) => ("Qwen3ForCausalLM", "qwen3"),
        _ => ("Qwen3MoeForCausalLM", "qwen3_moe"),
    };
    let mut c = serde_json::json!({
        "architectures": [class],
        "model_type": model_type,
        "hidden_size": a.d_model,
        "intermediate_size": a.intermediate_size,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads,
        "head_dim": a.head_dim,
        "vocab_size": a.vocab_size,
        "tie_word_embeddings": a.tied_embeddings,
        "max_position_embeddings": context,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "hidden_act": "silu",
        "torch_dtype": "float16",
    });
    match model_type {
        "mixtral" => {
            c["num_local_experts"] = a.experts.into();
            c["num_experts_per_tok"] = a.active_experts.into();
        }
        "qwen3_moe" => {
            c["num_experts"] = a.experts.into();
            c["num_experts_per_tok"] = a.active_experts.into();
            c["moe_intermediate_size"] = a.intermediate_size.into();
            c["norm_topk_prob"] = true.into();
            c["decoder_sparse_step"] = 1.into();
        }
        _ => {}
    }
    Ok(c)
}

/// `vllm bench latency --output-json FILE`: seconds of each timed generation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VllmLatency {
    /// Mean seconds.
    pub avg_latency: f64,
    /// Seconds per iteration.
    pub latencies: Vec<f64>,
}

/// Parses vLLM's latency JSON.
pub fn parse_vllm(text: &str) -> Result<VllmLatency> {
    let r: VllmLatency =
        serde_json::from_str(text).context("vLLM's latency JSON was not understood (expected avg_latency and latencies)")?;
    if r.latencies.is_empty() || r.latencies.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        bail!("vLLM's latency JSON has no usable latencies");
    }
    Ok(r)
}

/// Prefill and decode samples from a one-token run and a `generate`-token run of the same prompt: the
/// decode step of repeat i is (long_i − median(short)) / (generate − 1).
pub fn split_phases(short: &VllmLatency, long: &VllmLatency, generate: u64) -> Result<PhaseTimes> {
    if generate < 2 {
        bail!("vLLM's decode step is measured from two generation lengths: use --generate 2 or more");
    }
    let Some(prefill) = Stats::of(short.latencies.clone()) else { bail!("no usable prefill latency") };
    let decode: Vec<Vec<f64>> = long.latencies.iter().map(|l| vec![(l - prefill.median) / (generate - 1) as f64]).collect();
    if decode.iter().flatten().any(|s| *s <= 0.0) {
        bail!("a {generate}-token generation was not slower than a 1-token one: the runs are too noisy to separate decode from prefill");
    }
    Ok(PhaseTimes { prefill: short.latencies.clone(), decode })
}

/// `vllm` on `PATH`.
pub fn find_vllm() -> Result<std::path::PathBuf> {
    crate::llamacpp::on_path("vllm")
        .ok_or_else(|| anyhow::anyhow!("vllm was not found on PATH; vLLM runs on the device (pip install vllm there)"))
}

fn vllm_run(tool: &Path, model_dir: &Path, plan: &LatencyPlan, output_len: u64, out: &Path) -> Result<VllmLatency> {
    let args: Vec<String> = [
        "bench",
        "latency",
        "--load-format",
        "dummy",
        "--model",
        &model_dir.to_string_lossy(),
        "--input-len",
        &plan.prompt.to_string(),
        "--output-len",
        &output_len.to_string(),
        "--batch-size",
        &plan.batch.to_string(),
        "--num-iters",
        &plan.repeat.to_string(),
        "--num-iters-warmup",
        &plan.warmup.to_string(),
        "--output-json",
        &out.to_string_lossy(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    crate::llamacpp::run_tool(tool, &args)?;
    parse_vllm(&std::fs::read_to_string(out).with_context(|| format!("vLLM wrote no {}", out.display()))?)
}

/// Measures `a` with vLLM (dummy weights) at `precision` (vLLM's dtype: fp16 or bf16).
pub fn vllm_measure(
    tool: &Path,
    a: &Architecture,
    precision: &str,
    plan: LatencyPlan,
    device: &str,
    power_mode: &str,
) -> Result<LatencyRecord> {
    if plan.depth != 0 {
        bail!("vllm bench latency has no KV depth before the prompt: use --depths 0 with --engine vllm");
    }
    let dir = std::env::temp_dir().join(format!("rooflaw-vllm-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut config = hf_config(a, plan.final_context().max(2048))?;
    config["torch_dtype"] = if precision.eq_ignore_ascii_case("bf16") { "bfloat16" } else { "float16" }.into();
    std::fs::write(dir.join("config.json"), serde_json::to_string_pretty(&config)?)?;
    let load_before = host::load1();
    let runs = (|| {
        Ok::<_, anyhow::Error>((
            vllm_run(tool, &dir, &plan, 1, &dir.join("short.json"))?,
            vllm_run(tool, &dir, &plan, plan.generate, &dir.join("long.json"))?,
        ))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    let (short, long) = runs?;
    let times = split_phases(&short, &long, plan.generate)?;
    let version = Command::new(tool)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let who = Identity {
        device: device.into(),
        power_mode: power_mode.into(),
        engine: "vllm".into(),
        engine_version: format!("vLLM {version}"),
        backend: "cuda".into(),
        precision: precision.into(),
        threads: 1,
    };
    let energy = Energy::none("vLLM runs in its own process: energy per token is measured with --engine burn");
    LatencyRecord::assemble(who, a, plan, times, Load { before: load_before, after: host::load1() }, Host::this(), energy)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use rooflaw::models::find_model;

    use super::*;

    // The shape `vllm bench latency --output-json` writes (avg_latency, latencies, percentiles keyed by
    // 10, 25, 50, 75, 90, 99), for a 1-token and a 33-token generation of the same 128-token prompt.
    const SHORT: &str = r#"{
    "avg_latency": 0.02150,
    "latencies": [0.0214, 0.0216, 0.0215],
    "percentiles": {"10": 0.02142, "25": 0.02145, "50": 0.0215, "75": 0.02155, "90": 0.02158, "99": 0.021598}
}"#;
    const LONG: &str = r#"{
    "avg_latency": 0.34150,
    "latencies": [0.3415, 0.3405, 0.3425],
    "percentiles": {"10": 0.3407, "25": 0.341, "50": 0.3415, "75": 0.342, "90": 0.3423, "99": 0.34248}
}"#;

    #[test]
    fn two_generation_lengths_separate_prefill_and_decode() {
        let (short, long) = (parse_vllm(SHORT).unwrap(), parse_vllm(LONG).unwrap());
        let t = split_phases(&short, &long, 33).unwrap();
        // (0.3415 − 0.0215) / 32 = 10 ms per decode step.
        assert!((t.decode[0][0] - 0.010).abs() < 1e-12, "{:?}", t.decode);
        assert_eq!(t.prefill, vec![0.0214, 0.0216, 0.0215]);
        assert!(split_phases(&short, &long, 1).is_err());
        assert!(split_phases(&long, &short, 33).unwrap_err().to_string().contains("too noisy"));
        assert!(parse_vllm(r#"{"avg_latency": 1.0, "latencies": []}"#).is_err());
        assert!(parse_vllm("Traceback (most recent call last):").is_err());
    }

    #[test]
    fn hf_configs_read_back_as_the_same_architecture() {
        // The science crate's own config.json reader is the independent check: parameters must agree.
        for id in ["qwen3-0.6b", "qwen2.5-0.5b", "llama-3.2-1b", "qwen3-30b-a3b"] {
            let a = find_model(id).unwrap().architecture().unwrap();
            let text = serde_json::to_string(&hf_config(&a, 4096).unwrap()).unwrap();
            let b = rooflaw::hf::from_hf_config(&text).unwrap();
            assert_eq!(b.params().total, a.params().total, "{id}");
            assert_eq!((b.layers, b.kv_heads, b.head_dim, b.experts), (a.layers, a.kv_heads, a.head_dim, a.experts), "{id}");
        }
    }
}
