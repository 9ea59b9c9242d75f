//! A GGUF writer for candidate architectures with random weights, so that llama.cpp can time an
//! architecture nobody has trained (latency does not depend on the weights' values). GGUF v3 as
//! llama.cpp's `gguf.h` and the `gguf` Python package define it: a header, typed metadata, tensor
//! descriptors, then each tensor's data aligned to 32 bytes. Layouts: `llama` (dense, or Mixtral-style
//! MoE), `qwen2` (QKV biases), `qwen3` (per-head QK-norm) and `qwen3moe`; weights in F16, Q8_0 or Q4_0
//! (norms and biases in F32, as llama.cpp keeps them); other types through `llama-quantize`.
//!
//! The vocabulary is synthetic and SentencePiece-shaped (`<unk>`, `<s>`, `</s>`, the 256 byte tokens,
//! then `▁t{i}` pieces), which llama.cpp loads like any SentencePiece vocabulary.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rooflaw::arch::{AttentionBias, QkNorm};
use rooflaw::Architecture;

/// GGUF's alignment of tensor data (`general.alignment` default).
pub const ALIGNMENT: u64 = 32;

/// Weight formats written directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightType {
    /// IEEE half precision.
    F16,
    /// Blocks of 32: an f16 scale and 32 signed bytes.
    Q8_0,
    /// Blocks of 32: an f16 scale and 16 bytes of 4-bit values.
    Q4_0,
}

impl WeightType {
    /// Parses `F16`, `Q8_0` or `Q4_0` (any case).
    pub fn parse(label: &str) -> Option<WeightType> {
        match label.trim().to_ascii_uppercase().as_str() {
            "F16" | "FP16" => Some(WeightType::F16),
            "Q8_0" => Some(WeightType::Q8_0),
            "Q4_0" => Some(WeightType::Q4_0),
            _ => None,
        }
    }

    /// llama.cpp's name.
    pub fn name(self) -> &'static str {
        match self {
            WeightType::F16 => "F16",
            WeightType::Q8_0 => "Q8_0",
            WeightType::Q4_0 => "Q4_0",
        }
    }

    fn ggml_type(self) -> u32 {
        match self {
            WeightType::F16 => 1,
            WeightType::Q4_0 => 2,
            WeightType::Q8_0 => 8,
        }
    }

    /// `general.file_type` (llama_ftype: MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7).
    fn file_type(self) -> u32 {
        match self {
            WeightType::F16 => 1,
            WeightType::Q4_0 => 2,
            WeightType::Q8_0 => 7,
        }
    }
}

/// A tensor's storage type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Storage {
    /// Norm weights (ones) and biases (zeros).
    F32 {
        value: f32,
    },
    Weight(WeightType),
}

impl Storage {
    fn ggml_type(self) -> u32 {
        match self {
            Storage::F32 { .. } => 0,
            Storage::Weight(w) => w.ggml_type(),
        }
    }

    fn bytes(self, elements: u64) -> u64 {
        match self {
            Storage::F32 { .. } => 4 * elements,
            Storage::Weight(WeightType::F16) => 2 * elements,
            Storage::Weight(WeightType::Q8_0) => elements / 32 * 34,
            Storage::Weight(WeightType::Q4_0) => elements / 32 * 18,
        }
    }
}

/// A tensor descriptor: name, dimensions in ggml order (`ne[0]` is the row length), storage.
#[derive(Debug, Clone, PartialEq)]
struct TensorInfo {
    name: String,
    ne: Vec<u64>,
    storage: Storage,
}

impl TensorInfo {
    fn elements(&self) -> u64 {
        self.ne.iter().product()
    }
}

/// The llama.cpp layout an architecture maps to.
pub fn layout(a: &Architecture) -> Result<&'static str> {
    if a.sandwich_norms
        || a.sliding_window > 0
        || a.mla.is_some()
        || a.dense_layers > 0
        || a.router_bias
        || (a.shared_expert_intermediate_size > 0 && !a.shared_expert_gate)
    {
        bail!(
            "{}: sandwich norms, sliding windows (Gemma, Mistral v0.1, Phi-3) and DeepSeek's latent attention and MoE layout have no llama or qwen layout in this GGUF writer",
            a.name
        );
    }
    if a.mlp_bias || a.attention_bias == AttentionBias::All {
        bail!("{}: llama.cpp's llama and qwen layouts have no output-projection or FFN biases; measure it with --engine burn", a.name);
    }
    if a.qk_norm == QkNorm::Full {
        bail!(
            "{}: QK-norm over the full width (OLMo-2 style) has no llama/qwen layout in llama.cpp; measure it with --engine burn",
            a.name
        );
    }
    if a.shared_expert_intermediate_size > 0 {
        bail!("{}: a shared expert (Qwen2-MoE) is not written by this GGUF writer; measure it with --engine burn", a.name);
    }
    Ok(match (a.qk_norm, a.attention_bias, a.is_moe()) {
        (QkNorm::PerHead, AttentionBias::None, false) => "qwen3",
        (QkNorm::PerHead, AttentionBias::None, true) => "qwen3moe",
        (QkNorm::None, AttentionBias::Qkv, false) => "qwen2",
        (QkNorm::None, AttentionBias::None, _) => "llama",
        _ => bail!("{}: QK-norm together with QKV biases has no llama.cpp layout; measure it with --engine burn", a.name),
    })
}

