//! Per-operator FLOPs and bytes of one forward pass, for prefill and for a decode step at any context
//! length (SCIENCE.md §4.1, paper App. E.3).
//!
//! Two operator sets:
//! - [`OperatorSet::Paper`]: exactly the paper's table (projections, QKᵀ, softmax, scores·V, SwiGLU
//!   gate/up/down over the active experts), nothing else.
//! - [`OperatorSet::Full`]: what a real engine executes (§4.3): embedding lookup, RMSNorms, QK-norm,
//!   RoPE, fused causal attention (no score traffic), residual adds, router, SwiGLU element-wise work,
//!   the last-position LM head, and in prefill the MoE charge for every distinct expert touched.
//!
//! Every cost is linear in the decode context length s: `cost(s) = base + s·per_context`. Prefill has no
//! context term. That makes the sum over decode steps exact in O(1) (see `roofline`).

use serde::Serialize;

use crate::arch::{Architecture, AttentionBias, QkNorm};
use crate::precision::Precision;
use crate::workload::Workload;

/// Which operators are priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorSet {
    /// The paper's table (App. E.3) exactly.
    Paper,
    /// Everything an engine runs.
    Full,
}

/// Prefill (all prompt tokens at once) or one decode step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The prompt, S_in tokens per sequence.
    Prefill,
    /// One generated token per sequence.
    Decode,
}

/// FLOPs and bytes of one operator execution, by traffic class.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Cost {
    /// Floating-point (or integer) operations.
    pub flops: f64,
    /// Weight bytes read.
    pub weight_bytes: f64,
    /// Activation bytes read and written.
    pub activation_bytes: f64,
    /// KV-cache bytes read.
    pub kv_read_bytes: f64,
    /// KV-cache bytes written.
    pub kv_write_bytes: f64,
}

impl Cost {
    /// All bytes moved.
    pub fn bytes(&self) -> f64 {
        self.weight_bytes + self.activation_bytes + self.kv_read_bytes + self.kv_write_bytes
    }

    /// `self + k·other`.
    pub fn add_scaled(&self, other: &Cost, k: f64) -> Cost {
        Cost {
            flops: self.flops + k * other.flops,
            weight_bytes: self.weight_bytes + k * other.weight_bytes,
            activation_bytes: self.activation_bytes + k * other.activation_bytes,
            kv_read_bytes: self.kv_read_bytes + k * other.kv_read_bytes,
            kv_write_bytes: self.kv_write_bytes + k * other.kv_write_bytes,
        }
    }

    /// `k·self`.
    pub fn scaled(&self, k: f64) -> Cost {
        Cost::default().add_scaled(self, k)
    }
}

/// One operator: its cost per execution as `base + context·per_context`, executed `repeats` times
/// per forward pass (once per layer, or once per model).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Operator {
    /// Short name (`q_proj`, `attention`, `ffn_up`…).
    pub name: &'static str,
    /// Executions per forward pass: l for per-layer operators, 1 for the embedding and LM head.
    pub repeats: f64,
    /// Cost at context 0 (all of it in prefill).
    pub base: Cost,
    /// Extra cost per token of context (decode only).
    pub per_context: Cost,
    /// The most context tokens the operator sees (a sliding-window attention's window; infinite
    /// otherwise): the context term stops growing there.
    pub window: f64,
}

impl Operator {
    /// Cost of one execution at context length `context`.
    pub fn at(&self, context: f64) -> Cost {
        self.base.add_scaled(&self.per_context, context.min(self.window))
    }

    /// Cost of one execution summed over a phase: the prefill, or every decode step of `w`.
    pub fn over_phase(&self, phase: Phase, w: &Workload) -> Cost {
        match phase {
            Phase::Prefill => self.base,
            Phase::Decode => {
                let (steps, context_sum) = decode_steps_within(w, self.window);
                self.base.scaled(steps).add_scaled(&self.per_context, context_sum)
            }
        }
    }
}

/// Causal query–key pairs of an S-token prompt when each query sees at most `window` keys (itself
/// included): Σ_{i=1..S} min(i, W).
pub fn windowed_pairs(s: f64, window: f64) -> f64 {
    if s <= window {
        s * (s + 1.0) / 2.0
    } else {
        window * (window + 1.0) / 2.0 + (s - window) * window
    }
}

