//! Training campaigns: the request, the rounds (the picks, then the fit after them) and the jobs (one
//! training run each). A driver keeps no state of its own: it reads these, so it resumes after a crash.

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_ms, Page, Result, Store, StoreError};

/// A campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Campaign {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What was asked for (the campaign request, as JSON).
    pub request: Value,
    /// Where its runs train: `local` or `slurm`.
    pub executor: String,
    /// `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    /// Why it stopped (the budget, the frontier stopped moving, an error, a cancel).
    pub stop_reason: Option<String>,
    /// Created (Unix ms).
    pub created_ms: i64,
    /// Last change (Unix ms).
    pub updated_ms: i64,
}

/// One round: the picks, then (once its jobs are final) the fit and the uncertain frontier after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Round {
    /// Id.
    pub id: i64,
    /// Campaign.
    pub campaign_id: i64,
    /// Round number (0: the space-filling start).
    pub round: i64,
    /// The chosen candidates and why (JSON list).
    pub picks: Value,
    /// `training` or `fitted`.
    pub status: String,
    /// The fit and the frontier after the round (JSON), once fitted.
    pub summary: Option<Value>,
    /// Created (Unix ms).
    pub created_ms: i64,
    /// Last change (Unix ms).
    pub updated_ms: i64,
}

/// One training run of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Job {
    /// Id.
    pub id: i64,
    /// Campaign.
    pub campaign_id: i64,
    /// Round it was picked in.
    pub round: i64,
    /// Index of the candidate in the campaign's design space.
    pub candidate: i64,
    /// The candidate's name.
    pub name: String,
    /// The executor's handle: a run id on the local queue, `JOB_TASK` on Slurm (None: not submitted yet).
    pub executor_ref: Option<String>,
    /// `pending` (not submitted), `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Final validation loss of a completed run.
    pub loss: Option<f64>,
    /// What went wrong.
    pub error: Option<String>,
    /// Created (Unix ms).
    pub created_ms: i64,
    /// Last change (Unix ms).
    pub updated_ms: i64,
}

impl Job {
    /// Whether the job will not change any more (until it is retried).
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }
}

fn json(row: &AnyRow, col: &str) -> Result<Value> {
    let text: String = row.try_get(col)?;
    Ok(serde_json::from_str(&text)?)
}

