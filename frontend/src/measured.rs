//! Measured latency beside the prediction, on the Architecture page: when the site is served by a rooflaw
//! backend (or `?api=` names one), the calibrations it fitted from its agents' measurements; for the
//! device shown, each profile's measured points against its predictions (log-log, with the line where
//! they agree), this architecture's points marked and listed, and the profile's leave-one-out error.

use rooflaw::calibrate::{CalibrationProfile, FittedRow};
use serde_json::Value;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::ms;
use crate::lab::call;
use crate::plot::{axes, extent, Scale, H, W};

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The API's base URL.
    pub base: String,
    /// The device shown.
    pub device: String,
    /// The architecture's name.
    pub model: String,
}

/// The newest stored profile of each label that has rows for `device`.
fn for_device(list: &[Value], device: &str) -> Vec<CalibrationProfile> {
    let mut out: Vec<CalibrationProfile> = Vec::new();
    for c in list {
        let Ok(p) = serde_json::from_value::<CalibrationProfile>(c["profile"].clone()) else { continue };
        if p.rows.iter().any(|r| r.device == device) && !out.iter().any(|o| o.label == p.label) {
            out.push(p);
        }
    }
    out
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{:.1}%", v * 100.0))
}

fn scatter(p: &CalibrationProfile, model: &str, id: &str) -> Html {
    let rows: Vec<&FittedRow> = p.rows.iter().filter(|r| r.measured_secs > 0.0 && r.predicted_secs > 0.0).collect();
    let (lo, hi) = extent(rows.iter().flat_map(|r| [r.measured_secs, r.predicted_secs]), true);
    let (sx, sy) = (Scale::x(lo, hi, true), Scale::y(lo, hi, true));
    html! {
        <svg id={id.to_string()} viewBox={format!("0 0 {W} {H}")} class="plot measured-plot">
            { axes(&sx, &sy, "measured (s, log)", "predicted, calibrated (s, log)") }
            <line class="diag" x1={sx.px(lo).to_string()} y1={sy.px(lo).to_string()} x2={sx.px(hi).to_string()} y2={sy.px(hi).to_string()} />
            { for rows.iter().map(|r| { let this = r.model == model; html! {
                <circle cx={format!("{:.1}", sx.px(r.measured_secs))} cy={format!("{:.1}", sy.px(r.predicted_secs))} r={if this { "6" } else { "3.5" }}
                    class={classes!(if r.phase == "prefill" { "op-prefill" } else { "op-decode" }, this.then_some("this-model"))}>
                    <title>{ format!("{} {}: measured {}, predicted {}", r.model, r.phase, ms(r.measured_secs), ms(r.predicted_secs)) }</title></circle>
            }})}
        </svg>
    }
}

/// Measured points and the calibration's error for the page's device and architecture.
#[function_component(Measured)]
pub fn measured(props: &Props) -> Html {
    let list = use_state(|| None::<Result<Vec<Value>, String>>);
    {
        let list = list.clone();
        use_effect_with(props.base.clone(), move |base| {
            let url = format!("{base}/calibrations?limit=100");
            spawn_local(async move {
                let got = call("GET", &url, "", None).await.map(|v| v["calibrations"].as_array().cloned().unwrap_or_default());
                list.set(Some(got));
            });
        });
    }
    let how = "measure with rooflaw-agent (or rooflaw measure latency), then POST /api/v1/calibrations";
    let body = match &*list {
        None => html! {},
        Some(Err(_)) => html! {
            <p class="note" id="measured-none">{ "Measured latency appears here when the site is served by `rooflaw serve` and its agents have measured this device: " }{ how }{ "." }</p>
        },
        Some(Ok(all)) => {
            let profiles = for_device(all, &props.device);
            if profiles.is_empty() {
                html! { <p class="note" id="measured-none">{ format!("The backend has no calibration for {} yet: {how}.", props.device) }</p> }
            } else {
                html! { <>{ for profiles.iter().enumerate().map(|(i, p)| {
                    let mine: Vec<&FittedRow> = p.rows.iter().filter(|r| r.model == props.model && r.device == props.device).collect();
                    html! { <div class="measured">
                        <p class="note">{ format!("{}: {} rows, leave-one-out error {} on decode, {} on prefill (η_c {:.2}, η_m {:.3}). Orange: decode steps, blue: prefills; the large circles are this architecture.", p.label, p.rows_used, pct(p.loo_mape_decode), pct(p.loo_mape_prefill), p.efficiency.compute, p.efficiency.memory) }</p>
                        { scatter(p, &props.model, &format!("measured-plot-{i}")) }
                        if mine.is_empty() {
                            <p class="note">{ format!("{} was not among the measured architectures; the points are the others'.", props.model) }</p>
                        } else {
                            <table class="data measured-table"><thead><tr><th>{ "phase" }</th><th>{ "measured" }</th><th>{ "predicted" }</th><th>{ "error" }</th><th>{ "leave-one-out" }</th></tr></thead><tbody>
                            { for mine.iter().map(|r| html! { <tr><td>{ r.phase.clone() }</td><td>{ ms(r.measured_secs) }</td><td>{ ms(r.predicted_secs) }</td>
                                <td>{ format!("{:+.1}%", (r.predicted_secs / r.measured_secs - 1.0) * 100.0) }</td><td>{ r.loo_predicted_secs.map_or("–".into(), ms) }</td></tr> }) }
                            </tbody></table>
                        }
                    </div> }
                }) }</> }
            }
        }
    };
    html! { <div id="measured">{ body }</div> }
}
