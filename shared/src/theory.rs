//! Theory (SCIENCE.md §6, paper §5 and App. E.8–L): normalised budgets, regime ratios, the optimal
//! activation rate ρ*, depth l*, FFN ratio r* and GQA ratio gqa*, and the paper's worked example, with
//! its known inconsistencies reported rather than hidden.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::law::Coefficients;
use crate::roofline::{xi_flops, xi_weights_all, xi_weights_decode};

/// A device and budgets for the theory (SI units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TheoryInput {
    /// π.
    pub peak_flops_per_sec: f64,
    /// β.
    pub mem_bandwidth_bytes_per_sec: f64,
    /// Memory budget M.
    pub memory_budget_bytes: f64,
    /// Prefill latency target T_lat^pre (None: no prefill constraint).
    pub prefill_target_secs: Option<f64>,
    /// Decode latency target T_lat^dec for all S_out steps (None: no decode constraint).
    pub decode_target_secs: Option<f64>,
    /// Batch B.
    pub batch: f64,
    /// Prompt tokens S_in.
    pub prompt_tokens: f64,
    /// Generated tokens S_out.
    pub generated_tokens: f64,
    /// Bytes per weight b_w.
    pub weight_bytes: f64,
    /// Bytes per KV element b_kv.
    pub kv_bytes: f64,
    /// Width d at which the optima are evaluated.
    pub d_model: f64,
    /// FFN ratio r used where it is taken as given.
    pub ffn_ratio: f64,
    /// GQA ratio used where it is taken as given.
    pub gqa: f64,
}

impl TheoryInput {
    /// The paper's worked example (§5.5.2): 10 TOPS, 50 GB/s, 4 GB, a 100 ms decode target; the
    /// paper's M̄_d = 0.5 GB implies S_out = 10. Evaluated at d = 1024, r = 4, gqa = 4, FP16.
    pub const WORKED_EXAMPLE: TheoryInput = TheoryInput {
        peak_flops_per_sec: 10e12,
        mem_bandwidth_bytes_per_sec: 50e9,
        memory_budget_bytes: 4e9,
        prefill_target_secs: None,
        decode_target_secs: Some(0.1),
        batch: 1.0,
        prompt_tokens: 1024.0,
        generated_tokens: 10.0,
        weight_bytes: 2.0,
        kv_bytes: 2.0,
        d_model: 1024.0,
        ffn_ratio: 4.0,
        gqa: 4.0,
    };

    fn validate(&self) -> Result<()> {
        let pos = [
            ("peak_flops_per_sec", self.peak_flops_per_sec),
            ("mem_bandwidth_bytes_per_sec", self.mem_bandwidth_bytes_per_sec),
            ("memory_budget_bytes", self.memory_budget_bytes),
            ("batch", self.batch),
            ("prompt_tokens", self.prompt_tokens),
            ("generated_tokens", self.generated_tokens),
            ("weight_bytes", self.weight_bytes),
            ("kv_bytes", self.kv_bytes),
            ("d_model", self.d_model),
            ("ffn_ratio", self.ffn_ratio),
            ("gqa", self.gqa),
        ];
        for (f, v) in pos {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(f, format!("must be a positive number, got {v}"), "enter a value above zero"));
            }
        }
        for (f, v) in [("prefill_target_secs", self.prefill_target_secs), ("decode_target_secs", self.decode_target_secs)] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::invalid(
                        f,
                        format!("must be a positive number of seconds, got {v}"),
                        "enter a latency target above zero, or leave it out",
                    ));
                }
            }
        }
        if self.prefill_target_secs.is_none() && self.decode_target_secs.is_none() {
            return Err(Error::invalid("decode_target_secs", "no latency target is given", "give a prefill or a decode target (or both)"));
        }
        Ok(())
    }

    /// S̄ = S_in + (S_out + 1)/2.
    pub fn mean_context(&self) -> f64 {
        self.prompt_tokens + (self.generated_tokens + 1.0) / 2.0
    }
}

/// Which constraint dominates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// η ≪ 1: memory binds first.
    MemoryBound,
    /// η ≫ 1: latency binds first.
    LatencyBound,
    /// Both bind.
    Both,
}

