//! The one place where a `rooflaw::Architecture` becomes a burn module: a decoder-only transformer with
//! pre-norm RMSNorm, rotary position embeddings, grouped-query attention (head_dim independent of
//! d_model / heads), optional QK-norm (per head or over the full width), attention and MLP biases as the
//! architecture says, SwiGLU feed-forward layers, mixture-of-experts layers with top-K routing, a
//! load-balancing auxiliary loss and an optional shared expert, and a tied or untied LM head.
//!
//! burn's own parameter count (`Module::num_params`) equals `Architecture::params().total` exactly; the
//! tests check it on published models and `rooflaw train --dry-run` checks it for any architecture.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, silu, softmax};
use burn::tensor::IndexingUpdateOp;
use rooflaw::arch::{AttentionBias, QkNorm};
use rooflaw::Architecture;

/// Settings of the module that the architecture does not fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelOptions {
    /// RoPE base θ.
    pub rope_theta: f32,
    /// RMSNorm ε.
    pub norm_eps: f64,
    /// Standard deviation of the normal initialisation of every weight matrix (GPT-2's 0.02).
    pub init_std: f64,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions { rope_theta: 10_000.0, norm_eps: 1e-6, init_std: 0.02 }
    }
}

fn linear(d_in: u64, d_out: u64, bias: bool, o: &ModelOptions, device: &Device) -> Linear {
    LinearConfig::new(d_in as usize, d_out as usize)
        .with_bias(bias)
        .with_initializer(Initializer::Normal { mean: 0.0, std: o.init_std })
        .init(device)
}

fn norm(width: u64, o: &ModelOptions, device: &Device) -> RmsNorm {
    RmsNormConfig::new(width as usize).with_epsilon(o.norm_eps).init(device)
}

/// RMSNorm over the last dimension with burn's `RmsNorm` parameters: x · (mean(x²) + ε)^-½ · γ. Written
/// with a reciprocal rather than burn's division by a broadcast tensor, whose backward pass costs about
/// four full passes over the activations (BENCHMARKS.md).
fn rms_norm<const D: usize>(n: &RmsNorm, x: Tensor<D>) -> Tensor<D> {
    let inv = (x.clone().square().mean_dim(D - 1) + n.epsilon).sqrt().recip();
    x * inv * n.gamma.val().unsqueeze::<D>()
}

/// What every layer's attention shares within one forward pass: the rotary tables for the positions
/// of the new tokens (rotate-half convention, as Llama and Qwen use), the matrix that rotates each head's
/// halves, and the causal mask laid out for grouped queries.
pub(crate) struct AttentionContext {
    /// cos(p·θ_i) for queries, scaled by 1/√head_dim: `[1, t, 1, head_dim]`.
    cos_q: Tensor<4>,
    /// sin(p·θ_i) for queries, scaled likewise.
    sin_q: Tensor<4>,
    /// cos(p·θ_i) for keys.
    cos_k: Tensor<4>,
    /// sin(p·θ_i) for keys.
    sin_k: Tensor<4>,
    /// `[head_dim, head_dim]`: x · rotate = (−x₂, x₁), where x₁ and x₂ are the halves of a head.
    rotate: Tensor<2>,
    /// `[1, 1, group·t, start + t]`: 0 where a query (row r, position start + r mod t) may see a key,
    /// −10⁹ for keys after it; `None` for a single new token, which sees every key.
    mask: Option<Tensor<4>>,
}

