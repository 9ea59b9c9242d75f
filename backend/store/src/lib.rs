//! rooflaw's database, through sqlx: an embedded SQLite file by default, or Postgres. One schema per
//! dialect (`migrations/sqlite`, `migrations/postgres`, applied on open); every query is written once, in
//! SQL both accept (`$N` parameters, `RETURNING`).
//!
//! What it keeps: API tokens (only their sha256), training runs (the durable job queue: a worker claims a
//! queued run, or one whose lease has run out, with a lease it renews by heartbeat), the runs' events (the
//! Server-Sent Events stream; an event's id is its row id, so a client that reconnects with
//! `Last-Event-ID` misses nothing), fitted laws, latency measurements and custom devices.

mod campaign;
mod measure;

pub use campaign::{Campaign, Job, Round};
pub use measure::{Agent, Calibration, MeasureJob};

use std::time::{SystemTime, UNIX_EPOCH};

use rand_core::{OsRng, TryRngCore};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::MigrateDatabase;
use sqlx::{AnyPool, Row};

/// What can go wrong, as the API reports it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row.
    #[error("{0} not found")]
    NotFound(String),
    /// The request conflicts with the stored state (e.g. retrying a run that is still running).
    #[error("{0}")]
    Conflict(String),
    /// A configured bound was reached (e.g. queued runs per token).
    #[error("{0}")]
    Limit(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored JSON document did not parse.
    #[error("stored JSON is damaged: {0}")]
    Json(#[from] serde_json::Error),
}

/// Results of the store.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Dialect {
    /// An SQLite file.
    Sqlite,
    /// A Postgres server.
    Postgres,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

/// The default database of a data folder: `sqlite://DIR/rooflaw.db`, created on first use.
pub fn default_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("rooflaw.db").display())
}

/// How many times a failed SQLite migration is tried again (another process migrating the same new file).
const MIGRATION_ATTEMPTS: u64 = 5;

impl Store {
    /// Connects (creating an SQLite file if needed) and applies the migrations.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            return Err(StoreError::Conflict(format!(
                "unsupported database URL '{url}': use sqlite://FILE (the default) or postgres://USER@HOST/DB"
            )));
        };
        if dialect == Dialect::Postgres && !sqlx::Any::database_exists(url).await? {
            // A fresh Postgres database is created like the SQLite file: on first start. Another process
            // may create it first (a campaign driver and its server starting together): then it exists.
            if let Err(e) = sqlx::Any::create_database(url).await {
                if !sqlx::Any::database_exists(url).await.unwrap_or(false) {
                    return Err(e.into());
                }
            }
        }
        let options = AnyPoolOptions::new().max_connections(if dialect == Dialect::Sqlite { 4 } else { 16 });
        let pool = options
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // Readers never wait for the writer, and a second writer waits instead of failing.
                        sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let migrator = match dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        // Postgres serialises migrations with an advisory lock; sqlx takes no lock on SQLite, so two
        // processes opening a new file at once can both apply the first migration. The loser's transaction
        // rolls back, and its next attempt finds the migration applied and checks its checksum. Errors that
        // another attempt cannot change (a checksum mismatch, a migration missing) are returned at once.
        let mut attempt = 0;
        loop {
            match migrator.run(&pool).await {
                Ok(()) => break,
                Err(sqlx::migrate::MigrateError::Execute(_) | sqlx::migrate::MigrateError::ExecuteMigration(..))
                    if dialect == Dialect::Sqlite && attempt < MIGRATION_ATTEMPTS =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Store { pool, dialect })
    }

    /// SQLite or Postgres.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Checks that the database answers.
    pub async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------- tokens

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Scope {
    /// Read when reading is private.
    Read,
    /// Submit, cancel and retry runs; fit laws; add devices.
    Train,
    /// Post measurements (what a measurement agent gets).
    Measure,
    /// Everything, tokens included.
    Admin,
}

impl Scope {
    /// Every scope, by name.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Train, Scope::Measure, Scope::Admin];

    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Train => "train",
            Scope::Measure => "measure",
            Scope::Admin => "admin",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> std::result::Result<Scope, String> {
        Scope::ALL
            .into_iter()
            .find(|x| x.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown scope '{s}'; use read, train, measure or admin"))
    }
}

/// A token as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Token {
    /// Id.
    pub id: i64,
    /// Who or what it is for.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Creation time (Unix ms).
    pub created_ms: i64,
    /// Whether it was revoked.
    pub revoked: bool,
}

