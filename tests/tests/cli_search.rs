//! The loss half of the `rooflaw` binary as a user runs it: law, fit, frontier, match, theory.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use rooflaw_tests::{run, stderr, tmp};

fn json(args: &[&str]) -> serde_json::Value {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn law_reference_point_and_extrapolation_flag() {
    // l = 16, d = 1024, r = 1, ρ = 1, gqa = 4 → 3.697 (hand calculation in shared/src/law.rs).
    let dir = tmp("search-law");
    let spec = dir.join("ref.json");
    std::fs::write(&spec, r#"{"layers": 16, "d_model": 1024, "heads": 16, "kv_heads": 4, "ffn_ratio": 1, "vocab_size": 32000}"#).unwrap();
    let v = json(&["law", "--spec", spec.to_str().unwrap(), "--format", "json"]);
    assert!((v["prediction"]["loss"].as_f64().unwrap() - 3.697).abs() < 1e-3);
    assert_eq!(v["prediction"]["extrapolation"].as_array().unwrap().len(), 0);
    let v = json(&["law", "qwen2.5-0.5b", "--format", "json"]);
    assert_eq!(v["prediction"]["extrapolation"][0]["variable"], "ffn_ratio");
}

#[test]
fn frontier_over_table5_and_50k_samples_for_every_objective_and_precision() {
    for (space, samples, expect_valid) in [("paper-table5", "0", Some(6_560)), ("wide", "50000", None)] {
        for objective in ["prefill", "decode", "total"] {
            for precision in ["fp16", "int8"] {
                let v = json(&[
                    "frontier",
                    "--space",
                    space,
                    "--samples",
                    samples,
                    "--objective",
                    objective,
                    "--precision",
                    precision,
                    "--format",
                    "json",
                ]);
                let valid = v["valid"].as_u64().unwrap();
                if let Some(n) = expect_valid {
                    assert_eq!(valid, n);
                } else {
                    assert_eq!(v["tried"], 50_000);
                    assert!(valid > 45_000, "{valid}");
                }
                let front = v["candidates"].as_array().unwrap();
                assert!(front.len() > 10, "{space} {objective} {precision}: {}", front.len());
                // Ordered by latency with strictly falling loss: nothing on it dominates anything else.
                for w in front.windows(2) {
                    assert!(w[0]["latency_secs"].as_f64() <= w[1]["latency_secs"].as_f64());
                    assert!(w[0]["loss"].as_f64() > w[1]["loss"].as_f64());
                }
            }
        }
    }
}

#[test]
fn scenarios_budgets_plots_and_refinement() {
    let dir = tmp("search-scenarios");
    let svg = dir.join("frontier.svg");
    let v = json(&[
        "frontier",
        "--scenario",
        "autonomous-driving",
        "--memory-budget",
        "usable",
        "--plot",
        svg.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let best = &v["best_feasible"];
    assert!(best["latency_secs"].as_f64().unwrap() <= 0.1);
    assert!(best["memory_bytes"].as_f64().unwrap() <= 61.2e9);
    assert_eq!(v["objective"], "total");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("Pareto frontier") && text.contains("Qwen2.5-0.5B") && text.contains("feasible"));
    // Memory as a third objective keeps at least the 2-D frontier's points.
    let two = json(&["frontier", "--format", "json"])["candidates"].as_array().unwrap().len();
    let three = json(&["frontier", "--with-memory", "--format", "json"])["candidates"].as_array().unwrap().len();
    assert!(three >= two, "{three} < {two}");
    let v = json(&["frontier", "--space", "wide", "--samples", "5000", "--refine", "--objective", "decode", "--format", "json"]);
    let r = &v["refinement"];
    assert!(r["rounds"].as_u64().unwrap() >= 1 && r["added"].as_u64().unwrap() > 0, "{r}");
    assert!(v["evaluated"].as_u64().unwrap() > v["valid"].as_u64().unwrap());
    let o = run(&["frontier", "--scenario", "mars"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown scenario 'mars'"));
}

#[test]
fn match_finds_a_better_design_at_qwens_latency() {
    let v = json(&["match", "qwen2.5-0.5b", "--device", "jetson-agx-orin-64gb", "--format", "json"]);
    let best = &v["best"];
    assert!(best["latency_secs"].as_f64().unwrap() <= v["reference"]["latency_secs"].as_f64().unwrap());
    // Candidates take the reference's vocabulary so the comparison is about the body.
    assert_eq!(best["architecture"]["vocab_size"], 151_936);
    assert!(v["loss_difference"].as_f64().unwrap() < 0.0);
    assert!(v["perplexity_ratio"].as_f64().unwrap() < 1.0);
}

#[test]
fn theory_worked_example() {
    let v = json(&["theory", "--worked-example", "--format", "json"]);
    assert!((v["eta"].as_f64().unwrap() - 0.125).abs() < 1e-12);
    assert_eq!(v["regime"], "memory_bound");
    assert!((v["rho_memory_bound"].as_f64().unwrap() - 0.395).abs() < 1e-3);
    let o = run(&["theory", "--worked-example"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("memory-bound"));
    let v = json(&["theory", "--device", "jetson-agx-orin-64gb", "--decode-target", "0.02", "--prefill-target", "0.1", "--format", "json"]);
    assert!(v["eta"].as_f64().unwrap() > 0.0 && v["optimum_prefill"]["converged"] == true);
}

#[test]
fn fit_round_trip_and_bad_run_files() {
    // Runs generated from the published law with a deterministic ±0.005 perturbation.
    let mut csv = String::from("name,layers,d_model,ffn_ratio,experts,active_experts,gqa,tokens,val_loss\n");
    let mut i = 0;
    for l in [4.0f64, 8.0, 12.0, 16.0, 24.0, 32.0] {
        for d in [768.0f64, 1024.0, 1536.0, 2048.0, 3072.0] {
            for (e, k) in [(1.0f64, 1.0f64), (8.0, 1.0), (8.0, 2.0), (16.0, 1.0)] {
                i += 1;
                let r: f64 = [0.5, 1.0, 2.0, 4.0][i % 4];
                let gqa: f64 = [1.0, 2.0, 4.0, 8.0][(i / 4) % 4];
                let c = (9.96, 1.63, 0.031, 1.09, -0.33, 500.0, 0.97, 0.17, 0.20, 0.05, 2.53);
                let rho: f64 = k / e;
                let loss = c.0 / l.powf(c.1)
                    + c.2 * rho.powf(c.3) / (r.powf(c.7) * d.powf(c.4))
                    + c.5 / (r.powf(c.7) * d.powf(c.6))
                    + c.8 / (d / gqa).powf(c.9)
                    + c.10
                    + if i % 2 == 0 { 0.005 } else { -0.005 };
                csv.push_str(&format!("run{i},{l},{d},{r},{e},{k},{gqa},1e10,{loss}\n"));
            }
        }
    }
    let dir = tmp("search-fit");
    let runs = dir.join("runs.csv");
    std::fs::write(&runs, &csv).unwrap();
    let law = dir.join("law.json");
    let plot = dir.join("fit.png");
    let v = json(&[
        "fit",
        runs.to_str().unwrap(),
        "--bootstrap",
        "30",
        "--restarts",
        "8",
        "--out",
        law.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(v["train"]["r2"].as_f64().unwrap() > 0.99);
    assert!(v["holdout"]["metrics"]["rmse"].as_f64().unwrap() < 0.02);
    assert_eq!(v["intervals"].as_array().unwrap().len(), 11);
    assert!(std::fs::metadata(&plot).unwrap().len() > 5_000);
    let p = json(&["law", "llama-3.2-1b", "--law", law.to_str().unwrap(), "--format", "json"]);
    assert!(p["prediction"]["loss"].as_f64().unwrap() > 2.0);

    // The fitted law carries its 30 bootstrap fits, and the frontier draws from them: every frontier
    // candidate has a P(Pareto) and a loss interval around its central loss, and the band is ordered.
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&law).unwrap()).unwrap();
    assert_eq!(saved["bootstrap"].as_array().unwrap().len(), v["bootstrap_samples"].as_u64().unwrap() as usize);
    let f = json(&[
        "frontier",
        "--law",
        law.to_str().unwrap(),
        "--level",
        "calibrated",
        "--objective",
        "decode",
        "--latency-budget",
        "0.05",
        "--draws",
        "40",
        "--format",
        "json",
    ]);
    let u = &f["uncertainty"];
    assert_eq!((u["draws"].as_u64(), u["law_draws"].as_u64()), (Some(40), Some(30)));
    assert!(u["latency"]["sd"].as_f64().unwrap() > 0.0);
    let band = u["band"].as_array().unwrap();
    assert_eq!(band.len(), 48);
    // Quantiles in order; a quantile is absent where too few draws' frontiers reach that latency (the
    // higher the quantile, the more draws it needs), so a present one implies the lower ones.
    for b in band {
        let (lo, mid, hi) = (b["low"].as_f64(), b["median"].as_f64(), b["high"].as_f64());
        assert!((hi.is_none() || mid.is_some()) && (mid.is_none() || lo.is_some()), "{b}");
        assert!(lo.zip(mid).is_none_or(|(l, m)| l <= m) && mid.zip(hi).is_none_or(|(m, h)| m <= h), "{b}");
    }
    assert!(band.iter().filter(|b| b["high"].is_number()).count() >= 24, "the band is complete over most of the range");
    for c in f["candidates"].as_array().unwrap() {
        let p = c["p_pareto"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{c}");
        assert!(c["loss_low"].as_f64().unwrap() <= c["loss_high"].as_f64().unwrap(), "{c}");
    }
    let best = &u["best"];
    assert!(best["p_within_budget"].as_f64().unwrap() > 0.0 && best["p_best"].as_f64().unwrap() <= 1.0, "{best}");
    let none = json(&["frontier", "--law", law.to_str().unwrap(), "--draws", "0", "--format", "json"]);
    assert!(none["uncertainty"].is_null() && none["candidates"][0]["p_pareto"].is_null());

    let bad_cases = [
        (csv.replace("active_experts,", "").replace(",1.0,1.0,", ",1.0,"), "missing column(s) active_experts"),
        (csv.replacen(",1e10,", ",1e10x,", 1), "column tokens: '1e10x' is not a number"),
        (csv.lines().take(6).collect::<Vec<_>>().join("\n"), "5 runs for 11 coefficients"),
    ];
    for (text, want) in bad_cases {
        std::fs::write(&runs, text).unwrap();
        let o = run(&["fit", runs.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{want}: {err}");
    }
}
