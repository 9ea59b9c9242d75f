//! Token data for training: tokenisers, prepared token shards with a manifest, and batches that are a
//! pure function of (seed, step), so that a resumed run reads exactly the batches it would have read.
//!
//! A prepared folder holds `train.tokens` and `validation.tokens` (flat little-endian `u16` when the
//! vocabulary fits, else `u32`: a layout that can be memory-mapped as is) and `manifest.json` (the
//! tokenizer, the counts, the sha256 of every source and shard, the split). The manifest is written
//! last, so a folder without one was never completed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerKind {
    /// One token per byte (256 symbols): the fastest, for tests.
    Bytes,
    /// GPT-2's byte-level BPE (`r50k_base`, 50,257 tokens), compiled into the program.
    Gpt2,
    /// Qwen2.5's byte-level BPE (151,665 tokens), from the `tokenizer.json` that `rooflaw data fetch
    /// qwen2.5` puts in the data folder.
    #[serde(rename = "qwen2.5")]
    Qwen25,
}

impl TokenizerKind {
    /// Name, as `--tokenizer` takes it.
    pub fn name(self) -> &'static str {
        match self {
            TokenizerKind::Bytes => "bytes",
            TokenizerKind::Gpt2 => "gpt2",
            TokenizerKind::Qwen25 => "qwen2.5",
        }
    }

    /// Parses `bytes|gpt2|qwen2.5`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bytes" => Ok(TokenizerKind::Bytes),
            "gpt2" | "r50k" | "r50k_base" => Ok(TokenizerKind::Gpt2),
            "qwen2.5" | "qwen" => Ok(TokenizerKind::Qwen25),
            other => bail!("unknown tokenizer '{other}'; use gpt2, qwen2.5 or bytes"),
        }
    }

    /// The tokenizer, ready to encode; `data_dir` holds fetched tokenizer files.
    pub fn load(self, data_dir: &Path) -> Result<Tokenizer> {
        Ok(match self {
            TokenizerKind::Bytes => Tokenizer::Bytes,
            TokenizerKind::Gpt2 => Tokenizer::Gpt2(Box::new(tiktoken_rs::r50k_base().context("cannot load the GPT-2 tokenizer")?)),
            TokenizerKind::Qwen25 => {
                let file = crate::corpora::corpus_dir(data_dir, crate::corpora::find("qwen2.5")?).join("tokenizer.json");
                if !file.is_file() {
                    bail!("the qwen2.5 tokenizer is not in {}: fetch it with `rooflaw data fetch qwen2.5`", data_dir.display());
                }
                let t = tokenizers::Tokenizer::from_file(&file).map_err(|e| anyhow::anyhow!("cannot load {}: {e}", file.display()))?;
                Tokenizer::Hf(Box::new(t))
            }
        })
    }
}

/// A loaded tokenizer.
pub enum Tokenizer {
    /// One token per byte.
    Bytes,
    /// GPT-2.
    Gpt2(Box<tiktoken_rs::CoreBPE>),
    /// A Hugging Face `tokenizer.json`.
    Hf(Box<tokenizers::Tokenizer>),
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The vocabularies are large and tiktoken's BPE has no Debug: name the tokenizer only.
        f.write_str(match self {
            Tokenizer::Bytes => "Tokenizer::Bytes",
            Tokenizer::Gpt2(_) => "Tokenizer::Gpt2",
            Tokenizer::Hf(_) => "Tokenizer::Hf",
        })
    }
}

impl Tokenizer {
    /// Vocabulary size (with the special tokens).
    pub fn vocab_size(&self) -> u32 {
        match self {
            Tokenizer::Bytes => 256,
            Tokenizer::Gpt2(_) => 50_257,
            Tokenizer::Hf(t) => t.get_vocab_size(true) as u32,
        }
    }

