//! Roofline latency: each operator takes max(F/π, M/β) (Eq. 3), summed over operators, layers and
//! decode steps (Eq. 4); the calibrated level of SCIENCE.md §4.3 scales the ceilings by efficiencies
//! η_c, η_m and adds fixed per-layer and per-token overheads. Closed forms Eq. 29 / 37 / 42 cross-check.
//!
//! A roofline is a bound, not a measurement: the paper and roofline levels are what the hardware could
//! do at best; only the calibrated level is meant to match a stopwatch, and it carries its fit error.

use serde::{Deserialize, Serialize};

use crate::arch::Architecture;
use crate::cost::{visit_operators, Cost, Operator, OperatorSet, Phase};
use crate::error::{Error, Result};
use crate::hardware::Device;
use crate::precision::{MathPrecision, Precision};
use crate::workload::Workload;

/// What a candidate is priced on: a device in a power mode, a workload and a precision, checked once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// Device id.
    pub device_id: String,
    /// Power mode.
    pub power_mode: String,
    /// Workload.
    pub workload: Workload,
    /// Element types.
    pub precision: Precision,
    /// Precision of the matrix units.
    pub math: MathPrecision,
    /// π for that precision.
    pub peak_flops_per_sec: f64,
    /// β.
    pub mem_bandwidth_bytes_per_sec: f64,
    /// Memory usable for the model.
    pub usable_memory_bytes: f64,
}

impl Target {
    /// Checks that `device` can run `precision` in `power_mode` and fixes the two ceilings.
    pub fn new(device: &Device, power_mode: Option<&str>, workload: Workload, precision: Precision) -> Result<Self> {
        let profile = device.profile(power_mode)?;
        let math = precision.math()?;
        let peak = profile.peak_flops(math, device)?;
        Ok(Target {
            device_id: profile.device_id,
            power_mode: profile.power_mode,
            workload,
            precision,
            math,
            peak_flops_per_sec: peak,
            mem_bandwidth_bytes_per_sec: profile.mem_bandwidth_bytes_per_sec,
            usable_memory_bytes: profile.usable_memory_bytes,
        })
    }

    /// Ridge point π/β in FLOP per byte: operators above it are compute-bound.
    pub fn ridge_flops_per_byte(&self) -> f64 {
        self.peak_flops_per_sec / self.mem_bandwidth_bytes_per_sec
    }
}

/// Efficiencies and overheads of the calibrated model (SCIENCE.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Efficiency {
    /// η_c: fraction of peak compute reached.
    pub compute: f64,
    /// η_m: fraction of peak bandwidth reached.
    pub memory: f64,
    /// Fixed time per layer per forward pass (kernel launches, synchronisation).
    pub layer_overhead_secs: f64,
    /// Fixed time per forward pass (sampling, host work).
    pub token_overhead_secs: f64,
    /// η_e: the fraction of η_c that a mixture-of-experts model's expert FFN GEMMs reach on compute
    /// (each expert multiplies only the few tokens routed to it: small grouped GEMMs, further below the
    /// compute roof; their weight streaming keeps η_m). 1 for dense models and for profiles fitted
    /// without MoE rows.
    #[serde(default = "one")]
    pub expert_efficiency: f64,
    /// Fixed time per distinct routed expert per MoE layer per forward pass (routing, gathering,
    /// launching each expert's GEMMs).
    #[serde(default)]
    pub expert_overhead_secs: f64,
}

fn one() -> f64 {
    1.0
}

impl Efficiency {
    /// The ideal roofline: peak ceilings, no overhead.
    pub const PEAK: Efficiency = Efficiency {
        compute: 1.0,
        memory: 1.0,
        layer_overhead_secs: 0.0,
        token_overhead_secs: 0.0,
        expert_efficiency: 1.0,
        expert_overhead_secs: 0.0,
    };

    /// Roofline efficiencies η_c and η_m with no overheads and no MoE terms.
    pub fn ceilings(compute: f64, memory: f64) -> Efficiency {
        Efficiency { compute, memory, ..Efficiency::PEAK }
    }

    /// Checks the ranges (0 < η ≤ 1, overheads ≥ 0).
    pub fn validate(&self) -> Result<()> {
        for (field, v) in [("eta_compute", self.compute), ("eta_memory", self.memory), ("expert_efficiency", self.expert_efficiency)] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(Error::invalid(field, format!("must be in (0, 1], got {v}"), "an efficiency is a fraction of peak"));
            }
        }
        for (field, v) in [
            ("layer_overhead_secs", self.layer_overhead_secs),
            ("token_overhead_secs", self.token_overhead_secs),
            ("expert_overhead_secs", self.expert_overhead_secs),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(field, format!("must be ≥ 0, got {v}"), "overheads are seconds"));
            }
        }
        Ok(())
    }
}

