//! Import of a Hugging Face `config.json` into an [`ArchitectureSpec`].
//!
//! Supported `model_type`s: llama, mistral, qwen2, qwen3, qwen2_moe, qwen3_moe, mixtral, olmoe, gemma2,
//! gemma3_text (and gemma3 with a `text_config`), phi3, granite, deepseek_v2, deepseek_v3 (multi-head
//! latent attention, a dense prefix of `first_k_dense_replace` layers, ungated shared experts; V3's
//! multi-token-prediction layer is not part of the model priced). Field
//! names and defaults are those of the `transformers` configuration classes of each type; a missing
//! `tie_word_embeddings` means false for all of them (their classes default to untied). Stacks that mix
//! dense and MoE layers (`decoder_sparse_step` ≠ 1 or a non-empty `mlp_only_layers`) are rejected: the
//! cost model prices one layer shape for the whole stack.
//!
//! What adds no parameters is not imported: Gemma's √d embedding scale and logit soft-capping,
//! Granite's multipliers, GeGLU against SwiGLU (three matrices either way), Phi-3's fused qkv and
//! gate_up projections (the same weights, stored together). Sliding windows are imported (`sliding_window`
//! with the layers that use it: all for mistral and phi3, every other layer for gemma2, `layer_types` or
//! the 5:1 `sliding_window_pattern` for gemma3), because they bound the KV cache and the attention.

use serde_json::Value;

use crate::arch::{Architecture, ArchitectureSpec, AttentionBias, Mla, QkNorm};
use crate::error::{Error, Result};

/// Model types this importer understands.
pub const SUPPORTED_MODEL_TYPES: [&str; 15] = [
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "qwen2_moe",
    "qwen3_moe",
    "mixtral",
    "olmoe",
    "gemma2",
    "gemma3_text",
    "gemma3",
    "phi3",
    "granite",
    "deepseek_v2",
    "deepseek_v3",
];

const WHAT: &str = "config.json";

fn uint(cfg: &Value, key: &str) -> Result<Option<u64>> {
    match cfg.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            Error::parse(WHAT, format!("field \"{key}\" must be a non-negative integer, got {v}; fix the value in the file"))
        }),
    }
}

fn required(cfg: &Value, key: &str) -> Result<u64> {
    uint(cfg, key)?.ok_or_else(|| Error::parse(WHAT, format!("field \"{key}\" is missing; a {} config must give it", model_type_of(cfg))))
}

fn flag(cfg: &Value, key: &str) -> Result<Option<bool>> {
    match cfg.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(Error::parse(WHAT, format!("field \"{key}\" must be true or false, got {v}"))),
    }
}

fn model_type_of(cfg: &Value) -> &str {
    cfg.get("model_type").and_then(Value::as_str).unwrap_or("this")
}

/// The sliding window of a config (None when absent, null, or at least the model's context, as
/// Phi-3.5's 262,144).
fn window(cfg: &Value) -> Result<Option<u64>> {
    let w = uint(cfg, "sliding_window")?;
    let context = uint(cfg, "max_position_embeddings")?;
    Ok(w.filter(|w| context.is_none_or(|c| *w < c)))
}

/// Gemma 3's sliding layers: `layer_types` when given, else every layer but each `sliding_window_pattern`-th
/// (default 6).
fn gemma3_sliding_layers(cfg: &Value, layers: u64) -> Result<u64> {
    if let Some(Value::Array(types)) = cfg.get("layer_types") {
        return Ok(types.iter().filter(|t| t.as_str() == Some("sliding_attention")).count() as u64);
    }
    let pattern = match uint(cfg, "sliding_window_pattern")? {
        Some(p) => Some(p),
        None => uint(cfg, "_sliding_window_pattern")?,
    }
    .unwrap_or(6);
    if pattern == 0 {
        return Err(Error::parse(WHAT, "sliding_window_pattern must be at least 1"));
    }
    Ok(layers - layers / pattern)
}

