//! The loss law as data: a named functional form with named coefficients, and the range of inputs it was
//! fitted on (SCIENCE.md §3). The published law (Eq. 2 with the Table 6 coefficients, conditional on 10B
//! training tokens) is the built-in preset `paper`; laws fitted by [`crate::fit`] are others.
//!
//! Eq. 2: L̂ = κ_l/l^α_l + κ_ρ·ρ^α_ρ/(r^α_r·d^β1) + κ_d/(r^α_r·d^β2) + κ_m/d_m^α_m + L∞,
//! with r the FFN ratio over the active experts, ρ = K/E and d_m = n_kv·d_h the KV width.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::arch::Architecture;
use crate::error::{Error, Result};

/// The functional forms rooflaw knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LawForm {
    /// The paper's Eq. 2 (eleven coefficients).
    Eq2,
}

/// Coefficient names of Eq. 2, in the order of [`Coefficients::to_array`].
pub const COEFFICIENT_NAMES: [&str; 11] =
    ["kappa_l", "alpha_l", "kappa_rho", "alpha_rho", "beta1", "kappa_d", "beta2", "alpha_r", "kappa_m", "alpha_m", "l_inf"];

/// Eq. 2's coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coefficients {
    /// κ_l: depth term scale.
    pub kappa_l: f64,
    /// α_l: depth exponent.
    pub alpha_l: f64,
    /// κ_ρ: sparsity term scale.
    pub kappa_rho: f64,
    /// α_ρ: activation-rate exponent.
    pub alpha_rho: f64,
    /// β1: width exponent of the sparsity term (negative in the published fit).
    pub beta1: f64,
    /// κ_d: capacity term scale.
    pub kappa_d: f64,
    /// β2: width exponent of the capacity term.
    pub beta2: f64,
    /// α_r: FFN-ratio exponent.
    pub alpha_r: f64,
    /// κ_m: KV-width term scale.
    pub kappa_m: f64,
    /// α_m: KV-width exponent.
    pub alpha_m: f64,
    /// L∞: irreducible loss.
    pub l_inf: f64,
}

impl Coefficients {
    /// In [`COEFFICIENT_NAMES`] order.
    pub fn to_array(&self) -> [f64; 11] {
        [
            self.kappa_l,
            self.alpha_l,
            self.kappa_rho,
            self.alpha_rho,
            self.beta1,
            self.kappa_d,
            self.beta2,
            self.alpha_r,
            self.kappa_m,
            self.alpha_m,
            self.l_inf,
        ]
    }

    /// From [`COEFFICIENT_NAMES`] order.
    pub fn from_array(a: [f64; 11]) -> Self {
        Coefficients {
            kappa_l: a[0],
            alpha_l: a[1],
            kappa_rho: a[2],
            alpha_rho: a[3],
            beta1: a[4],
            kappa_d: a[5],
            beta2: a[6],
            alpha_r: a[7],
            kappa_m: a[8],
            alpha_m: a[9],
            l_inf: a[10],
        }
    }
}

/// What the law reads from an architecture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LawInputs {
    /// l.
    pub layers: f64,
    /// d.
    pub d_model: f64,
    /// r over the active experts.
    pub ffn_ratio: f64,
    /// ρ = K/E.
    pub rho: f64,
    /// d_m = n_kv·d_h.
    pub kv_width: f64,
}

impl LawInputs {
    /// The law's view of an architecture.
    pub fn of(a: &Architecture) -> Self {
        LawInputs {
            layers: a.layers as f64,
            d_model: a.d_model as f64,
            ffn_ratio: a.ffn_ratio(),
            rho: a.rho(),
            kv_width: a.kv_width() as f64,
        }
    }
}

/// Range of each input a law was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// l range.
    pub layers: [f64; 2],
    /// d range.
    pub d_model: [f64; 2],
    /// ρ range.
    pub rho: [f64; 2],
    /// r range.
    pub ffn_ratio: [f64; 2],
    /// d_m range.
    pub kv_width: [f64; 2],
    /// How the ranges were chosen.
    #[serde(default, rename = "_assumption", skip_serializing_if = "String::is_empty")]
    pub assumption: String,
}

/// One input outside the fitted range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extrapolation {
    /// Input name.
    pub variable: String,
    /// Its value.
    pub value: f64,
    /// Fitted range.
    pub range: [f64; 2],
}

