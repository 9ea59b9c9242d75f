//! Training campaigns (issue 12): a driver that chooses the runs of each round from the frontier's
//! uncertainty, has an executor train them (the local workers' queue, or Slurm), fits the law with its
//! bootstrap when a round's runs are done, and stops at the budget or when the frontier stops moving.
//!
//! The driver keeps nothing in memory that it cannot rebuild: each pass reads the campaign, its rounds and
//! its jobs from the database, so a driver started again after a crash (the server's start, or `rooflaw
//! campaign run --resume`) carries on where the last one stopped. Submissions are idempotent: a local run
//! is queued under the key `campaign-C-job-J`, and a Slurm round's array is looked up by its job name
//! before it is submitted again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::{get, post, HttpRequest, HttpResponse};
use anyhow::{anyhow, Context as _};
use rooflaw::api::{campaign_space, Context, ModelRequest};
use rooflaw::campaign::{CampaignSpace, CampaignSpec, Choice, Pick, RoundSummary};
use rooflaw::fit::{fit_law, FitOptions, Robust, Run as FitRun};
use rooflaw::law::{Law, LawInputs};
use rooflaw::space::DesignSpace;
use rooflaw_store::{Campaign, Job, Page, RunStatus, Scope, Store};
use rooflaw_train::trainer::{Backend, TrainOptions};
use serde::{Deserialize, Serialize};

use crate::http::{json_body, may_read, require, ApiError, ApiResult, PageQuery};
use crate::runs::RunRequest;
use crate::slurm::Slurm;
use crate::types::CampaignsPage;
use crate::State;

/// Where a campaign's runs train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum ExecutorKind {
    /// This server's training workers, through the database's queue.
    #[default]
    Local,
    /// A Slurm cluster (the server is started with `--slurm CONFIG`).
    Slurm,
}

impl ExecutorKind {
    /// Name, as stored.
    pub fn name(self) -> &'static str {
        match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Slurm => "slurm",
        }
    }
}

/// A campaign to run: the science (design space, device and workload, budgets, strategy, when to stop),
/// a design space given inline when it is not a built-in one, and what every run trains on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CampaignRequest {
    /// Name shown in lists.
    #[serde(default)]
    pub name: Option<String>,
    /// The campaign.
    #[serde(flatten)]
    pub spec: CampaignSpec,
    /// A design space given inline (its `name` is then what `space` names), as in a space JSON file.
    #[serde(default)]
    pub space_spec: Option<serde_json::Value>,
    /// A prepared data folder's name under `DATA_DIR/datasets/`.
    pub data: String,
    /// Where each run trains.
    #[serde(default = "crate::runs::cpu")]
    pub backend: Backend,
    /// Hyperparameters of every run; `tokens` is the token budget of one run.
    #[serde(default)]
    pub options: TrainOptions,
    /// The executor.
    #[serde(default)]
    pub executor: ExecutorKind,
}

impl CampaignRequest {
    /// The context the spec's names resolve in (the inline space added).
    pub fn context(&self) -> anyhow::Result<Context> {
        let mut ctx = Context::default();
        if let Some(s) = &self.space_spec {
            let space = DesignSpace::from_json(&s.to_string(), "space_spec")?;
            if space.name() != self.spec.search.space {
                anyhow::bail!(
                    "space_spec is named '{}' but space is '{}': name the inline space in `space`",
                    space.name(),
                    self.spec.search.space
                );
            }
            ctx.spaces.push(space);
        }
        Ok(ctx)
    }

    /// The candidates priced on the target, each run's cost included.
    pub fn space(&self) -> anyhow::Result<CampaignSpace> {
        Ok(campaign_space(&self.spec, &self.context()?, self.options.tokens as f64, self.options.seq as u64)?)
    }

    /// The run request that trains candidate `arch`.
    fn run_request(&self, space: &CampaignSpace, candidate: usize, key: String) -> RunRequest {
        let arch = &space.candidates[candidate].arch;
        RunRequest {
            name: Some(arch.name.clone()),
            model: ModelRequest { spec: Some(arch.to_spec()), ..ModelRequest::default() },
            data: self.data.clone(),
            backend: self.backend,
            options: self.options.clone(),
            idempotency_key: Some(key),
        }
    }
}

