//! Form controls shared by the pages, and reading a device/workload/precision from the URL state.

use rooflaw::api::{defaults, TargetRequest};
use rooflaw::calibrate::{DEFAULT_ENGINE, ENGINES};
use rooflaw::hardware::builtin_devices;
use rooflaw::models::reference_models;
use rooflaw::precision::PRESETS;
use rooflaw::Architecture;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::inputs::{device_of, CUSTOM_DEFAULTS};
use crate::state::{to_hash, Query, Route};

/// Called with the new query when a control changes.
pub type OnQuery = Callback<Query>;

fn input_value(e: &Event) -> String {
    e.target()
        .and_then(|t| {
            t.dyn_ref::<web_sys::HtmlInputElement>()
                .map(|i| {
                    if i.type_() == "checkbox" {
                        if i.checked() {
                            "1".into()
                        } else {
                            String::new()
                        }
                    } else {
                        i.value()
                    }
                })
                .or_else(|| t.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()))
                .or_else(|| t.dyn_ref::<web_sys::HtmlTextAreaElement>().map(|s| s.value()))
        })
        .unwrap_or_default()
}

/// A callback that sets `key` in the query from an input or change event.
pub fn setter(q: &Query, on: &OnQuery, key: &'static str) -> Callback<Event> {
    let (q, on) = (q.clone(), on.clone());
    Callback::from(move |e: Event| on.emit(q.with(key, input_value(&e))))
}

/// Same as [`setter`] for `input` events (updates while typing).
pub fn input_setter(q: &Query, on: &OnQuery, key: &'static str) -> Callback<InputEvent> {
    let (q, on) = (q.clone(), on.clone());
    Callback::from(move |e: InputEvent| on.emit(q.with(key, input_value(&e.into()))))
}

/// A labelled text/number input bound to a query key, with its error (if any) beside it.
pub fn field(label: &str, key: &'static str, value: &str, q: &Query, on: &OnQuery, error: Option<&str>) -> Html {
    html! {
        <label class="field">
            <span>{ label }</span>
            <input id={format!("in-{key}")} value={value.to_string()} oninput={input_setter(q, on, key)} class={classes!(error.map(|_| "invalid"))} />
            if let Some(e) = error { <span class="field-error" id={format!("err-{key}")}>{ e }</span> }
        </label>
    }
}

/// A labelled select bound to a query key.
pub fn select(label: &str, key: &'static str, value: &str, options: &[(String, String)], q: &Query, on: &OnQuery) -> Html {
    html! {
        <label class="field">
            <span>{ label }</span>
            <select id={format!("in-{key}")} onchange={setter(q, on, key)}>
                { for options.iter().map(|(v, text)| html! { <option value={v.clone()} selected={v == value}>{ text.clone() }</option> }) }
            </select>
        </label>
    }
}

/// Device ids and names, plus "custom".
pub fn device_options() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = builtin_devices().iter().map(|d| (d.id.clone(), d.name.clone())).collect();
    v.push(("custom".into(), "Custom device…".into()));
    v
}

/// Reference model ids and names.
pub fn model_options() -> Vec<(String, String)> {
    reference_models().iter().map(|m| (m.id.clone(), m.spec.name.clone().unwrap_or_default())).collect()
}

/// Candidate summary for tooltips and tables.
pub fn describe(a: &Architecture) -> String {
    format!("{} · {} params", a.summary(), thousands(a.params().total))
}

/// Link to the Architecture page for a design, keeping the device and workload.
pub fn arch_link(a: &Architecture, q: &Query) -> String {
    let spec = serde_json::to_string(&a.to_spec()).unwrap_or_default();
    let mut aq = Query::default().with("spec", spec);
    for k in ["device", "mode", "batch", "prompt", "generate", "precision", "engine", "pi", "bw", "mem"] {
        if let Some(v) = q.opt(k) {
            aq = aq.with(k, v);
        }
    }
    to_hash(Route::Arch, &aq)
}

/// The Lab's "train this" link for an architecture (its spec in the URL; the Lab asks a backend to train it).
pub fn train_link(a: &Architecture) -> String {
    to_hash(Route::Lab, &Query::default().with("train", serde_json::to_string(&a.to_spec()).unwrap_or_default()))
}

/// Inference engines of the calibrated level.
pub fn engine_options() -> Vec<(String, String)> {
    ENGINES.iter().map(|(e, what)| (e.to_string(), format!("{e}: {what}"))).collect()
}

