//! Bad input to every command: one line naming the problem and a fix, exit code 2, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use rooflaw_tests::{run, stderr, tmp};

#[test]
fn bad_input_is_one_line_with_a_fix_and_exit_code_2() {
    let dir = tmp("errors");
    let zero_layers = dir.join("zero.json");
    std::fs::write(&zero_layers, r#"{"layers": 0, "d_model": 1024, "heads": 16, "ffn_ratio": 4, "vocab_size": 32000}"#).unwrap();
    let bad_heads = dir.join("heads.json");
    std::fs::write(&bad_heads, r#"{"layers": 4, "d_model": 1000, "heads": 16, "ffn_ratio": 4, "vocab_size": 32000}"#).unwrap();
    let malformed = dir.join("config.json");
    std::fs::write(&malformed, r#"{"model_type": "llama", "hidden_size": 2048,"#).unwrap();
    let missing = dir.join("nope.json");
    let gif = dir.join("x.gif");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["predict", "--spec", zero_layers.to_str().unwrap()], "layers: must be at least 1, got 0; set layers to 1 or more"),
        (vec!["predict", "--spec", bad_heads.to_str().unwrap()], "d_model 1000 is not divisible by 16 heads; try 10 or 20 heads"),
        (vec!["predict", "qwen2.5-0.5b", "--device", "jetson-orin-mega"], "unknown device 'jetson-orin-mega'; known devices:"),
        (vec!["predict", "qwen2.5-0.5b", "--precision", "fp8"], "cannot run fp8 math: compute capability 8.7"),
        (vec!["predict", "qwen2.5-0.5b", "--precision", "int3"], "unknown precision 'int3'; use one of"),
        (vec!["predict", "--hf-config", malformed.to_str().unwrap()], "config.json: not valid JSON"),
        (vec!["predict", "--hf-config", missing.to_str().unwrap()], "cannot read config.json"),
        (vec!["predict", "qwen2.5-0.5b", "--batch", "0"], "batch: must be at least 1"),
        (vec!["predict", "qwen2.5-0.5b", "--power-mode", "15W"], "has no clock or bandwidth figures"),
        (vec!["calibrate", missing.to_str().unwrap()], "cannot read measurements file"),
        (vec!["roofline-plot", "qwen2.5-0.5b", "--out", gif.to_str().unwrap()], "must end in .svg or .png"),
        (vec!["arch", "show", "gpt-9"], "unknown model 'gpt-9'; known models: "),
        (vec!["predict", "qwen2.5-0.5b", "--calibration", zero_layers.to_str().unwrap()], "write one with `rooflaw calibrate"),
        (vec!["frontier", "--memory-budget", "lots"], "memory budget: 'lots' is not a positive number of bytes"),
        (vec!["frontier", "--latency-budget", "0"], "--latency-budget 0 must be a positive number of seconds"),
        (vec!["frontier", "--law", "nope"], "unknown law 'nope'"),
        (vec!["frontier", "--space", "nope"], "unknown design space 'nope'"),
        (vec!["frontier", "--scenario", "mars-rover"], "unknown scenario 'mars-rover'"),
        (vec!["match", "qwen2.5-0.5b", "--device", "tpu"], "unknown device 'tpu'"),
        (vec!["theory"], "give --device ID"),
        (vec!["fit", missing.to_str().unwrap()], "cannot read runs file"),
        (vec!["serve", "--dir", dir.to_str().unwrap()], "has no index.html"),
    ];
    for (args, want) in cases {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line expected: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // Flags clap refuses (an unknown level, a missing value) also exit with 2 and list what is accepted.
    let o = run(&["frontier", "--level", "peak"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("[possible values: paper, roofline, calibrated]"), "{}", stderr(&o));
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    // `rooflaw frontier --all --format csv | head -c 100`: far more than a pipe holds, read 100 bytes.
    let mut child = std::process::Command::new(rooflaw_tests::rooflaw_bin())
        .args(["frontier", "--all", "--format", "csv"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