/// Where a job is, as the driver sees it through an executor.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Waiting to start (or requeued).
    Queued,
    /// Training.
    Running,
    /// Done, with the final validation loss read from the run's own `run.json`.
    Completed(f64),
    /// Failed, and why.
    Failed(String),
    /// Cancelled.
    Cancelled,
}

impl JobState {
    /// The name stored for the job.
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Completed(_) => "completed",
            JobState::Failed(_) => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// The final validation loss in a run record (`run.json`).
pub fn record_loss(record: &serde_json::Value) -> Option<f64> {
    record["runs"][0]["val_loss"].as_f64().filter(|l| l.is_finite())
}

/// The executors, behind one interface: submit a round's jobs, read their states, cancel, retry.
#[derive(Debug, Clone)]
pub enum Executor {
    /// The local workers' queue.
    Local(Store),
    /// Slurm.
    Slurm(Slurm),
}

/// What became of a submitted job.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// The executor's handle.
    Ref(String),
    /// The trainer refuses it (the reason); nothing was submitted.
    Refused(String),
}

/// A job to submit: its id and its run request.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The job's id.
    pub job: i64,
    /// The run's request.
    pub request: RunRequest,
}

impl Executor {
    /// Submits a round's jobs; returns what became of each, in order.
    pub async fn submit(&self, state: &State, campaign: i64, round: i64, jobs: &[Submission]) -> anyhow::Result<Vec<Submitted>> {
        match self {
            Executor::Local(store) => {
                let mut out = Vec::with_capacity(jobs.len());
                for j in jobs {
                    let data_dir = state.config.data_dir.clone();
                    let checked = j.request.clone();
                    match actix_web::rt::task::spawn_blocking(move || checked.resolve(&data_dir)).await? {
                        Ok(r) => {
                            let stored = serde_json::to_value(&j.request)?;
                            let (run, _) = store.submit_run(None, &r.name, &stored, j.request.idempotency_key.as_deref(), i64::MAX).await?;
                            out.push(Submitted::Ref(run.id.to_string()));
                        }
                        Err(e) => out.push(Submitted::Refused(format!("the trainer refuses this run: {e:#}"))),
                    }
                }
                state.events.bump();
                Ok(out)
            }
            Executor::Slurm(s) => {
                let (s, state) = (s.clone(), state.clone());
                let jobs: Vec<(i64, RunRequest)> = jobs.iter().map(|j| (j.job, j.request.clone())).collect();
                actix_web::rt::task::spawn_blocking(move || s.submit(&state.config.data_dir, campaign, round, &jobs)).await?
            }
        }
    }

    /// The states of jobs by their handles.
    pub async fn poll(&self, refs: &[String]) -> anyhow::Result<Vec<JobState>> {
        match self {
            Executor::Local(store) => {
                let mut out = Vec::with_capacity(refs.len());
                for r in refs {
                    let run = store.run(r.parse().map_err(|_| anyhow!("'{r}' is not a local run id"))?).await?;
                    out.push(match run.status {
                        RunStatus::Queued => JobState::Queued,
                        RunStatus::Running => JobState::Running,
                        RunStatus::Cancelled => JobState::Cancelled,
                        RunStatus::Failed => JobState::Failed(run.error.unwrap_or_else(|| "failed".into())),
                        RunStatus::Completed => match run.record.as_ref().and_then(record_loss) {
                            Some(l) => JobState::Completed(l),
                            None => JobState::Failed("the run completed without a validation loss in run.json".into()),
                        },
                    });
                }
                Ok(out)
            }
            Executor::Slurm(s) => {
                let (s, refs) = (s.clone(), refs.to_vec());
                actix_web::rt::task::spawn_blocking(move || s.poll(&refs)).await?
            }
        }
    }

