//! `rooflaw measure` as a user runs it: the burn engine's record, the machine's roofline saved as a device
//! that `predict` prices against, the records fitted by `calibrate`, llama.cpp when `llama-bench` is
//! installed (scripts/llama-cpp.sh; `scripts/test.sh --full` installs it and sets ROOFLAW_REQUIRE_LLAMA_CPP=1),
//! and clear errors for bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use rooflaw_tests::{measure_device, run, stderr, stdout, tmp};
use serde_json::Value;

const SPEC: &str = r#"{"name": "tiny-gqa", "layers": 2, "d_model": 128, "heads": 4, "kv_heads": 2, "ffn_ratio": 3.0, "vocab_size": 2048}"#;

#[test]
fn burn_records_a_device_and_a_calibration() {
    let dir = tmp("measure-burn");
    let (spec, devices, out) = (dir.join("spec.json"), dir.join("devices.json"), dir.join("records.jsonl"));
    let _ = std::fs::remove_file(&out);
    std::fs::write(&spec, SPEC).unwrap();
    let o = measure_device(&devices, "my-box");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("STREAM triad") && stdout(&o).contains("saved device my-box"), "{}", stdout(&o));
    // The saved device prices a model (FP32 at the measured GEMM peak).
    let o = run(&[
        "--devices",
        devices.to_str().unwrap(),
        "predict",
        "--spec",
        spec.to_str().unwrap(),
        "--device",
        "my-box",
        "--precision",
        "fp32",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (layers, d) in [(2, 128), (3, 96), (4, 64)] {
        let s = SPEC
            .replace("\"layers\": 2", &format!("\"layers\": {layers}"))
            .replace("\"d_model\": 128", &format!("\"d_model\": {d}"))
            .replace("tiny-gqa", &format!("l{layers}-d{d}"));
        std::fs::write(&spec, s).unwrap();
        let o = run(&[
            "measure",
            "latency",
            "--spec",
            spec.to_str().unwrap(),
            "--prompt",
            "32",
            "--generate",
            "4",
            "--depths",
            "0,16",
            "--repeat",
            "3",
            "--device",
            "my-box",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let records: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(records.as_array().unwrap().len(), 2, "one record per depth");
        let r = &records[1];
        assert_eq!(
            (r["engine"].as_str(), r["plan"]["depth"].as_u64(), r["decode"]["samples"].as_array().unwrap().len()),
            (Some("burn"), Some(16), 12)
        );
        assert!(r["reliable"].is_boolean() && r["host"]["cpus"].as_u64().unwrap() >= 1 && r["energy"]["note"].is_string(), "{r}");
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 6);
    let o = run(&["--devices", devices.to_str().unwrap(), "calibrate", out.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    // 3 depth-0 records give decode and prefill rows; 3 depth-16 records decode rows only.
    assert_eq!(report["profiles"][0]["rows_used"], 9, "{report}");
    assert!(report["profiles"][0]["loo_mape_decode"].is_number(), "{report}");
}

#[test]
fn llama_cpp_times_a_random_weight_gguf_when_installed() {
    let bench = std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache/rooflaw-tools/llama.cpp-b11434/bin/llama-bench"));
    let bench = std::env::var_os("ROOFLAW_TOOLS").map(|t| std::path::PathBuf::from(t).join("llama.cpp-b11434/bin/llama-bench")).or(bench);
    let required = std::env::var("ROOFLAW_REQUIRE_LLAMA_CPP").is_ok_and(|v| v == "1");
    if !bench.as_ref().is_some_and(|b| b.is_file()) {
        assert!(!required, "ROOFLAW_REQUIRE_LLAMA_CPP=1 but llama-bench is not installed (scripts/llama-cpp.sh)");
        eprintln!("llama-bench is not installed: skipped (scripts/test.sh --full installs it)");
        return;
    }
    let dir = tmp("measure-llama");
    let spec = dir.join("spec.json");
    std::fs::write(&spec, SPEC).unwrap();
    for precision in ["F16", "Q8_0", "Q4_0", "Q4_K_M"] {
        let o = run(&[
            "measure",
            "latency",
            "--spec",
            spec.to_str().unwrap(),
            "--engine",
            "llama.cpp",
            "--precision",
            precision,
            "--prompt",
            "32",
            "--generate",
            "4",
            "--repeat",
            "2",
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{precision}: {}", stderr(&o));
        let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert!(r[0]["engine_version"].as_str().unwrap().starts_with("llama.cpp b11434"), "{r}");
        assert_eq!(r[0]["precision"].as_str(), Some(precision));
        assert!(r[0]["decode_tokens_per_sec"].as_f64().unwrap() > 0.0);
    }
    // A batch of sequences goes through llama-batched-bench: a prefill and a mean decode step per repeat.
    let o = run(&[
        "measure",
        "latency",
        "--spec",
        spec.to_str().unwrap(),
        "--engine",
        "llama.cpp",
        "--batch",
        "2",
        "--prompt",
        "32",
        "--generate",
        "4",
        "--repeat",
        "3",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(r[0]["engine_version"].as_str().unwrap().contains("llama-batched-bench"), "{r}");
    assert_eq!((r[0]["batch"].as_u64(), r[0]["prefill"]["samples"].as_array().unwrap().len()), (Some(2), 3));
}

#[test]
fn bad_input_to_measure_is_explained() {
    let dir = tmp("measure-bad");
    let spec = dir.join("spec.json");
    std::fs::write(&spec, SPEC).unwrap();
    let s = spec.to_str().unwrap();
    let o = run(&["measure", "latency", "--spec", s, "--engine", "tensorrt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("possible values: burn, llama.cpp, vllm"), "{}", stderr(&o));
    let o = run(&["measure", "latency", "--spec", s, "--engine", "llama.cpp", "--llama-bench", "/nowhere/llama-bench"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nowhere/llama-bench does not exist"), "{}", stderr(&o));
    let o = run(&["measure", "latency", "qwen3-30b-a3b", "--batch", "256", "--prompt", "32768", "--generate", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("GB of memory is available") && stderr(&o).contains("choose a smaller model"), "{}", stderr(&o));
    let o = run(&["measure", "latency", "--spec", s, "--precision", "int8"]);
    assert!(stderr(&o).contains("the burn engine runs fp32 weights"), "{}", stderr(&o));
    let o = run(&["measure", "latency", "--spec", s, "--repeat", "0"]);
    assert!(stderr(&o).contains("--repeat must be at least 1"), "{}", stderr(&o));
    let o = run(&["measure", "roofline", "--save-device", "My Box"]);
    assert!(stderr(&o).contains("a device id is lower-case letters"), "{}", stderr(&o));
    let o = run(&["measure", "latency", "--spec", s, "--engine", "vllm"]);
    assert!(stderr(&o).contains("vllm was not found on PATH") || o.status.success(), "{}", stderr(&o));
}

#[test]
fn mlc_benchmark_output_becomes_a_record() {
    // MLC runs on the device; here a stand-in for jetson-containers' benchmark.py prints what the real one
    // printed on an AGX Orin 32GB (jetson-containers issue 412): a warm-up prompt, then one line per prompt.
    let dir = tmp("measure-mlc");
    let script = dir.join("benchmark.py");
    let line = |prefill: &str, prefill_rate: &str, decode: &str, decode_rate: &str| {
        format!("/data/models/mlc/dist/Llama-2-7b-chat-hf-q4f16_ft/params:  input=16 output=128 prefill_time {prefill} sec, prefill_rate {prefill_rate} tokens/sec, decode_time {decode} sec, decode_rate {decode_rate} tokens/sec")
    };
    let printed = [
        line("0.250", "64.0", "7.111", "18.0"),
        line("0.081", "197.0", "6.632", "19.3"),
        line("0.080", "200.0", "6.667", "19.2"),
        line("0.082", "195.1", "6.598", "19.4"),
    ];
    std::fs::write(
        &script,
        format!(
            "import sys\nassert '--max-num-prompts' in sys.argv and sys.argv[sys.argv.index('--max-num-prompts') + 1] == '4', sys.argv\nprint('''{}''')\n",
            printed.join("\n")
        ),
    )
    .unwrap();
    let prompts = dir.join("completion_16.json");
    std::fs::write(&prompts, "[]").unwrap();
    let measure = |extra: &[&str], benchmark: &std::path::Path| {
        let mut args =
            vec!["measure", "latency", "llama-3.2-1b", "--engine", "mlc", "--generate", "128", "--repeat", "3", "--format", "json"];
        args.extend_from_slice(extra);
        std::process::Command::new(rooflaw_tests::rooflaw_bin()).args(&args).env("ROOFLAW_MLC_BENCHMARK", benchmark).output().unwrap()
    };
    let o = measure(
        &["--mlc-model", "/data/models/mlc/dist/Llama-2-7b-chat-hf-q4f16_ft/params", "--mlc-prompts", prompts.to_str().unwrap()],
        &script,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let r = &r[0];
    assert_eq!(
        (r["engine"].as_str(), r["prompt_tokens"].as_u64(), r["generated_tokens"].as_u64()),
        (Some("mlc"), Some(16), Some(128)),
        "{r}"
    );
    // The warm-up is dropped; the three prefills are kept (16 tokens at the printed rate: the median is
    // 16 / 197.0 s), and a decode step is the inverse of the decode rate (median 1 / 19.3 s).
    assert_eq!(r["prefill"]["samples"].as_array().unwrap().len(), 3, "{r}");
    assert!((r["prefill"]["median"].as_f64().unwrap() - 16.0 / 197.0).abs() < 1e-12, "{r}");
    assert!((r["decode"]["median"].as_f64().unwrap() - 1.0 / 19.3).abs() < 1e-12, "{r}");
    // What is missing is named.
    let o = measure(&[], &script);
    assert!(o.status.code() == Some(2) && stderr(&o).contains("--mlc-model"), "{}", stderr(&o));
    let o = measure(&["--mlc-model", "m", "--mlc-prompts", "/nowhere/completion_16.json"], &script);
    assert!(o.status.code() == Some(2) && stderr(&o).contains("/nowhere/completion_16.json"), "{}", stderr(&o));
    if !std::path::Path::new("/opt/mlc-llm/benchmark.py").exists() && !std::path::Path::new("/test/benchmark.py").exists() {
        let o = measure(&["--mlc-model", "m"], &dir.join("absent.py"));
        assert!(o.status.code() == Some(2) && stderr(&o).contains("ROOFLAW_MLC_BENCHMARK"), "{}", stderr(&o));
    }
}
