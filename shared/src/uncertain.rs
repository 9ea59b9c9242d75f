//! The uncertain frontier: which candidates are Pareto-optimal once the law's and the latency model's
//! errors are taken into account (issue 12).
//!
//! Each of `draws` Monte Carlo draws takes
//! - one of the law's bootstrap coefficient sets ([`Law::bootstrap`]; a law without them, such as the
//!   published one, is taken as exact), and
//! - one latency factor from the calibration's leave-one-out residuals ([`Interval`]): with their mean
//!   r̄, standard deviation s and count n, exp(r̄ + s·√(1 + 1/n)·z), the spread of a new design's log
//!   ratio behind the 90% interval. The factor is common to every candidate: the candidates of a design
//!   space are one family of shapes run by one engine build, so the calibrated model's error on them
//!   moves together (the residuals measure how far it is off on *published* models, each with its own
//!   quirks of quantisation and kernels). Drawing it independently per candidate was tried: at the
//!   built-in MLC profile's spread (s = 0.22) it called 6,207 of the 6,560 designs of the Table 5 grid
//!   "possibly optimal" and drew a frontier that was optimistic by construction, the envelope of
//!   thousands of lucky draws.
//!
//! So latency errors move the frontier along the latency axis (its band) and decide the best design's
//! odds of meeting a budget, while who is on the frontier, P(Pareto), follows the law's uncertainty: a
//! candidate's P(Pareto) is the share of draws in which no other candidate has both a lower loss and a
//! lower latency.
//!
//! Fast at 50,000 candidates: the law is evaluated factorised. Every term of Eq. 2 is a product of
//! powers of single inputs, and a design space has few distinct values of most inputs, so a draw costs
//! one table of powers per input and a few multiplications per candidate; a common latency factor
//! keeps the candidates' latency order, so each draw's frontier is one sweep in that order.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::calibrate::Interval;
use crate::fit::gaussian;
use crate::frontier::{Budget, Point};
use crate::law::{Law, LawInputs};
use crate::space::Candidate;

/// Draws when a request names none.
pub const DEFAULT_DRAWS: usize = 100;

/// Quantiles of the band and of the loss intervals.
const BAND_LOW: f64 = 0.05;
const BAND_HIGH: f64 = 0.95;

/// Latencies at which the band is reported.
const BAND_POINTS: usize = 48;

/// The latency error model, in natural-log units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LatencySpread {
    /// Mean leave-one-out log ratio (measured/predicted): the profile's own bias.
    pub bias: f64,
    /// Standard deviation of a new design's log ratio, s·√(1 + 1/n).
    pub sd: f64,
}

impl LatencySpread {
    /// The spread behind a calibration's 90% interval (which is exp(r̄ ± t·s·√(1+1/n))).
    pub fn of(interval: &Interval) -> LatencySpread {
        let (lo, hi) = (interval.low.ln(), interval.high.ln());
        let n = interval.rows.max(2) as f64;
        let t = crate::calibrate::t_95(interval.rows);
        let s = (hi - lo) / 2.0 / (t * (1.0 + 1.0 / n).sqrt());
        LatencySpread { bias: (hi + lo) / 2.0, sd: s * (1.0 + 1.0 / n).sqrt() }
    }
}

/// The frontier's band at one latency: quantiles over the draws of the lowest loss reachable within it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BandPoint {
    /// Latency of the objective.
    pub latency_secs: f64,
    /// 5th percentile of the frontier's loss there (None: fewer than 5% of the draws' frontiers reach
    /// this latency; a draw that does not counts as an infinite loss).
    pub low: Option<f64>,
    /// Median (None: fewer than half reach it).
    pub median: Option<f64>,
    /// 95th percentile (None: fewer than 95% reach it).
    pub high: Option<f64>,
}

/// How sure the best feasible design is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BestOdds {
    /// The best feasible candidate at the central estimates (index into the candidates).
    pub index: usize,
    /// Share of draws in which it is the best feasible design.
    pub p_best: f64,
    /// Share of draws in which it meets the latency budget.
    pub p_within_budget: f64,
    /// The candidate that is best in the most draws (it can differ from `index`).
    pub most_often: Option<usize>,
    /// Its share of the draws.
    pub p_most_often: f64,
    /// Share of draws with no feasible candidate.
    pub p_none: f64,
}