impl Domain {
    /// The inputs outside the range (empty: an interpolation).
    pub fn check(&self, x: &LawInputs) -> Vec<Extrapolation> {
        let tol = 1e-9;
        [
            ("layers", x.layers, self.layers),
            ("d_model", x.d_model, self.d_model),
            ("rho", x.rho, self.rho),
            ("ffn_ratio", x.ffn_ratio, self.ffn_ratio),
            ("kv_width", x.kv_width, self.kv_width),
        ]
        .into_iter()
        .filter(|(_, v, r)| *v < r[0] * (1.0 - tol) || *v > r[1] * (1.0 + tol))
        .map(|(n, v, r)| Extrapolation { variable: n.to_string(), value: v, range: r })
        .collect()
    }

    /// The smallest box holding every input (the domain of a law fitted on them).
    pub fn spanning(inputs: &[LawInputs]) -> Self {
        let span = |f: &dyn Fn(&LawInputs) -> f64| {
            inputs.iter().map(f).fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], v| [lo.min(v), hi.max(v)])
        };
        Domain {
            layers: span(&|x| x.layers),
            d_model: span(&|x| x.d_model),
            rho: span(&|x| x.rho),
            ffn_ratio: span(&|x| x.ffn_ratio),
            kv_width: span(&|x| x.kv_width),
            assumption: "range of the training runs the law was fitted on".to_string(),
        }
    }
}

/// A loss law: form, coefficients, the token budget it is conditional on, and its domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Law {
    /// Name (`paper`, or what a fit was called).
    pub name: String,
    /// Functional form.
    pub form: LawForm,
    /// One line about the law.
    #[serde(default)]
    pub description: String,
    /// Where the coefficients come from.
    #[serde(default)]
    pub source: String,
    /// Training tokens every prediction is conditional on.
    pub training_tokens: f64,
    /// Coefficients.
    pub coefficients: Coefficients,
    /// Fitted range of the inputs.
    pub domain: Domain,
    /// The fit's bootstrap coefficient sets, in [`COEFFICIENT_NAMES`] order: the law's uncertainty,
    /// which the uncertain frontier ([`crate::uncertain`]) draws from. Empty for the published law (the
    /// paper gives no uncertainty) and for laws written before fits kept them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bootstrap: Vec<[f64; 11]>,
}

/// A prediction with its extrapolation flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossPrediction {
    /// Predicted validation loss (nats per token).
    pub loss: f64,
    /// exp(loss).
    pub perplexity: f64,
    /// Inputs outside the law's fitted range; empty when the prediction interpolates.
    pub extrapolation: Vec<Extrapolation>,
}

/// Eq. 2 at the given coefficients. Written with one logarithm per input and one exponential per
/// term (ln d serves both width terms): the frontier evaluates it for every candidate.
pub fn eq2(c: &Coefficients, x: &LawInputs) -> f64 {
    let (ln_d, ln_r) = (x.d_model.ln(), x.ffn_ratio.ln());
    let sparsity = if x.rho == 1.0 { 0.0 } else { c.alpha_rho * x.rho.ln() };
    c.kappa_l * (-c.alpha_l * x.layers.ln()).exp()
        + c.kappa_rho * (sparsity - c.alpha_r * ln_r - c.beta1 * ln_d).exp()
        + c.kappa_d * (-c.alpha_r * ln_r - c.beta2 * ln_d).exp()
        + c.kappa_m * (-c.alpha_m * x.kv_width.ln()).exp()
        + c.l_inf
}

impl Law {
    /// The published law (`paper`).
    pub fn paper() -> &'static Law {
        &builtin_laws()[0]
    }

    /// Predicted loss (hot path: no checks).
    pub fn loss(&self, x: &LawInputs) -> f64 {
        match self.form {
            LawForm::Eq2 => eq2(&self.coefficients, x),
        }
    }

    /// Loss, perplexity and extrapolation flags for an architecture.
    pub fn predict(&self, a: &Architecture) -> LossPrediction {
        let x = LawInputs::of(a);
        let loss = self.loss(&x);
        LossPrediction { loss, perplexity: perplexity(loss), extrapolation: self.domain.check(&x) }
    }

    /// Parses a law JSON (as written by `rooflaw fit --out`).
    pub fn from_json(text: &str, what: &str) -> Result<Law> {
        let law: Law = serde_json::from_str(text)
            .map_err(|e| Error::parse(what, format!("{e}; expected a law as a fit writes it (name, form, coefficients, domain)")))?;
        if law.coefficients.to_array().iter().any(|v| !v.is_finite()) {
            return Err(Error::parse(what, "a coefficient is not a finite number"));
        }
        Ok(law)
    }
}

