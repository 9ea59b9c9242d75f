//! The loss–latency Pareto frontier (Eq. 5–6): evaluate every candidate's predicted loss, latency for an
//! objective and memory; keep the non-dominated ones (with memory as an optional third objective); cut a
//! feasible set with budgets (the paper's Table 2 scenarios are presets); match a reference model; and
//! refine a sampled frontier where it is sparse until it stops changing (the paper's procedure, §5).

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::arch::Architecture;
use crate::cost::Phase;
use crate::error::{Error, Result};
use crate::law::{perplexity, Law, LawInputs, LossPrediction};
use crate::roofline::{memory_footprint, phase_latency, Efficiency, Level, Target};
use crate::space::{perturb, Candidate, ContinuousSpace, UNIT_DIMS};

/// Which latency is minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Objective {
    /// Prefill of the prompt.
    Prefill,
    /// All S_out decode steps.
    Decode,
    /// Prefill plus decode.
    Total,
}

impl Objective {
    /// All objectives.
    pub const ALL: [Objective; 3] = [Objective::Prefill, Objective::Decode, Objective::Total];

    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Prefill => "prefill",
            Objective::Decode => "decode",
            Objective::Total => "total",
        }
    }

    /// Parses `prefill|decode|total`.
    pub fn parse(s: &str) -> Result<Objective> {
        Objective::ALL.into_iter().find(|o| o.name() == s.trim().to_ascii_lowercase()).ok_or_else(|| Error::Unknown {
            kind: "objective",
            name: s.to_string(),
            fix: "use prefill, decode or total".to_string(),
        })
    }
}

/// How candidates are priced: a target, a level (with its calibration), a law and an objective.
#[derive(Debug, Clone)]
pub struct Evaluator<'a> {
    /// Device, workload, precision.
    pub target: &'a Target,
    /// Latency model level.
    pub level: Level,
    /// Calibration (used by the calibrated level).
    pub efficiency: Efficiency,
    /// Loss law.
    pub law: &'a Law,
    /// Objective.
    pub objective: Objective,
}

/// One evaluated candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Predicted loss.
    pub loss: f64,
    /// Predicted latency of the objective.
    pub latency_secs: f64,
    /// Memory footprint.
    pub memory_bytes: f64,
}

impl Point {
    /// Predicted perplexity, exp(loss).
    pub fn perplexity(&self) -> f64 {
        perplexity(self.loss)
    }
}

impl Evaluator<'_> {
    /// Latency of the objective.
    pub fn latency(&self, a: &Architecture) -> f64 {
        let phase = |p| phase_latency(a, self.target, self.level, &self.efficiency, p);
        match self.objective {
            Objective::Prefill => phase(Phase::Prefill),
            Objective::Decode => phase(Phase::Decode),
            Objective::Total => phase(Phase::Prefill) + phase(Phase::Decode),
        }
    }

    /// Loss, latency and memory of one architecture.
    pub fn point(&self, a: &Architecture) -> Point {
        Point {
            loss: self.law.loss(&LawInputs::of(a)),
            latency_secs: self.latency(a),
            memory_bytes: memory_footprint(a, &self.target.workload, &self.target.precision).total_bytes,
        }
    }

    /// Every candidate's point, in order.
    pub fn evaluate(&self, candidates: &[Candidate]) -> Vec<Point> {
        candidates.iter().map(|c| self.point(&c.arch)).collect()
    }
}

/// A key whose unsigned order is the IEEE total order of `x` (so sorting integers sorts the floats).
fn order_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Indices of the loss–latency Pareto set, by increasing latency: no other point has both lower (or
/// equal, one strictly lower) loss and latency. O(n log n); the sort runs on integer keys, which is
/// about three times faster than a float comparator for 50,000 points.
pub fn pareto_2d(points: &[Point]) -> Vec<usize> {
    let mut keys: Vec<(u64, u64, u32)> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.loss.is_finite() && p.latency_secs.is_finite())
        .map(|(i, p)| (order_key(p.latency_secs), order_key(p.loss), i as u32))
        .collect();
    keys.sort_unstable();
    let mut best = f64::INFINITY;
    let mut out = Vec::new();
    for (_, _, i) in keys {
        let i = i as usize;
        if points[i].loss < best {
            best = points[i].loss;
            out.push(i);
        }
    }
    out
}