/// The uncertain frontier of a set of evaluated candidates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Uncertainty {
    /// Monte Carlo draws.
    pub draws: usize,
    /// Distinct law coefficient sets drawn from (0: the law is taken as exact).
    pub law_draws: usize,
    /// The latency error model (None: latencies taken as exact, e.g. without a calibration interval).
    pub latency: Option<LatencySpread>,
    /// Candidates on the frontier in at least one draw (the others have P(Pareto) = 0).
    pub possible: usize,
    /// The frontier's band: the 5th–95th percentile of its loss at latencies across the frontier.
    pub band: Vec<BandPoint>,
    /// The best feasible design's odds (None without a best design).
    pub best: Option<BestOdds>,
    /// The possible candidates' indices, increasing.
    #[serde(skip)]
    pub kept: Vec<u32>,
    /// P(Pareto) of each possible candidate.
    #[serde(skip)]
    pub p_pareto: Vec<f64>,
    /// 5th and 95th percentile of each possible candidate's loss over the law's draws.
    #[serde(skip)]
    pub loss_interval: Vec<[f64; 2]>,
    /// Every draw's frontier, for the odds under other latency budgets ([`Uncertainty::odds`]).
    #[serde(skip)]
    fronts: Vec<Vec<Entry>>,
    /// Every draw's common latency factor.
    #[serde(skip)]
    common: Vec<f64>,
}

impl Uncertainty {
    /// A candidate's P(Pareto).
    pub fn p_pareto(&self, i: usize) -> f64 {
        self.position(i).map_or(0.0, |k| self.p_pareto[k])
    }

    /// A possible candidate's loss interval (None: never on the frontier).
    pub fn loss_interval(&self, i: usize) -> Option<[f64; 2]> {
        self.position(i).map(|k| self.loss_interval[k])
    }

    fn position(&self, i: usize) -> Option<usize> {
        u32::try_from(i).ok().and_then(|i| self.kept.binary_search(&i).ok())
    }

    /// The odds of candidate `b` (the best feasible one at the central estimates) under a latency budget
    /// alone, from the stored draws (a memory budget changes who competes: [`uncertain_frontier`] with it).
    pub fn odds(&self, points: &[Point], b: usize, latency_budget: Option<f64>) -> BestOdds {
        odds(&self.fronts, b, &self.latency_draws(points, b), latency_budget)
    }

    /// Candidate b's latency in every draw.
    fn latency_draws(&self, points: &[Point], b: usize) -> Vec<f64> {
        self.common.iter().map(|f| points[b].latency_secs * f).collect()
    }
}

/// Eq. 2 evaluated by tables: each input's distinct values once per draw, then lookups per candidate.
struct Factored {
    /// ln of the distinct values of l, d, r, ρ, d_m.
    values: [Vec<f64>; 5],
    /// Each candidate's index into each table.
    index: Vec<[u32; 5]>,
}

impl Factored {
    fn new(inputs: &[LawInputs]) -> Factored {
        let get: [fn(&LawInputs) -> f64; 5] = [|x| x.layers, |x| x.d_model, |x| x.ffn_ratio, |x| x.rho, |x| x.kv_width];
        let values: [Vec<f64>; 5] = get.map(|g| {
            let mut v: Vec<f64> = inputs.iter().map(g).collect();
            v.sort_unstable_by(f64::total_cmp);
            v.dedup();
            v
        });
        let index = inputs
            .iter()
            .map(|x| {
                let mut k = [0u32; 5];
                for (slot, (g, vals)) in k.iter_mut().zip(get.iter().zip(&values)) {
                    *slot = vals.partition_point(|&v| v < g(x)) as u32;
                }
                k
            })
            .collect();
        Factored { values: values.map(|v| v.into_iter().map(f64::ln).collect()), index }
    }

