//! URL state: the route and every page's inputs live in the hash (`#/explorer?device=…&objective=…`),
//! so a copied link gives the same view on any static host (no server-side routing needed).

use std::collections::BTreeMap;

/// The pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Loss–latency frontier explorer.
    Explorer,
    /// One architecture in depth.
    Arch,
    /// The loss law: coefficients, fitting.
    Law,
    /// §6 theory calculator.
    Theory,
    /// Match a reference model.
    Match,
    /// Training runs on a backend.
    Lab,
    /// Compact calculator for iframes.
    Embed,
}

impl Route {
    /// Every page, in menu order (embed is not in the menu).
    pub const MENU: [Route; 6] = [Route::Explorer, Route::Arch, Route::Law, Route::Theory, Route::Match, Route::Lab];

    /// Path segment.
    pub fn path(self) -> &'static str {
        match self {
            Route::Explorer => "explorer",
            Route::Arch => "arch",
            Route::Law => "law",
            Route::Theory => "theory",
            Route::Match => "match",
            Route::Lab => "lab",
            Route::Embed => "embed",
        }
    }

    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            Route::Explorer => "Explorer",
            Route::Arch => "Architecture",
            Route::Law => "Law",
            Route::Theory => "Theory",
            Route::Match => "Match",
            Route::Lab => "Lab",
            Route::Embed => "Embed",
        }
    }

    fn parse(s: &str) -> Route {
        [Route::Explorer, Route::Arch, Route::Law, Route::Theory, Route::Match, Route::Lab, Route::Embed]
            .into_iter()
            .find(|r| r.path() == s)
            .unwrap_or(Route::Explorer)
    }
}

/// Query parameters of the current page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query(pub BTreeMap<String, String>);

impl Query {
    /// A value, or `default`.
    pub fn get(&self, key: &str, default: &str) -> String {
        self.0.get(key).cloned().unwrap_or_else(|| default.to_string())
    }

    /// A value when present.
    pub fn opt(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A copy with `key` set (an empty value removes it).
    pub fn with(&self, key: &str, value: impl Into<String>) -> Query {
        let mut q = self.clone();
        let v = value.into();
        if v.is_empty() {
            q.0.remove(key);
        } else {
            q.0.insert(key.to_string(), v);
        }
        q
    }
}

fn decode(s: &str) -> String {
    js_sys::decode_uri_component(&s.replace('+', " ")).ok().and_then(|v| v.as_string()).unwrap_or_else(|| s.to_string())
}

fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).as_string().unwrap_or_default()
}

/// Parses `#/route?k=v&…`.
pub fn parse_hash(hash: &str) -> (Route, Query) {
    let h = hash.trim_start_matches('#').trim_start_matches('/');
    let (path, query) = h.split_once('?').unwrap_or((h, ""));
    let mut q = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        q.insert(decode(k), decode(v));
    }
    (Route::parse(path), Query(q))
}

/// Builds `#/route?k=v&…`.
pub fn to_hash(route: Route, q: &Query) -> String {
    let mut s = format!("#/{}", route.path());
    if !q.0.is_empty() {
        s.push('?');
        s.push_str(&q.0.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&"));
    }
    s
}

/// The current hash of the window.
pub fn current_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// Replaces the URL's hash without a navigation (so typing does not fill the history).
pub fn replace_hash(hash: &str) {
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(hash));
    }
}
