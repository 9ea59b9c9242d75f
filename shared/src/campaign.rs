//! Campaigns (issue 12): which candidates to train next so that the fewest training runs pin down the
//! frontier, and a simulation that compares ways of choosing them against a known "true" law.
//!
//! Strategies:
//! - `random`: uniform draws from the candidates not yet trained (what a team does without a plan);
//! - `grid`: an even cover of the law's inputs, blind to the frontier: farthest-point sampling over the
//!   candidates' standardised log inputs (ln l, ln d, ln r, ln ρ, ln d_m), the continuous-space analogue
//!   of walking a grid;
//! - `frontier` (the default): P(Pareto) weighted by uncertainty, made exact for a linearised law. A
//!   candidate j scores by how much a run of it would reduce Σ_i P(Pareto)_i · Var(loss_i) over the
//!   designs i that may be on the frontier, under the law's bootstrap ensemble ([`crate::uncertain`]):
//!   Σ_i P(Pareto)_i · Cov(L_i, L_j)² / (Var L_j + σ²), σ the residual noise of a run. A design scores
//!   by what its run would tell about the frontier, not by its own uncertainty: a design surely off the
//!   frontier can be worth training when its loss moves with the frontier's. A batch is chosen greedily,
//!   the ensemble conditioned on each pick by a serial square-root update (Whitaker & Hamill 2002), so
//!   that one batch does not spend two runs on what one would teach ([`frontier_picks`]).
//!
//!   Why not the expected improvement of the dominated hypervolume? It rewards finding designs that beat
//!   the best *measured* ones, which suits black-box optimisation where every design must be tried.
//!   Here the law predicts every design and training runs exist to correct the law where the frontier
//!   depends on it, so the quantity to reduce is the frontier's uncertainty itself.
//!
//! Before the law can be fitted (it has 11 coefficients) every strategy but `random` starts from a
//! space-filling set. Run costs (6·N·T-style training FLOPs, [`crate::cost::training_flops_per_token`])
//! are a constraint: a design whose run does not fit the remaining compute budget is not chosen.

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::api::{SearchRequest, TargetRequest};
use crate::calibrate::Interval;
use crate::error::{Error, Result};
use crate::fit::{fit_law, gaussian, FitOptions, FitReport, Metrics, Robust, Run};
use crate::frontier::{Budget, Point};
use crate::law::{Law, LawInputs, COEFFICIENT_NAMES};
use crate::space::Candidate;
use crate::uncertain::{log_spaced, loss_draws, uncertain_frontier, Settings, Uncertainty};

/// How the next runs are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Strategy {
    /// Uniform draws.
    Random,
    /// Farthest-point cover of the law's inputs.
    Grid,
    /// The runs that most reduce the frontier's P(Pareto)-weighted loss variance.
    Frontier,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 3] = [Strategy::Random, Strategy::Grid, Strategy::Frontier];

    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Random => "random",
            Strategy::Grid => "grid",
            Strategy::Frontier => "frontier",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Result<Strategy> {
        Strategy::ALL.into_iter().find(|x| x.name() == s.trim().to_ascii_lowercase()).ok_or_else(|| Error::Unknown {
            kind: "strategy",
            name: s.to_string(),
            fix: "use random, grid or frontier".to_string(),
        })
    }
}

/// Runs below which the law is not fitted (one more than its coefficients).
pub const MIN_RUNS_TO_FIT: usize = COEFFICIENT_NAMES.len() + 1;

/// The candidates' standardised log law inputs (inputs that do not vary are left out).
pub fn features(candidates: &[Candidate]) -> Vec<Vec<f64>> {
    let raw: Vec<[f64; 5]> = candidates
        .iter()
        .map(|c| {
            let x = LawInputs::of(&c.arch);
            [x.layers.ln(), x.d_model.ln(), x.ffn_ratio.ln(), x.rho.ln(), x.kv_width.ln()]
        })
        .collect();
    let n = raw.len().max(1) as f64;
    let stats: Vec<(usize, f64, f64)> = (0..5)
        .filter_map(|k| {
            let mean = raw.iter().map(|r| r[k]).sum::<f64>() / n;
            let sd = (raw.iter().map(|r| (r[k] - mean).powi(2)).sum::<f64>() / n).sqrt();
            (sd > 1e-12).then_some((k, mean, sd))
        })
        .collect();
    raw.iter().map(|r| stats.iter().map(|&(k, m, s)| (r[k] - m) / s).collect()).collect()
}

/// Random Fourier features in [`misspecification`]'s surface.
const SURFACE_WAVES: usize = 256;

/// A smooth surface the law cannot represent, for simulating a misspecified truth: one draw of a
/// Gaussian process over the candidates' standardised log inputs ([`features`]) with a squared-exponential
/// kernel of length 1 (one standard deviation of each input), by random Fourier features (Rahimi & Recht
/// 2007), fixed by `seed`, then centred and scaled so that its standard deviation over the candidates is
/// exactly `sd` nats. Added to the true law's losses it is what a real loss surface does and Eq. 2 does
/// not: its error varies smoothly over the space instead of being independent run to run.
pub fn misspecification(features: &[Vec<f64>], sd: f64, seed: u64) -> Vec<f64> {
    let dim = features.first().map_or(0, Vec::len);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let waves: Vec<(Vec<f64>, f64)> = (0..SURFACE_WAVES)
        .map(|_| ((0..dim).map(|_| gaussian(&mut rng)).collect(), std::f64::consts::TAU * crate::fit::uniform(&mut rng)))
        .collect();
    let raw: Vec<f64> = features
        .iter()
        .map(|x| waves.iter().map(|(w, b)| (w.iter().zip(x).map(|(p, q)| p * q).sum::<f64>() + b).cos()).sum::<f64>())
        .collect();
    let n = raw.len().max(1) as f64;
    let mean = raw.iter().sum::<f64>() / n;
    let spread = (raw.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    if spread <= 0.0 || !spread.is_finite() {
        return vec![0.0; raw.len()];
    }
    raw.iter().map(|v| sd * (v - mean) / spread).collect()
}

fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

/// What a selection sees.
#[derive(Debug, Clone, Copy)]
pub struct Pool<'a> {
    /// The candidates.
    pub candidates: &'a [Candidate],
    /// Their standardised features ([`features`]).
    pub features: &'a [Vec<f64>],
    /// Each candidate's training cost (FLOPs of one run).
    pub costs: &'a [f64],
    /// Each candidate's latency and memory (the loss slot is replaced by a fitted law's).
    pub points: &'a [Point],
    /// The calibration interval latencies are drawn from (None: latencies exact).
    pub interval: Option<&'a Interval>,
}

