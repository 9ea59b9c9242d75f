//! Load figures for `rooflaw serve` on loopback (BENCHMARKS.md): `POST /api/v1/predict` at a fixed
//! request rate (open loop: requests are sent on schedule whether or not earlier ones have answered, and
//! latency is measured from the scheduled time), then many Server-Sent Events subscribers following one
//! training run. Needs a release build: `cargo build --release -p rooflaw-cli -p rooflaw-tests`, then
//! `target/release/api-bench [RATE] [SECONDS] [SUBSCRIBERS]` (defaults 1000, 10, 100).
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: a benchmark; a failed unwrap is a failed run

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rooflaw_tests::browser::serve_with;
use rooflaw_tests::http::{post, read_events, wait_until};
use rooflaw_tests::{fixture, run, stdout, tmp};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rate: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000.0);
    let seconds: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let subscribers: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(100);
    let dir = tmp("api-bench");
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<html></html>").unwrap();
    let data = dir.join("data");

    // 1. Predictions at a fixed rate.
    let server = serve_with(&dist, &data, &["--workers", "0"]).unwrap();
    let url = format!("{}/api/v1/predict", server.url);
    let body = r#"{"model": "qwen2.5-0.5b", "device": "jetson-agx-orin-64gb", "batch": 1, "prompt_tokens": 128, "generated_tokens": 128}"#;
    for _ in 0..200 {
        assert_eq!(post(&url, None, body).status, 200);
    }
    let threads = 16;
    let per_thread = rate / threads as f64;
    let total = (rate * seconds) as usize;
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let errors = Arc::new(Mutex::new(0usize));
    let start = Instant::now() + Duration::from_millis(100);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (url, latencies, errors) = (url.clone(), latencies.clone(), errors.clone());
            std::thread::spawn(move || {
                let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
                let n = (per_thread * seconds) as usize;
                let mut mine = Vec::with_capacity(n);
                for i in 0..n {
                    let due = start + Duration::from_secs_f64((i as f64 + t as f64 / threads as f64) / per_thread);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let ok = agent
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .send(body)
                        .map(|mut r| r.status().as_u16() == 200 && r.body_mut().read_to_string().is_ok())
                        .unwrap_or(false);
                    if ok {
                        mine.push(due.elapsed().as_secs_f64() * 1e3);
                    } else {
                        *errors.lock().unwrap() += 1;
                    }
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let wall = start.elapsed().as_secs_f64();
    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(f64::total_cmp);
    println!(
        "predict: {} requests at a target of {rate:.0}/s in {wall:.1} s ({:.0}/s achieved), {} errors; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        l.len() as f64 / wall,
        errors.lock().unwrap(),
        percentile(&l, 0.5),
        percentile(&l, 0.9),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(0.0)
    );
    drop(server);

    // 2. Many subscribers to one run's events.
    let prepared = data.join("datasets/fixture");
    assert!(run(&[
        "data",
        "prepare",
        "--tokenizer",
        "bytes",
        "--text",
        fixture("text").to_str().unwrap(),
        "--out",
        prepared.to_str().unwrap()
    ])
    .status
    .success());
    let token = stdout(&run(&["token", "create", "--name", "bench", "--data-dir", data.to_str().unwrap()])).trim().to_string();
    let server = serve_with(&dist, &data, &["--workers", "1"]).unwrap();
    let run_body = r#"{"spec": {"layers": 2, "d_model": 64, "heads": 4, "kv_heads": 2, "ffn_ratio": 2, "vocab_size": 256, "tied_embeddings": true},
        "data": "fixture", "options": {"tokens": 61440, "batch": 8, "seq": 64, "warmup": 10, "checkpoint_every": 40, "eval_every": 40}}"#;
    let r = post(&format!("{}/api/v1/runs", server.url), Some(&token), run_body);
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_i64().unwrap();
    let events_url = format!("{}/api/v1/runs/{id}/events", server.url);
    let started = Instant::now();
    let handles: Vec<_> = (0..subscribers)
        .map(|_| {
            let u = events_url.clone();
            std::thread::spawn(move || {
                read_events(&u, None, Duration::from_secs(300), |ev| {
                    ev.iter().any(|e| e.event == "status" && e.data["data"]["status"] == "completed")
                })
            })
        })
        .collect();
    let got: Vec<Vec<i64>> =
        handles.into_iter().map(|h| h.join().map(|ev| ev.iter().map(|e| e.id).collect()).unwrap_or_default()).collect();
    let reference = read_events(&events_url, None, Duration::from_secs(30), |ev| {
        ev.iter().any(|e| e.event == "status" && e.data["data"]["status"] == "completed")
    });
    let want: Vec<i64> = reference.iter().map(|e| e.id).collect();
    let complete = got.iter().filter(|g| **g == want).count();
    wait_until(Duration::from_secs(5), || Some(()));
    println!(
        "events: {subscribers} subscribers to one run ({} events each: status and metrics of {} steps) in {:.1} s; {complete} of {subscribers} received every event in order, {} missed some",
        want.len(),
        reference.iter().filter(|e| e.event == "metrics").count(),
        started.elapsed().as_secs_f64(),
        subscribers - complete
    );
}
