//! Architectures: a raw, serde-shaped description is validated into an [`Architecture`], whose exact
//! parameter count is broken down by component.
//!
//! Family (SCIENCE.md §2, paper §4.1.1): decoder-only, pre-norm RMSNorm, SwiGLU FFN, GQA attention with
//! RoPE, optional QK-norm, MoE with top-K routing replacing the FFN. The paper's r counts the ACTIVE
//! experts: one expert's intermediate size is (r/K)·d. Head dim may differ from d/heads (Qwen3, Gemma).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest layer count, width, head count or vocabulary accepted: far above any real model, and low
/// enough that every parameter count fits exactly in a `u64` and every FLOP count in an `f64`.
const MAX_DIM: u64 = 1 << 24;

/// How QK-norm is applied, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum QkNorm {
    /// No normalisation of queries and keys.
    #[default]
    None,
    /// RMSNorm over each head's `head_dim` (Qwen3): 2·head_dim weights per layer.
    PerHead,
    /// RMSNorm over the full query and key widths (OLMoE): (heads + kv_heads)·head_dim weights per layer.
    Full,
}

/// Which attention projections carry a bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AttentionBias {
    /// No bias (Llama, Qwen3).
    #[default]
    None,
    /// Bias on Q, K and V only (Qwen2 / Qwen2.5).
    Qkv,
    /// Bias on Q, K, V and O (Llama `attention_bias = true`).
    All,
}

/// Multi-head latent attention (DeepSeek-V2/V3): keys and values are compressed into a latent of
/// `kv_lora_rank` elements shared by every head, plus a decoupled RoPE key of `qk_rope_head_dim`; the
/// cache holds those `kv_lora_rank + qk_rope_head_dim` elements per token and layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Mla {
    /// Rank of the query compression (`q_a_proj`, `q_a_layernorm`, `q_b_proj`); 0: one `q_proj`.
    #[serde(default)]
    pub q_lora_rank: u64,
    /// Rank of the key/value latent.
    pub kv_lora_rank: u64,
    /// Per-head query/key dims without RoPE.
    pub qk_nope_head_dim: u64,
    /// Per-head query/key dims with RoPE (the decoupled key is shared by the heads).
    pub qk_rope_head_dim: u64,
    /// Per-head value dims.
    pub v_head_dim: u64,
}

impl Mla {
    /// Elements cached per token and layer: the latent and the RoPE key.
    pub fn cache_width(&self) -> u64 {
        self.kv_lora_rank + self.qk_rope_head_dim
    }

    /// Query/key dims per head.
    pub fn qk_head_dim(&self) -> u64 {
        self.qk_nope_head_dim + self.qk_rope_head_dim
    }

    /// Attention parameters of one layer with `heads` heads on width `d` (no biases).
    pub fn params(&self, d: u64, heads: u64) -> u64 {
        let q = if self.q_lora_rank > 0 {
            d * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * heads * self.qk_head_dim()
        } else {
            d * heads * self.qk_head_dim()
        };
        let kv = d * self.cache_width() + self.kv_lora_rank + self.kv_lora_rank * heads * (self.qk_nope_head_dim + self.v_head_dim);
        q + kv + heads * self.v_head_dim * d
    }
}