/// One round's choice: what [`choose`] reads besides the pool.
#[derive(Debug, Clone, Copy)]
pub struct Choice<'a> {
    /// How to choose.
    pub strategy: Strategy,
    /// Candidates already taken (trained or training).
    pub taken: &'a BTreeSet<usize>,
    /// The law fitted on the completed runs, with its bootstrap (None before there are enough runs).
    pub law: Option<&'a Law>,
    /// Standard deviation of a run's loss around the law (nats): the fit's RMSE.
    pub noise: f64,
    /// Runs to choose.
    pub n: usize,
    /// Training FLOPs left for them.
    pub remaining_flops: f64,
    /// Monte Carlo draws of the uncertain frontier.
    pub draws: usize,
    /// Seed of the draws and of the sample of candidates scored.
    pub seed: u64,
    /// Share of a `frontier` round's runs chosen by [`space_filling`] instead (0 to 1): a hedge against a
    /// law whose form is wrong, which its bootstrap cannot see.
    pub explore: f64,
}

/// The next runs by `choice.strategy`: `random` draws from `rng`; `frontier` needs a law with its
/// bootstrap and, before there is one, starts like `grid`, with [`space_filling`]; after that, the share
/// `explore` of each round (rounded to whole runs) is space-filling too.
pub fn choose(pool: &Pool, c: &Choice, rng: &mut ChaCha8Rng) -> Vec<Pick> {
    match (c.strategy, c.law) {
        (Strategy::Random, _) => random_picks(pool, c.taken, c.n, c.remaining_flops, rng),
        (Strategy::Frontier, Some(law)) if !law.bootstrap.is_empty() => {
            let spread = ((c.n as f64 * c.explore.clamp(0.0, 1.0)).round() as usize).min(c.n);
            let mut picks = Vec::new();
            if spread < c.n {
                let points: Vec<Point> =
                    pool.candidates.iter().zip(pool.points).map(|(k, p)| Point { loss: law.loss(&LawInputs::of(&k.arch)), ..*p }).collect();
                let budget = Budget::default();
                let s = Settings { draws: c.draws, seed: c.seed, interval: pool.interval, budget: &budget, best: None };
                let u = uncertain_frontier(law, pool.candidates, &points, &s);
                let e = Ensemble { law, uncertainty: &u, noise: c.noise.max(1e-3), seed: c.seed };
                picks = frontier_picks(pool, c.taken, c.n - spread, c.remaining_flops, &e);
            }
            fill_space(pool, c.taken, &mut picks, c.n, c.remaining_flops);
            picks
        }
        _ => space_filling(pool, c.taken, c.n, c.remaining_flops),
    }
}

/// One chosen candidate and why.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Pick {
    /// Index into the candidates.
    pub index: usize,
    /// Its score when picked (the strategy's own units; 0 for random picks).
    pub score: f64,
    /// Its P(Pareto) under the current law (None before the law is fitted).
    pub p_pareto: Option<f64>,
    /// Width of its 90% loss interval (None before the law is fitted).
    pub loss_spread: Option<f64>,
}

/// Farthest-point picks: each next pick is the eligible candidate farthest from every taken or picked
/// one (the first, with nothing taken, the one nearest the centre of the inputs).
pub fn space_filling(pool: &Pool, taken: &BTreeSet<usize>, n: usize, budget_flops: f64) -> Vec<Pick> {
    let mut nearest: Vec<f64> = (0..pool.candidates.len())
        .map(|i| taken.iter().map(|&t| distance2(&pool.features[i], &pool.features[t])).fold(f64::INFINITY, f64::min))
        .collect();
    let mut spent = 0.0;
    let mut picks = Vec::new();
    while picks.len() < n {
        let eligible =
            |i: &usize| !taken.contains(i) && !picks.iter().any(|p: &Pick| p.index == *i) && spent + pool.costs[*i] <= budget_flops;
        let next = if taken.is_empty() && picks.is_empty() {
            (0..pool.candidates.len()).filter(eligible).min_by(|&a, &b| {
                let c = |i: usize| pool.features[i].iter().map(|v| v * v).sum::<f64>();
                c(a).total_cmp(&c(b))
            })
        } else {
            (0..pool.candidates.len()).filter(eligible).max_by(|&a, &b| nearest[a].total_cmp(&nearest[b]).then(b.cmp(&a)))
        };
        let Some(i) = next else { break };
        spent += pool.costs[i];
        for (j, d) in nearest.iter_mut().enumerate() {
            *d = d.min(distance2(&pool.features[j], &pool.features[i]));
        }
        picks.push(Pick { index: i, score: nearest[i], p_pareto: None, loss_spread: None });
    }
    picks
}

/// Uniform picks among the untaken candidates that fit the budget.
pub fn random_picks(pool: &Pool, taken: &BTreeSet<usize>, n: usize, budget_flops: f64, rng: &mut ChaCha8Rng) -> Vec<Pick> {
    let mut left: Vec<usize> = (0..pool.candidates.len()).filter(|i| !taken.contains(i)).collect();
    let mut spent = 0.0;
    let mut picks = Vec::new();
    while picks.len() < n && !left.is_empty() {
        let k = (rng.next_u64() % left.len() as u64) as usize;
        let i = left.swap_remove(k);
        if spent + pool.costs[i] <= budget_flops {
            spent += pool.costs[i];
            picks.push(Pick { index: i, score: 0.0, p_pareto: None, loss_spread: None });
        }
    }
    picks
}

