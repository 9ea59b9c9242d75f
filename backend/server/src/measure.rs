//! Measurement agents and their jobs, and calibrations fitted from the stored measurements.
//!
//! An agent registers (scope `measure`) with its device's facts, claims jobs queued for its device with a
//! lease, runs them, and posts the records to the job; posting again changes nothing (each record is
//! stored under the key `job-ID-K`). `POST /calibrations` fits a profile per device × engine × precision
//! (or the grouping asked for) on the stored measurements, with its leave-one-out error.

use actix_web::web::{self, Bytes};
use actix_web::{get, post, HttpRequest, HttpResponse};
use rooflaw::calibrate::{fit, GroupKey, MeasurementRow};
use rooflaw_measure::job::JobSpec;
use rooflaw_store::{Calibration, Scope};
use serde::{Deserialize, Serialize};

use crate::http::{json_body, may_read, require, ApiError, ApiResult, PageQuery};
use crate::science::{compute, context};
use crate::types::{AgentsPage, CalibrationsPage, MeasureJobsPage};
use crate::State;

/// `POST /api/v1/agents`: an agent introduces itself.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AgentRequest {
    /// Unique agent name (e.g. the host name).
    pub name: String,
    /// Device id its measurements are recorded under and whose jobs it claims.
    pub device: String,
    /// What it knows about the device (CPU, memory, GPU, L4T, CUDA, power mode, clocks).
    #[serde(default)]
    pub facts: serde_json::Value,
}

fn check_name(what: &str, s: &str) -> ApiResult<()> {
    if s.is_empty() || s.len() > 128 || !s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(ApiError::bad_request(format!("{what} must be 1–128 letters, digits, '-', '_' or '.', not {s:?}")));
    }
    Ok(())
}

/// `POST /api/v1/agents` (scope `measure`).
#[post("/agents")]
pub async fn register(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Measure).await?;
    let a: AgentRequest = json_body(&body)?;
    check_name("name", &a.name)?;
    check_name("device", &a.device)?;
    Ok(HttpResponse::Ok().json(state.store.register_agent(&a.name, &a.device, &a.facts).await?))
}

/// `GET /api/v1/agents`.
#[get("/agents")]
pub async fn agents(state: web::Data<State>, req: HttpRequest, q: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let agents = state.store.agents(q.page()?).await?;
    let next_before = agents.last().map(|a| a.id);
    Ok(HttpResponse::Ok().json(AgentsPage { agents, next_before }))
}

/// `POST /api/v1/measure-jobs`: a job for a device's agents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct JobRequest {
    /// The device whose agents run it.
    pub device: String,
    /// What to measure.
    pub job: JobSpec,
}

/// `POST /api/v1/measure-jobs` (scope `train`).
#[post("/measure-jobs")]
pub async fn submit_job(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let r: JobRequest = json_body(&body)?;
    check_name("device", &r.device)?;
    r.job.plans().map_err(|e| ApiError::bad_request(e.to_string()))?;
    let spec = serde_json::to_value(&r.job).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(HttpResponse::Created().json(state.store.submit_measure_job(&r.device, &spec).await?))
}

/// `GET /api/v1/measure-jobs`.
#[get("/measure-jobs")]
pub async fn jobs(state: web::Data<State>, req: HttpRequest, q: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let jobs = state.store.measure_jobs(q.page()?).await?;
    let next_before = jobs.last().map(|j| j.id);
    Ok(HttpResponse::Ok().json(MeasureJobsPage { jobs, next_before }))
}

/// `GET /api/v1/measure-jobs/{id}`.
#[get("/measure-jobs/{id}")]
pub async fn get_job(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    Ok(HttpResponse::Ok().json(state.store.measure_job(*id).await?))
}

/// `POST /api/v1/agents/{name}/claim` (scope `measure`): the next job of the agent's device, with a
/// lease (200), or 204 when there is none.
#[post("/agents/{name}/claim")]
pub async fn claim(state: web::Data<State>, req: HttpRequest, name: web::Path<String>) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Measure).await?;
    let agent = state.store.agent(&name).await?;
    match state.store.claim_measure_job(&agent.name, &agent.device, state.config.lease_ms() * 40).await? {
        Some(job) => Ok(HttpResponse::Ok().json(job)),
        None => Ok(HttpResponse::NoContent().finish()),
    }
}

/// `POST /api/v1/measure-jobs/{id}/result`: the records of every depth, or why the job failed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct JobResult {
    /// The agent posting.
    pub agent: String,
    /// The records (`rooflaw measure latency`'s JSON), one per depth.
    #[serde(default)]
    pub records: Vec<serde_json::Value>,
    /// Why the job could not run (then no records).
    #[serde(default)]
    pub error: Option<String>,
}

