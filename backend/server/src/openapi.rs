//! The OpenAPI 3.0 document of `/api/v1`: one entry per route (method, path, scope, request and response
//! types), with every schema generated from the Rust types the handlers read and write (schemars). The
//! API tests request every route listed here from a real server.

use rooflaw::api::{FrontierReport, FrontierRequest, PredictRequest};
use rooflaw::hardware::Device;
use rooflaw::report::Prediction;
use rooflaw_store::{Agent, Campaign, Event, Fit, Job, MeasureJob, Measurement, Run, Token};
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use crate::campaign::{CampaignRequest, CampaignView};
use crate::measure::{AgentRequest, CalibrationRequest, CalibrationsCreated, JobRequest, JobResult};
use crate::records::{FitRequest, MeasurementRequest, TokenRequest};
use crate::runs::RunRequest;
use crate::types::{
    AgentsPage, CalibrationsPage, CampaignsPage, Datasets, Devices, ErrorBody, FitsPage, Health, MeasureJobsPage, MeasurementsPage,
    RunsPage, TokenCreated, Tokens,
};

/// A schema reference for a type (its definition goes into `components/schemas`).
type SchemaOf = fn(&mut SchemaGenerator) -> Schema;

fn of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// One route of the API.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path under `/api/v1`, with `{id}`-style parameters.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The token scope it needs (`None`: reading, public unless the server is private).
    pub scope: Option<&'static str>,
    /// The JSON body it reads.
    pub request: Option<SchemaOf>,
    /// The JSON it answers with (`None`: not JSON, e.g. an event stream or a file).
    pub response: Option<SchemaOf>,
    /// The success status.
    pub status: u16,
}

const fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    scope: Option<&'static str>,
    request: Option<SchemaOf>,
    response: Option<SchemaOf>,
    status: u16,
) -> Route {
    Route { method, path, summary, scope, request, response, status }
}