    /// Cancels a job.
    pub async fn cancel(&self, r: &str) -> anyhow::Result<()> {
        match self {
            Executor::Local(store) => {
                store.cancel_run(r.parse()?).await?;
                Ok(())
            }
            Executor::Slurm(s) => {
                let (s, r) = (s.clone(), r.to_string());
                actix_web::rt::task::spawn_blocking(move || s.cancel(&r)).await?
            }
        }
    }

    /// Starts a failed or cancelled job again (from its checkpoint).
    pub async fn retry(&self, r: &str) -> anyhow::Result<()> {
        match self {
            Executor::Local(store) => {
                store.retry_run(r.parse()?).await?;
                Ok(())
            }
            Executor::Slurm(s) => {
                let (s, r) = (s.clone(), r.to_string());
                actix_web::rt::task::spawn_blocking(move || s.retry(&r)).await?
            }
        }
    }
}

/// The executor a campaign names, from this process's configuration.
pub fn executor_for(state: &State, kind: &str) -> anyhow::Result<Executor> {
    match kind {
        "local" => Ok(Executor::Local(state.store.clone())),
        "slurm" => match &state.config.slurm {
            Some(c) => Ok(Executor::Slurm(Slurm::new(c.clone()))),
            None => anyhow::bail!("this campaign runs on Slurm but this process has no Slurm configuration: start it with --slurm CONFIG"),
        },
        other => anyhow::bail!("unknown executor '{other}'"),
    }
}

/// How often the driver looks at its jobs.
const POLL: Duration = Duration::from_secs(1);

/// Drives campaign `id` until it is done, failed or cancelled (see the module notes). An error that is
/// not the campaign's fault (the database, the executor) is returned; the campaign stays `running`, so a
/// later driver resumes it.
pub async fn drive(state: State, id: i64) -> anyhow::Result<Campaign> {
    let campaign = state.store.campaign(id).await?;
    let request: CampaignRequest = match serde_json::from_value(campaign.request.clone()) {
        Ok(r) => r,
        Err(e) => {
            return Ok(state.store.set_campaign_status(id, "failed", Some(&format!("the stored request does not parse: {e}"))).await?)
        }
    };
    let space = {
        let r = request.clone();
        match actix_web::rt::task::spawn_blocking(move || r.space()).await? {
            Ok(s) => s,
            Err(e) => return Ok(state.store.set_campaign_status(id, "failed", Some(&format!("{e:#}"))).await?),
        }
    };
    let executor = executor_for(&state, &campaign.executor)?;
    loop {
        let campaign = state.store.campaign(id).await?;
        if campaign.status != "running" {
            return Ok(campaign);
        }
        if let Some(done) = step(&state, &request, &space, &executor, id).await? {
            return Ok(done);
        }
        state.events.wait(POLL).await;
    }
}