/// An architecture as written in a file or a form, before validation. Optional fields have the
/// defaults documented on each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArchitectureSpec {
    /// Display name; defaults to a name built from the shape (`l16-d1024-h16-kv4-r4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Transformer layers l.
    pub layers: u64,
    /// Hidden size d.
    pub d_model: u64,
    /// Query heads n_h.
    pub heads: u64,
    /// Key/value heads n_kv (default: `heads`, i.e. plain multi-head attention).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_heads: Option<u64>,
    /// Head dim d_h (default: d_model / heads, which must then divide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<u64>,
    /// FFN ratio r over the active experts (give this or `intermediate_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ffn_ratio: Option<f64>,
    /// Intermediate size of one expert (of the FFN when dense).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intermediate_size: Option<u64>,
    /// Experts per MoE layer E (default 1: dense).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experts: Option<u64>,
    /// Experts activated per token K (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_experts: Option<u64>,
    /// Intermediate size of an always-on shared expert (Qwen2-MoE), 0 or absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_expert_intermediate_size: Option<u64>,
    /// Vocabulary size V.
    pub vocab_size: u64,
    /// Whether the LM head shares the embedding matrix (default false).
    #[serde(default)]
    pub tied_embeddings: bool,
    /// QK-norm (default none).
    #[serde(default)]
    pub qk_norm: QkNorm,
    /// Attention bias (default none).
    #[serde(default)]
    pub attention_bias: AttentionBias,
    /// Bias on the FFN projections (default false).
    #[serde(default)]
    pub mlp_bias: bool,
    /// Norms after the attention and the FFN as well as before them (Gemma 2 and 3: four RMSNorms per
    /// layer; default false: two).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sandwich_norms: bool,
    /// Sliding-window attention: each query sees at most this many keys, on `sliding_layers` of the
    /// layers (Mistral 7B v0.1: 4,096 on all; Gemma 2: 4,096 on every other layer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding_window: Option<u64>,
    /// How many layers use the sliding window (default: all, when a window is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding_layers: Option<u64>,
    /// Multi-head latent attention instead of grouped-query attention (DeepSeek-V2/V3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mla: Option<Mla>,
    /// In a MoE model, how many of the first layers have a dense FFN instead (DeepSeek's
    /// `first_k_dense_replace`; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_layers: Option<u64>,
    /// Intermediate size of those dense FFNs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_intermediate_size: Option<u64>,
    /// Whether the shared expert has a sigmoid gate Linear(d, 1) (Qwen2-MoE: yes, the default;
    /// DeepSeek: no).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_expert_gate: Option<bool>,
    /// A bias per expert on the router (DeepSeek-V3's `e_score_correction_bias`; default false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub router_bias: bool,
}

/// A validated architecture. Built only by [`ArchitectureSpec::validate`] (the struct is
/// `non_exhaustive`), so every value of this type describes a model that can exist.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Architecture {
    /// Display name.
    pub name: String,
    /// Transformer layers l.
    pub layers: u64,
    /// Hidden size d.
    pub d_model: u64,
    /// Query heads n_h.
    pub heads: u64,
    /// Key/value heads n_kv.
    pub kv_heads: u64,
    /// Head dim d_h.
    pub head_dim: u64,
    /// Intermediate size of one expert.
    pub intermediate_size: u64,
    /// Experts per layer E (1 when dense).
    pub experts: u64,
    /// Active experts per token K.
    pub active_experts: u64,
    /// Shared-expert intermediate size (0: none).
    pub shared_expert_intermediate_size: u64,
    /// Vocabulary V.
    pub vocab_size: u64,
    /// LM head tied to the embedding.
    pub tied_embeddings: bool,
    /// QK-norm kind.
    pub qk_norm: QkNorm,
    /// Attention bias kind.
    pub attention_bias: AttentionBias,
    /// FFN bias.
    pub mlp_bias: bool,
    /// Four norms per layer instead of two.
    pub sandwich_norms: bool,
    /// Attention window of the sliding layers (0: none).
    pub sliding_window: u64,
    /// Layers with the sliding window (0 when none).
    pub sliding_layers: u64,
    /// Multi-head latent attention, when the model uses it.
    pub mla: Option<Mla>,
    /// Leading layers with a dense FFN in a MoE model (0 otherwise).
    pub dense_layers: u64,
    /// Their intermediate size (0 when none).
    pub dense_intermediate_size: u64,
    /// The shared expert's sigmoid gate.
    pub shared_expert_gate: bool,
    /// A bias per expert on the router.
    pub router_bias: bool,
}