fn tensors(a: &Architecture, w: WeightType, arch: &str) -> Vec<TensorInfo> {
    let (d, q, kv, hd) = (a.d_model, a.heads * a.head_dim, a.kv_heads * a.head_dim, a.head_dim);
    let ones = Storage::F32 { value: 1.0 };
    let zeros = Storage::F32 { value: 0.0 };
    let weight = Storage::Weight(w);
    let t = |name: String, ne: Vec<u64>, storage| TensorInfo { name, ne, storage };
    let mut out = vec![t("token_embd.weight".into(), vec![d, a.vocab_size], weight)];
    for i in 0..a.layers {
        let b = |s: &str| format!("blk.{i}.{s}");
        out.push(t(b("attn_norm.weight"), vec![d], ones));
        out.push(t(b("attn_q.weight"), vec![d, q], weight));
        out.push(t(b("attn_k.weight"), vec![d, kv], weight));
        out.push(t(b("attn_v.weight"), vec![d, kv], weight));
        if arch == "qwen2" {
            out.push(t(b("attn_q.bias"), vec![q], zeros));
            out.push(t(b("attn_k.bias"), vec![kv], zeros));
            out.push(t(b("attn_v.bias"), vec![kv], zeros));
        }
        if arch.starts_with("qwen3") {
            out.push(t(b("attn_q_norm.weight"), vec![hd], ones));
            out.push(t(b("attn_k_norm.weight"), vec![hd], ones));
        }
        out.push(t(b("attn_output.weight"), vec![q, d], weight));
        out.push(t(b("ffn_norm.weight"), vec![d], ones));
        let ff = a.intermediate_size;
        if a.is_moe() {
            out.push(t(b("ffn_gate_inp.weight"), vec![d, a.experts], ones));
            out.push(t(b("ffn_gate_exps.weight"), vec![d, ff, a.experts], weight));
            out.push(t(b("ffn_up_exps.weight"), vec![d, ff, a.experts], weight));
            out.push(t(b("ffn_down_exps.weight"), vec![ff, d, a.experts], weight));
        } else {
            out.push(t(b("ffn_gate.weight"), vec![d, ff], weight));
            out.push(t(b("ffn_up.weight"), vec![d, ff], weight));
            out.push(t(b("ffn_down.weight"), vec![ff, d], weight));
        }
    }
    out.push(t("output_norm.weight".into(), vec![d], ones));
    if !a.tied_embeddings {
        out.push(t("output.weight".into(), vec![d, a.vocab_size], weight));
    }
    out
}

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    U32(u32),
    F32(f32),
    Str(String),
    Strs(Vec<String>),
    F32s(Vec<f32>),
    I32s(Vec<i32>),
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    // Metadata value types: UINT32 4, INT32 5, FLOAT32 6, STRING 8, ARRAY 9.
    match v {
        Value::U32(x) => {
            out.extend(4u32.to_le_bytes());
            out.extend(x.to_le_bytes());
        }
        Value::F32(x) => {
            out.extend(6u32.to_le_bytes());
            out.extend(x.to_le_bytes());
        }
        Value::Str(s) => {
            out.extend(8u32.to_le_bytes());
            put_str(out, s);
        }
        Value::Strs(items) => {
            out.extend(9u32.to_le_bytes());
            out.extend(8u32.to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            for s in items {
                put_str(out, s);
            }
        }
        Value::F32s(items) => {
            out.extend(9u32.to_le_bytes());
            out.extend(6u32.to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            items.iter().for_each(|x| out.extend(x.to_le_bytes()));
        }
        Value::I32s(items) => {
            out.extend(9u32.to_le_bytes());
            out.extend(5u32.to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            items.iter().for_each(|x| out.extend(x.to_le_bytes()));
        }
    }
}

fn metadata(a: &Architecture, w: WeightType, arch: &str, context: u64) -> Vec<(String, Value)> {
    let k = |s: &str| format!("{arch}.{s}");
    let u = |x: u64| Value::U32(x as u32);
    let mut m = vec![
        ("general.architecture".to_string(), Value::Str(arch.into())),
        ("general.name".into(), Value::Str(format!("{} (random weights, rooflaw)", a.name))),
        ("general.file_type".into(), Value::U32(w.file_type())),
        ("general.alignment".into(), Value::U32(ALIGNMENT as u32)),
        (k("context_length"), u(context)),
        (k("embedding_length"), u(a.d_model)),
        (k("block_count"), u(a.layers)),
        (k("feed_forward_length"), u(a.intermediate_size)),
        (k("attention.head_count"), u(a.heads)),
        (k("attention.head_count_kv"), u(a.kv_heads)),
        (k("attention.key_length"), u(a.head_dim)),
        (k("attention.value_length"), u(a.head_dim)),
        (k("rope.dimension_count"), u(a.head_dim)),
        (k("rope.freq_base"), Value::F32(10_000.0)),
        (k("attention.layer_norm_rms_epsilon"), Value::F32(1e-6)),
        (k("vocab_size"), u(a.vocab_size)),
    ];
    if a.is_moe() {
        m.push((k("expert_count"), u(a.experts)));
        m.push((k("expert_used_count"), u(a.active_experts)));
        m.push((k("expert_feed_forward_length"), u(a.intermediate_size)));
    }
    let v = a.vocab_size as usize;
    let mut tokens = vec!["<unk>".to_string(), "<s>".into(), "</s>".into()];
    let mut types = vec![2, 3, 3];
    tokens.extend((0..=255u8).map(|b| format!("<0x{b:02X}>")));
    types.extend(std::iter::repeat_n(6, 256));
    let specials = tokens.len();
    tokens.extend((specials..v).map(|i| format!("\u{2581}t{i}")));
    types.extend(std::iter::repeat_n(1, v - specials));
    let scores: Vec<f32> = (0..v).map(|i| if i < specials { 0.0 } else { -((i - specials) as f32) }).collect();
    m.extend([
        ("tokenizer.ggml.model".to_string(), Value::Str("llama".into())),
        ("tokenizer.ggml.tokens".into(), Value::Strs(tokens)),
        ("tokenizer.ggml.scores".into(), Value::F32s(scores)),
        ("tokenizer.ggml.token_type".into(), Value::I32s(types)),
        ("tokenizer.ggml.unknown_token_id".into(), Value::U32(0)),
        ("tokenizer.ggml.bos_token_id".into(), Value::U32(1)),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(2)),
    ]);
    m
}

fn align(x: u64) -> u64 {
    x.div_ceil(ALIGNMENT) * ALIGNMENT
}

/// What a written file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// llama.cpp architecture (`general.architecture`).
    pub layout: &'static str,
    /// Tensors.
    pub tensors: usize,
    /// Bytes of the file.
    pub bytes: u64,
    /// Parameters written (equal to the science crate's count).
    pub params: u64,
}