/// Expected number of distinct experts that `tokens` tokens touch in one MoE layer under uniform top-K
/// routing: E·(1 − (1 − K/E)^tokens) (SCIENCE.md §4.1).
pub fn experts_touched(experts: u64, active: u64, tokens: f64) -> f64 {
    if experts <= 1 {
        return 1.0;
    }
    if tokens <= 1.0 {
        // One token touches exactly its K experts.
        return active as f64;
    }
    let e = experts as f64;
    // (1 − K/E)^tokens as exp(tokens·ln(1 − K/E)): cheaper than powf, exact to rounding.
    e * (1.0 - (tokens * (-(active as f64) / e).ln_1p()).exp())
}

/// Calls `visit` for every operator of `arch` in `phase` (no allocation: this is the hot path of the
/// frontier search). Use [`operators`] to collect them.
pub fn visit_operators(arch: &Architecture, w: &Workload, p: &Precision, phase: Phase, set: OperatorSet, mut visit: impl FnMut(Operator)) {
    let l = arch.layers as f64;
    let d = arch.d_model as f64;
    let q = arch.q_width() as f64;
    let kv = arch.kv_width() as f64;
    let n_h = arch.heads as f64;
    let v = arch.vocab_size as f64;
    let ffn_active = arch.active_ffn_width() as f64;
    let (bw, ba, bkv) = (p.weights.bytes(), p.activations.bytes(), p.kv.bytes());
    let b = w.batch as f64;
    let full = set == OperatorSet::Full;
    // Element-wise operators stay in ≥16-bit floats in every engine modelled.
    let be = if full { p.elementwise_bytes() } else { ba };
    // Tokens processed by one execution, and the prompt length for the S² attention terms.
    let (t, s) = match phase {
        Phase::Prefill => (b * w.prompt_tokens as f64, w.prompt_tokens as f64),
        Phase::Decode => (b, 0.0),
    };
    let zero = Cost::default();
    // Layers with a sliding window, and the others (the paper's table has no windows).
    let (sliding, window) =
        if full && arch.sliding_window > 0 { (arch.sliding_layers as f64, arch.sliding_window as f64) } else { (0.0, f64::INFINITY) };
    let global = l - sliding;
    let per_layer = |name, base: Cost, per_context: Cost| Operator { name, repeats: l, base, per_context, window: f64::INFINITY };
    let matmul = |k_in: f64, n_out: f64| Cost {
        flops: 2.0 * t * k_in * n_out,
        weight_bytes: k_in * n_out * bw,
        activation_bytes: t * (k_in + n_out) * ba,
        ..zero
    };
    let bias_flops = |width: f64, on: bool| if full && on { t * width } else { 0.0 };
    let elementwise = |flops_per_elem: f64, width: f64, reads: f64, writes: f64| Cost {
        flops: flops_per_elem * t * width,
        activation_bytes: (reads + writes) * t * width * be,
        ..zero
    };
    let rms_norm = |width: f64| Cost { weight_bytes: width * be, ..elementwise(4.0, width, 1.0, 1.0) };

    if full {
        // Embedding gather: one row per token (never more rows than the table has).
        let rows = t.min(v);
        visit(Operator {
            name: "embedding",
            repeats: 1.0,
            base: Cost { weight_bytes: rows * d * bw, activation_bytes: t * d * ba, ..zero },
            per_context: zero,
            window: f64::INFINITY,
        });
        visit(per_layer("attn_norm", rms_norm(d), zero));
    }

    if let Some(m) = arch.mla {
        // Multi-head latent attention (DeepSeek-V2/V3). Queries through their low-rank pair (or one
        // projection); the latent c_KV and the shared RoPE key are what the cache stores.
        let (nope, rope_d, vd) = (m.qk_nope_head_dim as f64, m.qk_rope_head_dim as f64, m.v_head_dim as f64);
        let (kvl, ql, qk) = (m.kv_lora_rank as f64, m.q_lora_rank as f64, m.qk_head_dim() as f64);
        if ql > 0.0 {
            visit(per_layer("q_a_proj", matmul(d, ql), zero));
            if full {
                visit(per_layer("q_a_norm", rms_norm(ql), zero));
            }
            visit(per_layer("q_b_proj", matmul(ql, n_h * qk), zero));
        } else {
            visit(per_layer("q_proj", matmul(d, n_h * qk), zero));
        }
        let mut kva = matmul(d, kvl + rope_d);
        kva.activation_bytes = t * d * ba;
        kva.kv_write_bytes = t * (kvl + rope_d) * bkv;
        visit(per_layer("kv_a_proj", kva, zero));
        if full {
            visit(per_layer("kv_a_norm", rms_norm(kvl), zero));
            visit(per_layer("rope", elementwise(3.0, (n_h + 1.0) * rope_d, 1.0, 1.0), zero));
        }
        match phase {
            Phase::Prefill => {
                // The prompt decompresses K (no-RoPE part) and V for every token, then attends with
                // per-head dims qk (scores) and v_head (values).
                visit(per_layer("kv_b_proj", matmul(kvl, n_h * (nope + vd)), zero));
                let pairs = b * windowed_pairs(s, f64::INFINITY);
                let c = Cost {
                    flops: 2.0 * pairs * n_h * qk + 2.0 * pairs * n_h * vd + 5.0 * pairs * n_h,
                    activation_bytes: t * n_h * (2.0 * qk + 2.0 * vd) * ba,
                    ..zero
                };
                visit(per_layer("attention", c, zero));
            }
            Phase::Decode => {
                // Weight absorption, as vLLM, SGLang and FlashMLA run it: the query's no-RoPE part is
                // mapped into the latent space, every head attends over the shared cached latent
                // (kv_lora_rank + qk_rope_head_dim elements per token), and the output is mapped to v.
                let q_absorb = Cost {
                    flops: 2.0 * b * n_h * nope * kvl,
                    weight_bytes: n_h * nope * kvl * bw,
                    activation_bytes: b * n_h * (nope + kvl) * ba,
                    ..zero
                };
                visit(per_layer("q_absorb", q_absorb, zero));
                let base = Cost { activation_bytes: b * n_h * (2.0 * kvl + rope_d) * ba, ..zero };
                let per =
                    Cost { flops: b * n_h * (2.0 * (kvl + rope_d) + 2.0 * kvl + 5.0), kv_read_bytes: b * (kvl + rope_d) * bkv, ..zero };
                visit(per_layer("attention", base, per));
                let v_absorb = Cost {
                    flops: 2.0 * b * n_h * kvl * vd,
                    weight_bytes: n_h * kvl * vd * bw,
                    activation_bytes: b * n_h * (kvl + vd) * ba,
                    ..zero
                };
                visit(per_layer("v_absorb", v_absorb, zero));
            }
        }
        visit(per_layer("o_proj", matmul(n_h * vd, d), zero));
    } else {
        // Attention projections (Table E.3: Q and O 2·d², K and V 2·d²/gqa FLOPs per token).
        let qkv_bias = arch.attention_bias != AttentionBias::None;
        let mut qp = matmul(d, q);
        qp.flops += bias_flops(q, qkv_bias);
        visit(per_layer("q_proj", qp, zero));
        for name in ["k_proj", "v_proj"] {
            let mut c = matmul(d, kv);
            c.flops += bias_flops(kv, qkv_bias);
            // The projection's output goes to the KV cache rather than to an activation buffer.
            c.activation_bytes = t * d * ba;
            c.kv_write_bytes = t * kv * bkv;
            visit(per_layer(name, c, zero));
        }
        if full {
            match arch.qk_norm {
                QkNorm::None => {}
                QkNorm::PerHead | QkNorm::Full => visit(per_layer("qk_norm", rms_norm(q + kv), zero)),
            }
            visit(per_layer("rope", elementwise(3.0, q + kv, 1.0, 1.0), zero));
        }

        match (set, phase) {
            (OperatorSet::Paper, Phase::Prefill) => {
                // Paper: full S×S score matrix, no causal halving, scores materialised.
                let scores = b * n_h * s * s;
                visit(per_layer(
                    "qk_matmul",
                    Cost { flops: 2.0 * b * s * s * q, kv_read_bytes: b * s * kv * bkv, activation_bytes: scores * ba, ..zero },
                    zero,
                ));
                visit(per_layer("softmax", Cost { flops: 5.0 * scores, activation_bytes: 2.0 * scores * ba, ..zero }, zero));
                visit(per_layer(
                    "sv_matmul",
                    Cost { flops: 2.0 * b * s * s * q, kv_read_bytes: b * s * kv * bkv, activation_bytes: b * s * q * ba, ..zero },
                    zero,
                ));
            }
            (OperatorSet::Paper, Phase::Decode) => {
                visit(per_layer(
                    "qk_matmul",
                    zero,
                    Cost { flops: 2.0 * b * q, kv_read_bytes: b * kv * bkv, activation_bytes: b * n_h * ba, ..zero },
                ));
                visit(per_layer("softmax", zero, Cost { flops: 5.0 * b * n_h, activation_bytes: 2.0 * b * n_h * ba, ..zero }));
                visit(per_layer(
                    "sv_matmul",
                    Cost { activation_bytes: b * q * ba, ..zero },
                    Cost { flops: 2.0 * b * q, kv_read_bytes: b * kv * bkv, ..zero },
                ));
            }
            (OperatorSet::Full, Phase::Prefill) => {
                // Fused causal attention (FlashAttention-style): query i sees i keys, so Σ = S(S+1)/2 pairs
                // (min(i, W) with a sliding window W); QKᵀ and scores·V are 2·d_h FLOPs per pair and head
                // each, softmax ≈ 5 per pair and head.
                let attention = |window: f64| {
                    let pairs = b * windowed_pairs(s, window);
                    Cost {
                        flops: 4.0 * pairs * q + 5.0 * pairs * n_h,
                        activation_bytes: 2.0 * t * q * ba,
                        kv_read_bytes: 2.0 * b * s * kv * bkv,
                        ..zero
                    }
                };
                if global > 0.0 {
                    visit(Operator { repeats: global, ..per_layer("attention", attention(f64::INFINITY), zero) });
                }
                if sliding > 0.0 {
                    visit(Operator { repeats: sliding, ..per_layer("attention_sliding", attention(window), zero) });
                }
            }
            (OperatorSet::Full, Phase::Decode) => {
                let base = Cost { activation_bytes: 2.0 * b * q * ba, ..zero };
                let per = Cost { flops: 4.0 * b * q + 5.0 * b * n_h, kv_read_bytes: 2.0 * b * kv * bkv, ..zero };
                if global > 0.0 {
                    visit(Operator { repeats: global, ..per_layer("attention", base, per) });
                }
                if sliding > 0.0 {
                    // The new token attends to the last W cached tokens at most.
                    visit(Operator { repeats: sliding, window, ..per_layer("attention_sliding", base, per) });
                }
            }
        }

        let mut op = matmul(q, d);
        op.flops += bias_flops(d, arch.attention_bias == AttentionBias::All);
        visit(per_layer("o_proj", op, zero));
    }

    if full {
        if arch.sandwich_norms {
            visit(per_layer("post_attn_norm", rms_norm(d), zero));
        }
        visit(per_layer("residual_attn", elementwise(1.0, d, 2.0, 1.0), zero));
        visit(per_layer("ffn_norm", rms_norm(d), zero));
        if arch.is_moe() {
            let e = arch.experts as f64;
            visit(Operator {
                repeats: arch.moe_layers() as f64,
                ..per_layer(
                    "router",
                    Cost { flops: 2.0 * t * d * e, weight_bytes: d * e * bw, activation_bytes: t * d * ba + t * e * be, ..zero },
                    zero,
                )
            });
        }
    }

    // SwiGLU FFN. FLOPs follow the active width r·d; weight traffic follows the experts read: the K
    // active ones in the paper's table, every distinct expert touched in the full set.
    let inter = arch.intermediate_size as f64;
    let shared = arch.shared_expert_intermediate_size as f64;
    let experts_read = if full { experts_touched(arch.experts, arch.active_experts, t) } else { arch.active_experts as f64 };
    let ffn_weight_width = experts_read * inter + shared;
    // A MoE model's leading dense layers (DeepSeek) have their own FFN; the rest run the experts.
    let ffn_layers = if arch.is_moe() { arch.moe_layers() as f64 } else { l };
    let ffn = |name| {
        let mut c = matmul(d, ffn_active);
        c.weight_bytes = d * ffn_weight_width * bw;
        c.flops += bias_flops(ffn_active, arch.mlp_bias);
        Operator { repeats: ffn_layers, ..per_layer(name, c, zero) }
    };
    visit(ffn("ffn_gate"));
    visit(ffn("ffn_up"));
    if full {
        // SiLU(gate)·up: ≈4 FLOPs for SiLU and 1 for the product per element.
        visit(Operator { repeats: ffn_layers, ..per_layer("swiglu", elementwise(5.0, ffn_active, 2.0, 1.0), zero) });
    }
    visit(ffn("ffn_down"));
    if arch.dense_layers > 0 {
        let (k, w) = (arch.dense_layers as f64, arch.dense_intermediate_size as f64);
        let dense = |name| {
            let mut c = matmul(d, w);
            c.flops += bias_flops(w, arch.mlp_bias);
            Operator { repeats: k, ..per_layer(name, c, zero) }
        };
        visit(dense("dense_ffn_gate"));
        visit(dense("dense_ffn_up"));
        if full {
            visit(Operator { repeats: k, ..per_layer("dense_swiglu", elementwise(5.0, w, 2.0, 1.0), zero) });
        }
        visit(dense("dense_ffn_down"));
    }

    if full {
        if arch.sandwich_norms {
            visit(per_layer("post_ffn_norm", rms_norm(d), zero));
        }
        visit(per_layer("residual_ffn", elementwise(1.0, d, 2.0, 1.0), zero));
        visit(Operator { name: "final_norm", repeats: 1.0, base: rms_norm(d), per_context: zero, window: f64::INFINITY });
        // LM head on the last position of each sequence only (prefill) or the new token (decode).
        let lm = Cost { flops: 2.0 * b * d * v, weight_bytes: d * v * bw, activation_bytes: b * d * ba + b * v * be, ..zero };
        visit(Operator { name: "lm_head", repeats: 1.0, base: lm, per_context: zero, window: f64::INFINITY });
        // The final norm above ran on every prompt token; only the last one is needed, but engines
        // normalise them all, so it is kept.
    }
}

