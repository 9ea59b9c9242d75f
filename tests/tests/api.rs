//! The API of `rooflaw serve` against a real server on loopback, on its SQLite database: science
//! endpoints, tokens and scopes, bad input (never a 5xx), and a training run that streams its events,
//! survives a kill -9 of the server and completes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use rooflaw_tests::browser::{serve_with, Site};
use rooflaw_tests::http::{get, post, read_events, request, send, wait_until};
use rooflaw_tests::{databases, fixture, run, stderr, stdout, tmp, token};
use serde_json::{json, Value};

/// A folder with an `index.html`, standing for the built site.
fn site(dir: &Path) -> PathBuf {
    let d = dir.join("dist");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("index.html"), "<html>rooflaw</html>").unwrap();
    d
}

fn api(site: &Site, path: &str) -> String {
    format!("{}/api/v1{path}", site.url)
}

/// `rooflaw serve` flags for a database (`None`: the default SQLite file).
fn with_db<'a>(db: &'a Option<String>, flags: &[&'a str]) -> Vec<&'a str> {
    let mut v = flags.to_vec();
    if let Some(url) = db {
        v.extend(["--database", url.as_str()]);
    }
    v
}

#[test]
fn the_api_answers_checks_tokens_and_rejects_bad_input_with_4xx() {
    for db in databases("basics") {
        basics(&db);
    }
}

fn basics(db: &Option<String>) {
    let dir = tmp(&format!("api-basics-{}", if db.is_some() { "pg" } else { "sqlite" }));
    let data = dir.join("data");
    let server = serve_with(&site(&dir), &data, &with_db(db, &["--workers", "0", "--max-queued-per-token", "2"])).unwrap();
    let health = get(&api(&server, "/health"), None);
    let kind = if db.is_some() { "postgres" } else { "sqlite" };
    assert_eq!((health.status, health.json()["database"].as_str()), (200, Some(kind)), "{}", health.text);
    if db.is_none() {
        assert!(data.join("rooflaw.db").is_file(), "the database is created in the data folder on first start");
    }

    // The science, as the CLI computes it.
    let devices = get(&api(&server, "/devices"), None).json();
    assert!(devices["devices"].as_array().unwrap().iter().any(|d| d["id"] == "jetson-agx-orin-64gb"));
    let p = post(&api(&server, "/predict"), None, r#"{"model": "qwen2.5-0.5b", "device": "jetson-agx-orin-64gb"}"#);
    assert_eq!(p.status, 200, "{}", p.text);
    let cli = run(&["predict", "qwen2.5-0.5b", "--device", "jetson-agx-orin-64gb", "--format", "json"]);
    let cli: Value = serde_json::from_str(&stdout(&cli)).unwrap();
    assert_eq!(p.json()["latency"], cli["latency"], "the API and the CLI price the same model identically");
    let f = post(&api(&server, "/frontier"), None, r#"{"device": "jetson-agx-orin-64gb", "samples": 300, "seed": 1}"#);
    assert_eq!(f.status, 200, "{}", f.text);
    assert!(!f.json()["candidates"].as_array().unwrap().is_empty(), "{}", f.text);

    // Tokens and scopes: no token 401, a wrong one 401, a lacking scope 403.
    let measure = token(&data, db, "agent", &["measure"]);
    let train = token(&data, db, "lab", &["train"]);
    let admin = token(&data, db, "root", &["admin"]);
    let run_body = r#"{"model": "smollm2-135m", "data": "none"}"#;
    assert_eq!(post(&api(&server, "/runs"), None, run_body).status, 401);
    assert_eq!(post(&api(&server, "/runs"), Some("rl_nonsense"), run_body).status, 401);
    let forbidden = post(&api(&server, "/runs"), Some(&measure), run_body);
    assert_eq!(forbidden.status, 403, "{}", forbidden.text);
    assert!(forbidden.json()["error"].as_str().unwrap().contains("lacks the 'train' scope"));
    assert_eq!(get(&api(&server, "/tokens"), Some(&train)).status, 403);
    let listed = get(&api(&server, "/tokens"), Some(&admin));
    assert_eq!(listed.status, 200);
    assert!(!listed.text.contains("rl_"), "token lists never hold secrets: {}", listed.text);
    // A token may have only so many runs queued (here 2, with no worker to take them): then 429.
    let prepared = data.join("datasets/fixture");
    let o =
        run(&["data", "prepare", "--tokenizer", "bytes", "--text", fixture("text").to_str().unwrap(), "--out", prepared.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tiny = format!(r#"{{"spec": {TINY}, "data": "fixture", "options": {{"tokens": 5120, "batch": 8, "seq": 64, "warmup": 2}}}}"#);
    let statuses: Vec<u16> = (0..3).map(|_| post(&api(&server, "/runs"), Some(&train), &tiny).status).collect();
    assert_eq!(statuses, [201, 201, 429]);
    let page = get(&api(&server, "/tokens?limit=2"), Some(&admin)).json();
    assert_eq!((page["tokens"][0]["name"].as_str(), page["tokens"].as_array().unwrap().len()), (Some("root"), 2), "{page}");
    let rest = get(&api(&server, &format!("/tokens?limit=2&before={}", page["next_before"])), Some(&admin)).json();
    assert_eq!(rest["tokens"][0]["name"], "agent", "{rest}");
    let m = post(
        &api(&server, "/measurements"),
        Some(&measure),
        r#"{"device": "jetson-agx-orin-64gb", "engine": "llama.cpp", "model": "smollm2-135m", "batch": 1, "decode_tokens_per_sec": 80.5, "idempotency_key": "m-1"}"#,
    );
    assert_eq!(m.status, 201, "{}", m.text);
    let again = post(
        &api(&server, "/measurements"),
        Some(&measure),
        r#"{"device": "jetson-agx-orin-64gb", "engine": "llama.cpp", "idempotency_key": "m-1"}"#,
    );
    assert_eq!((again.status, again.json()["id"].clone()), (200, m.json()["id"].clone()), "a repeated key stores nothing new");

    // Bad input: a 4xx with a message, never a 5xx.
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let huge = format!(r#"{{"model": "{}"}}"#, "x".repeat(3 << 20));
    let cases: Vec<(&str, String, Option<&str>, u16, &str)> = vec![
        ("/predict", r#"{"model": "qwen2.5-0.5b", "device": "pdp-11"}"#.into(), None, 400, "pdp-11"),
        ("/predict", r#"{"model": "qwen2.5-0.5b", "batch": "two"}"#.into(), None, 400, "invalid type"),
        ("/predict", "{not json".into(), None, 400, "invalid JSON body"),
        ("/predict", deep, None, 400, "deeper than 32"),
        ("/predict", huge, None, 413, ""),
        ("/frontier", r#"{"samples": 100000000}"#.into(), None, 400, "limit"),
        ("/runs", r#"{"model": "smollm2-135m", "data": "../../etc"}"#.into(), Some(&train), 400, "prepared folder"),
        ("/runs", r#"{"model": "smollm2-135m", "data": "missing"}"#.into(), Some(&train), 400, "not a prepared folder"),
        ("/fits", r#"{"runs": [12345]}"#.into(), Some(&train), 404, "run 12345 not found"),
        ("/tokens", r#"{"name": "x", "scopes": ["root"]}"#.into(), Some(&admin), 400, "unknown scope"),
    ];
    for (path, body, tok, status, needle) in &cases {
        let r = post(&api(&server, path), *tok, body);
        assert_eq!(r.status, *status, "{path} {}: {}", &body[..body.len().min(80)], r.text);
        assert!(r.text.contains(needle), "{path}: {}", r.text);
    }
    for (path, status) in
        [("/runs?limit=0", 400), ("/runs?limit=abc", 400), ("/runs/999", 404), ("/runs/1/files/../../rooflaw.db", 404), ("/nope", 404)]
    {
        let r = get(&api(&server, path), None);
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert!(r.json()["error"].is_string(), "{path}: errors are JSON: {}", r.text);
    }
    // Many generated bad bodies: truncations and corruptions of a valid request.
    let valid = r#"{"model": "qwen2.5-0.5b", "device": "jetson-agx-orin-64gb", "batch": 2, "prompt_tokens": 64}"#;
    for i in 0..valid.len() {
        let truncated = &valid[..i];
        let corrupted: String = valid.chars().enumerate().map(|(j, c)| if j == i { '\u{1}' } else { c }).collect();
        for body in [truncated.to_string(), corrupted] {
            let r = post(&api(&server, "/predict"), None, &body);
            assert!((200..500).contains(&r.status), "{body:?} gave {}: {}", r.status, r.text);
        }
    }
    assert_eq!(get(&api(&server, "/health"), None).status, 200, "the server is still up");

    // The OpenAPI document lists every route, and every route it lists is served: mutations answer 401
    // without a token, reads answer without one, and none falls through to "no API route".
    let doc = get(&api(&server, "/openapi.json"), None);
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let url = format!(
                "{}{}",
                server.url,
                path.replace("{id}", "1").replace("{job}", "1").replace("{path}", "run.json").replace("{name}", "agent-1")
            );
            if path.ends_with("/events") {
                // A live stream (of every run, or of run 1): it answers 200 (checked inside) with the queued
                // runs' events, and stays open.
                let events = read_events(&url, None, Duration::from_secs(5), |e| !e.is_empty());
                assert!(!events.is_empty(), "{path}");
                assert!(events.iter().all(|e| e.event == "status"), "{events:?}");
                checked += 1;
                continue;
            }
            let r = request(&method.to_ascii_uppercase(), &url, None, (method == "post").then_some("{}"));
            assert!(!r.text.contains("no API route"), "{method} {path} is documented but not served: {}", r.text);
            if op.get("x-scope").is_some() {
                assert_eq!(r.status, 401, "{method} {path} without a token: {}", r.text);
            } else {
                assert_ne!(r.status, 401, "{method} {path} is a read and needs no token: {}", r.text);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 38, "routes in the document (24, 9 for agents, measurement jobs and calibrations, 5 for campaigns)");

    // CORS is off unless asked for: no headers for another origin, so a browser refuses the answer.
    let preflight = [("Origin", "https://docs.example.org"), ("Access-Control-Request-Method", "POST")];
    let r = send("OPTIONS", &api(&server, "/runs"), None, &preflight, None);
    assert_eq!(r.header("access-control-allow-origin"), None, "{:?}", r.headers);
    drop(server);
    let server = serve_with(&site(&dir), &data, &with_db(db, &["--workers", "0", "--cors-origin", "https://docs.example.org"])).unwrap();
    let r = send("OPTIONS", &api(&server, "/runs"), None, &preflight, None);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://docs.example.org"), "{:?}", r.headers);
    let other = [("Origin", "https://evil.example.com"), ("Access-Control-Request-Method", "POST")];
    let r = send("OPTIONS", &api(&server, "/runs"), None, &other, None);
    assert_ne!(r.header("access-control-allow-origin"), Some("https://evil.example.com"), "{:?}", r.headers);
    let r = send("GET", &api(&server, "/health"), None, &[("Origin", "https://docs.example.org")], None);
    assert_eq!((r.status, r.header("access-control-allow-origin")), (200, Some("https://docs.example.org")));
}

/// The tiny architecture the training tests use (byte vocabulary).
const TINY: &str = r#"{"layers": 2, "d_model": 64, "heads": 4, "kv_heads": 2, "ffn_ratio": 2, "vocab_size": 256, "tied_embeddings": true}"#;

#[test]
fn a_run_streams_its_events_survives_kill_9_of_the_server_and_completes() {
    for db in databases("train") {
        train_kill_resume(&db);
    }
}

fn train_kill_resume(db: &Option<String>) {
    let dir = tmp(&format!("api-train-{}", if db.is_some() { "pg" } else { "sqlite" }));
    let data = dir.join("data");
    let prepared = data.join("datasets/fixture");
    let o =
        run(&["data", "prepare", "--tokenizer", "bytes", "--text", fixture("text").to_str().unwrap(), "--out", prepared.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dist = site(&dir);
    let flags = with_db(db, &["--workers", "1", "--lease-secs", "2"]);
    let server = serve_with(&dist, &data, &flags).unwrap();
    let train = token(&data, db, "lab", &["train"]);
    let body = json!({
        "name": "tiny",
        "spec": serde_json::from_str::<Value>(TINY).unwrap(),
        "data": "fixture",
        "options": {"tokens": 240 * 8 * 64, "batch": 8, "seq": 64, "warmup": 10, "checkpoint_every": 20, "eval_every": 80},
        "idempotency_key": "tiny-1",
    })
    .to_string();
    let submitted = post(&api(&server, "/runs"), Some(&train), &body);
    assert_eq!(submitted.status, 201, "{}", submitted.text);
    let id = submitted.json()["id"].as_i64().unwrap();
    let again = post(&api(&server, "/runs"), Some(&train), &body);
    assert_eq!((again.status, again.json()["id"].as_i64()), (200, Some(id)), "the idempotency key returns the same run");
    // A second run waits in the queue behind the first (one worker), and a measurement is stored: both
    // must outlive the kill.
    let second = post(&api(&server, "/runs"), Some(&train), &body.replace("tiny-1", "tiny-2"));
    assert_eq!(second.status, 201, "{}", second.text);
    let second = second.json()["id"].as_i64().unwrap();
    let measure = token(&data, db, "agent", &["measure"]);
    let m = post(
        &api(&server, "/measurements"),
        Some(&measure),
        r#"{"device": "jetson-orin-nano-8gb", "engine": "burn", "decode_tokens_per_sec": 12.5}"#,
    );
    assert_eq!(m.status, 201, "{}", m.text);

    // Live: follow the run until it has checkpointed a few times, then kill the server.
    let events_url = api(&server, &format!("/runs/{id}/events"));
    let before = read_events(&events_url, None, Duration::from_secs(120), |ev| {
        ev.iter().any(|e| e.event == "metrics" && e.data["data"]["step"].as_i64() >= Some(50))
    });
    assert!(before.iter().any(|e| e.event == "status" && e.data["data"]["status"] == "running"), "{before:?}");
    let last_seen = before.last().unwrap().id;
    server.kill_9();

    // Restarted on the same data folder: the run is reclaimed when its lease ends, resumes from its
    // checkpoint and completes; nothing is lost.
    let server = serve_with(&dist, &data, &flags).unwrap();
    let done = wait_until(Duration::from_secs(240), || {
        let r = get(&api(&server, &format!("/runs/{id}")), None).json();
        r["status"].as_str().filter(|s| *s != "running" && *s != "queued").map(|_| r.clone())
    })
    .expect("the run never finished after the restart");
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["attempts"], 2, "claimed once before the kill and once after: {done}");
    assert!(done["record"]["runs"][0]["val_loss"].as_f64().unwrap() < 2.9, "{done}");
    let kept = get(&api(&server, "/measurements"), None).json();
    assert_eq!(kept["measurements"][0]["row"]["decode_tokens_per_sec"], 12.5, "{kept}");
    let queued = wait_until(Duration::from_secs(240), || {
        let r = get(&api(&server, &format!("/runs/{second}")), None).json();
        (r["status"] == "completed").then_some(r)
    });
    assert!(queued.is_some(), "the run queued before the kill completes after it");

    // The metrics are one unbroken curve, step 1 to the end.
    let metrics = get(&api(&server, &format!("/runs/{id}/metrics")), None).json();
    let steps: Vec<i64> = metrics.as_array().unwrap().iter().map(|m| m["step"].as_i64().unwrap()).collect();
    assert_eq!(steps, (1..=240).collect::<Vec<_>>());

    // A client that reconnects with Last-Event-ID gets exactly the events after it, each metrics step once.
    let events_url = api(&server, &format!("/runs/{id}/events"));
    let after = read_events(&events_url, Some(last_seen), Duration::from_secs(30), |ev| {
        ev.iter().any(|e| e.event == "status" && e.data["data"]["status"] == "completed")
    });
    assert!(after.iter().all(|e| e.id > last_seen));
    let mut streamed: Vec<i64> =
        before.iter().chain(&after).filter(|e| e.event == "metrics").map(|e| e.data["data"]["step"].as_i64().unwrap()).collect();
    streamed.dedup();
    assert_eq!(streamed, (1..=240).collect::<Vec<_>>(), "every step streamed once, none lost across the kill");

    // Its files are served from its folder, and nothing else is.
    let record = get(&api(&server, &format!("/runs/{id}/files/run.json")), None);
    assert_eq!(record.status, 200);
    assert_eq!(record.json()["runs"], done["record"]["runs"]);
    assert_eq!(get(&api(&server, &format!("/runs/{id}/files/../../rooflaw.db")), None).status, 404);

    // Cancel and retry are checked against the state: a completed run can be neither.
    assert_eq!(post(&api(&server, &format!("/runs/{id}/cancel")), Some(&train), "").status, 409);
    assert_eq!(post(&api(&server, &format!("/runs/{id}/retry")), Some(&train), "").status, 409);
    let listed = get(&api(&server, "/runs?status=completed&limit=1"), None).json();
    assert_eq!(listed["runs"][0]["id"], second, "newest first");
    let page2 = get(&api(&server, &format!("/runs?status=completed&limit=1&before={second}")), None).json();
    assert_eq!(page2["runs"][0]["id"], id, "the next page");
    let _ = request("GET", &api(&server, "/health"), None, None);
}
