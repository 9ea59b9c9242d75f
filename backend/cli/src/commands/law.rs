//! `rooflaw law`: an architecture's predicted loss under a law.

use anyhow::Result;
use rooflaw::api::{law, Context, LawRequest};

use crate::render::{print_csv, print_json, Format};

/// `law`: predicted loss and perplexity, with extrapolation flags.
pub fn run(format: Format, ctx: &Context, req: &LawRequest) -> Result<()> {
    let r = law(req, ctx)?;
    let (p, law) = (&r.prediction, &r.law);
    match format {
        Format::Json => print_json(&r),
        Format::Csv => print_csv(&[
            serde_json::json!({ "model": r.model, "law": law.name, "loss": p.loss, "perplexity": p.perplexity, "extrapolated": !p.extrapolation.is_empty() }),
        ]),
        Format::Table => {
            let x = r.inputs;
            println!("{} under law '{}' ({} training tokens)", r.model, law.name, law.training_tokens);
            println!("inputs: l = {}, d = {}, r = {:.3}, ρ = {:.4}, d_m = {}", x.layers, x.d_model, x.ffn_ratio, x.rho, x.kv_width);
            println!("predicted loss {:.4}, perplexity {:.2}", p.loss, p.perplexity);
            if p.extrapolation.is_empty() {
                println!("inside the law's fitted range");
            }
            for e in &p.extrapolation {
                println!("EXTRAPOLATION: {} = {} is outside the fitted range [{}, {}]", e.variable, e.value, e.range[0], e.range[1]);
            }
            Ok(())
        }
    }
}