    /// Token ids of `text`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        match self {
            Tokenizer::Bytes => Ok(text.bytes().map(u32::from).collect()),
            Tokenizer::Gpt2(bpe) => Ok(bpe.encode_ordinary(text)),
            Tokenizer::Hf(t) => Ok(t.encode(text, false).map_err(|e| anyhow::anyhow!("cannot tokenise: {e}"))?.get_ids().to_vec()),
        }
    }
}

/// One shard of the prepared data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    /// File name inside the folder.
    pub file: String,
    /// Tokens.
    pub tokens: u64,
    /// sha256 of the file.
    pub sha256: String,
}

/// One source text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The path it was read from.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// Its sha256.
    pub sha256: String,
    /// Tokens it gave to the training shard.
    pub train_tokens: u64,
    /// Tokens it gave to the validation shard.
    pub validation_tokens: u64,
}

/// `manifest.json` of a prepared folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of the folder.
    pub format: u32,
    /// Tokenizer.
    pub tokenizer: TokenizerKind,
    /// Vocabulary size.
    pub vocab_size: u32,
    /// `u16` or `u32`.
    pub dtype: String,
    /// How the validation split was made.
    pub split: String,
    /// The validation set's name, as results give it (`Wikipedia-2016 sample`; for a split, the held-out
    /// end of each training text).
    #[serde(default)]
    pub validation_set: String,
    /// Where the text came from.
    pub sources: Vec<Source>,
    /// Training tokens.
    pub train: Shard,
    /// Validation tokens.
    pub validation: Shard,
    /// Entropy of the training shard's unigram distribution, in nats per token: the loss of a model
    /// that knows only token frequencies.
    pub unigram_entropy_nats: f64,
}

impl Manifest {
    /// The manifest of a prepared folder, without reading (or checking) its shards.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let mpath = dir.join("manifest.json");
        if !dir.is_dir() {
            bail!("data folder {} does not exist; prepare one with `rooflaw data prepare --text FILE --out DIR`", dir.display());
        }
        let text = std::fs::read_to_string(&mpath).with_context(|| {
            format!("{} has no manifest.json; prepare it with `rooflaw data prepare --text FILE --out DIR`", dir.display())
        })?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a rooflaw data manifest", mpath.display()))
    }

    /// The validation set's name (a folder prepared before names were recorded gives its split).
    pub fn validation_name(&self) -> &str {
        if self.validation_set.is_empty() {
            &self.split
        } else {
            &self.validation_set
        }
    }
}

/// sha256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced, then renamed: the file is
/// either absent or complete.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("file"), std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp).with_context(|| format!("cannot write {} (is the folder writable?)", tmp.display()))?;
        f.write_all(bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
        f.sync_all().with_context(|| format!("cannot sync {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))?;
    sync_dir(dir);
    Ok(())
}

/// Syncs a folder's entries (after a rename into it), best effort.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn encode_shard(tokens: &[u32], wide: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(tokens.len() * if wide { 4 } else { 2 });
    for &t in tokens {
        if wide {
            out.extend_from_slice(&t.to_le_bytes());
        } else {
            out.extend_from_slice(&(t as u16).to_le_bytes());
        }
    }
    out
}

/// Unigram entropy in nats per token.
pub fn unigram_entropy(tokens: &[u32], vocab: u32) -> f64 {
    let mut counts = vec![0u64; vocab as usize];
    for &t in tokens {
        counts[t as usize] += 1;
    }
    let n = tokens.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n).map(|p| -p * p.ln()).sum()
}

/// Text files from paths: a file as is, a folder as its `.txt` files in name order.
pub fn expand_texts(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read folder {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "txt"))
                .collect();
            if files.is_empty() {
                bail!("folder {} holds no .txt file", p.display());
            }
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// What to prepare.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// Training texts (and, without `validation`, the validation split's source too); a folder stands for
    /// its `.txt` files, a fetched corpus's name for its files.
    pub texts: Vec<PathBuf>,
    /// Texts used only for validation (e.g. the Wikipedia-2016 sample); empty: split each text.
    pub validation: Vec<PathBuf>,
    /// Tokenizer.
    pub tokenizer: TokenizerKind,
    /// Share of each text's tokens (its last part) held out for validation when `validation` is empty.
    pub validation_fraction: f64,
    /// Output folder.
    pub out: PathBuf,
    /// The data folder, where fetched tokenizers are.
    pub data_dir: PathBuf,
}