/// Writes `a` with random weights in `w` to `path`, with a context length of `context` tokens.
pub fn write(a: &Architecture, w: WeightType, context: u64, path: &Path) -> Result<Written> {
    let arch = layout(a)?;
    if a.vocab_size < 300 {
        bail!("{}: a vocabulary of {} is too small for the synthetic SentencePiece vocabulary (259 special and byte tokens); use at least 300", a.name, a.vocab_size);
    }
    let infos = tensors(a, w, arch);
    if w != WeightType::F16 {
        if let Some(t) = infos.iter().find(|t| matches!(t.storage, Storage::Weight(_)) && t.ne[0] % 32 != 0) {
            bail!(
                "{}: {} has rows of {} values, not a multiple of {}'s block of 32; use F16, or a width that is a multiple of 32",
                a.name,
                t.name,
                t.ne[0],
                w.name()
            );
        }
    }
    let mut head = Vec::new();
    head.extend(b"GGUF");
    head.extend(3u32.to_le_bytes());
    let meta = metadata(a, w, arch, context);
    head.extend((infos.len() as u64).to_le_bytes());
    head.extend((meta.len() as u64).to_le_bytes());
    for (key, value) in &meta {
        put_str(&mut head, key);
        put_value(&mut head, value);
    }
    let mut offset = 0u64;
    for t in &infos {
        put_str(&mut head, &t.name);
        head.extend((t.ne.len() as u32).to_le_bytes());
        t.ne.iter().for_each(|n| head.extend(n.to_le_bytes()));
        head.extend(t.storage.ggml_type().to_le_bytes());
        head.extend(offset.to_le_bytes());
        offset = align(offset + t.storage.bytes(t.elements()));
    }
    head.resize(align(head.len() as u64) as usize, 0);
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    out.write_all(&head)?;
    let mut rng = ChaCha8Rng::seed_from_u64(0x6767_7566);
    let mut written = 0u64;
    for t in &infos {
        write_data(&mut out, t, &mut rng)?;
        let bytes = t.storage.bytes(t.elements());
        out.write_all(&vec![0u8; (align(bytes) - bytes) as usize])?;
        written += align(bytes);
    }
    out.flush().with_context(|| format!("cannot write {}", path.display()))?;
    // The gate (router) of an MoE layer is counted by the science crate; the norms too.
    let params = infos.iter().map(TensorInfo::elements).sum::<u64>();
    Ok(Written { layout: arch, tensors: infos.len(), bytes: head.len() as u64 + written, params })
}

