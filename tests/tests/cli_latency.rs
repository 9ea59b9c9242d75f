//! The latency half of the `rooflaw` binary as a user runs it: arch, devices, predict, roofline-plot, calibrate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use rooflaw_tests::{fixture, run, stderr, stdout, tmp};

#[test]
fn predict_qwen_on_agx_orin_has_stable_json_keys() {
    let o = run(&[
        "predict",
        "qwen2.5-0.5b",
        "--device",
        "jetson-agx-orin-64gb",
        "--batch",
        "1",
        "--prompt",
        "1024",
        "--generate",
        "16",
        "--precision",
        "fp16",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for level in ["paper", "roofline", "calibrated"] {
        for key in ["prefill_secs", "decode_secs", "decode_per_token_secs", "total_secs"] {
            assert!(v["latency"][level][key].as_f64().unwrap() > 0.0, "latency.{level}.{key}");
        }
    }
    assert_eq!(v["params"]["total"], 494_032_768u64);
    assert_eq!(v["workload"]["prompt_tokens"], 1024);
    for key in ["weight_bytes", "kv_cache_bytes", "activation_bytes", "total_bytes"] {
        assert!(v["memory"][key].as_f64().unwrap() > 0.0, "memory.{key}");
    }
    assert!(v["closed_form"]["prefill_secs"].as_f64().unwrap() > 0.0);
    assert_eq!(v["fits_in_memory"], true);
    assert!(v["calibration"]["in_sample_mape"].as_f64().is_some());
    // Total = prefill + decode at every level.
    let l = &v["latency"]["calibrated"];
    let (p, d, t) = (l["prefill_secs"].as_f64().unwrap(), l["decode_secs"].as_f64().unwrap(), l["total_secs"].as_f64().unwrap());
    assert!((p + d - t).abs() < 1e-12);
}

#[test]
fn table_and_csv_outputs() {
    let o = run(&["predict", "qwen2.5-0.5b", "--device", "jetson-agx-orin-64gb"]);
    let out = stdout(&o);
    assert!(out.contains("paper") && out.contains("calibrated") && out.contains("memory:") && out.contains("bounds"), "{out}");
    let o = run(&["predict", "llama-3.2-1b", "--format", "csv"]);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(out.starts_with("model,device,power_mode,precision,batch,prompt_tokens,generated_tokens,level,prefill_secs"));
    let o = run(&["predict", "olmoe-1b-7b", "--breakdown", "roofline", "--format", "csv"]);
    assert!(stdout(&o).lines().any(|l| l.starts_with("prefill,router,")), "{}", stdout(&o));
    let o = run(&["arch", "show", "--hf-config", fixture("llama-3.2-1b.config.json").to_str().unwrap()]);
    assert!(stdout(&o).contains("1,235,814,400"), "{}", stdout(&o));
    let o = run(&["devices", "show", "jetson-orin-nano-8gb", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["devices"][0]["usable_memory_bytes"], 5.2e9);
}

#[test]
fn roofline_plots_and_calibration_round_trip() {
    let dir = tmp("plot");
    for ext in ["svg", "png"] {
        let out = dir.join(format!("roofline.{ext}"));
        let o = run(&["roofline-plot", "qwen2.5-0.5b", "olmoe-1b-7b", "--level", "calibrated", "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.len() > 5_000, "{ext}: {} bytes", bytes.len());
        if ext == "svg" {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("arithmetic intensity") && text.contains("ffn_up"));
        } else {
            assert_eq!(&bytes[1..4], b"PNG");
        }
    }
    let measurements = dir.join("m.csv");
    std::fs::write(
        &measurements,
        "device,power_mode,engine,precision,model,batch,decode_tokens_per_sec\n\
         jetson-agx-orin-64gb,MAXN,MLC,q4f16_ft,Llama-3.2-1B,1,163.9\n\
         jetson-agx-orin-64gb,MAXN,MLC,q4f16_ft,Llama-3.2-3B,1,80.4\n\
         jetson-orin-nano-8gb,default(15W),MLC,q4f16_ft,Llama-3.2-1B,1,54.8\n\
         jetson-orin-nano-8gb,default(15W),MLC,q4f16_ft,Llama-3.2-3B,1,27.7\n",
    )
    .unwrap();
    let profile = dir.join("profile.json");
    let o = run(&["calibrate", measurements.to_str().unwrap(), "--out", profile.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("leave-one-out"));
    let o = run(&[
        "predict",
        "llama-3.2-1b",
        "--device",
        "jetson-agx-orin-64gb",
        "--precision",
        "int4",
        "--prompt",
        "32",
        "--generate",
        "128",
        "--calibration",
        profile.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let per_token = v["latency"]["calibrated"]["decode_per_token_secs"].as_f64().unwrap();
    // The profile was fitted on 163.9 tokens/s for this model and device: the prediction is close to 6.1 ms.
    assert!((per_token - 1.0 / 163.9).abs() / (1.0 / 163.9) < 0.15, "{per_token}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn grouped_calibration_is_picked_by_device() {
    let dir = tmp("group");
    let profiles = dir.join("profiles.json");
    let csv = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/orin_measurements.csv");
    // Two device groups with at least 3 usable rows: add a third AGX Orin row (Llama-3.1-8B at 33 tokens/s).
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("jetson-agx-orin-64gb,MAXN,MLC 0.1.2,q4f16_ft,Llama-3.1-8B,meta-llama/Llama-3.1-8B,1,33.0,test row\n");
    let measurements = dir.join("m.csv");
    std::fs::write(&measurements, text).unwrap();
    let o = run(&[
        "calibrate",
        measurements.to_str().unwrap(),
        "--group-by",
        "device",
        "--out",
        profiles.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&profiles).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    for device in ["jetson-agx-orin-64gb", "jetson-orin-nano-8gb"] {
        let o = run(&["predict", "llama-3.2-1b", "--device", device, "--calibration", profiles.to_str().unwrap(), "--format", "json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let p: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(p["calibration"]["label"], device, "{device}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