/// Exact parameter counts by component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ParamBreakdown {
    /// Token embedding V·d.
    pub embedding: u64,
    /// Q, K, V, O projections with biases and QK-norm weights, all layers.
    pub attention: u64,
    /// Every expert's FFN (and the shared expert with its gate), all layers.
    pub ffn_total: u64,
    /// The FFN weights one token uses: K experts plus the shared expert.
    pub ffn_active: u64,
    /// MoE router d·E per layer (0 when dense).
    pub router: u64,
    /// RMSNorm weights: two per layer (four with sandwich norms) plus the final norm.
    pub norms: u64,
    /// LM head V·d, 0 when tied.
    pub lm_head: u64,
    /// Everything stored.
    pub total: u64,
    /// What one token's forward pass touches (inactive experts excluded).
    pub active: u64,
    /// `active` less the embedding and LM head: the N of "FLOPs ≈ 2N per token".
    pub non_embedding_active: u64,
}

fn check_range(field: &str, value: u64, min: u64) -> Result<u64> {
    if value < min {
        return Err(Error::invalid(field, format!("must be at least {min}, got {value}"), format!("set {field} to {min} or more")));
    }
    if value > MAX_DIM {
        return Err(Error::invalid(
            field,
            format!("{value} is larger than the {MAX_DIM} this tool supports"),
            "check the value (a typo adding digits?)",
        ));
    }
    Ok(value)
}

/// The two divisors of `n` closest to `near` (other than `near` itself), ascending, for "try …" hints.
fn nearest_divisors(n: u64, near: u64) -> Vec<u64> {
    let mut divisors = Vec::new();
    let mut k = 1;
    while k * k <= n {
        if n.is_multiple_of(k) {
            divisors.push(k);
            divisors.push(n / k);
        }
        k += 1;
    }
    divisors.sort_unstable();
    divisors.dedup();
    divisors.retain(|&k| k != near);
    divisors.sort_by_key(|&k| (k.abs_diff(near), k));
    divisors.truncate(2);
    divisors.sort_unstable();
    divisors
}

/// Widths near `d` that `heads` divides, for "try d_model = …" suggestions.
fn nearest_multiples(d: u64, heads: u64) -> (u64, u64) {
    let lo = (d / heads) * heads;
    (lo.max(heads), lo + heads)
}

fn join_or(values: &[u64]) -> String {
    match values {
        [] => String::new(),
        [a] => a.to_string(),
        [a, b] => format!("{a} or {b}"),
        _ => values.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
    }
}

