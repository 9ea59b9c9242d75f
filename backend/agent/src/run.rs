//! The agent's loop: register, post what the spool still holds, then claim, run and post jobs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use rooflaw_measure::job::JobSpec;
use rooflaw_measure::LatencyRecord;
use serde_json::{json, Value};

use crate::client::Client;
use crate::facts::Facts;

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Its name on the server (unique).
    pub name: String,
    /// The device id it measures for.
    pub device: String,
    /// The power mode recorded with each measurement.
    pub power_mode: String,
    /// Engine threads when a job does not say.
    pub threads: usize,
    /// Seconds between claims when there is no job.
    pub poll: Duration,
    /// Where results wait until the server has them.
    pub spool: PathBuf,
    /// llama-bench, when not in the tools cache or on PATH.
    pub llama_bench: Option<PathBuf>,
    /// Stop when there is no job (instead of polling).
    pub once: bool,
}

/// Runs one job: a record per depth, or the reason it could not run.
pub fn run_job(spec: &JobSpec, o: &Options) -> Result<Vec<LatencyRecord>> {
    let plans = spec.plans()?;
    let arch = spec.architecture.validate()?;
    let threads = if spec.threads == 0 { o.threads } else { spec.threads };
    let precision = spec.precision();
    let mut records = Vec::new();
    for plan in plans {
        let record = match spec.engine.as_str() {
            "llama.cpp" => {
                let bench = rooflaw_measure::llamacpp::find_tool("llama-bench", o.llama_bench.as_deref())?;
                let engine = rooflaw_measure::llamacpp::LlamaCpp::beside(bench);
                rooflaw_measure::llamacpp::measure(&engine, &arch, &precision, threads, plan, &o.device, &o.power_mode)?
            }
            "vllm" => {
                let tool = rooflaw_measure::adapters::find_vllm()?;
                rooflaw_measure::adapters::vllm_measure(&tool, &arch, &precision, plan, &o.device, &o.power_mode)?
            }
            "mlc" => {
                let script = rooflaw_measure::adapters::find_mlc_benchmark()?;
                let job = spec.mlc.as_ref().ok_or_else(|| anyhow!("an mlc job names no compiled model"))?;
                let model = rooflaw_measure::adapters::MlcModel {
                    model: job.model.clone(),
                    lib: job.lib.as_ref().map(PathBuf::from),
                    prompts: job
                        .prompts
                        .as_ref()
                        .map_or_else(|| PathBuf::from(format!("/data/prompts/completion_{}.json", spec.prompt)), PathBuf::from),
                };
                rooflaw_measure::adapters::mlc_measure(&script, &model, &arch, &precision, plan, &o.device, &o.power_mode)?
            }
            "burn" => burn(&arch, threads, plan, o)?,
            other => return Err(anyhow!("unknown engine '{other}'")),
        };
        records.push(record);
    }
    Ok(records)
}

#[cfg(feature = "burn")]
fn burn(arch: &rooflaw::Architecture, threads: usize, plan: rooflaw_measure::LatencyPlan, o: &Options) -> Result<LatencyRecord> {
    // The rayon pool is set once per process; a later job with another thread count runs on the first.
    let _ = rooflaw_train::trainer::set_threads(threads);
    let place = rooflaw_train::latency::Place { device: o.device.clone(), power_mode: o.power_mode.clone() };
    rooflaw_train::latency::measure(arch, rooflaw_train::trainer::Backend::Cpu, threads, plan, &place)
}

#[cfg(not(feature = "burn"))]
fn burn(_: &rooflaw::Architecture, _: usize, _: rooflaw_measure::LatencyPlan, _: &Options) -> Result<LatencyRecord> {
    Err(anyhow!("this agent was built without the burn engine (feature `burn`); queue the job with engine llama.cpp"))
}

fn spool_file(spool: &Path, job: i64) -> PathBuf {
    spool.join(format!("job-{job}.json"))
}

/// Posts a spooled result and removes it once the server has it.
fn post_spooled(client: &Client, file: &Path) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let saved: Value = serde_json::from_str(&text).with_context(|| format!("{} is damaged", file.display()))?;
    let job = saved["job"].as_i64().ok_or_else(|| anyhow!("{} names no job", file.display()))?;
    client.request("POST", &format!("/measure-jobs/{job}/result"), Some(&saved["result"]))?;
    std::fs::remove_file(file).with_context(|| format!("cannot remove {}", file.display()))?;
    Ok(())
}

/// What one pass of the loop did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Ran (or failed) a job.
    Job(i64),
    /// There was no job.
    Idle,
}

/// Claims one job, runs it, spools and posts its result.
pub fn pass(client: &Client, o: &Options) -> Result<Pass> {
    let (status, job) = client.request("POST", &format!("/agents/{}/claim", o.name), None)?;
    if status == 204 {
        return Ok(Pass::Idle);
    }
    let id = job["id"].as_i64().ok_or_else(|| anyhow!("the server's job has no id: {job}"))?;
    let result =
        match serde_json::from_value::<JobSpec>(job["spec"].clone()).map_err(anyhow::Error::from).and_then(|spec| run_job(&spec, o)) {
            Ok(records) => json!({ "agent": o.name, "records": records }),
            Err(e) => json!({ "agent": o.name, "error": format!("{e:#}") }),
        };
    // Spooled first: if the agent dies before the server has the result, the next start posts it.
    let file = spool_file(&o.spool, id);
    std::fs::write(&file, serde_json::to_string(&json!({ "job": id, "result": result }))?)
        .with_context(|| format!("cannot write {}", file.display()))?;
    post_spooled(client, &file)?;
    Ok(Pass::Job(id))
}

/// Registers, posts what the spool holds, then works until stopped (or, with `once`, until idle).
pub fn work(client: &Client, o: &Options) -> Result<Vec<i64>> {
    std::fs::create_dir_all(&o.spool).with_context(|| format!("cannot create the spool folder {}", o.spool.display()))?;
    let facts = serde_json::to_value(Facts::collect())?;
    client.request("POST", "/agents", Some(&json!({ "name": o.name, "device": o.device, "facts": facts })))?;
    let mut pending: Vec<PathBuf> =
        std::fs::read_dir(&o.spool)?.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    pending.sort();
    for file in pending {
        post_spooled(client, &file)?;
    }
    let mut done = Vec::new();
    loop {
        match pass(client, o)? {
            Pass::Job(id) => done.push(id),
            Pass::Idle if o.once => return Ok(done),
            Pass::Idle => std::thread::sleep(o.poll),
        }
    }
}
