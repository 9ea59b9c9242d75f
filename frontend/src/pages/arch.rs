//! Architecture: one architecture in depth — from a preset, a form or a pasted Hugging Face
//! config.json — with its parameter breakdown, per-operator costs, roofline plot, memory against the
//! device, every latency level side by side with the calibration's error, and the latency measured on
//! the device when a backend has measurements (`measured.rs`).

use rooflaw::api::defaults;
use rooflaw::arch::{AttentionBias, QkNorm};
use rooflaw::cost::Phase;
use rooflaw::layout::{place_labels, text_width, Label, Rect};
use rooflaw::report::predict;
use rooflaw::roofline::{breakdown, roofline_points, Bound, OperatorTiming, RooflinePoint};
use rooflaw::{Architecture, Level};
use yew::prelude::*;

use crate::components::{field, gb, model_options, ms, ms_range, select, target_controls, thousands, OnQuery};
use crate::inputs::{arch_of, target_of, FORM};
use crate::law_state::law_of;
use crate::plot::{axes, extent, legend_away_from, Scale, H, M, W};
use crate::state::Query;

/// Query with the form filled from an architecture (switches the source to the form).
fn form_query(q: &Query, a: &Architecture) -> Query {
    let values = [a.layers, a.d_model, a.heads, a.kv_heads, a.head_dim, a.intermediate_size, a.experts, a.active_experts, a.vocab_size];
    let mut out = q.with("src", "form");
    for ((key, _), v) in FORM.iter().zip(values) {
        out = out.with(key, v.to_string());
    }
    out.with("f_tied", if a.tied_embeddings { "1" } else { "0" })
        .with(
            "f_qk",
            match a.qk_norm {
                QkNorm::None => "none",
                QkNorm::PerHead => "per_head",
                QkNorm::Full => "full",
            },
        )
        .with(
            "f_bias",
            match a.attention_bias {
                AttentionBias::None => "none",
                AttentionBias::Qkv => "qkv",
                AttentionBias::All => "all",
            },
        )
}

fn op_rows(rows: &[OperatorTiming]) -> Html {
    html! {
        { for rows.iter().map(|r| html! {
            <tr><td>{ r.name }</td><td>{ r.repeats }</td><td>{ format!("{:.3}", r.cost.flops / 1e9) }</td><td>{ gb(r.bytes) }</td>
            <td>{ format!("{:.1}", r.intensity_flops_per_byte) }</td><td class={if r.bound == Bound::Compute { "compute" } else { "memory" }}>{ if r.bound == Bound::Compute { "compute" } else { "memory" } }</td><td>{ ms(r.time_secs) }</td></tr>
        }) }
    }
}

