//! Lab: the training runs of a rooflaw backend (`rooflaw serve`), when the site is served by one or pointed
//! at one with `?api=URL`: queue a run (an architecture from the Architecture page's "train this" link),
//! follow every run's loss live (Server-Sent Events), cancel and retry, fit the law on completed runs and
//! open the fitted law in the Explorer. Without a backend it says how to start one.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use rooflaw::law::Law;
use serde_json::{json, Value};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::{field, OnQuery};
use crate::lab::{api_base, call, store_token, stored_token};
use crate::law_state::lawc;
use crate::pages::campaign::CampaignView;
use crate::plot::{axes, extent, legend, Scale, H, W};
use crate::state::{to_hash, Query, Route};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub query: Query,
    pub on_query: OnQuery,
}

/// Train loss by step, per run, as the event stream delivers it.
type Curves = Rc<RefCell<BTreeMap<i64, Vec<(f64, f64)>>>>;

const COLOURS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

fn loss_plot(runs: &[Value], curves: &BTreeMap<i64, Vec<(f64, f64)>>) -> Html {
    let shown: Vec<(i64, &Vec<(f64, f64)>)> = runs
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .filter_map(|id| curves.get(&id).filter(|c| !c.is_empty()).map(|c| (id, c)))
        .take(8)
        .collect();
    if shown.is_empty() {
        return html! { <p class="note" id="lab-curves-empty">{ "Loss curves appear here while runs train." }</p> };
    }
    let (x0, x1) = extent(shown.iter().flat_map(|(_, c)| c.iter().map(|p| p.0)), false);
    let (y0, y1) = extent(shown.iter().flat_map(|(_, c)| c.iter().map(|p| p.1)), false);
    let (x, y) = (Scale::x(x0, x1, false), Scale::y(y0, y1, false));
    let items: Vec<(&str, String)> =
        shown.iter().enumerate().map(|(i, (id, _))| (COLOURS[i % COLOURS.len()], format!("run {id}"))).collect();
    html! {
        <svg id="lab-curves" class="plot" viewBox={format!("0 0 {W} {H}")} xmlns="http://www.w3.org/2000/svg">
            { axes(&x, &y, "step", "train loss (nats per token)") }
            { for shown.iter().enumerate().map(|(i, (id, c))| {
                let points = c.iter().map(|(s, l)| format!("{:.1},{:.1}", x.px(*s), y.px(*l))).collect::<Vec<_>>().join(" ");
                html! { <polyline class="curve" data-run={id.to_string()} points={points} fill="none" stroke={COLOURS[i % COLOURS.len()]} stroke-width="1.5" /> }
            }) }
            { legend(&items) }
        </svg>
    }
}

/// Sets `state` to a new value (from the shared cell), so that it re-renders and changes as a dependency.
fn bump(ticks: &Rc<RefCell<u32>>, state: &UseStateHandle<u32>) {
    let mut t = ticks.borrow_mut();
    *t += 1;
    state.set(*t);
}

fn last_loss(curves: &BTreeMap<i64, Vec<(f64, f64)>>, id: i64) -> String {
    curves.get(&id).and_then(|c| c.last()).map(|(s, l)| format!("step {s:.0}: {l:.4}")).unwrap_or_default()
}