/// Indices of the Pareto set over (loss, latency, memory), by increasing latency. Sweeps by latency
/// with a Fenwick tree of the minimum loss over memory ranks: O(n log n).
pub fn pareto_3d(points: &[Point]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].loss.is_finite() && points[i].latency_secs.is_finite() && points[i].memory_bytes.is_finite())
        .collect();
    // Memory ranks (ties share a rank).
    let mut mems: Vec<f64> = idx.iter().map(|&i| points[i].memory_bytes).collect();
    mems.sort_by(f64::total_cmp);
    mems.dedup();
    let rank = |m: f64| mems.partition_point(|&x| x < m);
    idx.sort_unstable_by(|&a, &b| {
        let (p, q) = (&points[a], &points[b]);
        p.latency_secs.total_cmp(&q.latency_secs).then(p.memory_bytes.total_cmp(&q.memory_bytes)).then(p.loss.total_cmp(&q.loss))
    });
    let mut tree = vec![f64::INFINITY; mems.len() + 1];
    let mut out = Vec::new();
    let mut prev: Option<usize> = None;
    for i in idx {
        let p = points[i];
        // Exact duplicates of a kept point are dominated by nothing and keep their first copy only.
        if prev.is_some_and(|j| points[j] == p) {
            continue;
        }
        prev = Some(i);
        let r = rank(p.memory_bytes) + 1;
        // Minimum loss among processed points (latency ≤) with memory ≤ this one's.
        let mut k = r;
        let mut best = f64::INFINITY;
        while k > 0 {
            best = best.min(tree[k]);
            k &= k - 1;
        }
        if p.loss < best {
            out.push(i);
        }
        let mut k = r;
        while k < tree.len() {
            tree[k] = tree[k].min(p.loss);
            k += k & k.wrapping_neg();
        }
    }
    out
}

/// Latency and memory budgets.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Budget {
    /// Largest allowed latency of the objective.
    pub latency_secs: Option<f64>,
    /// Largest allowed memory footprint.
    pub memory_bytes: Option<f64>,
}

impl Budget {
    /// Whether a point fits.
    pub fn admits(&self, p: &Point) -> bool {
        self.latency_secs.is_none_or(|t| p.latency_secs <= t) && self.memory_bytes.is_none_or(|m| p.memory_bytes <= m)
    }
}

/// The lowest-loss point within the budget (ties: the faster one).
pub fn best_feasible(points: &[Point], budget: &Budget) -> Option<usize> {
    (0..points.len())
        .filter(|&i| budget.admits(&points[i]) && points[i].loss.is_finite())
        .min_by(|&a, &b| points[a].loss.total_cmp(&points[b].loss).then(points[a].latency_secs.total_cmp(&points[b].latency_secs)))
}

/// An application budget from the paper's Table 2.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scenario {
    /// Id.
    pub id: &'static str,
    /// What it stands for.
    pub description: &'static str,
    /// Objective the budget applies to.
    pub objective: Objective,
    /// The latency budget.
    pub latency_secs: f64,
}

/// Table 2 of the paper. Decode budgets apply to all S_out decode steps, as Eq. 37 does.
pub const SCENARIOS: [Scenario; 4] = [
    Scenario { id: "embodied-ai", description: "embodied AI: decode under 20 ms", objective: Objective::Decode, latency_secs: 0.020 },
    Scenario { id: "smart-home", description: "smart home: total under 500 ms", objective: Objective::Total, latency_secs: 0.5 },
    Scenario {
        id: "autonomous-driving",
        description: "autonomous driving: total under 100 ms",
        objective: Objective::Total,
        latency_secs: 0.1,
    },
    Scenario { id: "private-serving", description: "private serving: total under 2 s", objective: Objective::Total, latency_secs: 2.0 },
];

/// A Table 2 scenario by id.
pub fn find_scenario(id: &str) -> Result<Scenario> {
    SCENARIOS.iter().copied().find(|s| s.id == id.trim().to_ascii_lowercase()).ok_or_else(|| Error::Unknown {
        kind: "scenario",
        name: id.to_string(),
        fix: format!("use one of {}", SCENARIOS.iter().map(|s| s.id).collect::<Vec<_>>().join(", ")),
    })
}