/// Tokenises the texts and writes the shards and the manifest into `out`. Refuses to overwrite a
/// prepared folder.
pub fn prepare(o: &PrepareOptions) -> Result<Manifest> {
    let resolve = |args: &[PathBuf]| -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for a in args {
            out.extend(crate::corpora::resolve_text(&o.data_dir, a)?);
        }
        Ok(out)
    };
    let (texts, validation) = (resolve(&o.texts)?, resolve(&o.validation)?);
    let validation_set = if validation.is_empty() {
        format!("held-out end of each training text ({:.0}%)", o.validation_fraction * 100.0)
    } else {
        crate::corpora::validation_set_name(&o.data_dir, &validation)
    };
    let (texts, validation) = (expand_texts(&texts)?, expand_texts(&validation)?);
    if texts.is_empty() {
        bail!("no text given: pass one or more --text FILE");
    }
    if !(0.0..0.5).contains(&o.validation_fraction) || (o.validation.is_empty() && o.validation_fraction == 0.0) {
        bail!("--validation-fraction {} must be in (0, 0.5), e.g. 0.1", o.validation_fraction);
    }
    if o.out.join("manifest.json").exists() {
        bail!("{} already holds prepared data; choose another --out or remove it", o.out.display());
    }
    let tokenizer = o.tokenizer.load(&o.data_dir)?;
    let mut sources = Vec::new();
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    let read = |p: &PathBuf| -> Result<(String, Vec<u8>)> {
        let bytes = std::fs::read(p).with_context(|| format!("cannot read {} (check the path)", p.display()))?;
        let text = String::from_utf8(bytes.clone()).with_context(|| format!("{} is not UTF-8 text", p.display()))?;
        Ok((text, bytes))
    };
    for p in &texts {
        let (text, bytes) = read(p)?;
        let ids = tokenizer.encode(&text)?;
        let cut = if o.validation.is_empty() { ((ids.len() as f64) * (1.0 - o.validation_fraction)).round() as usize } else { ids.len() };
        train.extend_from_slice(&ids[..cut]);
        valid.extend_from_slice(&ids[cut..]);
        sources.push(Source {
            path: p.display().to_string(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            train_tokens: cut as u64,
            validation_tokens: (ids.len() - cut) as u64,
        });
    }
    for p in &validation {
        let (text, bytes) = read(p)?;
        let ids = tokenizer.encode(&text)?;
        valid.extend_from_slice(&ids);
        sources.push(Source {
            path: p.display().to_string(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            train_tokens: 0,
            validation_tokens: ids.len() as u64,
        });
    }
    if train.len() < 2 || valid.len() < 2 {
        bail!("too little text: {} training and {} validation tokens; give more text", train.len(), valid.len());
    }
    std::fs::create_dir_all(&o.out).with_context(|| format!("cannot create {} (is its parent writable?)", o.out.display()))?;
    let vocab = tokenizer.vocab_size();
    let wide = vocab > u32::from(u16::MAX) + 1;
    let shard = |name: &str, tokens: &[u32]| -> Result<Shard> {
        let bytes = encode_shard(tokens, wide);
        write_atomic(&o.out.join(name), &bytes)?;
        Ok(Shard { file: name.to_string(), tokens: tokens.len() as u64, sha256: sha256_hex(&bytes) })
    };
    let manifest = Manifest {
        format: 1,
        tokenizer: o.tokenizer,
        vocab_size: vocab,
        dtype: if wide { "u32" } else { "u16" }.into(),
        split: if o.validation.is_empty() {
            format!("the last {:.0}% of each text's tokens", o.validation_fraction * 100.0)
        } else {
            "separate validation texts".into()
        },
        validation_set,
        unigram_entropy_nats: unigram_entropy(&train, vocab),
        train: shard("train.tokens", &train)?,
        validation: shard("validation.tokens", &valid)?,
        sources,
    };
    write_atomic(&o.out.join("manifest.json"), serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    Ok(manifest)
}

/// A prepared folder, loaded.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Its manifest.
    pub manifest: Manifest,
    /// Training tokens.
    pub train: Vec<u32>,
    /// Validation tokens.
    pub validation: Vec<u32>,
}

impl Dataset {
    /// Opens a prepared folder, checking the shards against the manifest.
    pub fn open(dir: &Path) -> Result<Dataset> {
        let manifest = Manifest::read(dir)?;
        let wide = manifest.dtype == "u32";
        let load = |s: &Shard| -> Result<Vec<u32>> {
            let bytes = std::fs::read(dir.join(&s.file)).with_context(|| format!("cannot read shard {} in {}", s.file, dir.display()))?;
            if sha256_hex(&bytes) != s.sha256 {
                bail!("shard {} in {} does not match its manifest (sha256); prepare the folder again", s.file, dir.display());
            }
            let tokens: Vec<u32> = if wide {
                bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
            } else {
                bytes.chunks_exact(2).map(|c| u32::from(u16::from_le_bytes([c[0], c[1]]))).collect()
            };
            if tokens.iter().any(|&t| t >= manifest.vocab_size) {
                bail!("shard {} holds a token outside the vocabulary of {}", s.file, manifest.vocab_size);
            }
            Ok(tokens)
        };
        let (train, validation) = (load(&manifest.train)?, load(&manifest.validation)?);
        Ok(Dataset { manifest, train, validation })
    }

    /// The windows of `seq + 1` tokens of one micro-batch: a pure function of (seed, step, micro), so a
    /// resumed run reads the same batches. Row-major `[batch, seq + 1]`.
    pub fn batch(&self, seed: u64, step: u64, micro: u64, batch: usize, seq: usize) -> Vec<i64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(step.wrapping_mul(1 << 16).wrapping_add(micro));
        let span = (self.train.len() - seq - 1) as u64 + 1;
        let mut out = Vec::with_capacity(batch * (seq + 1));
        for _ in 0..batch {
            let start = (rng.next_u64() % span) as usize;
            out.extend(self.train[start..start + seq + 1].iter().map(|&t| i64::from(t)));
        }
        out
    }

    /// Contiguous, non-overlapping validation windows of `seq + 1` tokens (at most `max_tokens` tokens),
    /// grouped into batches of `batch` windows.
    pub fn validation_batches(&self, batch: usize, seq: usize, max_tokens: usize) -> Vec<(usize, Vec<i64>)> {
        let windows: Vec<&[u32]> =
            self.validation.windows(seq + 1).step_by(seq).take((max_tokens / seq).max(1)).filter(|w| w.len() == seq + 1).collect();
        windows.chunks(batch).map(|c| (c.len(), c.iter().flat_map(|w| w.iter().map(|&t| i64::from(t))).collect())).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn unigram_entropy_of_known_distributions() {
        // Two equally likely tokens: ln 2; one token: 0.
        assert!((unigram_entropy(&[1, 2, 1, 2], 4) - std::f64::consts::LN_2).abs() < 1e-12);
        assert_eq!(unigram_entropy(&[3, 3, 3], 4), 0.0);
    }

    #[test]
    fn gpt2_tokens_are_the_published_ids() {
        // "Hello world" is [15496, 995] in GPT-2's vocabulary (r50k_base).
        let dir = Path::new("/nonexistent");
        assert_eq!(TokenizerKind::Gpt2.load(dir).unwrap().encode("Hello world").unwrap(), vec![15496, 995]);
        assert_eq!(TokenizerKind::Bytes.load(dir).unwrap().encode("Hi").unwrap(), vec![72, 105]);
        assert!(TokenizerKind::Qwen25.load(dir).unwrap_err().to_string().contains("rooflaw data fetch qwen2.5"));
    }
}