impl Token {
    /// Whether it grants `scope` (admin grants everything; train and measure imply read).
    pub fn allows(&self, scope: Scope) -> bool {
        !self.revoked
            && (self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope) || (scope == Scope::Read && !self.scopes.is_empty()))
    }
}

fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn token_from(row: &AnyRow) -> Result<Token> {
    let scopes: String = row.try_get("scopes")?;
    Ok(Token {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scopes: scopes.split(',').filter_map(|s| Scope::parse(s).ok()).collect(),
        created_ms: row.try_get("created_ms")?,
        revoked: row.try_get::<Option<i64>, _>("revoked_ms")?.is_some(),
    })
}

impl Store {
    /// Creates a token and returns it with its secret (`rl_` + 64 hex digits), which is shown once: only
    /// its sha256 is stored. (A random 256-bit secret needs no slow password hash.)
    pub async fn create_token(&self, name: &str, scopes: &[Scope]) -> Result<(Token, String)> {
        let mut bytes = [0u8; 32];
        OsRng.try_fill_bytes(&mut bytes).map_err(|e| StoreError::Conflict(format!("no randomness for a token: {e}")))?;
        let secret = format!("rl_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let scopes_text = scopes.iter().map(|s| s.name()).collect::<Vec<_>>().join(",");
        let row = sqlx::query("INSERT INTO tokens (name, hash, scopes, created_ms) VALUES ($1, $2, $3, $4) RETURNING *")
            .bind(name)
            .bind(hash_secret(&secret))
            .bind(scopes_text)
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await?;
        Ok((token_from(&row)?, secret))
    }

    /// The live token with this secret, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Token>> {
        let row = sqlx::query("SELECT * FROM tokens WHERE hash = $1 AND revoked_ms IS NULL")
            .bind(hash_secret(secret))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from).transpose()
    }

    /// Tokens (without secrets), newest first, a page at a time.
    pub async fn tokens(&self, page: Page) -> Result<Vec<Token>> {
        sqlx::query("SELECT * FROM tokens WHERE id < $1 ORDER BY id DESC LIMIT $2")
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(token_from)
            .collect()
    }

    /// Revokes a token.
    pub async fn revoke_token(&self, id: i64) -> Result<Token> {
        let row = sqlx::query("UPDATE tokens SET revoked_ms = $1 WHERE id = $2 RETURNING *")
            .bind(now_ms())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        token_from(&row.ok_or_else(|| StoreError::NotFound(format!("token {id}")))?)
    }
}

// ------------------------------------------------------------------------------------------------ runs

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds its lease.
    Running,
    /// Finished with a run record.
    Completed,
    /// The trainer failed; `error` says why.
    Failed,
    /// Cancelled by a client.
    Cancelled,
}

impl RunStatus {
    /// Name, as stored.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> RunStatus {
        match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "completed" => RunStatus::Completed,
            "cancelled" => RunStatus::Cancelled,
            _ => RunStatus::Failed,
        }
    }

    /// Whether the run can change no more (until retried).
    pub fn is_final(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled)
    }
}

/// A training run: the job and, once done, its record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Run {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Status.
    pub status: RunStatus,
    /// What to train (the API's run request, as submitted).
    pub request: Value,
    /// The run record (`run.json`) once completed.
    pub record: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// How many times a worker claimed it.
    pub attempts: i64,
    /// The client's idempotency key.
    pub idempotency_key: Option<String>,
    /// The token that submitted it.
    pub token_id: Option<i64>,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// When that worker's lease ends (Unix ms).
    pub lease_until_ms: Option<i64>,
    /// Submission time (Unix ms).
    pub created_ms: i64,
    /// Last change (Unix ms).
    pub updated_ms: i64,
}

