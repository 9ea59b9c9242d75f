//! Embed: a compact calculator (architecture + device + workload → latency, memory, loss) for an
//! `<iframe>` in documentation. No menu; every input is in the URL.

use rooflaw::api::{defaults, TargetRequest};
use rooflaw::report::predict;
use yew::prelude::*;

use crate::components::{device_options, field, gb, model_options, ms, precision_options, select, OnQuery};
use crate::inputs::{arch_of, target_of};
use crate::law_state::law_of;
use crate::state::Query;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub query: Query,
    pub on_query: OnQuery,
}

#[function_component(EmbedPage)]
pub fn embed_page(props: &Props) -> Html {
    let (q, on) = (&props.query, &props.on_query);
    let models = model_options();
    let d = TargetRequest::default();
    let result = (|| -> Result<_, String> {
        let a = arch_of(q)?;
        let t = target_of(q)?;
        let law = law_of(q)?;
        let cal = crate::inputs::calibration_of(q)?;
        Ok((predict(&a, &t, &cal), law.predict(&a)))
    })();
    html! {
        <section class="embed" id="embed">
            <div class="row">
                { select("Model", "model", &q.get("model", defaults::MODEL), &models, q, on) }
                { select("Device", "device", &q.get("device", &d.device), &device_options(), q, on) }
                { select("Precision", "precision", &q.get("precision", &d.precision), &precision_options(), q, on) }
                { field("Batch", "batch", &q.get("batch", &d.batch.to_string()), q, on, None) }
                { field("Prompt", "prompt", &q.get("prompt", &d.prompt_tokens.to_string()), q, on, None) }
                { field("Generate", "generate", &q.get("generate", &d.generated_tokens.to_string()), q, on, None) }
            </div>
            { match result {
                Err(e) => html! { <p class="field-error" id="embed-error">{ e }</p> },
                Ok((p, l)) => html! {
                    <table class="data compact"><tbody>
                        <tr><td>{ "latency (calibrated)" }</td><td id="embed-latency">{ format!("{} prefill + {} decode = {}", ms(p.latency.calibrated.prefill_secs), ms(p.latency.calibrated.decode_secs), ms(p.latency.calibrated.total_secs)) }</td></tr>
                        <tr><td>{ "roofline bound" }</td><td>{ ms(p.latency.roofline.total_secs) }</td></tr>
                        <tr><td>{ "memory" }</td><td id="embed-memory">{ format!("{} of {} usable", gb(p.memory.total_bytes), gb(p.usable_memory_bytes)) }</td></tr>
                        <tr><td>{ "predicted loss" }</td><td id="embed-loss">{ format!("{:.3} (perplexity {:.1}){}", l.loss, l.perplexity, if l.extrapolation.is_empty() { "" } else { ", extrapolated" }) }</td></tr>
                    </tbody></table>
                },
            } }
            <p class="credit"><a href="./" target="_blank">{ "rooflaw" }</a>{ " — roofline latency is a bound; calibrated figures carry the fit error shown on the site." }</p>
        </section>
    }
}
