//! Training runs over HTTP: submit (checked at once, so a bad request is a 4xx and never a failed job),
//! list, read, cancel, retry, their metrics, their files, and their events as Server-Sent Events.

use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{get, post, HttpRequest, HttpResponse};
use futures_util::stream;
use rooflaw::api::ModelRequest;
use rooflaw_store::{Event, RunStatus, Scope};
use rooflaw_train::trainer::{check_run, Backend, TrainOptions};
use serde::{Deserialize, Serialize};

use crate::http::{file_under, json_body, may_read, require, ApiError, ApiResult, PageQuery};
use crate::types::RunsPage;
use crate::worker::{complete_lines, run_dir};
use crate::State;

/// A training run to queue: the architecture (as in every other request: `model`, `spec` or
/// `hf_config`), a prepared data folder under the server's `datasets/`, the backend and the trainer's
/// options (`tokens` is the budget).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RunRequest {
    /// Name shown in lists (default: the model's name).
    #[serde(default)]
    pub name: Option<String>,
    /// The architecture.
    #[serde(flatten)]
    pub model: ModelRequest,
    /// A prepared data folder's name under `DATA_DIR/datasets/` (`rooflaw data prepare --out`).
    pub data: String,
    /// Where to train.
    #[serde(default = "cpu")]
    pub backend: Backend,
    /// Hyperparameters and the token budget.
    #[serde(default)]
    pub options: TrainOptions,
    /// A key that makes submission idempotent: the same key returns the same run.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

pub(crate) fn cpu() -> Backend {
    Backend::Cpu
}

/// A run request checked against the server's data folder.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The architecture.
    pub model: ModelRequest,
    /// The prepared data folder.
    pub data: PathBuf,
    /// Backend.
    pub backend: Backend,
    /// Options.
    pub options: TrainOptions,
    /// Display name.
    pub name: String,
}

impl RunRequest {
    /// Checks everything a trainer would refuse: the dataset's name and folder, the architecture with the
    /// data's vocabulary (and burn's count of it), the options against the data, the backend.
    pub fn resolve(&self, data_dir: &Path) -> anyhow::Result<Resolved> {
        let name = self.data.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || name.starts_with('.') {
            anyhow::bail!("data '{}' must be the name of a prepared folder under datasets/ (letters, digits, - _ .)", self.data);
        }
        let folder = data_dir.join("datasets").join(name);
        if !folder.join("manifest.json").is_file() {
            anyhow::bail!(
                "data '{name}' is not a prepared folder under {} (prepare it with `rooflaw data prepare … --out {}`)",
                data_dir.join("datasets").display(),
                folder.display()
            );
        }
        let arch = check_run(&self.model, &folder, self.options.clone())?;
        self.backend.device()?;
        let item_name = self.name.clone().unwrap_or_else(|| arch.name.clone());
        Ok(Resolved { model: self.model.clone(), data: folder, backend: self.backend, options: self.options.clone(), name: item_name })
    }
}

/// `POST /api/v1/runs`: queues a run (201), or returns the run an idempotency key already made (200).
#[post("/runs")]
pub async fn submit(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    let token = require(&state, &req, Scope::Train).await?;
    let request: RunRequest = json_body(&body)?;
    let data_dir = state.config.data_dir.clone();
    let checked = request.clone();
    let resolved = web::block(move || checked.resolve(&data_dir))
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot check the run: {e}")))?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let key = request.idempotency_key.clone();
    let stored = serde_json::to_value(&request).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (run, created) =
        state.store.submit_run(Some(token.id), &resolved.name, &stored, key.as_deref(), state.config.max_queued_per_token).await?;
    state.events.bump();
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(run))
}

/// `?status=&limit=&before=` on the runs list (no flattened paging: query strings carry numbers as text,
/// which serde's flatten cannot convert).
#[derive(Debug, Deserialize)]
pub struct RunsQuery {
    /// Only runs with this status.
    pub status: Option<RunStatus>,
    /// Rows per page.
    pub limit: Option<i64>,
    /// Only ids below this.
    pub before: Option<i64>,
}

/// `GET /api/v1/runs`: newest first, a page at a time.
#[get("/runs")]
pub async fn list(state: web::Data<State>, req: HttpRequest, q: web::Query<RunsQuery>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let runs = state.store.runs(PageQuery { limit: q.limit, before: q.before }.page()?, q.status).await?;
    let next_before = runs.last().map(|r| r.id);
    Ok(HttpResponse::Ok().json(RunsPage { runs, next_before }))
}

/// `GET /api/v1/runs/{id}`.
#[get("/runs/{id}")]
pub async fn get_run(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    Ok(HttpResponse::Ok().json(state.store.run(*id).await?))
}