/// Precision presets.
pub fn precision_options() -> Vec<(String, String)> {
    PRESETS.iter().map(|p| (p.to_string(), p.to_string())).collect()
}

/// The device, power mode, workload and precision controls.
pub fn target_controls(q: &Query, on: &OnQuery, error: Option<&str>) -> Html {
    let d = TargetRequest::default();
    let (pi, bw, mem) = CUSTOM_DEFAULTS;
    let device = q.get("device", defaults::DEVICE);
    let modes: Vec<(String, String)> = device_of(q)
        .map(|d| d.power_modes.iter().filter(|m| m.peak_flops_per_sec.is_some()).map(|m| (m.name.clone(), m.name.clone())).collect())
        .unwrap_or_default();
    let mode = q.get("mode", &modes.first().map(|m| m.0.clone()).unwrap_or_default());
    // An error that names a field ("batch: …") is shown beside that field; any other under the controls.
    let names = ["batch", "prompt_tokens", "generated_tokens", "peak compute", "bandwidth", "usable memory"];
    let named = |name: &str| error.is_some_and(|e| e.starts_with(&format!("{name}:")) || e.starts_with(&format!("{name} (")));
    let beside = |name: &str| error.filter(|_| named(name));
    let by_field = names.iter().any(|n| named(n));
    html! {
        <fieldset class="controls">
            <legend>{ "Device and workload" }</legend>
            { select("Device", "device", &device, &device_options(), q, on) }
            if device == "custom" {
                { field("Peak TFLOP/s (FP16)", "pi", &q.get("pi", &pi.to_string()), q, on, beside("peak compute")) }
                { field("Bandwidth GB/s", "bw", &q.get("bw", &bw.to_string()), q, on, beside("bandwidth")) }
                { field("Usable memory GB", "mem", &q.get("mem", &mem.to_string()), q, on, beside("usable memory")) }
            } else {
                { select("Power mode", "mode", &mode, &modes, q, on) }
            }
            { field("Batch", "batch", &q.get("batch", &d.batch.to_string()), q, on, beside("batch")) }
            { field("Prompt tokens", "prompt", &q.get("prompt", &d.prompt_tokens.to_string()), q, on, beside("prompt_tokens")) }
            { field("Generated tokens", "generate", &q.get("generate", &d.generated_tokens.to_string()), q, on, beside("generated_tokens")) }
            { select("Precision", "precision", &q.get("precision", &d.precision), &precision_options(), q, on) }
            { select("Engine", "engine", &q.get("engine", DEFAULT_ENGINE), &engine_options(), q, on) }
            if let Some(e) = error.filter(|_| !by_field) { <p class="field-error" id="target-error">{ e }</p> }
        </fieldset>
    }
}

/// Formats seconds as ms.
pub fn ms(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

/// A range of seconds as ms, `low – high`.
pub fn ms_range([lo, hi]: [f64; 2]) -> String {
    format!("{} – {}", ms(lo), ms(hi))
}

/// ` (90% interval low – high)` around a calibrated latency, or nothing without an interval.
pub fn interval_note(secs: f64, interval: Option<rooflaw::calibrate::Interval>) -> String {
    interval.map_or(String::new(), |i| format!(" (90% interval {})", ms_range(i.around(secs))))
}

/// Formats bytes as GB or MB.
pub fn gb(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else {
        format!("{:.1} MB", b / 1e6)
    }
}

pub use rooflaw::format::thousands;

/// Offers `text` as a file download.
pub fn download(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        if let Ok(a) = doc.create_element("a") {
            if let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() {
                a.set_href(&url);
                a.set_download(name);
                a.click();
            }
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// The outer SVG of the element with this id (for "export SVG").
pub fn svg_of(id: &str) -> Option<String> {
    let el = web_sys::window()?.document()?.get_element_by_id(id)?;
    Some(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        el.outer_html().replacen("<svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"", 1)
    ))
}

/// Milliseconds since page load.
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// A button that downloads the SVG element `id` as `file`.
pub fn svg_button(id: &'static str, file: &'static str) -> Html {
    let onclick = Callback::from(move |_| {
        if let Some(svg) = svg_of(id) {
            download(file, "image/svg+xml", &svg);
        }
    });
    html! { <button class="export" onclick={onclick}>{ format!("Export {file}") }</button> }
}