impl AttentionContext {
    /// For `t` new tokens at positions `start..start + t` (training and a first prefill: `start` 0).
    pub(crate) fn new(t: usize, start: usize, head_dim: usize, group: usize, theta: f32, device: &Device) -> Self {
        let half = head_dim / 2;
        let (mut cos, mut sin) = (Vec::with_capacity(t * head_dim), Vec::with_capacity(t * head_dim));
        for p in start..start + t {
            for j in 0..head_dim {
                let freq = 1.0 / f64::from(theta).powf((2 * (j % half)) as f64 / head_dim as f64);
                let angle = p as f64 * freq;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        let scale = 1.0 / (head_dim as f32).sqrt();
        let table = |v: &[f32], by: f32| {
            Tensor::<4>::from_data(TensorData::new(v.iter().map(|x| x * by).collect::<Vec<_>>(), [1, t, 1, head_dim]), device)
        };
        let mut rotate = vec![0f32; head_dim * head_dim];
        for i in 0..half {
            rotate[(i + half) * head_dim + i] = -1.0;
            rotate[i * head_dim + i + half] = 1.0;
        }
        let keys = start + t;
        let mask: Vec<f32> = (0..group * t).flat_map(|r| (0..keys).map(move |c| if c > start + r % t { -1e9 } else { 0.0 })).collect();
        AttentionContext {
            cos_q: table(&cos, scale),
            sin_q: table(&sin, scale),
            cos_k: table(&cos, 1.0),
            sin_k: table(&sin, 1.0),
            rotate: Tensor::from_data(TensorData::new(rotate, [head_dim, head_dim]), device),
            mask: (t > 1).then(|| Tensor::from_data(TensorData::new(mask, [1, 1, group * t, keys]), device)),
        }
    }

    /// Rotary embedding of `[b, t, heads, head_dim]`.
    pub(crate) fn rope(&self, x: Tensor<4>, cos: &Tensor<4>, sin: &Tensor<4>) -> Tensor<4> {
        let [b, t, h, hd] = x.dims();
        let rotated = x.clone().reshape([b * t * h, hd]).matmul(self.rotate.clone()).reshape([b, t, h, hd]);
        x * cos.clone() + rotated * sin.clone()
    }
}

/// A SwiGLU feed-forward layer: down(silu(gate(x)) · up(x)).
#[derive(Module, Debug)]
pub struct SwiGluFfn {
    gate: Linear,
    up: Linear,
    down: Linear,
}

impl SwiGluFfn {
    fn new(d: u64, inter: u64, bias: bool, o: &ModelOptions, device: &Device) -> Self {
        SwiGluFfn {
            gate: linear(d, inter, bias, o, device),
            up: linear(d, inter, bias, o, device),
            down: linear(inter, d, bias, o, device),
        }
    }

    fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.down.forward(silu(self.gate.forward(x.clone())) * self.up.forward(x))
    }
}

/// A mixture-of-experts layer: a softmax router, top-K experts per token with their weights
/// renormalised to sum to one (the Mixtral and Qwen3-MoE convention), and an optional shared expert
/// behind a sigmoid gate (Qwen2-MoE).
#[derive(Module, Debug)]
pub struct MoeFfn {
    router: Linear,
    experts: Vec<SwiGluFfn>,
    shared: Option<SwiGluFfn>,
    shared_gate: Option<Linear>,
    top_k: usize,
}

impl MoeFfn {
    /// Output and the load-balancing loss E·Σ_e f_e·P_e (Switch Transformer), where f_e is the share of
    /// routing slots that went to expert e and P_e its mean router probability; 1 when balanced.
    fn forward(&self, flat: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let [n, d] = flat.dims();
        let e = self.experts.len();
        let probs = softmax(self.router.forward(flat.clone()), 1);
        let (top, idx) = probs.clone().topk_with_indices(self.top_k, 1);
        let top = top.clone() / top.sum_dim(1);
        // Sparse dispatch: each expert runs on the tokens routed to it only, and its weighted output is
        // added back at their rows. The routing is read back to the host once per layer.
        let device = flat.device();
        let k = self.top_k;
        let chosen: Vec<i64> = idx.clone().into_data().iter::<i64>().collect();
        let slot_weights = top.reshape([n * k, 1]);
        let mut out = Tensor::<2>::zeros([n, d], &device);
        for (i, expert) in self.experts.iter().enumerate() {
            let slots: Vec<i64> = (0..chosen.len() as i64).filter(|&s| chosen[s as usize] == i as i64).collect();
            if slots.is_empty() {
                continue;
            }
            let m = slots.len();
            let rows = Tensor::<1, Int>::from_data(TensorData::new(slots.iter().map(|s| s / k as i64).collect::<Vec<_>>(), [m]), &device);
            let slot_ids = Tensor::<1, Int>::from_data(TensorData::new(slots, [m]), &device);
            let y = expert.forward(flat.clone().select(0, rows.clone())) * slot_weights.clone().select(0, slot_ids);
            out = out.select_assign(0, rows, y, IndexingUpdateOp::Add);
        }
        if let (Some(shared), Some(gate)) = (&self.shared, &self.shared_gate) {
            out = out + shared.forward(flat.clone()) * sigmoid(gate.forward(flat.clone()));
        }
        let routed = idx.one_hot::<3>(e).float().sum_dim(1).reshape([n, e]).detach();
        let share = routed.sum_dim(0).reshape([e]) / (n * self.top_k) as f64;
        let mean_prob = probs.mean_dim(0).reshape([e]);
        let aux = (share * mean_prob).sum() * e as f64;
        (out, aux)
    }
}

/// Grouped-query self-attention with rotary embeddings and optional QK-norm.
#[derive(Module, Debug)]
pub struct SelfAttention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: Option<RmsNorm>,
    k_norm: Option<RmsNorm>,
    per_head_norm: bool,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

impl SelfAttention {
    fn new(a: &Architecture, o: &ModelOptions, device: &Device) -> Self {
        let (d, q, kv) = (a.d_model, a.heads * a.head_dim, a.kv_heads * a.head_dim);
        let qkv_bias = !matches!(a.attention_bias, AttentionBias::None);
        let (q_norm, k_norm) = match a.qk_norm {
            QkNorm::None => (None, None),
            QkNorm::PerHead => (Some(norm(a.head_dim, o, device)), Some(norm(a.head_dim, o, device))),
            QkNorm::Full => (Some(norm(q, o, device)), Some(norm(kv, o, device))),
        };
        SelfAttention {
            q: linear(d, q, qkv_bias, o, device),
            k: linear(d, kv, qkv_bias, o, device),
            v: linear(d, kv, qkv_bias, o, device),
            o: linear(q, d, matches!(a.attention_bias, AttentionBias::All), o, device),
            q_norm,
            k_norm,
            per_head_norm: a.qk_norm == QkNorm::PerHead,
            heads: a.heads as usize,
            kv_heads: a.kv_heads as usize,
            head_dim: a.head_dim as usize,
        }
    }