/// One pass: refresh the jobs, then fit a finished round or plan the next one. Returns the campaign once
/// it has stopped.
async fn step(
    state: &State,
    request: &CampaignRequest,
    space: &CampaignSpace,
    executor: &Executor,
    id: i64,
) -> anyhow::Result<Option<Campaign>> {
    let store = &state.store;
    let spec = &request.spec;
    let mut jobs = store.campaign_jobs(id).await?;
    // Submit what was planned but not submitted (a crash between the two), round by round.
    let unsent: BTreeMap<i64, Vec<&Job>> = jobs.iter().filter(|j| j.executor_ref.is_none()).fold(BTreeMap::new(), |mut m, j| {
        m.entry(j.round).or_default().push(j);
        m
    });
    for (round, js) in unsent {
        let subs: Vec<Submission> = js
            .iter()
            .map(|j| Submission {
                job: j.id,
                request: request.run_request(space, j.candidate as usize, format!("campaign-{id}-job-{}", j.id)),
            })
            .collect();
        let sent = executor.submit(state, id, round, &subs).await?;
        for (j, s) in js.iter().zip(sent) {
            match s {
                Submitted::Ref(r) => store.update_job(j.id, Some(&r), "queued", None, None).await?,
                Submitted::Refused(e) => store.update_job(j.id, Some("-"), "failed", None, Some(&e)).await?,
            };
        }
    }
    jobs = store.campaign_jobs(id).await?;
    // Refresh the jobs still moving.
    let live: Vec<&Job> = jobs.iter().filter(|j| !j.is_final()).collect();
    if !live.is_empty() {
        let refs: Vec<String> = live.iter().filter_map(|j| j.executor_ref.clone()).collect();
        let states = executor.poll(&refs).await?;
        for (j, s) in live.iter().zip(states) {
            if s.name() != j.status {
                let (loss, error) = match &s {
                    JobState::Completed(l) => (Some(*l), None),
                    JobState::Failed(e) => (None, Some(e.as_str())),
                    _ => (None, None),
                };
                store.update_job(j.id, None, s.name(), loss, error).await?;
                tracing::info!(campaign = id, job = j.id, state = s.name(), "campaign job");
            }
        }
        jobs = store.campaign_jobs(id).await?;
        if jobs.iter().any(|j| !j.is_final()) {
            return Ok(None);
        }
    }
    let rounds = store.rounds(id).await?;
    let completed: Vec<&Job> = jobs.iter().filter(|j| j.status == "completed").collect();
    let spent: f64 =
        jobs.iter().filter(|j| j.status == "completed" || j.status == "failed").map(|j| space.costs[j.candidate as usize]).sum();
    let mut law: Option<(Law, f64)> = None;
    // Fit after the last round, once.
    if let Some(last) = rounds.last() {
        if last.status == "training" {
            let previous = rounds
                .iter()
                .rev()
                .skip(1)
                .find_map(|r| r.summary.as_ref())
                .and_then(|s| serde_json::from_value::<Law>(s["law"].clone()).ok());
            let summary = fit_round(space, spec, &completed, spent, previous, last.round as u64).await?;
            match summary {
                Some(s) => {
                    store.finish_round(id, last.round, &serde_json::to_value(&s)?).await?;
                    tracing::info!(campaign = id, round = last.round, runs = s.runs, rmse = s.fit.rmse, shift = ?s.shift, "campaign round fitted");
                    state.events.bump();
                    if let Some(shift) = s.shift.filter(|&x| x < spec.tolerance) {
                        let why = format!("the frontier moved {shift:.5} nats in round {} (tolerance {})", last.round, spec.tolerance);
                        return Ok(Some(store.set_campaign_status(id, "done", Some(&why)).await?));
                    }
                }
                None => {
                    store
                        .finish_round(
                            id,
                            last.round,
                            &serde_json::json!({ "runs": completed.len(), "note": "too few completed runs to fit the law" }),
                        )
                        .await?;
                }
            }
        }
        let rounds = store.rounds(id).await?;
        law =
            rounds.iter().rev().find_map(|r| r.summary.as_ref()).and_then(|s| {
                Some((serde_json::from_value::<Law>(s.get("law")?.clone()).ok()?, s["fit"]["rmse"].as_f64().unwrap_or(0.01)))
            });
    }
    // Stop at the budget.
    let taken: BTreeSet<usize> = jobs.iter().map(|j| j.candidate as usize).collect();
    let remaining_runs = spec.max_runs.saturating_sub(jobs.len());
    let remaining_flops = spec.compute_budget_flops.map_or(f64::INFINITY, |b| b - spent);
    if remaining_runs == 0 {
        return Ok(Some(store.set_campaign_status(id, "done", Some(&format!("the run budget is spent ({} runs)", jobs.len()))).await?));
    }
    // Plan the next round.
    let round = rounds.last().map_or(0, |r| r.round + 1);
    let n = if round == 0 { spec.initial_runs } else { spec.runs_per_round }.min(remaining_runs);
    let picks: Vec<Pick> = {
        let (space, strategy, draws, explore, seed) =
            (space.clone(), spec.strategy, spec.draws, spec.explore, spec.search.seed.wrapping_add(round as u64));
        let law = law.clone();
        actix_web::rt::task::spawn_blocking(move || {
            space.next_picks(&Choice {
                strategy,
                taken: &taken,
                law: law.as_ref().map(|l| &l.0),
                noise: law.as_ref().map_or(0.01, |l| l.1),
                n,
                remaining_flops,
                draws,
                seed,
                explore,
            })
        })
        .await?
    };
    if picks.is_empty() {
        let why = if remaining_flops.is_finite() { "the compute budget is spent" } else { "every candidate has been trained" };
        return Ok(Some(store.set_campaign_status(id, "done", Some(why)).await?));
    }
    let named: Vec<(i64, String)> = picks.iter().map(|p| (p.index as i64, space.candidates[p.index].arch.name.clone())).collect();
    store.add_round(id, round, &serde_json::to_value(&picks)?, &named).await?;
    tracing::info!(campaign = id, round, runs = picks.len(), strategy = spec.strategy.name(), "campaign round planned");
    state.events.bump();
    Ok(None)
}

