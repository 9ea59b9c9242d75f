//! The measurement agent against a real server on loopback (SQLite, and Postgres when the test run has
//! one): jobs queued through the API are claimed by `rooflaw-agent`, run with the burn engine, their
//! records stored once, and a calibration is fitted from them with its leave-one-out error. A result left
//! in the spool by an agent that died is posted when the next one starts; bad input gets a clear error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use rooflaw_tests::browser::serve_with;
use rooflaw_tests::http::{get, post};
use rooflaw_tests::{agent_bin, databases, measure_device, run, stderr, stdout, tmp, token};
use serde_json::{json, Value};

fn agent(server: &str, token: &str, spool: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(agent_bin())
        .args(["--server", server, "--token", token, "--device", "test-box", "--name", "bench-agent", "--once", "--spool"])
        .arg(spool)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn jobs_are_claimed_measured_stored_once_and_calibrated() {
    for db in databases("agent") {
        loop_on(&db);
    }
}

fn loop_on(db: &Option<String>) {
    let dir = tmp(&format!("agent-{}", if db.is_some() { "pg" } else { "sqlite" }));
    let (data, spool) = (dir.join("data"), dir.join("spool"));
    let mut flags = vec!["--workers", "0"];
    if let Some(url) = db {
        flags.extend(["--database", url.as_str()]);
    }
    // The server needs a site folder; an index.html stands for the built site.
    let site = dir.join("dist");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "<html>rooflaw</html>").unwrap();
    let server = serve_with(&site, &data, &flags).unwrap();
    let base = server.url.trim_end_matches('/').to_string();
    let api = |p: &str| format!("{base}/api/v1{p}");
    let (measure, train) = (token(&data, db, "agent", &["measure"]), token(&data, db, "lab", &["train"]));

    // This machine's ceilings, saved as a device and stored on the server, make the records calibratable.
    let devices = dir.join("devices.json");
    let o = measure_device(&devices, "test-box");
    assert!(o.status.success(), "{}", stderr(&o));
    let device: Value = serde_json::from_str::<Value>(&std::fs::read_to_string(&devices).unwrap()).unwrap()["devices"][0].clone();
    assert_eq!(post(&api("/devices"), Some(&train), &device.to_string()).status, 201);

    // Four architectures (dense and MoE, varied depth, width and GQA) queued for the device.
    let archs = [
        json!({"layers": 2, "d_model": 64, "heads": 4, "kv_heads": 4, "ffn_ratio": 3.0, "vocab_size": 512}),
        json!({"layers": 4, "d_model": 96, "heads": 6, "kv_heads": 2, "ffn_ratio": 3.0, "vocab_size": 512}),
        json!({"layers": 3, "d_model": 128, "heads": 8, "kv_heads": 1, "ffn_ratio": 2.0, "vocab_size": 512}),
        json!({"layers": 2, "d_model": 64, "heads": 4, "kv_heads": 2, "ffn_ratio": 2.0, "vocab_size": 512, "experts": 4, "active_experts": 2}),
    ];
    for a in &archs {
        let job = json!({"device": "test-box", "job": {"architecture": a, "engine": "burn", "prompt": 16, "generate": 4, "repeat": 3}});
        let r = post(&api("/measure-jobs"), Some(&train), &job.to_string());
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // Bad jobs are refused at the door, with the reason.
    let bad = post(
        &api("/measure-jobs"),
        Some(&train),
        &json!({"device": "test-box", "job": {"architecture": archs[0], "engine": "tensorrt"}}).to_string(),
    );
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("unknown engine 'tensorrt'"), "{}", bad.text);
    assert_eq!(
        post(
            &api("/measure-jobs"),
            Some(&measure),
            &json!({"device": "test-box", "job": {"architecture": archs[0], "engine": "burn"}}).to_string()
        )
        .status,
        403
    );

    // A result that an agent spooled before it died: posted by the next agent before it claims anything.
    std::fs::create_dir_all(&spool).unwrap();
    let extra = post(
        &api("/measure-jobs"),
        Some(&train),
        &json!({"device": "test-box", "job": {"architecture": archs[0], "engine": "llama.cpp"}}).to_string(),
    )
    .json();
    let spooled = json!({"job": extra["id"], "result": {"agent": "bench-agent", "error": "llama-bench was not found on the device"}});
    std::fs::write(spool.join(format!("job-{}.json", extra["id"])), spooled.to_string()).unwrap();

    let o = agent(&base, &measure, &spool, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("4 job(s) done"), "{}", stdout(&o));
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0, "the spool is empty once the server has every result");
    let spooled_job = get(&api(&format!("/measure-jobs/{}", extra["id"])), None).json();
    assert_eq!(
        (spooled_job["status"].as_str(), spooled_job["error"].as_str()),
        (Some("failed"), Some("llama-bench was not found on the device"))
    );

    let jobs = get(&api("/measure-jobs"), None).json();
    let done: Vec<&Value> = jobs["jobs"].as_array().unwrap().iter().filter(|j| j["status"] == "completed").collect();
    assert_eq!(done.len(), 4, "{jobs}");
    let stored = get(&api("/measurements"), None).json();
    let rows = stored["measurements"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for m in rows {
        assert_eq!(
            (m["device"].as_str(), m["engine"].as_str(), m["row"]["agent"].as_str()),
            (Some("test-box"), Some("burn"), Some("bench-agent"))
        );
        assert_eq!(m["row"]["prefill"]["samples"].as_array().unwrap().len(), 3, "the raw samples are stored");
    }
    // The agent's facts are on the server.
    let agents = get(&api("/agents"), None).json();
    assert!(agents["agents"][0]["facts"]["host"]["cpus"].as_u64().unwrap() >= 1, "{agents}");

    // Posting a job's result again (a lost response, retried) stores nothing new.
    let first = done[0];
    let again = post(
        &api(&format!("/measure-jobs/{}/result", first["id"])),
        Some(&measure),
        &json!({"agent": "bench-agent", "records": [rows[0]["row"]]}).to_string(),
    );
    assert_eq!((again.status, again.json()["measurement_ids"].clone()), (200, first["measurement_ids"].clone()), "{}", again.text);
    assert_eq!(get(&api("/measurements"), None).json()["measurements"].as_array().unwrap().len(), 4);

    // A calibration per device × engine × precision, fitted on the stored records (this shared test machine
    // may flag some as unreliable: they are kept here).
    let cal = post(&api("/calibrations"), Some(&train), r#"{"device": "test-box", "reliable_only": false}"#);
    assert_eq!(cal.status, 201, "{}", cal.text);
    let c = &cal.json()["calibrations"][0];
    assert_eq!(
        (c["device"].as_str(), c["engine"].as_str(), c["precision"].as_str()),
        (Some("test-box"), Some("burn"), Some("fp32")),
        "{c}"
    );
    assert_eq!(c["profile"]["rows_used"], 8, "4 decode and 4 prefill rows: {c}");
    assert!(c["profile"]["loo_mape_decode"].as_f64().unwrap() >= 0.0 && c["profile"]["loo_mape_prefill"].is_number(), "{c}");
    assert_eq!(get(&api("/calibrations"), None).json()["calibrations"].as_array().unwrap().len(), 1);
    // The CLI fits the same profile from the server.
    let o = run(&["--devices", devices.to_str().unwrap(), "calibrate", "--from-server", &base, "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cli: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(cli["profiles"][0]["rows_used"], 8, "{cli}");

    // Bad input to the agent: a clear error, exit 2.
    let o = agent("https://example.invalid", &measure, &spool, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give the server's http:// URL"), "{}", stderr(&o));
    let o = agent(&base, "rl_nonsense", &spool, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("HTTP 401"), "{}", stderr(&o));
}