/// Model level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Level {
    /// The paper's operator table at peak (reproduces the paper).
    Paper,
    /// Every operator an engine runs, at peak: the tightest honest bound.
    Roofline,
    /// Every operator, at fitted efficiencies plus overheads: meant to match measurements.
    Calibrated,
}

impl Level {
    /// All levels, in report order.
    pub const ALL: [Level; 3] = [Level::Paper, Level::Roofline, Level::Calibrated];

    /// Operator set priced at this level.
    pub fn operator_set(self) -> OperatorSet {
        match self {
            Level::Paper => OperatorSet::Paper,
            Level::Roofline | Level::Calibrated => OperatorSet::Full,
        }
    }

    /// Name used in tables and JSON keys.
    pub fn name(self) -> &'static str {
        match self {
            Level::Paper => "paper",
            Level::Roofline => "roofline",
            Level::Calibrated => "calibrated",
        }
    }

    /// Parses `paper|roofline|calibrated` (any case, surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Level> {
        let key = s.trim().to_ascii_lowercase();
        Level::ALL.into_iter().find(|l| l.name() == key).ok_or_else(|| Error::Unknown {
            kind: "level",
            name: s.to_string(),
            fix: "use paper, roofline or calibrated".to_string(),
        })
    }
}

/// Latency of one request (all sequences of the batch together).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Latency {
    /// Prefill of the prompt.
    pub prefill_secs: f64,
    /// All S_out decode steps.
    pub decode_secs: f64,
    /// Mean time of one decode step.
    pub decode_per_token_secs: f64,
    /// Prefill plus decode.
    pub total_secs: f64,
}

/// Σ over integer x in [lo, hi] of max(a + b·x, c + e·x), exactly, in O(1).
#[inline]
fn sum_max_linear(a: f64, b: f64, c: f64, e: f64, lo: f64, hi: f64) -> f64 {
    if hi < lo {
        return 0.0;
    }
    if b == 0.0 && e == 0.0 {
        // Most decode operators do not grow with the context.
        return (hi - lo + 1.0) * a.max(c);
    }
    // Σ_{x=from..=to} (p + q·x)
    let series = |p: f64, q: f64, from: f64, to: f64| if to < from { 0.0 } else { (to - from + 1.0) * (p + q * (from + to) / 2.0) };
    if b == e {
        return if a >= c { series(a, b, lo, hi) } else { series(c, e, lo, hi) };
    }
    // First line wins where (a − c) + (b − e)·x ≥ 0.
    let cross = (c - a) / (b - e);
    if b > e {
        let split = cross.ceil().clamp(lo, hi + 1.0); // first x where the first line wins
        series(c, e, lo, split - 1.0) + series(a, b, split, hi)
    } else {
        let split = cross.floor().clamp(lo - 1.0, hi); // last x where the first line wins
        series(a, b, lo, split) + series(c, e, split + 1.0, hi)
    }
}

/// The effective ceilings of a level on a target, and the decode contexts to sum over.
struct Pricing {
    eff: Efficiency,
    inv_pi: f64,
    inv_beta: f64,
    /// 1/(η_e·η_c·π): the compute ceiling of a MoE model's expert FFN operators.
    inv_pi_expert: f64,
    /// First and last decode context, S_in + 1 and S_in + S_out.
    lo: f64,
    hi: f64,
}

impl Pricing {
    fn new(arch: &Architecture, t: &Target, level: Level, efficiency: &Efficiency) -> Self {
        let eff = if level == Level::Calibrated { *efficiency } else { Efficiency::PEAK };
        let w = &t.workload;
        Pricing {
            eff,
            inv_pi_expert: 1.0 / (eff.compute * t.peak_flops_per_sec) / if arch.is_moe() { eff.expert_efficiency } else { 1.0 },
            // Reciprocals: the frontier prices millions of operators, and a multiply is cheaper than a divide.
            inv_pi: 1.0 / (eff.compute * t.peak_flops_per_sec),
            inv_beta: 1.0 / (eff.memory * t.mem_bandwidth_bytes_per_sec),
            lo: w.prompt_tokens as f64 + 1.0,
            hi: (w.prompt_tokens + w.generated_tokens) as f64,
        }
    }

    /// Seconds of one execution of `op` over a phase: max(F/π, M/β) for the prefill (Eq. 3), its exact
    /// sum over every decode step otherwise (Eq. 4). Inlined: it runs for every operator of every candidate.
    #[inline(always)]
    fn op_secs(&self, op: &Operator, phase: Phase) -> f64 {
        self.op_secs_at(op, phase, self.inv_pi)
    }

