//! A training campaign on the Lab page: its rounds (runs, fit, how far the frontier moved, the best design
//! and its odds) and the uncertain frontier after the latest fitted round: the band, the frontier's
//! designs coloured by P(Pareto), and the trained designs at their measured loss.

use serde_json::Value;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::ms;
use crate::lab::call;
use crate::law_state::lawc;
use crate::plot::{axes, extent, legend, p_colour, Scale, H, W};
use crate::state::{to_hash, Query, Route};

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The backend's API base.
    pub base: String,
    /// The campaign's id.
    pub id: i64,
    /// Changes when a run changes state (reloads the campaign).
    pub refresh: u32,
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// The uncertain frontier of one round's summary.
fn frontier_plot(summary: &Value, round: i64) -> Html {
    let front = summary["frontier"].as_array().cloned().unwrap_or_default();
    let band = summary["band"].as_array().cloned().unwrap_or_default();
    let pts: Vec<(f64, f64, f64, Option<f64>)> = front
        .iter()
        .filter_map(|d| Some((num(&d["latency_secs"])? * 1e3, num(&d["loss"])?, num(&d["p_pareto"]).unwrap_or(0.0), num(&d["measured"]))))
        .collect();
    if pts.is_empty() {
        return html! {};
    }
    let ys =
        pts.iter().flat_map(|p| [Some(p.1), p.3]).flatten().chain(band.iter().flat_map(|b| [num(&b["low"]), num(&b["high"])]).flatten());
    let (x0, x1) = extent(pts.iter().map(|p| p.0).chain(band.iter().filter_map(|b| num(&b["latency_secs"]).map(|x| x * 1e3))), true);
    let (y0, y1) = extent(ys, false);
    let (sx, sy) = (Scale::x(x0, x1, true), Scale::y(y0, y1, false));
    let edge: Vec<(f64, f64, f64)> = band
        .iter()
        .filter_map(|b| Some((sx.px(num(&b["latency_secs"])? * 1e3), sy.px(num(&b["low"])?), sy.px(num(&b["high"])?))))
        .collect();
    let polygon = edge
        .iter()
        .map(|(x, lo, _)| format!("{x:.1},{lo:.1}"))
        .chain(edge.iter().rev().map(|(x, _, hi)| format!("{x:.1},{hi:.1}")))
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        <svg id="campaign-plot" class="plot" data-round={round.to_string()} data-designs={pts.len().to_string()} viewBox={format!("0 0 {W} {H}")} xmlns="http://www.w3.org/2000/svg">
            { axes(&sx, &sy, "latency of the objective (ms, log scale)", "predicted loss (nats/token)") }
            if !edge.is_empty() { <polygon id="campaign-band" class="band" points={polygon} /> }
            { for pts.iter().map(|(x, y, p, _)| html! {
                <circle class="campaign-front" cx={format!("{:.1}", sx.px(*x))} cy={format!("{:.1}", sy.px(*y))} r="4" fill={p_colour(*p)}><title>{ format!("P(Pareto) {p:.2}") }</title></circle>
            }) }
            { for pts.iter().filter_map(|(x, _, _, m)| m.map(|m| (*x, m))).map(|(x, m)| { let (cx, cy) = (sx.px(x), sy.px(m)); html! {
                <path class="campaign-measured" d={format!("M{} {}l8 8m0 -8l-8 8", cx - 4.0, cy - 4.0)} stroke="#d62728" stroke-width="1.5" />
            }}) }
            { legend(&[("#1f77b4", "frontier designs: pale rare, blue sure".into()), ("#aec7e8", "90% band of the frontier".into()), ("#d62728", "trained: measured loss".into())]) }
        </svg>
    }
}

/// A link to the Explorer with a round's law (its bootstrap kept for the tab, so the Explorer draws from it).
fn explorer_link(law: &Value) -> Option<String> {
    let law: rooflaw::law::Law = serde_json::from_value(law.clone()).ok()?;
    crate::law_state::remember(&law);
    Some(to_hash(Route::Explorer, &Query::default().with("law", "custom").with("lawc", lawc(&law.coefficients))))
}