fn json_of(text: Option<String>) -> Result<Option<Value>> {
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

fn run_from(row: &AnyRow) -> Result<Run> {
    let status: String = row.try_get("status")?;
    let request: String = row.try_get("request")?;
    Ok(Run {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: RunStatus::parse(&status),
        request: serde_json::from_str(&request)?,
        record: json_of(row.try_get("record")?)?,
        error: row.try_get("error")?,
        attempts: row.try_get("attempts")?,
        idempotency_key: row.try_get("idempotency_key")?,
        token_id: row.try_get("token_id")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until_ms: row.try_get("lease_until_ms")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

/// A page of a list: the rows with ids below `before` (newest first), at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Page {
    /// At most this many rows.
    pub limit: i64,
    /// Only ids below this one (the previous page's last id).
    pub before: Option<i64>,
}

/// An event of a run, as Server-Sent Events send it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Event {
    /// Its id (global and increasing: the SSE id).
    pub id: i64,
    /// The run.
    pub run_id: i64,
    /// `status`, `metrics`, `log`.
    pub kind: String,
    /// Its JSON payload.
    pub data: Value,
    /// When (Unix ms).
    pub created_ms: i64,
}

fn event_from(row: &AnyRow) -> Result<Event> {
    let data: String = row.try_get("data")?;
    Ok(Event {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        kind: row.try_get("kind")?,
        data: serde_json::from_str(&data)?,
        created_ms: row.try_get("created_ms")?,
    })
}

/// Runs a worker may take: queued, or running with a lease that has run out (its worker died).
const CLAIMABLE: &str = "(status = 'queued' OR (status = 'running' AND lease_until_ms < $3))";

impl Store {
    /// Queues a run. With an idempotency key already used, returns that run (and `false`) instead of
    /// queueing another. A token may have at most `max_queued` runs queued.
    pub async fn submit_run(
        &self,
        token_id: Option<i64>,
        name: &str,
        request: &Value,
        key: Option<&str>,
        max_queued: i64,
    ) -> Result<(Run, bool)> {
        if let Some(k) = key {
            if let Some(row) = sqlx::query("SELECT * FROM runs WHERE idempotency_key = $1").bind(k).fetch_optional(&self.pool).await? {
                return Ok((run_from(&row)?, false));
            }
        }
        if let Some(t) = token_id {
            let queued: i64 = sqlx::query("SELECT COUNT(*) AS n FROM runs WHERE token_id = $1 AND status = 'queued'")
                .bind(t)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
            if queued >= max_queued {
                return Err(StoreError::Limit(format!(
                    "this token already has {queued} queued runs (the limit is {max_queued}); wait for some to start or cancel them"
                )));
            }
        }
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO runs (idempotency_key, token_id, name, request, status, attempts, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, 'queued', 0, $5, $5) RETURNING *",
        )
        .bind(key)
        .bind(token_id)
        .bind(name)
        .bind(request.to_string())
        .bind(now)
        .fetch_one(&self.pool)
        .await;
        let run = match inserted {
            Ok(row) => run_from(&row)?,
            // Two submissions with one key at once: the loser returns the winner's run.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() && key.is_some() => {
                let row = sqlx::query("SELECT * FROM runs WHERE idempotency_key = $1").bind(key).fetch_one(&self.pool).await?;
                return Ok((run_from(&row)?, false));
            }
            Err(e) => return Err(e.into()),
        };
        self.append_event(run.id, "status", &serde_json::json!({ "status": "queued" })).await?;
        Ok((run, true))
    }

    /// A run by id.
    pub async fn run(&self, id: i64) -> Result<Run> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        run_from(&row.ok_or_else(|| StoreError::NotFound(format!("run {id}")))?)
    }

    /// Runs, newest first, a page at a time; only those with `status` when given.
    pub async fn runs(&self, page: Page, status: Option<RunStatus>) -> Result<Vec<Run>> {
        let rows = sqlx::query("SELECT * FROM runs WHERE id < $1 AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT $3")
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(status.map(RunStatus::name).unwrap_or(""))
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from).collect()
    }

    async fn set_status(&self, id: i64, from: &str, to: RunStatus, clear_lease: bool) -> Result<Option<Run>> {
        let sql = format!(
            "UPDATE runs SET status = $1, updated_ms = $2{} WHERE id = $3 AND status IN ({from}) RETURNING *",
            if clear_lease { ", lease_owner = NULL, lease_until_ms = NULL, error = NULL" } else { "" }
        );
        let row = sqlx::query(&sql).bind(to.name()).bind(now_ms()).bind(id).fetch_optional(&self.pool).await?;
        let run = row.as_ref().map(run_from).transpose()?;
        if run.is_some() {
            self.append_event(id, "status", &serde_json::json!({ "status": to.name() })).await?;
        }
        Ok(run)
    }

    /// Cancels a queued or running run (its worker sees it at its next heartbeat and stops the trainer).
    pub async fn cancel_run(&self, id: i64) -> Result<Run> {
        match self.set_status(id, "'queued', 'running'", RunStatus::Cancelled, false).await? {
            Some(r) => Ok(r),
            None => {
                let r = self.run(id).await?;
                Err(StoreError::Conflict(format!("run {id} is {} and cannot be cancelled", r.status.name())))
            }
        }
    }

    /// Queues a failed or cancelled run again; it resumes from its last checkpoint.
    pub async fn retry_run(&self, id: i64) -> Result<Run> {
        match self.set_status(id, "'failed', 'cancelled'", RunStatus::Queued, true).await? {
            Some(r) => Ok(r),
            None => {
                let r = self.run(id).await?;
                Err(StoreError::Conflict(format!("run {id} is {}; only failed or cancelled runs can be retried", r.status.name())))
            }
        }
    }

    /// Claims the oldest claimable run for `owner` with a lease of `lease_ms`. The claim re-checks its
    /// condition on the row it updates, so two workers never hold one run.
    pub async fn claim_run(&self, owner: &str, lease_ms: i64) -> Result<Option<Run>> {
        let now = now_ms();
        let sql = format!(
            "UPDATE runs SET status = 'running', lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1, updated_ms = $3 \
             WHERE id = (SELECT id FROM runs WHERE {CLAIMABLE} ORDER BY id LIMIT 1) AND {CLAIMABLE} RETURNING *"
        );
        let row = sqlx::query(&sql).bind(owner).bind(now + lease_ms).bind(now).fetch_optional(&self.pool).await?;
        let run = row.as_ref().map(run_from).transpose()?;
        if let Some(r) = &run {
            self.append_event(r.id, "status", &serde_json::json!({ "status": "running", "attempt": r.attempts, "worker": owner })).await?;
        }
        Ok(run)
    }

    /// Renews `owner`'s lease on a running run; `false` when the run is no longer its to run (cancelled,
    /// or reclaimed after the lease ran out).
    pub async fn heartbeat(&self, id: i64, owner: &str, lease_ms: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE runs SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'")
            .bind(now_ms() + lease_ms)
            .bind(id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the end of a run that `owner` holds: completed with its record, or failed with a message.
    /// `false` when the run was no longer `owner`'s (nothing is written then).
    pub async fn finish_run(&self, id: i64, owner: &str, record: std::result::Result<&Value, &str>) -> Result<bool> {
        let (status, record_text, error) = match record {
            Ok(r) => (RunStatus::Completed, Some(r.to_string()), None),
            Err(e) => (RunStatus::Failed, None, Some(e.to_string())),
        };
        let done = sqlx::query(
            "UPDATE runs SET status = $1, record = $2, error = $3, lease_owner = NULL, lease_until_ms = NULL, updated_ms = $4 \
             WHERE id = $5 AND lease_owner = $6 AND status = 'running'",
        )
        .bind(status.name())
        .bind(record_text)
        .bind(error.clone())
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            self.append_event(id, "status", &serde_json::json!({ "status": status.name(), "error": error })).await?;
        }
        Ok(done.rows_affected() == 1)
    }

    /// Gives a run `owner` holds back to the queue (its trainer could not start yet), without counting
    /// against it.
    pub async fn release_run(&self, id: i64, owner: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until_ms = NULL, attempts = attempts - 1, updated_ms = $1 \
             WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Appends an event to a run's stream; returns its id.
    pub async fn append_event(&self, run_id: i64, kind: &str, data: &Value) -> Result<i64> {
        let row = sqlx::query("INSERT INTO run_events (run_id, kind, data, created_ms) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(run_id)
            .bind(kind)
            .bind(data.to_string())
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("id")?)
    }

    /// Events after `after` (an event id), oldest first, at most `limit`: of one run, or of every run.
    pub async fn events_after(&self, run_id: Option<i64>, after: i64, limit: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query("SELECT * FROM run_events WHERE id > $1 AND ($2 < 0 OR run_id = $2) ORDER BY id LIMIT $3")
            .bind(after)
            .bind(run_id.unwrap_or(-1))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from).collect()
    }

    /// The id of the newest event (0 when there is none).
    pub async fn last_event_id(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM run_events").fetch_one(&self.pool).await?;
        Ok(row.try_get("id")?)
    }
}

