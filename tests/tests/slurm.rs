//! One campaign round on a real single-node Slurm (`scripts/slurm.sh start`, which `scripts/test.sh`
//! runs): the round's twelve runs as one job array, of which one fails with an exit code and is retried
//! once fixed, one is cancelled while it waits, and one is warned by a signal mid-run, checkpoints,
//! requeues itself and completes from its checkpoint; the rest complete. Without `ROOFLAW_TEST_SLURM` the test is skipped
//! (a failure with `ROOFLAW_REQUIRE_SLURM=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rooflaw_tests::{prepare_fixture, rooflaw_bin, run, stdout, tmp};

fn slurm_dir() -> Option<PathBuf> {
    match std::env::var("ROOFLAW_TEST_SLURM") {
        Ok(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => {
            assert!(
                std::env::var("ROOFLAW_REQUIRE_SLURM").as_deref() != Ok("1"),
                "ROOFLAW_REQUIRE_SLURM=1 but no ROOFLAW_TEST_SLURM: start one with `source scripts/slurm.sh start`"
            );
            None
        }
    }
}

fn slurm_cmd(conf: &Path, cmd: &str, args: &[&str]) -> Output {
    let o = Command::new(cmd).args(args).env("SLURM_CONF", conf).output().unwrap();
    assert!(o.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    o
}

/// Campaign 1 as stored (None: not created yet).
fn try_status(data: &Path) -> Option<serde_json::Value> {
    let o = run(&["campaign", "status", "1", "--data-dir", data.to_str().unwrap(), "--format", "json"]);
    o.status.success().then(|| serde_json::from_str(&stdout(&o)).unwrap())
}

fn status(data: &Path) -> serde_json::Value {
    try_status(data).expect("campaign 1 is stored")
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_campaign_round_on_slurm_completes_fails_cancels_and_requeues() {
    let Some(slurm) = slurm_dir() else { return };
    let conf = slurm.join("slurm.conf");
    let dir = tmp("campaign-slurm");
    let (data, shared) = (dir.join("data"), dir.join("shared"));
    prepare_fixture(&data.join("datasets/fixture"));
    // The trainer as the nodes start it: rooflaw itself (exec, so that Slurm's signals reach it), except
    // in a run folder marked FAIL, where it stops with exit code 7 as a crashing trainer would.
    std::fs::create_dir_all(&shared).unwrap();
    let trainer = dir.join("trainer.sh");
    std::fs::write(
        &trainer,
        format!(
            "#!/bin/bash\nfor a; do if [ -f \"$a/FAIL\" ]; then echo 'failing on purpose' >&2; exit 7; fi; done\nexec {} \"$@\"\n",
            rooflaw_bin().display()
        ),
    )
    .unwrap();
    Command::new("chmod").args(["+x", trainer.to_str().unwrap()]).status().unwrap();
    let config = dir.join("slurm.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "time_limit": "00:10:00", "shared_dir": shared, "trainer": trainer, "signal_secs": 60,
            "jobcomp_log": slurm.join("log/jobcomp.log"), "extra": ["--mem=256M"]
        })
        .to_string(),
    )
    .unwrap();
    let request = dir.join("campaign.json");
    std::fs::write(
        &request,
        r#"{
  "name": "on slurm", "space": "tiny", "executor": "slurm",
  "space_spec": {"kind": "grid", "name": "tiny", "layers": [1, 2, 3], "d_model": [32, 64, 96], "head_dim": [16],
    "kv_heads": [1, "all"], "ffn_ratio": [1, 2], "experts": [[1, 1], [4, 1]], "vocab_size": 256, "tied_embeddings": true, "qk_norm": "none"},
  "device": "jetson-orin-nano-8gb", "objective": "decode", "initial_runs": 12, "runs_per_round": 4, "max_runs": 12,
  "bootstrap": 10, "restarts": 4, "draws": 20, "data": "fixture",
  "options": {"tokens": 65536, "batch": 8, "seq": 64, "warmup": 4, "eval_every": 0, "checkpoint_every": 8, "eval_tokens": 8192}
}"#,
    )
    .unwrap();
    // Hold the node so that the round waits in the queue while the test marks its jobs.
    slurm_cmd(&conf, "scontrol", &["update", "NodeName=localhost", "State=DRAIN", "Reason=rooflaw-test"]);
    let mut driver = Command::new(rooflaw_bin())
        .args(["campaign", "run", request.to_str().unwrap(), "--data-dir", data.to_str().unwrap(), "--slurm", config.to_str().unwrap()])
        .env("SLURM_CONF", &conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The driver's log, read as it comes; nothing else opens the database until the driver has created it
    // and said so (two processes migrating a new SQLite file at once can trip each other).
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let (stderr, log) = (driver.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line + "\n"));
            }
        })
    };
    wait_for("the driver to create the campaign", 60, || log.lock().unwrap().contains("campaign 1 'on slurm'").then_some(()));
    let jobs = wait_for("the round's submission", 120, || {
        let v = try_status(&data)?;
        let jobs = v["jobs"].as_array()?.clone();
        (jobs.len() == 12 && jobs.iter().all(|j| j["executor_ref"].is_string())).then_some(jobs)
    });
    let handle = |k: usize| jobs[k]["executor_ref"].as_str().unwrap().to_string();
    let run_dir = |k: usize| shared.join("campaign-000001").join(format!("job-{:06}", jobs[k]["id"].as_i64().unwrap()));
    let array = handle(0).split('_').next().unwrap().to_string();
    assert!((0..12).all(|k| handle(k) == format!("{array}_{k}")), "one array, one task per run: {jobs:?}");
    // Task 1 fails with exit code 7; task 2 is cancelled while it waits.
    std::fs::write(run_dir(1).join("FAIL"), "").unwrap();
    slurm_cmd(&conf, "scancel", &[&handle(2)]);
    slurm_cmd(&conf, "scontrol", &["update", "NodeName=localhost", "State=RESUME"]);
    // Task 1 fails; once the driver has seen it, it is fixed and retried (`scontrol requeue`).
    let failed = jobs[1]["id"].as_i64().unwrap();
    wait_for("task 1 to fail", 120, || {
        let v = try_status(&data)?;
        (v["jobs"][1]["status"] == "failed").then_some(())
    });
    std::fs::remove_file(run_dir(1).join("FAIL")).unwrap();
    let o = Command::new(rooflaw_bin())
        .args(["campaign", "retry", "1", &failed.to_string(), "--data-dir", data.to_str().unwrap(), "--slurm", config.to_str().unwrap()])
        .env("SLURM_CONF", &conf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("queued again"), "{}", stdout(&o));
    // Task 0, mid-run, gets the warning a job gets before its time limit.
    let metrics = run_dir(0).join("metrics.jsonl");
    wait_for("task 0 to train 20 steps", 120, || (std::fs::read_to_string(&metrics).ok()?.lines().count() >= 20).then_some(()));
    // scancel may report an error when the job requeues itself before scancel's reply: the effect is
    // checked below instead.
    let _ = Command::new("scancel").args(["--signal=USR1", "--batch", &handle(0)]).env("SLURM_CONF", &conf).status();
    let out = driver.wait_with_output().unwrap();
    reader.join().unwrap();
    assert!(out.status.success(), "{}", log.lock().unwrap());
    let v = status(&data);
    assert_eq!(v["campaign"]["status"], "done", "{}", v["campaign"]);
    let jobs = v["jobs"].as_array().unwrap();
    let state = |k: usize| jobs[k]["status"].as_str().unwrap().to_string();
    assert_eq!((state(0), state(1), state(2)), ("completed".into(), "completed".into(), "cancelled".into()), "{jobs:?}");
    assert!((3..12).all(|k| state(k) == "completed"), "{jobs:?}");
    // Task 0 stopped at a checkpoint, was requeued, and resumed from it: every step logged once, to the end.
    let log = std::fs::read_to_string(shared.join("campaign-000001").join(format!("slurm-{}.out", handle(0)))).unwrap_or_default();
    assert!(log.contains("checkpoint of step") && log.contains("requeued"), "{log}");
    let steps: Vec<u64> = std::fs::read_to_string(&metrics)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, (1..=128).collect::<Vec<u64>>());
    // Slurm's completion log (written by the controller a little after the jobs end): task 1's first
    // attempt failed with the trainer's exit code, and task 0 has a record for each attempt that requeued
    // itself and then the one that completed. Usually one requeue; scancel retries a signal while the job
    // is in transition, and once delivered it a second time to the requeued job near its end, which
    // checkpointed and requeued again, as a job warned twice should.
    let (t0, t1) = (format!("ArrayJobId={array} ArrayTaskId=0 "), format!("ArrayJobId={array} ArrayTaskId=1 "));
    wait_for("the completion log", 60, || {
        let log = std::fs::read_to_string(slurm.join("log/jobcomp.log")).ok()?;
        let task0: Vec<&str> = log.lines().filter(|l| l.contains(&t0)).collect();
        let failed = log.lines().any(|l| l.contains(&t1) && l.contains("JobState=FAILED") && l.contains("ExitCode=7:0"));
        let completed_last = task0.last().is_some_and(|l| l.contains("JobState=COMPLETED"));
        (failed && task0.len() >= 2 && completed_last && task0.iter().filter(|l| l.contains("JobState=COMPLETED")).count() == 1)
            .then_some(())
    });
    // Eleven runs completed: too few to fit the law's eleven coefficients, which the round says.
    assert!(v["rounds"][0]["summary"]["note"].as_str().unwrap().contains("too few"), "{}", v["rounds"][0]);
}