/// One campaign: rounds and the latest uncertain frontier.
#[function_component(CampaignView)]
pub fn campaign_view(props: &Props) -> Html {
    let view = use_state(|| None::<Result<Value, String>>);
    // Bumped after this view changes the campaign (a cancel), to load it again; the cancel's answer.
    let again = use_state(|| 0u32);
    let message = use_state(|| None::<Result<String, String>>);
    {
        let (view, url) = (view.clone(), format!("{}/campaigns/{}", props.base, props.id));
        use_effect_with((props.id, props.refresh, *again), move |_| {
            spawn_local(async move { view.set(Some(call("GET", &url, "", None).await)) });
        });
    }
    let v = match &*view {
        None => return html! { <p id="campaign-loading">{ "Loading the campaign…" }</p> },
        Some(Err(e)) => return html! { <p class="field-error" id="campaign-error">{ e.clone() }</p> },
        Some(Ok(v)) => v,
    };
    let c = &v["campaign"];
    let jobs = v["jobs"].as_array().cloned().unwrap_or_default();
    let rounds = v["rounds"].as_array().cloned().unwrap_or_default();
    let rows = rounds.iter().map(|r| {
        let round = r["round"].as_i64().unwrap_or(-1);
        let mine: Vec<&Value> = jobs.iter().filter(|j| j["round"].as_i64() == Some(round)).collect();
        let count = |s: &str| mine.iter().filter(|j| j["status"] == s).count();
        let s = &r["summary"];
        html! {
            <tr class="campaign-round">
                <td>{ round }</td>
                <td>{ mine.len() }</td>
                <td>{ count("completed") }</td>
                <td>{ count("failed") + count("cancelled") }</td>
                <td>{ num(&s["fit"]["rmse"]).map(|x| format!("{x:.4}")).unwrap_or_else(|| r["status"].as_str().unwrap_or("").to_string()) }</td>
                <td>{ num(&s["shift"]).map(|x| format!("{x:.5}")).unwrap_or_else(|| "–".into()) }</td>
                <td>{ s["best"]["name"].as_str().unwrap_or("–") }</td>
                <td>{ num(&s["best"]["latency_secs"]).map(ms).unwrap_or_else(|| "–".into()) }</td>
                <td>{ num(&s["odds"]["p_best"]).map(|p| format!("{p:.2}")).unwrap_or_else(|| "–".into()) }</td>
            </tr>
        }
    });
    let latest = rounds.iter().rev().find(|r| r["summary"]["frontier"].is_array());
    let cancel = {
        let (url, again, message) = (format!("{}/campaigns/{}/cancel", props.base, props.id), again.clone(), message.clone());
        Callback::from(move |_: MouseEvent| {
            let (url, again, message) = (url.clone(), again.clone(), message.clone());
            spawn_local(async move {
                match call("POST", &url, &crate::lab::stored_token(), Some(String::new())).await {
                    Ok(_) => {
                        message.set(Some(Ok("cancelled: its queued and running jobs were cancelled".into())));
                        again.set(*again + 1);
                    }
                    Err(e) => message.set(Some(Err(e))),
                }
            })
        })
    };
    html! {
        <div id="campaign">
            <h3>{ format!("Campaign {}: {}", c["id"], c["name"].as_str().unwrap_or("")) }</h3>
            <p class="note" id="campaign-status">{ format!("{}{} — {} runs on the {} executor, chosen by {}", c["status"].as_str().unwrap_or(""),
                c["stop_reason"].as_str().map(|r| format!(" ({r})")).unwrap_or_default(), jobs.len(), c["executor"].as_str().unwrap_or(""),
                rooflaw::campaign::describe_choice(&c["request"])) }</p>
            if c["status"] == "running" {
                <button id="campaign-cancel" onclick={cancel}>{ "Cancel the campaign" }</button>
            }
            if let Some(m) = &*message {
                <p id="campaign-message" class={if m.is_ok() { "note" } else { "field-error" }}>{ match m { Ok(s) | Err(s) => s.clone() } }</p>
            }
            <table class="data" id="campaign-rounds">
                <thead><tr><th>{ "round" }</th><th>{ "runs" }</th><th>{ "completed" }</th><th>{ "failed or cancelled" }</th><th>{ "fit RMSE" }</th><th>{ "frontier moved (nats)" }</th><th>{ "best design" }</th><th>{ "its latency" }</th><th>{ "P(best)" }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            if let Some(r) = latest {
                <p class="note">{ format!("The frontier after round {}: each design coloured by the share of the law's bootstrap draws in which it is on the frontier; trained designs at their measured loss. ", r["round"]) }
                    if let Some(h) = explorer_link(&r["summary"]["law"]) { <a id="campaign-explorer" href={h}>{ "Open this law in the Explorer" }</a> }</p>
                { frontier_plot(&r["summary"], r["round"].as_i64().unwrap_or(0)) }
            }
        </div>
    }
}
