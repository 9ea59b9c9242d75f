//! Explorer: every candidate of a design space on a device, the loss–latency frontier, reference
//! models, budgets with the feasible region, Table 2 scenarios, the best feasible design, exports.

use std::rc::Rc;

use rooflaw::api::{candidate_records, defaults, to_csv, CandidateRecord};
use rooflaw::calibrate::Interval;
use rooflaw::frontier::{best_feasible, pareto_2d, Budget, Evaluator, Objective, Point, SCENARIOS};
use rooflaw::layout::{place_labels, text_width, Label, Rect};
use rooflaw::models::reference_models;
use rooflaw::space::Candidate;
use rooflaw::uncertain::{uncertain_frontier, Settings, Uncertainty, DEFAULT_DRAWS};
use rooflaw::Level;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::{
    arch_link, describe, download, field, gb, interval_note, ms, now_ms, select, svg_of, target_controls, thousands, OnQuery,
};
use crate::inputs::{level_of, number, objective_of, space_candidates, target_of};
use crate::law_state::law_of;
use crate::plot::{axes, extent, legend, p_colour, Scale, H, M, W};
use crate::state::Query;

/// One evaluation of the space.
#[derive(Debug)]
pub struct Evaluated {
    /// Candidates.
    pub candidates: Rc<Vec<Candidate>>,
    /// Their points.
    pub points: Vec<Point>,
    /// Frontier indices by latency.
    pub front: Vec<usize>,
    /// Reference models' points.
    pub refs: Vec<(String, Point)>,
    /// Milliseconds spent evaluating and extracting the frontier.
    pub eval_ms: f64,
    /// Usable memory of the device.
    pub usable_memory: f64,
    /// Extent of the candidates' latencies in seconds (padded, log): the latency slider's range.
    pub latency_range_secs: (f64, f64),
    /// Largest memory footprint or the usable memory, in GB: the memory slider's range.
    pub memory_max_gb: f64,
    /// The uncertain frontier (None: no draws asked for, or nothing uncertain to draw from).
    pub uncertainty: Option<Uncertainty>,
    /// Milliseconds spent on it.
    pub uncertainty_ms: f64,
    /// What the draws rest on, or why there are none.
    pub uncertainty_note: String,
    /// The calibration's interval of the objective (calibrated level only).
    pub interval: Option<Interval>,
}

// An evaluation is identified by its allocation: the memo hands out a new one when inputs change.
impl PartialEq for Evaluated {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

/// The frontier's (or every candidate's) records: the one candidate record of every export.
fn records(ev: &Evaluated, only_front: bool) -> Vec<CandidateRecord> {
    candidate_records(&ev.candidates, &ev.points, &ev.front, !only_front, ev.uncertainty.as_ref())
}

/// What the draws rest on, in words.
fn uncertainty_note(u: &Uncertainty) -> String {
    let law = if u.law_draws > 0 { format!("the law's {} bootstrap fits", u.law_draws) } else { "the law taken as exact".into() };
    let latency = u.latency.map_or("latencies taken as exact".to_string(), |l| {
        format!("a latency factor of ×e^({:+.2} ± {:.2}) shared by every design (the calibration's interval)", l.bias, l.sd)
    });
    format!("{} draws from {law} and {latency}", u.draws)
}

fn csv_rows(ev: &Evaluated, only_front: bool) -> String {
    to_csv(&records(ev, only_front)).unwrap_or_else(|e| e.to_string())
}

fn json_rows(ev: &Evaluated, only_front: bool) -> String {
    serde_json::to_string(&records(ev, only_front)).unwrap_or_default()
}

/// The legend's rows (the uncertain frontier's when there is one).
fn legend_rows(ev: &Evaluated) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("#999", format!("{} candidates", thousands(ev.points.len() as u64))),
        ("#1f77b4", format!("Pareto frontier ({})", ev.front.len())),
    ];
    if ev.uncertainty.is_some() {
        rows.push(("#fdae61", "P(on the frontier): pale rare, blue sure".into()));
        rows.push(("#aec7e8", "90% band of the frontier".into()));
    }
    rows.push(("#d62728", "reference models".into()));
    rows.push(("#2ca02c", "feasible region, best design".into()));
    rows
}

