//! End-to-end tests of the built site in real headless Chromium (chromedriver + fantoccini), served on
//! loopback. They need `dist/` (scripts/site.sh) and Debian's chromium-driver, so they are `ignore`d in a
//! plain `cargo test` and run by the README's test command (`scripts/test.sh`). Failing tests save a
//! screenshot to target/browser-screenshots/.

use anyhow::{ensure, Result};
use fantoccini::Client;
use rooflaw::calibrate::builtin_calibration;
use rooflaw::frontier::{best_feasible, Budget, Evaluator, Objective};
use rooflaw::law::Law;
use rooflaw::space::{enumerate_grid, find_space, DesignSpace};
use rooflaw::{Catalogue, Level, Precision, Target, Workload};
use rooflaw_tests::browser::{browser, dist, js, panic_message, screenshot, serve, start_driver, text, type_into, wait_for, Driver, Site};
use rooflaw_tests::fixture;

struct Session {
    _driver: Driver,
    site: Site,
    client: Client,
    base: String,
}

async fn open() -> Result<Session> {
    let site = serve(dist()?)?;
    let driver = start_driver()?;
    let client = browser(&driver).await?;
    Ok(Session { _driver: driver, base: site.url.clone(), site, client })
}

/// Closes the session; on failure saves a screenshot and says where.
async fn finish(mut s: Session, name: &str, result: Result<()>) -> Result<()> {
    let result = match result {
        Ok(()) => match panic_message(&s.client).await? {
            Some(p) => Err(anyhow::anyhow!("the page panicked: {p}")),
            None => Ok(()),
        },
        Err(e) => Err(e),
    };
    if result.is_err() {
        s.site.keep_data();
        if let Ok(path) = screenshot(&s.client, name).await {
            eprintln!("screenshot: {}", path.display());
        }
    }
    let _ = s.client.close().await;
    result
}