/// `POST /api/v1/runs/{id}/cancel`.
#[post("/runs/{id}/cancel")]
pub async fn cancel(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let run = state.store.cancel_run(*id).await?;
    state.events.bump();
    Ok(HttpResponse::Ok().json(run))
}

/// `POST /api/v1/runs/{id}/retry`: a failed or cancelled run is queued again and resumes from its last
/// checkpoint.
#[post("/runs/{id}/retry")]
pub async fn retry(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let run = state.store.retry_run(*id).await?;
    state.events.bump();
    Ok(HttpResponse::Ok().json(run))
}

/// `GET /api/v1/runs/{id}/metrics`: the run's `metrics.jsonl` as a JSON array.
#[get("/runs/{id}/metrics")]
pub async fn metrics(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    state.store.run(*id).await?;
    let text = std::fs::read_to_string(run_dir(&state.config.data_dir, *id).join("metrics.jsonl")).unwrap_or_default();
    let rows: Vec<serde_json::Value> = complete_lines(&text).filter_map(|l| serde_json::from_str(l).ok()).collect();
    Ok(HttpResponse::Ok().json(rows))
}

/// `GET /api/v1/runs/{id}/files/{path}`: a file of the run's folder (config.json, metrics.jsonl,
/// run.json, trainer.log, checkpoints); nothing outside it.
#[get("/runs/{id}/files/{path:.*}")]
pub async fn file(state: web::Data<State>, req: HttpRequest, path: web::Path<(i64, String)>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let (id, rel) = path.into_inner();
    state.store.run(id).await?;
    let root = run_dir(&state.config.data_dir, id);
    let file = file_under(&root, &rel).ok_or_else(|| ApiError::not_found(format!("file '{rel}' of run {id}")))?;
    let bytes = std::fs::read(&file).map_err(|_| ApiError::not_found(format!("file '{rel}' of run {id}")))?;
    Ok(HttpResponse::Ok().content_type(crate::http::content_type(&file)).body(bytes))
}

/// Where an event stream starts: after `Last-Event-ID` (a reconnecting client), else after `?after=`,
/// else from the beginning.
fn start_after(req: &HttpRequest) -> ApiResult<i64> {
    if let Some(v) = req.headers().get("Last-Event-ID") {
        return v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| ApiError::bad_request("Last-Event-ID must be an event id"));
    }
    let q = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    match q.get("after") {
        Some(a) => a.parse().map_err(|_| ApiError::bad_request(format!("after={a} must be an event id"))),
        None => Ok(0),
    }
}

fn sse_frame(e: &Event) -> Bytes {
    let data = serde_json::json!({ "run_id": e.run_id, "kind": e.kind, "data": e.data, "created_ms": e.created_ms });
    Bytes::from(format!("id: {}\nevent: {}\ndata: {}\n\n", e.id, e.kind, data))
}

/// A Server-Sent Events stream of one run's events (`Some`) or every run's: each event once, in order,
/// with its id; a comment every 15 s keeps idle connections open.
fn event_stream(state: web::Data<State>, run: Option<i64>, after: i64) -> HttpResponse {
    let rx = state.events.subscribe();
    let s = stream::unfold(
        (state, rx, after, std::collections::VecDeque::new(), std::time::Instant::now()),
        move |(state, mut rx, mut after, mut queue, mut idle)| async move {
            loop {
                if let Some(e) = queue.pop_front() {
                    return Some((Ok::<_, actix_web::Error>(sse_frame(&e)), (state, rx, after, queue, idle)));
                }
                match state.store.events_after(run, after, 200).await {
                    Ok(events) if !events.is_empty() => {
                        after = events.last().map_or(after, |e: &Event| e.id);
                        queue.extend(events);
                        idle = std::time::Instant::now();
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "event stream: cannot read events; retrying"),
                }
                if idle.elapsed() >= Duration::from_secs(15) {
                    idle = std::time::Instant::now();
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (state, rx, after, queue, idle)));
                }
                // Woken by a new event in this process, or every second for events written by another one.
                let _ = tokio::time::timeout(Duration::from_secs(1), rx.changed()).await;
            }
        },
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(s)
}

/// `GET /api/v1/runs/{id}/events`: the run's status changes and metrics, live.
#[get("/runs/{id}/events")]
pub async fn run_events(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    state.store.run(*id).await?;
    let after = start_after(&req)?;
    Ok(event_stream(state, Some(*id), after))
}

/// `GET /api/v1/events`: every run's events (the queue), live.
#[get("/events")]
pub async fn queue_events(state: web::Data<State>, req: HttpRequest) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let after = start_after(&req)?;
    Ok(event_stream(state, None, after))
}