/// The built-in laws.
pub fn builtin_laws() -> &'static [Law] {
    static LAWS: OnceLock<Vec<Law>> = OnceLock::new();
    LAWS.get_or_init(|| {
        #[derive(Deserialize)]
        struct File {
            laws: Vec<Law>,
        }
        #[allow(clippy::expect_used)] // reason: embedded data, checked by `published_law_reference_point`
        let f: File = serde_json::from_str(include_str!("../data/laws.json")).expect("embedded laws.json is valid");
        f.laws
    })
}

/// Perplexity of a loss in nats per token: exp(loss). The one place that turns a loss into a perplexity.
pub fn perplexity(loss: f64) -> f64 {
    loss.exp()
}

/// A built-in law by name.
pub fn find_law(name: &str) -> Result<&'static Law> {
    builtin_laws().iter().find(|l| l.name.eq_ignore_ascii_case(name.trim())).ok_or_else(|| Error::Unknown {
        kind: "law",
        name: name.to_string(),
        fix: format!(
            "built-in laws: {}; or fit a law on training runs",
            builtin_laws().iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::ArchitectureSpec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn published_law_reference_point() {
        // Issue 3 / SCIENCE.md §3, hand calculation: l = 16, d = 1024, r = 1, ρ = 1, gqa = 4 (d_m = 256):
        // 9.96/16^1.63 + 0.031·1024^0.33 + 500/1024^0.97 + 0.20/256^0.05 + 2.53
        // = 0.1085 + 0.3053 + 0.6016 + 0.1516 + 2.53 = 3.697.
        let x = LawInputs { layers: 16.0, d_model: 1024.0, ffn_ratio: 1.0, rho: 1.0, kv_width: 256.0 };
        assert!((Law::paper().loss(&x) - 3.697).abs() < 1e-3, "{}", Law::paper().loss(&x));
        // The same point as an architecture (16 heads of 64, 4 KV heads).
        let a = ArchitectureSpec {
            layers: 16,
            d_model: 1024,
            heads: 16,
            kv_heads: Some(4),
            ffn_ratio: Some(1.0),
            vocab_size: 32_000,
            ..Default::default()
        }
        .validate()
        .unwrap();
        let p = Law::paper().predict(&a);
        assert!((p.loss - 3.697).abs() < 1e-3 && p.extrapolation.is_empty());
        assert!((p.perplexity - 3.697f64.exp()).abs() < 0.05);
    }

    #[test]
    fn monotone_in_the_directions_section_3_states() {
        let base = LawInputs { layers: 16.0, d_model: 1024.0, ffn_ratio: 2.0, rho: 0.25, kv_width: 256.0 };
        let law = Law::paper();
        let l0 = law.loss(&base);
        assert!(law.loss(&LawInputs { layers: 24.0, ..base }) < l0);
        assert!(law.loss(&LawInputs { d_model: 2048.0, ..base }) < l0);
        assert!(law.loss(&LawInputs { ffn_ratio: 4.0, ..base }) < l0);
        assert!(law.loss(&LawInputs { kv_width: 512.0, ..base }) < l0);
        assert!(law.loss(&LawInputs { rho: 0.5, ..base }) > l0, "loss rises with ρ");
    }

    #[test]
    fn qwen25_is_flagged_as_an_extrapolation() {
        // Qwen2.5-0.5B: r = 4864/896 ≈ 5.43, above the fitted FFN-ratio range.
        let a = crate::models::find_model("qwen2.5-0.5b").unwrap().architecture().unwrap();
        let p = Law::paper().predict(&a);
        assert_eq!(p.extrapolation.len(), 1);
        assert_eq!(p.extrapolation[0].variable, "ffn_ratio");
        assert!(find_law("chinchilla").unwrap_err().to_string().starts_with("unknown law 'chinchilla'"));
    }
}
