//! The rooflaw service: the HTTP API under `/api/v1` and the built site, on one address, with training
//! workers fed by the database's durable queue.
//!
//! - `science`: health, devices, predictions and frontiers (the science crate's `api` types in and out);
//! - `runs`: training runs, their metrics, files and live events (Server-Sent Events);
//! - `records`: fitted laws, measurements, tokens;
//! - `measure`: measurement agents, their jobs, and calibrations fitted from stored measurements;
//! - `campaign`: training campaigns and their driver (rounds chosen from the frontier's uncertainty);
//!   `slurm`: the Slurm executor;
//! - `worker`: the training workers;
//! - `http`: errors, tokens and scopes, bounded JSON, paging, confined files.
//!
//! Reading is public unless the server is private; every mutation needs a bearer token with the right
//! scope (`rooflaw token create`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use rooflaw_store::Store;

pub mod campaign;
pub mod http;
pub mod measure;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod records;
pub mod runs;
pub mod science;
pub mod slurm;
pub mod types;
pub mod worker;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free one).
    pub addr: String,
    /// Database URL; `None`: the SQLite file in the data folder.
    pub database: Option<String>,
    /// Data folder: the database, `datasets/` (prepared data) and `runs/` (run folders).
    pub data_dir: PathBuf,
    /// The built site (`dist/`), served at `/` when it exists.
    pub site_dir: Option<PathBuf>,
    /// Training workers (0: this server only queues).
    pub workers: usize,
    /// The `rooflaw` executable the workers start as trainers.
    pub trainer: PathBuf,
    /// CPU threads per trainer.
    pub train_threads: usize,
    /// Whether reading needs no token.
    pub public_read: bool,
    /// Most runs a token may have queued.
    pub max_queued_per_token: i64,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Seconds a worker's lease lasts without a heartbeat.
    pub lease_secs: u64,
    /// Origins of sites on other hosts allowed to call the API from a browser (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// Where campaigns on the Slurm executor submit their runs (None: no Slurm).
    pub slurm: Option<slurm::SlurmConfig>,
}

impl Config {
    /// A configuration with the defaults for a data folder.
    pub fn new(data_dir: PathBuf, trainer: PathBuf) -> Config {
        Config {
            addr: "127.0.0.1:8080".into(),
            database: None,
            data_dir,
            site_dir: None,
            workers: 1,
            trainer,
            train_threads: 1,
            public_read: true,
            max_queued_per_token: 100,
            max_body_bytes: 1 << 20,
            lease_secs: 15,
            cors_origins: Vec::new(),
            slurm: None,
        }
    }

    /// The lease in milliseconds.
    pub fn lease_ms(&self) -> i64 {
        (self.lease_secs.max(2) * 1000) as i64
    }

    /// How often a worker renews its lease: a third of it.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.lease_ms() as u64 / 3)
    }
}

/// Wakes event streams when this process writes an event (streams also poll, for other processes).
#[derive(Debug, Clone)]
pub struct Events(Arc<tokio::sync::watch::Sender<u64>>);

impl Events {
    fn new() -> Self {
        Events(Arc::new(tokio::sync::watch::channel(0).0))
    }

    /// Something changed.
    pub fn bump(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    /// A receiver that sees the next change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }

    /// Waits for a change, at most `limit`.
    pub async fn wait(&self, limit: Duration) {
        let mut rx = self.subscribe();
        let _ = tokio::time::timeout(limit, rx.changed()).await;
    }
}

/// What every handler sees.
#[derive(Debug, Clone)]
pub struct State {
    /// The database.
    pub store: Store,
    /// The configuration.
    pub config: Arc<Config>,
    /// Event notifications.
    pub events: Events,
}

/// `GET /api/v1/health`: 200 when the database answers, 503 otherwise.
#[actix_web::get("/health")]
async fn health(state: web::Data<State>) -> HttpResponse {
    match state.store.health().await {
        Ok(()) => HttpResponse::Ok()
            .json(serde_json::json!({ "status": "ok", "database": state.store.dialect(), "version": env!("CARGO_PKG_VERSION") })),
        Err(e) => HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "unavailable", "error": e.to_string() })),
    }
}

/// `GET /api/v1/openapi.json`: the API's OpenAPI 3.0 document, generated from the request and response
/// types.
#[actix_web::get("/openapi.json")]
async fn openapi_json() -> HttpResponse {
    #[cfg(feature = "openapi")]
    return HttpResponse::Ok().json(openapi::document());
    #[cfg(not(feature = "openapi"))]
    HttpResponse::NotFound().json(serde_json::json!({ "error": "this build has no OpenAPI document (feature openapi)" }))
}

/// An unknown API path: 404 in JSON.
async fn api_not_found(req: HttpRequest) -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({ "error": format!("no API route {} {}", req.method(), req.path()) }))
}