/// Props of the parts of the plot and page that do not move with the budgets: Yew skips them when a
/// budget changes (the evaluation is the same allocation and the query minus budgets is equal).
#[derive(Properties, PartialEq)]
struct StaticProps {
    ev: Rc<Evaluated>,
    sx: Scale,
    sy: Scale,
    y_ppl: bool,
    /// The query without the budget keys, for links.
    link_query: Query,
}

/// Frontier line and points, and the reference models, inside the overlay SVG.
#[function_component(FrontierLayer)]
fn frontier_layer(p: &StaticProps) -> Html {
    let (ev, sx, sy) = (&p.ev, p.sx, p.sy);
    let yv = |pt: &Point| if p.y_ppl { pt.perplexity() } else { pt.loss };
    // Reference names placed so that none covers another (models priced at the same spot get stacked).
    let anchors: Vec<(f64, f64)> = ev.refs.iter().map(|(_, pt)| (sx.px(pt.latency_secs * 1e3), sy.px(yv(pt)))).collect();
    let labels: Vec<Label> =
        ev.refs.iter().zip(&anchors).map(|((n, _), (x, y))| Label { x: *x, y: *y, w: text_width(n, 11.0), h: 13.0 }).collect();
    let placed = place_labels(&labels, Rect { x: M.0, y: M.2, w: W - M.0 - M.1, h: H - M.2 - M.3 });
    let frontier_pts = ev
        .front
        .iter()
        .map(|&i| format!("{:.1},{:.1}", sx.px(ev.points[i].latency_secs * 1e3), sy.px(yv(&ev.points[i]))))
        .collect::<Vec<_>>()
        .join(" ");
    // The band: the 5th–95th percentile of the frontier's loss over the draws, as a closed path.
    let band = ev.uncertainty.as_ref().map(|u| {
        let y = |l: f64| sy.px(if p.y_ppl { l.exp() } else { l });
        let pts: Vec<(f64, f64, f64)> = u.band.iter().filter_map(|b| Some((sx.px(b.latency_secs * 1e3), y(b.low?), y(b.high?)))).collect();
        let upper = pts.iter().map(|(x, lo, _)| format!("{x:.1},{lo:.1}"));
        let lower = pts.iter().rev().map(|(x, _, hi)| format!("{x:.1},{hi:.1}"));
        upper.chain(lower).collect::<Vec<_>>().join(" ")
    });
    html! {
        <g class="frontier-layer">
            if let Some(b) = band.filter(|b| !b.is_empty()) { <polygon id="frontier-band" class="band" points={b} /> }
            <polyline id="frontier-line" class="frontier" points={frontier_pts} />
            { for ev.front.iter().map(|&i| html! { <circle class="front-pt" cx={format!("{:.1}", sx.px(ev.points[i].latency_secs * 1e3))} cy={format!("{:.1}", sy.px(yv(&ev.points[i])))} r="3"><title>{ describe(&ev.candidates[i].arch) }</title></circle> }) }
            { for ev.refs.iter().zip(&anchors).zip(&placed).map(|(((n, _), (x, y)), p)| { let (x, y) = (*x, *y); html! {
                <g class="ref"><path d={format!("M{} {}l8 8m0 -8l-8 8", x - 4.0, y - 4.0)}><title>{ n.clone() }</title></path>
                if p.leader { <line class="leader" x1={x.to_string()} y1={y.to_string()} x2={(if p.rect.x > x { p.rect.x } else { p.rect.x + p.rect.w }).to_string()} y2={(p.rect.y + p.rect.h / 2.0).to_string()} /> }
                if p.shown { <text x={format!("{:.1}", p.rect.x)} y={format!("{:.1}", p.rect.y + p.rect.h - 3.0)}>{ n.clone() }</text> }</g> } }) }
        </g>
    }
}

