//! What every handler shares: the JSON error type, bearer-token checks, bounded JSON parsing, paging and
//! files confined to a folder.

use std::path::{Component, Path, PathBuf};

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use rooflaw_store::{Page, Scope, StoreError, Token};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::State;

/// An API error: a status and a one-line message, sent as `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl ApiError {
    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    /// 404.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, message: format!("{what} not found") }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            r.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        r.json(serde_json::json!({ "error": self.message }))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let status = match &e {
            StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            StoreError::Conflict(_) => StatusCode::CONFLICT,
            StoreError::Limit(_) => StatusCode::TOO_MANY_REQUESTS,
            StoreError::Database(_) | StoreError::Migrate(_) | StoreError::Json(_) => {
                tracing::error!(error = %e, "database");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        ApiError { status, message: e.to_string() }
    }
}

impl From<rooflaw::Error> for ApiError {
    fn from(e: rooflaw::Error) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

/// Results of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// The token a request carries, checked against the scope it needs: none is 401, a revoked or unknown
/// one is 401, one without the scope is 403.
pub async fn require(state: &State, req: &HttpRequest, scope: Scope) -> ApiResult<Token> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: format!(
                "this needs a token with the '{}' scope: send `Authorization: Bearer TOKEN` (create one with `rooflaw token create`)",
                scope.name()
            ),
        });
    };
    let secret = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).unwrap_or_default();
    let token = state
        .store
        .authenticate(secret)
        .await?
        .ok_or(ApiError { status: StatusCode::UNAUTHORIZED, message: "the token is unknown or revoked".into() })?;
    if !token.allows(scope) {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            message: format!("token '{}' lacks the '{}' scope", token.name, scope.name()),
        });
    }
    Ok(token)
}

/// Reading: open to all unless the server is private.
pub async fn may_read(state: &State, req: &HttpRequest) -> ApiResult<()> {
    if !state.config.public_read {
        require(state, req, Scope::Read).await?;
    }
    Ok(())
}

/// Deepest JSON nesting a request may have.
pub const MAX_JSON_DEPTH: usize = 32;

/// Nesting depth of a JSON text (brackets outside strings).
fn json_depth(body: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parses a JSON body into `T`: 400 with serde's message (line, column, what was expected) for bad JSON
/// or wrong types, and for nesting deeper than [`MAX_JSON_DEPTH`].
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    if json_depth(body) > MAX_JSON_DEPTH {
        return Err(ApiError::bad_request(format!("the JSON body nests deeper than {MAX_JSON_DEPTH} levels")));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// `?limit=&before=` on every list.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PageQuery {
    /// Rows per page (1–500, default 50).
    pub limit: Option<i64>,
    /// Only rows with ids below this (the last id of the previous page).
    pub before: Option<i64>,
}

impl PageQuery {
    /// The checked page.
    pub fn page(self) -> ApiResult<Page> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::bad_request(format!("limit {limit} must be between 1 and 500")));
        }
        Ok(Page { limit, before: self.before })
    }
}

/// Maps a relative path to a file under `root`, refusing anything that could escape it (`..`, absolute
/// paths, and, since paths are not percent-decoded here, encoded separators name no file).
pub fn file_under(root: &Path, rel: &str) -> Option<PathBuf> {
    let rel = Path::new(rel.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = root.join(rel);
    // A symbolic link inside the folder must not lead out of it either.
    let (canon_root, canon) = (root.canonicalize().ok()?, full.canonicalize().ok()?);
    (canon.starts_with(&canon_root) && canon.is_file()).then_some(full)
}

/// The Content-Type of a file by its extension.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("jsonl") => "application/jsonl",
        Some("png") => "image/png",
        Some("txt" | "log") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_their_folder() {
        let root = std::env::temp_dir().join(format!("rooflaw-files-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("sub/a.js"), "x").unwrap();
        assert_eq!(file_under(&root, "/index.html"), Some(root.join("index.html")));
        assert_eq!(file_under(&root, "sub/a.js"), Some(root.join("sub/a.js")));
        for bad in ["/../etc/passwd", "sub/../../etc/passwd", "//etc/passwd", "missing.js", "sub", "%2e%2e/etc/passwd", ".."] {
            assert_eq!(file_under(&root, bad), None, "{bad}");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn nesting_is_counted_outside_strings() {
        assert_eq!(json_depth(br#"{"a": [1, {"b": "[[[[{{"}]}"#), 3);
        assert_eq!(json_depth(br#""\"[""#), 0);
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(json_body::<serde_json::Value>(deep.as_bytes()).unwrap_err().message.contains("deeper than 32"));
        let e = json_body::<rooflaw::api::PredictRequest>(br#"{"batch": "two"}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.starts_with("invalid JSON body: invalid type: string \"two\""), "{}", e.message);
    }
}