impl Regime {
    /// Names a ratio: below 1/2 memory-bound, above 2 latency-bound, between both (the paper's
    /// "≪ 1" and "≫ 1" made into thresholds; the worked example's 0.125 is memory-bound).
    pub fn of(eta: f64) -> Regime {
        if eta < 0.5 {
            Regime::MemoryBound
        } else if eta > 2.0 {
            Regime::LatencyBound
        } else {
            Regime::Both
        }
    }

    /// Text form.
    pub fn name(self) -> &'static str {
        match self {
            Regime::MemoryBound => "memory-bound",
            Regime::LatencyBound => "latency-bound",
            Regime::Both => "both constraints bind",
        }
    }
}

/// Eq. 11's two readings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecodeMemoryRho {
    /// The paper's quadratic root: 3r/(ξ_M* − α_attn).
    pub quadratic: f64,
    /// The direct solution of the decode and memory constraints: 3ηr/(α_attn(1 − η) + 3r + δ).
    pub linear: f64,
    /// quadratic − linear.
    pub difference: f64,
}

/// Optima by fixed-point iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FixedPoint {
    /// r*.
    pub ffn_ratio: f64,
    /// gqa*.
    pub gqa: f64,
    /// l* at (r*, gqa*).
    pub layers: f64,
    /// Iterations to converge.
    pub iterations: usize,
    /// Whether it converged (relative change below 1e-10 within 500 iterations).
    pub converged: bool,
}

/// The theory report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TheoryReport {
    /// The inputs.
    pub input: TheoryInput,
    /// F̄_p = T_pre·π/(B·S_in), FLOPs per token.
    pub prefill_flops_budget: Option<f64>,
    /// M̄_d = T_dec·β/S_out, bytes per decode step.
    pub decode_bytes_budget: Option<f64>,
    /// η = M̄_d / M.
    pub eta: Option<f64>,
    /// η_p = F̄_p / M.
    pub eta_prefill: Option<f64>,
    /// Regime named from η (or η_p when there is no decode target).
    pub regime: Regime,
    /// ρ* latency-bound (Thm 5.1): the smallest activation rate available.
    pub rho_latency_bound: &'static str,
    /// ρ* memory-bound (Thm 5.2, Eq. 9), valid for α_ρ > α_r.
    pub rho_memory_bound: Option<f64>,
    /// ρ* prefill + memory (Eq. 10), valid for η_p·b_w < 2.
    pub rho_prefill_memory: Option<f64>,
    /// ρ* decode + memory (Eq. 11), both readings.
    pub rho_decode_memory: Option<DecodeMemoryRho>,
    /// l* saturating the prefill constraint at (d, r, gqa).
    pub layers_prefill: Option<f64>,
    /// l* saturating the decode constraint.
    pub layers_decode: Option<f64>,
    /// l* saturating the memory constraint at ρ = 1 (dense).
    pub layers_memory_dense: f64,
    /// (r*, gqa*) for the prefill-latency case P1.
    pub optimum_prefill: Option<FixedPoint>,
    /// (r*, gqa*) for the decode-latency case.
    pub optimum_decode: Option<FixedPoint>,
    /// (r*, gqa*) for the memory case at ρ = 1 (the budget M/b_w, constraint ξ_W^all).
    pub optimum_memory: FixedPoint,
    /// Notes on where the paper and these numbers disagree.
    pub notes: Vec<String>,
}

/// Eq. 9: ρ* = [α_r κ_d / ((α_ρ − α_r) κ_ρ)]^(1/α_ρ) · d^((β1 − β2)/α_ρ), valid for α_ρ > α_r.
pub fn rho_memory_bound(c: &Coefficients, d: f64) -> Option<f64> {
    (c.alpha_rho > c.alpha_r).then(|| {
        (c.alpha_r * c.kappa_d / ((c.alpha_rho - c.alpha_r) * c.kappa_rho)).powf(1.0 / c.alpha_rho)
            * d.powf((c.beta1 - c.beta2) / c.alpha_rho)
    })
}