/// The table of frontier designs under the plot.
#[function_component(FrontierTable)]
fn frontier_table(p: &StaticProps) -> Html {
    let ev = &p.ev;
    html! {
        <table class="data" id="frontier-table">
            <thead><tr><th>{ "#" }</th><th>{ "design" }</th><th>{ "loss" }</th><th>{ "ppl" }</th><th>{ "latency" }</th><th>{ "memory" }</th>
                if ev.uncertainty.is_some() { <th title="share of the draws in which it is on the frontier">{ "P(front)" }</th> }</tr></thead>
            <tbody>{ for ev.front.iter().enumerate().map(|(k, &i)| html! {
                <tr><td>{ k + 1 }</td><td><a href={arch_link(&ev.candidates[i].arch, &p.link_query)}>{ describe(&ev.candidates[i].arch) }</a></td>
                <td>{ format!("{:.4}", ev.points[i].loss) }</td><td>{ format!("{:.2}", ev.points[i].perplexity()) }</td><td>{ ms(ev.points[i].latency_secs) }</td><td>{ gb(ev.points[i].memory_bytes) }</td>
                if let Some(u) = &ev.uncertainty { <td class="p-front">{ format!("{:.2}", u.p_pareto(i)) }</td> }</tr>
            }) }</tbody>
        </table>
    }
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub query: Query,
    pub on_query: OnQuery,
}

