//! Law: the published coefficients; fit Eq. 2 to pasted or uploaded training runs in the browser, with
//! bootstrap intervals, predicted-vs-actual and residual plots; use the fitted law in the Explorer.

use rooflaw::fit::{fit_law, parse_runs, FitOptions, FitReport, Robust};
use rooflaw::law::{Law, COEFFICIENT_NAMES};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::{field, select, OnQuery};

/// Bootstrap resamples and restarts of a fit in the browser: fewer than the command line's
/// (`rooflaw::api::defaults`), so that the page stays responsive.
const BROWSER_BOOTSTRAP: &str = "50";
const BROWSER_RESTARTS: &str = "16";
use crate::law_state::lawc;
use crate::plot::{axes, extent, Scale, H, W};
use crate::state::{to_hash, Query, Route};

/// Example runs: the published law on a Table 5-like grid with a fixed ±0.01 perturbation, so the page
/// can be tried without data.
fn example_runs() -> String {
    let law = Law::paper();
    let mut s = String::from("name,layers,d_model,ffn_ratio,experts,active_experts,gqa,tokens,val_loss\n");
    let mut i = 0;
    for l in [4.0, 8.0, 16.0, 24.0, 32.0] {
        for d in [768.0, 1280.0, 2048.0, 3072.0] {
            for (e, k) in [(1.0, 1.0), (8.0, 1.0), (8.0, 2.0), (16.0, 1.0)] {
                i += 1;
                let r = [0.5, 1.0, 2.0, 4.0][i % 4];
                let gqa: f64 = [1.0, 2.0, 4.0, 8.0][(i / 4) % 4];
                let x = rooflaw::law::LawInputs { layers: l, d_model: d, ffn_ratio: r, rho: k / e, kv_width: d / gqa };
                let noise = if i % 3 == 0 {
                    0.01
                } else if i % 3 == 1 {
                    -0.01
                } else {
                    0.0
                };
                s.push_str(&format!("run{i},{l},{d},{r},{e},{k},{gqa},1e10,{:.5}\n", law.loss(&x) + noise));
            }
        }
    }
    s
}

