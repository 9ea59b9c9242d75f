//! Measurement agents, their jobs (a durable queue with leases, like the training runs) and the
//! calibrations fitted from stored measurements.

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_ms, Page, Result, Store, StoreError};

/// A registered measurement agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Agent {
    /// Id.
    pub id: i64,
    /// Name (unique; registering again updates the facts).
    pub name: String,
    /// The device id its measurements are recorded under, and whose jobs it claims.
    pub device: String,
    /// What it reported about its device (CPU, memory, GPU, L4T, CUDA, power mode, clocks).
    pub facts: Value,
    /// First registration (Unix ms).
    pub created_ms: i64,
    /// Last contact (Unix ms).
    pub last_seen_ms: i64,
}

fn agent_from(row: &AnyRow) -> Result<Agent> {
    let facts: String = row.try_get("facts")?;
    Ok(Agent {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        device: row.try_get("device")?,
        facts: serde_json::from_str(&facts)?,
        created_ms: row.try_get("created_ms")?,
        last_seen_ms: row.try_get("last_seen_ms")?,
    })
}

/// A measurement job.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MeasureJob {
    /// Id.
    pub id: i64,
    /// The device whose agents may claim it.
    pub device: String,
    /// What to measure (the API's job request).
    pub spec: Value,
    /// `queued`, `running`, `completed` or `failed`.
    pub status: String,
    /// Claims so far.
    pub attempts: i64,
    /// The agent holding it.
    pub lease_owner: Option<String>,
    /// When that agent's lease ends (Unix ms).
    pub lease_until_ms: Option<i64>,
    /// The measurements it produced.
    pub measurement_ids: Vec<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Submission (Unix ms).
    pub created_ms: i64,
    /// Last change (Unix ms).
    pub updated_ms: i64,
}

