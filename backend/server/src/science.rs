//! The science over HTTP: the device catalogue (with custom devices stored in the database),
//! predictions and frontiers (the science crate's request and report types, computed on a blocking
//! thread so that a large space never stalls the server), and the prepared datasets runs can use.

use actix_web::web::{self, Bytes};
use actix_web::{get, post, HttpRequest, HttpResponse};
use rooflaw::api::{self, Context, FrontierRequest, PredictRequest};
use rooflaw::hardware::{parse_devices, Catalogue, Device};
use rooflaw_store::Scope;
use rooflaw_train::data::Manifest;

use crate::http::{json_body, may_read, require, ApiError, ApiResult};
use crate::types::{DatasetInfo, Datasets, Devices};
use crate::State;

/// Most candidates one frontier request may evaluate.
pub const MAX_SAMPLES: usize = 200_000;

/// The request context: the catalogue with the stored custom devices.
pub(crate) async fn context(state: &State) -> ApiResult<Context> {
    let mut custom = Vec::new();
    for v in state.store.devices().await? {
        custom.push(serde_json::from_value::<Device>(v).map_err(|e| ApiError::bad_request(format!("a stored device is damaged: {e}")))?);
    }
    Ok(Context { catalogue: Catalogue::default().with(custom), ..Default::default() })
}

/// Runs science code on the blocking pool and turns its error into a 400.
pub(crate) async fn compute<T: Send + 'static>(f: impl FnOnce() -> rooflaw::Result<T> + Send + 'static) -> ApiResult<T> {
    web::block(f).await.map_err(|e| ApiError::bad_request(format!("the computation failed: {e}")))?.map_err(ApiError::from)
}

/// `GET /api/v1/devices`: the catalogue, custom devices included.
#[get("/devices")]
pub async fn devices(state: web::Data<State>, req: HttpRequest) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let ctx = context(&state).await?;
    Ok(HttpResponse::Ok().json(Devices { devices: ctx.catalogue.devices().to_vec() }))
}

/// `POST /api/v1/devices`: adds or replaces a custom device (the shape `rooflaw devices show ID --format
/// json` prints); checked like a devices file.
#[post("/devices")]
pub async fn add_device(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let value: serde_json::Value = json_body(&body)?;
    let device = parse_devices(&serde_json::json!({ "devices": [value] }).to_string(), "device")?.remove(0);
    let value = serde_json::to_value(&device).map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.store.put_device(&device.id, &value).await?;
    Ok(HttpResponse::Created().json(device))
}

/// `POST /api/v1/predict`: one architecture's latency and memory on a target (`rooflaw predict`).
#[post("/predict")]
pub async fn predict(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let request: PredictRequest = json_body(&body)?;
    let ctx = context(&state).await?;
    // A single prediction takes microseconds: no need for the blocking pool.
    Ok(HttpResponse::Ok().json(api::predict(&request, &ctx)?))
}

/// `POST /api/v1/frontier`: the loss–latency frontier of a design space with budgets (`rooflaw frontier`).
/// `?all=true` lists every candidate, not only the frontier.
#[post("/frontier")]
pub async fn frontier(state: web::Data<State>, req: HttpRequest, body: Bytes, q: web::Query<AllQuery>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let request: FrontierRequest = json_body(&body)?;
    if request.search.samples > MAX_SAMPLES {
        return Err(ApiError::bad_request(format!("samples {} is above this server's limit of {MAX_SAMPLES}", request.search.samples)));
    }
    let ctx = context(&state).await?;
    let all = q.all.unwrap_or(false);
    let report = compute(move || api::frontier(&request, &ctx).map(|s| s.report(all))).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// `?all=`.
#[derive(Debug, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AllQuery {
    /// Every candidate, not only the frontier.
    pub all: Option<bool>,
}

/// `GET /api/v1/datasets`: the prepared data folders under `datasets/` that runs can name.
#[get("/datasets")]
pub async fn datasets(state: web::Data<State>, req: HttpRequest) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let root = state.config.data_dir.join("datasets");
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&root) {
        let mut dirs: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for d in dirs {
            // The manifest says all a listing needs; the shards are read (and checked) when a run uses them.
            if let (Some(name), Ok(m)) = (d.file_name().and_then(|n| n.to_str()), Manifest::read(&d)) {
                out.push(DatasetInfo {
                    name: name.to_string(),
                    tokenizer: m.tokenizer.name().to_string(),
                    vocab_size: m.vocab_size,
                    train_tokens: m.train.tokens,
                    validation_tokens: m.validation.tokens,
                    validation_set: m.validation_name().to_string(),
                });
            }
        }
    }
    Ok(HttpResponse::Ok().json(Datasets { datasets: out, folder: root.display().to_string() }))
}
