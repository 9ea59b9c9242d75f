//! Fitted laws, measurements and tokens over HTTP.

use actix_web::web::{self, Bytes};
use actix_web::{delete, get, post, HttpRequest, HttpResponse};
use rooflaw::fit::{fit_law, parse_runs, FitOptions};
use rooflaw_store::{RunStatus, Scope};
use serde::Deserialize;

use crate::http::{json_body, may_read, require, ApiError, ApiResult, PageQuery};
use crate::types::{FitsPage, MeasurementsPage, TokenCreated, Tokens};
use crate::State;

/// `POST /api/v1/fits`: fit the loss law on completed runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FitRequest {
    /// Name of the fitted law.
    #[serde(default)]
    pub name: Option<String>,
    /// Completed runs to fit on (at least as many as the law has coefficients).
    pub runs: Vec<i64>,
    /// Bootstrap resamples for the intervals (default: the CLI's).
    #[serde(default)]
    pub bootstrap: Option<usize>,
    /// Seed.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// `POST /api/v1/fits`.
#[post("/fits")]
pub async fn create_fit(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let r: FitRequest = json_body(&body)?;
    if r.runs.is_empty() || r.runs.len() > 10_000 {
        return Err(ApiError::bad_request("runs must list between 1 and 10,000 completed run ids"));
    }
    let mut runs = Vec::new();
    for id in &r.runs {
        let run = state.store.run(*id).await?;
        let record = match (run.status, &run.record) {
            (RunStatus::Completed, Some(rec)) => rec,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "run {id} is {}, not completed: only completed runs can be fitted",
                    run.status.name()
                )))
            }
        };
        runs.extend(parse_runs(&record.to_string(), &format!("run {id}"))?);
    }
    let mut opts = FitOptions::default();
    if let Some(n) = &r.name {
        opts.name = n.clone();
    }
    if let Some(b) = r.bootstrap {
        opts.bootstrap = b.min(2_000);
    }
    if let Some(s) = r.seed {
        opts.seed = s;
    }
    let report = web::block(move || fit_law(&runs, &opts))
        .await
        .map_err(|e| ApiError::bad_request(format!("the fit failed: {e}")))?
        .map_err(ApiError::from)?;
    let law = serde_json::to_value(&report.law).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let report_json = serde_json::to_value(&report).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fit = state.store.create_fit(&report.law.name, &r.runs, &law, &report_json).await?;
    Ok(HttpResponse::Created().json(fit))
}

/// `GET /api/v1/fits`.
#[get("/fits")]
pub async fn fits(state: web::Data<State>, req: HttpRequest, q: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let fits = state.store.fits(q.page()?).await?;
    let next_before = fits.last().map(|f| f.id);
    Ok(HttpResponse::Ok().json(FitsPage { fits, next_before }))
}

/// `GET /api/v1/fits/{id}`.
#[get("/fits/{id}")]
pub async fn get_fit(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    Ok(HttpResponse::Ok().json(state.store.fit(*id).await?))
}

/// A measurement row, as the calibration CSV's columns.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MeasurementRequest {
    /// Device id.
    pub device: String,
    /// Engine (`llama.cpp`, `burn`, `mlc`…).
    pub engine: String,
    /// Repeating a key returns the stored row instead of adding another (agents retry safely).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The other columns.
    #[serde(flatten)]
    pub row: serde_json::Map<String, serde_json::Value>,
}

/// `POST /api/v1/measurements` (scope `measure`).
#[post("/measurements")]
pub async fn add_measurement(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Measure).await?;
    let m: MeasurementRequest = json_body(&body)?;
    if m.device.trim().is_empty() || m.engine.trim().is_empty() {
        return Err(ApiError::bad_request("device and engine must not be empty"));
    }
    let mut row = m.row;
    row.insert("device".into(), m.device.clone().into());
    row.insert("engine".into(), m.engine.clone().into());
    let (stored, created) =
        state.store.add_measurement(&m.device, &m.engine, &serde_json::Value::Object(row), m.idempotency_key.as_deref()).await?;
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(stored))
}

/// `GET /api/v1/measurements`.
#[get("/measurements")]
pub async fn measurements(state: web::Data<State>, req: HttpRequest, q: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let rows = state.store.measurements(q.page()?).await?;
    let next_before = rows.last().map(|m| m.id);
    Ok(HttpResponse::Ok().json(MeasurementsPage { measurements: rows, next_before }))
}

/// `GET /api/v1/tokens` (scope `admin`): names and scopes, never secrets.
#[get("/tokens")]
pub async fn tokens(state: web::Data<State>, req: HttpRequest, q: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Admin).await?;
    let tokens = state.store.tokens(q.page()?).await?;
    let next_before = tokens.last().map(|t| t.id);
    Ok(HttpResponse::Ok().json(Tokens { tokens, next_before }))
}

/// `POST /api/v1/tokens` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TokenRequest {
    /// Who or what it is for.
    pub name: String,
    /// Scopes (`read`, `train`, `measure`, `admin`).
    pub scopes: Vec<String>,
}

/// `POST /api/v1/tokens` (scope `admin`): the secret is in this response only.
#[post("/tokens")]
pub async fn create_token(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Admin).await?;
    let t: TokenRequest = json_body(&body)?;
    let scopes = t.scopes.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>().map_err(ApiError::bad_request)?;
    if t.name.trim().is_empty() || scopes.is_empty() {
        return Err(ApiError::bad_request("a token needs a name and at least one scope"));
    }
    let (token, secret) = state.store.create_token(t.name.trim(), &scopes).await?;
    Ok(HttpResponse::Created().json(TokenCreated { token, secret }))
}

/// `DELETE /api/v1/tokens/{id}` (scope `admin`).
#[delete("/tokens/{id}")]
pub async fn revoke_token(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Admin).await?;
    Ok(HttpResponse::Ok().json(state.store.revoke_token(*id).await?))
}