/// What the `frontier` strategy knows: the law with its bootstrap, the uncertain frontier drawn from it,
/// and the noise of one run's loss around the law.
#[derive(Debug, Clone, Copy)]
pub struct Ensemble<'a> {
    /// The fitted law (its bootstrap sets are the ensemble).
    pub law: &'a Law,
    /// Its uncertain frontier (P(Pareto) weights the frontier's designs).
    pub uncertainty: &'a Uncertainty,
    /// Standard deviation of a run's loss around the law (nats): the fit's RMSE.
    pub noise: f64,
    /// Seed of the sample of candidates scored.
    pub seed: u64,
}

/// Candidates scored at most in one selection besides the frontier's own (a seeded sample of the rest).
const SCORED_POOL: usize = 4000;

/// The `frontier` strategy's picks (see the module notes): the untaken designs whose runs most reduce
/// the variance of the frontier designs' losses, each weighted by its P(Pareto), under the law's
/// bootstrap ensemble. When fewer than `n` designs help, the batch is filled by [`space_filling`].
pub fn frontier_picks(pool: &Pool, taken: &BTreeSet<usize>, n: usize, budget_flops: f64, e: &Ensemble) -> Vec<Pick> {
    let (law, u, noise, seed) = (e.law, e.uncertainty, e.noise, e.seed);
    // The frontier's designs (weights: P(Pareto)) and the designs that may be trained.
    let targets: Vec<(usize, f64)> = u.kept.iter().map(|&i| (i as usize, u.p_pareto(i as usize))).collect();
    let mut scored: Vec<usize> = (0..pool.candidates.len()).filter(|i| !taken.contains(i)).collect();
    if scored.len() > SCORED_POOL {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for k in 0..SCORED_POOL {
            let j = k + (rng.next_u64() % (scored.len() - k) as u64) as usize;
            scored.swap(k, j);
        }
        scored.truncate(SCORED_POOL);
        let have: BTreeSet<usize> = scored.iter().copied().collect();
        scored.extend(targets.iter().map(|t| t.0).filter(|i| !taken.contains(i) && !have.contains(i)));
    }
    // One ensemble over the targets followed by the candidates: rows of anomalies (draw − mean).
    let rows: Vec<usize> = targets.iter().map(|t| t.0).chain(scored.iter().copied()).collect();
    let mut a = loss_draws(law, pool.candidates, &rows, u.draws);
    let d = a.first().map_or(0, Vec::len);
    let mut picks: Vec<Pick> = Vec::new();
    if d >= 2 {
        for row in a.iter_mut() {
            let mean = row.iter().sum::<f64>() / d as f64;
            row.iter_mut().for_each(|v| *v -= mean);
        }
        let nt = targets.len();
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>() / (d - 1) as f64;
        let noise2 = noise * noise;
        let mut spent = 0.0;
        let mut chosen = vec![false; scored.len()];
        while picks.len() < n {
            // Score: Σ_i w_i·Cov(L_i, L_j)² / (Var L_j + σ²), the expected drop of the weighted variance.
            let best = (0..scored.len())
                .filter(|&k| !chosen[k] && spent + pool.costs[scored[k]] <= budget_flops)
                .map(|k| {
                    let aj = &a[nt + k];
                    let v = dot(aj, aj);
                    let s: f64 = targets.iter().enumerate().map(|(t, &(_, w))| w * dot(&a[t], aj).powi(2)).sum::<f64>() / (v + noise2);
                    (k, s, v)
                })
                .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)));
            let Some((k, score, var)) = best else { break };
            if score.is_nan() || score <= 0.0 {
                break;
            }
            chosen[k] = true;
            let i = scored[k];
            spent += pool.costs[i];
            picks.push(Pick { index: i, score, p_pareto: Some(u.p_pareto(i)), loss_spread: Some(var.sqrt()) });
            // Condition the ensemble on a run of design i (serial square-root update, Whitaker & Hamill
            // 2002): every row moves by its regression on row i, shrunk so that the ensemble's variance
            // matches the posterior's.
            let aj = a[nt + k].clone();
            let beta = 1.0 - (noise2 / (var + noise2)).sqrt();
            for row in a.iter_mut() {
                let g = beta * dot(row, &aj) / var.max(1e-300);
                row.iter_mut().zip(&aj).for_each(|(r, x)| *r -= g * x);
            }
        }
    }
    fill_space(pool, taken, &mut picks, n, budget_flops);
    picks
}

/// Tops `picks` up to `n` with [`space_filling`] picks, away from the taken candidates and the picks
/// themselves, within what the picks leave of `budget_flops`.
fn fill_space(pool: &Pool, taken: &BTreeSet<usize>, picks: &mut Vec<Pick>, n: usize, budget_flops: f64) {
    if picks.len() < n {
        let mut all = taken.clone();
        all.extend(picks.iter().map(|p| p.index));
        let spent: f64 = picks.iter().map(|p| pool.costs[p.index]).sum();
        picks.extend(space_filling(pool, &all, n - picks.len(), budget_flops - spent));
    }
}

/// Latencies at which frontier regret and shift are compared.
const GRID: usize = 64;