/// Random values: a normal-like spread of standard deviation ≈0.02 (uniform on ±0.0346), so that
/// activations stay finite through any depth.
fn write_data(out: &mut impl Write, t: &TensorInfo, rng: &mut ChaCha8Rng) -> Result<()> {
    let n = t.elements();
    const CHUNK: u64 = 1 << 16;
    let mut done = 0;
    let mut bytes = vec![0u8; 0];
    while done < n {
        let m = (n - done).min(CHUNK);
        bytes.clear();
        match t.storage {
            Storage::F32 { value } => (0..m).for_each(|_| bytes.extend(value.to_le_bytes())),
            Storage::Weight(WeightType::F16) => {
                let mut raw = vec![0u8; 4 * m as usize];
                rng.fill_bytes(&mut raw);
                for c in raw.chunks_exact(4) {
                    let u = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32 / u32::MAX as f32;
                    bytes.extend(half::f16::from_f32((u * 2.0 - 1.0) * 0.0346).to_le_bytes());
                }
            }
            Storage::Weight(WeightType::Q8_0) => {
                // Scale: ±127 levels spanning ±0.0346.
                let d = half::f16::from_f32(0.0346 / 127.0).to_le_bytes();
                let mut qs = [0u8; 32];
                for _ in 0..m / 32 {
                    rng.fill_bytes(&mut qs);
                    bytes.extend(d);
                    // i8 in -127..=127 (−128 is not a level Q8_0 uses).
                    bytes.extend(qs.iter().map(|q| if *q == 0x80 { 0x81 } else { *q }));
                }
            }
            Storage::Weight(WeightType::Q4_0) => {
                let d = half::f16::from_f32(0.0346 / 8.0).to_le_bytes();
                let mut qs = [0u8; 16];
                for _ in 0..m / 32 {
                    rng.fill_bytes(&mut qs);
                    bytes.extend(d);
                    bytes.extend(qs);
                }
            }
        }
        out.write_all(&bytes)?;
        done += m;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use rooflaw::ArchitectureSpec;

    use super::*;

    /// A tensor descriptor as read back: name, dimensions, ggml type, offset.
    type Descriptor = (String, Vec<u64>, u32, u64);

    /// A minimal GGUF reader for the tests: the metadata keys, the tensor descriptors, the data offset.
    fn read(bytes: &[u8]) -> (Vec<String>, Vec<Descriptor>, u64) {
        let mut at = 0usize;
        let mut take = |n: usize| {
            let s = &bytes[at..at + n];
            at += n;
            s.to_vec()
        };
        assert_eq!(take(4), b"GGUF");
        assert_eq!(u32::from_le_bytes(take(4).try_into().unwrap()), 3);
        let u64_ = |b: Vec<u8>| u64::from_le_bytes(b.try_into().unwrap());
        let u32_ = |b: Vec<u8>| u32::from_le_bytes(b.try_into().unwrap());
        let n_tensors = u64_(take(8));
        let n_kv = u64_(take(8));
        let mut keys = Vec::new();
        let string = |take: &mut dyn FnMut(usize) -> Vec<u8>| {
            let n = u64::from_le_bytes(take(8).try_into().unwrap()) as usize;
            String::from_utf8(take(n)).unwrap()
        };
        for _ in 0..n_kv {
            keys.push(string(&mut take));
            match u32_(take(4)) {
                4..=6 => {
                    take(4);
                }
                8 => {
                    string(&mut take);
                }
                9 => {
                    let ty = u32_(take(4));
                    let n = u64_(take(8));
                    for _ in 0..n {
                        if ty == 8 {
                            string(&mut take);
                        } else {
                            take(4);
                        }
                    }
                }
                other => panic!("unexpected type {other}"),
            }
        }
        let mut infos = Vec::new();
        for _ in 0..n_tensors {
            let name = string(&mut take);
            let dims = u32_(take(4));
            let ne = (0..dims).map(|_| u64_(take(8))).collect();
            infos.push((name, ne, u32_(take(4)), u64_(take(8))));
        }
        let data_start = align(at as u64);
        (keys, infos, data_start)
    }

    fn tiny(tied: bool) -> Architecture {
        ArchitectureSpec {
            layers: 1,
            d_model: 32,
            heads: 2,
            kv_heads: Some(1),
            intermediate_size: Some(64),
            vocab_size: 300,
            tied_embeddings: tied,
            ..Default::default()
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn a_tiny_llama_has_the_sizes_computed_by_hand() {
        // l 1, d 32, 2 heads of 16, 1 KV head, FFN 64, V 300, tied. F16 bytes: embedding 32·300·2 = 19,200;
        // three norms 3·32·4 = 384; Q and O 2·32·32·2 = 4,096; K and V 2·32·16·2 = 2,048; gate, up, down
        // 3·32·64·2 = 12,288: 38,016 bytes of data, every tensor a multiple of 32 bytes.
        let dir = std::env::temp_dir().join(format!("rooflaw-gguf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tiny.gguf");
        let w = write(&tiny(true), WeightType::F16, 256, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (keys, infos, data_start) = read(&bytes);
        assert_eq!(w.layout, "llama");
        assert_eq!(bytes.len() as u64, data_start + 38_016);
        assert_eq!(w.bytes, bytes.len() as u64);
        assert_eq!(w.params, tiny(true).params().total);
        assert!(keys.contains(&"llama.attention.head_count_kv".to_string()) && keys.contains(&"tokenizer.ggml.tokens".to_string()));
        assert_eq!(infos.len(), 11);
        assert_eq!(infos[0], ("token_embd.weight".to_string(), vec![32, 300], 1, 0));
        assert_eq!(infos[1], ("blk.0.attn_norm.weight".to_string(), vec![32], 0, 19_200));
        assert!(!infos.iter().any(|i| i.0 == "output.weight"));
        // Q8_0: the embedding is 9,600 values = 300 blocks of 34 bytes = 10,200, padded to 10,208.
        let w = write(&tiny(false), WeightType::Q8_0, 256, &path).unwrap();
        let (_, infos, _) = read(&std::fs::read(&path).unwrap());
        assert_eq!(infos[1].3, 10_208);
        assert_eq!((infos.last().unwrap().0.as_str(), infos.last().unwrap().2), ("output.weight", 8));
        assert_eq!(w.params, tiny(false).params().total);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn layouts_follow_the_architecture() {
        let base = ArchitectureSpec {
            layers: 2,
            d_model: 64,
            heads: 4,
            kv_heads: Some(2),
            intermediate_size: Some(128),
            vocab_size: 512,
            ..Default::default()
        };
        let qwen3 = ArchitectureSpec { qk_norm: QkNorm::PerHead, ..base.clone() };
        let qwen2 = ArchitectureSpec { attention_bias: AttentionBias::Qkv, ..base.clone() };
        let moe = ArchitectureSpec { experts: Some(4), active_experts: Some(2), ..qwen3.clone() };
        let mixtral = ArchitectureSpec { experts: Some(4), active_experts: Some(2), ..base.clone() };
        for (spec, want) in [(base.clone(), "llama"), (qwen3, "qwen3"), (qwen2, "qwen2"), (moe, "qwen3moe"), (mixtral, "llama")] {
            let a = spec.validate().unwrap();
            assert_eq!(layout(&a).unwrap(), want);
            // Every parameter the science crate counts is written, norms and router included.
            let names = tensors(&a, WeightType::F16, want);
            assert_eq!(names.iter().map(TensorInfo::elements).sum::<u64>(), a.params().total, "{want}");
        }
        let olmo = ArchitectureSpec { qk_norm: QkNorm::Full, ..base.clone() }.validate().unwrap();
        assert!(layout(&olmo).unwrap_err().to_string().contains("--engine burn"));
        // Rows that are not whole Q8_0 blocks are refused with a fix.
        let odd = ArchitectureSpec { d_model: 48, heads: 3, kv_heads: Some(1), ..base }.validate().unwrap();
        let err = write(&odd, WeightType::Q8_0, 64, &std::env::temp_dir().join("never.gguf")).unwrap_err().to_string();
        assert!(err.contains("not a multiple of Q8_0's block of 32; use F16"), "{err}");
    }
}