    /// `[b·t, width]` → `[b, t, heads, head_dim]`, normalised as the architecture says.
    fn heads_of(&self, x: Tensor<2>, b: usize, heads: usize, norm: &Option<RmsNorm>) -> Tensor<4> {
        let [n, _] = x.dims();
        let x = match (norm, self.per_head_norm) {
            (Some(g), false) => rms_norm(g, x),
            _ => x,
        };
        let x = x.reshape([b, n / b, heads, self.head_dim]);
        match (norm, self.per_head_norm) {
            (Some(g), true) => rms_norm(g, x),
            _ => x,
        }
    }

    /// Causal grouped-query attention of `[b·t, d]`. The query heads that share a key/value head are
    /// stacked along the rows (`[b, kv_heads, group·t, head_dim]`), so each key/value head takes part in
    /// one matrix product instead of being repeated `group` times.
    fn forward(&self, x: Tensor<2>, b: usize, ctx: &AttentionContext) -> Tensor<2> {
        let (q, k, v) = self.qkv(x, b, ctx);
        self.o.forward(gqa(q, k.swap_dims(1, 2), v.swap_dims(1, 2), ctx.mask.as_ref()))
    }

    /// Queries `[b, t, heads, hd]` (normalised, rotated, scaled) and keys and values `[b, t, kv_heads,
    /// hd]` (keys normalised and rotated) of `[b·t, d]`.
    fn qkv(&self, x: Tensor<2>, b: usize, ctx: &AttentionContext) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
        let [n, _] = x.dims();
        let q = ctx.rope(self.heads_of(self.q.forward(x.clone()), b, self.heads, &self.q_norm), &ctx.cos_q, &ctx.sin_q);
        let k = ctx.rope(self.heads_of(self.k.forward(x.clone()), b, self.kv_heads, &self.k_norm), &ctx.cos_k, &ctx.sin_k);
        let v = self.v.forward(x).reshape([b, n / b, self.kv_heads, self.head_dim]);
        (q, k, v)
    }