impl ArchitectureSpec {
    /// Validates the description into an [`Architecture`], or says what is wrong and how to fix it.
    pub fn validate(&self) -> Result<Architecture> {
        let layers = check_range("layers", self.layers, 1)?;
        let d_model = check_range("d_model", self.d_model, 1)?;
        let heads = check_range("heads", self.heads, 1)?;
        let vocab_size = check_range("vocab_size", self.vocab_size, 1)?;

        let head_dim = match (self.head_dim, &self.mla) {
            (None, Some(m)) => m.qk_nope_head_dim + m.qk_rope_head_dim,
            (Some(h), _) => check_range("head_dim", h, 1)?,
            (None, None) => {
                if !d_model.is_multiple_of(heads) {
                    let try_heads = nearest_divisors(d_model, heads);
                    let (lo, hi) = nearest_multiples(d_model, heads);
                    return Err(Error::invalid(
                        "heads",
                        format!("d_model {d_model} is not divisible by {heads} heads"),
                        format!("try {} heads, d_model = {lo} or {hi}, or set head_dim explicitly", join_or(&try_heads)),
                    ));
                }
                d_model / heads
            }
        };
        // RoPE rotates pairs; with latent attention only the decoupled RoPE part (checked below) rotates.
        if !head_dim.is_multiple_of(2) && self.mla.is_none() {
            return Err(Error::invalid(
                "head_dim",
                format!("head_dim {head_dim} is odd, and RoPE rotates pairs of dimensions"),
                format!("use an even head_dim such as {} or {}", head_dim - 1, head_dim + 1),
            ));
        }

        let kv_heads = check_range("kv_heads", self.kv_heads.unwrap_or(heads), 1)?;
        if kv_heads > heads {
            return Err(Error::invalid(
                "kv_heads",
                format!("{kv_heads} key/value heads is more than the {heads} query heads"),
                format!("use kv_heads ≤ {heads} (a divisor of heads: {})", join_or(&nearest_divisors(heads, kv_heads))),
            ));
        }
        if !heads.is_multiple_of(kv_heads) {
            return Err(Error::invalid(
                "kv_heads",
                format!("{heads} query heads cannot be grouped over {kv_heads} key/value heads"),
                format!("try kv_heads = {}", join_or(&nearest_divisors(heads, kv_heads))),
            ));
        }

        let experts = check_range("experts", self.experts.unwrap_or(1), 1)?;
        let active_experts = check_range("active_experts", self.active_experts.unwrap_or(1), 1)?;
        if active_experts > experts {
            return Err(Error::invalid(
                "active_experts",
                format!("{active_experts} active experts out of only {experts}"),
                format!("use active_experts ≤ {experts}, or raise experts"),
            ));
        }

        let intermediate_size = match (self.ffn_ratio, self.intermediate_size) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid("ffn_ratio", "both ffn_ratio and intermediate_size are given", "give only one of them"))
            }
            (None, None) => {
                return Err(Error::invalid(
                    "ffn_ratio",
                    "the FFN size is missing",
                    "give ffn_ratio (r over the active experts, e.g. 4) or intermediate_size",
                ))
            }
            (None, Some(i)) => check_range("intermediate_size", i, 1)?,
            (Some(r), None) => {
                if !r.is_finite() || r <= 0.0 {
                    return Err(Error::invalid("ffn_ratio", format!("must be a positive number, got {r}"), "try 4 (dense) or 0.5–4"));
                }
                // Paper convention: one expert's intermediate size is (r/K)·d.
                let exact = r * d_model as f64 / active_experts as f64;
                let rounded = exact.round();
                if rounded < 1.0 {
                    return Err(Error::invalid(
                        "ffn_ratio",
                        format!("r = {r} gives an expert intermediate size of {exact:.3} at d_model {d_model} and K = {active_experts}"),
                        "raise ffn_ratio so that each expert keeps at least one unit",
                    ));
                }
                check_range("intermediate_size", rounded as u64, 1)?
            }
        };
        let shared_expert_intermediate_size = match self.shared_expert_intermediate_size {
            None | Some(0) => 0,
            Some(s) => check_range("shared_expert_intermediate_size", s, 1)?,
        };

        let (sliding_window, sliding_layers) = match (self.sliding_window, self.sliding_layers) {
            (None, None) => (0, 0),
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "sliding_layers",
                    "is given without a sliding_window",
                    "give the window in tokens, or drop sliding_layers",
                ))
            }
            (Some(w), n) => {
                let w = check_range("sliding_window", w, 1)?;
                let n = n.unwrap_or(layers);
                if n > layers {
                    return Err(Error::invalid(
                        "sliding_layers",
                        format!("{n} sliding layers in a {layers}-layer model"),
                        format!("give at most {layers}"),
                    ));
                }
                (w, n)
            }
        };

        if let Some(m) = &self.mla {
            check_range("mla.kv_lora_rank", m.kv_lora_rank, 1)?;
            check_range("mla.qk_nope_head_dim", m.qk_nope_head_dim, 1)?;
            check_range("mla.v_head_dim", m.v_head_dim, 1)?;
            if !m.qk_rope_head_dim.is_multiple_of(2) || m.qk_rope_head_dim == 0 {
                return Err(Error::invalid(
                    "mla.qk_rope_head_dim",
                    format!("{} is not a positive even number, and RoPE rotates pairs of dimensions", m.qk_rope_head_dim),
                    "use e.g. 64",
                ));
            }
            if self.head_dim.is_some_and(|h| h != m.qk_head_dim()) {
                return Err(Error::invalid("head_dim", "differs from mla's qk_nope_head_dim + qk_rope_head_dim", "drop head_dim with mla"));
            }
        }
        let (dense_layers, dense_intermediate_size) = match (self.dense_layers.unwrap_or(0), self.dense_intermediate_size) {
            (0, _) => (0, 0),
            (_, None) => {
                return Err(Error::invalid("dense_intermediate_size", "is missing", "give the dense layers' FFN intermediate size"))
            }
            (k, Some(i)) => {
                if experts <= 1 {
                    return Err(Error::invalid(
                        "dense_layers",
                        "only a MoE model mixes dense and MoE layers",
                        "drop dense_layers, or give experts",
                    ));
                }
                if k >= layers {
                    return Err(Error::invalid(
                        "dense_layers",
                        format!("{k} dense layers leave no MoE layer of {layers}"),
                        format!("give fewer than {layers}"),
                    ));
                }
                (k, check_range("dense_intermediate_size", i, 1)?)
            }
        };

        let name = match &self.name {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => {
                let r = (active_experts * intermediate_size) as f64 / d_model as f64;
                let moe = if experts > 1 { format!("-e{experts}k{active_experts}") } else { String::new() };
                format!("l{layers}-d{d_model}-h{heads}-kv{kv_heads}-r{}{moe}", fmt_ratio(r))
            }
        };

        Ok(Architecture {
            name,
            layers,
            d_model,
            heads,
            kv_heads,
            head_dim,
            intermediate_size,
            experts,
            active_experts,
            shared_expert_intermediate_size,
            vocab_size,
            tied_embeddings: self.tied_embeddings,
            qk_norm: self.qk_norm,
            attention_bias: self.attention_bias,
            mlp_bias: self.mlp_bias,
            sandwich_norms: self.sandwich_norms,
            sliding_window,
            sliding_layers: if sliding_window > 0 { sliding_layers } else { 0 },
            mla: self.mla,
            dense_layers,
            dense_intermediate_size,
            shared_expert_gate: shared_expert_intermediate_size > 0 && self.shared_expert_gate.unwrap_or(true),
            router_bias: self.router_bias && experts > 1,
        })
    }

    /// Parses a JSON architecture description (the fields of this struct) and validates it.
    pub fn from_json(text: &str) -> Result<Architecture> {
        let spec: ArchitectureSpec = serde_json::from_str(text)
            .map_err(|e| Error::parse("architecture JSON", format!("{e}; expected the fields layers, d_model, heads, vocab_size and optionally kv_heads, head_dim, ffn_ratio or intermediate_size, experts, active_experts, tied_embeddings, qk_norm, attention_bias, mlp_bias, sandwich_norms, sliding_window, sliding_layers")))?;
        spec.validate()
    }
}