/// Every operator of `arch` in `phase`, in execution order.
pub fn operators(arch: &Architecture, w: &Workload, p: &Precision, phase: Phase, set: OperatorSet) -> Vec<Operator> {
    let mut ops = Vec::with_capacity(24);
    visit_operators(arch, w, p, phase, set, |op| ops.push(op));
    ops
}

/// Total cost of a phase: prefill once, or decode summed over all S_out steps (step k attends to a
/// context of S_in + k, Eq. 4), including `repeats`.
pub fn phase_total(arch: &Architecture, w: &Workload, p: &Precision, phase: Phase, set: OperatorSet) -> Cost {
    let mut total = Cost::default();
    visit_operators(arch, w, p, phase, set, |op| total = total.add_scaled(&op.over_phase(phase, w), op.repeats));
    total
}

/// Training FLOPs per token for sequences of `seq` tokens: three forward passes' worth (the backward
/// pass costs about twice the forward), where the forward is every operator of a `seq`-token prefill
/// with the LM head on every position, as training computes it.
pub fn training_flops_per_token(arch: &Architecture, seq: u64) -> crate::Result<f64> {
    let w = Workload::new(1, seq, 1)?;
    let prefill = phase_total(arch, &w, &Precision::FP16, Phase::Prefill, OperatorSet::Full).flops;
    let head = 2.0 * (arch.d_model * arch.vocab_size) as f64;
    Ok(3.0 * ((prefill - head) / seq as f64 + head))
}