    /// The tables of one coefficient set: κ_l·l^−α_l, d^−β1, d^−β2, r^−α_r, ρ^α_ρ, κ_m·d_m^−α_m.
    fn tables(&self, c: &[f64; 11]) -> Tables {
        let pow = |vals: &Vec<f64>, scale: f64, e: f64| vals.iter().map(|v| scale * (e * v).exp()).collect::<Vec<f64>>();
        Tables {
            layers: pow(&self.values[0], c[0], -c[1]),
            d1: pow(&self.values[1], c[2], -c[4]),
            d2: pow(&self.values[1], c[5], -c[6]),
            r: pow(&self.values[2], 1.0, -c[7]),
            rho: pow(&self.values[3], 1.0, c[3]),
            kv: pow(&self.values[4], c[8], -c[9]),
            l_inf: c[10],
        }
    }
}

struct Tables {
    layers: Vec<f64>,
    d1: Vec<f64>,
    d2: Vec<f64>,
    r: Vec<f64>,
    rho: Vec<f64>,
    kv: Vec<f64>,
    l_inf: f64,
}

impl Tables {
    fn loss(&self, k: &[u32; 5]) -> f64 {
        let [l, d, r, rho, m] = k.map(|v| v as usize);
        self.layers[l] + self.r[r] * (self.rho[rho] * self.d1[d] + self.d2[d]) + self.kv[m] + self.l_inf
    }
}

/// The losses of candidates `which` under each of the law's first `draws` bootstrap sets (one row per
/// candidate; empty rows when the law has no bootstrap).
pub fn loss_draws(law: &Law, candidates: &[Candidate], which: &[usize], draws: usize) -> Vec<Vec<f64>> {
    let laws = &law.bootstrap[..law.bootstrap.len().min(draws)];
    let inputs: Vec<LawInputs> = which.iter().map(|&i| LawInputs::of(&candidates[i].arch)).collect();
    let f = Factored::new(&inputs);
    let mut out = vec![Vec::with_capacity(laws.len()); which.len()];
    for c in laws {
        let t = f.tables(c);
        for (row, k) in out.iter_mut().zip(&f.index) {
            row.push(t.loss(k));
        }
    }
    out
}

/// Settings of [`uncertain_frontier`].
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// Monte Carlo draws.
    pub draws: usize,
    /// Seed.
    pub seed: u64,
    /// The calibration's interval of the objective (None: latencies exact).
    pub interval: Option<&'a Interval>,
    /// The budget for the best design's odds.
    pub budget: &'a Budget,
    /// The best feasible candidate at the central estimates.
    pub best: Option<usize>,
}

/// One candidate in one draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// Candidate index.
    i: u32,
    loss: f64,
    /// Latency, the common factor included.
    latency: f64,
}

struct Model<'a> {
    points: &'a [Point],
    factored: Option<Factored>,
    laws: &'a [[f64; 11]],
    draws: usize,
    common: Vec<f64>,
}

impl Model<'_> {
    fn tables(&self, d: usize) -> Option<Tables> {
        match &self.factored {
            Some(f) if !self.laws.is_empty() => Some(f.tables(&self.laws[d % self.laws.len()])),
            _ => None,
        }
    }

    fn loss(&self, tables: &Option<Tables>, i: u32) -> f64 {
        match (tables, &self.factored) {
            (Some(t), Some(f)) => t.loss(&f.index[i as usize]),
            _ => self.points[i as usize].loss,
        }
    }

    /// Every draw's frontier over `subset`, by increasing latency: one sweep in the central latency
    /// order (which a common latency factor keeps).
    fn fronts(&self, subset: &[u32]) -> Vec<Vec<Entry>> {
        let mut order = subset.to_vec();
        order.sort_unstable_by(|&a, &b| {
            let (p, q) = (&self.points[a as usize], &self.points[b as usize]);
            p.latency_secs.total_cmp(&q.latency_secs).then(p.loss.total_cmp(&q.loss))
        });
        // The law's table indices in latency order, read sequentially in every draw.
        let index: Option<Vec<[u32; 5]>> = self.factored.as_ref().map(|f| order.iter().map(|&i| f.index[i as usize]).collect());
        let sweep = |d: usize, loss: &mut dyn FnMut(usize) -> f64| -> Vec<Entry> {
            let mut best = f64::INFINITY;
            let mut front = Vec::new();
            for (k, &i) in order.iter().enumerate() {
                let l = loss(k);
                if l < best {
                    best = l;
                    front.push(Entry { i, loss: l, latency: self.points[i as usize].latency_secs * self.common[d] });
                }
            }
            front
        };
        (0..self.draws)
            .map(|d| match (self.tables(d), &index) {
                (Some(t), Some(ix)) => sweep(d, &mut |k| t.loss(&ix[k])),
                _ => sweep(d, &mut |k| self.points[order[k] as usize].loss),
            })
            .collect()
    }
}