fn fmt_ratio(r: f64) -> String {
    let s = format!("{r:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl Architecture {
    /// Back to the raw form (for files, URLs and forms); `validate` of the result gives `self` again.
    pub fn to_spec(&self) -> ArchitectureSpec {
        ArchitectureSpec {
            name: Some(self.name.clone()),
            layers: self.layers,
            d_model: self.d_model,
            heads: self.heads,
            kv_heads: Some(self.kv_heads),
            head_dim: Some(self.head_dim),
            ffn_ratio: None,
            intermediate_size: Some(self.intermediate_size),
            experts: Some(self.experts),
            active_experts: Some(self.active_experts),
            shared_expert_intermediate_size: (self.shared_expert_intermediate_size > 0).then_some(self.shared_expert_intermediate_size),
            vocab_size: self.vocab_size,
            tied_embeddings: self.tied_embeddings,
            qk_norm: self.qk_norm,
            attention_bias: self.attention_bias,
            mlp_bias: self.mlp_bias,
            sandwich_norms: self.sandwich_norms,
            sliding_window: (self.sliding_window > 0).then_some(self.sliding_window),
            sliding_layers: (self.sliding_window > 0).then_some(self.sliding_layers),
            mla: self.mla,
            dense_layers: (self.dense_layers > 0).then_some(self.dense_layers),
            dense_intermediate_size: (self.dense_layers > 0).then_some(self.dense_intermediate_size),
            shared_expert_gate: (self.shared_expert_intermediate_size > 0 && !self.shared_expert_gate).then_some(false),
            router_bias: self.router_bias,
        }
    }

    /// Whether validating the architecture's raw form gives it back (a consistency check for tests and
    /// for architectures built outside `validate`).
    pub fn validate_again(&self) -> bool {
        self.to_spec().validate().as_ref() == Ok(self)
    }

    /// One line for tables and tooltips: `l 16 · d 1792 · heads 28/4 · r 0.50 · E 16 K 1`.
    pub fn summary(&self) -> String {
        format!(
            "l {} · d {} · heads {}/{} · r {:.2} · E {} K {}",
            self.layers,
            self.d_model,
            self.heads,
            self.kv_heads,
            self.ffn_ratio(),
            self.experts,
            self.active_experts
        )
    }

    /// Query width n_h·d_h (equals d in the paper's family).
    pub fn q_width(&self) -> u64 {
        self.heads * self.head_dim
    }

    /// KV width d_m = n_kv·d_h (for K, and again for V).
    pub fn kv_width(&self) -> u64 {
        self.kv_heads * self.head_dim
    }

    /// Grouped-query ratio gqa = n_h / n_kv.
    pub fn gqa(&self) -> f64 {
        self.heads as f64 / self.kv_heads as f64
    }

    /// Expert activation rate ρ = K/E.
    pub fn rho(&self) -> f64 {
        self.active_experts as f64 / self.experts as f64
    }

    /// FFN ratio r over the active routed experts: K·(expert intermediate)/d (paper convention).
    pub fn ffn_ratio(&self) -> f64 {
        (self.active_experts * self.intermediate_size) as f64 / self.d_model as f64
    }

    /// Whether the FFN is a mixture of experts.
    pub fn is_moe(&self) -> bool {
        self.experts > 1
    }

    /// FFN width one token activates: K experts plus the shared expert.
    pub fn active_ffn_width(&self) -> u64 {
        self.active_experts * self.intermediate_size + self.shared_expert_intermediate_size
    }

    /// Parameters of one expert's SwiGLU FFN (gate, up, down), with biases if any.
    fn expert_params(&self, inter: u64) -> u64 {
        let d = self.d_model;
        let bias = if self.mlp_bias { 2 * inter + d } else { 0 };
        3 * d * inter + bias
    }

    /// Layers with a MoE FFN (all but the leading dense ones; 0 for a dense model).
    pub fn moe_layers(&self) -> u64 {
        if self.is_moe() {
            self.layers - self.dense_layers
        } else {
            0
        }
    }

    /// Attention parameters of one layer: projections, biases, QK-norm weights.
    pub fn attention_params_per_layer(&self) -> u64 {
        if let Some(m) = &self.mla {
            return m.params(self.d_model, self.heads);
        }
        let (d, q, kv) = (self.d_model, self.q_width(), self.kv_width());
        let weights = d * q + 2 * d * kv + q * d;
        let bias = match self.attention_bias {
            AttentionBias::None => 0,
            AttentionBias::Qkv => q + 2 * kv,
            AttentionBias::All => q + 2 * kv + d,
        };
        let qk_norm = match self.qk_norm {
            QkNorm::None => 0,
            QkNorm::PerHead => 2 * self.head_dim,
            QkNorm::Full => q + kv,
        };
        weights + bias + qk_norm
    }

    /// Exact parameter counts by component.
    pub fn params(&self) -> ParamBreakdown {
        let (l, d, v) = (self.layers, self.d_model, self.vocab_size);
        let embedding = v * d;
        let lm_head = if self.tied_embeddings { 0 } else { v * d };
        let attention = l * self.attention_params_per_layer();
        let shared = if self.shared_expert_intermediate_size > 0 {
            // Qwen2-MoE's shared expert has a sigmoid gate Linear(d, 1); DeepSeek's has none.
            self.expert_params(self.shared_expert_intermediate_size) + if self.shared_expert_gate { d } else { 0 }
        } else {
            0
        };
        let expert = self.expert_params(self.intermediate_size);
        // The experts' layers (every layer of a dense model), and a MoE model's leading dense layers.
        let ffn_layers = if self.is_moe() { self.moe_layers() } else { l };
        let dense = self.dense_layers * self.expert_params(self.dense_intermediate_size);
        let ffn_total = ffn_layers * (self.experts * expert + shared) + dense;
        let ffn_active = ffn_layers * (self.active_experts * expert + shared) + dense;
        let router = if self.is_moe() { ffn_layers * (d * self.experts + if self.router_bias { self.experts } else { 0 }) } else { 0 };
        let norms = l * if self.sandwich_norms { 4 } else { 2 } * d + d;
        let total = embedding + attention + ffn_total + router + norms + lm_head;
        let non_embedding_active = attention + ffn_active + router + norms;
        let active = non_embedding_active + embedding + lm_head;
        ParamBreakdown { embedding, attention, ffn_total, ffn_active, router, norms, lm_head, total, active, non_embedding_active }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn spec(layers: u64, d: u64, heads: u64, kv: u64, inter: u64, vocab: u64) -> ArchitectureSpec {
        ArchitectureSpec {
            layers,
            d_model: d,
            heads,
            kv_heads: Some(kv),
            intermediate_size: Some(inter),
            vocab_size: vocab,
            tied_embeddings: true,
            ..Default::default()
        }
    }

    #[test]
    fn qwen25_05b_is_exact() {
        // Model card: 0.49B; HF safetensors metadata: 494,032,768 parameters.
        let mut s = spec(24, 896, 14, 2, 4864, 151_936);
        s.attention_bias = AttentionBias::Qkv;
        assert_eq!(s.validate().unwrap().params().total, 494_032_768);
    }

    #[test]
    fn validation_messages_suggest_fixes() {
        let table: &[(ArchitectureSpec, &str)] = &[
            (spec(0, 1024, 16, 4, 4096, 1000), "layers: must be at least 1, got 0; set layers to 1 or more"),
            (
                spec(4, 1000, 16, 4, 4096, 1000),
                "heads: d_model 1000 is not divisible by 16 heads; try 10 or 20 heads, d_model = 992 or 1008, or set head_dim explicitly",
            ),
            (spec(4, 1024, 16, 3, 4096, 1000), "kv_heads: 16 query heads cannot be grouped over 3 key/value heads; try kv_heads = 2 or 4"),
            (
                spec(4, 1024, 16, 32, 4096, 1000),
                "kv_heads: 32 key/value heads is more than the 16 query heads; use kv_heads ≤ 16 (a divisor of heads: 8 or 16)",
            ),
        ];
        for (s, want) in table {
            assert_eq!(s.validate().unwrap_err().to_string(), *want);
        }
    }

    #[test]
    fn ffn_ratio_counts_active_experts() {
        // r = 2 with K = 2 at d = 1024: each expert is (2/2)·1024 = 1024 wide, the token sees 2048.
        let s = ArchitectureSpec {
            layers: 4,
            d_model: 1024,
            heads: 16,
            kv_heads: Some(4),
            ffn_ratio: Some(2.0),
            experts: Some(8),
            active_experts: Some(2),
            vocab_size: 32_000,
            ..Default::default()
        };
        let a = s.validate().unwrap();
        assert_eq!(a.intermediate_size, 1024);
        assert_eq!(a.ffn_ratio(), 2.0);
        assert_eq!(a.rho(), 0.25);
        assert_eq!(a.name, "l4-d1024-h16-kv4-r2-e8k2");
        // Round trip through the raw form.
        assert_eq!(a.to_spec().validate().unwrap(), a);
        let bad = ArchitectureSpec { active_experts: Some(9), ..s };
        assert!(bad.validate().unwrap_err().to_string().starts_with("active_experts: 9 active experts out of only 8"));
    }

    #[test]
    fn odd_head_dim_and_missing_ffn_are_rejected() {
        let mut s = spec(4, 1024, 16, 4, 4096, 1000);
        s.head_dim = Some(63);
        assert!(s.validate().unwrap_err().to_string().contains("RoPE"));
        let mut s = spec(4, 1024, 16, 4, 4096, 1000);
        s.intermediate_size = None;
        assert!(s.validate().unwrap_err().to_string().starts_with("ffn_ratio: the FFN size is missing"));
    }
}
