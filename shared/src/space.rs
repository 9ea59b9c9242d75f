//! Design spaces as data: a named space lists every axis (SCIENCE.md §5). A grid is enumerated with
//! its validity rules; a continuous space is sampled by a seeded Latin hypercube and each draw rounded
//! to a valid architecture. Built in: `paper-table5` (the paper's Table 5 with its missing axes stated
//! as assumptions) and `wide`.

use std::sync::OnceLock;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::arch::{Architecture, ArchitectureSpec, QkNorm};
use crate::error::{Error, Result};
use crate::fit::uniform;

/// A KV-head count on a grid axis: a number, or `"all"` for n_kv = n_h (plain multi-head attention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KvHeads {
    /// A fixed count (kept only where it divides n_h).
    Count(u64),
    /// n_kv = n_h.
    All(AllHeads),
}

/// The literal `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllHeads {
    /// n_kv = n_h.
    All,
}

/// A grid: every combination of the listed values that makes a valid architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpace {
    /// Name.
    pub name: String,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// Depths.
    pub layers: Vec<u64>,
    /// Widths.
    pub d_model: Vec<u64>,
    /// Head dims (n_h = d / head_dim).
    pub head_dim: Vec<u64>,
    /// KV-head counts.
    pub kv_heads: Vec<KvHeads>,
    /// FFN ratios over the active experts.
    pub ffn_ratio: Vec<f64>,
    /// (E, K) pairs.
    pub experts: Vec<[u64; 2]>,
    /// Vocabulary.
    pub vocab_size: u64,
    /// Tied embeddings.
    pub tied_embeddings: bool,
    /// QK-norm.
    pub qk_norm: QkNorm,
    /// What the space assumes where its source is silent.
    #[serde(default)]
    pub assumptions: Vec<String>,
}

/// A numeric range axis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Rounding step (integers: 1).
    #[serde(default)]
    pub step: Option<f64>,
    /// Sample on a log scale.
    #[serde(default)]
    pub log: bool,
}

impl Range {
    fn at(&self, u: f64) -> f64 {
        let v = if self.log { (self.min.ln() + u * (self.max.ln() - self.min.ln())).exp() } else { self.min + u * (self.max - self.min) };
        match self.step {
            Some(s) => ((v / s).round() * s).clamp(self.min, self.max),
            None => v,
        }
    }
}

/// A continuous space for sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContinuousSpace {
    /// Name.
    pub name: String,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// Depth range (rounded to integers).
    pub layers: Range,
    /// Width range (rounded to `step`, which must be a multiple of every head dim).
    pub d_model: Range,
    /// Head dims to draw from.
    pub head_dim: Vec<u64>,
    /// FFN ratio range.
    pub ffn_ratio: Range,
    /// Expert count range (rounded to integers).
    pub experts: Range,
    /// Active-expert range (rounded, capped at E).
    pub active_experts: Range,
    /// Vocabulary.
    pub vocab_size: u64,
    /// Tied embeddings.
    pub tied_embeddings: bool,
    /// QK-norm.
    pub qk_norm: QkNorm,
    /// What the space assumes.
    #[serde(default)]
    pub assumptions: Vec<String>,
}

/// A design space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DesignSpace {
    /// Enumerated exhaustively.
    Grid(GridSpace),
    /// Sampled.
    Continuous(ContinuousSpace),
}

/// Dimensions of a continuous space's unit cube: layers, d_model, head_dim, kv choice, r, E, K.
pub const UNIT_DIMS: usize = 7;

/// An architecture from a space, with its unit-cube coordinates when it was sampled (for refinement).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The architecture.
    pub arch: Architecture,
    /// Where it was drawn in the unit cube (None for grid points and reference models).
    pub unit: Option<[f64; UNIT_DIMS]>,
}

impl DesignSpace {
    /// Name.
    pub fn name(&self) -> &str {
        match self {
            DesignSpace::Grid(g) => &g.name,
            DesignSpace::Continuous(c) => &c.name,
        }
    }

    /// Assumptions.
    pub fn assumptions(&self) -> &[String] {
        match self {
            DesignSpace::Grid(g) => &g.assumptions,
            DesignSpace::Continuous(c) => &c.assumptions,
        }
    }

    /// A copy with another vocabulary and embedding tying (used by `match`).
    pub fn with_vocab(&self, vocab_size: u64, tied: bool) -> DesignSpace {
        let mut s = self.clone();
        match &mut s {
            DesignSpace::Grid(g) => {
                g.vocab_size = vocab_size;
                g.tied_embeddings = tied;
            }
            DesignSpace::Continuous(c) => {
                c.vocab_size = vocab_size;
                c.tied_embeddings = tied;
            }
        }
        s
    }

