//! A small HTTP client for the API tests (ureq): every status is a response, never an error.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A response: status, headers (names in lower case) and body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub text: String,
}

impl Reply {
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(60))).build().new_agent()
}

/// Sends a request with extra headers; `token` goes in `Authorization: Bearer`.
pub fn send(method: &str, url: &str, token: Option<&str>, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let a = agent();
    let mut all: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    if let Some(t) = token {
        all.push(("Authorization".into(), format!("Bearer {t}")));
    }
    macro_rules! without_body {
        ($builder:expr) => {{
            let mut r = $builder;
            for (k, v) in &all {
                r = r.header(k.as_str(), v.as_str());
            }
            r.call()
        }};
    }
    let result = match method {
        "GET" => without_body!(a.get(url)),
        "DELETE" => without_body!(a.delete(url)),
        "OPTIONS" => without_body!(a.options(url)),
        _ => {
            let mut r = a.post(url).header("Content-Type", "application/json");
            for (k, v) in &all {
                r = r.header(k.as_str(), v.as_str());
            }
            r.send(body.unwrap_or(""))
        }
    };
    match result {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let headers =
                resp.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string())).collect();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            Reply { status, headers, text }
        }
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

/// Sends a request; `token` goes in `Authorization: Bearer`.
pub fn request(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    send(method, url, token, &[], body)
}

/// `GET`.
pub fn get(url: &str, token: Option<&str>) -> Reply {
    request("GET", url, token, None)
}

/// `POST` a JSON body.
pub fn post(url: &str, token: Option<&str>, body: &str) -> Reply {
    request("POST", url, token, Some(body))
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// Its id.
    pub id: i64,
    /// Its type.
    pub event: String,
    /// Its data, as JSON.
    pub data: Value,
}

/// Reads a Server-Sent Events stream from `url` (resuming after `last_event_id` when given) until `done`
/// says so or `limit` passes; returns the events read.
pub fn read_events(url: &str, last_event_id: Option<i64>, limit: Duration, mut done: impl FnMut(&[SseEvent]) -> bool) -> Vec<SseEvent> {
    let a = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(limit)).build().new_agent();
    let mut r = a.get(url).header("Accept", "text/event-stream");
    let last = last_event_id.map(|i| i.to_string());
    if let Some(l) = &last {
        r = r.header("Last-Event-ID", l);
    }
    let mut resp = r.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status().as_u16(), 200, "GET {url}");
    let reader = BufReader::new(resp.body_mut().as_reader());
    let started = Instant::now();
    let mut events = Vec::new();
    let (mut id, mut event, mut data) = (None, String::new(), String::new());
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if let Some(v) = line.strip_prefix("id: ") {
            id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event: ") {
            event = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data: ") {
            data.push_str(v);
        } else if line.is_empty() && !data.is_empty() {
            events.push(SseEvent {
                id: id.unwrap_or(-1),
                event: std::mem::take(&mut event),
                data: serde_json::from_str(&data).unwrap_or(Value::Null),
            });
            data.clear();
            if done(&events) {
                break;
            }
        }
        if started.elapsed() > limit {
            break;
        }
    }
    events
}

/// Polls `f` every 200 ms until it returns `Some`, at most `limit`.
pub fn wait_until<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}
