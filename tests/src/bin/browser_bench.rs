//! Speed of the site in real headless Chromium (issue 4's targets), printed as figures for BENCHMARKS.md:
//! - evaluate 50,000 candidates and extract the frontier: at most 50 ms of WebAssembly;
//! - redraw after a budget change: at most 16 ms;
//! - compressed `.wasm`: at most 500 KB;
//! - the uncertain frontier (issue 12) at 50,000 candidates, with the published law and with a 100-set
//!   bootstrap law, and the redraw with the best design's odds.
//!
//! Run: `scripts/site.sh && cargo run --release -p rooflaw-tests --bin browser-bench`.

use std::io::Write;

use anyhow::{Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use rooflaw_tests::browser::{browser, dist, js, serve, start_driver, type_into, wait_for};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let dir = dist()?;
    let wasm = std::fs::read(dir.join("rooflaw-web_bg.wasm")).context("no wasm in dist/")?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&wasm)?;
    let gz = gz.finish()?;
    println!("wasm: {} bytes raw, {} bytes gzip -9 (target ≤ 500 KB = 512,000 bytes)", wasm.len(), gz.len());

    let site = serve(dir)?;
    let base = site.url.clone();
    let driver = start_driver()?;
    let c = browser(&driver).await?;
    let mut evals = Vec::new();
    for seed in 1..=5 {
        // A fresh page per run: the wide space, 50,000 Latin-hypercube draws, total latency, roofline level.
        c.goto(&format!("{base}/#/explorer?space=wide&samples=50000&seed={seed}")).await?;
        let ms = wait_for(&c, "const p = document.getElementById('explorer-plot'); return p && Number(p.dataset.candidates) > 40000 && Number(p.dataset.evalMs);", 120).await?;
        let n = js(&c, "return Number(document.getElementById('explorer-plot').dataset.candidates);").await?;
        evals.push(ms.as_f64().unwrap_or(f64::NAN));
        println!("  load {seed}: {n} candidates evaluated + frontier in {} ms", ms);
    }
    println!("evaluate 50,000 + frontier: median {:.1} ms over {} loads (target ≤ 50 ms)", median(&mut evals), evals.len());

    let mut redraws = Vec::new();
    for pos in [200, 350, 500, 650, 800, 300, 450, 600, 750, 900, 250, 550] {
        let before = js(&c, "return Number(document.getElementById('explorer-plot').dataset.redrawCount || 0);").await?;
        type_into(&c, "#budget-slider", &pos.to_string()).await?;
        let ms = wait_for(&c, &format!("const p = document.getElementById('explorer-plot'); return Number(p.dataset.redrawCount || 0) > {before} && p.dataset.redrawMs;"), 10).await?;
        redraws.push(ms.as_str().and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN));
    }
    let max = redraws.iter().copied().fold(0.0, f64::max);
    println!(
        "redraw after a budget change (50,000 candidates on screen): median {:.2} ms, max {:.2} ms over {} moves (target ≤ 16 ms)",
        median(&mut redraws),
        max,
        redraws.len()
    );

    // The uncertain frontier (issue 12): the calibrated level (the built-in MLC profile's decode
    // interval), 100 draws, the published law.
    let mut uncertain = Vec::new();
    for seed in 1..=5 {
        c.goto(&format!("{base}/#/explorer?space=wide&samples=50000&seed={seed}&level=calibrated&objective=decode")).await?;
        wait_for(&c, "const p = document.getElementById('explorer-plot'); return p && Number(p.dataset.candidates) > 40000 && Number(p.dataset.evalMs);", 120).await?;
        let ms = wait_for(&c, "const m = document.getElementById('uncertainty-meta'); return m && Number(m.dataset.possible) > 0 && Number(m.dataset.uncertaintyMs);", 60).await?;
        let kept = js(&c, "return Number(document.getElementById('uncertainty-meta').dataset.possible);").await?;
        uncertain.push(ms.as_f64().unwrap_or(f64::NAN));
        println!("  load {seed}: P(Pareto), band over 100 draws in {ms} ms ({kept} candidates on the frontier in some draw)");
    }
    println!("uncertain frontier of 50,000 (100 draws): median {:.1} ms over {} loads", median(&mut uncertain), uncertain.len());
    let mut odds = Vec::new();
    for pos in [200, 350, 500, 650, 800, 300, 450, 600] {
        let before = js(&c, "return Number(document.getElementById('explorer-plot').dataset.redrawCount || 0);").await?;
        type_into(&c, "#budget-slider", &pos.to_string()).await?;
        let ms = wait_for(&c, &format!("const p = document.getElementById('explorer-plot'); return Number(p.dataset.redrawCount || 0) > {before} && p.dataset.redrawMs;"), 10).await?;
        odds.push(ms.as_str().and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN));
    }
    let max = odds.iter().copied().fold(0.0, f64::max);
    println!(
        "redraw with the best design's odds after a budget change: median {:.2} ms, max {:.2} ms over {} moves",
        median(&mut odds),
        max,
        odds.len()
    );

    // The same with a fitted law's uncertainty: the published coefficients with 100 bootstrap sets (the
    // native bench's, shared/benches/frontier.rs: each coefficient scaled by up to ±5%), kept in the tab's
    // session storage under the coefficients as the Law page keeps a fitted law's.
    let base_coefficients = rooflaw::law::Law::paper().coefficients.to_array();
    let lawc = base_coefficients.iter().map(|v| format!("{v:.6e}")).collect::<Vec<_>>().join(",");
    let sets: Vec<[f64; 11]> =
        (0..100).map(|k| base_coefficients.map(|c| c * (1.0 + 0.05 * ((k * 37 % 101) as f64 / 50.0 - 1.0)))).collect();
    let store = format!(
        "sessionStorage.setItem({}, {}); return true;",
        serde_json::json!(format!("rooflaw-bootstrap:{lawc}")),
        serde_json::json!(serde_json::to_string(&sets)?)
    );
    let mut fitted = Vec::new();
    for seed in 1..=5 {
        c.goto(&format!("{base}/#/")).await?;
        js(&c, &store).await?;
        c.goto(&format!("{base}/#/explorer?space=wide&samples=50000&seed={seed}&level=calibrated&objective=decode&law=custom&lawc={lawc}"))
            .await?;
        wait_for(&c, "const p = document.getElementById('explorer-plot'); return p && Number(p.dataset.candidates) > 40000 && Number(p.dataset.evalMs);", 120).await?;
        let ms = wait_for(&c, "const m = document.getElementById('uncertainty-meta'); return m && Number(m.dataset.possible) > 0 && Number(m.dataset.uncertaintyMs);", 120).await?;
        let note = js(&c, "return document.getElementById('uncertainty-meta').textContent;").await?;
        anyhow::ensure!(
            note.as_str().is_some_and(|t| t.contains("100 bootstrap fits")),
            "the Explorer did not draw from the stored bootstrap: {note}"
        );
        fitted.push(ms.as_f64().unwrap_or(f64::NAN));
        println!("  load {seed}: P(Pareto), band over 100 draws of a 100-set bootstrap law in {ms} ms");
    }
    println!("uncertain frontier of 50,000 (100 draws, bootstrap law): median {:.1} ms over {} loads", median(&mut fitted), fitted.len());
    c.close().await?;
    Ok(())
}