/// Reads a `config.json` text into a raw architecture (not yet validated).
pub fn spec_from_hf_config(text: &str) -> Result<ArchitectureSpec> {
    let mut cfg: Value =
        serde_json::from_str(text).map_err(|e| Error::parse(WHAT, format!("not valid JSON ({e}); paste the whole file")))?;
    if !cfg.is_object() {
        return Err(Error::parse(WHAT, "expected a JSON object with model_type, hidden_size, …; paste the whole file"));
    }
    // transformers writes only the fields that differ from its class defaults, and Gemma's classes
    // default what the other types require (a multimodal Gemma 3's text_config often gives only the
    // widths and the depth): their defaults fill in what a file leaves out.
    let defaults: &[(&str, Value)] = match cfg.get("model_type").and_then(Value::as_str) {
        // transformers' Gemma2Config.
        Some("gemma2") => &[
            ("vocab_size", Value::from(256_000)),
            ("num_attention_heads", Value::from(8)),
            ("num_key_value_heads", Value::from(4)),
            ("head_dim", Value::from(256)),
            ("sliding_window", Value::from(4096)),
        ],
        // transformers' Gemma3TextConfig.
        Some("gemma3_text") => &[
            ("vocab_size", Value::from(262_208)),
            ("num_attention_heads", Value::from(8)),
            ("num_key_value_heads", Value::from(4)),
            ("head_dim", Value::from(256)),
            ("sliding_window", Value::from(4096)),
        ],
        _ => &[],
    };
    if let Some(o) = cfg.as_object_mut() {
        for (key, value) in defaults {
            o.entry(*key).or_insert_with(|| value.clone());
        }
    }
    // A multimodal Gemma 3 nests its language model: that is what is priced.
    if cfg.get("model_type").and_then(Value::as_str) == Some("gemma3") {
        let Some(text_config) = cfg.get("text_config").filter(|t| t.is_object()) else {
            return Err(Error::parse(WHAT, "a gemma3 config nests the language model under \"text_config\"; paste the whole file"));
        };
        let mut inner = text_config.clone();
        if let Some(o) = inner.as_object_mut() {
            o.insert("model_type".into(), "gemma3_text".into());
            for key in ["_name_or_path", "tie_word_embeddings"] {
                if let (Some(v), false) = (cfg.get(key), o.contains_key(key)) {
                    o.insert(key.into(), v.clone());
                }
            }
        }
        return spec_from_hf_config(&inner.to_string());
    }
    let model_type = match cfg.get("model_type") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) | None => {
            return Err(Error::parse(
                WHAT,
                format!("field \"model_type\" is missing; supported types are {}", SUPPORTED_MODEL_TYPES.join(", ")),
            ))
        }
    };
    if !SUPPORTED_MODEL_TYPES.contains(&model_type) {
        return Err(Error::Unknown {
            kind: "model_type",
            name: model_type.to_string(),
            fix: format!(
                "supported types are {}; describe other models with an architecture JSON instead",
                SUPPORTED_MODEL_TYPES.join(", ")
            ),
        });
    }

    let heads = required(&cfg, "num_attention_heads")?;
    let mut spec = ArchitectureSpec {
        name: cfg.get("_name_or_path").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string),
        layers: required(&cfg, "num_hidden_layers")?,
        d_model: required(&cfg, "hidden_size")?,
        heads,
        kv_heads: Some(uint(&cfg, "num_key_value_heads")?.unwrap_or(heads)),
        head_dim: uint(&cfg, "head_dim")?,
        vocab_size: required(&cfg, "vocab_size")?,
        tied_embeddings: flag(&cfg, "tie_word_embeddings")?.unwrap_or(false),
        ..Default::default()
    };

    let moe_layers_only = |cfg: &Value| -> Result<()> {
        if let Some(step) = uint(cfg, "decoder_sparse_step")? {
            if step != 1 {
                return Err(Error::parse(
                    WHAT,
                    format!("decoder_sparse_step = {step} mixes dense and MoE layers; only uniform stacks are modelled (set it to 1)"),
                ));
            }
        }
        if let Some(Value::Array(layers)) = cfg.get("mlp_only_layers") {
            if !layers.is_empty() {
                return Err(Error::parse(
                    WHAT,
                    "mlp_only_layers is not empty, so dense and MoE layers are mixed; only uniform stacks are modelled (empty the list)",
                ));
            }
        }
        Ok(())
    };

    match model_type {
        "llama" | "mistral" => {
            spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            if flag(&cfg, "attention_bias")?.unwrap_or(false) {
                spec.attention_bias = AttentionBias::All;
            }
            spec.mlp_bias = flag(&cfg, "mlp_bias")?.unwrap_or(false);
            if model_type == "mistral" {
                // Mistral 7B v0.1: a 4,096-token window on every layer (null in later versions).
                spec.sliding_window = window(&cfg)?;
            }
        }
        "qwen2" => {
            spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            // Qwen2's attention always has a bias on q, k and v (transformers' Qwen2Attention).
            spec.attention_bias = AttentionBias::Qkv;
        }
        "qwen3" => {
            spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            spec.qk_norm = QkNorm::PerHead;
            if flag(&cfg, "attention_bias")?.unwrap_or(false) {
                spec.attention_bias = AttentionBias::Qkv;
            }
        }
        "qwen2_moe" => {
            moe_layers_only(&cfg)?;
            spec.attention_bias = AttentionBias::Qkv;
            spec.intermediate_size = Some(required(&cfg, "moe_intermediate_size")?);
            spec.experts = Some(required(&cfg, "num_experts")?);
            spec.active_experts = Some(required(&cfg, "num_experts_per_tok")?);
            spec.shared_expert_intermediate_size = uint(&cfg, "shared_expert_intermediate_size")?;
        }
        "qwen3_moe" => {
            moe_layers_only(&cfg)?;
            spec.qk_norm = QkNorm::PerHead;
            if flag(&cfg, "attention_bias")?.unwrap_or(false) {
                spec.attention_bias = AttentionBias::Qkv;
            }
            spec.intermediate_size = Some(required(&cfg, "moe_intermediate_size")?);
            spec.experts = Some(required(&cfg, "num_experts")?);
            spec.active_experts = Some(required(&cfg, "num_experts_per_tok")?);
        }
        "mixtral" => {
            spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            spec.experts = Some(required(&cfg, "num_local_experts")?);
            spec.active_experts = Some(required(&cfg, "num_experts_per_tok")?);
        }
        "olmoe" => {
            spec.qk_norm = QkNorm::Full;
            spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            spec.experts = Some(required(&cfg, "num_experts")?);
            spec.active_experts = Some(required(&cfg, "num_experts_per_tok")?);
        }
        "gemma2" | "gemma3_text" => {
            spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            if flag(&cfg, "attention_bias")?.unwrap_or(false) {
                spec.attention_bias = AttentionBias::Qkv;
            }
            // Gemma ties its LM head to the embedding (the class default is true).
            spec.tied_embeddings = flag(&cfg, "tie_word_embeddings")?.unwrap_or(true);
            spec.sandwich_norms = true;
            spec.sliding_window = window(&cfg)?;
            if spec.sliding_window.is_some() {
                spec.sliding_layers = Some(if model_type == "gemma2" {
                    // transformers' Gemma2: layer i slides when i is even.
                    spec.layers.div_ceil(2)
                } else {
                    gemma3_sliding_layers(&cfg, spec.layers)?
                });
            }
            if model_type == "gemma3_text" {
                spec.qk_norm = QkNorm::PerHead;
            }
        }
        "phi3" => {
            spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            spec.sliding_window = window(&cfg)?;
        }
        "deepseek_v2" | "deepseek_v3" => {
            // Multi-head latent attention; MoE layers after `first_k_dense_replace` dense ones, every
            // `moe_layer_freq`-th (only 1 is modelled), with ungated shared experts.
            if uint(&cfg, "moe_layer_freq")?.is_some_and(|f| f != 1) {
                return Err(Error::parse(WHAT, "moe_layer_freq ≠ 1 interleaves dense and MoE layers; only a dense prefix is modelled"));
            }
            spec.mla = Some(Mla {
                q_lora_rank: uint(&cfg, "q_lora_rank")?.unwrap_or(0),
                kv_lora_rank: required(&cfg, "kv_lora_rank")?,
                qk_nope_head_dim: required(&cfg, "qk_nope_head_dim")?,
                qk_rope_head_dim: required(&cfg, "qk_rope_head_dim")?,
                v_head_dim: required(&cfg, "v_head_dim")?,
            });
            spec.head_dim = None;
            spec.kv_heads = Some(heads);
            if flag(&cfg, "attention_bias")?.unwrap_or(false) {
                return Err(Error::parse(WHAT, "attention_bias with multi-head latent attention is not modelled"));
            }
            let experts = uint(&cfg, "n_routed_experts")?.unwrap_or(1);
            if experts > 1 {
                spec.experts = Some(experts);
                spec.active_experts = Some(required(&cfg, "num_experts_per_tok")?);
                let expert = required(&cfg, "moe_intermediate_size")?;
                spec.intermediate_size = Some(expert);
                let shared = uint(&cfg, "n_shared_experts")?.unwrap_or(0);
                spec.shared_expert_intermediate_size = (shared > 0).then_some(shared * expert);
                spec.shared_expert_gate = Some(false);
                let dense = uint(&cfg, "first_k_dense_replace")?.unwrap_or(0);
                if dense > 0 {
                    spec.dense_layers = Some(dense);
                    spec.dense_intermediate_size = Some(required(&cfg, "intermediate_size")?);
                }
                // V3's aux-loss-free balancing keeps a bias per expert on the router.
                spec.router_bias = cfg.get("topk_method").and_then(Value::as_str) == Some("noaux_tc");
            } else {
                spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            }
        }
        "granite" => {
            spec.intermediate_size = Some(required(&cfg, "intermediate_size")?);
            if flag(&cfg, "attention_bias")?.unwrap_or(false) {
                spec.attention_bias = AttentionBias::All;
            }
            spec.mlp_bias = flag(&cfg, "mlp_bias")?.unwrap_or(false);
        }
        _ => unreachable!("model_type was checked against SUPPORTED_MODEL_TYPES above"),
    }
    Ok(spec)
}

