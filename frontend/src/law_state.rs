//! The law a page uses, from the URL: the published one, or coefficients fitted on the Law page and
//! carried in the URL (`law=custom&lawc=κ_l,α_l,…,L∞`). A fitted law's bootstrap sets are too long for a
//! URL: the page that links to the fitted law keeps them in this tab's session storage under its
//! coefficients ([`remember`]), and the Explorer draws the uncertain frontier from them when they are
//! there.

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
            law.bootstrap = recall(&text);
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

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

const BOOTSTRAP_KEY: &str = "rooflaw-bootstrap:";

/// Keeps a fitted law's bootstrap sets for this tab, under its coefficients (best effort: storage may be
/// off or full, and the Explorer then takes the law as exact).
pub fn remember(law: &Law) {
    if law.bootstrap.is_empty() {
        return;
    }
    if let (Some(s), Ok(text)) = (session(), serde_json::to_string(&law.bootstrap)) {
        let _ = s.set_item(&format!("{BOOTSTRAP_KEY}{}", lawc(&law.coefficients)), &text);
    }
}

/// The bootstrap sets kept for these coefficients (empty: none).
fn recall(lawc_text: &str) -> Vec<[f64; 11]> {
    session()
        .and_then(|s| s.get_item(&format!("{BOOTSTRAP_KEY}{}", lawc_text.trim())).ok().flatten())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}