/// How far a frontier chosen with an estimated law is from the true one: at latencies spread
/// log-evenly from the fastest candidate to the slowest design of the true frontier, the true loss of
/// the design the estimate calls best within that latency minus the true frontier's loss there,
/// averaged (nats; 0 when the estimate picks the true frontier's designs everywhere).
pub fn frontier_regret(points_true: &[Point], estimated_loss: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..points_true.len()).filter(|&i| points_true[i].latency_secs.is_finite()).collect();
    order.sort_by(|&a, &b| points_true[a].latency_secs.total_cmp(&points_true[b].latency_secs));
    if order.is_empty() {
        return f64::NAN;
    }
    // Prefix minima: the true frontier, and the estimate's choice with its true loss.
    let (mut best_true, mut best_est, mut chosen_true) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let mut steps: Vec<(f64, f64, f64)> = Vec::with_capacity(order.len());
    for &i in &order {
        best_true = best_true.min(points_true[i].loss);
        if estimated_loss[i] < best_est {
            best_est = estimated_loss[i];
            chosen_true = points_true[i].loss;
        }
        steps.push((points_true[i].latency_secs, best_true, chosen_true));
    }
    let lo = steps[0].0;
    let hi = steps.iter().find(|s| s.1 <= best_true).map_or(lo, |s| s.0);
    let mut total = 0.0;
    let mut j = 0;
    for x in log_spaced(lo, hi, GRID) {
        while j + 1 < steps.len() && steps[j + 1].0 <= x {
            j += 1;
        }
        total += steps[j].2 - steps[j].1;
    }
    total / GRID as f64
}

/// A simulated campaign's settings.
#[derive(Debug, Clone)]
pub struct Simulation<'a> {
    /// The "true" law the runs' losses come from.
    pub truth: &'a Law,
    /// Standard deviation of a run's loss around the true law (nats): seed-to-seed and
    /// misspecification noise.
    pub noise: f64,
    /// The candidates with their central latencies (the latency model is taken as known).
    pub candidates: &'a [Candidate],
    /// Their points under the true law (loss) and the latency model.
    pub points: &'a [Point],
    /// Each candidate's training cost.
    pub costs: &'a [f64],
    /// The calibration interval the `frontier` strategy draws latencies from (None: exact).
    pub interval: Option<&'a Interval>,
    /// Runs of the space-filling start.
    pub initial: usize,
    /// Runs per round.
    pub batch: usize,
    /// Runs in all.
    pub max_runs: usize,
    /// Bootstrap resamples of each round's fit (the `frontier` strategy draws from them).
    pub bootstrap: usize,
    /// Restarts of each fit.
    pub restarts: usize,
    /// Monte Carlo draws of the uncertain frontier.
    pub draws: usize,
    /// Share of each `frontier` round chosen space-filling ([`Choice::explore`]).
    pub explore: f64,
}

/// One simulated campaign: the frontier's error after each round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Trace {
    /// Strategy.
    pub strategy: Strategy,
    /// Seed.
    pub seed: u64,
    /// (runs trained, frontier regret in nats) after each fit.
    pub errors: Vec<(usize, f64)>,
}

impl Trace {
    /// Runs trained when the regret first fell to `tolerance` and stayed there (None: never).
    pub fn runs_to(&self, tolerance: f64) -> Option<usize> {
        let last_above = self.errors.iter().rposition(|e| e.1.is_nan() || e.1 > tolerance);
        match last_above {
            None => self.errors.first().map(|e| e.0),
            Some(k) => self.errors.get(k + 1).map(|e| e.0),
        }
    }
}

/// Fits Eq. 2 to the observed runs (None when there are too few or the fit fails).
pub fn fit_observed(inputs: &[LawInputs], losses: &[f64], tokens: f64, bootstrap: usize, restarts: usize, seed: u64) -> Option<Law> {
    if inputs.len() < MIN_RUNS_TO_FIT {
        return None;
    }
    let runs: Vec<Run> = inputs
        .iter()
        .zip(losses)
        .enumerate()
        .map(|(k, (x, &loss))| Run { name: format!("run {k}"), inputs: *x, tokens, loss, split: None })
        .collect();
    let opts = FitOptions {
        name: "campaign".into(),
        robust: Robust::Huber { delta: None },
        restarts,
        bootstrap,
        seed,
        holdout_fraction: 0.0,
        folds: 0,
    };
    fit_law(&runs, &opts).ok().map(|r| r.law)
}

/// Replays a campaign with strategy `strategy` and seed `seed` (see [`Simulation`]).
pub fn simulate(sim: &Simulation, strategy: Strategy, seed: u64) -> Trace {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let feats = features(sim.candidates);
    let pool = Pool { candidates: sim.candidates, features: &feats, costs: sim.costs, points: sim.points, interval: sim.interval };
    let inputs: Vec<LawInputs> = sim.candidates.iter().map(|c| LawInputs::of(&c.arch)).collect();
    let mut taken = BTreeSet::new();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let mut errors = Vec::new();
    let mut n = sim.initial;
    let mut law: Option<Law> = None;
    loop {
        let c = Choice {
            strategy,
            taken: &taken,
            law: law.as_ref(),
            noise: sim.noise,
            n,
            remaining_flops: f64::INFINITY,
            draws: sim.draws,
            seed: seed + xs.len() as u64,
            explore: sim.explore,
        };
        let picks = choose(&pool, &c, &mut rng);
        if picks.is_empty() {
            break;
        }
        for p in picks {
            taken.insert(p.index);
            xs.push(inputs[p.index]);
            ys.push(sim.points[p.index].loss + sim.noise * gaussian(&mut rng));
        }
        let bootstrap = if strategy == Strategy::Frontier { sim.bootstrap } else { 0 };
        law = fit_observed(&xs, &ys, sim.truth.training_tokens, bootstrap, sim.restarts, seed);
        if let Some(law) = &law {
            let est: Vec<f64> = inputs.iter().map(|x| law.loss(x)).collect();
            errors.push((xs.len(), frontier_regret(sim.points, &est)));
        }
        if xs.len() >= sim.max_runs || taken.len() >= sim.candidates.len() {
            break;
        }
        n = sim.batch.min(sim.max_runs - xs.len());
    }
    Trace { strategy, seed, errors }
}

