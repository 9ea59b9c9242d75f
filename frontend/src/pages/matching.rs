//! Match: a reference model and a device; the best co-designed architecture at the same latency and
//! its predicted gain (the paper's headline comparison, as a calculator).

use rooflaw::calibrate::builtin_calibration;
use rooflaw::frontier::{match_reference, Evaluator};
use rooflaw::models::{find_model, reference_models};
use yew::prelude::*;

use crate::components::{gb, ms, select, target_controls, target_of, OnQuery};
use crate::law_state::law_of;
use crate::pages::explorer::{arch_link, describe, level_of, objective_of, space_candidates};
use crate::state::Query;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub query: Query,
    pub on_query: OnQuery,
}

#[function_component(MatchPage)]
pub fn match_page(props: &Props) -> Html {
    let (q, on) = (&props.query, &props.on_query);
    let result = (|| -> Result<_, String> {
        let m = find_model(&q.get("model", "qwen2.5-0.5b")).map_err(|e| e.to_string())?;
        let reference = m.architecture().map_err(|e| e.to_string())?;
        let t = target_of(q)?;
        let law = law_of(q)?;
        let space = q.get("space", "paper-table5");
        let cands: Vec<_> = space_candidates(&space, q.get("samples", "20000").parse().unwrap_or(20_000), 1)?
            .into_iter()
            .map(|mut c| {
                // Same vocabulary and tying as the reference: the comparison is about the body.
                let mut spec = c.arch.to_spec();
                spec.vocab_size = reference.vocab_size;
                spec.tied_embeddings = reference.tied_embeddings;
                spec.name = None;
                if let Ok(a) = spec.validate() {
                    c.arch = a;
                }
                c
            })
            .collect();
        let ev = Evaluator {
            target: &t,
            level: level_of(q),
            efficiency: builtin_calibration().efficiency,
            law: &law,
            objective: objective_of(q),
        };
        let points = ev.evaluate(&cands);
        Ok(match_reference(&ev, &reference, &cands, &points))
    })();
    let models: Vec<(String, String)> =
        reference_models().iter().map(|m| (m.id.clone(), m.spec.name.clone().unwrap_or_default())).collect();
    html! {
        <section class="page" id="match">
            <h2>{ "Match a reference model" }</h2>
            <div class="columns">
                <div class="side">
                    <fieldset class="controls"><legend>{ "Reference" }</legend>
                        { select("Model", "model", &q.get("model", "qwen2.5-0.5b"), &models, q, on) }
                        { select("Objective", "objective", &q.get("objective", "total"), &[("prefill".into(), "prefill".into()), ("decode".into(), "decode".into()), ("total".into(), "total".into())], q, on) }
                        { select("Design space", "space", &q.get("space", "paper-table5"), &[("paper-table5".into(), "paper Table 5 grid".into()), ("wide".into(), "wide (20,000 samples)".into())], q, on) }
                    </fieldset>
                    { target_controls(q, on, None) }
                </div>
                <div class="main">{ match &result {
                    Err(e) => html! { <p class="field-error" id="match-error">{ e }</p> },
                    Ok(m) => html! { <>
                        <p id="match-reference">{ format!("{}: {} latency {}, memory {}, predicted loss {:.4} (perplexity {:.2}){}", m.reference.architecture.name, objective_of(q).name(), ms(m.reference.latency_secs), gb(m.reference.memory_bytes), m.reference.prediction.loss, m.reference.prediction.perplexity, if m.reference.prediction.extrapolation.is_empty() { "" } else { " — outside the law's fitted range (extrapolation)" }) }</p>
                        { match &m.best {
                            None => html! { <p id="match-none">{ "No candidate is as fast and fits in memory." }</p> },
                            Some(b) => html! { <>
                                <p id="match-best">{ "Best co-designed at or below that latency: " }<a href={arch_link(&b.architecture, q)}>{ describe(&b.architecture) }</a>
                                { format!(" — latency {}, memory {}, loss {:.4} (perplexity {:.2})", ms(b.latency_secs), gb(b.memory_bytes), b.prediction.loss, b.prediction.perplexity) }</p>
                                <p class="gain" id="match-gain">{ format!("Predicted gain: loss {:+.4}, perplexity × {:.4} ({:+.1}%).", m.loss_difference.unwrap_or(0.0), m.perplexity_ratio.unwrap_or(1.0), (m.perplexity_ratio.unwrap_or(1.0) - 1.0) * 100.0) }</p>
                                <p class="note">{ "The paper reports 19.42% lower WikiText-2 perplexity at Qwen2.5-0.5B's latency after training both for 10B tokens; these numbers are the law's predictions." }</p>
                            </> },
                        } }
                    </> },
                } }</div>
            </div>
        </section>
    }
}
