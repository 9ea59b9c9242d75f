//! Talking to a rooflaw backend from the browser: where its API is (the serving host, or `?api=URL`),
//! the token kept in the browser's storage, JSON calls with `fetch`, and the live event stream.

use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::state::Query;

/// Where the token is kept (the browser's local storage, this origin only).
const TOKEN_KEY: &str = "rooflaw-token";

/// The API's base URL: `?api=` (a backend on another origin, which must allow this one with
/// `--cors-origin`), else the host that served the page.
pub fn api_base(q: &Query) -> String {
    match q.opt("api") {
        Some(a) => {
            let a = a.trim_end_matches('/');
            if a.ends_with("/api/v1") {
                a.to_string()
            } else {
                format!("{a}/api/v1")
            }
        }
        None => "/api/v1".to_string(),
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The stored token ("" when none).
pub fn stored_token() -> String {
    storage().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten()).unwrap_or_default()
}

/// Keeps (or, when empty, forgets) the token.
pub fn store_token(token: &str) {
    if let Some(s) = storage() {
        let _ = if token.is_empty() { s.remove_item(TOKEN_KEY) } else { s.set_item(TOKEN_KEY, token) };
    }
}

fn js_err(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// A JSON call: the parsed body when the status is 2xx, else the API's error message.
pub async fn call(method: &str, url: &str, token: &str, body: Option<String>) -> Result<Value, String> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(js_err)?;
    if !token.is_empty() {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(js_err)?;
    }
    if let Some(b) = &body {
        headers.set("Content-Type", "application/json").map_err(js_err)?;
        init.set_body(&JsValue::from_str(b));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(url, &init).map_err(js_err)?;
    let window = web_sys::window().ok_or("no window")?;
    let response: Response =
        JsFuture::from(window.fetch_with_request(&request)).await.map_err(|_| format!("cannot reach {url}"))?.dyn_into().map_err(js_err)?;
    let text = JsFuture::from(response.text().map_err(js_err)?).await.map_err(js_err)?.as_string().unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if response.ok() {
        Ok(value)
    } else {
        Err(value["error"].as_str().map(str::to_string).unwrap_or_else(|| format!("HTTP {}", response.status())))
    }
}