/// `campaign simulate`: replays campaigns against a synthetic "true" law with noise, no training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimulateRequest {
    /// Candidates and pricing (the latency model is taken as known).
    #[serde(flatten)]
    pub search: SearchRequest,
    /// Device and workload.
    #[serde(flatten)]
    pub target: TargetRequest,
    /// The "true" law (None: the published one).
    pub truth: Option<String>,
    /// Standard deviation of a run's loss around the true law, in nats.
    pub noise: f64,
    /// Standard deviation over the candidates of a smooth surface added to the true law's losses
    /// ([`misspecification`], nats; 0: the truth is Eq. 2 exactly, so the fitted form is right).
    pub misspecification: f64,
    /// Runs of the space-filling start.
    pub initial: usize,
    /// Runs per round.
    pub batch: usize,
    /// Runs in all.
    pub max_runs: usize,
    /// Campaigns per strategy (seeds 1…n).
    pub seeds: usize,
    /// Strategies compared.
    pub strategies: Vec<Strategy>,
    /// Frontier regret (nats) that counts as having found the frontier.
    pub tolerance: f64,
    /// Bootstrap resamples of each fit of the `frontier` strategy.
    pub bootstrap: usize,
    /// Restarts of each fit.
    pub restarts: usize,
    /// Monte Carlo draws of the uncertain frontier.
    pub draws: usize,
    /// Share of each `frontier` round chosen space-filling (0 to 1).
    pub explore: f64,
}

impl Default for SimulateRequest {
    fn default() -> Self {
        SimulateRequest {
            search: SearchRequest { objective: crate::frontier::Objective::Decode, ..SearchRequest::default() },
            target: TargetRequest::default(),
            truth: None,
            noise: 0.01,
            misspecification: 0.0,
            initial: 16,
            batch: 8,
            max_runs: 96,
            seeds: 5,
            strategies: Strategy::ALL.to_vec(),
            tolerance: 0.005,
            bootstrap: 50,
            restarts: 16,
            draws: 100,
            explore: DEFAULT_EXPLORE,
        }
    }
}

/// One strategy's campaigns, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StrategySummary {
    /// Strategy.
    pub strategy: Strategy,
    /// Per seed: runs until the regret fell to the tolerance and stayed there (None: not within the runs).
    pub runs_to_tolerance: Vec<Option<usize>>,
    /// Their median, counting a campaign that never got there as beyond every one that did (None: the
    /// median campaign did not get there).
    pub median_runs: Option<usize>,
    /// Mean regret over the seeds after each number of runs.
    pub mean_regret: Vec<(usize, f64)>,
    /// Runs after which the mean regret is within the tolerance and stays there (None: not within the runs).
    pub mean_runs_to_tolerance: Option<usize>,
}

/// What `campaign simulate` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimulationReport {
    /// Space.
    pub space: String,
    /// Candidates.
    pub candidates: usize,
    /// Device.
    pub device: String,
    /// Objective.
    pub objective: String,
    /// Latency level.
    pub level: String,
    /// The true law.
    pub truth: String,
    /// The settings.
    pub request: SimulateRequest,
    /// Every campaign.
    pub traces: Vec<Trace>,
    /// Per strategy.
    pub summary: Vec<StrategySummary>,
}

/// Summarises one strategy's traces.
pub fn summarise(strategy: Strategy, traces: &[Trace], tolerance: f64) -> StrategySummary {
    let mine: Vec<&Trace> = traces.iter().filter(|t| t.strategy == strategy).collect();
    let runs_to_tolerance: Vec<Option<usize>> = mine.iter().map(|t| t.runs_to(tolerance)).collect();
    let mut sorted: Vec<usize> = runs_to_tolerance.iter().map(|r| r.unwrap_or(usize::MAX)).collect();
    sorted.sort_unstable();
    let median_runs = sorted.get(sorted.len().saturating_sub(1) / 2).copied().filter(|&r| r != usize::MAX);
    let mut at: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
    for t in &mine {
        for &(runs, e) in &t.errors {
            let slot = at.entry(runs).or_insert((0.0, 0));
            slot.0 += e;
            slot.1 += 1;
        }
    }
    let mean_regret: Vec<(usize, f64)> =
        at.into_iter().filter(|(_, (_, n))| *n == mine.len()).map(|(r, (sum, n))| (r, sum / n as f64)).collect();
    let mean_runs_to_tolerance = Trace { strategy, seed: 0, errors: mean_regret.clone() }.runs_to(tolerance);
    StrategySummary { strategy, runs_to_tolerance, median_runs, mean_regret, mean_runs_to_tolerance }
}

/// A campaign: a device × workload × budget × design space, how runs are chosen and when to stop.
/// What each run trains on (data, token budget, hyperparameters) is the trainer's part of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CampaignSpec {
    /// Design space (by name) and latency pricing.
    #[serde(flatten)]
    pub search: SearchRequest,
    /// Device and workload.
    #[serde(flatten)]
    pub target: TargetRequest,
    /// Latency budget on the objective, in seconds (for the best design and its odds).
    pub latency_budget_secs: Option<f64>,
    /// Memory budget.
    pub memory_budget: Option<crate::api::MemoryBudget>,
    /// How runs are chosen.
    pub strategy: Strategy,
    /// Runs of the first round (at least 12: the law has 11 coefficients).
    pub initial_runs: usize,
    /// Runs per later round.
    pub runs_per_round: usize,
    /// Runs in all.
    pub max_runs: usize,
    /// Training FLOPs in all (None: no limit but the runs).
    pub compute_budget_flops: Option<f64>,
    /// Stop when the predicted frontier moves less than this between rounds (nats, mean over latencies).
    pub tolerance: f64,
    /// Bootstrap resamples of each round's fit.
    pub bootstrap: usize,
    /// Restarts of each fit.
    pub restarts: usize,
    /// Monte Carlo draws of the uncertain frontier.
    pub draws: usize,
    /// Share of each round of the `frontier` strategy chosen space-filling (0 to 1; see
    /// REPRODUCTION.md for what it buys when the law's form is wrong).
    pub explore: f64,
}