    /// Attention of `[b·t, d]` new tokens at positions `start..start + t` over a KV cache of
    /// `[b, kv_heads, capacity, head_dim]` keys and values, which this step's keys and values are
    /// written into (inference: `LanguageModel::forward_cached`).
    pub(crate) fn forward_cached(
        &self,
        x: Tensor<2>,
        b: usize,
        ctx: &AttentionContext,
        cache: &mut (Tensor<4>, Tensor<4>),
        start: usize,
    ) -> Tensor<2> {
        let [n, _] = x.dims();
        let (t, hd, kv) = (n / b, self.head_dim, self.kv_heads);
        let (q, k, v) = self.qkv(x, b, ctx);
        let end = start + t;
        let (keys, values) = (cache.0.clone(), cache.1.clone());
        cache.0 = keys.slice_assign([0..b, 0..kv, start..end, 0..hd], k.swap_dims(1, 2));
        cache.1 = values.slice_assign([0..b, 0..kv, start..end, 0..hd], v.swap_dims(1, 2));
        let k = cache.0.clone().slice([0..b, 0..kv, 0..end, 0..hd]);
        let v = cache.1.clone().slice([0..b, 0..kv, 0..end, 0..hd]);
        self.o.forward(gqa(q, k, v, ctx.mask.as_ref()))
    }
}

/// Attention of queries `[b, t, heads, hd]` (already scaled by 1/√hd) over keys and values
/// `[b, kv_heads, keys, hd]`, query head j reading key/value head j / (heads / kv_heads), with an
/// additive mask (causal; none for one new token); `[b·t, heads·hd]`.
fn gqa(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, mask: Option<&Tensor<4>>) -> Tensor<2> {
    let [b, t, heads, hd] = q.dims();
    let kv = k.dims()[1];
    let group = heads / kv;
    let q = q.reshape([b, t, kv, group, hd]).permute([0, 2, 3, 1, 4]).reshape([b, kv, group * t, hd]);
    let scores = q.matmul(k.transpose());
    let scores = match mask {
        Some(m) => scores + m.clone(),
        None => scores,
    };
    let y = softmax(scores, 3).matmul(v);
    y.reshape([b, kv, group, t, hd]).permute([0, 3, 1, 2, 4]).reshape([b * t, heads * hd])
}

/// One pre-norm decoder block.
#[derive(Module, Debug)]
pub struct Block {
    attn_norm: RmsNorm,
    attn: SelfAttention,
    ffn_norm: RmsNorm,
    dense: Option<SwiGluFfn>,
    moe: Option<MoeFfn>,
}

impl Block {
    /// One block on the residual stream `[b·t, d]`.
    fn forward(&self, x: Tensor<2>, b: usize, ctx: &AttentionContext) -> (Tensor<2>, Option<Tensor<1>>) {
        let h = x.clone() + self.attn.forward(rms_norm(&self.attn_norm, x), b, ctx);
        let z = rms_norm(&self.ffn_norm, h.clone());
        match (&self.dense, &self.moe) {
            (_, Some(moe)) => {
                let (y, aux) = moe.forward(z);
                (h + y, Some(aux))
            }
            (Some(ffn), None) => (h + ffn.forward(z), None),
            (None, None) => (h, None),
        }
    }
}

impl Block {
    /// One block on `[b·t, d]` new tokens at positions `start..`, with this layer's KV cache.
    fn forward_cached(
        &self,
        x: Tensor<2>,
        b: usize,
        ctx: &AttentionContext,
        cache: &mut (Tensor<4>, Tensor<4>),
        start: usize,
    ) -> Tensor<2> {
        let h = x.clone() + self.attn.forward_cached(rms_norm(&self.attn_norm, x), b, ctx, cache, start);
        let z = rms_norm(&self.ffn_norm, h.clone());
        match (&self.dense, &self.moe) {
            (_, Some(moe)) => h + moe.forward(z).0,
            (Some(ffn), None) => h + ffn.forward(z),
            (None, None) => h,
        }
    }
}

/// The keys and values of every layer for a batch of sequences, preallocated to a capacity (as inference
/// engines allocate them), and how many positions are filled.
#[derive(Debug)]
pub struct KvCache {
    layers: Vec<(Tensor<4>, Tensor<4>)>,
    len: usize,
    capacity: usize,
}