/// `n` values from `lo` to `hi`, evenly spaced on a log scale (`lo` throughout when `hi` ≤ `lo`).
pub(crate) fn log_spaced(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n).map(|g| if hi > lo { lo * (hi / lo).powf(g as f64 / (n - 1).max(1) as f64) } else { lo }).collect()
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)]
}

/// P(Pareto) of every candidate, the frontier's band and the best design's odds (see the module notes).
/// `points` are the candidates' central estimates, in the order of `candidates`.
pub fn uncertain_frontier(law: &Law, candidates: &[Candidate], points: &[Point], s: &Settings) -> Uncertainty {
    let draws = s.draws.max(1);
    let laws = &law.bootstrap[..law.bootstrap.len().min(draws)];
    let factored = (!laws.is_empty()).then(|| Factored::new(&candidates.iter().map(|c| LawInputs::of(&c.arch)).collect::<Vec<_>>()));
    let spread = s.interval.map(LatencySpread::of);
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let common: Vec<f64> = (0..draws).map(|_| spread.map_or(1.0, |sp| (sp.bias + sp.sd * gaussian(&mut rng)).exp())).collect();
    let model = Model { points, factored, laws, draws, common };

    let all: Vec<u32> =
        (0..points.len() as u32).filter(|&i| points[i as usize].loss.is_finite() && points[i as usize].latency_secs.is_finite()).collect();
    let fronts = model.fronts(&all);
    let mut hits: BTreeMap<u32, usize> = BTreeMap::new();
    for f in &fronts {
        for e in f {
            *hits.entry(e.i).or_default() += 1;
        }
    }
    let kept: Vec<u32> = hits.keys().copied().collect();
    let mut losses = vec![Vec::with_capacity(draws); kept.len()];
    for d in 0..draws {
        let t = model.tables(d);
        for (v, &i) in losses.iter_mut().zip(&kept) {
            v.push(model.loss(&t, i));
        }
    }
    let loss_interval = losses
        .into_iter()
        .map(|mut v| {
            v.sort_unstable_by(f64::total_cmp);
            [quantile(&v, BAND_LOW), quantile(&v, BAND_HIGH)]
        })
        .collect();
    let memory_fronts = s.budget.memory_bytes.filter(|_| s.best.is_some()).map(|m| {
        let subset: Vec<u32> = all.iter().copied().filter(|&i| points[i as usize].memory_bytes <= m).collect();
        model.fronts(&subset)
    });
    let mut u = Uncertainty {
        draws,
        law_draws: laws.len(),
        latency: spread,
        possible: kept.len(),
        band: band(&fronts, points),
        best: None,
        p_pareto: kept.iter().map(|i| hits[i] as f64 / draws as f64).collect(),
        kept,
        loss_interval,
        fronts,
        common: model.common,
    };
    u.best = s.best.map(|b| odds(memory_fronts.as_ref().unwrap_or(&u.fronts), b, &u.latency_draws(points, b), s.budget.latency_secs));
    u
}