/// Every route the server serves under `/api/v1`.
pub const ROUTES: &[Route] = &[
    route("get", "/health", "Whether the database answers (503 when it does not).", None, None, Some(of::<Health>), 200),
    route("get", "/openapi.json", "This document.", None, None, None, 200),
    route("get", "/devices", "The device catalogue with the stored custom devices.", None, None, Some(of::<Devices>), 200),
    route("post", "/devices", "Add or replace a custom device.", Some("train"), Some(of::<Device>), Some(of::<Device>), 201),
    route(
        "post",
        "/predict",
        "One architecture's latency and memory on a target (as `rooflaw predict`).",
        None,
        Some(of::<PredictRequest>),
        Some(of::<Prediction>),
        200,
    ),
    route(
        "post",
        "/frontier",
        "The loss–latency frontier of a design space with budgets (as `rooflaw frontier`); `?all=true` lists every candidate.",
        None,
        Some(of::<FrontierRequest>),
        Some(of::<FrontierReport>),
        200,
    ),
    route("get", "/datasets", "The prepared data folders runs can name.", None, None, Some(of::<Datasets>), 200),
    route(
        "post",
        "/runs",
        "Queue a training run (checked at once; an idempotency key returns the existing run with 200).",
        Some("train"),
        Some(of::<RunRequest>),
        Some(of::<Run>),
        201,
    ),
    route("get", "/runs", "Runs, newest first (`?status=&limit=&before=`).", None, None, Some(of::<RunsPage>), 200),
    route("get", "/runs/{id}", "A run.", None, None, Some(of::<Run>), 200),
    route("post", "/runs/{id}/cancel", "Cancel a queued or running run.", Some("train"), None, Some(of::<Run>), 200),
    route(
        "post",
        "/runs/{id}/retry",
        "Queue a failed or cancelled run again; it resumes from its last checkpoint.",
        Some("train"),
        None,
        Some(of::<Run>),
        200,
    ),
    route("get", "/runs/{id}/metrics", "The run's metrics.jsonl as a JSON array.", None, None, Some(of::<Vec<Value>>), 200),
    route("get", "/runs/{id}/files/{path}", "A file of the run's folder (nothing outside it).", None, None, None, 200),
    route(
        "get",
        "/runs/{id}/events",
        "The run's events as Server-Sent Events (`status`, `metrics`); resume with Last-Event-ID.",
        None,
        None,
        None,
        200,
    ),
    route("get", "/events", "Every run's events as Server-Sent Events; resume with Last-Event-ID.", None, None, None, 200),
    route("post", "/fits", "Fit the loss law on completed runs and store it.", Some("train"), Some(of::<FitRequest>), Some(of::<Fit>), 201),
    route("get", "/fits", "Fitted laws, newest first.", None, None, Some(of::<FitsPage>), 200),
    route("get", "/fits/{id}", "A fitted law.", None, None, Some(of::<Fit>), 200),
    route(
        "post",
        "/measurements",
        "Store a latency measurement (idempotent by key).",
        Some("measure"),
        Some(of::<MeasurementRequest>),
        Some(of::<Measurement>),
        201,
    ),
    route("get", "/measurements", "Measurements, newest first.", None, None, Some(of::<MeasurementsPage>), 200),
    route(
        "post",
        "/agents",
        "Register a measurement agent (or update its facts).",
        Some("measure"),
        Some(of::<AgentRequest>),
        Some(of::<Agent>),
        200,
    ),
    route("get", "/agents", "Measurement agents, newest first.", None, None, Some(of::<AgentsPage>), 200),
    route(
        "post",
        "/agents/{name}/claim",
        "Claim the next job of the agent's device, with a lease (204: none).",
        Some("measure"),
        None,
        Some(of::<MeasureJob>),
        200,
    ),
    route(
        "post",
        "/measure-jobs",
        "Queue a latency measurement for a device's agents.",
        Some("train"),
        Some(of::<JobRequest>),
        Some(of::<MeasureJob>),
        201,
    ),
    route("get", "/measure-jobs", "Measurement jobs, newest first.", None, None, Some(of::<MeasureJobsPage>), 200),
    route("get", "/measure-jobs/{id}", "A measurement job.", None, None, Some(of::<MeasureJob>), 200),
    route(
        "post",
        "/measure-jobs/{id}/result",
        "Post a job's records (stored once: idempotent by job), or why it failed.",
        Some("measure"),
        Some(of::<JobResult>),
        Some(of::<MeasureJob>),
        200,
    ),
    route(
        "post",
        "/calibrations",
        "Fit calibration profiles (per device × engine × precision) on the stored measurements, with leave-one-out error, and store them.",
        Some("train"),
        Some(of::<CalibrationRequest>),
        Some(of::<CalibrationsCreated>),
        201,
    ),
    route("get", "/calibrations", "Stored calibrations, newest first.", None, None, Some(of::<CalibrationsPage>), 200),
    route(
        "post",
        "/campaigns",
        "Start a training campaign: rounds of runs chosen from the frontier's uncertainty, trained by the local workers or on Slurm, the law refitted after each round.",
        Some("train"),
        Some(of::<CampaignRequest>),
        Some(of::<Campaign>),
        201,
    ),
    route("get", "/campaigns", "Campaigns, newest first (`?limit=&before=`).", None, None, Some(of::<CampaignsPage>), 200),
    route("get", "/campaigns/{id}", "A campaign with its rounds (picks, fits, uncertain frontiers) and jobs.", None, None, Some(of::<CampaignView>), 200),
    route("post", "/campaigns/{id}/cancel", "Stop a campaign and cancel its unfinished jobs.", Some("train"), None, Some(of::<Campaign>), 200),
    route(
        "post",
        "/campaigns/{id}/jobs/{job}/retry",
        "Start a failed or cancelled job of a running campaign again (from its checkpoint).",
        Some("train"),
        None,
        Some(of::<Job>),
        200,
    ),
    route("get", "/tokens", "Tokens, newest first (`?limit=&before=`; never their secrets).", Some("admin"), None, Some(of::<Tokens>), 200),
    route(
        "post",
        "/tokens",
        "Create a token; its secret is in this response only.",
        Some("admin"),
        Some(of::<TokenRequest>),
        Some(of::<TokenCreated>),
        201,
    ),
    route("delete", "/tokens/{id}", "Revoke a token.", Some("admin"), None, Some(of::<Token>), 200),
];