impl KvCache {
    /// Positions filled.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no position is filled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A decoder-only language model built from an architecture.
#[derive(Module, Debug)]
pub struct LanguageModel {
    embed: Embedding,
    blocks: Vec<Block>,
    norm: RmsNorm,
    lm_head: Option<Linear>,
    rope_theta: f32,
    head_dim: usize,
    group: usize,
    vocab_size: usize,
}

/// Logits and the mean load-balancing loss over the MoE layers (zero for a dense model).
#[derive(Debug)]
pub struct Output {
    /// `[batch, seq, vocab]`.
    pub logits: Tensor<3>,
    /// Mean of the layers' balancing losses.
    pub aux_loss: Option<Tensor<1>>,
}

/// Why the trainer's model cannot be `a`, if it cannot: sandwich norms (Gemma), sliding-window and
/// latent attention and DeepSeek's MoE layout are priced by the science crate but not built here, and a
/// model without them would be a different model (a window changes no parameter at all, so the
/// parameter-count check would not catch it).
pub fn unsupported(a: &Architecture) -> Option<String> {
    let missing: Vec<&str> = [
        (a.sandwich_norms, "sandwich norms"),
        (a.sliding_window > 0, "sliding-window attention"),
        (a.mla.is_some(), "multi-head latent attention"),
        (a.dense_layers > 0, "dense layers before the MoE ones"),
        (a.shared_expert_intermediate_size > 0 && !a.shared_expert_gate, "an ungated shared expert"),
        (a.router_bias, "a router bias"),
    ]
    .into_iter()
    .filter_map(|(has, what)| has.then_some(what))
    .collect();
    (!missing.is_empty()).then(|| {
        format!("{}: the trainer's model has no {}; rooflaw predicts it, but cannot train or time it with burn", a.name, missing.join(", "))
    })
}

/// Initializes every parameter on visit: burn creates a parameter's values on first use.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

impl LanguageModel {
    /// Creates every parameter's values now. burn initializes a parameter on first use, so without this
    /// an expert that the warm-up's routing happened to skip would be drawn from the random generator
    /// inside a timed pass (it made a 16-expert prefill several times slower, and its repeats erratic).
    pub fn initialize_parameters(&self) {
        self.visit(&mut Materialize);
    }

    /// The module for `a` on `device`. Parameters are allocated lazily (counting them allocates nothing).
    pub fn new(a: &Architecture, o: &ModelOptions, device: &Device) -> Self {
        let d = a.d_model;
        let blocks = (0..a.layers)
            .map(|_| {
                let (dense, moe) = if a.is_moe() {
                    let shared = (a.shared_expert_intermediate_size > 0)
                        .then(|| SwiGluFfn::new(d, a.shared_expert_intermediate_size, a.mlp_bias, o, device));
                    let moe = MoeFfn {
                        router: linear(d, a.experts, false, o, device),
                        experts: (0..a.experts).map(|_| SwiGluFfn::new(d, a.intermediate_size, a.mlp_bias, o, device)).collect(),
                        shared_gate: shared.as_ref().map(|_| linear(d, 1, false, o, device)),
                        shared,
                        top_k: a.active_experts as usize,
                    };
                    (None, Some(moe))
                } else {
                    (Some(SwiGluFfn::new(d, a.intermediate_size, a.mlp_bias, o, device)), None)
                };
                Block { attn_norm: norm(d, o, device), attn: SelfAttention::new(a, o, device), ffn_norm: norm(d, o, device), dense, moe }
            })
            .collect();
        LanguageModel {
            embed: EmbeddingConfig::new(a.vocab_size as usize, d as usize)
                .with_initializer(Initializer::Normal { mean: 0.0, std: o.init_std })
                .init(device),
            blocks,
            norm: norm(d, o, device),
            lm_head: (!a.tied_embeddings).then(|| linear(d, a.vocab_size, false, o, device)),
            rope_theta: o.rope_theta,
            head_dim: a.head_dim as usize,
            group: (a.heads / a.kv_heads) as usize,
            vocab_size: a.vocab_size as usize,
        }
    }

    /// Logits for token ids `[batch, seq]`.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Output {
        let [b, t] = tokens.dims();
        let d = self.embed.weight.dims()[1];
        let ctx = AttentionContext::new(t, 0, self.head_dim, self.group, self.rope_theta, &tokens.device());
        // The residual stream stays `[b·t, d]`, so that each projection is one matrix product.
        let mut x = self.embed.forward(tokens).reshape([b * t, d]);
        let mut aux: Vec<Tensor<1>> = Vec::new();
        for block in &self.blocks {
            let (y, a) = block.forward(x, b, &ctx);
            x = y;
            aux.extend(a);
        }
        let x = rms_norm(&self.norm, x);
        let logits = match &self.lm_head {
            Some(head) => head.forward(x),
            None => x.matmul(self.embed.weight.val().transpose()),
        };
        let n = aux.len();
        let aux_loss = (n > 0).then(|| Tensor::cat(aux, 0).sum() / n as f64);
        Output { logits: logits.reshape([b, t, self.vocab_size]), aux_loss }
    }