/// The 5th, 50th and 95th percentiles over the draws of each draw's frontier loss at latencies spread
/// (log-evenly) over the range of the central estimates of the frontiers' members.
fn band(fronts: &[Vec<Entry>], points: &[Point]) -> Vec<BandPoint> {
    let (lo, hi) =
        fronts.iter().flatten().map(|e| points[e.i as usize].latency_secs).fold((f64::INFINITY, 0.0f64), |(a, b), t| (a.min(t), b.max(t)));
    if !(lo > 0.0 && hi.is_finite() && hi >= lo) {
        return Vec::new();
    }
    let grid = log_spaced(lo, hi, BAND_POINTS);
    let mut at = vec![vec![f64::INFINITY; fronts.len()]; grid.len()];
    for (d, front) in fronts.iter().enumerate() {
        let (mut j, mut current) = (0, f64::INFINITY);
        for (g, &x) in grid.iter().enumerate() {
            while j < front.len() && front[j].latency <= x {
                current = front[j].loss;
                j += 1;
            }
            at[g][d] = current;
        }
    }
    grid.iter()
        .zip(at)
        .map(|(&x, mut v)| {
            v.sort_unstable_by(f64::total_cmp);
            let q = |p: f64| Some(quantile(&v, p)).filter(|y| y.is_finite());
            BandPoint { latency_secs: x, low: q(BAND_LOW), median: q(0.5), high: q(BAND_HIGH) }
        })
        .collect()
}