/// One side of a match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchSide {
    /// The architecture.
    pub architecture: Architecture,
    /// Loss prediction with extrapolation flags.
    pub prediction: LossPrediction,
    /// Latency of the objective.
    pub latency_secs: f64,
    /// Memory footprint.
    pub memory_bytes: f64,
}

/// The best candidate at or below a reference model's latency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchReport {
    /// The reference model.
    pub reference: MatchSide,
    /// The best candidate (None when no candidate is as fast and fits).
    pub best: Option<MatchSide>,
    /// best loss − reference loss (negative: the candidate is better).
    pub loss_difference: Option<f64>,
    /// best perplexity / reference perplexity.
    pub perplexity_ratio: Option<f64>,
}

fn side(ev: &Evaluator, a: &Architecture, p: &Point) -> MatchSide {
    MatchSide { architecture: a.clone(), prediction: ev.law.predict(a), latency_secs: p.latency_secs, memory_bytes: p.memory_bytes }
}

/// Finds the lowest-loss candidate whose latency is at most the reference's and that fits in memory.
pub fn match_reference(ev: &Evaluator, reference: &Architecture, candidates: &[Candidate], points: &[Point]) -> MatchReport {
    let rp = ev.point(reference);
    let budget = Budget { latency_secs: Some(rp.latency_secs), memory_bytes: Some(ev.target.usable_memory_bytes) };
    let reference = side(ev, reference, &rp);
    let best = best_feasible(points, &budget).map(|i| side(ev, &candidates[i].arch, &points[i]));
    let loss_difference = best.as_ref().map(|b| b.prediction.loss - reference.prediction.loss);
    MatchReport { perplexity_ratio: loss_difference.map(f64::exp), loss_difference, reference, best }
}

/// Refinement settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RefineOptions {
    /// Most rounds.
    pub max_rounds: usize,
    /// Draws around frontier points and in gaps per round.
    pub per_round: usize,
    /// Step of the draws around a point (unit-cube units).
    pub sigma: f64,
    /// Stop when the frontier's mean loss over its latency range changes less than this (relative).
    pub tolerance: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for RefineOptions {
    fn default() -> Self {
        RefineOptions { max_rounds: 20, per_round: 2_000, sigma: 0.03, tolerance: 1e-4, seed: 1 }
    }
}

/// What refinement did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RefineReport {
    /// Rounds run.
    pub rounds: usize,
    /// Valid candidates added.
    pub added: usize,
    /// Frontier size after each round.
    pub frontier_sizes: Vec<usize>,
    /// Whether the frontier stopped changing before `max_rounds`.
    pub converged: bool,
}

/// Mean of the frontier's staircase loss at 64 log-spaced latencies over [lo, hi].
fn staircase_mean(points: &[Point], front: &[usize], lo: f64, hi: f64) -> f64 {
    let mut sum = 0.0;
    for k in 0..64 {
        let t = (lo.ln() + (hi.ln() - lo.ln()) * k as f64 / 63.0).exp();
        let best = front.iter().filter(|&&i| points[i].latency_secs <= t).map(|&i| points[i].loss).fold(f64::INFINITY, f64::min);
        sum += if best.is_finite() { best } else { points[front[0]].loss };
    }
    sum / 64.0
}

