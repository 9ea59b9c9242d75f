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
}

#[test]
fn grouped_calibration_is_picked_by_device() {
    let dir = tmp("group");
    let profiles = dir.join("profiles.json");
    let csv = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/orin_measurements.csv");
    let o = run(&["calibrate", csv.to_str().unwrap(), "--group-by", "device", "--out", profiles.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&profiles).unwrap()).unwrap();
    // The Orin NX 16GB has 2 usable rows: no profile of its own.
    let devices: Vec<&str> = v.as_array().unwrap().iter().map(|p| p["scope"]["device"].as_str().unwrap()).collect();
    assert_eq!(devices, ["jetson-agx-orin-64gb", "jetson-orin-nano-8gb", "jetson-orin-nano-super-8gb"], "{v}");
    for device in devices {
        let o = run(&["predict", "llama-3.2-1b", "--device", device, "--calibration", profiles.to_str().unwrap(), "--format", "json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let p: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(p["calibration"]["label"], device, "{device}");
    }
}

#[test]
fn the_engine_picks_the_calibration_and_every_calibrated_latency_has_an_interval() {
    let predict = |engine: &str| {
        let o = run(&[
            "predict",
            "llama-3.1-8b",
            "--device",
            "jetson-agx-orin-64gb",
            "--precision",
            "int4",
            "--engine",
            engine,
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()
    };
    let (mlc, vllm) = (predict("mlc"), predict("vllm"));
    assert!(mlc["calibration"]["label"].as_str().unwrap().starts_with("built-in: mlc"), "{mlc}");
    assert!(vllm["calibration"]["label"].as_str().unwrap().starts_with("built-in: vllm"), "{vllm}");
    assert_ne!(mlc["latency"]["calibrated"], vllm["latency"]["calibrated"]);
    // The decode interval brackets the calibrated decode.
    let d = mlc["latency"]["calibrated"]["decode_secs"].as_f64().unwrap();
    let [lo, hi] = [0, 1].map(|k| mlc["calibrated_interval"]["decode_secs"][k].as_f64().unwrap());
    assert!(lo < d && d < hi, "{lo} {d} {hi}");
    assert_eq!(mlc["calibrated_interval"]["level"], 0.9);
    // The default engine is MLC; an engine without rows of its own is pooled, an unknown one refused.
    let default = run(&["predict", "llama-3.1-8b", "--device", "jetson-agx-orin-64gb", "--precision", "int4", "--format", "json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stdout(&default)).unwrap()["calibration"], mlc["calibration"]);
    assert!(predict("transformers")["calibration"]["label"].as_str().unwrap().contains("pooled"));
    let o = run(&["predict", "llama-3.1-8b", "--engine", "tgi"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown engine 'tgi'") && stderr(&o).contains("llama.cpp"), "{}", stderr(&o));
    // frontier, match and theory take the engine too.
    let o = run(&["frontier", "--engine", "llama.cpp", "--level", "calibrated", "--objective", "decode", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        f["calibration"].as_str().unwrap().starts_with("built-in: llama.cpp") && f["latency_interval"]["high"].as_f64().unwrap() > 1.0,
        "{}",
        f["latency_interval"]
    );
    let o = run(&["match", "llama-3.2-1b", "--engine", "vllm", "--level", "calibrated", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()["latency_interval"]["low"].as_f64().unwrap() < 1.0);
    let theory = |engine: Option<&str>| {
        let mut args = vec!["theory", "--device", "jetson-agx-orin-64gb", "--decode-target", "0.1", "--format", "json"];
        if let Some(e) = engine {
            args.extend(["--engine", e]);
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    assert_ne!(theory(None), theory(Some("llama.cpp")), "the engine's efficiencies scale the ceilings");
}

#[test]
fn evaluate_prices_a_file_with_config_json_models_per_engine() {
    let dir = tmp("evaluate");
    // A model given by its config.json (SmolLM2-135M's shape, named differently), next to the CSV.
    std::fs::write(
        dir.join("my-model.json"),
        r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
            "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3, "vocab_size": 49152,
            "tie_word_embeddings": true, "max_position_embeddings": 8192, "rms_norm_eps": 1e-5}"#,
    )
    .unwrap();
    let csv = dir.join("mine.csv");
    std::fs::write(
        &csv,
        "device,power_mode,engine,precision,model,batch,decode_tokens_per_sec,config\n\
         jetson-orin-nano-super-8gb,MAXN_SUPER,llama.cpp b9292 (CUDA),Q4_K_M,my-model,1,150.0,my-model.json\n\
         jetson-agx-orin-64gb,MAXN,MLC,q4f16_ft,llama-3.2-3b,1,78.0,\n\
         jetson-agx-orin-64gb,MAXN,vLLM 0.9,W4A16,qwen3-4b,1,45.0,\n",
    )
    .unwrap();
    let o = run(&["calibrate", "--evaluate", csv.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let engines: Vec<&str> = v["engines"].as_array().unwrap().iter().map(|e| e["engine"].as_str().unwrap()).collect();
    assert_eq!(engines, ["llama.cpp", "mlc", "vllm"], "{v}");
    let mine = &v["rows"][0];
    assert_eq!((mine["model"].as_str(), mine["engine"].as_str()), (Some("my-model"), Some("llama.cpp")), "{v}");
    // SmolLM2-135M at 150 tokens/s: the llama.cpp profile prices it within a factor of 1.5.
    let (m, p) = (mine["measured_secs"].as_f64().unwrap(), mine["predicted_secs"].as_f64().unwrap());
    assert!((p / m - 1.0).abs() < 0.5, "{m} vs {p}");
    assert!(v["skipped"].as_array().unwrap().is_empty(), "{v}");
    let table = stdout(&run(&["calibrate", "--evaluate", csv.to_str().unwrap()]));
    assert!(table.contains("in 90% interval") && table.contains("built-in: vllm"), "{table}");
    // A missing config.json is named.
    std::fs::remove_file(dir.join("my-model.json")).unwrap();
    let o = run(&["calibrate", "--evaluate", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("my-model.json"), "{}", stderr(&o));
}