impl Default for CampaignSpec {
    fn default() -> Self {
        CampaignSpec {
            search: SearchRequest::default(),
            target: TargetRequest::default(),
            latency_budget_secs: None,
            memory_budget: None,
            strategy: Strategy::Frontier,
            initial_runs: 16,
            runs_per_round: 4,
            max_runs: 48,
            compute_budget_flops: None,
            tolerance: 0.002,
            bootstrap: 50,
            restarts: 16,
            draws: 100,
            explore: DEFAULT_EXPLORE,
        }
    }
}

/// The share of a `frontier` round chosen space-filling by default.
pub const DEFAULT_EXPLORE: f64 = 0.0;

/// How a stored campaign request chooses its runs, in words: "the frontier strategy, 25% of each round
/// space-filling" (a field the request leaves out has its default).
pub fn describe_choice(request: &serde_json::Value) -> String {
    let defaults = CampaignSpec::default();
    let strategy = request.get("strategy").and_then(|s| s.as_str()).and_then(|s| Strategy::parse(s).ok()).unwrap_or(defaults.strategy);
    let explore = request.get("explore").and_then(serde_json::Value::as_f64).unwrap_or(defaults.explore);
    if strategy == Strategy::Frontier && explore > 0.0 {
        format!("the frontier strategy, {:.0}% of each round space-filling", 100.0 * explore)
    } else {
        format!("the {} strategy", strategy.name())
    }
}

/// Checks a share of runs chosen space-filling.
pub fn check_explore(explore: f64) -> Result<()> {
    if (0.0..=1.0).contains(&explore) {
        Ok(())
    } else {
        Err(Error::invalid("explore", format!("{explore}"), "give the share of each round chosen space-filling, from 0 to 1 (e.g. 0.25)"))
    }
}

impl CampaignSpec {
    /// Checks the numbers a campaign cannot run with.
    pub fn check(&self) -> Result<()> {
        check_explore(self.explore)?;
        if self.initial_runs < MIN_RUNS_TO_FIT {
            return Err(Error::invalid(
                "initial_runs",
                format!("{} runs cannot fit the law's 11 coefficients", self.initial_runs),
                format!("start with at least {MIN_RUNS_TO_FIT} runs"),
            ));
        }
        if self.runs_per_round == 0 || self.max_runs < self.initial_runs {
            return Err(Error::invalid(
                "runs",
                format!("{} runs per round, {} in all, {} at the start", self.runs_per_round, self.max_runs, self.initial_runs),
                "give at least one run per round and max_runs ≥ initial_runs",
            ));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) || self.compute_budget_flops.is_some_and(|b| !(b.is_finite() && b > 0.0))
        {
            return Err(Error::invalid(
                "tolerance",
                "the tolerance and the compute budget must be positive numbers",
                "e.g. 0.002 nats, 1e15 FLOPs",
            ));
        }
        Ok(())
    }
}

/// A campaign's candidates, priced once: what every round's choice and summary read.
#[derive(Debug, Clone)]
pub struct CampaignSpace {
    /// The candidates.
    pub candidates: Vec<Candidate>,
    /// Each one's latency of the objective and memory (the loss slot is the published law's until a
    /// fitted law replaces it: [`CampaignSpace::points`]).
    pub points: Vec<Point>,
    /// Each one's training FLOPs for one run.
    pub costs: Vec<f64>,
    /// Standardised log law inputs.
    pub features: Vec<Vec<f64>>,
    /// The calibration's interval of the objective (calibrated level).
    pub interval: Option<Interval>,
    /// Budgets.
    pub budget: Budget,
    /// Training tokens per run.
    pub tokens: f64,
}

/// A design on a round's predicted frontier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FrontierDesign {
    /// Candidate index.
    pub index: usize,
    /// Name.
    pub name: String,
    /// Latency of the objective.
    pub latency_secs: f64,
    /// Predicted loss.
    pub loss: f64,
    /// P(Pareto).
    pub p_pareto: f64,
    /// 90% loss interval over the bootstrap.
    pub loss_interval: Option<[f64; 2]>,
    /// Its measured loss, when it was trained.
    pub measured: Option<f64>,
}

/// What a round ends with: the fit and the uncertain frontier after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSummary {
    /// Completed runs fitted on.
    pub runs: usize,
    /// Training FLOPs spent by them.
    pub spent_flops: f64,
    /// Fit quality on them.
    pub fit: Metrics,
    /// The fitted law (with its bootstrap).
    pub law: Law,
    /// The predicted frontier, by latency, with each design's P(Pareto).
    pub frontier: Vec<FrontierDesign>,
    /// The frontier's band.
    pub band: Vec<crate::uncertain::BandPoint>,
    /// The best feasible design under the budget and its odds.
    pub best: Option<FrontierDesign>,
    /// Its odds.
    pub odds: Option<crate::uncertain::BestOdds>,
    /// How far the frontier moved since the last round (nats, mean over latencies; None: first fit).
    pub shift: Option<f64>,
}

impl CampaignSpace {
    /// The candidates' points under `law`.
    pub fn points(&self, law: &Law) -> Vec<Point> {
        self.candidates.iter().zip(&self.points).map(|(c, p)| Point { loss: law.loss(&LawInputs::of(&c.arch)), ..*p }).collect()
    }

    /// The next runs ([`choose`]; `random` draws are seeded by the choice's seed).
    pub fn next_picks(&self, choice: &Choice) -> Vec<Pick> {
        let pool = Pool {
            candidates: &self.candidates,
            features: &self.features,
            costs: &self.costs,
            points: &self.points,
            interval: self.interval.as_ref(),
        };
        choose(&pool, choice, &mut ChaCha8Rng::seed_from_u64(choice.seed))
    }