/// Fits the law with its bootstrap to the completed runs and summarises the frontier (None: too few runs).
async fn fit_round(
    space: &CampaignSpace,
    spec: &CampaignSpec,
    completed: &[&Job],
    spent: f64,
    previous: Option<Law>,
    seed: u64,
) -> anyhow::Result<Option<RoundSummary>> {
    if completed.len() < rooflaw::campaign::MIN_RUNS_TO_FIT {
        return Ok(None);
    }
    let runs: Vec<FitRun> = completed
        .iter()
        .map(|j| FitRun {
            name: j.name.clone(),
            inputs: LawInputs::of(&space.candidates[j.candidate as usize].arch),
            tokens: space.tokens,
            loss: j.loss.unwrap_or(f64::NAN),
            split: None,
        })
        .collect();
    let measured: BTreeMap<usize, f64> = completed.iter().filter_map(|j| Some((j.candidate as usize, j.loss?))).collect();
    let opts = FitOptions {
        name: "campaign".into(),
        robust: Robust::Huber { delta: None },
        restarts: spec.restarts.max(1),
        bootstrap: spec.bootstrap,
        seed,
        holdout_fraction: 0.0,
        folds: 0,
    };
    let (space, draws) = (space.clone(), spec.draws);
    let summary = actix_web::rt::task::spawn_blocking(move || -> anyhow::Result<Option<RoundSummary>> {
        let Ok(report) = fit_law(&runs, &opts) else { return Ok(None) };
        Ok(Some(space.summary(&report, &measured, spent, previous.as_ref(), draws, seed)))
    })
    .await??;
    Ok(summary)
}

/// Starts a driver for every campaign left `running` (after a restart), in the background.
pub async fn resume_all(state: &State) -> anyhow::Result<usize> {
    let running = state.store.campaigns(Page { before: None, limit: 1000 }, Some("running")).await?;
    for c in &running {
        spawn(state.clone(), c.id);
    }
    Ok(running.len())
}

/// Runs a driver in the background until the campaign stops; after an error that is not the campaign's
/// (the database or the executor unreachable) it is logged and the driver starts again a little later.
pub fn spawn(state: State, id: i64) {
    actix_web::rt::spawn(async move {
        loop {
            match drive(state.clone(), id).await {
                Ok(c) => {
                    tracing::info!(campaign = id, status = %c.status, reason = ?c.stop_reason, "campaign stopped");
                    break;
                }
                Err(e) => {
                    tracing::error!(campaign = id, error = %format!("{e:#}"), "campaign driver failed; it starts again in 30 s");
                    actix_web::rt::time::sleep(Duration::from_secs(30)).await;
                }
            }
        }
    });
}

/// A campaign with its rounds and jobs.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CampaignView {
    /// The campaign.
    pub campaign: Campaign,
    /// Its rounds.
    pub rounds: Vec<rooflaw_store::Round>,
    /// Its jobs.
    pub jobs: Vec<Job>,
}

