//! Training campaigns on this CPU with the local executor: `rooflaw campaign run` to the end after a
//! kill -9 and `--resume`, the same campaign through the HTTP API, and bad requests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rooflaw_tests::browser::serve_with;
use rooflaw_tests::http::{get, post};
use rooflaw_tests::{databases, prepare_fixture, rooflaw_bin, run, stderr, stdout, tmp, token, Scratch};

/// A data folder with the fixture prepared as the dataset `fixture`.
fn data_folder(name: &str) -> (Scratch, PathBuf) {
    let dir = tmp(name);
    let data = dir.join("data");
    prepare_fixture(&data.join("datasets/fixture"));
    (dir, data)
}

/// A campaign over a grid of tiny byte-level models: 12 space-filling runs, then rounds of 4 chosen by
/// the frontier strategy, 20 runs in all, 32 steps of 8 × 64 bytes each.
fn request(max_runs: usize) -> String {
    format!(
        r#"{{
  "name": "mini", "space": "tiny",
  "space_spec": {{
    "kind": "grid", "name": "tiny", "layers": [1, 2, 3, 4], "d_model": [32, 48, 64, 96, 128], "head_dim": [16],
    "kv_heads": [1, 2, "all"], "ffn_ratio": [1, 2, 4], "experts": [[1, 1], [4, 1], [4, 2]], "vocab_size": 256,
    "tied_embeddings": true, "qk_norm": "none"
  }},
  "device": "jetson-orin-nano-8gb", "objective": "decode", "level": "roofline", "latency_budget_secs": 0.0008,
  "initial_runs": 12, "runs_per_round": 4, "max_runs": {max_runs}, "tolerance": 0, "bootstrap": 20, "restarts": 6, "draws": 40, "explore": 0.25,
  "data": "fixture",
  "options": {{"tokens": 16384, "batch": 8, "seq": 64, "warmup": 4, "eval_every": 0, "checkpoint_every": 8, "eval_tokens": 8192}}
}}"#
    )
}