/// Eq. 10: ρ* = 3 η_p b_w r / (α_attn (2 − η_p b_w) + 6r), α_attn = 2 + 2/gqa; valid for η_p·b_w < 2.
pub fn rho_prefill_memory(eta_p: f64, b_w: f64, r: f64, gqa: f64) -> Option<f64> {
    let alpha_attn = 2.0 + 2.0 / gqa;
    (eta_p * b_w < 2.0).then(|| 3.0 * eta_p * b_w * r / (alpha_attn * (2.0 - eta_p * b_w) + 6.0 * r))
}

/// Eq. 11 in both readings; δ = 2 S̄ b_kv / (gqa d b_w).
pub fn rho_decode_memory(eta: f64, r: f64, gqa: f64, mean_context: f64, b_kv: f64, d: f64, b_w: f64) -> DecodeMemoryRho {
    let alpha_attn = 2.0 + 2.0 / gqa;
    let delta = 2.0 * mean_context * b_kv / (gqa * d * b_w);
    let s = alpha_attn + 3.0 * r;
    let xi_m = (s + (s * s + 4.0 * eta * delta).sqrt()) / (2.0 * eta);
    let quadratic = 3.0 * r / (xi_m - alpha_attn);
    let linear = 3.0 * eta * r / (alpha_attn * (1.0 - eta) + 3.0 * r + delta);
    DecodeMemoryRho { quadratic, linear, difference: quadratic - linear }
}

/// r* and gqa* by fixed-point iteration (§6, case P1 and its decode analogue). `coef_r` is 1/6
/// (prefill) or 1/3 (decode); `coef_g` is 4 (prefill) or 2 (decode); `budget` is F̄_p or M̄_d/b_w;
/// `xi` gives the constraint coefficient ξ(r, gqa).
#[allow(clippy::too_many_arguments)] // reason: the formula's own parameters, named as in SCIENCE.md §6
fn fixed_point(
    c: &Coefficients,
    d: f64,
    rho: f64,
    budget: f64,
    coef_r: f64,
    coef_g: f64,
    xi: &dyn Fn(f64, f64) -> f64,
    r0: f64,
    g0: f64,
) -> FixedPoint {
    let d_tilde = c.kappa_rho * rho.powf(c.alpha_rho) * d.powf(c.beta2 - c.beta1) + c.kappa_d;
    let (mut r, mut g) = (r0, g0);
    let mut converged = false;
    let mut iterations = 0;
    for k in 1..=500 {
        iterations = k;
        let x = xi(r, g);
        let r_next = (coef_r * c.alpha_r * d_tilde / (c.alpha_l * c.kappa_l) * budget.powf(c.alpha_l)
            / (x.powf(c.alpha_l - 1.0) * d.powf(2.0 * c.alpha_l + c.beta2)))
        .powf(1.0 / (c.alpha_r + 1.0));
        let g_next =
            (coef_g * c.alpha_l * c.kappa_l / (c.alpha_m * c.kappa_m) * x.powf(c.alpha_l - 1.0) * d.powf(2.0 * c.alpha_l + c.alpha_m)
                / budget.powf(c.alpha_l))
            .powf(1.0 / (c.alpha_m + 1.0));
        if !(r_next.is_finite() && g_next.is_finite() && r_next > 0.0 && g_next > 0.0) {
            break;
        }
        let change = ((r_next - r) / r).abs().max(((g_next - g) / g).abs());
        // Damped update: the map can oscillate.
        r = 0.5 * r + 0.5 * r_next;
        g = 0.5 * g + 0.5 * g_next;
        if change < 1e-10 {
            converged = true;
            break;
        }
    }
    FixedPoint { ffn_ratio: r, gqa: g, layers: budget / (xi(r, g) * d * d), iterations, converged }
}