/// The built site: `/` is `index.html`; nothing outside the folder.
async fn site(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let Some(dir) = &state.config.site_dir else {
        return HttpResponse::NotFound().body("this server has no site folder (build it with scripts/site.sh and pass --dir dist)");
    };
    let path = req.path();
    let rel = if path.ends_with('/') { format!("{path}index.html") } else { path.to_string() };
    match http::file_under(dir, &rel).and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
        Some((file, body)) => HttpResponse::Ok().content_type(http::content_type(&file)).body(body),
        None => HttpResponse::NotFound().body("not found"),
    }
}

/// Cross-origin access for the listed origins only: a static copy of the site on another host may call the
/// API (with the token header); every other origin gets no CORS headers, so browsers refuse it.
fn cors(origins: &[String]) -> actix_cors::Cors {
    origins
        .iter()
        .fold(actix_cors::Cors::default(), |c, o| c.allowed_origin(o))
        .allowed_methods(["GET", "POST", "DELETE"])
        .allowed_headers([actix_web::http::header::AUTHORIZATION, actix_web::http::header::CONTENT_TYPE])
        .allowed_header("Last-Event-ID")
        .max_age(3600)
}

impl State {
    /// Creates the data folder and opens the configured database (applying its migrations).
    pub async fn open(config: Config) -> anyhow::Result<State> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!("cannot create the data folder {} ({e}); pass a writable --data-dir", config.data_dir.display())
        })?;
        let url = config.database.clone().unwrap_or_else(|| rooflaw_store::default_url(&config.data_dir));
        let store = Store::open(&url).await.map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
        Ok(State { store, config: Arc::new(config), events: Events::new() })
    }

    /// Starts the configured number of training workers, named `PREFIX-i`.
    pub fn start_workers(&self, prefix: &str) {
        for i in 0..self.config.workers {
            let name = format!("{prefix}-{i}");
            actix_web::rt::spawn(worker::work(self.store.clone(), self.config.clone(), self.events.clone(), name));
        }
    }
}

/// Opens the database (applying migrations), starts the workers and serves until stopped. `ready` gets
/// the URL once the socket listens (the CLI prints it as its first line).
pub async fn serve(config: Config, ready: impl FnOnce(&str)) -> anyhow::Result<()> {
    let state = State::open(config).await?;
    let (store, config) = (state.store.clone(), state.config.clone());
    let data = web::Data::new(state.clone());
    let body_limit = config.max_body_bytes;
    let origins = config.cors_origins.clone();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::Condition::new(!origins.is_empty(), cors(&origins)))
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(web::QueryConfig::default().error_handler(|e, _| http::ApiError::bad_request(format!("bad query: {e}")).into()))
            .app_data(web::PathConfig::default().error_handler(|e, _| http::ApiError::bad_request(format!("bad path: {e}")).into()))
            .service(
                web::scope("/api/v1")
                    .service(health)
                    .service(openapi_json)
                    .service(science::devices)
                    .service(science::add_device)
                    .service(science::predict)
                    .service(science::frontier)
                    .service(science::datasets)
                    .service(runs::submit)
                    .service(runs::list)
                    .service(runs::get_run)
                    .service(runs::cancel)
                    .service(runs::retry)
                    .service(runs::metrics)
                    .service(runs::file)
                    .service(runs::run_events)
                    .service(runs::queue_events)
                    .service(records::create_fit)
                    .service(records::fits)
                    .service(records::get_fit)
                    .service(records::add_measurement)
                    .service(records::measurements)
                    .service(measure::register)
                    .service(measure::agents)
                    .service(measure::submit_job)
                    .service(measure::jobs)
                    .service(measure::get_job)
                    .service(measure::claim)
                    .service(measure::post_result)
                    .service(measure::calibrate)
                    .service(measure::calibrations)
                    .service(campaign::create)
                    .service(campaign::list)
                    .service(campaign::get_campaign)
                    .service(campaign::cancel)
                    .service(campaign::retry)
                    .service(records::tokens)
                    .service(records::create_token)
                    .service(records::revoke_token)
                    .default_service(web::to(api_not_found)),
            )
            .default_service(web::to(site))
    })
    .client_request_timeout(Duration::from_secs(30))
    .bind(&config.addr)
    .map_err(|e| anyhow::anyhow!("cannot listen on {} ({e}); pick another --addr", config.addr))?;
    let bound = server.addrs().first().map_or(config.addr.clone(), |a| a.to_string());
    let server = server.run();
    state.start_workers(&format!("{}-{}", hostname(), std::process::id()));
    let resumed = campaign::resume_all(&state).await.map_err(|e| anyhow::anyhow!("cannot read the campaigns: {e}"))?;
    tracing::info!(addr = %bound, database = ?store.dialect(), workers = config.workers, campaigns = resumed, "serving");
    ready(&format!("http://{bound}/"));
    server.await?;
    Ok(())
}

/// Runs a future to completion on an actix system (the runtime the server and the store need), for
/// callers that are not async (the command line).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    actix_web::rt::System::new().block_on(f)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "worker".into())
}