    /// The frontier after a fit: its designs with P(Pareto), the band, the best design and its odds,
    /// and how far it moved since `previous` (the last round's law).
    pub fn summary(
        &self,
        report: &FitReport,
        measured: &BTreeMap<usize, f64>,
        spent_flops: f64,
        previous: Option<&Law>,
        draws: usize,
        seed: u64,
    ) -> RoundSummary {
        let law = &report.law;
        let points = self.points(law);
        let best = crate::frontier::best_feasible(&points, &self.budget);
        let s = Settings { draws, seed, interval: self.interval.as_ref(), budget: &self.budget, best };
        let u = uncertain_frontier(law, &self.candidates, &points, &s);
        let design = |i: usize| FrontierDesign {
            index: i,
            name: self.candidates[i].arch.name.clone(),
            latency_secs: points[i].latency_secs,
            loss: points[i].loss,
            p_pareto: u.p_pareto(i),
            loss_interval: u.loss_interval(i),
            measured: measured.get(&i).copied(),
        };
        let frontier = crate::frontier::pareto_2d(&points).into_iter().map(design).collect();
        let shift = previous.map(|p| {
            let before: Vec<f64> = self.points(p).iter().map(|q| q.loss).collect();
            frontier_shift(&points, &before)
        });
        RoundSummary {
            runs: measured.len(),
            spent_flops,
            fit: report.train,
            law: law.clone(),
            frontier,
            band: u.band.clone(),
            best: best.map(design),
            odds: u.best,
            shift,
        }
    }
}

