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

/// One result line of MLC's benchmark (jetson-containers `packages/llm/mlc/benchmark.py`, the script the
/// Jetson containers run): `MODEL:  input=16 output=128 prefill_time 0.081 sec, prefill_rate 197.0
/// tokens/sec, decode_time 6.632 sec, decode_rate 19.3 tokens/sec` for each prompt, and the same without
/// `input=… output=…` after an `AVERAGE OVER N RUNS…` header (whose token counts it then takes).
#[derive(Debug, Clone, PartialEq)]
pub struct MlcLine {
    /// The model path or name the script was given.
    pub model: String,
    /// Prompt tokens prefilled (MLC's count, chat template included).
    pub input_tokens: Option<u64>,
    /// Tokens generated.
    pub output_tokens: Option<u64>,
    /// Seconds of the prefill.
    pub prefill_secs: f64,
    /// Seconds of all decode steps.
    pub decode_secs: f64,
    /// Whether this is the script's average over the runs after the first.
    pub average: bool,
}

/// The number after `key` in `line` (up to the next space or comma).
fn number_after(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.split([' ', ',', ')']).next()?.trim().parse().ok()
}

/// Parses MLC benchmark output: every per-prompt line, and the average line, in the three formats the
/// script has printed since 2023 (see [`MlcLine`]).
pub fn parse_mlc_benchmark(text: &str) -> Result<Vec<MlcLine>> {
    let mut lines = Vec::new();
    let mut average: Option<(Option<u64>, Option<u64>)> = None;
    for line in text.lines().map(str::trim_end) {
        if let Some(header) = line.strip_prefix("AVERAGE OVER ") {
            let tokens = |keys: [&str; 2]| keys.iter().find_map(|k| number_after(header, k)).map(|n| n as u64);
            average = Some((tokens(["input_tokens=", "input="]), tokens(["output_tokens=", "output="])));
            continue;
        }
        if !line.contains(" prefill_time ") {
            continue;
        }
        let Some(colon) = line.find(":  ") else { continue };
        let field = |key: &str| {
            number_after(line, key).ok_or_else(|| anyhow::anyhow!("MLC's benchmark line has no number after '{}': {line}", key.trim()))
        };
        let (prefill_secs, decode_secs) = (field("prefill_time ")?, field("decode_time ")?);
        let (prefill_rate, decode_rate) = (field("prefill_rate ")?, field("decode_rate ")?);
        if !(prefill_secs > 0.0 && decode_secs > 0.0 && prefill_rate > 0.0 && decode_rate > 0.0) {
            bail!("MLC's benchmark line has a non-positive time or rate (its decode rate was missing?): {line}");
        }
        let (input_tokens, output_tokens, is_average) = match average.take() {
            Some((i, o)) => (i, o, true),
            None => (number_after(line, "input=").map(|n| n as u64), number_after(line, "output=").map(|n| n as u64), false),
        };
        // The times are printed to the millisecond (a 16-token prefill of 25 ms is 1% off); with the
        // token counts the rates (to 0.1 token/s) give them more precisely.
        let prefill_secs = input_tokens.map_or(prefill_secs, |n| n as f64 / prefill_rate);
        let decode_secs = output_tokens.map_or(decode_secs, |n| n as f64 / decode_rate);
        lines.push(MlcLine {
            model: line[..colon].trim().to_string(),
            input_tokens,
            output_tokens,
            prefill_secs,
            decode_secs,
            average: is_average,
        });
    }
    if lines.is_empty() {
        bail!("MLC's benchmark printed no result line (expected 'MODEL:  input=… prefill_time … sec, …')");
    }
    Ok(lines)
}

/// MLC's benchmark script: `ROOFLAW_MLC_BENCHMARK`, else where the jetson-containers MLC images keep it.
pub fn find_mlc_benchmark() -> Result<std::path::PathBuf> {
    let candidates: Vec<std::path::PathBuf> = std::env::var_os("ROOFLAW_MLC_BENCHMARK")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(["/opt/mlc-llm/benchmark.py", "/test/benchmark.py"].map(std::path::PathBuf::from))
        .collect();
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        anyhow::anyhow!(
            "MLC's benchmark.py was not found; MLC runs on the device (jetson-containers' mlc image has it): set ROOFLAW_MLC_BENCHMARK to packages/llm/mlc/benchmark.py"
        )
    })
}

/// Where MLC's model and prompts are: a compiled MLC model (a folder with `mlc-chat-config.json`, or
/// `HF://…-MLC`), its library when not bundled, and a prompts file in jetson-containers' format
/// (`/data/prompts/completion_N.json`: a list of `{"text", "num_tokens"}`).
#[derive(Debug, Clone)]
pub struct MlcModel {
    /// `--model` of the script.
    pub model: String,
    /// `--model-lib-path`.
    pub lib: Option<std::path::PathBuf>,
    /// `--prompt` file.
    pub prompts: std::path::PathBuf,
}