    #[inline(always)]
    fn op_secs_at(&self, op: &Operator, phase: Phase, inv_pi: f64) -> f64 {
        match phase {
            Phase::Prefill => (op.base.flops * inv_pi).max(op.base.bytes() * self.inv_beta),
            Phase::Decode => {
                let (a, b) = (op.base.flops * inv_pi, op.per_context.flops * inv_pi);
                let (c, e) = (op.base.bytes() * self.inv_beta, op.per_context.bytes() * self.inv_beta);
                if self.hi <= op.window {
                    sum_max_linear(a, b, c, e, self.lo, self.hi)
                } else {
                    // A sliding window: contexts past W cost what W costs.
                    let w = op.window.floor();
                    let capped = (self.hi - self.lo.max(w + 1.0) + 1.0) * (a + b * w).max(c + e * w);
                    sum_max_linear(a, b, c, e, self.lo, self.hi.min(w)) + capped
                }
            }
        }
    }

    /// Seconds of one execution of `op`, a MoE model's expert GEMMs at their own compute ceiling.
    #[inline(always)]
    fn scaled_op_secs(&self, op: &Operator, phase: Phase) -> f64 {
        if self.inv_pi_expert != self.inv_pi && is_expert_op(op.name) {
            self.op_secs_at(op, phase, self.inv_pi_expert)
        } else {
            self.op_secs(op, phase)
        }
    }

    /// Fixed overheads of a phase: l·t_layer + t_token per forward pass, and for a MoE model
    /// t_expert per distinct routed expert per MoE layer.
    fn fixed_secs(&self, arch: &Architecture, t: &Target, phase: Phase) -> f64 {
        let passes = match phase {
            Phase::Prefill => 1.0,
            Phase::Decode => t.workload.generated_tokens as f64,
        };
        let experts = if arch.is_moe() && self.eff.expert_overhead_secs > 0.0 {
            routed_experts_per_pass(arch, t, phase) * self.eff.expert_overhead_secs
        } else {
            0.0
        };
        passes * (arch.layers as f64 * self.eff.layer_overhead_secs + arch.moe_layers() as f64 * experts + self.eff.token_overhead_secs)
    }
}

/// Whether an operator is one of a MoE layer's expert FFN GEMMs (the shared expert, where there is
/// one, runs inside them).
fn is_expert_op(name: &str) -> bool {
    matches!(name, "ffn_gate" | "ffn_up" | "ffn_down")
}

/// Distinct routed experts one MoE layer runs in one forward pass of `phase`: those the pass's tokens
/// touch (B·S_in in a prefill, B in a decode step) under uniform top-K routing.
pub fn routed_experts_per_pass(arch: &Architecture, t: &Target, phase: Phase) -> f64 {
    let w = &t.workload;
    let tokens = match phase {
        Phase::Prefill => (w.batch * w.prompt_tokens) as f64,
        Phase::Decode => w.batch as f64,
    };
    crate::cost::experts_touched(arch.experts, arch.active_experts, tokens)
}

/// Operator seconds of one phase at the calibrated level, split into a MoE model's expert FFN
/// operators and the rest, without fixed overheads: the terms a calibration fits the overheads on.
pub fn phase_parts(arch: &Architecture, t: &Target, efficiency: &Efficiency, phase: Phase) -> (f64, f64) {
    let pricing = Pricing::new(arch, t, Level::Calibrated, efficiency);
    let moe = arch.is_moe();
    let (mut rest, mut experts) = (0.0, 0.0);
    visit_operators(arch, &t.workload, &t.precision, phase, OperatorSet::Full, |op| {
        let secs = op.repeats * pricing.scaled_op_secs(&op, phase);
        if moe && is_expert_op(op.name) {
            experts += secs;
        } else {
            rest += secs;
        }
    });
    (rest, experts)
}

/// Latency of one phase (the prefill, or all decode steps) with its fixed overheads: what a frontier
/// search on a single-phase objective needs, at half the cost of [`latency`].
pub fn phase_latency(arch: &Architecture, t: &Target, level: Level, efficiency: &Efficiency, phase: Phase) -> f64 {
    let pricing = Pricing::new(arch, t, level, efficiency);
    let mut secs = 0.0;
    visit_operators(arch, &t.workload, &t.precision, phase, level.operator_set(), |op| {
        secs += op.repeats * pricing.scaled_op_secs(&op, phase)
    });
    secs + pricing.fixed_secs(arch, t, phase)
}

/// End-to-end latency of `arch` at a level. `efficiency` is used only by [`Level::Calibrated`].
pub fn latency(arch: &Architecture, t: &Target, level: Level, efficiency: &Efficiency) -> Latency {
    let prefill_secs = phase_latency(arch, t, level, efficiency, Phase::Prefill);
    let decode_secs = phase_latency(arch, t, level, efficiency, Phase::Decode);
    let steps = t.workload.generated_tokens as f64;
    Latency {
        prefill_secs,
        decode_secs,
        decode_per_token_secs: if steps > 0.0 { decode_secs / steps } else { 0.0 },
        total_secs: prefill_secs + decode_secs,
    }
}