/// Checks a request as the driver will use it (the space prices, the data is prepared, the executor
/// exists), so that a bad one is a 400 and not a failed campaign.
pub async fn check(state: &State, request: &CampaignRequest) -> ApiResult<()> {
    let (r, data_dir) = (request.clone(), state.config.data_dir.clone());
    actix_web::rt::task::spawn_blocking(move || -> anyhow::Result<()> {
        let space = r.space()?;
        let first = space.candidates.first().context("the design space has no valid candidate")?;
        let req = r.run_request(&space, 0, String::new());
        req.resolve(&data_dir).with_context(|| format!("the first candidate, {}, cannot be trained as asked", first.arch.name))?;
        Ok(())
    })
    .await
    .map_err(|e| ApiError::bad_request(e.to_string()))?
    .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    executor_for(state, request.executor.name()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(())
}

/// `POST /api/v1/campaigns`: checks and stores a campaign (201) and starts its driver.
#[post("/campaigns")]
pub async fn create(state: web::Data<State>, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let request: CampaignRequest = json_body(&body)?;
    check(&state, &request).await?;
    let name = request.name.clone().unwrap_or_else(|| format!("{} on {}", request.spec.search.space, request.spec.target.device));
    let stored = serde_json::to_value(&request).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let c = state.store.create_campaign(&name, &stored, request.executor.name()).await?;
    spawn(state.get_ref().clone(), c.id);
    Ok(HttpResponse::Created().json(c))
}

/// `GET /api/v1/campaigns`: campaigns, newest first.
#[get("/campaigns")]
pub async fn list(state: web::Data<State>, req: HttpRequest, q: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let campaigns = state.store.campaigns(q.page()?, None).await?;
    let next_before = campaigns.last().map(|c| c.id);
    Ok(HttpResponse::Ok().json(CampaignsPage { campaigns, next_before }))
}

/// `GET /api/v1/campaigns/{id}`: a campaign with its rounds (picks, fits, frontiers) and jobs.
#[get("/campaigns/{id}")]
pub async fn get_campaign(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    may_read(&state, &req).await?;
    let id = id.into_inner();
    let view = CampaignView {
        campaign: state.store.campaign(id).await?,
        rounds: state.store.rounds(id).await?,
        jobs: state.store.campaign_jobs(id).await?,
    };
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /api/v1/campaigns/{id}/cancel`: stops the campaign and cancels its jobs that are not final.
#[post("/campaigns/{id}/cancel")]
pub async fn cancel(state: web::Data<State>, req: HttpRequest, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let id = id.into_inner();
    let c = state.store.campaign(id).await?;
    if c.status != "running" {
        return Err(ApiError { status: actix_web::http::StatusCode::CONFLICT, message: format!("campaign {id} is {} already", c.status) });
    }
    let c = state.store.set_campaign_status(id, "cancelled", Some("cancelled by a client")).await?;
    if let Ok(executor) = executor_for(&state, &c.executor) {
        for j in state.store.campaign_jobs(id).await?.iter().filter(|j| !j.is_final()) {
            if let Some(r) = &j.executor_ref {
                if let Err(e) = executor.cancel(r).await {
                    tracing::warn!(campaign = id, job = j.id, error = %e, "cannot cancel a campaign job");
                }
            }
            state.store.update_job(j.id, None, "cancelled", None, None).await?;
        }
    }
    state.events.bump();
    Ok(HttpResponse::Ok().json(c))
}

/// Starts a failed or cancelled job of a running campaign again (it resumes from its checkpoint); the
/// driver waits for it before it fits the round.
pub async fn retry_job(state: &State, campaign: i64, job: i64) -> ApiResult<Job> {
    let c = state.store.campaign(campaign).await?;
    let conflict = |m: String| ApiError { status: actix_web::http::StatusCode::CONFLICT, message: m };
    if c.status != "running" {
        return Err(conflict(format!("campaign {campaign} is {}: only a running campaign's jobs can be retried", c.status)));
    }
    let j = state
        .store
        .campaign_jobs(campaign)
        .await?
        .into_iter()
        .find(|j| j.id == job)
        .ok_or_else(|| ApiError::not_found(format!("job {job} of campaign {campaign}")))?;
    if j.status != "failed" && j.status != "cancelled" {
        return Err(conflict(format!("job {job} is {}: only a failed or cancelled job can be retried", j.status)));
    }
    let r = j.executor_ref.clone().filter(|r| r != "-").ok_or_else(|| {
        conflict(format!("job {job} was never submitted (the trainer refuses it: {})", j.error.clone().unwrap_or_default()))
    })?;
    let executor = executor_for(state, &c.executor).map_err(|e| ApiError::bad_request(e.to_string()))?;
    executor.retry(&r).await.map_err(|e| ApiError::bad_request(format!("cannot retry job {job}: {e:#}")))?;
    let j = state.store.update_job(job, None, "queued", None, None).await?;
    state.events.bump();
    Ok(j)
}

/// `POST /api/v1/campaigns/{id}/jobs/{job}/retry`: starts a failed or cancelled job again.
#[post("/campaigns/{id}/jobs/{job}/retry")]
pub async fn retry(state: web::Data<State>, req: HttpRequest, path: web::Path<(i64, i64)>) -> ApiResult<HttpResponse> {
    require(&state, &req, Scope::Train).await?;
    let (id, job) = path.into_inner();
    Ok(HttpResponse::Ok().json(retry_job(&state, id, job).await?))
}

/// `rooflaw campaign retry`: the same without the HTTP server (the driver, wherever it runs, sees the job
/// queued again at its next pass).
pub async fn retry_headless(config: crate::Config, campaign: i64, job: i64) -> anyhow::Result<Job> {
    let state = State::open(config).await?;
    retry_job(&state, campaign, job).await.map_err(|e| anyhow!("{}", e.message))
}

/// A run folder of a campaign job on a shared filesystem.
pub fn job_dir(root: &Path, campaign: i64, job: i64) -> PathBuf {
    root.join(format!("campaign-{campaign:06}")).join(format!("job-{job:06}"))
}

/// What `rooflaw campaign run` starts: a new campaign, or one already stored.
#[derive(Debug, Clone)]
pub enum Start {
    /// Check and store this request, then drive it.
    New(Box<CampaignRequest>),
    /// Drive the stored campaign with this id (after a crash, or to finish it).
    Resume(i64),
}

/// Runs a campaign without the HTTP server: opens the database, starts `config.workers` local training
/// workers and drives the campaign until it stops. Interrupting it loses nothing: `Start::Resume`
/// continues it.
pub async fn run_headless(config: crate::Config, start: Start, on_start: impl FnOnce(&Campaign)) -> anyhow::Result<CampaignView> {
    let state = State::open(config).await?;
    let store = state.store.clone();
    let campaign = match start {
        Start::New(request) => {
            check(&state, &request).await.map_err(|e| anyhow!("{}", e.message))?;
            let name = request.name.clone().unwrap_or_else(|| format!("{} on {}", request.spec.search.space, request.spec.target.device));
            store.create_campaign(&name, &serde_json::to_value(&*request)?, request.executor.name()).await?
        }
        Start::Resume(id) => {
            let c = store.campaign(id).await?;
            if c.status != "running" {
                anyhow::bail!("campaign {id} is {} ({}); there is nothing to resume", c.status, c.stop_reason.unwrap_or_default());
            }
            c
        }
    };
    on_start(&campaign);
    if campaign.executor == "local" {
        state.start_workers(&format!("campaign-{}-{}", campaign.id, std::process::id()));
    }
    let done = drive(state.clone(), campaign.id).await?;
    Ok(CampaignView { rounds: store.rounds(done.id).await?, jobs: store.campaign_jobs(done.id).await?, campaign: done })
}

/// A stored campaign with its rounds and jobs (`rooflaw campaign status`).
pub async fn view(database: &str, id: i64) -> anyhow::Result<CampaignView> {
    let store = Store::open(database).await.map_err(|e| anyhow!("cannot open the database: {e}"))?;
    Ok(CampaignView { campaign: store.campaign(id).await?, rounds: store.rounds(id).await?, jobs: store.campaign_jobs(id).await? })
}
