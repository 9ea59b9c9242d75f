//! `rooflaw serve`: a static file server for the built site. The site needs no server logic (everything
//! runs in the browser); this is only what the run command uses to open it locally.

use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Result};

use crate::cli::ServeArgs;

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

/// Maps a request path to a file under `root`, refusing anything that escapes it.
fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = if path.ends_with('/') || path.is_empty() { root.join(rel).join("index.html") } else { root.join(rel) };
    full.is_file().then_some(full)
}

pub fn serve(args: &ServeArgs) -> Result<()> {
    if !args.dir.join("index.html").is_file() {
        bail!("{} has no index.html: build the site first with scripts/site.sh", args.dir.display());
    }
    let addr = format!("{}:{}", args.host, args.port);
    let server = tiny_http::Server::http(&addr).map_err(|e| anyhow!("cannot listen on {addr} ({e}); pick another --port"))?;
    println!("rooflaw site: http://{addr}/ (Ctrl-C to stop)");
    for req in server.incoming_requests() {
        let resp = match resolve(&args.dir, req.url()) {
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
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_site() {
        let root = std::env::temp_dir().join(format!("rooflaw-serve-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(resolve(&root, "/index.html?x=1#/explorer"), Some(root.join("index.html")));
        assert_eq!(resolve(&root, "/../etc/passwd"), None);
        assert_eq!(resolve(&root, "/missing.js"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