fn json_opt(row: &AnyRow, col: &str) -> Result<Option<Value>> {
    let text: Option<String> = row.try_get(col)?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

fn campaign_from(row: &AnyRow) -> Result<Campaign> {
    Ok(Campaign {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        request: json(row, "request")?,
        executor: row.try_get("executor")?,
        status: row.try_get("status")?,
        stop_reason: row.try_get("stop_reason")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

fn round_from(row: &AnyRow) -> Result<Round> {
    Ok(Round {
        id: row.try_get("id")?,
        campaign_id: row.try_get("campaign_id")?,
        round: row.try_get("round")?,
        picks: json(row, "picks")?,
        status: row.try_get("status")?,
        summary: json_opt(row, "summary")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

fn job_from(row: &AnyRow) -> Result<Job> {
    Ok(Job {
        id: row.try_get("id")?,
        campaign_id: row.try_get("campaign_id")?,
        round: row.try_get("round")?,
        candidate: row.try_get("candidate")?,
        name: row.try_get("name")?,
        executor_ref: row.try_get("executor_ref")?,
        status: row.try_get("status")?,
        loss: {
            // Text in the database: one encoding on SQLite and Postgres alike (Rust prints an f64 so that it
            // parses back to the same value).
            let text: Option<String> = row.try_get("loss")?;
            text.and_then(|t| t.parse().ok())
        },
        error: row.try_get("error")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

impl Store {
    /// Stores a new campaign, `running`.
    pub async fn create_campaign(&self, name: &str, request: &Value, executor: &str) -> Result<Campaign> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO campaigns (name, request, executor, status, created_ms, updated_ms) VALUES ($1, $2, $3, 'running', $4, $4) RETURNING *",
        )
        .bind(name)
        .bind(request.to_string())
        .bind(executor)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        campaign_from(&row)
    }

    /// A campaign by id.
    pub async fn campaign(&self, id: i64) -> Result<Campaign> {
        let row = sqlx::query("SELECT * FROM campaigns WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        campaign_from(&row.ok_or_else(|| StoreError::NotFound(format!("campaign {id}")))?)
    }

    /// Campaigns, newest first; only those with `status` when given.
    pub async fn campaigns(&self, page: Page, status: Option<&str>) -> Result<Vec<Campaign>> {
        let rows = sqlx::query("SELECT * FROM campaigns WHERE id < $1 AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT $3")
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(status.unwrap_or(""))
            .bind(page.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(campaign_from).collect()
    }

    /// Sets a campaign's status (and why it stopped).
    pub async fn set_campaign_status(&self, id: i64, status: &str, reason: Option<&str>) -> Result<Campaign> {
        let row = sqlx::query("UPDATE campaigns SET status = $1, stop_reason = $2, updated_ms = $3 WHERE id = $4 RETURNING *")
            .bind(status)
            .bind(reason)
            .bind(now_ms())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        campaign_from(&row.ok_or_else(|| StoreError::NotFound(format!("campaign {id}")))?)
    }

    /// Records a round's picks and their jobs (`pending`) in one transaction; a round already recorded
    /// is returned as it is.
    pub async fn add_round(&self, campaign_id: i64, round: i64, picks: &Value, jobs: &[(i64, String)]) -> Result<Round> {
        if let Some(r) = self.rounds(campaign_id).await?.into_iter().find(|r| r.round == round) {
            return Ok(r);
        }
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO campaign_rounds (campaign_id, round, picks, status, created_ms, updated_ms) VALUES ($1, $2, $3, 'training', $4, $4) RETURNING *",
        )
        .bind(campaign_id)
        .bind(round)
        .bind(picks.to_string())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for (candidate, name) in jobs {
            sqlx::query(
                "INSERT INTO campaign_jobs (campaign_id, round, candidate, name, status, created_ms, updated_ms) VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
            )
            .bind(campaign_id)
            .bind(round)
            .bind(candidate)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        round_from(&row)
    }

    /// A campaign's rounds, in order.
    pub async fn rounds(&self, campaign_id: i64) -> Result<Vec<Round>> {
        let rows = sqlx::query("SELECT * FROM campaign_rounds WHERE campaign_id = $1 ORDER BY round")
            .bind(campaign_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(round_from).collect()
    }

    /// Stores the fit after a round.
    pub async fn finish_round(&self, campaign_id: i64, round: i64, summary: &Value) -> Result<()> {
        sqlx::query("UPDATE campaign_rounds SET status = 'fitted', summary = $1, updated_ms = $2 WHERE campaign_id = $3 AND round = $4")
            .bind(summary.to_string())
            .bind(now_ms())
            .bind(campaign_id)
            .bind(round)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A campaign's jobs, by round then id.
    pub async fn campaign_jobs(&self, campaign_id: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query("SELECT * FROM campaign_jobs WHERE campaign_id = $1 ORDER BY round, id")
            .bind(campaign_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from).collect()
    }

    /// Updates a job: its executor handle (kept when None), status, loss and error.
    pub async fn update_job(
        &self,
        id: i64,
        executor_ref: Option<&str>,
        status: &str,
        loss: Option<f64>,
        error: Option<&str>,
    ) -> Result<Job> {
        let row = sqlx::query(
            "UPDATE campaign_jobs SET executor_ref = COALESCE($1, executor_ref), status = $2, loss = $3, error = $4, updated_ms = $5 \
             WHERE id = $6 RETURNING *",
        )
        .bind(executor_ref)
        .bind(status)
        .bind(loss.map(|l| l.to_string()))
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        job_from(&row.ok_or_else(|| StoreError::NotFound(format!("campaign job {id}")))?)
    }
}
