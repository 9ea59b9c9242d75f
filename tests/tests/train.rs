//! `rooflaw data prepare` and `rooflaw train` on the committed fixture: learning, kill -9 and exact resume, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rooflaw_tests::{prepare_fixture, rooflaw_bin, run, stderr, tmp, Scratch};

const TINY: &str = r#"{"layers": 2, "d_model": 64, "heads": 4, "kv_heads": 2, "ffn_ratio": 2, "vocab_size": 256, "tied_embeddings": true}"#;

/// A byte-level data folder from the fixture, and the tiny architecture's spec file.
fn setup(name: &str) -> (Scratch, PathBuf, PathBuf) {
    let dir = tmp(name);
    let data = dir.join("data");
    prepare_fixture(&data);
    let spec = dir.join("tiny.json");
    std::fs::write(&spec, TINY).unwrap();
    (dir, data, spec)
}

fn train_args<'a>(spec: &'a Path, data: &'a Path, out: &'a Path, tokens: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--spec",
        spec.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--tokens",
        tokens,
        "--batch",
        "8",
        "--seq",
        "64",
        "--warmup",
        "20",
        "--checkpoint-every",
        "25",
        "--eval-every",
        "100",
        "--quiet",
    ]
}

fn metrics(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_tiny_model_learns_the_fixture_and_writes_a_run_record() {
    let (dir, data, spec) = setup("train-learn");
    let out = dir.join("run");
    // 400 steps of 8 × 64 bytes: about 4.6 passes over the fixture's 44,837 training bytes.
    let o = run(&train_args(&spec, &data, &out, "204800"));
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data.join("manifest.json")).unwrap()).unwrap();
    let entropy = manifest["unigram_entropy_nats"].as_f64().unwrap();
    // English bytes carry about 4.3 bits of unigram entropy (≈ 3.0 nats).
    assert!((2.8..3.2).contains(&entropy), "{entropy}");
    let m = metrics(&out);
    assert_eq!(m.len(), 400);
    let val = m.last().unwrap()["val_loss"].as_f64().unwrap();
    assert!(val < 0.8 * entropy, "validation loss {val} is not well below the unigram entropy {entropy}");
    assert!(m[0]["train_loss"].as_f64().unwrap() > 5.0, "starts near ln 256 = 5.55");
    // run.json is one run in the fit command's format.
    let runs = rooflaw::fit::parse_runs(&std::fs::read_to_string(out.join("run.json")).unwrap(), "run.json").unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].inputs.layers, runs[0].inputs.d_model, runs[0].tokens), (2.0, 64.0, 204_800.0));
    assert!((runs[0].loss - val).abs() < 1e-12);
}