    /// The space's candidates and how many combinations (grid) or draws (continuous: `samples` seeded
    /// Latin-hypercube draws) were tried to get them; `samples` and `seed` are ignored for a grid.
    pub fn candidates(&self, samples: usize, seed: u64) -> Result<(u64, Vec<Candidate>)> {
        match self {
            DesignSpace::Grid(g) => Ok(enumerate_grid(g)),
            DesignSpace::Continuous(c) => {
                if samples == 0 {
                    return Err(Error::invalid("samples", "a continuous space needs at least 1 draw, got 0", "use e.g. 50000"));
                }
                Ok((samples as u64, latin_hypercube(c, samples, seed)))
            }
        }
    }

    /// Parses a space JSON (the shape of `data/spaces.json` entries).
    pub fn from_json(text: &str, what: &str) -> Result<DesignSpace> {
        serde_json::from_str(text)
            .map_err(|e| Error::parse(what, format!("{e}; expected a grid or a continuous space shaped like the built-in ones")))
    }
}

/// Raw combinations on the grid (before validity rules), and the valid, distinct architectures.
pub fn enumerate_grid(g: &GridSpace) -> (u64, Vec<Candidate>) {
    let mut raw = 0u64;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &l in &g.layers {
        for &d in &g.d_model {
            for &hd in &g.head_dim {
                for &kv in &g.kv_heads {
                    for &r in &g.ffn_ratio {
                        for &[e, k] in &g.experts {
                            raw += 1;
                            if hd == 0 || !d.is_multiple_of(hd) {
                                continue;
                            }
                            let heads = d / hd;
                            let kv_heads = match kv {
                                KvHeads::Count(n) => n,
                                KvHeads::All(_) => heads,
                            };
                            let spec = ArchitectureSpec {
                                layers: l,
                                d_model: d,
                                heads,
                                kv_heads: Some(kv_heads),
                                head_dim: Some(hd),
                                ffn_ratio: Some(r),
                                experts: Some(e),
                                active_experts: Some(k),
                                vocab_size: g.vocab_size,
                                tied_embeddings: g.tied_embeddings,
                                qk_norm: g.qk_norm,
                                ..Default::default()
                            };
                            if let Ok(a) = spec.validate() {
                                if seen.insert((l, d, hd, a.kv_heads, a.intermediate_size, e, k)) {
                                    out.push(Candidate { arch: a, unit: None });
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (raw, out)
}

/// Maps a point of the unit cube to a valid architecture of the space (or None when rounding cannot
/// make one, e.g. a width no head dim divides).
pub fn architecture_at(c: &ContinuousSpace, u: &[f64; UNIT_DIMS]) -> Option<Architecture> {
    let pick = |list_len: usize, x: f64| ((x * list_len as f64) as usize).min(list_len.saturating_sub(1));
    let layers = c.layers.at(u[0]).round().max(1.0) as u64;
    let d = c.d_model.at(u[1]).round() as u64;
    let hd = *c.head_dim.get(pick(c.head_dim.len(), u[2]))?;
    if hd == 0 || !d.is_multiple_of(hd) {
        return None;
    }
    let heads = d / hd;
    let divisors: Vec<u64> = (1..=heads).filter(|k| heads.is_multiple_of(*k)).collect();
    let kv = divisors[pick(divisors.len(), u[3])];
    let e = c.experts.at(u[5]).round().max(1.0) as u64;
    let k = if e == 1 { 1 } else { (c.active_experts.at(u[6]).round() as u64).clamp(1, e) };
    let r = c.ffn_ratio.at(u[4]);
    ArchitectureSpec {
        layers,
        d_model: d,
        heads,
        kv_heads: Some(kv),
        head_dim: Some(hd),
        ffn_ratio: Some(r),
        experts: Some(e),
        active_experts: Some(k),
        vocab_size: c.vocab_size,
        tied_embeddings: c.tied_embeddings,
        qk_norm: c.qk_norm,
        ..Default::default()
    }
    .validate()
    .ok()
}

/// `n` seeded Latin-hypercube draws of a continuous space, rounded to valid architectures; draws that
/// cannot be rounded are dropped (the returned count says how many were valid).
pub fn latin_hypercube(c: &ContinuousSpace, n: usize, seed: u64) -> Vec<Candidate> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut columns: Vec<Vec<f64>> = (0..UNIT_DIMS)
        .map(|_| {
            let mut col: Vec<f64> = (0..n).map(|k| (k as f64 + uniform(&mut rng)) / n as f64).collect();
            for i in (1..col.len()).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                col.swap(i, j);
            }
            col
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let mut u = [0.0; UNIT_DIMS];
        for (dim, col) in columns.iter_mut().enumerate() {
            u[dim] = col[k];
        }
        if let Some(arch) = architecture_at(c, &u) {
            out.push(Candidate { arch, unit: Some(u) });
        }
    }
    out
}

/// Draws around a unit-cube point (Gaussian steps of `sigma`, clamped into the cube), for refinement.
pub fn perturb(c: &ContinuousSpace, center: &[f64; UNIT_DIMS], sigma: f64, rng: &mut ChaCha8Rng) -> Option<Candidate> {
    let mut u = *center;
    for x in &mut u {
        let g = crate::fit::gaussian(rng);
        *x = (*x + sigma * g).clamp(0.0, 1.0 - 1e-12);
    }
    architecture_at(c, &u).map(|arch| Candidate { arch, unit: Some(u) })
}

/// The built-in spaces.
pub fn builtin_spaces() -> &'static [DesignSpace] {
    static SPACES: OnceLock<Vec<DesignSpace>> = OnceLock::new();
    SPACES.get_or_init(|| {
        #[derive(Deserialize)]
        struct File {
            spaces: Vec<DesignSpace>,
        }
        #[allow(clippy::expect_used)] // reason: embedded data, enumerated in `table5_counts`
        let f: File = serde_json::from_str(include_str!("../data/spaces.json")).expect("embedded spaces.json is valid");
        f.spaces
    })
}

/// A built-in space by name.
pub fn find_space(name: &str) -> Result<&'static DesignSpace> {
    builtin_spaces().iter().find(|s| s.name().eq_ignore_ascii_case(name.trim())).ok_or_else(|| Error::Unknown {
        kind: "design space",
        name: name.to_string(),
        fix: format!(
            "built-in spaces: {}; or give a space JSON file",
            builtin_spaces().iter().map(DesignSpace::name).collect::<Vec<_>>().join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn table5_counts() {
        let DesignSpace::Grid(g) = find_space("paper-table5").unwrap() else { panic!("grid") };
        let (raw, valid) = enumerate_grid(g);
        // 8 depths × 9 widths × 5 (E, K) × 5 n_kv × 4 r = 7,200 combinations (the paper's 1,800 × 4 ratios).
        assert_eq!(raw, 7_200);
        // Hand count of n_kv ∈ {1, 2, 4, 8, n_h} dividing n_h = d/64 per width: 768 → 12: {1,2,4,12};
        // 1024 → 16: 5; 1280 → 20: 4; 1536 → 24: 5; 1792 → 28: 4; 2048 → 32: 5; 2304 → 36: 4; 2560 → 40: 5;
        // 3072 → 48: 5. Sum 41, × 8 depths × 5 (E, K) × 4 r = 6,560.
        assert_eq!(valid.len(), 6_560);
        assert!(valid.iter().all(|c| c.arch.validate_again()));
    }

    #[test]
    fn candidates_dispatch_on_the_kind_of_space() {
        assert_eq!(find_space("paper-table5").unwrap().candidates(0, 1).unwrap().0, 7_200);
        let wide = find_space("wide").unwrap();
        let (tried, c) = wide.candidates(500, 3).unwrap();
        let DesignSpace::Continuous(cs) = wide else { panic!("continuous") };
        assert_eq!((tried, c), (500, latin_hypercube(cs, 500, 3)));
        assert!(wide.candidates(0, 1).unwrap_err().to_string().starts_with("samples: a continuous space needs at least 1 draw"));
    }

    #[test]
    fn latin_hypercube_is_seeded_and_valid() {
        let DesignSpace::Continuous(c) = find_space("wide").unwrap() else { panic!("continuous") };
        let a = latin_hypercube(c, 2_000, 42);
        let b = latin_hypercube(c, 2_000, 42);
        assert_eq!(a, b);
        assert!(a.len() > 1_900, "{}", a.len());
        assert_ne!(a, latin_hypercube(c, 2_000, 43));
        // Stratification: exactly one draw per 1/n slice of every axis.
        let mut slices: Vec<usize> = a.iter().map(|c| (c.unit.unwrap()[0] * 2_000.0) as usize).collect();
        slices.sort_unstable();
        slices.dedup();
        assert_eq!(slices.len(), a.len());
        assert!(a.iter().any(|c| c.arch.is_moe()) && a.iter().any(|c| !c.arch.is_moe()));
    }
}