fn job_from(row: &AnyRow) -> Result<MeasureJob> {
    let spec: String = row.try_get("spec")?;
    let ids: Option<String> = row.try_get("measurement_ids")?;
    Ok(MeasureJob {
        id: row.try_get("id")?,
        device: row.try_get("device")?,
        spec: serde_json::from_str(&spec)?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until_ms: row.try_get("lease_until_ms")?,
        measurement_ids: ids.map(|t| serde_json::from_str(&t)).transpose()?.unwrap_or_default(),
        error: row.try_get("error")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

/// A stored calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Calibration {
    /// Id.
    pub id: i64,
    /// The profile's label (its group).
    pub label: String,
    /// Device it was fitted for, when grouped by device.
    pub device: Option<String>,
    /// Engine, when grouped by engine.
    pub engine: Option<String>,
    /// Precision, when grouped by precision.
    pub precision: Option<String>,
    /// The profile (`predict --calibration FILE` reads it), with its leave-one-out error.
    pub profile: Value,
    /// When (Unix ms).
    pub created_ms: i64,
}

fn calibration_from(row: &AnyRow) -> Result<Calibration> {
    let profile: String = row.try_get("profile")?;
    Ok(Calibration {
        id: row.try_get("id")?,
        label: row.try_get("label")?,
        device: row.try_get("device")?,
        engine: row.try_get("engine")?,
        precision: row.try_get("precision_label")?,
        profile: serde_json::from_str(&profile)?,
        created_ms: row.try_get("created_ms")?,
    })
}

/// Jobs an agent of a device may take: queued, or running with a lease that has run out.
const CLAIMABLE: &str = "device = $4 AND (status = 'queued' OR (status = 'running' AND lease_until_ms < $3))";

impl Store {
    /// Registers an agent, or updates its device and facts when the name is known.
    pub async fn register_agent(&self, name: &str, device: &str, facts: &Value) -> Result<Agent> {
        let now = now_ms();
        let updated = sqlx::query("UPDATE agents SET device = $1, facts = $2, last_seen_ms = $3 WHERE name = $4 RETURNING *")
            .bind(device)
            .bind(facts.to_string())
            .bind(now)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(r) = updated {
            return agent_from(&r);
        }
        let r = sqlx::query("INSERT INTO agents (name, device, facts, created_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $4) RETURNING *")
            .bind(name)
            .bind(device)
            .bind(facts.to_string())
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        agent_from(&r)
    }

    /// An agent by name.
    pub async fn agent(&self, name: &str) -> Result<Agent> {
        let r = sqlx::query("SELECT * FROM agents WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
        agent_from(&r.ok_or_else(|| StoreError::NotFound(format!("agent '{name}' (register it first)")))?)
    }

    /// Agents, newest first.
    pub async fn agents(&self, page: Page) -> Result<Vec<Agent>> {
        let rows = sqlx::query("SELECT * FROM agents WHERE id < $1 ORDER BY id DESC LIMIT $2")
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(agent_from).collect()
    }

    /// Queues a measurement job for a device's agents.
    pub async fn submit_measure_job(&self, device: &str, spec: &Value) -> Result<MeasureJob> {
        let now = now_ms();
        let r = sqlx::query(
            "INSERT INTO measure_jobs (device, spec, status, created_ms, updated_ms) VALUES ($1, $2, 'queued', $3, $3) RETURNING *",
        )
        .bind(device)
        .bind(spec.to_string())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        job_from(&r)
    }

    /// A job by id.
    pub async fn measure_job(&self, id: i64) -> Result<MeasureJob> {
        let r = sqlx::query("SELECT * FROM measure_jobs WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        job_from(&r.ok_or_else(|| StoreError::NotFound(format!("measurement job {id}")))?)
    }

    /// Jobs, newest first.
    pub async fn measure_jobs(&self, page: Page) -> Result<Vec<MeasureJob>> {
        let rows = sqlx::query("SELECT * FROM measure_jobs WHERE id < $1 ORDER BY id DESC LIMIT $2")
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from).collect()
    }

    /// Claims the oldest job of `device` for `owner`, with a lease of `lease_ms`.
    pub async fn claim_measure_job(&self, owner: &str, device: &str, lease_ms: i64) -> Result<Option<MeasureJob>> {
        let now = now_ms();
        sqlx::query("UPDATE agents SET last_seen_ms = $1 WHERE name = $2").bind(now).bind(owner).execute(&self.pool).await?;
        let sql = format!(
            "UPDATE measure_jobs SET status = 'running', lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1, updated_ms = $3 \
             WHERE id = (SELECT id FROM measure_jobs WHERE {CLAIMABLE} ORDER BY id LIMIT 1) AND {CLAIMABLE} RETURNING *"
        );
        let row = sqlx::query(&sql).bind(owner).bind(now + lease_ms).bind(now).bind(device).fetch_optional(&self.pool).await?;
        row.as_ref().map(job_from).transpose()
    }

    /// Records a job's outcome. Idempotent: a job already completed is returned as it is, so an agent
    /// that retries after a lost response changes nothing; results that arrive after the lease ran out
    /// are still accepted while the job is not completed (the measurements are real either way).
    pub async fn finish_measure_job(&self, id: i64, outcome: std::result::Result<&[i64], &str>) -> Result<MeasureJob> {
        let job = self.measure_job(id).await?;
        if job.status == "completed" {
            return Ok(job);
        }
        let (status, ids, error) = match outcome {
            Ok(ids) => ("completed", Some(serde_json::to_string(ids)?), None),
            Err(e) => ("failed", None, Some(e.to_string())),
        };
        let r = sqlx::query(
            "UPDATE measure_jobs SET status = $1, measurement_ids = $2, error = $3, lease_owner = NULL, lease_until_ms = NULL, updated_ms = $4 \
             WHERE id = $5 RETURNING *",
        )
        .bind(status)
        .bind(ids)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        job_from(&r)
    }

    /// Every stored measurement of `device` (all devices when `None`), oldest first, up to `limit`.
    pub async fn measurements_of(&self, device: Option<&str>, limit: i64) -> Result<Vec<crate::Measurement>> {
        let rows = match device {
            Some(d) => {
                sqlx::query("SELECT * FROM measurements WHERE device = $1 ORDER BY id LIMIT $2")
                    .bind(d)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query("SELECT * FROM measurements ORDER BY id LIMIT $1").bind(limit).fetch_all(&self.pool).await?,
        };
        rows.iter().map(crate::measurement_from).collect()
    }

    /// Stores a fitted calibration profile.
    pub async fn create_calibration(
        &self,
        label: &str,
        device: Option<&str>,
        engine: Option<&str>,
        precision: Option<&str>,
        profile: &Value,
    ) -> Result<Calibration> {
        let r = sqlx::query(
            "INSERT INTO calibrations (label, device, engine, precision_label, profile, created_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        )
        .bind(label)
        .bind(device)
        .bind(engine)
        .bind(precision)
        .bind(profile.to_string())
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        calibration_from(&r)
    }

    /// Calibrations, newest first.
    pub async fn calibrations(&self, page: Page) -> Result<Vec<Calibration>> {
        let rows = sqlx::query("SELECT * FROM calibrations WHERE id < $1 ORDER BY id DESC LIMIT $2")
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(calibration_from).collect()
    }
}