fn fit_plots(r: &FitReport) -> Html {
    let res = &r.residuals;
    let (lo, hi) = extent(res.iter().flat_map(|x| [x.actual, x.predicted]), false);
    let (sx, sy) = (Scale::x(lo, hi, false), Scale::y(lo, hi, false));
    let m = res.iter().map(|x| (x.actual - x.predicted).abs()).fold(1e-9, f64::max) * 1.1;
    let ry = Scale::y(-m, m, false);
    html! {
        <div class="two">
            <svg id="fit-pva" viewBox={format!("0 0 {W} {H}")} class="plot">
                { axes(&sx, &sy, "actual validation loss", "predicted loss") }
                <line class="diag" x1={sx.px(lo).to_string()} y1={sy.px(lo).to_string()} x2={sx.px(hi).to_string()} y2={sy.px(hi).to_string()} />
                { for res.iter().map(|x| html! { <circle class="front-pt" cx={sx.px(x.actual).to_string()} cy={sy.px(x.predicted).to_string()} r="3"><title>{ format!("{}: actual {:.4}, predicted {:.4}", x.name, x.actual, x.predicted) }</title></circle> }) }
            </svg>
            <svg id="fit-residuals" viewBox={format!("0 0 {W} {H}")} class="plot">
                { axes(&sx, &ry, "predicted loss", "actual − predicted") }
                <line class="diag" x1={sx.px(lo).to_string()} y1={ry.px(0.0).to_string()} x2={sx.px(hi).to_string()} y2={ry.px(0.0).to_string()} />
                { for res.iter().map(|x| html! { <circle class="front-pt" cx={sx.px(x.predicted).to_string()} cy={ry.px(x.actual - x.predicted).to_string()} r="3"><title>{ x.name.clone() }</title></circle> }) }
            </svg>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub query: Query,
    pub on_query: OnQuery,
}

#[function_component(LawPage)]
pub fn law_page(props: &Props) -> Html {
    let (q, on) = (&props.query, &props.on_query);
    let runs_text = q.get("runs", "");
    let opts_key = (
        runs_text.clone(),
        q.get("bootstrap", BROWSER_BOOTSTRAP),
        q.get("restarts", BROWSER_RESTARTS),
        q.get("seed", &rooflaw::api::defaults::FIT_SEED.to_string()),
        q.get("robust", "huber"),
        q.get("fit", ""),
    );
    let report = use_memo(opts_key, |(runs, boot, restarts, seed, robust, go)| -> Option<Result<FitReport, String>> {
        if go != "1" || runs.trim().is_empty() {
            return None;
        }
        let parse = |k: &str, v: &str| v.trim().parse::<usize>().map_err(|_| format!("{k}: '{v}' is not a whole number"));
        let run = || -> Result<FitReport, String> {
            let runs = parse_runs(runs, "runs").map_err(|e| e.to_string())?;
            let opts = FitOptions {
                name: "fitted in the browser".into(),
                robust: if robust == "least-squares" { Robust::LeastSquares } else { Robust::Huber { delta: None } },
                restarts: parse("restarts", restarts)?,
                bootstrap: parse("bootstrap", boot)?.min(500),
                seed: parse("seed", seed)? as u64,
                ..FitOptions::default()
            };
            fit_law(&runs, &opts).map_err(|e| e.to_string())
        };
        Some(run())
    });
    let on_file = {
        let (q, on) = (q.clone(), on.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            let Ok(reader) = web_sys::FileReader::new() else { return };
            let (q, on, r2) = (q.clone(), on.clone(), reader.clone());
            let onload = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                if let Some(text) = r2.result().ok().and_then(|v| v.as_string()) {
                    on.emit(q.with("runs", text).with("fit", ""));
                }
            });
            reader.set_onload(Some(onload.as_ref().unchecked_ref()));
            onload.forget();
            let _ = reader.read_as_text(&file);
        })
    };
    let published = Law::paper().coefficients.to_array();
    let result = match report.as_ref() {
        None => {
            html! { <p class="hint">{ "Paste or upload runs, then Fit. Fitting runs in this page (WebAssembly); nothing is sent anywhere." }</p> }
        }
        Some(Err(e)) => html! { <p class="field-error" id="fit-error">{ e }</p> },
        Some(Ok(r)) => {
            crate::law_state::remember(&r.law);
            let explorer = to_hash(Route::Explorer, &Query::default().with("law", "custom").with("lawc", lawc(&r.law.coefficients)));
            html! {
                <>
                <table class="data" id="fit-table"><thead><tr><th>{ "coefficient" }</th><th>{ "fitted" }</th><th>{ "95% interval" }</th><th>{ "published" }</th></tr></thead><tbody>
                    { for r.intervals.iter().zip(published).map(|(iv, p)| html! { <tr><td>{ iv.name.clone() }</td><td>{ format!("{:.4}", iv.estimate) }</td><td>{ format!("[{:.4}, {:.4}]", iv.lo, iv.hi) }</td><td>{ format!("{p}") }</td></tr> }) }
                </tbody></table>
                <p id="fit-metrics">{ format!("All {} runs: R² {:.4}, RMSE {:.4}, MAPE {:.2}%", r.train.runs, r.train.r2, r.train.rmse, r.train.mape * 100.0) }
                { r.holdout.as_ref().map(|h| format!("; held out ({}): RMSE {:.4}, MAPE {:.2}% on {} runs", h.split, h.metrics.rmse, h.metrics.mape * 100.0, h.metrics.runs)).unwrap_or_default() }
                { r.cross_validation.as_ref().map(|c| format!("; {}-fold RMSE {:.4}", c.folds, c.metrics.rmse)).unwrap_or_default() }
                { format!("; {} bootstrap resamples.", r.bootstrap_samples) }</p>
                <p><a id="use-law" class="button" href={explorer}>{ "Use this law in the Explorer" }</a></p>
                { fit_plots(r) }
                { crate::components::svg_button("fit-pva", "predicted-vs-actual.svg") }{ crate::components::svg_button("fit-residuals", "residuals.svg") }
                </>
            }
        }
    };
    html! {
        <section class="page" id="law">
            <h2>{ "Loss law" }</h2>
            <p>{ "Eq. 2: L = κ_l/l^α_l + κ_ρ·ρ^α_ρ/(r^α_r·d^β1) + κ_d/(r^α_r·d^β2) + κ_m/d_m^α_m + L∞, published for 10B training tokens (Table 6):" }</p>
            <table class="data" id="published-law"><tbody><tr>{ for COEFFICIENT_NAMES.iter().map(|n| html! { <th>{ *n }</th> }) }</tr>
                <tr>{ for published.iter().map(|v| html! { <td>{ format!("{v}") }</td> }) }</tr></tbody></table>
            <h3>{ "Fit your own runs" }</h3>
            <p class="hint">{ "CSV columns: layers, d_model, experts, active_experts, tokens, val_loss, ffn_ratio (or intermediate_size), kv_width (or gqa); optional name and split (train/test)." }</p>
            <div class="row">
                <input type="file" id="runs-file" accept=".csv,.json,text/csv,application/json" onchange={on_file} />
                <button id="example-runs" onclick={{ let (q, on) = (q.clone(), on.clone()); Callback::from(move |_| on.emit(q.with("runs", example_runs()).with("fit", ""))) }}>{ "Load example runs" }</button>
            </div>
            <textarea id="runs" rows="8" value={runs_text} oninput={crate::components::input_setter(q, on, "runs")} />
            <div class="row">
                { field("Bootstrap resamples", "bootstrap", &q.get("bootstrap", BROWSER_BOOTSTRAP), q, on, None) }
                { field("Restarts", "restarts", &q.get("restarts", BROWSER_RESTARTS), q, on, None) }
                { field("Seed", "seed", &q.get("seed", &rooflaw::api::defaults::FIT_SEED.to_string()), q, on, None) }
                { select("Loss", "robust", &q.get("robust", "huber"), &[("huber".into(), "Huber".into()), ("least-squares".into(), "least squares".into())], q, on) }
                <button id="fit" class="primary" onclick={{ let (q, on) = (q.clone(), on.clone()); Callback::from(move |_| on.emit(q.with("fit", "1"))) }}>{ "Fit" }</button>
            </div>
            { result }
        </section>
    }
}