// ------------------------------------------------------------------------------- fits, measurements, devices

/// A law fitted from stored runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Fit {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The runs it was fitted on.
    pub run_ids: Vec<i64>,
    /// The law (usable as `--law` and in the site's Explorer).
    pub law: Value,
    /// The fit report (coefficients with intervals, R², held-out error).
    pub report: Value,
    /// When (Unix ms).
    pub created_ms: i64,
}

fn fit_from(row: &AnyRow) -> Result<Fit> {
    let (ids, law, report): (String, String, String) = (row.try_get("run_ids")?, row.try_get("law")?, row.try_get("report")?);
    Ok(Fit {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        run_ids: serde_json::from_str(&ids)?,
        law: serde_json::from_str(&law)?,
        report: serde_json::from_str(&report)?,
        created_ms: row.try_get("created_ms")?,
    })
}

/// A latency measurement row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Measurement {
    /// Id.
    pub id: i64,
    /// Device id.
    pub device: String,
    /// Engine.
    pub engine: String,
    /// The row (the calibration CSV's columns, as JSON).
    pub row: Value,
    /// When (Unix ms).
    pub created_ms: i64,
}

pub(crate) fn measurement_from(row: &AnyRow) -> Result<Measurement> {
    let text: String = row.try_get("row_json")?;
    Ok(Measurement {
        id: row.try_get("id")?,
        device: row.try_get("device")?,
        engine: row.try_get("engine")?,
        row: serde_json::from_str(&text)?,
        created_ms: row.try_get("created_ms")?,
    })
}