#[function_component(LabPage)]
pub fn lab_page(props: &Props) -> Html {
    let (q, on) = (&props.query, &props.on_query);
    let base = api_base(q);
    let health = use_state(|| None::<Result<Value, String>>);
    let token = use_state(stored_token);
    let token_input = use_state(stored_token);
    let runs = use_state(Vec::<Value>::new);
    let fits = use_state(Vec::<Value>::new);
    let campaigns = use_state(Vec::<Value>::new);
    let datasets = use_state(Vec::<Value>::new);
    let message = use_state(|| None::<Result<String, String>>);
    let selected = use_state(BTreeSet::<i64>::new);
    // Counters that change to re-render or reload; callbacks bump them through a shared cell, because a
    // state handle captured by a closure keeps the value it had then.
    let refresh = use_state(|| 0u32);
    let drawn = use_state(|| 0u32);
    let ticks = use_mut_ref(|| 0u32);
    let curves: Curves = use_mut_ref(BTreeMap::new);

    // Is there a backend?
    {
        let (health, base) = (health.clone(), base.clone());
        use_effect_with(base.clone(), move |_| {
            spawn_local(async move { health.set(Some(call("GET", &format!("{base}/health"), "", None).await)) });
        });
    }
    let ready = matches!(&*health, Some(Ok(_)));
    // The lists, again whenever a run changes state.
    {
        let (runs, fits, datasets, campaigns, base) = (runs.clone(), fits.clone(), datasets.clone(), campaigns.clone(), base.clone());
        use_effect_with((ready, *refresh), move |(ready, _)| {
            if *ready {
                spawn_local(async move {
                    if let Ok(v) = call("GET", &format!("{base}/runs?limit=50"), "", None).await {
                        runs.set(v["runs"].as_array().cloned().unwrap_or_default());
                    }
                    if let Ok(v) = call("GET", &format!("{base}/fits?limit=20"), "", None).await {
                        fits.set(v["fits"].as_array().cloned().unwrap_or_default());
                    }
                    if let Ok(v) = call("GET", &format!("{base}/datasets"), "", None).await {
                        datasets.set(v["datasets"].as_array().cloned().unwrap_or_default());
                    }
                    if let Ok(v) = call("GET", &format!("{base}/campaigns?limit=20"), "", None).await {
                        campaigns.set(v["campaigns"].as_array().cloned().unwrap_or_default());
                    }
                });
            }
        });
    }
    // Every run's events, live: metrics extend the curves, status changes reload the lists.
    {
        let (curves, drawn, refresh, base) = (curves.clone(), drawn.clone(), refresh.clone(), base.clone());
        let (ticks_m, ticks_s) = (ticks.clone(), ticks.clone());
        use_effect_with(ready, move |ready| {
            let source = if *ready { web_sys::EventSource::new(&format!("{base}/events")).ok() } else { None };
            let mut listeners = Vec::new();
            if let Some(s) = &source {
                let on_metrics = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                    let v: Value = serde_json::from_str(&e.data().as_string().unwrap_or_default()).unwrap_or(Value::Null);
                    if let (Some(id), Some(step), Some(loss)) =
                        (v["run_id"].as_i64(), v["data"]["step"].as_f64(), v["data"]["train_loss"].as_f64())
                    {
                        let mut c = curves.borrow_mut();
                        let curve = c.entry(id).or_default();
                        // A resumed run may send steps again after its checkpoint: keep the newest.
                        curve.retain(|p| p.0 < step);
                        curve.push((step, loss));
                        drop(c);
                        bump(&ticks_m, &drawn);
                    }
                });
                let on_status = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| bump(&ticks_s, &refresh));
                let _ = s.add_event_listener_with_callback("metrics", on_metrics.as_ref().unchecked_ref());
                let _ = s.add_event_listener_with_callback("status", on_status.as_ref().unchecked_ref());
                listeners.push(on_metrics);
                listeners.push(on_status);
            }
            move || {
                if let Some(s) = source {
                    s.close();
                }
                drop(listeners);
            }
        });
    }

    let no_backend = |why: &str| {
        html! {
            <section class="page" id="lab">
                <h2>{ "Lab" }</h2>
                <div id="lab-none" class="note">
                    <p>{ format!("No rooflaw backend answers at {base} ({why}).") }</p>
                    <p>{ "The Lab trains candidate architectures for real and follows their loss live. Start a backend on a machine that can train (it serves this site too):" }</p>
                    <pre>{ "scripts/run.sh          # from a checkout: site + API + a training worker on SQLite\nrooflaw serve --dir dist --data-dir DIR --workers 1\nrooflaw token create --name me --scope train" }</pre>
                    <p>{ "or open this page with ?api=https://your-backend (which must allow this site with --cors-origin). Everything else on this site works without a backend." }</p>
                </div>
            </section>
        }
    };
    match &*health {
        None => {
            return html! { <section class="page" id="lab"><h2>{ "Lab" }</h2><p id="lab-loading">{ "Looking for a backend…" }</p></section> }
        }
        Some(Err(e)) => return no_backend(e),
        Some(Ok(_)) => {}
    }

    let save_token = {
        let (token, token_input) = (token.clone(), token_input.clone());
        Callback::from(move |_| {
            store_token(token_input.trim());
            token.set(token_input.trim().to_string());
        })
    };
    let on_token_input = {
        let token_input = token_input.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(t) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                token_input.set(t.value());
            }
        })
    };
    // An action: POST, then a message and a reload.
    let act = {
        let (token, message, refresh, ticks) = (token.clone(), message.clone(), refresh.clone(), ticks.clone());
        Rc::new(move |url: String, body: Option<String>, done: String| {
            let (token, message, refresh, ticks) = (token.clone(), message.clone(), refresh.clone(), ticks.clone());
            spawn_local(async move {
                match call("POST", &url, &token, Some(body.unwrap_or_default())).await {
                    Ok(v) => message.set(Some(Ok(format!("{done}{}", v["id"].as_i64().map(|i| format!(" (id {i})")).unwrap_or_default())))),
                    Err(e) => message.set(Some(Err(e))),
                }
                bump(&ticks, &refresh);
            });
        })
    };

    // The run form: an architecture spec from the "train this" link, or a reference model by name.
    let spec = q.opt("train").map(str::to_string);
    let dataset = q.get("t_data", datasets.first().and_then(|d| d["name"].as_str()).unwrap_or(""));
    let submit = {
        let (act, base, q, spec, dataset) = (act.clone(), base.clone(), q.clone(), spec.clone(), dataset.clone());
        Callback::from(move |_| {
            let num = |k: &str, d: f64| q.get(k, "").trim().parse::<f64>().unwrap_or(d);
            let mut body = json!({
                "data": q.get("t_data", &dataset),
                "options": {
                    "tokens": num("t_tokens", 1_000_000.0) as u64,
                    "batch": num("t_batch", 8.0) as u64,
                    "seq": num("t_seq", 256.0) as u64,
                    "lr": num("t_lr", 1e-3),
                    "warmup": num("t_warmup", 100.0) as u64,
                },
            });
            match &spec {
                Some(s) => body["spec"] = serde_json::from_str(s).unwrap_or(Value::Null),
                None => body["model"] = json!(q.get("t_model", "smollm2-135m")),
            }
            act(format!("{base}/runs"), Some(body.to_string()), "queued".into());
        })
    };
    let fit = {
        let (act, base, selected) = (act.clone(), base.clone(), selected.clone());
        Callback::from(move |_| {
            act(format!("{base}/fits"), Some(json!({ "runs": selected.iter().collect::<Vec<_>>() }).to_string()), "fitted".into())
        })
    };

    let curves_now = curves.borrow().clone();
    let run_rows = runs.iter().map(|r| {
        let id = r["id"].as_i64().unwrap_or(-1);
        let status = r["status"].as_str().unwrap_or("").to_string();
        let val = r["record"]["runs"][0]["val_loss"].as_f64().map(|v| format!("{v:.4}")).unwrap_or_default();
        let cancel = {
            let (act, base) = (act.clone(), base.clone());
            Callback::from(move |_| act(format!("{base}/runs/{id}/cancel"), None, format!("cancelled run {id}")))
        };
        let retry = {
            let (act, base) = (act.clone(), base.clone());
            Callback::from(move |_| act(format!("{base}/runs/{id}/retry"), None, format!("queued run {id} again")))
        };
        let toggle = {
            let selected = selected.clone();
            Callback::from(move |_| {
                let mut s = (*selected).clone();
                if !s.remove(&id) {
                    s.insert(id);
                }
                selected.set(s);
            })
        };
        html! {
            <tr id={format!("run-{id}")} class={classes!("run", status.clone())}>
                <td>{ if status == "completed" { html! { <input type="checkbox" class="fit-pick" checked={selected.contains(&id)} onchange={toggle} /> } } else { html! {} } }</td>
                <td>{ id }</td>
                <td>{ r["name"].as_str().unwrap_or("") }</td>
                <td class="status">{ status.clone() }</td>
                <td>{ r["attempts"].as_i64().unwrap_or(0) }</td>
                <td class="loss">{ last_loss(&curves_now, id) }</td>
                <td class="val">{ val }</td>
                <td class="error">{ r["error"].as_str().unwrap_or("") }</td>
                <td>
                    if status == "queued" || status == "running" { <button class="cancel" onclick={cancel}>{ "Cancel" }</button> }
                    if status == "failed" || status == "cancelled" { <button class="retry" onclick={retry}>{ "Retry" }</button> }
                </td>
            </tr>
        }
    });
    let fit_rows = fits.iter().map(|f| {
        let law: Option<Law> = serde_json::from_value(f["law"].clone()).ok();
        if let Some(l) = &law {
            crate::law_state::remember(l);
        }
        let link = law.map(|l| to_hash(Route::Explorer, &Query::default().with("law", "custom").with("lawc", lawc(&l.coefficients))));
        html! {
            <tr class="fit">
                <td>{ f["id"].as_i64().unwrap_or(0) }</td>
                <td>{ f["name"].as_str().unwrap_or("") }</td>
                <td>{ f["run_ids"].as_array().map_or(0, Vec::len) }</td>
                <td>{ f["report"]["train"]["r2"].as_f64().map(|v| format!("{v:.4}")).unwrap_or_default() }</td>
                <td>if let Some(h) = link { <a class="open-fit" href={h}>{ "Open in the Explorer" }</a> }</td>
            </tr>
        }
    });
    let shown_campaign: Option<i64> =
        q.opt("campaign").and_then(|c| c.parse().ok()).or_else(|| campaigns.first().and_then(|c| c["id"].as_i64()));
    let campaign_rows = campaigns.iter().map(|c| {
        let id = c["id"].as_i64().unwrap_or(0);
        let href = to_hash(Route::Lab, &q.with("campaign", id.to_string()));
        html! {
            <tr class="campaign-row">
                <td>{ id }</td>
                <td><a href={href}>{ c["name"].as_str().unwrap_or("") }</a></td>
                <td class="status">{ c["status"].as_str().unwrap_or("") }</td>
                <td>{ c["executor"].as_str().unwrap_or("") }</td>
                <td>{ c["stop_reason"].as_str().unwrap_or("") }</td>
            </tr>
        }
    });
    let dataset_options: Vec<(String, String)> = datasets
        .iter()
        .filter_map(|d| {
            d["name"]
                .as_str()
                .map(|n| (n.to_string(), format!("{n} ({} tokens, {})", d["train_tokens"], d["tokenizer"].as_str().unwrap_or(""))))
        })
        .collect();
    html! {
        <section class="page" id="lab">
            <h2>{ "Lab" }</h2>
            <p class="note">{ format!("Backend {base}: {} database.", health.as_ref().and_then(|h| h.as_ref().ok()).and_then(|h| h["database"].as_str()).unwrap_or("?")) }</p>
            <div class="columns">
                <div class="side">
                    <fieldset class="controls">
                        <legend>{ "Token" }</legend>
                        <label class="field"><span>{ "API token (kept in this browser)" }</span>
                            <input id="lab-token" type="password" value={(*token_input).clone()} oninput={on_token_input} /></label>
                        <button id="lab-token-save" onclick={save_token}>{ "Use this token" }</button>
                        <p class="note">{ if token.is_empty() { "Reading needs no token; queueing, cancelling and fitting do (rooflaw token create --scope train)." } else { "A token is set." } }</p>
                    </fieldset>
                    <fieldset class="controls">
                        <legend>{ "Train" }</legend>
                        if let Some(s) = &spec { <p class="note" id="lab-spec">{ format!("Architecture from the link: {s}") }</p> }
                        else { { field("Reference model", "t_model", &q.get("t_model", "smollm2-135m"), q, on, None) } }
                        { crate::components::select("Data", "t_data", &dataset, &dataset_options, q, on) }
                        { field("Tokens", "t_tokens", &q.get("t_tokens", "1000000"), q, on, None) }
                        { field("Batch", "t_batch", &q.get("t_batch", "8"), q, on, None) }
                        { field("Sequence", "t_seq", &q.get("t_seq", "256"), q, on, None) }
                        { field("Learning rate", "t_lr", &q.get("t_lr", "0.001"), q, on, None) }
                        { field("Warm-up steps", "t_warmup", &q.get("t_warmup", "100"), q, on, None) }
                        <button id="lab-submit" onclick={submit}>{ "Queue the run" }</button>
                        if dataset_options.is_empty() { <p class="note">{ "The backend has no prepared data: rooflaw data prepare … --out DATA_DIR/datasets/NAME" }</p> }
                    </fieldset>
                    if let Some(m) = &*message {
                        <p id="lab-message" class={if m.is_ok() { "note" } else { "field-error" }}>{ match m { Ok(s) | Err(s) => s.clone() } }</p>
                    }
                </div>
                <div class="main">
                    <h3>{ "Runs" }</h3>
                    <table class="data" id="runs"><thead><tr><th>{ "fit" }</th><th>{ "id" }</th><th>{ "name" }</th><th>{ "status" }</th><th>{ "attempts" }</th><th>{ "train loss" }</th><th>{ "validation loss" }</th><th>{ "error" }</th><th></th></tr></thead>
                    <tbody>{ for run_rows }</tbody></table>
                    { loss_plot(&runs, &curves_now) }
                    <h3>{ "Fitted laws" }</h3>
                    <button id="lab-fit" onclick={fit} disabled={selected.is_empty()}>{ format!("Fit the law on the {} selected runs", selected.len()) }</button>
                    <table class="data" id="fits"><thead><tr><th>{ "id" }</th><th>{ "name" }</th><th>{ "runs" }</th><th>{ "R²" }</th><th></th></tr></thead>
                    <tbody>{ for fit_rows }</tbody></table>
                    <h3>{ "Campaigns" }</h3>
                    if campaigns.is_empty() {
                        <p class="note" id="campaigns-none">{ "No campaign yet: rounds of runs chosen from the frontier's uncertainty. Start one with `rooflaw campaign run REQUEST.json` or POST /api/v1/campaigns." }</p>
                    } else {
                        <table class="data" id="campaigns"><thead><tr><th>{ "id" }</th><th>{ "name" }</th><th>{ "status" }</th><th>{ "executor" }</th><th>{ "stopped because" }</th></tr></thead>
                        <tbody>{ for campaign_rows }</tbody></table>
                    }
                    if let Some(id) = shown_campaign { <CampaignView base={base.clone()} id={id} refresh={*refresh} /> }
                </div>
            </div>
        </section>
    }
}
