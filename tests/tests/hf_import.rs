//! Hugging Face config.json import against published parameter counts (cross-crate: fixtures + science crate).
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use rooflaw::hf::from_hf_config;
use rooflaw::models::find_model;
use rooflaw_tests::fixture;

fn load(name: &str) -> rooflaw::Architecture {
    from_hf_config(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

#[test]
fn published_parameter_counts_are_exact() {
    // (fixture, total, active, source of the published figure)
    let table: &[(&str, u64, u64)] = &[
        ("qwen2.5-0.5b.config.json", 494_032_768, 494_032_768), // Qwen2.5-0.5B safetensors metadata
        ("llama-3.2-1b.config.json", 1_235_814_400, 1_235_814_400), // Llama-3.2-1B model card, tied embeddings
        ("olmoe-1b-7b.config.json", 6_919_161_856, 1_282_017_280), // OLMoE paper: 6.9B total, 1.3B active
        ("qwen3-30b-a3b.config.json", 30_532_122_624, 3_353_032_704), // model card: 30.5B total, 3.3B activated
        ("mixtral-8x7b.config.json", 46_702_792_704, 12_879_925_248), // Mixtral paper: 46.7B total, 12.9B active
        ("qwen1.5-moe-a2.7b.config.json", 14_315_784_192, 2_689_173_504), // model card: 14.3B total, 2.7B activated
    ];
    for (file, total, active) in table {
        let p = load(file).params();
        assert_eq!((p.total, p.active), (*total, *active), "{file}");
        let sum = p.embedding + p.attention + p.ffn_total + p.router + p.norms + p.lm_head;
        assert_eq!(sum, p.total, "{file}: components add up");
    }
}

#[test]
fn config_import_equals_the_reference_preset() {
    for (file, id) in [
        ("qwen2.5-0.5b.config.json", "qwen2.5-0.5b"),
        ("llama-3.2-1b.config.json", "llama-3.2-1b"),
        ("olmoe-1b-7b.config.json", "olmoe-1b-7b"),
        ("qwen3-30b-a3b.config.json", "qwen3-30b-a3b"),
    ] {
        let from_file = load(file);
        let preset = find_model(id).unwrap().architecture().unwrap();
        assert_eq!(from_file.params(), preset.params(), "{file}");
        assert_eq!((from_file.qk_norm, from_file.attention_bias), (preset.qk_norm, preset.attention_bias), "{file}");
    }
}