fn status(data: &Path, id: i64) -> serde_json::Value {
    let o = run(&["campaign", "status", &id.to_string(), "--data-dir", data.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// What every finished mini campaign shows: every job done once, rounds fitted with P(Pareto) on their
/// frontier, and the chosen designs not trained twice.
fn check_finished(v: &serde_json::Value, runs: usize) {
    assert_eq!(v["campaign"]["status"], "done", "{}", v["campaign"]);
    let jobs = v["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), runs);
    assert!(jobs.iter().all(|j| j["status"] == "completed" && j["loss"].as_f64().unwrap() > 0.5), "{jobs:?}");
    let mut candidates: Vec<i64> = jobs.iter().map(|j| j["candidate"].as_i64().unwrap()).collect();
    candidates.sort_unstable();
    candidates.dedup();
    assert_eq!(candidates.len(), runs, "a design was trained twice");
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 1 + (runs - 12) / 4);
    for r in rounds {
        assert_eq!(r["status"], "fitted", "{r}");
        let s = &r["summary"];
        assert!(s["fit"]["rmse"].as_f64().unwrap() < 0.1, "{s}");
        let front = s["frontier"].as_array().unwrap();
        assert!(front.len() >= 3, "{s}");
        assert!(front.iter().all(|d| (0.0..=1.0).contains(&d["p_pareto"].as_f64().unwrap())));
        assert!(s["best"]["latency_secs"].as_f64().unwrap() <= 0.0008, "the best design fits the budget: {}", s["best"]);
    }
    assert!(rounds[1..].iter().all(|r| r["summary"]["shift"].as_f64().is_some()), "later rounds say how far the frontier moved");
    // Rounds after the first were chosen by the frontier strategy, with its reasons, but for the share
    // `explore` = 0.25 of each round of 4: one space-filling run.
    let picks = rounds[1]["picks"].as_array().unwrap();
    assert_eq!(picks.len(), 4);
    assert_eq!(picks.iter().filter(|p| p["p_pareto"].is_number()).count(), 3, "{picks:?}");
}

#[test]
fn a_mini_campaign_survives_kill_9_and_finishes_with_resume() {
    let (dir, data) = data_folder("campaign-resume");
    let req = dir.join("campaign.json");
    std::fs::write(&req, request(20)).unwrap();
    let mut child = Command::new(rooflaw_bin())
        .args(["campaign", "run", req.to_str().unwrap(), "--data-dir", data.to_str().unwrap(), "--workers", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a few runs of the first round are done, while others train.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let done = std::fs::read_dir(data.join("runs"))
            .map_or(0, |d| d.filter_map(Result::ok).filter(|e| e.path().join("run.json").is_file()).count());
        if done >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "no run finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mid = status(&data, 1);
    assert_eq!(mid["campaign"]["status"], "running");
    assert!(mid["jobs"].as_array().unwrap().iter().any(|j| j["status"] != "completed"), "it was killed mid-round");
    let o = run(&["campaign", "run", "--resume", "1", "--data-dir", data.to_str().unwrap(), "--workers", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("campaign 1 'mini': done (the run budget is spent (20 runs))"), "{}", stdout(&o));
    assert!(stdout(&o).contains("runs chosen by the frontier strategy, 25% of each round space-filling"), "{}", stdout(&o));
    check_finished(&status(&data, 1), 20);
    // Every run trained once: one run folder per job.
    assert_eq!(std::fs::read_dir(data.join("runs")).unwrap().count(), 20);
    // Nothing left to resume.
    let o = run(&["campaign", "run", "--resume", "1", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("campaign 1 is done"), "{}", stderr(&o));
}

#[test]
fn a_campaign_runs_through_the_api_on_sqlite_and_postgres() {
    for db in databases("campaign") {
        let (dir, data) = data_folder(if db.is_some() { "campaign-api-postgres" } else { "campaign-api-sqlite" });
        let site = dir.join("dist");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(site.join("index.html"), "<html>rooflaw</html>").unwrap();
        let mut extra = vec!["--workers", "2"];
        if let Some(url) = &db {
            extra.extend(["--database", url.as_str()]);
        }
        let secret = token(&data, &db, "lab", &["train"]);
        let server = serve_with(&site, &data, &extra).unwrap();
        let api = format!("{}/api/v1", server.url.trim_end_matches('/'));
        // Bad requests are 400s with a reason, and store nothing.
        for (body, want) in [
            (request(20).replace("\"initial_runs\": 12", "\"initial_runs\": 5"), "cannot fit the law's 11 coefficients"),
            (request(20).replace("\"data\": \"fixture\"", "\"data\": \"nope\""), "not a prepared folder"),
            (request(20).replace("\"space\": \"tiny\",", "\"space\": \"other\","), "space_spec is named 'tiny'"),
            (request(20).replace("\"name\": \"mini\",", "\"executor\": \"slurm\","), "no Slurm configuration"),
            (request(20).replace("\"explore\": 0.25", "\"explore\": 1.5"), "from 0 to 1"),
        ] {
            let r = post(&format!("{api}/campaigns"), Some(&secret), &body);
            assert_eq!(r.status, 400, "{}", r.text);
            assert!(r.text.contains(want), "{want}: {}", r.text);
        }
        assert_eq!(post(&format!("{api}/campaigns"), None, &request(16)).status, 401);
        let r = post(&format!("{api}/campaigns"), Some(&secret), &request(16));
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.json()["id"].as_i64().unwrap();
        let deadline = Instant::now() + Duration::from_secs(300);
        let v = loop {
            let v = get(&format!("{api}/campaigns/{id}"), None).json();
            if v["campaign"]["status"] != "running" {
                break v;
            }
            assert!(Instant::now() < deadline, "the campaign did not finish: {v}");
            std::thread::sleep(Duration::from_millis(500));
        };
        check_finished(&v, 16);
        let list = get(&format!("{api}/campaigns"), None).json();
        assert_eq!(list["campaigns"][0]["id"], id);
        // A campaign that is done cannot be cancelled, nor its jobs retried.
        assert_eq!(post(&format!("{api}/campaigns/{id}/cancel"), Some(&secret), "").status, 409);
        let r = post(&format!("{api}/campaigns/{id}/jobs/1/retry"), Some(&secret), "");
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(r.text.contains("only a running campaign"), "{}", r.text);
    }
}
