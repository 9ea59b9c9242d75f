//! Match: a reference model and a device; the best co-designed architecture at the same latency and
//! its predicted gain (the paper's headline comparison, as a calculator).

use rooflaw::api::{defaults, matching, Context, MatchRequest, ModelRequest, SearchRequest};
use rooflaw::hardware::Catalogue;
use yew::prelude::*;

use crate::components::{arch_link, describe, gb, interval_note, model_options, ms, select, target_controls, OnQuery};
use crate::inputs::{device_of, level_of, number, objective_of, target_request, MATCH_SAMPLES};
use crate::law_state::law_of;
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
        // The request the CLI's `match` and the APIs take; the page's device (which may be a custom
        // one) and law (which may be fitted in the browser) go into its context.
        let device = device_of(q)?;
        let law = law_of(q)?;
        let mut target = target_request(q)?;
        target.device = device.id.clone();
        let ctx = Context { catalogue: Catalogue::default().with(vec![device]), laws: vec![law.clone()], ..Default::default() };
        let search = SearchRequest {
            space: q.get("space", defaults::SPACE),
            samples: number(q, "samples", "samples", MATCH_SAMPLES)?,
            objective: objective_of(q)?,
            level: level_of(q)?,
            ..Default::default()
        };
        let req = MatchRequest { model: ModelRequest::named(&q.get("model", defaults::MODEL)), search, target, law: Some(law.name) };
        matching(&req, &ctx).map_err(|e| e.to_string())
    })();
    let models = model_options();
    html! {
        <section class="page" id="match">
            <h2>{ "Match a reference model" }</h2>
            <div class="columns">
                <div class="side">
                    <fieldset class="controls"><legend>{ "Reference" }</legend>
                        { select("Model", "model", &q.get("model", defaults::MODEL), &models, q, on) }
                        { select("Objective", "objective", &q.get("objective", defaults::OBJECTIVE.name()), &[("prefill".into(), "prefill".into()), ("decode".into(), "decode".into()), ("total".into(), "total".into())], q, on) }
                        { select("Design space", "space", &q.get("space", defaults::SPACE), &[("paper-table5".into(), "paper Table 5 grid".into()), ("wide".into(), "wide (20,000 samples)".into())], q, on) }
                    </fieldset>
                    { target_controls(q, on, None) }
                </div>
                <div class="main">{ match &result {
                    Err(e) => html! { <p class="field-error" id="match-error">{ e }</p> },
                    Ok(matched) => { let m = &matched.report; html! { <>
                        <p id="match-reference">{ format!("{}: {} latency {}{}, memory {}, predicted loss {:.4} (perplexity {:.2}){}", m.reference.architecture.name, matched.objective.name(), ms(m.reference.latency_secs), interval_note(m.reference.latency_secs, matched.latency_interval), gb(m.reference.memory_bytes), m.reference.prediction.loss, m.reference.prediction.perplexity, if m.reference.prediction.extrapolation.is_empty() { "" } else { " — outside the law's fitted range (extrapolation)" }) }</p>
                        { match &m.best {
                            None => html! { <p id="match-none">{ "No candidate is as fast and fits in memory." }</p> },
                            Some(b) => html! { <>
                                <p id="match-best">{ "Best co-designed at or below that latency: " }<a href={arch_link(&b.architecture, q)}>{ describe(&b.architecture) }</a>
                                { format!(" — latency {}{}, memory {}, loss {:.4} (perplexity {:.2})", ms(b.latency_secs), interval_note(b.latency_secs, matched.latency_interval), gb(b.memory_bytes), b.prediction.loss, b.prediction.perplexity) }</p>
                                <p class="gain" id="match-gain">{ format!("Predicted gain: loss {:+.4}, perplexity × {:.4} ({:+.1}%).", m.loss_difference.unwrap_or(0.0), m.perplexity_ratio.unwrap_or(1.0), (m.perplexity_ratio.unwrap_or(1.0) - 1.0) * 100.0) }</p>
                                <p class="note">{ "The paper reports 19.42% lower WikiText-2 perplexity at Qwen2.5-0.5B's latency after training both for 10B tokens; these numbers are the law's predictions." }</p>
                            </> },
                        } }
                    </> } },
                } }</div>
            </div>
        </section>
    }
}
