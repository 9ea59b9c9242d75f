//! The Slurm executor: a campaign round is one job array (`sbatch --parsable --array`), one task per run.
//! Each task's script `exec`s the trainer on its run folder (on the shared filesystem), so that Slurm's
//! signals reach it: `#SBATCH --signal=B:USR1@N` warns it N seconds before the time limit, and the trainer
//! checkpoints and requeues itself (`rooflaw train --requeue`); `--requeue` lets Slurm requeue it after a
//! node failure. A task's state comes from `squeue` while it is queued or running, then from `sacct`, or,
//! where accounting is off, from the job-completion log (`JobCompType=jobcomp/filetxt`); whether it
//! succeeded is read from the run's own `run.json`. There is no maintained Rust client for Slurm: its
//! command-line tools are the portable interface (their `--format` fields are stable across versions,
//! unlike `--json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context as _};
use rooflaw_train::trainer::create_run;
use serde::{Deserialize, Serialize};

use crate::campaign::{job_dir, record_loss, JobState, Submitted};
use crate::runs::RunRequest;

/// How campaign runs are submitted to Slurm (a JSON file, `--slurm FILE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmConfig {
    /// Partition (`--partition`); None: the cluster's default.
    #[serde(default)]
    pub partition: Option<String>,
    /// Account to charge (`--account`).
    #[serde(default)]
    pub account: Option<String>,
    /// GPUs per run (`--gres=gpu:N`; 0: none).
    #[serde(default)]
    pub gpus_per_run: u32,
    /// CPU cores per run (`--cpus-per-task`; also the trainer's threads).
    #[serde(default = "one")]
    pub cpus_per_run: u32,
    /// Time limit of one run (`--time`, e.g. `04:00:00`).
    pub time_limit: String,
    /// A folder every node sees: run folders, job scripts and Slurm's output files go under it.
    pub shared_dir: PathBuf,
    /// The `rooflaw` executable as the nodes see it.
    pub trainer: PathBuf,
    /// Seconds before the time limit that the trainer is told to checkpoint and requeue.
    #[serde(default = "warning_secs")]
    pub signal_secs: u32,
    /// Where Slurm writes finished jobs when accounting is off (`JobCompLoc` of `jobcomp/filetxt`).
    #[serde(default)]
    pub jobcomp_log: Option<PathBuf>,
    /// More `#SBATCH` options, one per entry (e.g. `--qos=normal`).
    #[serde(default)]
    pub extra: Vec<String>,
}

fn one() -> u32 {
    1
}

fn warning_secs() -> u32 {
    120
}

impl SlurmConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> anyhow::Result<SlurmConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the Slurm configuration {}", path.display()))?;
        let c: SlurmConfig = serde_json::from_str(&text).with_context(|| {
            format!("{} is not a Slurm configuration (keys: time_limit, shared_dir, trainer; partition, account, gpus_per_run, cpus_per_run, signal_secs, jobcomp_log, extra)", path.display())
        })?;
        if c.time_limit.trim().is_empty() || c.extra.iter().any(|e| e.contains('\n')) {
            bail!("{}: time_limit must be set (e.g. \"04:00:00\") and extra options must be one line each", path.display());
        }
        Ok(c)
    }
}

/// How the driver sees one Slurm state string: every state Slurm 20–24 reports, mapped in this one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// Waiting (pending, requeued, held, suspended).
    Queued,
    /// On a node.
    Running,
    /// Ended with exit code 0 (success is then read from `run.json`).
    Completed,
    /// Cancelled by a user or an administrator.
    Cancelled,
    /// Ended otherwise (failed, timed out, out of memory, node failure, preempted…).
    Failed,
}

/// Maps a state string from `squeue %T`, `sacct State` or the completion log (`CANCELLED by 0` included).
pub fn map_state(state: &str) -> Mapped {
    let word = state.split_whitespace().next().unwrap_or("").trim_end_matches('+').to_ascii_uppercase();
    match word.as_str() {
        "PENDING" | "PD" | "CONFIGURING" | "CF" | "REQUEUED" | "RQ" | "REQUEUE_HOLD" | "RH" | "REQUEUE_FED" | "RF" | "RESV_DEL_HOLD"
        | "SUSPENDED" | "S" | "RESIZING" | "RS" => Mapped::Queued,
        "RUNNING" | "R" | "COMPLETING" | "CG" | "SIGNALING" | "SI" | "STAGE_OUT" | "SO" | "STOPPED" | "ST" => Mapped::Running,
        "COMPLETED" | "CD" => Mapped::Completed,
        "CANCELLED" | "CA" | "REVOKED" | "RV" => Mapped::Cancelled,
        _ => Mapped::Failed,
    }
}