#[function_component(Explorer)]
pub fn explorer(props: &Props) -> Html {
    let q = &props.query;
    let on = &props.on_query;
    let space = q.get("space", defaults::SPACE);
    // A bad number is an error beside its field, never replaced by a default.
    let samples = number(q, "samples", "samples", defaults::SAMPLES);
    let seed = number(q, "seed", "seed", defaults::SEED);
    let cands = use_memo((space.clone(), samples.clone(), seed.clone()), |(s, n, seed)| {
        space_candidates(s, n.clone()?, seed.clone()?).map(Rc::new)
    });

    let target = target_of(q);
    let law = law_of(q);
    let objective_r = objective_of(q);
    let level_r = level_of(q);
    let objective = *objective_r.as_ref().unwrap_or(&defaults::OBJECTIVE);
    let level = *level_r.as_ref().unwrap_or(&defaults::LEVEL);
    let key = (q.clone().with("budget", "").with("mem_budget", "").with("y", ""), space.clone(), samples.clone(), seed.clone());
    let evaluated = use_memo(key, {
        let cands = cands.clone();
        let (target, law) = (target.clone(), law.clone());
        let (objective_r, level_r) = (objective_r.clone(), level_r.clone());
        move |(kq, _, _, _): &(Query, _, _, _)| -> Result<Rc<Evaluated>, String> {
            let cands = (*cands).clone()?;
            let (t, law) = (target?, law?);
            let (objective, level) = (objective_r?, level_r?);
            // The built-in calibrations are fitted once per page load: not part of the timed evaluation.
            let efficiency = crate::inputs::calibration_of(kq)?.efficiency;
            let start = now_ms();
            let ev = Evaluator { target: &t, level, efficiency, law: &law, objective };
            let points = ev.evaluate(&cands);
            let front = pareto_2d(&points);
            let eval_ms = now_ms() - start;
            // The uncertain frontier: the law's bootstrap and, at the calibrated level, the calibration's
            // interval; nothing to draw when the law has no bootstrap and the level no interval.
            let draws = number(kq, "draws", "draws", DEFAULT_DRAWS)?;
            let interval =
                (level == Level::Calibrated).then(|| crate::inputs::calibration_of(kq).ok()?.objective_interval(objective)).flatten();
            let start = now_ms();
            let (uncertainty, uncertainty_note) = if draws == 0 {
                (None, "no draws asked for (draws=0)".to_string())
            } else if law.bootstrap.is_empty() && interval.is_none() {
                (None, "nothing uncertain to draw from: the law carries no bootstrap and this latency level no interval (the calibrated level has one)".to_string())
            } else {
                let budget = Budget::default();
                let u = uncertain_frontier(
                    &law,
                    &cands,
                    &points,
                    &Settings { draws: draws.min(1000), seed: 0, interval: interval.as_ref(), budget: &budget, best: None },
                );
                let note = uncertainty_note(&u);
                (Some(u), note)
            };
            let uncertainty_ms = now_ms() - start;
            let refs = reference_models().iter().filter_map(|m| m.architecture().ok()).map(|a| (a.name.clone(), ev.point(&a))).collect();
            let latency_range_secs = extent(points.iter().map(|p| p.latency_secs), true);
            let memory_max_gb = points.iter().map(|p| p.memory_bytes).fold(t.usable_memory_bytes, f64::max) / 1e9;
            Ok(Rc::new(Evaluated {
                candidates: cands,
                points,
                front,
                refs,
                eval_ms,
                usable_memory: t.usable_memory_bytes,
                latency_range_secs,
                memory_max_gb,
                uncertainty,
                uncertainty_ms,
                uncertainty_note,
                interval,
            }))
        }
    });

    let canvas = use_node_ref();
    let hover = use_state(|| None::<usize>);
    let redraw_ms = use_mut_ref(|| 0.0f64);
    let changed_at = use_mut_ref(|| None::<f64>);
    let y_ppl = q.get("y", "loss") == "ppl";
    let yv = move |p: &Point| if y_ppl { p.perplexity() } else { p.loss };

    // Scales from every point and reference, once per evaluation and y axis: budget moves never rescale
    // and never rescan the candidates.
    let scales = use_memo((evaluated.clone(), y_ppl), |(evaluated, y_ppl)| {
        let y_ppl = *y_ppl;
        evaluated.as_ref().as_ref().ok().map(|ev| {
            let (x0, x1) =
                extent(ev.points.iter().map(|p| p.latency_secs * 1e3).chain(ev.refs.iter().map(|r| r.1.latency_secs * 1e3)), true);
            let (y0, y1) = extent(ev.points.iter().map(|p| if y_ppl { p.perplexity() } else { p.loss }), y_ppl);
            (Scale::x(x0, x1, true), Scale::y(y0, y1, y_ppl))
        })
    });
    let scales = *scales;

    // Draw the candidates on the canvas when the evaluation (or the y axis) changes, not on budget moves.
    {
        let canvas = canvas.clone();
        let evaluated = evaluated.clone();
        use_effect_with((evaluated.clone(), scales), move |_| {
            if let (Some(c), Ok(ev), Some((sx, sy))) = (canvas.cast::<web_sys::HtmlCanvasElement>(), evaluated.as_ref(), scales) {
                if let Some(ctx) = c.get_context("2d").ok().flatten().and_then(|x| x.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()) {
                    ctx.clear_rect(0.0, 0.0, W, H);
                    ctx.set_fill_style_str("rgba(120,120,120,0.45)");
                    for p in &ev.points {
                        ctx.fill_rect(sx.px(p.latency_secs * 1e3) - 1.0, sy.px(yv(p)) - 1.0, 2.0, 2.0);
                    }
                    // Candidates that can be on the frontier, coloured by how often they are, the likeliest on top.
                    if let Some(u) = &ev.uncertainty {
                        let mut kept: Vec<(usize, f64)> =
                            u.kept.iter().map(|&i| (i as usize, u.p_pareto(i as usize))).filter(|(_, p)| *p > 0.0).collect();
                        kept.sort_by(|a, b| a.1.total_cmp(&b.1));
                        for (i, p) in kept {
                            ctx.set_fill_style_str(&p_colour(p));
                            let pt = &ev.points[i];
                            ctx.fill_rect(sx.px(pt.latency_secs * 1e3) - 1.5, sy.px(yv(pt)) - 1.5, 3.0, 3.0);
                        }
                    }
                }
            }
        });
    }
    // Redraw time after a budget change: from the input event to the end of this render.
    {
        let redraw_ms = redraw_ms.clone();
        let changed_at = changed_at.clone();
        use_effect(move || {
            if let Some(t0) = changed_at.borrow_mut().take() {
                *redraw_ms.borrow_mut() = now_ms() - t0;
                if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("explorer-plot")) {
                    let _ = el.set_attribute("data-redraw-ms", &format!("{:.3}", *redraw_ms.borrow()));
                    let count = el.get_attribute("data-redraw-count").and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
                    let _ = el.set_attribute("data-redraw-count", &(count + 1).to_string());
                }
            }
        });
    }

    let error = match (&target, &law, &*cands, &objective_r, &level_r) {
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), ..) | (.., Err(e), _) | (.., Err(e)) => Some(e.clone()),
        _ => None,
    };
    let err_of = |r: &Result<_, String>| -> Option<String> { r.as_ref().err().cloned() };
    let mut qs_controls = Vec::new();
    qs_controls.push(select(
        "Objective",
        "objective",
        objective.name(),
        &Objective::ALL.iter().map(|o| (o.name().to_string(), format!("{} latency", o.name()))).collect::<Vec<_>>(),
        q,
        on,
    ));
    qs_controls.push(select(
        "Latency model",
        "level",
        level.name(),
        &[
            ("paper".into(), "paper (the paper's operators, peak)".into()),
            ("roofline".into(), "roofline (all operators, peak)".into()),
            ("calibrated".into(), "calibrated (fitted to measurements)".into()),
        ],
        q,
        on,
    ));
    for (id, e) in [("err-objective", objective_r.as_ref().err()), ("err-level", level_r.as_ref().err())] {
        if let Some(e) = e {
            qs_controls.push(html! { <p class="field-error" id={id}>{ e }</p> });
        }
    }
    qs_controls.push(select(
        "Design space",
        "space",
        &space,
        &[("paper-table5".into(), "paper Table 5 grid (6,560)".into()), ("wide".into(), "wide (Latin hypercube)".into())],
        q,
        on,
    ));
    if space == "wide" {
        let cand_err = (*cands).as_ref().err().filter(|e| e.starts_with("samples:")).cloned();
        let samples_err = err_of(&samples.clone().map(|_| ())).or(cand_err);
        qs_controls.push(field("Samples", "samples", &q.get("samples", &defaults::SAMPLES.to_string()), q, on, samples_err.as_deref()));
        qs_controls.push(field(
            "Seed",
            "seed",
            &q.get("seed", &defaults::SEED.to_string()),
            q,
            on,
            err_of(&seed.clone().map(|_| ())).as_deref(),
        ));
    }
    qs_controls.push(select(
        "Law",
        "law",
        &q.get("law", defaults::LAW),
        &[("paper".into(), "published (Eq. 2, Table 6)".into()), ("custom".into(), "fitted on the Law page".into())],
        q,
        on,
    ));
    let draws_r = number(q, "draws", "draws", DEFAULT_DRAWS);
    qs_controls.push(field(
        "Draws (uncertain frontier; 0: none)",
        "draws",
        &q.get("draws", &DEFAULT_DRAWS.to_string()),
        q,
        on,
        err_of(&draws_r.map(|_| ())).as_deref(),
    ));
    qs_controls.push(select(
        "Y axis",
        "y",
        if y_ppl { "ppl" } else { "loss" },
        &[("loss".into(), "loss".into()), ("ppl".into(), "perplexity (log)".into())],
        q,
        on,
    ));

    let scenario_buttons = SCENARIOS.iter().map(|s| {
        let (q, on) = (q.clone(), on.clone());
        let s = *s;
        let onclick = Callback::from(move |_| on.emit(q.with("objective", s.objective.name()).with("budget", format!("{}", s.latency_secs))));
        html! { <button class="scenario" id={format!("scenario-{}", s.id)} onclick={onclick} title={s.description}>{ s.description }</button> }
    });

    let body = match (evaluated.as_ref(), scales) {
        (Ok(ev), Some((sx, sy))) => {
            let budget_secs: Option<f64> = q.opt("budget").and_then(|v| v.parse::<f64>().ok()).filter(|v| *v > 0.0);
            let mem_budget: Option<f64> = q.opt("mem_budget").and_then(|v| v.parse::<f64>().ok()).filter(|v| *v > 0.0).map(|g| g * 1e9);
            let budget = Budget { latency_secs: budget_secs, memory_bytes: mem_budget };
            let best = (budget_secs.is_some() || mem_budget.is_some()).then(|| best_feasible(&ev.points, &budget)).flatten();
            let feasible = if budget_secs.is_some() || mem_budget.is_some() {
                ev.points.iter().filter(|p| budget.admits(p)).count()
            } else {
                ev.points.len()
            };
            // Slider positions: log latency over the data range, memory in GB.
            let (lat_lo, lat_hi) = ev.latency_range_secs;
            let pos = budget_secs.map_or(1000.0, |b| 1000.0 * (b.ln() - lat_lo.ln()) / (lat_hi.ln() - lat_lo.ln())).clamp(0.0, 1000.0);
            let mem_hi = ev.memory_max_gb;
            let on_budget = {
                let (q, on, changed_at) = (q.clone(), on.clone(), changed_at.clone());
                Callback::from(move |e: InputEvent| {
                    let v: f64 = e.target_unchecked_into::<web_sys::HtmlInputElement>().value().parse().unwrap_or(1000.0);
                    *changed_at.borrow_mut() = Some(now_ms());
                    let secs = (lat_lo.ln() + (lat_hi.ln() - lat_lo.ln()) * v / 1000.0).exp();
                    on.emit(q.with("budget", format!("{secs:.6}")));
                })
            };
            let on_mem = {
                let (q, on, changed_at) = (q.clone(), on.clone(), changed_at.clone());
                Callback::from(move |e: InputEvent| {
                    let v: f64 = e.target_unchecked_into::<web_sys::HtmlInputElement>().value().parse().unwrap_or(0.0);
                    *changed_at.borrow_mut() = Some(now_ms());
                    on.emit(q.with("mem_budget", if v >= mem_hi * 0.999 { String::new() } else { format!("{v:.3}") }));
                })
            };
            let link_query = q.with("budget", "").with("mem_budget", "");
            let onmove = {
                let (hover, ev) = (hover.clone(), ev.clone());
                Callback::from(move |e: MouseEvent| {
                    let Some(el) = e.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
                    let r = el.get_bounding_client_rect();
                    let (px, py) = ((e.client_x() as f64 - r.left()) * W / r.width(), (e.client_y() as f64 - r.top()) * H / r.height());
                    let mut best = (f64::INFINITY, None);
                    for (i, p) in ev.points.iter().enumerate() {
                        let (dx, dy) = (sx.px(p.latency_secs * 1e3) - px, sy.px(yv(p)) - py);
                        let d = dx * dx + dy * dy;
                        if d < best.0 {
                            best = (d, Some(i));
                        }
                    }
                    hover.set(if best.0 < 144.0 { best.1 } else { None });
                })
            };
            let onclick = {
                let (hover, ev, q) = (hover.clone(), ev.clone(), q.clone());
                Callback::from(move |_| {
                    if let Some(i) = *hover {
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_hash(&arch_link(&ev.candidates[i].arch, &q));
                        }
                    }
                })
            };
            let export = |what: &'static str| {
                let ev = ev.clone();
                Callback::from(move |_| match what {
                    "front-csv" => download("frontier.csv", "text/csv", &csv_rows(&ev, true)),
                    "all-csv" => download("candidates.csv", "text/csv", &csv_rows(&ev, false)),
                    "front-json" => download("frontier.json", "application/json", &json_rows(&ev, true)),
                    "all-json" => download("candidates.json", "application/json", &json_rows(&ev, false)),
                    _ => {
                        if let Some(svg) = svg_of("explorer-plot") {
                            download("frontier.svg", "image/svg+xml", &svg);
                        }
                    }
                })
            };
            // At the calibrated level the best design's latency carries the calibration's 90% interval.
            let interval = ev.interval;
            // The best design's odds: from the stored draws under a latency budget; a memory budget
            // changes who competes, so the draws are taken again over the designs that fit it.
            let odds = match (&ev.uncertainty, best) {
                (Some(u), Some(i)) => Some(match mem_budget {
                    None => u.odds(&ev.points, i, budget_secs),
                    Some(_) => {
                        let law = law_of(q).unwrap_or_else(|_| rooflaw::law::Law::paper().clone());
                        let s = Settings { draws: u.draws, seed: 0, interval: interval.as_ref(), budget: &budget, best: Some(i) };
                        uncertain_frontier(&law, &ev.candidates, &ev.points, &s).best.unwrap_or_else(|| u.odds(&ev.points, i, budget_secs))
                    }
                }),
                _ => None,
            };
            let odds_html = match (odds, &ev.uncertainty) {
                (Some(o), Some(u)) => html! {
                    <span id="best-odds">{ format!(" On the frontier in {:.0}% of the draws, the best feasible design in {:.0}%, within the latency budget in {:.0}%{}.", u.p_pareto(o.index) * 100.0, o.p_best * 100.0, o.p_within_budget * 100.0,
                        match o.most_often { Some(k) if k != o.index => format!("; {} is best more often ({:.0}%)", ev.candidates[k].arch.name, o.p_most_often * 100.0), _ => String::new() }) }</span>
                },
                _ => html! {},
            };
            let best_html = match best {
                Some(i) => html! {
                    <p class="best">{ "Best feasible: " }<a id="best-name" href={arch_link(&ev.candidates[i].arch, q)}>{ ev.candidates[i].arch.name.clone() }</a>{ " (" }<a id="best-train" href={crate::components::train_link(&ev.candidates[i].arch)}>{ "train this" }</a>{ ")" }
                    { format!(" — loss {:.4} (ppl {:.2}), {} {}{}, memory {}; {} ({}) of {} candidates feasible", ev.points[i].loss, ev.points[i].perplexity(), objective.name(), ms(ev.points[i].latency_secs), interval_note(ev.points[i].latency_secs, interval), gb(ev.points[i].memory_bytes), thousands(feasible as u64), format!("{:.1}%", 100.0 * feasible as f64 / ev.points.len() as f64), thousands(ev.points.len() as u64)) }{ odds_html }</p>
                },
                None if budget_secs.is_some() || mem_budget.is_some() => {
                    html! { <p class="best" id="best-none">{ "No candidate fits this budget: relax it, or widen the space." }</p> }
                }
                None => html! { <p class="hint">{ "Move the budget sliders or pick a scenario to find the best feasible design." }</p> },
            };
            html! {
                <>
                <div class="budgets">
                    <label class="field wide"><span>{ format!("Latency budget ({}): {}", objective.name(), budget_secs.map_or("none".to_string(), ms)) }</span>
                        <input id="budget-slider" type="range" min="0" max="1000" step="1" value={format!("{pos:.0}")} oninput={on_budget} /></label>
                    <label class="field wide"><span>{ format!("Memory budget: {} (device usable {})", mem_budget.map_or("none".to_string(), gb), gb(ev.usable_memory)) }</span>
                        <input id="memory-slider" type="range" min="0" max={format!("{mem_hi:.3}")} step="0.01" value={format!("{:.3}", mem_budget.map_or(mem_hi, |m| m / 1e9))} oninput={on_mem} /></label>
                    <div class="scenarios">{ "Table 2 scenarios: " }{ for scenario_buttons }
                        <button id="clear-budgets" onclick={{ let (q, on) = (q.clone(), on.clone()); Callback::from(move |_| on.emit(q.with("mem_budget", "").with("budget", ""))) }}>{ "clear" }</button>
                    </div>
                </div>
                { best_html }
                <div class="plot-wrap">
                    <canvas ref={canvas} width={W.to_string()} height={H.to_string()} class="scatter"></canvas>
                    <svg id="explorer-plot" viewBox={format!("0 0 {W} {H}")} class="overlay" data-frontier-size={ev.front.len().to_string()} data-candidates={ev.points.len().to_string()} data-eval-ms={format!("{:.3}", ev.eval_ms)} onmousemove={onmove} onclick={onclick} onmouseleave={{ let h = hover.clone(); Callback::from(move |_| h.set(None)) }}>
                        if let Some(b) = budget_secs {
                            <rect class="feasible" x={M.0.to_string()} y={M.2.to_string()} width={(sx.px(b * 1e3).clamp(M.0, W - M.1) - M.0).max(0.0).to_string()} height={(H - M.3 - M.2).to_string()} />
                            <line id="budget-line" class="budget" x1={sx.px(b * 1e3).to_string()} x2={sx.px(b * 1e3).to_string()} y1={M.2.to_string()} y2={(H - M.3).to_string()} />
                        }
                        { axes(&sx, &sy, &format!("{} latency (ms, log scale)", objective.name()), if y_ppl { "predicted perplexity (log scale)" } else { "predicted loss (nats/token)" }) }
                        <FrontierLayer ev={ev.clone()} sx={sx} sy={sy} y_ppl={y_ppl} link_query={link_query.clone()} />
                        if let Some(i) = best {
                            <circle id="best-marker" class="best-pt" cx={sx.px(ev.points[i].latency_secs * 1e3).to_string()} cy={sy.px(yv(&ev.points[i])).to_string()} r="9" />
                        }
                        if let Some(i) = *hover {
                            <g class="tooltip">
                                <circle class="hover-pt" cx={sx.px(ev.points[i].latency_secs * 1e3).to_string()} cy={sy.px(yv(&ev.points[i])).to_string()} r="5" />
                                <text id="tooltip" x={(M.0 + 8.0).to_string()} y={(H - M.3 - 10.0).to_string()}>{ format!("{} — {}: {} loss {:.4} (click to open)", ev.candidates[i].arch.name, objective.name(), ms(ev.points[i].latency_secs), ev.points[i].loss) }</text>
                            </g>
                        }
                        { legend(&legend_rows(ev)) }
                    </svg>
                </div>
                <p class="meta" id="eval-meta">{ format!("{} candidates evaluated and the frontier extracted in {:.1} ms of WebAssembly; {} on the frontier.", thousands(ev.points.len() as u64), ev.eval_ms, ev.front.len()) }</p>
                <p class="meta" id="uncertainty-meta" data-uncertainty-ms={format!("{:.3}", ev.uncertainty_ms)} data-possible={ev.uncertainty.as_ref().map_or(0, |u| u.possible).to_string()}>{
                    match &ev.uncertainty {
                        Some(u) => format!("Uncertain frontier: {}; {} candidates are on the frontier in some draw, coloured by the share of draws in which they are; the band holds 90% of the draws' frontiers ({:.1} ms).", ev.uncertainty_note, thousands(u.possible as u64), ev.uncertainty_ms),
                        None => format!("Uncertain frontier: {}.", ev.uncertainty_note),
                    }
                }</p>
                <div class="exports">
                    <button id="export-front-csv" onclick={export("front-csv")}>{ "Frontier CSV" }</button>
                    <button onclick={export("front-json")}>{ "Frontier JSON" }</button>
                    <button onclick={export("all-csv")}>{ "All candidates CSV" }</button>
                    <button onclick={export("all-json")}>{ "All candidates JSON" }</button>
                    <button onclick={export("svg")}>{ "Plot SVG (frontier, references, budget)" }</button>
                </div>
                <FrontierTable ev={ev.clone()} sx={sx} sy={sy} y_ppl={y_ppl} link_query={link_query} />
                </>
            }
        }
        _ => html! { <p class="field-error" id="explorer-error">{ error.clone().unwrap_or_else(|| "nothing to show".into()) }</p> },
    };

    html! {
        <section class="page" id="explorer">
            <h2>{ "Explorer: the loss–latency frontier" }</h2>
            <div class="columns">
                <div class="side">
                    { target_controls(q, on, target.as_ref().err().map(String::as_str)) }
                    <fieldset class="controls"><legend>{ "Search" }</legend>{ for qs_controls }
                        if let Err(e) = &law { <p class="field-error">{ e }</p> }
                        if let Some(e) = (*cands).as_ref().err().filter(|e| !e.starts_with("samples:") && !e.starts_with("seed:")) { <p class="field-error" id="space-error">{ e }</p> }
                    </fieldset>
                </div>
                <div class="main">{ body }</div>
            </div>
        </section>
    }
}