/// Whether an operator is limited by compute or by memory traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// F/π > M/β.
    Compute,
    /// M/β ≥ F/π.
    Memory,
}

/// One row of a per-operator breakdown: totals over layers (and over decode steps for decode).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorTiming {
    /// Operator name.
    pub name: &'static str,
    /// Phase.
    pub phase: Phase,
    /// Executions per forward pass.
    pub repeats: f64,
    /// FLOPs, bytes by class.
    #[serde(flatten)]
    pub cost: Cost,
    /// All bytes.
    pub bytes: f64,
    /// F/M in FLOP per byte.
    pub intensity_flops_per_byte: f64,
    /// Bound at the level's ceilings (for decode: of the summed totals).
    pub bound: Bound,
    /// Time at the level's ceilings, without fixed overheads.
    pub time_secs: f64,
}

/// Per-operator rows for a phase at a level; their `time_secs` add up to the phase latency less the
/// fixed overheads, their costs to [`crate::cost::phase_total`].
pub fn breakdown(arch: &Architecture, t: &Target, level: Level, efficiency: &Efficiency, phase: Phase) -> Vec<OperatorTiming> {
    let pricing = Pricing::new(arch, t, level, efficiency);
    let mut rows = Vec::new();
    visit_operators(arch, &t.workload, &t.precision, phase, level.operator_set(), |op| {
        let (one, secs) = (op.over_phase(phase, &t.workload), pricing.scaled_op_secs(&op, phase));
        let cost = one.scaled(op.repeats);
        let bytes = cost.bytes();
        rows.push(OperatorTiming {
            name: op.name,
            phase,
            repeats: op.repeats,
            cost,
            bytes,
            intensity_flops_per_byte: if bytes > 0.0 { cost.flops / bytes } else { f64::INFINITY },
            bound: if cost.flops * pricing.inv_pi > bytes * pricing.inv_beta { Bound::Compute } else { Bound::Memory },
            time_secs: op.repeats * secs,
        });
    });
    rows
}

/// One operator placed on a roofline plot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RooflinePoint {
    /// Index of the architecture among those plotted.
    pub series: usize,
    /// Phase (decode: summed over all steps).
    pub phase: Phase,
    /// Operator name.
    pub name: &'static str,
    /// Arithmetic intensity in FLOP per byte (the x axis).
    pub intensity_flops_per_byte: f64,
    /// FLOPs over time at the level (the y axis).
    pub attained_flops_per_sec: f64,
    /// Compute- or memory-bound.
    pub bound: Bound,
}

/// Every operator of each architecture that has FLOPs, bytes and time, for both phases: the points of a
/// roofline plot (the CLI's and the site's plots draw these).
pub fn roofline_points(archs: &[&Architecture], t: &Target, level: Level, efficiency: &Efficiency) -> Vec<RooflinePoint> {
    let mut points = Vec::new();
    for (series, a) in archs.iter().enumerate() {
        for phase in [Phase::Prefill, Phase::Decode] {
            for r in breakdown(a, t, level, efficiency, phase) {
                if r.cost.flops > 0.0 && r.bytes > 0.0 && r.time_secs > 0.0 {
                    points.push(RooflinePoint {
                        series,
                        phase,
                        name: r.name,
                        intensity_flops_per_byte: r.intensity_flops_per_byte,
                        attained_flops_per_sec: r.cost.flops / r.time_secs,
                        bound: r.bound,
                    });
                }
            }
        }
    }
    points
}

/// ξ_F = 4 + 4/gqa + 6r: FLOPs per token per layer per d² (Eq. 21–26).
pub fn xi_flops(gqa: f64, r: f64) -> f64 {
    4.0 + 4.0 / gqa + 6.0 * r
}

/// ξ_W^dec = 2 + 2/gqa + 3r: weights read per decode step per layer per d²·b_w.
pub fn xi_weights_decode(gqa: f64, r: f64) -> f64 {
    2.0 + 2.0 / gqa + 3.0 * r
}

/// ξ_W^all = 2 + 2/gqa + 3r/ρ: weights stored per layer per d²·b_w (all experts).
pub fn xi_weights_all(gqa: f64, r: f64, rho: f64) -> f64 {
    2.0 + 2.0 / gqa + 3.0 * r / rho
}