    /// An empty KV cache for `batch` sequences of up to `capacity` tokens.
    pub fn kv_cache(&self, batch: usize, capacity: usize, device: &Device) -> KvCache {
        let layers = self
            .blocks
            .iter()
            .map(|blk| {
                let shape = [batch, blk.attn.kv_heads, capacity, blk.attn.head_dim];
                (Tensor::zeros(shape, device), Tensor::zeros(shape, device))
            })
            .collect();
        KvCache { layers, len: 0, capacity }
    }

    /// Inference step: the next-token logits `[batch, vocab]` of the last of `tokens` `[batch, t]`, which
    /// continue the sequences held in `cache` (whose keys and values they are appended to). A prefill is
    /// one call with the prompt, each decode step one call with the previous step's tokens.
    pub fn forward_cached(&self, tokens: Tensor<2, Int>, cache: &mut KvCache) -> Result<Tensor<2>, String> {
        let [b, t] = tokens.dims();
        let start = cache.len;
        if start + t > cache.capacity {
            return Err(format!("the KV cache holds {} tokens; {} more do not fit after {start}", cache.capacity, t));
        }
        let d = self.embed.weight.dims()[1];
        let ctx = AttentionContext::new(t, start, self.head_dim, self.group, self.rope_theta, &tokens.device());
        let mut x = self.embed.forward(tokens).reshape([b * t, d]);
        for (block, layer) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            x = block.forward_cached(x, b, &ctx, layer, start);
        }
        cache.len = start + t;
        // Only the last position's logits: what a generation step needs, and what engines compute.
        let last = x.reshape([b, t, d]).slice([0..b, t - 1..t, 0..d]).reshape([b, d]);
        let last = rms_norm(&self.norm, last);
        Ok(match &self.lm_head {
            Some(head) => head.forward(last),
            None => last.matmul(self.embed.weight.val().transpose()),
        })
    }

    /// Mean next-token cross-entropy of `tokens[:, 1..]` given `tokens[:, ..-1]` (nats per token), and
    /// the balancing loss.
    pub fn loss(&self, tokens: Tensor<2, Int>) -> (Tensor<1>, Option<Tensor<1>>) {
        let [b, t1] = tokens.dims();
        let t = t1 - 1;
        let inputs = tokens.clone().slice([0..b, 0..t]);
        let targets = tokens.slice([0..b, 1..t1]).reshape([b * t]);
        let out = self.forward(inputs);
        let ce = CrossEntropyLossConfig::new().init(&out.logits.device()).forward(out.logits.reshape([b * t, self.vocab_size]), targets);
        (ce, out.aux_loss)
    }
}

