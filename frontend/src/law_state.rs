//! The law a page uses, from the URL: the published one, or coefficients fitted on the Law page and
//! carried in the URL (`law=custom&lawc=κ_l,α_l,…,L∞`).

use rooflaw::law::{Coefficients, Law, COEFFICIENT_NAMES};

use crate::state::Query;

/// The law the query names.
pub fn law_of(q: &Query) -> Result<Law, String> {
    match q.get("law", "paper").as_str() {
        "paper" => Ok(Law::paper().clone()),
        "custom" => {
            let text = q.get("lawc", "");
            let values: Vec<f64> = text.split(',').filter_map(|v| v.trim().parse::<f64>().ok()).filter(|v| v.is_finite()).collect();
            let arr: [f64; 11] = values.try_into().map_err(|_| {
                format!("lawc must list the {} coefficients {} separated by commas", COEFFICIENT_NAMES.len(), COEFFICIENT_NAMES.join(", "))
            })?;
            let mut law = Law::paper().clone();
            law.name = "fitted in the browser".into();
            law.description = "fitted on the Law page".into();
            law.source = "Law page".into();
            law.coefficients = Coefficients::from_array(arr);
            law.domain.assumption = "the fitted runs' range is not carried in the URL; the published law's range is shown".into();
            Ok(law)
        }
        other => Err(format!("unknown law '{other}'; use paper, or fit one on the Law page")),
    }
}

/// The query value that carries a law's coefficients.
pub fn lawc(c: &Coefficients) -> String {
    c.to_array().iter().map(|v| format!("{v:.6e}")).collect::<Vec<_>>().join(",")
}