/// Evaluates §6 for the given inputs and law coefficients.
pub fn analyse(input: &TheoryInput, c: &Coefficients) -> Result<TheoryReport> {
    input.validate()?;
    let i = input;
    let f_p = i.prefill_target_secs.map(|t| t * i.peak_flops_per_sec / (i.batch * i.prompt_tokens));
    let m_d = i.decode_target_secs.map(|t| t * i.mem_bandwidth_bytes_per_sec / i.generated_tokens);
    let eta = m_d.map(|m| m / i.memory_budget_bytes);
    let eta_p = f_p.map(|f| f / i.memory_budget_bytes);
    let regime = Regime::of(eta.or(eta_p).unwrap_or(1.0));
    let (d, r, g) = (i.d_model, i.ffn_ratio, i.gqa);
    let s_bar = i.mean_context();
    let decode_per_layer = |r: f64, g: f64| xi_weights_decode(g, r) * d * d * i.weight_bytes + 2.0 * s_bar * d * i.kv_bytes / g;
    let rho_mem = rho_memory_bound(c, d);
    let mut notes = Vec::new();
    if let Some(rho) = rho_mem {
        notes.push(format!(
            "Eq. 9 with the Table 6 coefficients gives ρ* = {rho:.3} at d = {d}; the paper's text quotes 0.25 / 0.20 at d = 1024 and 0.15 at d = 2048, while the formula gives ≈ 0.40 and ≈ 0.17 (SCIENCE.md §6)."
        ));
    } else {
        notes.push("Eq. 9 needs α_ρ > α_r; this law's coefficients do not satisfy it, so the memory-bound ρ* is undefined.".into());
    }
    notes.push("Eq. 11's quadratic root comes from a loose derivation; the linear form solves the decode and memory constraints directly. Both are shown with their difference; they agree as δ → 0.".into());
    let w = TheoryInput::WORKED_EXAMPLE;
    let is_worked_example = i.peak_flops_per_sec == w.peak_flops_per_sec
        && i.mem_bandwidth_bytes_per_sec == w.mem_bandwidth_bytes_per_sec
        && i.memory_budget_bytes == w.memory_budget_bytes
        && i.decode_target_secs == w.decode_target_secs
        && i.generated_tokens == w.generated_tokens;
    if is_worked_example {
        if let (Some(rho), Some(md)) = (rho_mem, m_d) {
            notes.push(format!(
                "Worked example (§5.5.2): the paper quotes ρ* ≈ 0.20 and a 20-layer, 1024-wide MoE with K = 2, E = 10; Eq. 9 gives ρ* = {rho:.3} here, and the decode budget of {:.2} GB per step allows l* = {:.1} layers at d = {d}, r = {r}, gqa = {g}.",
                md / 1e9,
                md / decode_per_layer(r, g)
            ));
        }
    }
    notes.push("The paper averages validation loss over the last 10 steps in one place and 1,000 in another; the law's coefficients inherit that ambiguity.".into());
    let optimum_prefill = f_p.map(|fp| fixed_point(c, d, 1.0, fp, 1.0 / 6.0, 4.0, &|r, g| xi_flops(g, r), r, g));
    let optimum_decode = m_d.map(|md| {
        // Decode constraint per d²: ξ_W^dec·b_w + 2 S̄ b_kv/(gqa d), expressed in weight bytes.
        fixed_point(
            c,
            d,
            1.0,
            md / i.weight_bytes,
            1.0 / 3.0,
            2.0,
            &|r, g| xi_weights_decode(g, r) + 2.0 * s_bar * i.kv_bytes / (g * d * i.weight_bytes),
            r,
            g,
        )
    });
    // Memory case: l·ξ_W^all·d²·b_w ≤ M, the decode case's coefficients (r: 1/3, gqa: 2), dense.
    let optimum_memory =
        fixed_point(c, d, 1.0, i.memory_budget_bytes / i.weight_bytes, 1.0 / 3.0, 2.0, &|r, g| xi_weights_all(g, r, 1.0), r, g);
    Ok(TheoryReport {
        input: *i,
        optimum_memory,
        prefill_flops_budget: f_p,
        decode_bytes_budget: m_d,
        eta,
        eta_prefill: eta_p,
        regime,
        rho_latency_bound: "ρ_min: the fewest active experts, with as many experts as memory allows (Thm 5.1)",
        rho_memory_bound: rho_mem,
        rho_prefill_memory: eta_p.and_then(|e| rho_prefill_memory(e, i.weight_bytes, r, g)),
        rho_decode_memory: eta.map(|e| rho_decode_memory(e, r, g, s_bar, i.kv_bytes, d, i.weight_bytes)),
        layers_prefill: f_p.map(|fp| fp / (xi_flops(g, r) * d * d)),
        layers_decode: m_d.map(|md| md / decode_per_layer(r, g)),
        layers_memory_dense: i.memory_budget_bytes / (xi_weights_all(g, r, 1.0) * d * d * i.weight_bytes),
        optimum_prefill,
        optimum_decode,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::Law;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn eq9_reference_values() {
        // Issue 3: ρ* ≈ 0.395 at d = 1024 and ≈ 0.173 at d = 2048 with the Table 6 coefficients.
        // Hand calculation: (0.17·500 / (0.92·0.031))^(1/1.09) = 1540.6; 1024^(−1.30/1.09) = 2.569e-4.
        let c = &Law::paper().coefficients;
        assert!((rho_memory_bound(c, 1024.0).unwrap() - 0.395).abs() < 1e-3);
        assert!((rho_memory_bound(c, 2048.0).unwrap() - 0.173).abs() < 1e-3);
        // ρ* ∝ d^−1.19.
        let slope = (rho_memory_bound(c, 2048.0).unwrap() / rho_memory_bound(c, 1024.0).unwrap()).log2();
        assert!((slope + 1.3 / 1.09).abs() < 1e-12);
    }

    #[test]
    fn worked_example() {
        // §5.5.2: M̄_d = 0.1 s · 50 GB/s / 10 = 0.5 GB, η = 0.5 / 4 = 0.125, memory-bound.
        let r = analyse(&TheoryInput::WORKED_EXAMPLE, &Law::paper().coefficients).unwrap();
        assert!((r.decode_bytes_budget.unwrap() - 0.5e9).abs() < 1.0);
        assert!((r.eta.unwrap() - 0.125).abs() < 1e-12);
        assert_eq!(r.regime.name(), "memory-bound");
        assert!(r.notes[0].contains("0.395"), "{}", r.notes[0]);
        assert!(r.notes.iter().any(|n| n.starts_with("Worked example (§5.5.2): the paper quotes ρ* ≈ 0.20")), "{:?}", r.notes);
    }

    #[test]
    fn eq11_readings_agree_as_delta_vanishes() {
        // δ → 0 when the context is tiny against the width: the quadratic and linear forms coincide.
        let a = rho_decode_memory(0.3, 2.0, 4.0, 1e-6, 2.0, 4096.0, 2.0);
        assert!(a.difference.abs() < 1e-9, "{a:?}");
        let b = rho_decode_memory(0.3, 2.0, 4.0, 4096.0, 2.0, 1024.0, 2.0);
        assert!(b.difference.abs() > 1e-3, "{b:?}");
        // Eq. 10 at η_p·b_w = 1, r = 1, gqa = 1: 3/(4·1 + 6) = 0.3.
        assert!((rho_prefill_memory(0.5, 2.0, 1.0, 1.0).unwrap() - 0.3).abs() < 1e-12);
        assert!(rho_prefill_memory(1.5, 2.0, 1.0, 1.0).is_none());
    }

    #[test]
    fn fixed_points_satisfy_their_own_equations_and_saturate_the_constraint() {
        let mut input = TheoryInput::WORKED_EXAMPLE;
        input.prefill_target_secs = Some(0.2);
        let r = analyse(&input, &Law::paper().coefficients).unwrap();
        let p = r.optimum_prefill.unwrap();
        assert!(p.converged, "{p:?}");
        // l*·ξ_F(r*, gqa*)·d² equals the prefill budget.
        let used = p.layers * xi_flops(p.gqa, p.ffn_ratio) * 1024.0 * 1024.0;
        assert!((used - r.prefill_flops_budget.unwrap()).abs() / used < 1e-9);
        assert!(r.optimum_decode.unwrap().converged);
        let m = r.optimum_memory;
        assert!(m.converged, "{m:?}");
        // The memory case saturates the memory budget: l*·ξ_W^all·d²·b_w = M.
        let used = m.layers * xi_weights_all(m.gqa, m.ffn_ratio, 1.0) * 1024.0 * 1024.0 * 2.0;
        assert!((used - 4e9).abs() / 4e9 < 1e-9);
        assert!(analyse(&TheoryInput { decode_target_secs: None, ..TheoryInput::WORKED_EXAMPLE }, &Law::paper().coefficients).is_err());
    }
}