#[test]
fn kill_9_then_resume_continues_the_same_loss_curve() {
    let (dir, data, spec) = setup("train-resume");
    let (straight, killed) = (dir.join("straight"), dir.join("killed"));
    let o = run(&train_args(&spec, &data, &straight, "102400"));
    assert!(o.status.success(), "{}", stderr(&o));
    let mut child = Command::new(rooflaw_bin())
        .args(train_args(&spec, &data, &killed, "102400"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once it is past its second checkpoint (step 50) and before its end (step 200).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let lines = std::fs::read_to_string(killed.join("metrics.jsonl")).map_or(0, |t| t.matches('\n').count());
        if lines >= 60 {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not reach step 60");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!killed.join("run.json").exists(), "the run finished before it was killed");
    let logged = metrics(&killed).len();
    assert!((60..200).contains(&logged), "{logged}");
    let o = run(&["train", "--resume", killed.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (metrics(&straight), metrics(&killed));
    assert_eq!(a.len(), 200);
    assert_eq!(b.len(), 200, "the resumed log has every step once");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["step"], y["step"]);
        assert_eq!(x["tokens"], y["tokens"]);
        for key in ["train_loss", "val_loss", "lr", "grad_norm"] {
            let (p, q) = (x[key].as_f64(), y[key].as_f64());
            assert_eq!(p.is_some(), q.is_some(), "{key} at step {}", x["step"]);
            if let (Some(p), Some(q)) = (p, q) {
                assert!((p - q).abs() <= 1e-6 * p.abs().max(1.0), "{key} at step {}: {p} vs {q}", x["step"]);
            }
        }
    }
}

#[test]
fn a_signal_stops_the_run_after_a_checkpoint_and_resume_finishes_it() {
    // What a Slurm job warned before its time limit does (`--signal=B:USR1@N`): the trainer checkpoints
    // the step it is on, off the checkpoint schedule, exits with code 4, and `--resume` finishes the run.
    let (dir, data, spec) = setup("train-signal");
    let out = dir.join("run");
    let mut args = train_args(&spec, &data, &out, "102400");
    args.push("--stop-on-signal");
    let child = Command::new(rooflaw_bin()).args(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(out.join("metrics.jsonl")).map_or(0, |t| t.matches('\n').count()) < 30 {
        assert!(Instant::now() < deadline, "the run did not reach step 30");
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = Command::new("kill").args(["-USR1", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let step = metrics(&out).len();
    assert!((30..200).contains(&step), "{step}");
    // The checkpoint is of the step it stopped at (checkpoints are otherwise every 25 steps).
    assert!(out.join(format!("checkpoints/step-{step:08}")).is_dir(), "no checkpoint of step {step}");
    assert!(stderr(&o).contains(&format!("checkpoint of step {step}")), "{}", stderr(&o));
    let o = run(&["train", "--resume", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(metrics(&out).len(), 200);
    assert!(out.join("run.json").is_file());
    // --requeue outside Slurm keeps the checkpoint and says why it could not requeue.
    let again = dir.join("again");
    let mut args = train_args(&spec, &data, &again, "102400");
    args.push("--requeue");
    let child =
        Command::new(rooflaw_bin()).args(&args).env_remove("SLURM_JOB_ID").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    while std::fs::read_to_string(again.join("metrics.jsonl")).map_or(0, |t| t.matches('\n').count()) < 5 {
        assert!(Instant::now() < deadline + Duration::from_secs(120), "the run did not reach step 5");
        std::thread::sleep(Duration::from_millis(2));
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("needs a Slurm job"), "{}", stderr(&o));
}

#[test]
fn bad_input_is_one_line_exit_2_and_overwrites_nothing() {
    let (dir, data, spec) = setup("train-bad");
    let bad_spec = dir.join("bad.json");
    std::fs::write(&bad_spec, TINY.replace("\"heads\": 4", "\"heads\": 5")).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (missing, under_file, out) = (dir.join("no-such-data"), file.join("run"), dir.join("run"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (train_args(&bad_spec, &data, &out, "51200"), "heads: d_model 64 is not divisible by 5 heads"),
        (train_args(&spec, &missing, &out, "51200"), "does not exist; prepare one with `rooflaw data prepare"),
        (train_args(&spec, &data, &out, "100"), "--tokens 100 is below one batch (8 × 64 = 512 tokens)"),
        (train_args(&spec, &data, &under_file, "51200"), "cannot create"),
        (
            [train_args(&spec, &data, &out, "51200"), vec!["--backend", "cuda"]].concat(),
            "has no cuda backend (build it with `--features cuda`)",
        ),
        (vec!["train", "--resume", missing.to_str().unwrap()], "is not a run folder"),
        (
            vec!["data", "prepare", "--tokenizer", "bytes", "--text", missing.to_str().unwrap(), "--out", out.to_str().unwrap()],
            "is neither a file nor a folder, nor a corpus name",
        ),
        (
            // A corpus the data folder does not have yet.
            vec![
                "data",
                "prepare",
                "--tokenizer",
                "bytes",
                "--text",
                "shakespeare",
                "--data-dir",
                missing.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            "fetch it with `rooflaw data fetch shakespeare`",
        ),
        (
            vec!["data", "prepare", "--tokenizer", "klingon", "--text", spec.to_str().unwrap(), "--out", out.to_str().unwrap()],
            "unknown tokenizer 'klingon'",
        ),
    ];
    for (args, want) in &cases {
        let o = run(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} created {}", out.display());
    }
    // Preparing into a prepared folder, or training into a run folder, is refused and changes nothing.
    let before = std::fs::read(data.join("manifest.json")).unwrap();
    let o = run(&["data", "prepare", "--tokenizer", "bytes", "--text", spec.to_str().unwrap(), "--out", data.to_str().unwrap()]);
    assert!(o.status.code() == Some(2) && stderr(&o).contains("already holds prepared data"), "{}", stderr(&o));
    assert_eq!(std::fs::read(data.join("manifest.json")).unwrap(), before);
    let o = run(&train_args(&spec, &data, &out, "12800"));
    assert!(o.status.success(), "{}", stderr(&o));
    let record = std::fs::read(out.join("run.json")).unwrap();
    let o = run(&train_args(&spec, &data, &out, "12800"));
    assert!(o.status.code() == Some(2) && stderr(&o).contains("already holds a run"), "{}", stderr(&o));
    // A corrupt checkpoint is named, and the run's files are left as they were.
    let ckpt = std::fs::read_dir(out.join("checkpoints")).unwrap().map(|e| e.unwrap().path()).max().unwrap();
    std::fs::write(ckpt.join("model.bpk"), b"not a model").unwrap();
    let log = std::fs::read(out.join("metrics.jsonl")).unwrap();
    let o = run(&["train", "--resume", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.code() == Some(2) && stderr(&o).contains("is corrupt (model)"), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("run.json")).unwrap(), record);
    assert_eq!(std::fs::read(out.join("metrics.jsonl")).unwrap(), log);
}

#[test]
fn dry_run_prints_both_counts_and_the_flops_per_token() {
    let o = run(&["train", "qwen3-0.6b", "--dry-run", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Qwen3-0.6B: 596,049,920 parameters (HF safetensors metadata).
    assert_eq!(v["params"]["burn"], 596_049_920u64);
    assert_eq!(v["params"]["science"], 596_049_920u64);
    let f = v["flops_per_token"].as_f64().unwrap();
    // ≈ 6N with N = 596 M, plus attention at 256 tokens: between 3.4 and 4.0 GFLOP.
    assert!((3.4e9..4.0e9).contains(&f), "{f}");
}