async fn goto(s: &Session, hash: &str) -> Result<()> {
    s.client.goto(&format!("{}/{hash}", s.base)).await?;
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn explorer_loads_and_draws_a_frontier() -> Result<()> {
    let s = open().await?;
    let r = async {
        goto(&s, "#/explorer").await?;
        let size =
            wait_for(&s.client, "const p = document.getElementById('explorer-plot'); return p && Number(p.dataset.frontierSize);", 30)
                .await?;
        ensure!(size.as_f64().unwrap_or(0.0) > 10.0, "frontier size {size}");
        let n = wait_for(&s.client, "return Number(document.getElementById('explorer-plot').dataset.candidates);", 5).await?;
        ensure!(n == serde_json::json!(6560), "candidates {n}");
        let points = wait_for(&s.client, "return document.getElementById('frontier-line').getAttribute('points');", 5).await?;
        ensure!(
            points.as_str().unwrap_or("").split(' ').count() as f64 == size.as_f64().unwrap_or(0.0),
            "polyline has one vertex per frontier design"
        );
        ensure!(text(&s.client, "#frontier-table tbody tr").await?.contains("params"));
        // The published law at the roofline level: nothing uncertain, and the page says why.
        let note = text(&s.client, "#uncertainty-meta").await?;
        ensure!(note.contains("no bootstrap") && note.contains("calibrated level"), "{note}");
        // At the calibrated level the calibration's interval makes the frontier's latency uncertain: a band,
        // and the best design's odds of meeting the budget. The published law is exact, and a latency
        // factor shared by every design moves none off the frontier: P(front) is 1 on all of it.
        goto(&s, "#/explorer?level=calibrated&objective=decode&budget=0.05").await?;
        let possible =
            wait_for(&s.client, "const m = document.getElementById('uncertainty-meta'); return m && Number(m.dataset.possible);", 30)
                .await?;
        let front = js(&s.client, "return Number(document.getElementById('explorer-plot').dataset.frontierSize);").await?;
        ensure!(possible == front, "possible {possible}, frontier {front}");
        let band =
            js(&s.client, "const b = document.getElementById('frontier-band'); return b && b.getAttribute('points').split(' ').length;")
                .await?;
        ensure!(band.as_f64().unwrap_or(0.0) >= 10.0, "band vertices {band}");
        let shares =
            js(&s.client, "return [...document.querySelectorAll('#frontier-table td.p-front')].map(t => Number(t.textContent));").await?;
        let shares: Vec<f64> = shares.as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
        ensure!(!shares.is_empty() && shares.iter().all(|p| *p == 1.0), "{shares:?}");
        let odds = wait_for(&s.client, "const o = document.getElementById('best-odds'); return o && o.textContent;", 10).await?;
        ensure!(odds.as_str().unwrap_or("").contains("within the latency budget in"), "{odds}");
        Ok(())
    }
    .await;
    finish(s, "explorer_loads_and_draws_a_frontier", r).await
}

/// JavaScript: whether any two of the rectangles `rects` (an expression giving [{x, y, width, height}])
/// intersect; returns the first pair found, or null.
const OVERLAP_JS: &str =
    "const hit = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height; \
    for (let i = 0; i < r.length; i++) for (let j = 0; j < i; j++) if (hit(r[i], r[j])) return [i, j, r[i], r[j]]; return null;";

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn labels_and_legends_hide_nothing() -> Result<()> {
    let s = open().await?;
    let r = async {
        // Explorer: reference-model names (SmolLM2 and MobileLLM are priced at nearly the same spot).
        goto(&s, "#/explorer").await?;
        wait_for(&s.client, "return document.querySelectorAll('#explorer-plot g.ref text').length > 5;", 30).await?;
        let clash = js(
            &s.client,
            &format!("const r = [...document.querySelectorAll('#explorer-plot g.ref text')].map(t => t.getBBox()); {OVERLAP_JS}"),
        )
        .await?;
        ensure!(clash.is_null(), "reference labels overlap: {clash}");
        // A name with no free spot is dropped (the marker keeps it as a tooltip), but most are drawn.
        let counts = js(
            &s.client,
            "return [document.querySelectorAll('#explorer-plot g.ref').length, document.querySelectorAll('#explorer-plot g.ref text').length];",
        )
        .await?;
        let (refs, named) = (counts[0].as_u64().unwrap_or(0), counts[1].as_u64().unwrap_or(0));
        ensure!(refs > 20 && named * 3 >= refs * 2, "{named} of {refs} reference markers are named");
        // Architecture page: operator names never overlap, and the legend covers no operator.
        goto(&s, "#/arch?model=qwen2.5-0.5b").await?;
        wait_for(&s.client, "return document.querySelectorAll('#roofline-plot circle').length > 10;", 30).await?;
        let clash = js(
            &s.client,
            &format!("const r = [...document.querySelectorAll('#roofline-plot text.op-label')].map(t => t.getBBox()); {OVERLAP_JS}"),
        )
        .await?;
        ensure!(clash.is_null(), "operator labels overlap: {clash}");
        let covered = js(
            &s.client,
            "const l = document.querySelector('#roofline-plot .legend-bg').getBBox(); \
             return [...document.querySelectorAll('#roofline-plot circle')].map(c => c.getBBox()) \
               .filter(b => b.x < l.x + l.width && l.x < b.x + b.width && b.y < l.y + l.height && l.y < b.y + b.height).length;",
        )
        .await?;
        ensure!(covered == serde_json::json!(0), "the legend covers {covered} operators");
        Ok(())
    }
    .await;
    finish(s, "labels_and_legends_hide_nothing", r).await
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn moving_a_budget_changes_the_best_feasible_design() -> Result<()> {
    let s = open().await?;
    let r = async {
        goto(&s, "#/explorer").await?;
        wait_for(&s.client, "return document.getElementById('budget-slider');", 30).await?;
        type_into(&s.client, "#budget-slider", "300").await?;
        let tight = wait_for(&s.client, "const b = document.getElementById('best-name'); return b && b.textContent;", 10).await?;
        type_into(&s.client, "#budget-slider", "800").await?;
        let loose = wait_for(
            &s.client,
            &format!("const b = document.getElementById('best-name'); return b && b.textContent !== {tight} && b.textContent;"),
            10,
        )
        .await?;
        ensure!(tight != loose, "best design did not change: {tight}");
        // The URL follows the budget.
        let url = s.client.current_url().await?;
        ensure!(url.as_str().contains("budget="), "{url}");
        let redraw = wait_for(&s.client, "return document.getElementById('explorer-plot').dataset.redrawMs;", 5).await?;
        ensure!(redraw.as_str().and_then(|v| v.parse::<f64>().ok()).is_some(), "redraw time recorded: {redraw}");
        Ok(())
    }
    .await;
    finish(s, "moving_a_budget_changes_the_best_feasible_design", r).await
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn pasting_qwen_config_shows_its_exact_parameter_count() -> Result<()> {
    let s = open().await?;
    let r = async {
        goto(&s, "#/arch?src=hf").await?;
        wait_for(&s.client, "return document.getElementById('hf-config');", 30).await?;
        let config = std::fs::read_to_string(fixture("qwen2.5-0.5b.config.json"))?;
        type_into(&s.client, "#hf-config", &config).await?;
        let total = wait_for(&s.client, "const t = document.getElementById('param-total'); return t && t.textContent;", 10).await?;
        ensure!(total == serde_json::json!("494,032,768"), "{total}");
        ensure!(wait_for(&s.client, "return document.getElementById('roofline-plot') !== null;", 5).await? == serde_json::json!(true));
        Ok(())
    }
    .await;
    finish(s, "pasting_qwen_config_shows_its_exact_parameter_count", r).await
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn the_engine_choice_reprices_the_calibrated_level_with_its_interval() -> Result<()> {
    // Native: Llama-3.1-8B at W4A16 on AGX Orin (defaults: batch 1, 1,024 + 128 tokens), per engine.
    let cat = Catalogue::default();
    let t = Target::new(cat.get("jetson-agx-orin-64gb")?, None, Workload::new(1, 1024, 128)?, Precision::preset("int4")?)?;
    let arch = rooflaw::models::find_model("llama-3.1-8b")?.architecture()?;
    let interval = |engine: &str| -> Result<String> {
        let p = rooflaw::report::predict(&arch, &t, &rooflaw::calibrate::builtin_for_engine(engine)?);
        let [lo, hi] = p.calibrated_interval.decode_secs.ok_or_else(|| anyhow::anyhow!("no decode interval"))?;
        Ok(format!("{:.2} ms – {:.2} ms", lo * 1e3, hi * 1e3))
    };
    let s = open().await?;
    let r = async {
        let mut shown = Vec::new();
        for engine in ["mlc", "vllm"] {
            goto(
                &s,
                &format!("#/arch?model=llama-3.1-8b&device=jetson-agx-orin-64gb&precision=int4&prompt=1024&generate=128&engine={engine}"),
            )
            .await?;
            let row =
                wait_for(&s.client, "const r = document.getElementById('calibrated-interval'); return r && r.textContent;", 30).await?;
            let row = row.as_str().unwrap_or("").to_string();
            ensure!(row.contains(&interval(engine)?), "{engine}: the page shows '{row}', natively {}", interval(engine)?);
            let selected = wait_for(&s.client, "return document.getElementById('in-engine').value;", 5).await?;
            ensure!(selected == serde_json::json!(engine), "{selected}");
            shown.push(row);
        }
        ensure!(shown[0] != shown[1], "the engine changes the calibrated interval");
        Ok(())
    }
    .await;
    finish(s, "the_engine_choice_reprices_the_calibrated_level_with_its_interval", r).await
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn a_url_reproduces_a_view() -> Result<()> {
    // The same search run natively: Table 5 on the Orin Nano 8GB, decode objective, roofline level,
    // FP16, paper workload, 50 ms budget.
    let cat = Catalogue::default();
    let t = Target::new(cat.get("jetson-orin-nano-8gb")?, None, Workload::PAPER, Precision::FP16)?;
    let DesignSpace::Grid(g) = find_space("paper-table5")? else { anyhow::bail!("grid expected") };
    let cands = enumerate_grid(g).1;
    let ev = Evaluator {
        target: &t,
        level: Level::Roofline,
        efficiency: builtin_calibration().efficiency,
        law: Law::paper(),
        objective: Objective::Decode,
    };
    let points = ev.evaluate(&cands);
    let best = best_feasible(&points, &Budget { latency_secs: Some(0.05), memory_bytes: None }).map(|i| cands[i].arch.name.clone());

    let s = open().await?;
    let r = async {
        let hash = "#/explorer?budget=0.05&device=jetson-orin-nano-8gb&objective=decode&space=paper-table5";
        for _ in 0..2 {
            goto(&s, hash).await?;
            let name = wait_for(&s.client, "const b = document.getElementById('best-name'); return b && b.textContent;", 30).await?;
            ensure!(Some(name.as_str().unwrap_or("").to_string()) == best, "page shows {name}, native search gives {best:?}");
            let device = wait_for(&s.client, "return document.getElementById('in-device').value;", 5).await?;
            let objective = wait_for(&s.client, "return document.getElementById('in-objective').value;", 5).await?;
            ensure!(
                device == serde_json::json!("jetson-orin-nano-8gb") && objective == serde_json::json!("decode"),
                "{device} {objective}"
            );
        }
        Ok(())
    }
    .await;
    finish(s, "a_url_reproduces_a_view", r).await
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn the_embed_view_and_the_javascript_api_render() -> Result<()> {
    let s = open().await?;
    let r = async {
        goto(&s, "#/embed?model=qwen2.5-0.5b&device=jetson-orin-nano-8gb").await?;
        let lat = wait_for(&s.client, "const e = document.getElementById('embed-latency'); return e && e.textContent;", 30).await?;
        ensure!(lat.as_str().unwrap_or("").contains(" ms"), "{lat}");
        ensure!(text(&s.client, "#embed-loss").await?.contains("perplexity"));
        ensure!(js_absent(&s, "nav").await?, "the embed view has no menu");
        s.client.goto(&format!("{}/embed-example.html", s.base)).await?;
        let out =
            wait_for(&s.client, "const o = document.getElementById('api-output'); return o.dataset.ready && o.textContent;", 30).await?;
        ensure!(out.as_str().unwrap_or("").starts_with("Qwen2.5-0.5B on Jetson Orin Nano 8GB:"), "{out}");
        Ok(())
    }
    .await;
    finish(s, "the_embed_view_and_the_javascript_api_render", r).await
}

async fn js_absent(s: &Session, css: &str) -> Result<bool> {
    Ok(js(&s.client, &format!("return document.querySelector({}) === null;", serde_json::to_string(css)?)).await?
        == serde_json::json!(true))
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn invalid_input_shows_an_error_beside_the_field_and_never_panics() -> Result<()> {
    let s = open().await?;
    let r = async {
        goto(&s, "#/arch?src=form&f_layers=0&f_d=1024&f_heads=16&f_kv=4&f_inter=4096&f_e=1&f_k=1&f_vocab=32000").await?;
        let e = wait_for(&s.client, "const e = document.getElementById('err-f_layers'); return e && e.textContent;", 30).await?;
        ensure!(e.as_str().unwrap_or("").starts_with("layers: must be at least 1"), "{e}");
        type_into(&s.client, "#in-f_layers", "12").await?;
        type_into(&s.client, "#in-f_heads", "15").await?;
        let e = wait_for(&s.client, "const e = document.getElementById('err-f_heads'); return e && e.textContent;", 10).await?;
        ensure!(e.as_str().unwrap_or("").contains("d_model 1024 is not divisible by 15 heads"), "{e}");
        type_into(&s.client, "#in-f_heads", "abc").await?;
        wait_for(
            &s.client,
            "const e = document.getElementById('arch-error'); return e && e.textContent.includes('not a whole number');",
            10,
        )
        .await?;
        goto(&s, "#/arch?src=hf").await?;
        wait_for(&s.client, "return document.getElementById('hf-config');", 10).await?;
        type_into(&s.client, "#hf-config", "{\"model_type\": \"llama\", \"hidden_size\": ").await?;
        let e = wait_for(&s.client, "const e = document.getElementById('arch-error'); return e && e.textContent;", 10).await?;
        ensure!(e.as_str().unwrap_or("").starts_with("config.json: not valid JSON"), "{e}");
        goto(&s, "#/explorer?batch=0&samples=abc&space=wide&level=peak").await?;
        let e = wait_for(&s.client, "const e = document.getElementById('err-batch'); return e && e.textContent;", 30).await?;
        ensure!(e.as_str().unwrap_or("").contains("batch: must be at least 1"), "{e}");
        // A bad number is shown beside its field, never replaced by a default.
        let e = wait_for(&s.client, "const e = document.getElementById('err-samples'); return e && e.textContent;", 10).await?;
        ensure!(e.as_str().unwrap_or("").starts_with("samples: 'abc' is not a valid number"), "{e}");
        let e = wait_for(&s.client, "const e = document.getElementById('err-level'); return e && e.textContent;", 10).await?;
        ensure!(e.as_str().unwrap_or("").starts_with("unknown level 'peak'"), "{e}");
        goto(&s, "#/explorer?device=custom&bw=fast").await?;
        let e = wait_for(&s.client, "const e = document.getElementById('err-bw'); return e && e.textContent;", 30).await?;
        ensure!(e.as_str().unwrap_or("").starts_with("bandwidth (GB/s): 'fast' is not a valid number"), "{e}");
        goto(&s, "#/theory?tops=-1").await?;
        wait_for(&s.client, "const e = document.getElementById('theory-error'); return e && e.textContent;", 10).await?;
        ensure!(panic_message(&s.client).await?.is_none(), "no panic");
        Ok(())
    }
    .await;
    finish(s, "invalid_input_shows_an_error_beside_the_field_and_never_panics", r).await
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn the_law_page_fits_runs_in_the_browser() -> Result<()> {
    let s = open().await?;
    let r = async {
        goto(&s, "#/law?bootstrap=10&restarts=4").await?;
        wait_for(&s.client, "return document.getElementById('example-runs');", 30).await?;
        s.client.find(fantoccini::Locator::Css("#example-runs")).await?.click().await?;
        s.client.find(fantoccini::Locator::Css("#fit")).await?.click().await?;
        let rows =
            wait_for(&s.client, "const t = document.getElementById('fit-table'); return t && t.querySelectorAll('tbody tr').length;", 120)
                .await?;
        ensure!(rows == serde_json::json!(11), "{rows}");
        ensure!(text(&s.client, "#fit-metrics").await?.contains("R²"));
        let link = wait_for(&s.client, "return document.getElementById('use-law').getAttribute('href');", 5).await?;
        ensure!(link.as_str().unwrap_or("").contains("law=custom"), "{link}");
        Ok(())
    }
    .await;
    finish(s, "the_law_page_fits_runs_in_the_browser", r).await
}

/// Clicks the element a CSS selector names.
async fn click(s: &Session, css: &str) -> Result<()> {
    s.client.find(fantoccini::Locator::Css(css)).await?.click().await?;
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn the_lab_trains_cancels_and_retries_runs_on_a_real_backend() -> Result<()> {
    // A backend with prepared data, one training worker and a token.
    let dir = rooflaw_tests::tmp("lab");
    let data = dir.join("data");
    let prepared = data.join("datasets/fixture");
    let o = rooflaw_tests::run(&[
        "data",
        "prepare",
        "--tokenizer",
        "bytes",
        "--text",
        fixture("text").to_str().unwrap_or(""),
        "--out",
        prepared.to_str().unwrap_or(""),
    ]);
    ensure!(o.status.success(), "{}", rooflaw_tests::stderr(&o));
    let o = rooflaw_tests::run(&["token", "create", "--name", "lab", "--data-dir", data.to_str().unwrap_or(""), "--scope", "train"]);
    let token = rooflaw_tests::stdout(&o).trim().to_string();
    let site = rooflaw_tests::browser::serve_with(&dist()?, &data, &["--workers", "1"])?;
    let driver = start_driver()?;
    let client = browser(&driver).await?;
    let s = Session { _driver: driver, base: site.url.clone(), site, client };
    let r = async {
        // The Architecture page's "train this" link carries the spec into the Lab.
        let spec = r#"{"layers":2,"d_model":64,"heads":4,"kv_heads":2,"ffn_ratio":2,"vocab_size":256,"tied_embeddings":true}"#;
        goto(&s, &format!("#/arch?src=spec&spec={}", encode_component(spec))).await?;
        let href = wait_for(&s.client, "const a = document.getElementById('train-this'); return a && a.getAttribute('href');", 20).await?;
        ensure!(href.as_str().unwrap_or("").starts_with("#/lab?train="), "{href}");
        let lab = format!("{}&t_tokens=30720&t_batch=8&t_seq=64&t_warmup=5", href.as_str().unwrap_or(""));
        goto(&s, &lab).await?;
        wait_for(&s.client, "return document.getElementById('lab-submit');", 20).await?;
        // Without a token the backend refuses, and the page says why.
        click(&s, "#lab-submit").await?;
        let msg = wait_for(&s.client, "const m = document.getElementById('lab-message'); return m && m.textContent;", 10).await?;
        ensure!(msg.as_str().unwrap_or("").contains("needs a token"), "{msg}");
        type_into(&s.client, "#lab-token", &token).await?;
        click(&s, "#lab-token-save").await?;
        click(&s, "#lab-submit").await?;
        wait_for(&s.client, "const m = document.getElementById('lab-message'); return m && m.textContent.startsWith('queued');", 10)
            .await?;
        // It trains; the loss curve grows live and the run completes with a validation loss.
        wait_for(
            &s.client,
            "const r = document.querySelector('#runs tr.run.completed'); return r && r.querySelector('.val').textContent;",
            120,
        )
        .await?;
        let points = wait_for(
            &s.client,
            "const p = document.querySelector('#lab-curves polyline'); return p && p.getAttribute('points').split(' ').length;",
            10,
        )
        .await?;
        ensure!(points.as_f64().unwrap_or(0.0) >= 50.0, "the curve has {points} points");
        // A second run, cancelled from the page, then retried: it completes too.
        click(&s, "#lab-submit").await?;
        wait_for(&s.client, "return document.querySelector('#runs tr.run button.cancel');", 20).await?;
        click(&s, "#runs tr.run button.cancel").await?;
        wait_for(&s.client, "return document.querySelector('#runs tr.run.cancelled button.retry');", 20).await?;
        click(&s, "#runs tr.run.cancelled button.retry").await?;
        wait_for(&s.client, "return document.querySelectorAll('#runs tr.run.completed').length == 2;", 120).await?;
        // The page is still healthy, and the token was kept in the browser.
        let kept = js(&s.client, "return window.localStorage.getItem('rooflaw-token');").await?;
        ensure!(kept.as_str() == Some(token.as_str()), "token kept: {kept}");
        Ok(())
    }
    .await;
    dir.keep_on_error(finish(s, "the_lab_trains_cancels_and_retries_runs_on_a_real_backend", r).await)
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn the_lab_shows_a_campaigns_rounds_and_its_uncertain_frontier() -> Result<()> {
    // A mini campaign run to its end with the command line (12 space-filling runs, then one round of 4),
    // then a backend on its data folder.
    let dir = rooflaw_tests::tmp("lab-campaign");
    let data = dir.join("data");
    rooflaw_tests::prepare_fixture(&data.join("datasets/fixture"));
    let request = dir.join("campaign.json");
    std::fs::write(
        &request,
        r#"{"name": "mini", "space": "tiny", "device": "jetson-orin-nano-8gb", "objective": "decode",
  "space_spec": {"kind": "grid", "name": "tiny", "layers": [1, 2, 3, 4], "d_model": [32, 64, 96], "head_dim": [16], "kv_heads": [1, "all"],
    "ffn_ratio": [1, 2, 4], "experts": [[1, 1], [4, 1]], "vocab_size": 256, "tied_embeddings": true, "qk_norm": "none"},
  "initial_runs": 12, "runs_per_round": 4, "max_runs": 16, "tolerance": 0, "bootstrap": 20, "restarts": 6, "draws": 40, "explore": 0.25, "data": "fixture",
  "options": {"tokens": 16384, "batch": 8, "seq": 64, "warmup": 4, "eval_every": 0, "checkpoint_every": 16, "eval_tokens": 8192}}"#,
    )?;
    let o = rooflaw_tests::run(&[
        "campaign",
        "run",
        request.to_str().unwrap_or(""),
        "--data-dir",
        data.to_str().unwrap_or(""),
        "--workers",
        "2",
    ]);
    ensure!(o.status.success(), "{}", rooflaw_tests::stderr(&o));
    let site = rooflaw_tests::browser::serve_with(&dist()?, &data, &["--workers", "0"])?;
    let driver = start_driver()?;
    let client = browser(&driver).await?;
    let s = Session { _driver: driver, base: site.url.clone(), site, client };
    let r = async {
        goto(&s, "#/lab").await?;
        let rounds = wait_for(&s.client, "return document.querySelectorAll('#campaign-rounds tr.campaign-round').length;", 30).await?;
        ensure!(rounds == serde_json::json!(2), "rounds {rounds}");
        let status = text(&s.client, "#campaign-status").await?;
        ensure!(status.starts_with("done (the run budget is spent (16 runs))"), "{status}");
        ensure!(status.ends_with("chosen by the frontier strategy, 25% of each round space-filling"), "{status}");
        // The frontier after round 1: the band, designs coloured by P(Pareto), trained ones at their loss.
        let plot = wait_for(
            &s.client,
            "const p = document.getElementById('campaign-plot'); return p && [p.dataset.round, Number(p.dataset.designs)];",
            10,
        )
        .await?;
        ensure!(plot[0] == "1" && plot[1].as_f64().unwrap_or(0.0) >= 3.0, "{plot}");
        let band =
            js(&s.client, "const b = document.getElementById('campaign-band'); return b && b.getAttribute('points').split(' ').length;")
                .await?;
        ensure!(band.as_f64().unwrap_or(0.0) >= 10.0, "band {band}");
        let fills = js(
            &s.client,
            "return [...document.querySelectorAll('#campaign-plot circle.campaign-front')].map(c => c.getAttribute('fill'));",
        )
        .await?;
        ensure!(fills.as_array().is_some_and(|f| f.iter().all(|c| c.as_str().unwrap_or("").starts_with("rgb("))), "{fills}");
        let measured = js(&s.client, "return document.querySelectorAll('#campaign-plot path.campaign-measured').length;").await?;
        ensure!(measured.as_f64().unwrap_or(0.0) >= 1.0, "trained designs on the frontier: {measured}");
        // The round's law opens in the Explorer with its bootstrap (kept for the tab): the frontier's
        // designs there have P(Pareto) below 1 where the fit is unsure.
        let href = js(&s.client, "return document.getElementById('campaign-explorer').getAttribute('href');").await?;
        goto(&s, href.as_str().unwrap_or("")).await?;
        let note = wait_for(
            &s.client,
            "const m = document.getElementById('uncertainty-meta'); return m && Number(m.dataset.possible) > 0 && m.textContent;",
            30,
        )
        .await?;
        ensure!(note.as_str().unwrap_or("").contains("the law's 20 bootstrap fits"), "{note}");
        let shares =
            js(&s.client, "return [...document.querySelectorAll('#frontier-table td.p-front')].map(t => Number(t.textContent));").await?;
        let shares: Vec<f64> = shares.as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
        ensure!(shares.iter().any(|p| *p < 1.0) && shares.iter().all(|p| (0.0..=1.0).contains(p)), "{shares:?}");
        // A second campaign, started through the API: with no training worker it stays running, and its
        // view offers a cancel. Without a token the backend refuses and the page says so beside the
        // button; with one, the campaign is cancelled and the button goes.
        let secret = rooflaw_tests::token(&data, &None, "lab", &["train"]);
        let body = std::fs::read_to_string(&request)?.replace("\"name\": \"mini\"", "\"name\": \"second\"");
        let created = rooflaw_tests::http::post(&format!("{}/api/v1/campaigns", s.base), Some(&secret), &body);
        ensure!(created.status == 201, "{}", created.text);
        goto(&s, "#/lab?campaign=2").await?;
        wait_for(&s.client, "return document.getElementById('campaign-cancel');", 30).await?;
        click(&s, "#campaign-cancel").await?;
        let refused = wait_for(
            &s.client,
            "const m = document.getElementById('campaign-message'); return m && m.className == 'field-error' && m.textContent;",
            10,
        )
        .await?;
        ensure!(refused.as_str().unwrap_or("").contains("token"), "{refused}");
        js(&s.client, &format!("window.localStorage.setItem('rooflaw-token', {}); return true;", serde_json::json!(secret))).await?;
        click(&s, "#campaign-cancel").await?;
        let status = wait_for(
            &s.client,
            "const m = document.getElementById('campaign-status'); return m && m.textContent.startsWith('cancelled') && m.textContent;",
            10,
        )
        .await?;
        ensure!(status.as_str().unwrap_or("").contains("(cancelled by a client)"), "{status}");
        ensure!(js_absent(&s, "#campaign-cancel").await?, "the cancel button stays on a cancelled campaign");
        Ok(())
    }
    .await;
    dir.keep_on_error(finish(s, "the_lab_shows_a_campaigns_rounds_and_its_uncertain_frontier", r).await)
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn without_a_backend_the_lab_says_how_to_start_one() -> Result<()> {
    let s = open().await?;
    let r = async {
        // A backend URL where nothing listens.
        goto(&s, "#/lab?api=http://127.0.0.1:9").await?;
        let t = wait_for(&s.client, "const e = document.getElementById('lab-none'); return e && e.textContent;", 20).await?;
        ensure!(t.as_str().unwrap_or("").contains("rooflaw serve"), "{t}");
        // The rest of the site is unaffected.
        goto(&s, "#/explorer").await?;
        wait_for(&s.client, "const p = document.getElementById('explorer-plot'); return p && Number(p.dataset.frontierSize);", 30).await?;
        Ok(())
    }
    .await;
    finish(s, "without_a_backend_the_lab_says_how_to_start_one", r).await
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the built site and chromium-driver: scripts/test.sh runs it"]
async fn the_architecture_page_shows_measured_points_and_the_calibrations_error() -> Result<()> {
    // A backend holding an agent's measurements of four reference models on the AGX Orin, calibrated.
    let dir = rooflaw_tests::tmp("measured");
    let data = dir.join("data");
    let (measure, train) =
        (rooflaw_tests::token(&data, &None, "agent", &["measure"]), rooflaw_tests::token(&data, &None, "lab", &["train"]));
    let site = rooflaw_tests::browser::serve_with(&dist()?, &data, &["--workers", "0"])?;
    let api = format!("{}/api/v1", site.url.trim_end_matches('/'));
    for (model, decode, prefill) in
        [("qwen2.5-0.5b", 61.0, 1500.0), ("llama-3.2-1b", 38.0, 900.0), ("smollm2-360m", 80.0, 2100.0), ("qwen3-1.7b", 25.0, 600.0)]
    {
        let row = format!(
            r#"{{"device": "jetson-agx-orin-64gb", "engine": "llama.cpp", "power_mode": "MAXN", "precision": "Q4_0", "model": "{model}", "batch": 1, "prompt_tokens": 128, "generated_tokens": 32, "decode_tokens_per_sec": {decode}, "prefill_tokens_per_sec": {prefill}}}"#
        );
        let r = rooflaw_tests::http::post(&format!("{api}/measurements"), Some(&measure), &row);
        ensure!(r.status == 201, "{}", r.text);
    }
    let r = rooflaw_tests::http::post(&format!("{api}/calibrations"), Some(&train), "{}");
    ensure!(r.status == 201, "{}", r.text);
    let driver = start_driver()?;
    let client = browser(&driver).await?;
    let s = Session { _driver: driver, base: site.url.clone(), site, client };
    let r = async {
        goto(&s, "#/arch?model=qwen2.5-0.5b&device=jetson-agx-orin-64gb").await?;
        // Eight points (decode and prefill of four models), this model's two marked and listed.
        let n = wait_for(
            &s.client,
            "const p = document.getElementById('measured-plot-0'); return p && p.querySelectorAll('circle').length;",
            30,
        )
        .await?;
        ensure!(n.as_f64() == Some(8.0), "{n} points");
        let mine = js(&s.client, "return document.querySelectorAll('#measured-plot-0 circle.this-model').length;").await?;
        ensure!(mine.as_f64() == Some(2.0), "{mine} marked");
        let rows = js(
            &s.client,
            "return Array.from(document.querySelectorAll('.measured-table tbody tr td:first-child')).map(c => c.textContent).join(',');",
        )
        .await?;
        ensure!(rows.as_str() == Some("decode,prefill"), "{rows}");
        let note = text(&s.client, "#measured .note").await?;
        ensure!(note.contains("leave-one-out error") && note.contains("on decode"), "{note}");
        // Another device has no calibration: the page says how to get one.
        goto(&s, "#/arch?model=qwen2.5-0.5b&device=jetson-orin-nano-8gb").await?;
        let none = wait_for(&s.client, "const e = document.getElementById('measured-none'); return e && e.textContent;", 30).await?;
        ensure!(none.as_str().unwrap_or("").contains("rooflaw-agent"), "{none}");
        Ok(())
    }
    .await;
    dir.keep_on_error(finish(s, "the_architecture_page_shows_measured_points_and_the_calibrations_error", r).await)
}

/// Percent-encodes a URL query value (what the site's links do with `encodeURIComponent`).
fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
