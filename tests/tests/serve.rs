//! `rooflaw serve` over real HTTP on loopback: the site's files with their types, nothing outside its folder.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;

use rooflaw_tests::browser::serve;
use rooflaw_tests::tmp;

/// Sends a raw GET (so that `..` reaches the server unnormalised) and returns the status line and body.
fn get(base: &str, path: &str) -> (String, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    (head.to_string(), body.to_string())
}

#[test]
fn serves_the_site_and_nothing_outside_it() {
    let root = tmp("serve");
    let site = root.join("dist");
    std::fs::create_dir_all(site.join("assets")).unwrap();
    std::fs::write(site.join("index.html"), "<html>rooflaw</html>").unwrap();
    std::fs::write(site.join("assets/app.wasm"), [0u8, 97, 115, 109]).unwrap();
    std::fs::write(root.join("secret.txt"), "not for the web").unwrap();
    let server = serve(site).unwrap();
    let (head, body) = get(&server.url, "/");
    assert!(head.starts_with("HTTP/1.1 200") && body == "<html>rooflaw</html>", "{head}");
    let (head, _) = get(&server.url, "/assets/app.wasm");
    assert!(head.to_ascii_lowercase().contains("content-type: application/wasm"), "{head}");
    for bad in ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/missing.js"] {
        let (head, body) = get(&server.url, bad);
        assert!(head.starts_with("HTTP/1.1 404"), "{bad}: {head}");
        assert!(!body.contains("not for the web"), "{bad}");
    }
}
