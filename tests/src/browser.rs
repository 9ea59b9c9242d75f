//! Real-browser harness: serves the built site (`dist/`) on loopback with `rooflaw serve`, starts Debian's chromedriver,
//! and drives headless Chromium through WebDriver (fantoccini). Used by `tests/browser.rs` and by the
//! `browser-bench` binary.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The built site; `scripts/site.sh` (run by the test command) builds it.
pub fn dist() -> Result<PathBuf> {
    let d = root().join("dist");
    if !d.join("index.html").exists() || !d.join("rooflaw-web_bg.wasm").exists() {
        bail!("{} has no built site: run scripts/site.sh (or scripts/test.sh) first", d.display());
    }
    Ok(d)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The built site served by `rooflaw serve` (the same server users run); killed on drop.
#[derive(Debug)]
pub struct Site {
    child: Child,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The data folder [`serve`] made for it, removed after the server is killed.
    data: Option<crate::Scratch>,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves `dir` with `rooflaw serve --addr 127.0.0.1:0` on loopback, with a fresh data folder (its own
/// SQLite database) and no training workers; the URL is read from the server's first line of output.
pub fn serve(dir: PathBuf) -> Result<Site> {
    let mut data = crate::tmp(&format!("site-data-{}", free_port()?));
    match serve_with(&dir, &data, &["--workers", "0"]) {
        Ok(mut site) => {
            site.data = Some(data);
            Ok(site)
        }
        Err(e) => {
            // Its server.log says why the server did not start.
            data.keep();
            Err(e)
        }
    }
}

/// Serves `dir` with its API on the data folder `data`, with extra `rooflaw serve` flags.
pub fn serve_with(dir: &std::path::Path, data: &std::path::Path, extra: &[&str]) -> Result<Site> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    // The server's log (appended across restarts) is kept beside its database for a failed test to show.
    let log = std::fs::OpenOptions::new().create(true).append(true).open(data.join("server.log"))?;
    let mut child = Command::new(crate::rooflaw_bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .context("cannot start `rooflaw serve`")?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line).context("cannot read the server's first line")?;
    }
    let mut site = Site { child, url: String::new(), data: None };
    site.url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(|u| u.trim_end_matches('/').to_string())
        .ok_or_else(|| anyhow!("`rooflaw serve` printed no URL: {line:?}"))?;
    Ok(site)
}

impl Site {
    /// Keeps the data folder [`serve`] made (its database and server.log) after the server is gone: for a
    /// failed test.
    pub fn keep_data(&mut self) {
        if let Some(d) = &mut self.data {
            d.keep();
        }
    }

    /// Kills the server with SIGKILL (no shutdown of any kind) and waits for it.
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A running chromedriver; killed on drop.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    /// WebDriver URL.
    pub url: String,
    /// The browsers' profiles, one folder each, removed after chromedriver is killed.
    profiles: crate::Scratch,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `chromedriver` (CHROMEDRIVER or /usr/bin/chromedriver) on a free loopback port.
pub fn start_driver() -> Result<Driver> {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port()?;
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {bin}: install Debian's chromium and chromium-driver (scripts/test.sh does)"))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("chromedriver did not listen on port {port} within 20 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Driver { child, url: format!("http://127.0.0.1:{port}"), profiles: crate::tmp(&format!("chromium-{port}")) })
}

/// A headless Chromium session (flags from TOOLCHAIN.md: root, offline, fresh profile).
pub async fn browser(driver: &Driver) -> Result<Client> {
    let profile = driver.profiles.join(free_port()?.to_string());
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": binary,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1400,1000", format!("--user-data-dir={}", profile.display())]
        }
    });
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("a JSON object literal"),
    };
    ClientBuilder::native().capabilities(caps).connect(&driver.url).await.context("cannot open a Chromium session through chromedriver")
}

/// Runs JavaScript and returns its value.
pub async fn js(c: &Client, script: &str) -> Result<serde_json::Value> {
    c.execute(script, vec![]).await.with_context(|| format!("script failed: {script}"))
}

/// Waits until `script` returns a truthy value (polling), or fails after `secs`.
pub async fn wait_for(c: &Client, script: &str, secs: u64) -> Result<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = js(c, script).await?;
        let truthy = !(v.is_null() || v == serde_json::Value::Bool(false) || v == serde_json::json!("") || v == serde_json::json!(0));
        if truthy {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out after {secs} s waiting for: {script}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Text of the element matching a CSS selector.
pub async fn text(c: &Client, css: &str) -> Result<String> {
    c.find(Locator::Css(css)).await.with_context(|| format!("no element {css}"))?.text().await.context("no text")
}

/// Sets an input's value and fires the `input` event, as typing would.
pub async fn type_into(c: &Client, css: &str, value: &str) -> Result<()> {
    let script = format!(
        "const el = document.querySelector({sel}); if (!el) return false; \
         const proto = Object.getPrototypeOf(el); const setter = Object.getOwnPropertyDescriptor(proto, 'value').set; \
         setter.call(el, {val}); el.dispatchEvent(new Event('input', {{ bubbles: true }})); el.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;",
        sel = serde_json::to_string(css)?,
        val = serde_json::to_string(value)?
    );
    if js(c, &script).await? != serde_json::Value::Bool(true) {
        bail!("no element {css} to type into");
    }
    Ok(())
}

/// The message of a panic in the page, if any (the app's panic hook stores it in `window.rooflawPanic`).
pub async fn panic_message(c: &Client) -> Result<Option<String>> {
    Ok(js(c, "return window.rooflawPanic || null;").await?.as_str().map(str::to_string))
}

/// Saves a screenshot under `target/browser-screenshots/NAME.png`; returns its path.
pub async fn screenshot(c: &Client, name: &str) -> Result<PathBuf> {
    let dir = root().join("target").join("browser-screenshots");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, c.screenshot().await?)?;
    Ok(path)
}