/// burn's parameter count of the module built for `a` (parameters are lazy: nothing is allocated).
pub fn burn_param_count(a: &Architecture) -> u64 {
    LanguageModel::new(a, &ModelOptions::default(), &Device::flex()).num_params() as u64
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use rooflaw::models::find_model;
    use rooflaw::ArchitectureSpec;

    use super::*;

    fn count(a: &Architecture) -> u64 {
        burn_param_count(a)
    }

    #[test]
    fn burn_counts_the_published_models_exactly() {
        // Published sizes (HF safetensors metadata): SmolLM2-135M 134,515,008; Qwen2.5-0.5B 494,032,768
        // (q, k, v biases); Qwen3-0.6B 596,049,920 (per-head QK-norm, head_dim 128 ≠ 1024 / 16).
        for (id, published) in [("smollm2-135m", 134_515_008u64), ("qwen2.5-0.5b", 494_032_768), ("qwen3-0.6b", 596_049_920)] {
            let a = find_model(id).unwrap().architecture().unwrap();
            assert_eq!(a.params().total, published, "{id}: science");
            assert_eq!(count(&a), published, "{id}: burn");
        }
    }

    #[test]
    fn burn_counts_moe_and_other_options_exactly() {
        let base = ArchitectureSpec {
            layers: 2,
            d_model: 64,
            heads: 4,
            kv_heads: Some(2),
            head_dim: Some(24),
            intermediate_size: Some(96),
            experts: Some(8),
            active_experts: Some(2),
            vocab_size: 300,
            ..Default::default()
        };
        // A small MoE by hand: embedding 300·64 = 19,200 and an untied head 19,200; per layer attention
        // q 64·96 + k, v 2·64·48 + o 96·64 = 18,432, router 64·8 = 512, experts 8·3·64·96 = 147,456,
        // norms 2·64; final norm 64. Total 19,200·2 + 2·(18,432 + 512 + 147,456 + 128) + 64 = 371,520.
        let moe = base.validate().unwrap();
        assert_eq!(moe.params().total, 371_520);
        assert_eq!(count(&moe), 371_520);
        let variants = [
            ArchitectureSpec { tied_embeddings: true, ..base.clone() },
            ArchitectureSpec { qk_norm: QkNorm::PerHead, attention_bias: AttentionBias::Qkv, ..base.clone() },
            ArchitectureSpec { qk_norm: QkNorm::Full, attention_bias: AttentionBias::All, mlp_bias: true, ..base.clone() },
            ArchitectureSpec { shared_expert_intermediate_size: Some(128), ..base.clone() },
            ArchitectureSpec { experts: Some(1), active_experts: Some(1), ..base.clone() },
        ];
        for v in variants {
            let a = v.validate().unwrap();
            assert_eq!(count(&a), a.params().total, "{v:?}");
        }
    }

    #[test]
    fn grouped_query_attention_equals_burns_attention_with_repeated_heads() {
        let device = Device::flex();
        let (b, t, heads, kv, hd) = (2, 7, 6, 2, 8);
        let normal = burn::tensor::Distribution::Normal(0.0, 1.0);
        let q = Tensor::<4>::random([b, t, heads, hd], normal, &device);
        let k = Tensor::<4>::random([b, t, kv, hd], normal, &device);
        let v = Tensor::<4>::random([b, t, kv, hd], normal, &device);
        let ctx = AttentionContext::new(t, 0, hd, heads / kv, 10_000.0, &device);
        let scale = 1.0 / (hd as f64).sqrt();
        let ours = gqa(q.clone() * scale, k.clone().swap_dims(1, 2), v.clone().swap_dims(1, 2), ctx.mask.as_ref());
        // Reference: burn's attention op (which scales by 1/√hd itself), each key/value head repeated for
        // the query heads of its group.
        let repeat = |z: Tensor<4>| z.swap_dims(1, 2).reshape([b, kv, 1, t, hd]).repeat_dim(2, heads / kv).reshape([b, heads, t, hd]);
        let options = burn::tensor::ops::AttentionModuleOptions { is_causal: true, ..Default::default() };
        let reference = burn::tensor::module::attention(q.swap_dims(1, 2), repeat(k), repeat(v), None, None, options);
        let reference = reference.swap_dims(1, 2).reshape([b * t, heads * hd]);
        let diff: f32 = (ours - reference).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn cached_inference_gives_the_full_forward_passs_logits() {
        // A prefill of 5 tokens then 3 single-token steps must give, at each step, the logits the full
        // causal forward pass computes at that position: dense with GQA and QK-norm, and MoE.
        let device = Device::flex();
        let dense = ArchitectureSpec {
            layers: 2,
            d_model: 32,
            heads: 4,
            kv_heads: Some(2),
            intermediate_size: Some(48),
            vocab_size: 50,
            qk_norm: QkNorm::PerHead,
            ..Default::default()
        };
        let moe = ArchitectureSpec { experts: Some(4), active_experts: Some(2), qk_norm: QkNorm::None, ..dense.clone() };
        for spec in [dense, moe] {
            let m = LanguageModel::new(&spec.validate().unwrap(), &ModelOptions::default(), &device);
            let ids: Vec<i64> = vec![3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3, 2, 38, 4, 6];
            let tokens = Tensor::<2, Int>::from_data(TensorData::new(ids, [2, 8]), &device);
            let full = m.forward(tokens.clone()).logits;
            let mut cache = m.kv_cache(2, 8, &device);
            let mut steps = vec![m.forward_cached(tokens.clone().slice([0..2, 0..5]), &mut cache).unwrap()];
            for p in 5..8 {
                steps.push(m.forward_cached(tokens.clone().slice([0..2, p..p + 1]), &mut cache).unwrap());
            }
            assert_eq!(cache.len(), 8);
            for (i, got) in steps.into_iter().enumerate() {
                let p = 4 + i;
                let want = full.clone().slice([0..2, p..p + 1, 0..50]).reshape([2, 50]);
                let diff: f32 = (got - want).abs().max().into_scalar();
                assert!(diff < 1e-4, "position {p}: {diff}");
            }
            let err = m.forward_cached(tokens.slice([0..2, 0..1]), &mut cache).unwrap_err();
            assert!(err.starts_with("the KV cache holds 8 tokens"), "{err}");
        }
    }

    #[test]
    fn rope_rotates_each_half_pair_by_its_frequency() {
        let device = Device::flex();
        // head_dim 4: pairs (0, 2) at frequency 1 and (1, 3) at 10000^(-2/4) = 0.01; position 1.
        let ctx = AttentionContext::new(2, 0, 4, 1, 10_000.0, &device);
        let x = Tensor::<4>::from_data(TensorData::new(vec![0.0f32, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0], [1, 2, 1, 4]), &device);
        let y: Vec<f32> = ctx.rope(x, &ctx.cos_k, &ctx.sin_k).into_data().iter::<f32>().skip(4).collect();
        let (c1, s1, c2, s2) = (1f32.cos(), 1f32.sin(), 0.01f32.cos(), 0.01f32.sin());
        let expected = [1.0 * c1 - 3.0 * s1, 2.0 * c2 - 4.0 * s2, 3.0 * c1 + 1.0 * s1, 4.0 * c2 + 2.0 * s2];
        for (a, e) in y.iter().zip(expected) {
            assert!((a - e).abs() < 1e-6, "{y:?} vs {expected:?}");
        }
    }

    #[test]
    fn sparse_expert_dispatch_equals_the_dense_mixture() {
        let (o, device) = (ModelOptions::default(), Device::flex());
        let moe = MoeFfn {
            router: linear(16, 6, false, &o, &device),
            experts: (0..6).map(|_| SwiGluFfn::new(16, 24, false, &o, &device)).collect(),
            shared: None,
            shared_gate: None,
            top_k: 2,
        };
        let x = Tensor::<3>::random([2, 5, 16], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let (sparse, _) = moe.forward(x.clone().reshape([10, 16]));
        // Dense reference: Σ_e w_e(x)·expert_e(x), w = the top-2 router probabilities renormalised.
        let flat = x.reshape([10, 16]);
        let probs = softmax(moe.router.forward(flat.clone()), 1);
        let (top, idx) = probs.topk_with_indices(2, 1);
        let top = top.clone() / top.sum_dim(1);
        let w = Tensor::<2>::zeros([10, 6], &device).scatter(1, idx, top, IndexingUpdateOp::Assign);
        let mut dense = Tensor::<2>::zeros([10, 16], &device);
        for (i, e) in moe.experts.iter().enumerate() {
            dense = dense + e.forward(flat.clone()) * w.clone().slice_dim(1, i..i + 1);
        }
        let diff: f32 = (sparse.reshape([10, 16]) - dense).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn a_forward_pass_has_the_right_shapes_and_a_finite_loss() {
        let a = ArchitectureSpec {
            layers: 2,
            d_model: 32,
            heads: 4,
            kv_heads: Some(2),
            intermediate_size: Some(64),
            experts: Some(4),
            active_experts: Some(2),
            vocab_size: 50,
            ..Default::default()
        }
        .validate()
        .unwrap();
        let device = Device::flex();
        let m = LanguageModel::new(&a, &ModelOptions::default(), &device);
        let tokens = Tensor::<2, Int>::from_data(TensorData::new((0..18i64).map(|i| i % 50).collect::<Vec<_>>(), [2, 9]), &device);
        let out = m.forward(tokens.clone());
        assert_eq!(out.logits.dims(), [2, 9, 50]);
        let (ce, aux) = m.loss(tokens);
        let ce: f32 = ce.into_scalar();
        // At initialisation the loss is near ln(50) = 3.91: the logits are small.
        assert!((ce - 50f32.ln()).abs() < 0.5, "{ce}");
        let aux: f32 = aux.unwrap().into_scalar();
        assert!(aux > 0.5 && aux < 2.5, "{aux}");
    }
}
