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
        // keras-hub's presets give these totals (HF safetensors metadata agrees).
        ("gemma-2-2b.config.json", 2_614_341_888, 2_614_341_888),
        ("gemma-2-9b.config.json", 9_241_705_984, 9_241_705_984),
        ("gemma-3-1b.config.json", 999_885_952, 999_885_952),
        ("gemma-3-270m.config.json", 268_098_176, 268_098_176),
        ("phi-3-mini-4k.config.json", 3_821_079_552, 3_821_079_552),
        ("mistral-7b-v0.1.config.json", 7_241_732_096, 7_241_732_096),
        ("granite-3.0-2b.config.json", 2_533_531_648, 2_533_531_648), // HF total of granite-3.1-2b-instruct, same shapes
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
        ("gemma-2-2b.config.json", "gemma-2-2b"),
        ("gemma-2-9b.config.json", "gemma-2-9b"),
        ("gemma-3-1b.config.json", "gemma-3-1b"),
        ("gemma-3-270m.config.json", "gemma-3-270m"),
        ("phi-3-mini-4k.config.json", "phi-3-mini-4k"),
        ("mistral-7b-v0.1.config.json", "mistral-7b-v0.1"),
        ("granite-3.0-2b.config.json", "granite-3.1-2b"),
        ("deepseek-v2-lite.config.json", "deepseek-v2-lite"),
        ("deepseek-v3.config.json", "deepseek-v3"),
    ] {
        let from_file = load(file);
        let preset = find_model(id).unwrap().architecture().unwrap();
        assert_eq!(from_file.params(), preset.params(), "{file}");
        assert_eq!((from_file.qk_norm, from_file.attention_bias), (preset.qk_norm, preset.attention_bias), "{file}");
        assert_eq!(
            (from_file.sandwich_norms, from_file.sliding_window, from_file.sliding_layers),
            (preset.sandwich_norms, preset.sliding_window, preset.sliding_layers),
            "{file}"
        );
    }
}

#[test]
fn sliding_windows_and_gemma_layouts_are_read() {
    // Gemma 2: a 4,096-token window on the 13 even layers of 26; four norms per layer (d = 2304):
    // 26 × 4 × 2304 + 2304 = 241,920 norm weights.
    let g2 = load("gemma-2-2b.config.json");
    assert_eq!((g2.sliding_window, g2.sliding_layers, g2.params().norms), (4096, 13, 241_920));
    // Gemma 3: sliding_window_pattern 6 → 22 sliding layers of 26; layer_types (270M) → 15 of 18.
    assert_eq!((load("gemma-3-1b.config.json").sliding_layers, load("gemma-3-270m.config.json").sliding_layers), (22, 15));
    // Mistral 7B v0.1 slides on all 32 layers; Phi-3-mini-4k's window is 2,047 on all.
    let m = load("mistral-7b-v0.1.config.json");
    assert_eq!((m.sliding_window, m.sliding_layers), (4096, 32));
    assert_eq!(load("phi-3-mini-4k.config.json").sliding_window, 2047);
    // A multimodal gemma3 config prices its text_config.
    let text = std::fs::read_to_string(fixture("gemma-3-1b.config.json")).unwrap();
    let nested = format!(r#"{{"model_type": "gemma3", "text_config": {text}}}"#);
    assert_eq!(from_hf_config(&nested).unwrap().params().total, 999_885_952);
    assert!(from_hf_config(r#"{"model_type": "gemma3"}"#).unwrap_err().to_string().contains("text_config"));
    // google/gemma-3-4b-it's text_config gives only the widths, the depth and the window: the class
    // defaults supply 8 heads, 4 KV heads of 256 and the 262,208-token vocabulary. keras-hub's text-only
    // gemma3_4b_text has 3,880,099,328 parameters with 262,144 tokens; 64 more rows of 2,560 make
    // 3,880,263,168.
    let four_b = r#"{"model_type": "gemma3", "text_config": {"hidden_size": 2560, "intermediate_size": 10240,
        "model_type": "gemma3_text", "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024}}"#;
    let a = from_hf_config(four_b).unwrap();
    assert_eq!((a.heads, a.kv_heads, a.head_dim, a.sliding_window, a.sliding_layers), (8, 4, 256, 1024, 29));
    assert_eq!(a.params().total, 3_880_263_168);
}

#[test]
fn deepseek_latent_attention_and_its_dense_prefix_count_exactly() {
    // DeepSeek-V2-Lite, by hand (HF names): embedding and head 102,400 × 2,048 each; per layer q_proj
    // 2,048 × 16 × 192, kv_a_proj_with_mqa 2,048 × 576, kv_a_layernorm 512, kv_b_proj 512 × 16 × 256,
    // o_proj 16 × 128 × 2,048 (13,763,072), two norms; layer 0 a dense FFN 3 × 2,048 × 10,944; 26 MoE
    // layers of 64 experts 3 × 2,048 × 1,408, an ungated shared FFN 3 × 2,048 × 2,816 and a router
    // 64 × 2,048: 209,715,200 + 81,007,104 + 26 × 584,847,872 + 2,048 + 209,715,200 = 15,706,484,224,
    // HF's safetensors total.
    let lite = load("deepseek-v2-lite.config.json");
    assert_eq!(lite.attention_params_per_layer(), 13_763_072);
    assert_eq!((lite.params().total, lite.dense_layers, lite.moe_layers()), (15_706_484_224, 1, 26));
    // DeepSeek-V3: the 61-layer model with its router biases, without the multi-token-prediction layer.
    assert_eq!(load("deepseek-v3.config.json").params().total, 671_026_419_200);
    // The latent cache: (512 + 64) elements per token and layer for all heads, in BF16:
    // 27 × 576 × 2 B = 31,104 B per token for V2-Lite, 61 × 576 × 2 B = 70,272 B for V3.
    let w = rooflaw::Workload::new(1, 999, 1).unwrap();
    let kv = |a: &rooflaw::Architecture| rooflaw::roofline::memory_footprint(a, &w, &rooflaw::Precision::FP16).kv_cache_bytes / 1000.0;
    assert_eq!((kv(&lite), kv(&load("deepseek-v3.config.json"))), (31_104.0, 70_272.0));
    // Decode reads the cached latent of every context token once per layer, shared by the 16 heads:
    // prompt 1,000, 10 steps → Σ contexts 10 × 1,000 + 55 = 10,055; 27 × 576 × 2 B × 10,055 = 312,750,720 B.
    let t = rooflaw::Target::new(
        rooflaw::Catalogue::default().get("jetson-agx-orin-64gb").unwrap(),
        None,
        rooflaw::Workload::new(1, 1000, 10).unwrap(),
        rooflaw::Precision::FP16,
    )
    .unwrap();
    let read: f64 =
        rooflaw::roofline::breakdown(&lite, &t, rooflaw::Level::Roofline, &rooflaw::Efficiency::PEAK, rooflaw::cost::Phase::Decode)
            .iter()
            .map(|r| r.cost.kv_read_bytes)
            .sum();
    assert_eq!(read, 312_750_720.0);
}