fn roofline_svg(pts: &[RooflinePoint], pi: f64, beta: f64) -> Html {
    let ridge = pi / beta;
    let (x0, x1) = extent(pts.iter().map(|p| p.intensity_flops_per_byte).chain([ridge / 10.0, ridge * 10.0]), true);
    let (y0, y1) = extent(pts.iter().map(|p| p.attained_flops_per_sec).chain([pi * 1.5, beta * x0]), true);
    let (sx, sy) = (Scale::x(x0, x1, true), Scale::y(y0, y1, true));
    let ceiling: String = (0..=100)
        .map(|k| {
            let x = (x0.ln() + (x1.ln() - x0.ln()) * k as f64 / 100.0).exp();
            format!("{:.1},{:.1}", sx.px(x), sy.px((beta * x).min(pi)))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let px: Vec<(f64, f64)> = pts.iter().map(|p| (sx.px(p.intensity_flops_per_byte), sy.px(p.attained_flops_per_sec))).collect();
    // Operator names placed so that none covers another; the legend goes to the corner with fewest points.
    let labels: Vec<Label> = pts.iter().zip(&px).map(|(p, (x, y))| Label { x: *x, y: *y, w: text_width(p.name, 10.0), h: 12.0 }).collect();
    let placed = place_labels(&labels, Rect { x: M.0, y: M.2, w: W - M.0 - M.1, h: H - M.2 - M.3 });
    let mut avoid: Vec<(f64, f64)> = px.clone();
    avoid.extend(placed.iter().filter(|p| p.shown).flat_map(|p| [(p.rect.x, p.rect.y), (p.rect.x + p.rect.w, p.rect.y + p.rect.h)]));
    html! {
        <svg id="roofline-plot" viewBox={format!("0 0 {W} {H}")} class="plot">
            { axes(&sx, &sy, "arithmetic intensity (FLOP/byte, log)", "attained throughput (FLOP/s, log)") }
            <polyline class="ceiling" points={ceiling} />
            { for pts.iter().zip(&px).zip(&placed).map(|((p, (x, y)), l)| { let prefill = p.phase == Phase::Prefill; html! {
                <g><circle cx={x.to_string()} cy={y.to_string()} r="4" class={if prefill { "op-prefill" } else { "op-decode" }}><title>{ format!("{} ({}): {:.1} FLOP/byte, {}-bound", p.name, if prefill { "prefill" } else { "decode" }, p.intensity_flops_per_byte, if p.bound == Bound::Compute { "compute" } else { "memory" }) }</title></circle>
                if l.leader { <line class="leader" x1={x.to_string()} y1={y.to_string()} x2={(if l.rect.x > *x { l.rect.x } else { l.rect.x + l.rect.w }).to_string()} y2={(l.rect.y + l.rect.h / 2.0).to_string()} /> }
                if l.shown { <text x={format!("{:.1}", l.rect.x)} y={format!("{:.1}", l.rect.y + l.rect.h - 3.0)} class="op-label">{ p.name }</text> }</g>
            }})}
            { legend_away_from(&[("#000", format!("roofline: π {:.1} TFLOP/s, β {:.0} GB/s", pi / 1e12, beta / 1e9)), ("#1f77b4", "prefill operators".into()), ("#ff7f0e", "decode operators (all steps)".into())], &avoid) }
        </svg>
    }
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub query: Query,
    pub on_query: OnQuery,
}

#[function_component(ArchPage)]
pub fn arch_page(props: &Props) -> Html {
    let (q, on) = (&props.query, &props.on_query);
    let src = q.get("src", if q.opt("spec").is_some() { "spec" } else { "preset" });
    let arch = arch_of(q);
    let target = target_of(q);
    let err = arch.as_ref().err().cloned();
    // Which form field the science crate's error names ("heads: …").
    let err_for = |name: &str| err.as_deref().filter(|e| e.starts_with(&format!("{name}:"))).map(str::to_string);
    let presets = model_options();
    // The form has fields for the dense and MoE GQA family only.
    let editable = arch.as_ref().is_ok_and(|a| {
        !a.sandwich_norms
            && a.sliding_window == 0
            && a.mla.is_none()
            && a.dense_layers == 0
            && a.shared_expert_intermediate_size == 0
            && !a.router_bias
    });
    let to_form = {
        let (q, on) = (q.clone(), on.clone());
        let arch = arch.clone();
        Callback::from(move |_| {
            if let Ok(a) = &arch {
                on.emit(form_query(&q, a));
            }
        })
    };
    let source = html! {
        <fieldset class="controls">
            <legend>{ "Architecture" }</legend>
            { select("Source", "src", &src, &[("preset".into(), "reference model".into()), ("form".into(), "form".into()), ("hf".into(), "pasted config.json".into()), ("spec".into(), "from a link".into())], q, on) }
            if src == "preset" {
                { select("Model", "model", &q.get("model", defaults::MODEL), &presets, q, on) }
                if editable { <button id="edit-form" onclick={to_form}>{ "Edit as a form" }</button> }
                else { <span class="note" id="edit-form-note">{ "This model's sliding windows, sandwich norms, latent attention or expert layout have no form fields: edit its config.json instead." }</span> }
            }
            if src == "form" {
                { for FORM.iter().map(|(key, name)| field(name, key, &q.get(key, ""), q, on, err_for(name).as_deref())) }
                { select("Tied embeddings", "f_tied", &q.get("f_tied", "1"), &[("1".into(), "tied".into()), ("0".into(), "untied".into())], q, on) }
                { select("QK-norm", "f_qk", &q.get("f_qk", "none"), &[("none".into(), "none".into()), ("per_head".into(), "per head".into()), ("full".into(), "full width".into())], q, on) }
                { select("Attention bias", "f_bias", &q.get("f_bias", "none"), &[("none".into(), "none".into()), ("qkv".into(), "q, k, v".into()), ("all".into(), "q, k, v, o".into())], q, on) }
            }
            if src == "hf" {
                <label class="field wide"><span>{ "Paste a Hugging Face config.json (llama, mistral, qwen2, qwen3, qwen2_moe, qwen3_moe, mixtral, olmoe, gemma2, gemma3, phi3, granite)" }</span>
                <textarea id="hf-config" rows="10" value={q.get("hf", "")} oninput={crate::components::input_setter(q, on, "hf")} /></label>
            }
            if let Some(e) = &err { <p class="field-error" id="arch-error">{ e }</p> }
        </fieldset>
    };
    let calibration = crate::inputs::calibration_of(q);
    let body = match (&arch, &target, &calibration) {
        (Ok(a), Ok(t), Ok(cal)) => {
            let p = a.params();
            let pred = predict(a, t, cal);
            let pre = breakdown(a, t, Level::Roofline, &cal.efficiency, Phase::Prefill);
            let dec = breakdown(a, t, Level::Roofline, &cal.efficiency, Phase::Decode);
            let loss = law_of(q).map(|l| l.predict(a));
            let m = pred.memory;
            let usable = pred.usable_memory_bytes;
            let frac = |x: f64| format!("{:.2}%", 100.0 * x / usable.max(m.total_bytes));
            html! {
                <>
                <h3>{ a.name.clone() }{ " " }<a class="train-this" id="train-this" href={crate::components::train_link(a)}>{ "train this in the Lab" }</a></h3>
                <p>{ format!("{} layers, d {}, {} heads ({} KV, head dim {}), expert FFN {} (r = {:.3}), {} experts / {} active, vocabulary {}", a.layers, a.d_model, a.heads, a.kv_heads, a.head_dim, a.intermediate_size, a.ffn_ratio(), a.experts, a.active_experts, a.vocab_size) }
                    { if a.sliding_window > 0 { format!("; a {}-token sliding window on {} of the {} layers", a.sliding_window, a.sliding_layers, a.layers) } else { String::new() } }
                    { if a.sandwich_norms { "; norms before and after each sublayer (four per layer)" } else { "" } }</p>
                <table class="data" id="params"><thead><tr><th>{ "component" }</th><th>{ "parameters" }</th></tr></thead><tbody>
                    { for [("embedding", p.embedding), ("attention", p.attention), ("FFN (all experts)", p.ffn_total), ("FFN (active)", p.ffn_active), ("router", p.router), ("norms", p.norms), ("LM head", p.lm_head)].into_iter().map(|(n, v)| html! { <tr><td>{ n }</td><td>{ thousands(v) }</td></tr> }) }
                    <tr class="total"><td>{ "total" }</td><td id="param-total">{ thousands(p.total) }</td></tr>
                    <tr><td>{ "active per token" }</td><td id="param-active">{ thousands(p.active) }</td></tr>
                </tbody></table>
                if let Ok(l) = &loss {
                    <p id="arch-loss">{ format!("Predicted loss {:.4} (perplexity {:.2}) under the {} law", l.loss, l.perplexity, if q.get("law", defaults::LAW) == defaults::LAW { "published" } else { "fitted" }) }
                    { for l.extrapolation.iter().map(|e| html! { <span class="warn">{ format!(" — extrapolation: {} = {:.3} is outside [{}, {}]", e.variable, e.value, e.range[0], e.range[1]) }</span> }) }</p>
                }
                <h3>{ "Latency" }</h3>
                <table class="data" id="latency-table"><thead><tr><th>{ "level" }</th><th>{ "prefill" }</th><th>{ "decode (all steps)" }</th><th>{ "per token" }</th><th>{ "total" }</th></tr></thead><tbody>
                    { for [("paper (the paper's operators, peak)", pred.latency.paper), ("roofline (all operators, peak)", pred.latency.roofline), ("calibrated", pred.latency.calibrated)].into_iter().map(|(n, l)| html! {
                        <tr><td>{ n }</td><td>{ ms(l.prefill_secs) }</td><td>{ ms(l.decode_secs) }</td><td>{ ms(l.decode_per_token_secs) }</td><td>{ ms(l.total_secs) }</td></tr> }) }
                    <tr id="calibrated-interval"><td>{ format!("calibrated, {:.0}% interval", pred.calibrated_interval.level * 100.0) }</td>
                        { for [pred.calibrated_interval.prefill_secs, pred.calibrated_interval.decode_secs, pred.calibrated_interval.decode_per_token_secs, pred.calibrated_interval.total_secs].into_iter().map(|r| html! {
                            <td>{ r.map_or("no measured rows".to_string(), ms_range) }</td> }) }</tr>
                    <tr><td>{ "closed forms (Eq. 29 / 37)" }</td><td>{ ms(pred.closed_form.prefill_secs) }</td><td>{ ms(pred.closed_form.decode_secs) }</td><td>{ "" }</td><td>{ ms(pred.closed_form.prefill_secs + pred.closed_form.decode_secs) }</td></tr>
                </tbody></table>
                <p class="note">{ format!("A roofline is a bound, not a measurement: the paper and roofline rows assume peak compute and bandwidth. The calibrated rows use {} (η_m {:.2}, {} per pass), whose error on the measurements it was fitted to is {:.1}% in-sample and {:.1}% leave-one-out.", cal.label, cal.efficiency.memory, ms(cal.efficiency.token_overhead_secs), cal.in_sample_mape * 100.0, cal.loo_mape.unwrap_or(f64::NAN) * 100.0) }</p>
                <h3>{ "Measured" }</h3>
                <crate::measured::Measured base={crate::lab::api_base(q)} device={t.device_id.clone()} model={a.name.clone()} />
                <h3>{ "Memory" }</h3>
                <div class="membar" id="memory-bar">
                    <div class="w" style={format!("width:{}", frac(m.weight_bytes))} title="weights"></div>
                    <div class="kv" style={format!("width:{}", frac(m.kv_cache_bytes))} title="KV cache"></div>
                    <div class="act" style={format!("width:{}", frac(m.activation_bytes))} title="activations"></div>
                </div>
                <p id="memory-text" class={if pred.fits_in_memory { "" } else { "warn" }}>{ format!("weights {} + KV cache {} + activations {} = {} of {} usable on the device{}", gb(m.weight_bytes), gb(m.kv_cache_bytes), gb(m.activation_bytes), gb(m.total_bytes), gb(usable), if pred.fits_in_memory { "" } else { " — does not fit" }) }</p>
                <h3>{ "Roofline" }</h3>
                { roofline_svg(&roofline_points(&[a], t, Level::Roofline, &cal.efficiency), t.peak_flops_per_sec, t.mem_bandwidth_bytes_per_sec) }
                { crate::components::svg_button("roofline-plot", "roofline.svg") }
                <h3>{ "Operators (roofline level)" }</h3>
                <div class="two">
                    <table class="data"><caption>{ "prefill" }</caption><thead><tr><th>{ "op" }</th><th>{ "×" }</th><th>{ "GFLOP" }</th><th>{ "bytes" }</th><th>{ "FLOP/B" }</th><th>{ "bound" }</th><th>{ "time" }</th></tr></thead><tbody>{ op_rows(&pre) }</tbody></table>
                    <table class="data"><caption>{ "decode (all steps)" }</caption><thead><tr><th>{ "op" }</th><th>{ "×" }</th><th>{ "GFLOP" }</th><th>{ "bytes" }</th><th>{ "FLOP/B" }</th><th>{ "bound" }</th><th>{ "time" }</th></tr></thead><tbody>{ op_rows(&dec) }</tbody></table>
                </div>
                </>
            }
        }
        (_, Err(e), _) | (_, _, Err(e)) => html! { <p class="field-error">{ e }</p> },
        _ => html! {},
    };
    html! {
        <section class="page" id="arch">
            <h2>{ "Architecture" }</h2>
            <div class="columns">
                <div class="side">{ source }{ target_controls(q, on, target.as_ref().err().map(String::as_str)) }</div>
                <div class="main">{ body }</div>
            </div>
        </section>
    }
}