impl Store {
    /// Stores a fitted law.
    pub async fn create_fit(&self, name: &str, run_ids: &[i64], law: &Value, report: &Value) -> Result<Fit> {
        let row = sqlx::query("INSERT INTO fits (name, run_ids, law, report, created_ms) VALUES ($1, $2, $3, $4, $5) RETURNING *")
            .bind(name)
            .bind(serde_json::to_string(run_ids)?)
            .bind(law.to_string())
            .bind(report.to_string())
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await?;
        fit_from(&row)
    }

    /// A fit by id.
    pub async fn fit(&self, id: i64) -> Result<Fit> {
        let row = sqlx::query("SELECT * FROM fits WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        fit_from(&row.ok_or_else(|| StoreError::NotFound(format!("fit {id}")))?)
    }

    /// Fits, newest first.
    pub async fn fits(&self, page: Page) -> Result<Vec<Fit>> {
        let rows = sqlx::query("SELECT * FROM fits WHERE id < $1 ORDER BY id DESC LIMIT $2")
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(fit_from).collect()
    }

    /// Stores a measurement; a repeated idempotency key returns the stored one (and `false`).
    pub async fn add_measurement(&self, device: &str, engine: &str, row: &Value, key: Option<&str>) -> Result<(Measurement, bool)> {
        if let Some(k) = key {
            if let Some(r) = sqlx::query("SELECT * FROM measurements WHERE idempotency_key = $1").bind(k).fetch_optional(&self.pool).await?
            {
                return Ok((measurement_from(&r)?, false));
            }
        }
        let r = sqlx::query(
            "INSERT INTO measurements (idempotency_key, device, engine, row_json, created_ms) VALUES ($1, $2, $3, $4, $5) RETURNING *",
        )
        .bind(key)
        .bind(device)
        .bind(engine)
        .bind(row.to_string())
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok((measurement_from(&r)?, true))
    }

    /// Measurements, newest first.
    pub async fn measurements(&self, page: Page) -> Result<Vec<Measurement>> {
        let rows = sqlx::query("SELECT * FROM measurements WHERE id < $1 ORDER BY id DESC LIMIT $2")
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(measurement_from).collect()
    }

    /// Adds or replaces a custom device (the JSON of `rooflaw devices show ID --format json`).
    pub async fn put_device(&self, id: &str, device: &Value) -> Result<()> {
        sqlx::query("DELETE FROM devices WHERE id = $1").bind(id).execute(&self.pool).await?;
        sqlx::query("INSERT INTO devices (id, device, created_ms) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(device.to_string())
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The stored custom devices, by id.
    pub async fn devices(&self) -> Result<Vec<Value>> {
        let rows = sqlx::query("SELECT device FROM devices ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(serde_json::from_str(&r.try_get::<String, _>("device")?)?)).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test code; a failed unwrap is a failed test
    use super::*;

    /// Eight stores (eight pools, as eight processes would have) opening one new SQLite file at once all
    /// open it, and the schema is applied once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn stores_opening_a_new_sqlite_file_at_once_all_open_it() {
        let dir = std::env::temp_dir().join(format!("rooflaw-store-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = default_url(&dir);
        let opens: Vec<_> = (0..8)
            .map(|_| {
                tokio::spawn({
                    let url = url.clone();
                    async move { Store::open(&url).await.map(|_| ()).map_err(|e| e.to_string()) }
                })
            })
            .collect();
        for o in opens {
            o.await.unwrap().unwrap();
        }
        let store = Store::open(&url).await.unwrap();
        let applied: i64 = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations").fetch_one(&store.pool).await.unwrap().get("n");
        assert_eq!(applied as usize, sqlx::migrate!("migrations/sqlite").iter().count());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