/// Number of decode steps and Σ of their context lengths, Σ_{k=1..S_out} (S_in + k).
pub fn decode_steps(w: &Workload) -> (f64, f64) {
    let n = w.generated_tokens as f64;
    (n, n * w.prompt_tokens as f64 + n * (n + 1.0) / 2.0)
}

/// Number of decode steps and Σ of their context lengths capped at `window`, Σ_{k=1..S_out}
/// min(S_in + k, W).
pub fn decode_steps_within(w: &Workload, window: f64) -> (f64, f64) {
    let (n, sum) = decode_steps(w);
    let (first, last) = (w.prompt_tokens as f64 + 1.0, (w.prompt_tokens + w.generated_tokens) as f64);
    if last <= window {
        return (n, sum);
    }
    // Steps whose context exceeds W see W; the others their context.
    let capped_from = first.max(window.floor() + 1.0);
    let below = if window >= first { (window.floor() - first + 1.0) * (first + window.floor()) / 2.0 } else { 0.0 };
    (n, below + (last - capped_from + 1.0) * window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::find_model;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn arch(id: &str) -> Architecture {
        find_model(id).unwrap().architecture().unwrap()
    }

    #[test]
    fn decode_flops_are_twice_the_non_embedding_parameters_plus_attention_and_lm_head() {
        // Kaplan et al. 2020: forward FLOPs per token ≈ 2N + 2·l·n_ctx·d_attn, plus the LM head 2·V·d.
        for id in ["qwen2.5-0.5b", "llama-3.2-1b", "smollm2-360m", "qwen3-0.6b"] {
            let a = arch(id);
            let w = Workload::new(1, 1024, 1).unwrap();
            let c = phase_total(&a, &w, &Precision::FP16, Phase::Decode, OperatorSet::Full);
            let n = a.params().non_embedding_active as f64;
            let ctx = 1025.0; // the one decode step attends to S_in + 1 positions
            let expected = 2.0 * n + 4.0 * a.layers as f64 * ctx * a.q_width() as f64 + 2.0 * (a.vocab_size * a.d_model) as f64;
            let rel = (c.flops - expected).abs() / expected;
            assert!(rel < 0.02, "{id}: {} vs {expected} ({rel})", c.flops);
        }
    }

    #[test]
    fn training_flops_are_six_n_plus_causal_attention() {
        // Kaplan et al. 2020, with causal attention (each token attends to (S + 1) / 2 positions on
        // average): training ≈ 3 × (2N + 2·l·S·d_attn + 2·V·d).
        for id in ["qwen2.5-0.5b", "smollm2-135m", "olmoe-1b-7b"] {
            let a = arch(id);
            let s = 512.0;
            let n = a.params().non_embedding_active as f64;
            let expected =
                3.0 * (2.0 * n + 2.0 * a.layers as f64 * (s + 1.0) * a.q_width() as f64 + 2.0 * (a.vocab_size * a.d_model) as f64);
            let got = training_flops_per_token(&a, 512).unwrap();
            let rel = (got - expected).abs() / expected;
            assert!(rel < 0.03, "{id}: {got} vs {expected} ({rel})");
        }
    }

    #[test]
    fn decode_weight_traffic_is_the_active_weights_once() {
        // At B = 1 a decode step reads every active weight exactly once.
        let a = arch("qwen2.5-0.5b");
        let w = Workload::new(1, 16, 1).unwrap();
        let c = phase_total(&a, &w, &Precision::FP16, Phase::Decode, OperatorSet::Full);
        let p = a.params();
        // Biases are counted in parameters but not as a weight read; norms are read at 2 bytes.
        let biases = (a.layers * (a.q_width() + 2 * a.kv_width())) as f64;
        let expected = 2.0 * (p.active as f64 - biases - (a.vocab_size * a.d_model) as f64) // embedding rows: 1 token
            + 2.0 * (a.vocab_size * a.d_model) as f64 // tied LM head reads the whole matrix
            + 2.0 * a.d_model as f64; // the one embedding row gathered
        assert!((c.weight_bytes - expected).abs() / expected < 1e-12, "{} vs {expected}", c.weight_bytes);
    }

    #[test]
    fn sliding_windows_cap_pairs_and_decode_contexts() {
        // Σ_{i=1..10} min(i, 4) = 1 + 2 + 3 + 4 + 6 × 4 = 34; no window: 10 × 11 / 2 = 55.
        assert_eq!((windowed_pairs(10.0, 4.0), windowed_pairs(10.0, f64::INFINITY)), (34.0, 55.0));
        // Prompt 5, 6 steps, W = 8: contexts 6, 7, 8, 9, 10, 11 → 6 + 7 + 8 + 8 + 8 + 8 = 45.
        let w = Workload::new(1, 5, 6).unwrap();
        assert_eq!(decode_steps_within(&w, 8.0), (6.0, 45.0));
        assert_eq!(decode_steps_within(&w, 100.0), decode_steps(&w));
        // W below the first context: every step sees W.
        assert_eq!(decode_steps_within(&w, 3.0), (6.0, 18.0));
    }

    #[test]
    fn moe_prefill_charges_distinct_experts() {
        // OLMoE (E = 64, K = 8): 1,024 tokens touch all 64 experts; one token touches exactly 8.
        assert!((experts_touched(64, 8, 1024.0) - 64.0).abs() < 1e-9);
        assert!((experts_touched(64, 8, 1.0) - 8.0).abs() < 1e-12);
        let a = arch("olmoe-1b-7b");
        let paper = phase_total(&a, &Workload::PAPER, &Precision::FP16, Phase::Prefill, OperatorSet::Paper);
        let full = phase_total(&a, &Workload::PAPER, &Precision::FP16, Phase::Prefill, OperatorSet::Full);
        let ffn_all = a.params().ffn_total as f64 * 2.0;
        assert!(full.weight_bytes > ffn_all && paper.weight_bytes < ffn_all / 4.0);
    }
}