/// The state of a task Slurm has forgotten (older than `MinJobAge`, no accounting, no completion record).
const GONE: &str = "GONE";

/// The Slurm executor.
#[derive(Debug, Clone)]
pub struct Slurm {
    config: SlurmConfig,
}

/// Runs a Slurm command and returns its standard output, or why it failed.
fn slurm(cmd: &str, args: &[&str]) -> anyhow::Result<String> {
    let o = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| anyhow!("cannot run {cmd} ({e}); is Slurm's client installed on this machine?"))?;
    if !o.status.success() {
        bail!("{cmd} {} failed: {}", args.join(" "), String::from_utf8_lossy(&o.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The `key=value` words of one line of Slurm's output (the completion log, `scontrol show --oneliner`).
fn fields(line: &str) -> BTreeMap<&str, &str> {
    line.split_whitespace().filter_map(|w| w.split_once('=')).collect()
}

/// A handle `ARRAY_TASK` split into its parts.
fn split_ref(r: &str) -> anyhow::Result<(&str, &str)> {
    r.split_once('_').filter(|(a, t)| !a.is_empty() && !t.is_empty()).ok_or_else(|| anyhow!("'{r}' is not a Slurm array task (JOB_TASK)"))
}

/// Single-quotes a word for the job script.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Slurm {
    /// An executor with this configuration.
    pub fn new(config: SlurmConfig) -> Slurm {
        Slurm { config }
    }

    /// The job name of a campaign round's array: the campaign and round, and a digest of the shared
    /// folder, so that campaigns of two databases that share a cluster never take each other's arrays.
    fn job_name(&self, campaign: i64, round: i64) -> String {
        // FNV-1a: a stable digest (std's hasher may change between Rust versions).
        let digest = self
            .config
            .shared_dir
            .to_string_lossy()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        format!("rooflaw-c{campaign}-r{round}-{:08x}", digest as u32)
    }

    /// The run folders of an array's tasks, in task order (as its job script lists them).
    fn array_dirs(&self, array: &str) -> anyhow::Result<Vec<PathBuf>> {
        let map = std::fs::read_to_string(self.config.shared_dir.join("arrays").join(format!("{array}.json")))
            .with_context(|| format!("no record of Slurm array {array} under {}", self.config.shared_dir.display()))?;
        Ok(serde_json::from_str(&map)?)
    }

    /// Creates the run folders of a round and submits them as one array; an array already submitted
    /// under the round's name (a driver that crashed after `sbatch`) is reused.
    pub fn submit(&self, data_dir: &Path, campaign: i64, round: i64, jobs: &[(i64, RunRequest)]) -> anyhow::Result<Vec<Submitted>> {
        let c = &self.config;
        let mut out: Vec<Option<Submitted>> = vec![None; jobs.len()];
        let mut dirs = Vec::new();
        let mut slots = Vec::new();
        for (k, (job, req)) in jobs.iter().enumerate() {
            let dir = job_dir(&c.shared_dir, campaign, *job);
            if !dir.join("config.json").exists() {
                let created = req.resolve(data_dir).and_then(|r| create_run(&dir, &r.model, &r.data, r.backend, None, r.options));
                if let Err(e) = created {
                    out[k] = Some(Submitted::Refused(format!("the trainer refuses this run: {e:#}")));
                    continue;
                }
            }
            dirs.push(dir);
            slots.push(k);
        }
        if !dirs.is_empty() {
            let name = self.job_name(campaign, round);
            let existing = slurm("squeue", &["--noheader", "--array", "--name", &name, "--format=%F"])?;
            let array = match existing.lines().map(str::trim).find(|l| !l.is_empty()) {
                Some(a) => a.to_string(),
                None => self.sbatch(&name, campaign, round, &dirs)?,
            };
            std::fs::create_dir_all(c.shared_dir.join("arrays"))?;
            std::fs::write(c.shared_dir.join("arrays").join(format!("{array}.json")), serde_json::to_string(&dirs)?)?;
            for (task, k) in slots.into_iter().enumerate() {
                out[k] = Some(Submitted::Ref(format!("{array}_{task}")));
            }
        }
        Ok(out.into_iter().map(|s| s.unwrap_or_else(|| Submitted::Refused("not submitted".into()))).collect())
    }

    /// Writes the round's job script and submits it; returns the array's job id.
    fn sbatch(&self, name: &str, campaign: i64, round: i64, dirs: &[PathBuf]) -> anyhow::Result<String> {
        let c = &self.config;
        let folder = c.shared_dir.join(format!("campaign-{campaign:06}"));
        std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
        let mut script = String::from("#!/bin/bash\n");
        let mut opt = |s: String| {
            script.push_str("#SBATCH ");
            script.push_str(&s);
            script.push('\n');
        };
        opt(format!("--job-name={name}"));
        opt(format!("--array=0-{}", dirs.len() - 1));
        opt("--requeue".into());
        opt(format!("--signal=B:USR1@{}", c.signal_secs));
        opt(format!("--time={}", c.time_limit));
        opt(format!("--cpus-per-task={}", c.cpus_per_run.max(1)));
        opt(format!("--output={}", folder.join("slurm-%A_%a.out").display()));
        // A requeued task writes after its first attempt's output instead of over it.
        opt("--open-mode=append".into());
        if let Some(p) = &c.partition {
            opt(format!("--partition={p}"));
        }
        if let Some(a) = &c.account {
            opt(format!("--account={a}"));
        }
        if c.gpus_per_run > 0 {
            opt(format!("--gres=gpu:{}", c.gpus_per_run));
        }
        for e in &c.extra {
            opt(e.clone());
        }
        script.push_str("set -eu\nRUNS=(");
        for d in dirs {
            script.push(' ');
            script.push_str(&quote(&d.display().to_string()));
        }
        script.push_str(" )\n");
        // exec: the trainer is the job's process, so Slurm's signals and its exit code are the trainer's.
        script.push_str(&format!(
            "exec {} train --resume \"${{RUNS[$SLURM_ARRAY_TASK_ID]}}\" --quiet --requeue --threads {}\n",
            quote(&c.trainer.display().to_string()),
            c.cpus_per_run.max(1)
        ));
        let path = folder.join(format!("round-{round:04}.sbatch"));
        std::fs::write(&path, script).with_context(|| format!("cannot write {}", path.display()))?;
        let out = slurm("sbatch", &["--parsable", &path.display().to_string()])?;
        // `--parsable` prints `JOBID` or `JOBID;CLUSTER`.
        let id = out.trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() || !id.chars().all(|ch| ch.is_ascii_digit()) {
            bail!("sbatch printed '{}' instead of a job id", out.trim());
        }
        Ok(id)
    }

    /// Final states of the finished tasks `refs`, by `ARRAY_TASK`: `sacct`, or the completion log when
    /// accounting is off (`sacct` then fails); a task in neither (one cancelled before it started leaves
    /// no completion record) from `scontrol show job` while Slurm remembers it (`MinJobAge`), else
    /// [`GONE`].
    fn finished(&self, arrays: &[&str], refs: &[&String]) -> anyhow::Result<BTreeMap<String, (String, String)>> {
        let mut out = BTreeMap::new();
        let jobs = arrays.join(",");
        match slurm("sacct", &["--noheader", "--parsable2", "--allocations", "--jobs", &jobs, "--format=JobID,State,ExitCode"]) {
            Ok(text) => {
                for l in text.lines() {
                    let f: Vec<&str> = l.split('|').collect();
                    if f.len() >= 3 {
                        out.insert(f[0].to_string(), (f[1].to_string(), f[2].to_string()));
                    }
                }
            }
            Err(e) => {
                let Some(log) = &self.config.jobcomp_log else {
                    return Err(e.context("sacct is unavailable (accounting off?) and no jobcomp_log is configured"));
                };
                let text = std::fs::read_to_string(log).unwrap_or_default();
                // One `key=value` line per finished job (a requeued job has several: the last wins).
                for l in text.lines() {
                    let kv = fields(l);
                    let (Some(array), Some(task)) = (kv.get("ArrayJobId"), kv.get("ArrayTaskId")) else { continue };
                    if !arrays.contains(array) {
                        continue;
                    }
                    let state = kv.get("JobState").copied().unwrap_or("FAILED");
                    out.insert(format!("{array}_{task}"), (state.to_string(), kv.get("ExitCode").copied().unwrap_or("").to_string()));
                }
            }
        }
        // The rest from the controller's memory of the arrays: a task cancelled before it started is
        // dropped from its array and never recorded, so a remembered array without the task means that.
        let missing: Vec<&String> = refs.iter().copied().filter(|r| !out.contains_key(r.as_str())).collect();
        let mut arrays_left: Vec<&str> = missing.iter().filter_map(|r| split_ref(r).ok().map(|(a, _)| a)).collect();
        arrays_left.dedup();
        for array in arrays_left {
            let known = Command::new("scontrol").args(["show", "job", "--oneliner", array]).output();
            let text = match known {
                Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
                _ => String::new(),
            };
            let tasks: BTreeMap<String, (String, String)> = text
                .lines()
                .filter_map(|l| {
                    let kv = fields(l);
                    let state = (kv.get("JobState")?.to_string(), kv.get("ExitCode").copied().unwrap_or("").to_string());
                    Some((format!("{array}_{}", kv.get("ArrayTaskId")?), state))
                })
                .collect();
            for r in missing.iter().filter(|r| r.starts_with(&format!("{array}_"))) {
                let state = match tasks.get(r.as_str()) {
                    Some(s) => s.clone(),
                    None if !tasks.is_empty() => ("CANCELLED".to_string(), "before it started".to_string()),
                    None => (GONE.to_string(), String::new()),
                };
                out.insert(r.to_string(), state);
            }
        }
        Ok(out)
    }

    /// The states of tasks by their handles (see the module notes).
    pub fn poll(&self, refs: &[String]) -> anyhow::Result<Vec<JobState>> {
        let mut arrays: Vec<&str> = refs.iter().map(|r| split_ref(r).map(|(a, _)| a)).collect::<anyhow::Result<_>>()?;
        arrays.sort_unstable();
        arrays.dedup();
        let queue = slurm("squeue", &["--noheader", "--array", "--jobs", &arrays.join(","), "--format=%i|%T"]).unwrap_or_default();
        let live: BTreeMap<&str, &str> = queue.lines().filter_map(|l| l.trim().split_once('|')).collect();
        let gone: Vec<&String> = refs.iter().filter(|r| !live.contains_key(r.as_str())).collect();
        let finished = if gone.is_empty() { BTreeMap::new() } else { self.finished(&arrays, &gone)? };
        let dirs: BTreeMap<&str, Vec<PathBuf>> = arrays.iter().map(|&a| Ok((a, self.array_dirs(a)?))).collect::<anyhow::Result<_>>()?;
        refs.iter()
            .map(|r| {
                let (array, task) = split_ref(r)?;
                let k: usize = task.parse().map_err(|_| anyhow!("'{r}' has no task number"))?;
                let dir = dirs[array].get(k).ok_or_else(|| anyhow!("Slurm array {array} has no task {k}"))?;
                // Slurm writes a task's output beside the run folders (`--output` of the job script).
                let output = dir.parent().map_or(String::new(), |p| p.join(format!("slurm-{r}.out")).display().to_string());
                let record =
                    || -> Option<f64> { record_loss(&serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).ok()?).ok()?) };
                let state = match live.get(r.as_str()) {
                    Some(s) => match map_state(s) {
                        Mapped::Queued => JobState::Queued,
                        _ => JobState::Running,
                    },
                    None => match finished.get(r) {
                        None => JobState::Running,
                        Some((s, _)) if s == GONE => match record() {
                            Some(loss) => JobState::Completed(loss),
                            None => JobState::Failed(format!(
                                "Slurm no longer knows task {r} and it left no run.json (cancelled or lost before it started)"
                            )),
                        },
                        Some((s, code)) => match (map_state(s), record()) {
                            (Mapped::Completed, Some(loss)) => JobState::Completed(loss),
                            (Mapped::Completed, None) => {
                                JobState::Failed(format!("the job completed without a run.json in {}", dir.display()))
                            }
                            (Mapped::Cancelled, _) => JobState::Cancelled,
                            (Mapped::Queued, _) => JobState::Queued,
                            (Mapped::Running, _) => JobState::Running,
                            (Mapped::Failed, _) => {
                                JobState::Failed(format!("Slurm {s} (exit code {code}); the trainer's output is in {output}"))
                            }
                        },
                    },
                };
                Ok(state)
            })
            .collect()
    }

    /// `scancel` a task.
    pub fn cancel(&self, r: &str) -> anyhow::Result<()> {
        split_ref(r)?;
        slurm("scancel", &[r]).map(|_| ())
    }

    /// `scontrol requeue` a task (a failed or cancelled one starts again from its checkpoint).
    pub fn retry(&self, r: &str) -> anyhow::Result<()> {
        split_ref(r)?;
        slurm("scontrol", &["requeue", r]).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slurm_state_maps_to_one_of_five() {
        for (s, m) in [
            ("PENDING", Mapped::Queued),
            ("REQUEUED", Mapped::Queued),
            ("REQUEUE_HOLD", Mapped::Queued),
            ("RUNNING", Mapped::Running),
            ("COMPLETING", Mapped::Running),
            ("COMPLETED", Mapped::Completed),
            ("CANCELLED by 0", Mapped::Cancelled),
            ("CANCELLED+", Mapped::Cancelled),
            ("FAILED", Mapped::Failed),
            ("TIMEOUT", Mapped::Failed),
            ("OUT_OF_MEMORY", Mapped::Failed),
            ("NODE_FAIL", Mapped::Failed),
            ("PREEMPTED", Mapped::Failed),
        ] {
            assert_eq!(map_state(s), m, "{s}");
        }
    }

    #[test]
    fn handles_and_quoting() {
        assert_eq!(split_ref("123_4").unwrap(), ("123", "4"));
        assert!(split_ref("123").is_err() && split_ref("_4").is_err());
        assert_eq!(quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