/// The odds of the central best design `b` (its latency in each draw: `latency_b`): in each draw the
/// best feasible design is the slowest point of that draw's frontier (over the memory-feasible
/// candidates) within the latency budget.
fn odds(fronts: &[Vec<Entry>], b: usize, latency_b: &[f64], latency_budget: Option<f64>) -> BestOdds {
    let draws = fronts.len();
    let limit = latency_budget.unwrap_or(f64::INFINITY);
    let mut wins: BTreeMap<u32, usize> = BTreeMap::new();
    let mut none = 0usize;
    for front in fronts {
        match front.iter().rev().find(|e| e.latency <= limit) {
            Some(e) => *wins.entry(e.i).or_default() += 1,
            None => none += 1,
        }
    }
    let share = |c: usize| c as f64 / draws as f64;
    let most = wins.iter().max_by_key(|(&i, &w)| (w, std::cmp::Reverse(i))).map(|(&i, &w)| (i as usize, w));
    BestOdds {
        index: b,
        p_best: share(wins.get(&(b as u32)).copied().unwrap_or(0)),
        p_within_budget: share(latency_b.iter().filter(|&&t| t <= limit).count()),
        most_often: most.map(|m| m.0),
        p_most_often: most.map_or(0.0, |m| share(m.1)),
        p_none: share(none),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::find_model;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn candidates(ids: &[&str]) -> Vec<Candidate> {
        ids.iter().map(|id| Candidate { arch: find_model(id).unwrap().architecture().unwrap(), unit: None }).collect()
    }

    fn pt(loss: f64, latency_secs: f64) -> Point {
        Point { loss, latency_secs, memory_bytes: 1e9 }
    }

    /// A calibration interval whose leave-one-out log residuals are `r` (via the same constructor the
    /// calibration uses).
    fn interval_of(r: &[f64]) -> Interval {
        let pairs: Vec<(f64, f64)> = r.iter().map(|x| (x.exp(), 1.0)).collect();
        Interval::from_loo(&pairs).unwrap()
    }

    /// Φ by the Abramowitz–Stegun 26.2.17 approximation (error < 7.5e-8).
    fn phi(x: f64) -> f64 {
        let t = 1.0 / (1.0 + 0.231_641_9 * x.abs());
        let poly = t * (0.319_381_530 + t * (-0.356_563_782 + t * (1.781_477_937 + t * (-1.821_255_978 + t * 1.330_274_429))));
        let tail = (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * poly;
        if x >= 0.0 {
            1.0 - tail
        } else {
            tail
        }
    }

    #[test]
    fn the_latency_spread_is_the_residuals_mean_and_deviation() {
        // Residuals 0.1, −0.05, 0.2, 0.0, 0.15: mean 0.08, sample sd = sqrt(0.0430/4) = 0.10368, and a
        // new design's log ratio has sd 0.10368·√(1 + 1/5) = 0.11358.
        let r = [0.1, -0.05, 0.2, 0.0, 0.15];
        let s = LatencySpread::of(&interval_of(&r));
        assert!((s.bias - 0.08).abs() < 1e-9, "{s:?}");
        assert!((s.sd - 0.113_578).abs() < 1e-5, "{s:?}");
    }

    #[test]
    fn the_tables_give_eq2() {
        let c = candidates(&["qwen2.5-0.5b", "llama-3.2-1b", "qwen3-0.6b", "smollm2-360m"]);
        let inputs: Vec<LawInputs> = c.iter().map(|c| LawInputs::of(&c.arch)).collect();
        let f = Factored::new(&inputs);
        let mut law = Law::paper().clone();
        law.coefficients.alpha_l = 1.1;
        law.coefficients.kappa_rho = 0.5;
        let t = f.tables(&law.coefficients.to_array());
        for (x, k) in inputs.iter().zip(&f.index) {
            assert!((t.loss(k) - law.loss(x)).abs() < 1e-12, "{} vs {}", t.loss(k), law.loss(x));
        }
    }

    #[test]
    fn a_common_latency_factor_moves_the_frontier_but_not_its_members() {
        // Exact law: the frontier is A, B, D whatever the latency factor; C is dominated by B.
        let r = [0.3, -0.3, 0.2, -0.2, 0.0];
        let interval = interval_of(&r);
        let points = [pt(3.0, 1.0), pt(2.9, 1.2), pt(2.95, 1.5), pt(2.8, 2.0)];
        let c = candidates(&["qwen2.5-0.5b", "llama-3.2-1b", "qwen3-0.6b", "smollm2-360m"]);
        let budget = Budget::default();
        let u = uncertain_frontier(
            Law::paper(),
            &c,
            &points,
            &Settings { draws: 200, seed: 7, interval: Some(&interval), budget: &budget, best: None },
        );
        assert_eq!([0, 1, 2, 3].map(|i| u.p_pareto(i)), [1.0, 1.0, 0.0, 1.0]);
        assert_eq!(u.possible, 3);
        // The band moves along the latency axis: just below 2 s (the slowest design's central latency)
        // some draws have not reached D yet, so the band's top there is B's loss and its bottom D's.
        let at = u.band.iter().rev().find(|b| b.latency_secs < 1.95).unwrap();
        assert_eq!((at.low, at.high), (Some(2.8), Some(2.9)));
    }

    #[test]
    fn the_law_bootstrap_decides_the_order_of_losses() {
        // Exact latencies; B is slower. Four coefficient sets: in three of them A (more layers) has the
        // lower loss, so A is on the frontier in 3 of 4 draws and B in all of them.
        let c = candidates(&["llama-3.2-1b", "qwen2.5-0.5b"]);
        let inputs: Vec<LawInputs> = c.iter().map(|c| LawInputs::of(&c.arch)).collect();
        let base = Law::paper().coefficients.to_array();
        let (mut a_wins, mut b_wins) = (base, base);
        // Make one term dominate so that the order is set by hand: a huge depth term favours the deeper.
        a_wins[0] = 50.0;
        b_wins[0] = 0.0;
        b_wins[8] = 0.0;
        b_wins[2] = 0.0;
        let deeper = if inputs[0].layers > inputs[1].layers { 0 } else { 1 };
        let mut law = Law::paper().clone();
        law.bootstrap = vec![a_wins, a_wins, a_wins, b_wins];
        let loss = |c: &[f64; 11], x: &LawInputs| {
            let mut l = Law::paper().clone();
            l.coefficients = crate::law::Coefficients::from_array(*c);
            l.loss(x)
        };
        // The premise, checked with Eq. 2 itself.
        assert!(loss(&a_wins, &inputs[deeper]) < loss(&a_wins, &inputs[1 - deeper]));
        assert!(loss(&b_wins, &inputs[deeper]) > loss(&b_wins, &inputs[1 - deeper]));
        let mut points = [pt(0.0, 0.0), pt(0.0, 0.0)];
        points[deeper] = pt(loss(&base, &inputs[deeper]), 2.0);
        points[1 - deeper] = pt(loss(&base, &inputs[1 - deeper]), 1.0);
        let budget = Budget::default();
        let u = uncertain_frontier(&law, &c, &points, &Settings { draws: 4, seed: 0, interval: None, budget: &budget, best: None });
        assert_eq!(u.law_draws, 4);
        assert_eq!(u.p_pareto(deeper), 0.75);
        assert_eq!(u.p_pareto(1 - deeper), 1.0);
        let [lo, hi] = u.loss_interval(deeper).unwrap();
        assert!(lo <= loss(&a_wins, &inputs[deeper]) + 1e-12 && hi >= loss(&b_wins, &inputs[deeper]) - 1e-12);
    }

    #[test]
    fn without_errors_the_band_is_the_frontier_and_the_best_is_certain() {
        let points = [pt(3.0, 0.01), pt(2.8, 0.02), pt(2.7, 0.04), pt(2.9, 0.05)];
        let c = candidates(&["qwen2.5-0.5b", "llama-3.2-1b", "qwen3-0.6b", "smollm2-360m"]);
        let budget = Budget { latency_secs: Some(0.03), memory_bytes: None };
        let u =
            uncertain_frontier(Law::paper(), &c, &points, &Settings { draws: 10, seed: 0, interval: None, budget: &budget, best: Some(1) });
        assert_eq!(u.band.first().unwrap().median, Some(3.0));
        assert_eq!(u.band.last().unwrap().median, Some(2.7));
        assert!(u.band.iter().all(|b| b.low == b.high));
        let best = u.best.unwrap();
        assert_eq!((best.p_best, best.p_within_budget, best.p_none, best.most_often), (1.0, 1.0, 0.0, Some(1)));
        assert_eq!((u.p_pareto(0), u.p_pareto(1), u.p_pareto(2), u.p_pareto(3)), (1.0, 1.0, 1.0, 0.0));
    }

    #[test]
    fn a_memory_budget_takes_the_designs_that_exceed_it_out_of_the_race() {
        // B has the lower loss and fits the latency budget but not the memory budget: A is best in
        // every draw, and the stored draws' odds under the latency budget alone name B instead.
        let points =
            [Point { loss: 3.0, latency_secs: 0.01, memory_bytes: 1e9 }, Point { loss: 2.9, latency_secs: 0.011, memory_bytes: 5e9 }];
        let c = candidates(&["qwen2.5-0.5b", "llama-3.2-1b"]);
        let interval = interval_of(&[0.02, -0.02, 0.01, -0.01, 0.0]);
        let budget = Budget { latency_secs: Some(1.0), memory_bytes: Some(2e9) };
        let u = uncertain_frontier(
            Law::paper(),
            &c,
            &points,
            &Settings { draws: 50, seed: 2, interval: Some(&interval), budget: &budget, best: Some(0) },
        );
        let best = u.best.unwrap();
        assert_eq!((best.p_best, best.most_often, best.p_within_budget), (1.0, Some(0), 1.0));
        let latency_only = u.odds(&points, 0, Some(1.0));
        assert_eq!((latency_only.p_best, latency_only.most_often), (0.0, Some(1)));
    }

    #[test]
    fn the_odds_of_meeting_a_budget_follow_the_two_factors() {
        // One design at 0.1 s against a 0.11 s budget: P(r̄ + s·√(1 + 1/n)·z ≤ ln 1.1), with s the
        // sample sd of the residuals, computed here from them.
        let r = [0.1, -0.05, 0.2, 0.0, 0.15, 0.05, -0.1, 0.12];
        let interval = interval_of(&r);
        let sp = LatencySpread::of(&interval);
        let points = [pt(3.0, 0.1)];
        let c = candidates(&["qwen2.5-0.5b"]);
        let budget = Budget { latency_secs: Some(0.11), memory_bytes: None };
        let u = uncertain_frontier(
            Law::paper(),
            &c,
            &points,
            &Settings { draws: 4000, seed: 3, interval: Some(&interval), budget: &budget, best: Some(0) },
        );
        let n = r.len() as f64;
        let mean = r.iter().sum::<f64>() / n;
        let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() * (1.0 + 1.0 / n).sqrt();
        assert!((sp.sd - sd).abs() < 1e-3 * sd && (sp.bias - mean).abs() < 1e-9, "{sp:?}");
        let expected = phi((1.1f64.ln() - mean) / sd);
        let best = u.best.unwrap();
        assert!((best.p_within_budget - expected).abs() < 0.025, "{} vs {expected}", best.p_within_budget);
        assert!((best.p_best - best.p_within_budget).abs() < 1e-12 && (best.p_none - (1.0 - expected)).abs() < 0.025);
    }
}
