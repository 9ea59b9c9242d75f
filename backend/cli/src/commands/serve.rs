//! `rooflaw serve`: a static file server for the built site. The site needs no server logic (everything
//! runs in the browser); this is what the run command and the browser tests open it with. It prints
//! the URL it listens on as its first line (`--port 0` picks a free port), so a harness can read it.

use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Result};

use crate::resolve::Serve;

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Maps a request path to a file under `root`, refusing anything that escapes it (`..`, absolute
/// paths, percent-encoded separators are not decoded, so they name no file).
fn file_for(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = if path.ends_with('/') || path.is_empty() { root.join(rel).join("index.html") } else { root.join(rel) };
    full.is_file().then_some(full)
}

/// `serve`: serves `dir` until interrupted.
pub fn run(args: &Serve) -> Result<()> {
    if !args.dir.join("index.html").is_file() {
        bail!("{} has no index.html: build the site first with scripts/site.sh", args.dir.display());
    }
    let server = tiny_http::Server::http(&args.addr).map_err(|e| anyhow!("cannot listen on {} ({e}); pick another --port", args.addr))?;
    let addr = server.server_addr().to_ip().map_or(args.addr.clone(), |a| a.to_string());
    println!("rooflaw site: http://{addr}/ (Ctrl-C to stop)");
    for req in server.incoming_requests() {
        let resp = match file_for(&args.dir, req.url()) {
            Some(path) => match std::fs::read(&path) {
                Ok(body) => {
                    let mut r = tiny_http::Response::from_data(body);
                    if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type(&path).as_bytes()) {
                        r = r.with_header(h);
                    }
                    r
                }
                Err(_) => tiny_http::Response::from_data(b"cannot read file".to_vec()).with_status_code(500),
            },
            None => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
        };
        // A client that went away is not the server's problem.
        let _ = req.respond(resp);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_site() {
        let root = std::env::temp_dir().join(format!("rooflaw-serve-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("sub/a.js"), "x").unwrap();
        assert_eq!(file_for(&root, "/"), Some(root.join("index.html")));
        assert_eq!(file_for(&root, "/index.html?x=1#/explorer"), Some(root.join("index.html")));
        assert_eq!(file_for(&root, "/sub/a.js"), Some(root.join("sub/a.js")));
        for bad in ["/../etc/passwd", "/sub/../../etc/passwd", "//etc/passwd", "/missing.js", "/sub", "/%2e%2e/etc/passwd"] {
            assert_eq!(file_for(&root, bad), None, "{bad}");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}