/// `POST /api/v1/measure-jobs/{id}/result` (scope `measure`): stores the records once (idempotent by
/// job), and completes or fails the job.
#[post("/measure-jobs/{id}/result")]
pub async fn post_result(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Measure).await?;
    let r: JobResult = json_body(&body)?;
    let job = state.store.measure_job(*id).await?;
    if job.status == "completed" {
        return Ok(HttpResponse::Ok().json(job));
    }
    if let Some(e) = &r.error {
        return Ok(HttpResponse::Ok().json(state.store.finish_measure_job(job.id, Err(e)).await?));
    }
    if r.records.is_empty() {
        return Err(ApiError::bad_request("a result needs records, or an error saying why the job could not run"));
    }
    // Every record must be a calibration row for this job's device before any is stored.
    for (k, rec) in r.records.iter().enumerate() {
        let row: MeasurementRow = serde_json::from_value(rec.clone())
            .map_err(|e| ApiError::bad_request(format!("record {k} is not a measurement record: {e}")))?;
        if row.device != job.device {
            return Err(ApiError::bad_request(format!("record {k} is for device '{}', the job for '{}'", row.device, job.device)));
        }
        if !(row.decode_tokens_per_sec.is_finite() && row.decode_tokens_per_sec > 0.0) {
            return Err(ApiError::bad_request(format!("record {k}: decode_tokens_per_sec must be a positive number")));
        }
    }
    let mut ids = Vec::new();
    for (k, rec) in r.records.iter().enumerate() {
        let mut rec = rec.clone();
        rec["agent"] = r.agent.clone().into();
        rec["job_id"] = job.id.into();
        let engine = rec["engine"].as_str().unwrap_or("unknown").to_string();
        let (m, _) = state.store.add_measurement(&job.device, &engine, &rec, Some(&format!("job-{}-{k}", job.id))).await?;
        ids.push(m.id);
    }
    Ok(HttpResponse::Ok().json(state.store.finish_measure_job(job.id, Ok(&ids)).await?))
}

/// `POST /api/v1/calibrations`: which stored measurements to fit, and how to group them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CalibrationRequest {
    /// Only this device's measurements.
    #[serde(default)]
    pub device: Option<String>,
    /// Only this engine's.
    #[serde(default)]
    pub engine: Option<String>,
    /// Only this precision's.
    #[serde(default)]
    pub precision: Option<String>,
    /// Fit one profile per value of these fields (default: device, engine, precision).
    #[serde(default)]
    pub group_by: Option<Vec<GroupKey>>,
    /// Leave out records flagged unreliable (default true).
    #[serde(default)]
    pub reliable_only: Option<bool>,
}

/// The fitted profiles, stored, and the rows left out.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CalibrationsCreated {
    /// One stored calibration per group.
    pub calibrations: Vec<Calibration>,
    /// Rows left out of the fit, with the reason.
    pub skipped: Vec<rooflaw::calibrate::SkippedRow>,
    /// Records left out because they were flagged unreliable.
    pub unreliable_left_out: usize,
}

/// Most measurements one calibration reads.
const MAX_ROWS: i64 = 20_000;

/// `POST /api/v1/calibrations` (scope `train`).
#[post("/calibrations")]
pub async fn calibrate(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let r: CalibrationRequest = if body.iter().all(u8::is_ascii_whitespace) { CalibrationRequest::default() } else { json_body(&body)? };
    let stored = state.store.measurements_of(r.device.as_deref(), MAX_ROWS).await?;
    let mut rows = Vec::new();
    let mut unreliable = 0;
    for m in stored {
        if r.reliable_only.unwrap_or(true) && m.row.get("reliable").and_then(|v| v.as_bool()) == Some(false) {
            unreliable += 1;
            continue;
        }
        // Rows posted by hand may lack fields a fit needs: those are left out, as calibrate leaves out a
        // bad CSV line.
        let Ok(row) = serde_json::from_value::<MeasurementRow>(m.row) else { continue };
        if r.engine.as_ref().is_some_and(|e| *e != row.engine) || r.precision.as_ref().is_some_and(|p| *p != row.precision) {
            continue;
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(ApiError::bad_request(format!(
            "no stored measurement matches ({unreliable} left out as unreliable); measure with an agent or POST /measurements first"
        )));
    }
    let group_by = r.group_by.clone().unwrap_or_else(|| vec![GroupKey::Device, GroupKey::Engine, GroupKey::Precision]);
    let ctx = context(&state).await?;
    let report = compute(move || fit(&rows, &ctx.catalogue, &group_by)).await?;
    let mut stored = Vec::new();
    for p in &report.profiles {
        let profile = serde_json::to_value(p).map_err(|e| ApiError::bad_request(e.to_string()))?;
        stored.push(
            state
                .store
                .create_calibration(&p.label, p.scope.device.as_deref(), p.scope.engine.as_deref(), p.scope.precision.as_deref(), &profile)
                .await?,
        );
    }
    Ok(HttpResponse::Created().json(CalibrationsCreated { calibrations: stored, skipped: report.skipped, unreliable_left_out: unreliable }))
}

/// `GET /api/v1/calibrations`.
#[get("/calibrations")]
pub async fn calibrations(state: web::Data<State>, req: HttpRequest, q: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let page = state.store.calibrations(q.page()?).await?;
    let next_before = page.last().map(|c| c.id);
    Ok(HttpResponse::Ok().json(CalibrationsPage { calibrations: page, next_before }))
}
