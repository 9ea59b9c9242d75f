//! Form controls shared by the pages, and reading a device/workload/precision from the URL state.

use rooflaw::hardware::{builtin_devices, Device, Peaks, PowerMode};
use rooflaw::precision::PRESETS;
use rooflaw::{Precision, Target, Workload};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::state::Query;

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

/// Precision presets.
pub fn precision_options() -> Vec<(String, String)> {
    PRESETS.iter().map(|p| (p.to_string(), p.to_string())).collect()
}

/// A custom device from the query: `pi` (TFLOP/s), `bw` (GB/s), `mem` (GB usable).
fn custom_device(q: &Query) -> Result<Device, String> {
    let num = |k: &str, d: &str, what: &str| -> Result<f64, String> {
        let v = q.get(k, d);
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
            _ => Err(format!("{what}: '{v}' is not a positive number; enter e.g. {d}")),
        }
    };
    let pi = num("pi", "40", "peak compute (TFLOP/s)")? * 1e12;
    let bw = num("bw", "200", "bandwidth (GB/s)")? * 1e9;
    let mem = num("mem", "16", "usable memory (GB)")? * 1e9;
    Ok(Device {
        id: "custom".into(),
        name: "Custom device".into(),
        vendor: String::new(),
        kind: "custom".into(),
        compute_capability: None,
        sms: None,
        cuda_cores: None,
        memory_capacity_bytes: mem,
        usable_memory_bytes: mem,
        usable_memory_note: "entered in the page".into(),
        unsupported_precisions: Default::default(),
        default_power_mode: "default".into(),
        power_modes: vec![PowerMode {
            name: "default".into(),
            aliases: vec![],
            power_watts: None,
            gpu_clock_hz: None,
            // One peak for every precision: the user's figure.
            peak_flops_per_sec: Some(Peaks { fp32: Some(pi), fp16: Some(pi), bf16: Some(pi), int8: Some(2.0 * pi), fp8: Some(2.0 * pi) }),
            mem_bandwidth_bytes_per_sec: Some(bw),
            derived: false,
            to_verify: false,
            note: "custom".into(),
        }],
        source: "entered in the page".into(),
    })
}

/// The device the query names.
pub fn device_of(q: &Query) -> Result<Device, String> {
    let id = q.get("device", "jetson-agx-orin-64gb");
    if id == "custom" {
        return custom_device(q);
    }
    builtin_devices().iter().find(|d| d.id == id).cloned().ok_or_else(|| format!("unknown device '{id}'; pick one from the list"))
}

/// Device, power mode, workload and precision from the query, validated by the science crate.
pub fn target_of(q: &Query) -> Result<Target, String> {
    let device = device_of(q)?;
    let int = |k: &str, d: &str| -> Result<u64, String> {
        let v = q.get(k, d);
        v.trim().parse::<u64>().map_err(|_| format!("{k}: '{v}' is not a whole number; enter e.g. {d}"))
    };
    let w = Workload::new(int("batch", "1")?, int("prompt", "1024")?, int("generate", "16")?).map_err(|e| e.to_string())?;
    let p = Precision::preset(&q.get("precision", "fp16")).map_err(|e| e.to_string())?;
    let mode = q.opt("mode");
    Target::new(&device, mode, w, p).map_err(|e| e.to_string())
}

/// The device, power mode, workload and precision controls.
pub fn target_controls(q: &Query, on: &OnQuery, error: Option<&str>) -> Html {
    let device = q.get("device", "jetson-agx-orin-64gb");
    let modes: Vec<(String, String)> = device_of(q)
        .map(|d| d.power_modes.iter().filter(|m| m.peak_flops_per_sec.is_some()).map(|m| (m.name.clone(), m.name.clone())).collect())
        .unwrap_or_default();
    let mode = q.get("mode", &modes.first().map(|m| m.0.clone()).unwrap_or_default());
    html! {
        <fieldset class="controls">
            <legend>{ "Device and workload" }</legend>
            { select("Device", "device", &device, &device_options(), q, on) }
            if device == "custom" {
                { field("Peak TFLOP/s (FP16)", "pi", &q.get("pi", "40"), q, on, None) }
                { field("Bandwidth GB/s", "bw", &q.get("bw", "200"), q, on, None) }
                { field("Usable memory GB", "mem", &q.get("mem", "16"), q, on, None) }
            } else {
                { select("Power mode", "mode", &mode, &modes, q, on) }
            }
            { field("Batch", "batch", &q.get("batch", "1"), q, on, None) }
            { field("Prompt tokens", "prompt", &q.get("prompt", "1024"), q, on, None) }
            { field("Generated tokens", "generate", &q.get("generate", "16"), q, on, None) }
            { select("Precision", "precision", &q.get("precision", "fp16"), &precision_options(), q, on) }
            if let Some(e) = error { <p class="field-error" id="target-error">{ e }</p> }
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