/// The paper's closed forms (App. E.5–E.7). They assume d = n_h·d_h, a compute-bound prefill and a
/// bandwidth-bound decode, and ignore attention's S² terms, activations, embeddings and the MoE
/// distinct-experts charge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClosedForm {
    /// Eq. 29: T_pre = l·B·S_in·d²·ξ_F / π.
    pub prefill_secs: f64,
    /// Eq. 37: T_dec = (l·S_out/β)·[ξ_W^dec·d²·b_w + 2·S̄·d·b_kv/gqa].
    pub decode_secs: f64,
    /// Eq. 42: M = l·ξ_W^all·d²·b_w.
    pub weight_bytes: f64,
}

/// Evaluates Eq. 29, 37 and 42.
pub fn closed_form(arch: &Architecture, t: &Target) -> ClosedForm {
    let (l, d) = (arch.layers as f64, arch.d_model as f64);
    let (gqa, r, rho) = (arch.gqa(), arch.ffn_ratio(), arch.rho());
    let w = &t.workload;
    let (bw, bkv) = (t.precision.weights.bytes(), t.precision.kv.bytes());
    ClosedForm {
        prefill_secs: l * w.batch as f64 * w.prompt_tokens as f64 * d * d * xi_flops(gqa, r) / t.peak_flops_per_sec,
        decode_secs: l * w.generated_tokens as f64 / t.mem_bandwidth_bytes_per_sec
            * (xi_weights_decode(gqa, r) * d * d * bw + 2.0 * w.mean_decode_context() * d * bkv / gqa),
        weight_bytes: l * xi_weights_all(gqa, r, rho) * d * d * bw,
    }
}

/// Memory a request needs on the device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Memory {
    /// Every stored weight (all experts, embedding, LM head if untied) at b_w.
    pub weight_bytes: f64,
    /// KV cache at the final length: 2·l·B·(S_in + S_out)·n_kv·d_h·b_kv (a sliding-window layer keeps
    /// min(S_in + S_out, W) tokens; multi-head latent attention caches l·B·(S_in + S_out)·(kv_lora_rank +
    /// qk_rope_head_dim) elements).
    pub kv_cache_bytes: f64,
    /// Peak activation working set of the prefill (estimate): the residual stream and the widest
    /// intermediate per token, fused attention (no score matrix), FP32 logits of the last position.
    pub activation_bytes: f64,
    /// Sum of the three.
    pub total_bytes: f64,
}