/// Reads and validates a `config.json` text.
pub fn from_hf_config(text: &str) -> Result<Architecture> {
    spec_from_hf_config(text)?.validate()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rejects_other_types_by_name() {
        let err = from_hf_config(r#"{"model_type": "gpt2", "n_layer": 12}"#).unwrap_err().to_string();
        assert!(err.starts_with("unknown model_type 'gpt2'; supported types are llama, mistral"), "{err}");
    }

    #[test]
    fn malformed_input_is_a_parse_error() {
        assert!(from_hf_config("{not json").unwrap_err().to_string().starts_with("config.json: not valid JSON"));
        let err = from_hf_config(r#"{"model_type": "llama", "num_attention_heads": 8}"#).unwrap_err().to_string();
        assert_eq!(err, "config.json: field \"num_hidden_layers\" is missing; a llama config must give it");
        let err = from_hf_config(r#"{"model_type": "llama", "num_attention_heads": -8}"#).unwrap_err().to_string();
        assert!(err.contains("must be a non-negative integer, got -8"), "{err}");
    }

    #[test]
    fn mixed_moe_stacks_are_refused() {
        let cfg = r#"{"model_type": "qwen3_moe", "num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 4,
            "vocab_size": 100, "moe_intermediate_size": 64, "num_experts": 8, "num_experts_per_tok": 2, "decoder_sparse_step": 2}"#;
        assert!(from_hf_config(cfg).unwrap_err().to_string().contains("decoder_sparse_step = 2"));
    }
}