/// Measures the reference architecture `a` as MLC runs `m` on this device: the script's first prompt is
/// its warm-up, then one per repeat. The record's prompt length is the tokens MLC prefilled.
pub fn mlc_measure(
    script: &Path,
    m: &MlcModel,
    a: &Architecture,
    precision: &str,
    plan: LatencyPlan,
    device: &str,
    power_mode: &str,
) -> Result<LatencyRecord> {
    if plan.batch != 1 || plan.depth != 0 {
        bail!("MLC's benchmark runs one sequence from an empty cache: use --batch 1 --depths 0 with --engine mlc");
    }
    if !m.prompts.is_file() {
        bail!("the prompts file {} was not found (jetson-containers keeps them in /data/prompts/completion_N.json)", m.prompts.display());
    }
    // benchmark.py averages the prompts after the first, and fails with a single one.
    let prompts = (plan.repeat + 1).max(2);
    let mut args: Vec<String> = vec![
        script.display().to_string(),
        "--model".into(),
        m.model.clone(),
        "--prompt".into(),
        m.prompts.display().to_string(),
        "--max-new-tokens".into(),
        plan.generate.to_string(),
        "--max-num-prompts".into(),
        prompts.to_string(),
    ];
    if let Some(lib) = &m.lib {
        args.extend(["--model-lib-path".into(), lib.display().to_string()]);
    }
    let load_before = host::load1();
    let python = crate::llamacpp::on_path("python3")
        .ok_or_else(|| anyhow::anyhow!("python3 was not found on PATH; MLC's benchmark is a Python script"))?;
    let out = crate::llamacpp::run_tool(&python, &args)?;
    let runs: Vec<MlcLine> = parse_mlc_benchmark(&out)?.into_iter().filter(|l| !l.average).skip(1).collect();
    if runs.is_empty() {
        bail!("MLC's benchmark printed no timed prompt after its warm-up");
    }
    let generated = runs.iter().filter_map(|r| r.output_tokens).min().unwrap_or(plan.generate).max(1);
    let times = PhaseTimes {
        prefill: runs.iter().map(|r| r.prefill_secs).collect(),
        decode: runs.iter().map(|r| vec![r.decode_secs / r.output_tokens.unwrap_or(plan.generate).max(1) as f64]).collect(),
    };
    let prefilled = runs.iter().filter_map(|r| r.input_tokens).max().unwrap_or(plan.prompt);
    let plan = LatencyPlan::new(1, prefilled, generated, 0, 1, u32::try_from(runs.len()).unwrap_or(u32::MAX))?;
    let who = Identity {
        device: device.into(),
        power_mode: power_mode.into(),
        engine: "mlc".into(),
        engine_version: format!("MLC LLM ({}, {})", script.display(), m.model),
        backend: "cuda".into(),
        precision: precision.into(),
        threads: 1,
    };
    let energy = Energy::none("MLC runs in its own process: energy per token is measured with --engine burn");
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
    fn recorded_mlc_benchmark_outputs_are_read() {
        // jetson-containers issue 412 (AGX Orin 32GB, JetPack 6.0), a per-prompt line, verbatim.
        let issue = "/data/models/mlc/dist/Llama-2-7b-chat-hf-q4f16_ft/params:  input=16 output=128 prefill_time 0.081 sec, prefill_rate 197.0 tokens/sec, decode_time 6.632 sec, decode_rate 19.3 tokens/sec";
        let l = &parse_mlc_benchmark(issue).unwrap()[0];
        assert_eq!(
            (l.model.as_str(), l.input_tokens, l.output_tokens),
            ("/data/models/mlc/dist/Llama-2-7b-chat-hf-q4f16_ft/params", Some(16), Some(128))
        );
        // From the rates: 16 / 197.0 = 0.08122 s and 128 / 19.3 = 6.6321 s (printed 0.081 and 6.632).
        assert!((l.prefill_secs - 16.0 / 197.0).abs() < 1e-12 && (l.decode_secs - 128.0 / 19.3).abs() < 1e-12, "{l:?}");
        assert!(!l.average);
        // jetson-containers packages/llm/mlc/README.md (MLC 0.1.0 on AGX Orin), the average block, verbatim.
        let readme = "AVERAGE OVER 3 RUNS, input=16, output=128\n/data/models/mlc/0.1.0/Llama-2-7b-hf-q4f16_ft/params:  prefill_time 0.025 sec, prefill_rate 632.8 tokens/sec, decode_time 2.731 sec, decode_rate 46.9 tokens/sec\n";
        let l = &parse_mlc_benchmark(readme).unwrap()[0];
        assert_eq!((l.input_tokens, l.output_tokens, l.average), (Some(16), Some(128), true));
        // 16 / 632.8 = 25.28 ms where the line prints 0.025 s; 128 / 46.9 = 2.7292 s (printed 2.731).
        assert!((l.prefill_secs - 0.025_284).abs() < 1e-6 && (l.decode_secs - 2.729_21).abs() < 1e-5, "{l:?}");
        // The oldest format (docs.md, October 2023) and the current header (benchmark.py's source).
        let old = "AVERAGE OVER 10 RUNS:\n/data/models/mlc/ft_mqa/Llama-2-7b-chat-hf-q4f16_ft/params:  prefill_time 0.027 sec, prefill_rate 582.8 tokens/sec, decode_time 2.986 sec, decode_rate 42.9 tokens/sec";
        assert_eq!(parse_mlc_benchmark(old).unwrap()[0].input_tokens, None);
        let now = "AVERAGE OVER 3 RUNS  (input_tokens=29, output_tokens=128)\nHF://mlc-ai/x-MLC:  prefill_time 0.030 sec, prefill_rate 966.7 tokens/sec, decode_time 2.500 sec, decode_rate 51.2 tokens/sec";
        assert_eq!(parse_mlc_benchmark(now).unwrap()[0].input_tokens, Some(29));
        assert!(parse_mlc_benchmark("-- loading model\nPeak memory usage:  900.00 MB").unwrap_err().to_string().contains("no result line"));
        let negative = "m:  input=16 output=128 prefill_time 0.081 sec, prefill_rate 197.0 tokens/sec, decode_time -128.000 sec, decode_rate -1 tokens/sec";
        assert!(parse_mlc_benchmark(negative).unwrap_err().to_string().contains("non-positive"));
        // Without token counts (the oldest format) the printed times are what there is.
        assert_eq!(parse_mlc_benchmark(old).unwrap()[0].decode_secs, 2.986);
    }

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