/// Memory footprint of a request.
pub fn memory_footprint(arch: &Architecture, w: &Workload, p: &Precision) -> Memory {
    let params = arch.params();
    let weight_bytes = params.total as f64 * p.weights.bytes();
    // Sliding-window layers keep the last W tokens only.
    let ctx = w.final_context() as f64;
    let sliding = arch.sliding_layers as f64;
    let cached_tokens = (arch.layers as f64 - sliding) * ctx + sliding * ctx.min(arch.sliding_window as f64);
    // Multi-head latent attention caches one latent and one RoPE key per token and layer, for all heads.
    let per_token = match &arch.mla {
        Some(m) => m.cache_width() as f64,
        None => 2.0 * arch.kv_width() as f64,
    };
    let kv_cache_bytes = w.batch as f64 * cached_tokens * per_token * p.kv.bytes();
    let tokens = w.batch as f64 * w.prompt_tokens as f64;
    let widest = ((arch.q_width() + 2 * arch.kv_width()) as f64).max(2.0 * arch.active_ffn_width() as f64);
    let activation_bytes =
        tokens * (2.0 * arch.d_model as f64 + widest) * p.activations.bytes() + w.batch as f64 * arch.vocab_size as f64 * 4.0;
    Memory { weight_bytes, kv_cache_bytes, activation_bytes, total_bytes: weight_bytes + kv_cache_bytes + activation_bytes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::ArchitectureSpec;
    use crate::cost::phase_total;
    use crate::hardware::Catalogue;
    use crate::models::find_model;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn orin(w: Workload, p: Precision) -> Target {
        let cat = Catalogue::default();
        Target::new(cat.get("jetson-agx-orin-64gb").unwrap(), None, w, p).unwrap()
    }

    #[test]
    fn sum_max_linear_matches_the_loop() {
        let cases = [(1.0, 0.5, 3.0, 0.1), (5.0, -0.2, 1.0, 0.3), (2.0, 1.0, 2.0, 1.0), (0.0, 0.0, 1.0, 0.0), (10.0, 0.01, 0.0, 0.02)];
        for (a, b, c, e) in cases {
            for (lo, hi) in [(1.0, 1.0), (1.0, 40.0), (7.0, 300.0), (5.0, 4.0)] {
                let mut want = 0.0;
                let mut x = lo;
                while x <= hi {
                    want += f64::max(a + b * x, c + e * x);
                    x += 1.0;
                }
                let got = sum_max_linear(a, b, c, e, lo, hi);
                assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{a} {b} {c} {e} [{lo},{hi}]: {got} vs {want}");
            }
        }
    }

    #[test]
    fn moe_terms_slow_the_experts_and_charge_each_routed_expert() {
        // 4 layers, 8 experts, top-2. Batch 1, 100-token prompt, 10 decode steps.
        let spec = ArchitectureSpec {
            layers: 4,
            d_model: 256,
            heads: 4,
            intermediate_size: Some(512),
            experts: Some(8),
            active_experts: Some(2),
            vocab_size: 1000,
            ..Default::default()
        };
        let a = spec.validate().unwrap();
        // A CPU-like device (ridge 12.9 FLOP/byte), where the prefill's expert GEMMs are compute-bound.
        let cpu = Device::custom("cpu", 180e9, 14e9, 16e9).unwrap();
        let t = Target::new(&cpu, None, Workload::new(1, 100, 10).unwrap(), Precision::preset("fp32").unwrap()).unwrap();
        let base = Efficiency::ceilings(0.5, 0.8);
        let slow = Efficiency { expert_efficiency: 0.25, ..base };
        let charged = Efficiency { expert_overhead_secs: 1e-5, ..base };
        let (pi, beta) = (t.peak_flops_per_sec, t.mem_bandwidth_bytes_per_sec);
        for phase in [Phase::Prefill, Phase::Decode] {
            let (rest, experts) = phase_parts(&a, &t, &base, phase);
            let at = |e: &Efficiency| phase_latency(&a, &t, Level::Calibrated, e, phase);
            assert!(experts > 0.0 && (at(&base) - (rest + experts)).abs() < 1e-15);
            // η_e = 1/4: the expert GEMMs' compute ceiling is η_e·η_c·π, their bandwidth stays η_m·β.
            // Priced here from the breakdown's raw FLOPs and bytes (a decode step at batch 1 is
            // memory-bound, so it does not slow down; the 100-token prefill is compute-bound, so it does).
            let by_hand: f64 = breakdown(&a, &t, Level::Roofline, &base, phase)
                .iter()
                .filter(|r| matches!(r.name, "ffn_gate" | "ffn_up" | "ffn_down"))
                .map(|r| match phase {
                    Phase::Prefill => (r.cost.flops / (0.25 * 0.5 * pi)).max(r.bytes / (0.8 * beta)),
                    Phase::Decode => r.bytes / (0.8 * beta),
                })
                .sum();
            assert!(
                (at(&slow) - (rest + by_hand)).abs() < 1e-9 * at(&slow),
                "{phase:?}: {} vs {} + {} (experts at base {})",
                at(&slow),
                rest,
                by_hand,
                experts
            );
            if phase == Phase::Prefill {
                assert!(by_hand > 1.5 * experts);
            } else {
                assert_eq!(at(&slow), at(&base));
            }
            // By hand: a decode step's one token touches its 2 experts, so 10 steps × 4 layers × 2 × 10 µs
            // = 0.8 ms; the 100-token prefill touches 8·(1 − (6/8)^100) ≈ 8 experts in each of the 4
            // layers: 32 × 10 µs = 0.32 ms.
            let want = if phase == Phase::Decode { 0.8e-3 } else { 0.32e-3 };
            assert!((at(&charged) - at(&base) - want).abs() < 1e-9, "{phase:?}: {}", at(&charged) - at(&base));
        }
        // The paper and roofline levels ignore the calibrated terms.
        let peak = Efficiency { expert_efficiency: 0.25, expert_overhead_secs: 1e-3, ..Efficiency::PEAK };
        assert_eq!(latency(&a, &t, Level::Roofline, &peak), latency(&a, &t, Level::Roofline, &Efficiency::PEAK));
    }

    #[test]
    fn a_sliding_window_caps_the_kv_cache_and_its_reads() {
        // Mistral 7B v0.1: 32 layers, 8 KV heads × 128, a 4,096-token window on every layer, FP16.
        let m = find_model("mistral-7b-v0.1").unwrap().architecture().unwrap();
        let w = Workload::new(1, 8192, 16).unwrap();
        let t = orin(w, Precision::FP16);
        // KV cache at 8,208 tokens holds the last 4,096: 2 × 32 × 4,096 × 1,024 × 2 B = 536,870,912 B.
        assert_eq!(memory_footprint(&m, &w, &t.precision).kv_cache_bytes, 536_870_912.0);
        // Each of the 16 decode steps reads 4,096 cached tokens' K and V in every layer:
        // 16 × 2 × 4,096 × 1,024 × 2 B × 32 = 8,589,934,592 B.
        let kv_read: f64 = breakdown(&m, &t, Level::Roofline, &Efficiency::PEAK, Phase::Decode)
            .iter()
            .filter(|r| r.name == "attention_sliding")
            .map(|r| r.cost.kv_read_bytes)
            .sum();
        assert_eq!(kv_read, 8_589_934_592.0);
        // Below the window a sliding layer is priced like a global one, step by step.
        let short = orin(Workload::new(1, 1000, 50).unwrap(), Precision::FP16);
        let mut global = m.to_spec();
        (global.sliding_window, global.sliding_layers) = (None, None);
        let global = global.validate().unwrap();
        for phase in [Phase::Prefill, Phase::Decode] {
            let (a, b) = (
                phase_latency(&m, &short, Level::Roofline, &Efficiency::PEAK, phase),
                phase_latency(&global, &short, Level::Roofline, &Efficiency::PEAK, phase),
            );
            assert!((a - b).abs() <= 1e-12 * b, "{phase:?}: {a} vs {b}");
        }
        // Past it, the windowed decode is the per-step loop with contexts capped at W.
        let long = orin(w, Precision::FP16);
        let got = latency(&m, &long, Level::Roofline, &Efficiency::PEAK).decode_secs;
        let mut want = 0.0;
        for k in 1..=w.generated_tokens {
            let ctx = (w.prompt_tokens + k) as f64;
            visit_operators(&m, &w, &long.precision, Phase::Decode, OperatorSet::Full, |op| {
                let c = op.at(ctx);
                want += op.repeats * (c.flops / long.peak_flops_per_sec).max(c.bytes() / long.mem_bandwidth_bytes_per_sec);
            });
        }
        assert!((got - want).abs() / want < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn decode_sum_equals_explicit_per_step_loop() {
        let a = find_model("qwen2.5-0.5b").unwrap().architecture().unwrap();
        let w = Workload::new(1, 200, 37).unwrap();
        let t = orin(w, Precision::FP16);
        let got = latency(&a, &t, Level::Roofline, &Efficiency::PEAK).decode_secs;
        let mut want = 0.0;
        for k in 1..=w.generated_tokens {
            let ctx = (w.prompt_tokens + k) as f64;
            visit_operators(&a, &w, &t.precision, Phase::Decode, OperatorSet::Full, |op| {
                let c = op.at(ctx);
                want += op.repeats * (c.flops / t.peak_flops_per_sec).max(c.bytes() / t.mem_bandwidth_bytes_per_sec);
            });
        }
        assert!((got - want).abs() / want < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn breakdown_rows_add_up_to_the_totals() {
        let a = find_model("olmoe-1b-7b").unwrap().architecture().unwrap();
        let t = orin(Workload::PAPER, Precision::FP16);
        let eff = Efficiency { compute: 0.6, memory: 0.7, layer_overhead_secs: 1e-4, token_overhead_secs: 2e-3, ..Efficiency::PEAK };
        for level in Level::ALL {
            let lat = latency(&a, &t, level, &eff);
            let fixed = if level == Level::Calibrated { 16.0 * 1e-4 + 2e-3 } else { 0.0 };
            for (phase, want, steps) in [(Phase::Prefill, lat.prefill_secs, 1.0), (Phase::Decode, lat.decode_secs, 16.0)] {
                let rows = breakdown(&a, &t, level, &eff, phase);
                let secs: f64 = rows.iter().map(|r| r.time_secs).sum();
                assert!((secs + steps * fixed - want).abs() / want < 1e-12, "{level:?} {phase:?}");
                let total = phase_total(&a, &t.workload, &t.precision, phase, level.operator_set());
                let flops: f64 = rows.iter().map(|r| r.cost.flops).sum();
                let bytes: f64 = rows.iter().map(|r| r.bytes).sum();
                assert!((flops - total.flops).abs() / total.flops < 1e-12 && (bytes - total.bytes()).abs() / total.bytes() < 1e-12);
            }
        }
    }

    fn paper_family(d: u64, heads: u64, kv: u64, r: f64, e: u64, k: u64) -> Architecture {
        ArchitectureSpec {
            layers: 12,
            d_model: d,
            heads,
            kv_heads: Some(kv),
            ffn_ratio: Some(r),
            experts: Some(e),
            active_experts: Some(k),
            vocab_size: 32_000,
            ..Default::default()
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn closed_forms_match_the_paper_operator_model_when_their_assumptions_hold() {
        let cat = Catalogue::default();
        let mut dev = cat.get("jetson-agx-orin-64gb").unwrap().clone();
        for a in [paper_family(2048, 16, 4, 4.0, 1, 1), paper_family(1024, 16, 16, 1.0, 8, 2), paper_family(3072, 24, 3, 0.5, 16, 1)] {
            // Prefill: make every operator compute-bound (β → ∞); Eq. 29 then differs from the operator sum
            // only by attention's S² terms, 4·B·S²·d + 5·B·n_h·S² per layer, which it drops.
            dev.power_modes[0].mem_bandwidth_bytes_per_sec = Some(1e30);
            let w = Workload::new(1, 64, 16).unwrap();
            let t = Target::new(&dev, None, w, Precision::FP16).unwrap();
            let cf = closed_form(&a, &t);
            let ops = latency(&a, &t, Level::Paper, &Efficiency::PEAK).prefill_secs;
            let s = 64.0;
            let attention = a.layers as f64 * (4.0 * s * s * a.d_model as f64 + 5.0 * a.heads as f64 * s * s) / t.peak_flops_per_sec;
            assert!((ops - (cf.prefill_secs + attention)).abs() / ops < 1e-12, "{}", a.name);
            assert!((ops - cf.prefill_secs) / ops < 0.02, "{}: S² terms should be small at S = 64", a.name);

            // Decode: make every operator memory-bound (π → ∞); Eq. 37 counts weights and KV reads only.
            dev.power_modes[0].mem_bandwidth_bytes_per_sec = Some(2.048e11);
            dev.power_modes[0].peak_flops_per_sec.as_mut().unwrap().fp16 = Some(1e30);
            let t = Target::new(&dev, None, w, Precision::FP16).unwrap();
            let cf = closed_form(&a, &t);
            let total = phase_total(&a, &w, &t.precision, Phase::Decode, OperatorSet::Paper);
            let eq37_bytes = total.weight_bytes + total.kv_read_bytes;
            assert!((eq37_bytes / t.mem_bandwidth_bytes_per_sec - cf.decode_secs).abs() / cf.decode_secs < 1e-12, "{}", a.name);
            let ops = latency(&a, &t, Level::Paper, &Efficiency::PEAK).decode_secs;
            assert!((ops - cf.decode_secs) / ops < 0.02, "{}: activation traffic should be small", a.name);
            dev.power_modes[0].peak_flops_per_sec.as_mut().unwrap().fp16 = Some(4.25984e13);

            // Eq. 42 equals the stored projection and expert weights (no biases, norms or embeddings here).
            let p = a.params();
            let stored = (p.attention + p.ffn_total) as f64 * 2.0;
            assert!((cf.weight_bytes - stored).abs() / stored < 1e-12, "{}", a.name);
        }
    }

    #[test]
    fn reference_report_for_qwen25_on_agx_orin() {
        // Hand calculation of the paper level from SCIENCE.md §4.1's table, FP16, B = 1, S = 1,024 on AGX
        // Orin MAXN (π = 42.6 TFLOP/s, β = 204.8 GB/s). d = 896, n_h = 14, kv width 128, FFN 4,864.
        let a = find_model("qwen2.5-0.5b").unwrap().architecture().unwrap();
        let t = orin(Workload::PAPER, Precision::FP16);
        let (pi, beta, s, d, kv, h, f) = (4.25984e13, 2.048e11, 1024.0, 896.0, 128.0, 14.0, 4864.0);
        let op = |flops: f64, bytes: f64| f64::max(flops / pi, bytes / beta);
        let q_or_o = op(2.0 * s * d * d, 2.0 * (d * d + 2.0 * s * d));
        let k_or_v = op(2.0 * s * d * kv, 2.0 * (d * kv + s * d + s * kv));
        let qk = op(2.0 * s * s * d, 2.0 * (s * kv + h * s * s)); // memory-bound: the score matrix
        let softmax = op(5.0 * h * s * s, 2.0 * 2.0 * h * s * s); // memory-bound
        let sv = op(2.0 * s * s * d, 2.0 * (s * kv + s * d));
        let ffn = op(2.0 * s * d * f, 2.0 * (d * f + s * d + s * f));
        let want = 24.0 * (2.0 * q_or_o + 2.0 * k_or_v + qk + softmax + sv + 3.0 * ffn);
        let got = latency(&a, &t, Level::Paper, &Efficiency::PEAK);
        assert!((got.prefill_secs - want).abs() / want < 1e-12, "{} vs {want}", got.prefill_secs);
        assert!((got.prefill_secs - 0.0286).abs() < 0.0005, "{}", got.prefill_secs);
        // Decode: reads ≈ 357.9 M non-embedding weights ×2 bytes per step, 16 steps at 204.8 GB/s ≈ 55.9 ms.
        let weights = 16.0 * 2.0 * 24.0 * (2.0 * 896.0 * 896.0 + 2.0 * 896.0 * 128.0 + 3.0 * 896.0 * 4864.0) / 2.048e11;
        assert!(got.decode_secs > weights && got.decode_secs < weights * 1.05, "{} vs {weights}", got.decode_secs);
        let m = memory_footprint(&a, &Workload::PAPER, &Precision::FP16);
        assert_eq!(m.weight_bytes, 2.0 * 494_032_768.0);
        assert_eq!(m.kv_cache_bytes, 2.0 * 24.0 * 1040.0 * 128.0 * 2.0);
    }
}