/// Adds samples around frontier points and in the largest gaps between them until the frontier stops
/// changing (§5: "repeated sampling in sparse parts of the frontier and around Pareto points").
pub fn refine(
    space: &ContinuousSpace,
    ev: &Evaluator,
    candidates: &mut Vec<Candidate>,
    points: &mut Vec<Point>,
    opts: &RefineOptions,
) -> RefineReport {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut front = pareto_2d(points);
    let mut report = RefineReport { rounds: 0, added: 0, frontier_sizes: vec![front.len()], converged: false };
    if front.is_empty() {
        return report;
    }
    let (lo, hi) = (
        points[front[0]].latency_secs,
        points[*front.last().unwrap_or(&front[0])].latency_secs.max(points[front[0]].latency_secs * 1.0001),
    );
    let mut level = staircase_mean(points, &front, lo, hi);
    for _ in 0..opts.max_rounds {
        let sampled: Vec<[f64; UNIT_DIMS]> = front.iter().filter_map(|&i| candidates[i].unit).collect();
        if sampled.is_empty() {
            break;
        }
        let mut new = Vec::with_capacity(opts.per_round);
        // Half around frontier points, half in the gaps (midpoints of neighbours, largest gaps first).
        let mut gaps: Vec<(f64, usize)> =
            front.windows(2).map(|w| ((points[w[1]].latency_secs / points[w[0]].latency_secs).ln(), w[0])).collect();
        gaps.sort_by(|a, b| b.0.total_cmp(&a.0));
        for k in 0..opts.per_round {
            let center = if k % 2 == 0 || gaps.is_empty() {
                sampled[k / 2 % sampled.len()]
            } else {
                let (_, i) = gaps[(k / 2) % gaps.len().min(16)];
                let pos = front.iter().position(|&f| f == i).unwrap_or(0);
                match (candidates[i].unit, front.get(pos + 1).and_then(|&j| candidates[j].unit)) {
                    (Some(a), Some(b)) => {
                        let mut m = [0.0; UNIT_DIMS];
                        for d in 0..UNIT_DIMS {
                            m[d] = (a[d] + b[d]) / 2.0;
                        }
                        m
                    }
                    _ => sampled[k / 2 % sampled.len()],
                }
            };
            if let Some(c) = perturb(space, &center, opts.sigma, &mut rng) {
                new.push(c);
            }
        }
        report.added += new.len();
        points.extend(ev.evaluate(&new));
        candidates.extend(new);
        front = pareto_2d(points);
        report.rounds += 1;
        report.frontier_sizes.push(front.len());
        let next = staircase_mean(points, &front, lo, hi);
        let change = ((next - level) / level).abs();
        level = next;
        if change < opts.tolerance {
            report.converged = true;
            break;
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pt(loss: f64, latency_secs: f64, memory_bytes: f64) -> Point {
        Point { loss, latency_secs, memory_bytes }
    }

    fn dominated(points: &[Point], i: usize, with_memory: bool) -> bool {
        let p = points[i];
        points.iter().any(|q| {
            let le = q.loss <= p.loss && q.latency_secs <= p.latency_secs && (!with_memory || q.memory_bytes <= p.memory_bytes);
            let lt = q.loss < p.loss || q.latency_secs < p.latency_secs || (with_memory && q.memory_bytes < p.memory_bytes);
            le && lt
        })
    }

    #[test]
    fn pareto_sets_match_the_quadratic_definition() {
        // Pseudo-random points (a fixed LCG), checked against the O(n²) definition of Eq. 5–6.
        let mut s = 12345u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let points: Vec<Point> = (0..600).map(|_| pt(next(), next(), (next() * 20.0).floor())).collect();
        for with_memory in [false, true] {
            let front = if with_memory { pareto_3d(&points) } else { pareto_2d(&points) };
            let want: Vec<usize> = (0..points.len()).filter(|&i| !dominated(&points, i, with_memory)).collect();
            let mut got = front.clone();
            got.sort_unstable();
            assert_eq!(got, want, "memory objective: {with_memory}");
        }
        // The 2-D frontier is ordered by latency with strictly falling loss.
        let f = pareto_2d(&points);
        assert!(f.windows(2).all(|w| points[w[0]].latency_secs <= points[w[1]].latency_secs && points[w[0]].loss > points[w[1]].loss));
    }

    #[test]
    fn budgets_pick_the_best_feasible_point() {
        let points = [pt(3.0, 0.05, 1e9), pt(2.8, 0.09, 2e9), pt(2.7, 0.2, 1e9), pt(2.6, 0.3, 9e9)];
        assert_eq!(best_feasible(&points, &Budget { latency_secs: Some(0.1), memory_bytes: None }), Some(1));
        assert_eq!(best_feasible(&points, &Budget { latency_secs: Some(0.25), memory_bytes: Some(1.5e9) }), Some(2));
        assert_eq!(best_feasible(&points, &Budget { latency_secs: Some(0.01), memory_bytes: None }), None);
        assert_eq!(find_scenario("autonomous-driving").unwrap().latency_secs, 0.1);
        assert!(find_scenario("mars").is_err());
    }
}
