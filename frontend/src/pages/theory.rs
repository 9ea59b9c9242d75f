//! Theory: budgets → η, regime, ρ*, l*, r*, gqa* (SCIENCE.md §6), with the paper's worked example one
//! click away and its inconsistencies listed.

use rooflaw::calibrate::builtin_for_engine;
use rooflaw::theory::{analyse, TheoryInput};
use yew::prelude::*;

use crate::components::{engine_options, field, gb, select, OnQuery};
use crate::law_state::law_of;
use crate::state::Query;

fn number(q: &Query, key: &str, default: f64) -> Result<f64, String> {
    let v = q.get(key, &default.to_string());
    v.trim().parse::<f64>().map_err(|_| format!("{key}: '{v}' is not a number"))
}

fn input_of(q: &Query) -> Result<TheoryInput, String> {
    let w = TheoryInput::WORKED_EXAMPLE;
    let opt = |k: &str| -> Result<Option<f64>, String> { q.opt(k).map(|_| number(q, k, 0.0)).transpose() };
    // An engine's calibrated η_c and η_m scale the ceilings: the closed forms for what it reaches.
    let eta = match q.opt("engine").filter(|e| *e != "peak") {
        Some(e) => builtin_for_engine(e).map(|p| (p.efficiency.compute, p.efficiency.memory)).map_err(|e| e.to_string())?,
        None => (1.0, 1.0),
    };
    Ok(TheoryInput {
        peak_flops_per_sec: number(q, "tops", w.peak_flops_per_sec / 1e12)? * 1e12 * eta.0,
        mem_bandwidth_bytes_per_sec: number(q, "gbs", w.mem_bandwidth_bytes_per_sec / 1e9)? * 1e9 * eta.1,
        memory_budget_bytes: number(q, "mem", w.memory_budget_bytes / 1e9)? * 1e9,
        prefill_target_secs: opt("prefill_ms")?.map(|v| v / 1e3),
        decode_target_secs: if q.opt("decode_ms").is_some() { opt("decode_ms")?.map(|v| v / 1e3) } else { Some(0.1) },
        batch: number(q, "batch", 1.0)?,
        prompt_tokens: number(q, "prompt", w.prompt_tokens)?,
        generated_tokens: number(q, "generate", w.generated_tokens)?,
        weight_bytes: number(q, "bw_bytes", 2.0)?,
        kv_bytes: number(q, "kv_bytes", 2.0)?,
        d_model: number(q, "d", w.d_model)?,
        ffn_ratio: number(q, "r", w.ffn_ratio)?,
        gqa: number(q, "gqa", w.gqa)?,
    })
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub query: Query,
    pub on_query: OnQuery,
}

#[function_component(TheoryPage)]
pub fn theory_page(props: &Props) -> Html {
    let (q, on) = (&props.query, &props.on_query);
    let result = input_of(q).and_then(|i| law_of(q).and_then(|l| analyse(&i, &l.coefficients).map_err(|e| e.to_string())));
    let f = |label: &str, key: &'static str, default: &str| field(label, key, &q.get(key, default), q, on, None);
    let worked = {
        let on = on.clone();
        Callback::from(move |_| {
            on.emit(Query::default().with("tops", "10").with("gbs", "50").with("mem", "4").with("decode_ms", "100").with("generate", "10"))
        })
    };
    let mut engines = vec![("peak".to_string(), "peak (the paper's closed forms)".to_string())];
    engines.extend(engine_options().into_iter().map(|(e, what)| (e, format!("{what}: calibrated η_c, η_m"))));
    let row = |name: &str, v: String| html! { <tr><td>{ name.to_string() }</td><td>{ v }</td></tr> };
    let opt = |v: Option<f64>, digits: usize| v.map_or("–".to_string(), |x| format!("{x:.digits$}"));
    html! {
        <section class="page" id="theory">
            <h2>{ "Theory: budgets, regimes and closed-form optima" }</h2>
            <div class="columns">
                <div class="side"><fieldset class="controls"><legend>{ "Device and budgets" }</legend>
                    <button id="worked-example" class="primary" onclick={worked}>{ "Paper's worked example (§5.5.2)" }</button>
                    { f("Peak TOPS", "tops", "10") }{ f("Bandwidth GB/s", "gbs", "50") }{ f("Memory budget GB", "mem", "4") }
                    { f("Decode target ms (all steps)", "decode_ms", "100") }{ f("Prefill target ms (optional)", "prefill_ms", "") }
                    { f("Batch", "batch", "1") }{ f("Prompt tokens", "prompt", "1024") }{ f("Generated tokens", "generate", "10") }
                    { f("Bytes per weight", "bw_bytes", "2") }{ f("Bytes per KV element", "kv_bytes", "2") }
                    { f("Width d", "d", "1024") }{ f("FFN ratio r", "r", "4") }{ f("GQA ratio", "gqa", "4") }
                    { select("Ceilings", "engine", &q.get("engine", "peak"), &engines, q, on) }
                </fieldset></div>
                <div class="main">{ match &result {
                    Err(e) => html! { <p class="field-error" id="theory-error">{ e }</p> },
                    Ok(r) => html! { <>
                        <table class="data" id="theory-table"><tbody>
                            { row("F̄_p (FLOPs per token)", opt(r.prefill_flops_budget, 0)) }
                            { row("M̄_d (bytes per decode step)", r.decode_bytes_budget.map_or("–".into(), gb)) }
                            <tr><td>{ "η = M̄_d / M" }</td><td id="eta">{ opt(r.eta, 4) }</td></tr>
                            { row("η_p = F̄_p / M", opt(r.eta_prefill, 4)) }
                            <tr><td>{ "regime" }</td><td id="regime">{ r.regime.name() }</td></tr>
                            { row("ρ* latency-bound (Thm 5.1)", r.rho_latency_bound.to_string()) }
                            { row("ρ* memory-bound (Eq. 9)", opt(r.rho_memory_bound, 4)) }
                            { row("ρ* prefill + memory (Eq. 10)", opt(r.rho_prefill_memory, 4)) }
                            { row("ρ* decode + memory, paper's quadratic (Eq. 11)", opt(r.rho_decode_memory.map(|x| x.quadratic), 4)) }
                            { row("ρ* decode + memory, direct linear form", opt(r.rho_decode_memory.map(|x| x.linear), 4)) }
                            { row("l* prefill / decode / memory (dense)", format!("{} / {} / {:.2}", opt(r.layers_prefill, 2), opt(r.layers_decode, 2), r.layers_memory_dense)) }
                            { row("r*, gqa*, l* (prefill, P1)", r.optimum_prefill.map_or("–".into(), |p| format!("{:.3}, {:.3}, {:.2}", p.ffn_ratio, p.gqa, p.layers))) }
                            { row("r*, gqa*, l* (decode)", r.optimum_decode.map_or("–".into(), |p| format!("{:.3}, {:.3}, {:.2}", p.ffn_ratio, p.gqa, p.layers))) }
                            { row("r*, gqa*, l* (memory, dense)", format!("{:.3}, {:.3}, {:.2}", r.optimum_memory.ffn_ratio, r.optimum_memory.gqa, r.optimum_memory.layers)) }
                        </tbody></table>
                        <ul class="notes">{ for r.notes.iter().map(|n| html! { <li>{ n.clone() }</li> }) }</ul>
                    </> },
                } }</div>
            </div>
        </section>
    }
}