/// The mean distance between two predicted frontiers of the same candidates (`points` carry the latency
/// and one law's loss, `other` the other law's losses): at latencies spread log-evenly over the
/// candidates, |lowest loss within that latency under one law − under the other| (nats).
pub fn frontier_shift(points: &[Point], other: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..points.len()).filter(|&i| points[i].latency_secs.is_finite() && points[i].latency_secs > 0.0).collect();
    order.sort_by(|&a, &b| points[a].latency_secs.total_cmp(&points[b].latency_secs));
    let (Some(&first), Some(&last)) = (order.first(), order.last()) else { return f64::NAN };
    let (lo, hi) = (points[first].latency_secs, points[last].latency_secs);
    let (mut j, mut a, mut b, mut total) = (0, f64::INFINITY, f64::INFINITY, 0.0);
    for x in log_spaced(lo, hi, GRID) {
        while j < order.len() && points[order[j]].latency_secs <= x {
            a = a.min(points[order[j]].loss);
            b = b.min(other[order[j]]);
            j += 1;
        }
        total += (a - b).abs();
    }
    total / GRID as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontier::{Evaluator, Objective};
    use crate::space::{enumerate_grid, find_space, DesignSpace};
    use crate::{Catalogue, Level, Precision, Target, Workload};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pt(loss: f64, latency_secs: f64) -> Point {
        Point { loss, latency_secs, memory_bytes: 0.0 }
    }

    #[test]
    fn regret_by_hand() {
        // True: A (1 s, 3.0), B (2 s, 2.5), C (4 s, 2.0). The estimate prefers B to C (it thinks C is
        // 2.6), so beyond 4 s it picks B, whose true loss is 2.5, against the true frontier's 2.0.
        // The grid runs log-evenly from 1 s to 4 s: 64 points, ln x/ln 4 ≥ 1 only at the last one, so
        // the regret is 0.5 × 1/64; below 2 s both pick A, between 2 and 4 both pick B.
        let truth = [pt(3.0, 1.0), pt(2.5, 2.0), pt(2.0, 4.0)];
        let est = [3.0, 2.5, 2.6];
        assert!((frontier_regret(&truth, &est) - 0.5 / 64.0).abs() < 1e-12);
        assert_eq!(frontier_regret(&truth, &[3.0, 2.5, 2.0]), 0.0);
    }

    #[test]
    fn frontier_shift_by_hand() {
        // Latencies 1, 2, 4 s; one law's losses 3.0, 2.5, 2.0, the other's 3.0, 2.6, 2.2. The lowest loss
        // within x differs by 0 below 2 s, 0.1 from 2 s to 4 s, 0.2 at 4 s; on the 64-point log grid from
        // 1 to 4 s, 32 points lie below 2 s (g < 31.5), 31 in [2, 4) and one at 4: (31·0.1 + 0.2)/64.
        let points = [pt(3.0, 1.0), pt(2.5, 2.0), pt(2.0, 4.0)];
        let shift = frontier_shift(&points, &[3.0, 2.6, 2.2]);
        assert!((shift - (31.0 * 0.1 + 0.2) / 64.0).abs() < 1e-12, "{shift}");
        assert_eq!(frontier_shift(&points, &[3.0, 2.5, 2.0]), 0.0);
    }

    #[test]
    fn runs_to_tolerance_needs_the_error_to_stay_below_it() {
        let t = Trace { strategy: Strategy::Grid, seed: 0, errors: vec![(12, 0.1), (16, 0.01), (20, 0.05), (24, 0.01), (28, 0.005)] };
        assert_eq!(t.runs_to(0.02), Some(24));
        assert_eq!(t.runs_to(0.001), None);
        assert_eq!(t.runs_to(1.0), Some(12));
    }

    fn grid_pool() -> (Vec<Candidate>, Vec<Point>) {
        let DesignSpace::Grid(g) = find_space("paper-table5").unwrap() else { unreachable!("paper-table5 is a grid") };
        let (_, cands) = enumerate_grid(g);
        let cat = Catalogue::default();
        let target = Target::new(cat.get("jetson-agx-orin-64gb").unwrap(), None, Workload::PAPER, Precision::FP16).unwrap();
        let ev = Evaluator {
            target: &target,
            level: Level::Roofline,
            efficiency: crate::calibrate::builtin_calibration().efficiency,
            law: Law::paper(),
            objective: Objective::Decode,
        };
        let points = ev.evaluate(&cands);
        (cands, points)
    }

    /// The Table 5 grid as a pool, every run costing 1.
    fn with_grid_pool(f: impl FnOnce(&Pool)) {
        let (cands, pts) = grid_pool();
        let feats = features(&cands);
        let costs = vec![1.0; cands.len()];
        f(&Pool { candidates: &cands, features: &feats, costs: &costs, points: &pts, interval: None });
    }

    #[test]
    fn explore_gives_its_share_of_a_frontier_round_to_space_filling() {
        with_grid_pool(|pool| {
            // The published law with 40 bootstrap sets: each coefficient scaled by up to ±5%.
            let mut law = Law::paper().clone();
            let base = law.coefficients.to_array();
            law.bootstrap = (0..40).map(|k| base.map(|c| c * (1.0 + 0.05 * ((k * 37 % 41) as f64 / 20.0 - 1.0)))).collect();
            let taken: BTreeSet<usize> = (0..pool.candidates.len()).step_by(400).collect();
            let mut c = Choice {
                strategy: Strategy::Frontier,
                taken: &taken,
                law: Some(&law),
                noise: 0.01,
                n: 4,
                remaining_flops: f64::INFINITY,
                draws: 40,
                seed: 1,
                explore: 0.0,
            };
            let spread = |picks: &[Pick]| picks.iter().filter(|p| p.p_pareto.is_none()).count();
            let picks = choose(pool, &c, &mut ChaCha8Rng::seed_from_u64(1));
            assert_eq!((picks.len(), spread(&picks)), (4, 0), "{picks:?}");
            c.explore = 0.5;
            let picks = choose(pool, &c, &mut ChaCha8Rng::seed_from_u64(1));
            assert_eq!((picks.len(), spread(&picks)), (4, 2), "{picks:?}");
            // 4 × 0.3 = 1.2 rounds to one space-filling run.
            c.explore = 0.3;
            assert_eq!(spread(&choose(pool, &c, &mut ChaCha8Rng::seed_from_u64(1))), 1);
            c.explore = 1.0;
            assert_eq!(spread(&choose(pool, &c, &mut ChaCha8Rng::seed_from_u64(1))), 4);
            assert!(check_explore(1.5).is_err() && check_explore(f64::NAN).is_err() && check_explore(0.25).is_ok());
            assert_eq!(describe_choice(&serde_json::json!({})), "the frontier strategy");
            assert_eq!(describe_choice(&serde_json::json!({"explore": 0.25})), "the frontier strategy, 25% of each round space-filling");
            assert_eq!(describe_choice(&serde_json::json!({"strategy": "grid", "explore": 0.5})), "the grid strategy");
        });
    }

    #[test]
    fn the_misspecification_surface_has_its_spread_and_is_smooth() {
        // 400 points uniform in a cube of side 3.4 (about ±1.7 standard deviations, as standardised inputs).
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let xs: Vec<Vec<f64>> = (0..400).map(|_| (0..3).map(|_| 3.4 * crate::fit::uniform(&mut rng) - 1.7).collect()).collect();
        let m = misspecification(&xs, 0.02, 5);
        let mean = m.iter().sum::<f64>() / 400.0;
        let sd = (m.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 400.0).sqrt();
        assert!(mean.abs() < 1e-12 && (sd - 0.02).abs() < 1e-12, "mean {mean}, sd {sd}");
        assert_eq!(m, misspecification(&xs, 0.02, 5), "fixed by its seed");
        assert_ne!(m, misspecification(&xs, 0.02, 6));
        // Smooth with length 1: E[(f(x) − f(y))²] = 2σ²(1 − exp(−|x − y|²/2)). Pairs closer than 0.3
        // (mean |x − y|² = 3/5 · 0.09) differ by ≈ 0.05σ² on average; all pairs (mean |x − y|² = 6 · 3.4²/12
        // = 5.8) by ≈ 1.5σ². Independent noise would give 2σ² for both.
        let (mut near, mut all) = ((0.0, 0), (0.0, 0));
        for i in 0..400 {
            for j in 0..i {
                let d2 = distance2(&xs[i], &xs[j]);
                let diff2 = (m[i] - m[j]).powi(2);
                all = (all.0 + diff2, all.1 + 1);
                if d2 < 0.09 {
                    near = (near.0 + diff2, near.1 + 1);
                }
            }
        }
        let (near, all) = (near.0 / near.1 as f64, all.0 / all.1 as f64);
        assert!(near < 0.2 * all, "near pairs {near:e}, all pairs {all:e}");
        assert!(all > 0.02f64.powi(2), "{all:e}");
    }

    #[test]
    fn space_filling_spreads_and_respects_the_budget() {
        with_grid_pool(|pool| {
            let picks = space_filling(pool, &BTreeSet::new(), 8, 5.0);
            assert_eq!(picks.len(), 5, "five runs of cost 1 fit a budget of 5");
            // Every pick after the first is at least as far from the others as any later one was.
            let scores: Vec<f64> = picks.iter().skip(1).map(|p| p.score).collect();
            assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
            let distinct: BTreeSet<usize> = picks.iter().map(|p| p.index).collect();
            assert_eq!(distinct.len(), 5);
        });
    }

    #[test]
    fn a_simulated_campaign_recovers_the_frontier_of_a_well_specified_law() {
        // Noise-free runs from the published law: the space-filling start plus two rounds of the
        // frontier strategy fit the law exactly enough that the chosen frontier's regret is tiny.
        let (cands, points) = grid_pool();
        let costs = vec![1.0; cands.len()];
        let sim = Simulation {
            truth: Law::paper(),
            noise: 0.0,
            candidates: &cands,
            points: &points,
            costs: &costs,
            interval: None,
            initial: 16,
            batch: 4,
            max_runs: 24,
            bootstrap: 10,
            restarts: 8,
            draws: 20,
            explore: 0.0,
        };
        let t = simulate(&sim, Strategy::Frontier, 1);
        assert_eq!(t.errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![16, 20, 24]);
        assert!(t.errors.last().unwrap().1 < 0.01, "{:?}", t.errors);
    }
}
