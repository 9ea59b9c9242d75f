//! The server's API as the agent uses it, with retries: network errors and 5xx answers are retried
//! with exponential backoff (1 s doubling to a minute); a 4xx answer is the agent's mistake (a bad
//! token, an unknown device) and is reported at once.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// A server, a token and a policy for retries.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: String,
    http: ureq::Agent,
    /// Give up after this many attempts (`None`: never, which a long-running agent wants).
    pub max_attempts: Option<u32>,
}

/// Why a request failed.
#[derive(Debug)]
pub enum Failure {
    /// The server refused the request: retrying will not help.
    Refused(u16, String),
    /// The network or the server failed: worth retrying.
    Transient(String),
}

impl Client {
    /// A client of `server` (`http://host:port`) with a bearer token.
    pub fn new(server: &str, token: &str) -> Result<Client> {
        let base = server.trim_end_matches('/').to_string();
        if !base.starts_with("http://") {
            bail!("--server {server:?}: give the server's http:// URL (this agent speaks plain HTTP; reach a TLS server through a local proxy or VPN)");
        }
        if token.trim().is_empty() {
            bail!("no token: pass --token TOKEN or set ROOFLAW_TOKEN (create one with `rooflaw token create NAME --scopes measure`)");
        }
        let http: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(60))).http_status_as_error(false).build().into();
        Ok(Client { base, token: token.to_string(), http, max_attempts: None })
    }

    fn once(&self, method: &str, path: &str, body: Option<&Value>) -> std::result::Result<(u16, Value), Failure> {
        let url = format!("{}/api/v1{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let sent = match (method, body) {
            ("POST", Some(b)) => self.http.post(&url).header("Authorization", &auth).send_json(b),
            ("POST", None) => self.http.post(&url).header("Authorization", &auth).send_empty(),
            _ => self.http.get(&url).header("Authorization", &auth).call(),
        };
        let mut resp = sent.map_err(|e| Failure::Transient(format!("{method} {url}: {e}")))?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().map_err(|e| Failure::Transient(format!("{method} {url}: {e}")))?;
        let json = if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        match status {
            200..=299 => Ok((status, json)),
            400..=499 => {
                Err(Failure::Refused(status, json.get("error").and_then(Value::as_str).map_or_else(|| json.to_string(), str::to_string)))
            }
            _ => Err(Failure::Transient(format!("{method} {url}: HTTP {status}"))),
        }
    }

    /// A request retried until it succeeds, is refused, or runs out of attempts.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        let mut wait = Duration::from_secs(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.once(method, path, body) {
                Ok(r) => return Ok(r),
                Err(Failure::Refused(status, msg)) => bail!("the server refused {method} {path} (HTTP {status}): {msg}"),
                Err(Failure::Transient(e)) => {
                    if self.max_attempts.is_some_and(|m| attempt >= m) {
                        return Err(anyhow!("{e} (gave up after {attempt} attempts)"));
                    }
                    eprintln!("rooflaw-agent: {e}; retrying in {} s", wait.as_secs());
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(60));
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn network_errors_are_retried_with_backoff_and_bad_urls_refused() {
        // Nothing listens on port 9 of loopback: two attempts, one second apart, then the error.
        let mut c = Client::new("http://127.0.0.1:9", "rl_token").unwrap();
        c.max_attempts = Some(2);
        let start = std::time::Instant::now();
        let err = c.request("GET", "/health", None).unwrap_err().to_string();
        assert!(err.contains("gave up after 2 attempts"), "{err}");
        assert!(start.elapsed() >= Duration::from_secs(1), "{:?}", start.elapsed());
        assert!(Client::new("https://backend:8080", "t").unwrap_err().to_string().contains("http://"));
        assert!(Client::new("http://backend:8080", " ").unwrap_err().to_string().contains("ROOFLAW_TOKEN"));
    }
}