fn to_value(s: &Schema) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// The document.
pub fn document() -> Value {
    let mut g = SchemaSettings::openapi3().into_generator();
    let error = to_value(&of::<ErrorBody>(&mut g));
    // The event type is what the streams carry, one per `data:` line.
    let _ = of::<Event>(&mut g);
    let mut paths = Map::new();
    for r in ROUTES {
        let mut op = Map::new();
        op.insert("summary".into(), json!(r.summary));
        let mut parameters: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": if name == "id" { "integer" } else { "string" } } }))
            .collect();
        if r.path.ends_with("/events") {
            parameters.push(json!({ "name": "Last-Event-ID", "in": "header", "required": false, "schema": { "type": "integer" } }));
        }
        if !parameters.is_empty() {
            op.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(req) = r.request {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": to_value(&req(&mut g)) } } }),
            );
        }
        let ok = match (r.response, r.path.ends_with("/events"), r.path == "/openapi.json") {
            (Some(resp), _, _) => {
                json!({ "description": "success", "content": { "application/json": { "schema": to_value(&resp(&mut g)) } } })
            }
            (None, true, _) => {
                json!({ "description": "a stream of events (text/event-stream), each `data:` an Event", "content": { "text/event-stream": { "schema": { "type": "string" } } } })
            }
            (None, false, true) => {
                json!({ "description": "this OpenAPI document", "content": { "application/json": { "schema": { "type": "object" } } } })
            }
            (None, false, false) => json!({ "description": "the file" }),
        };
        let mut responses = Map::new();
        responses.insert(r.status.to_string(), ok);
        let err = |what: &str| json!({ "description": what, "content": { "application/json": { "schema": error.clone() } } });
        responses.insert("400".into(), err("bad input: the message says what and how to fix it"));
        if r.path.contains("{id}") {
            responses.insert("404".into(), err("no such record"));
        }
        if let Some(scope) = r.scope {
            responses.insert("401".into(), err("no token, or an unknown or revoked one"));
            responses.insert("403".into(), err(&format!("the token lacks the '{scope}' scope")));
            op.insert("security".into(), json!([{ "bearer": [] }]));
            op.insert("x-scope".into(), json!(scope));
        }
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths.entry(format!("/api/v1{}", r.path)).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(r.method.into(), Value::Object(op));
        }
    }
    let schemas: Map<String, Value> = g.definitions().iter().map(|(k, v)| (k.clone(), to_value(v))).collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "rooflaw",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Hardware co-design scaling laws: predictions, frontiers, training runs, fitted laws and measurements. Reading is public unless the server is private; changes need a bearer token with a scope (`rooflaw token create`).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn every_registered_route_is_documented() {
        // The routes registered under /api/v1 in lib.rs, against this table (the API tests check the other
        // direction: every documented route is served).
        let src = include_str!("lib.rs");
        let start = src.find("web::scope(\"/api/v1\")").unwrap();
        let scope = &src[start..start + src[start..].find(".default_service").unwrap()];
        assert_eq!(scope.matches(".service(").count(), ROUTES.len());
    }

    #[test]
    fn every_route_and_type_is_in_the_document() {
        let d = document();
        assert_eq!(d["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum::<usize>(), ROUTES.len());
        let schemas = d["components"]["schemas"].as_object().unwrap();
        for t in [
            "PredictRequest",
            "Prediction",
            "FrontierRequest",
            "FrontierReport",
            "RunRequest",
            "Run",
            "Fit",
            "Measurement",
            "Token",
            "Device",
            "Event",
            "TrainOptions",
            "ArchitectureSpec",
        ] {
            assert!(schemas.contains_key(t), "{t} missing from components/schemas");
        }
        // The run request takes the architecture's fields at its top level, like every other request.
        let run = &schemas["RunRequest"]["properties"];
        for k in ["model", "spec", "hf_config", "data", "backend", "options", "idempotency_key"] {
            assert!(run.get(k).is_some(), "RunRequest lacks {k}: {run}");
        }
        assert_eq!(d["paths"]["/api/v1/runs"]["post"]["x-scope"], "train");
        assert!(d["paths"]["/api/v1/runs"]["get"].get("security").is_none(), "reading needs no token");
    }
}
