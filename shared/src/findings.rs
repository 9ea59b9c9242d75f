//! Statistics of a frontier that the paper reports as findings (SCIENCE.md §5): share of MoE designs,
//! depth range, width saturation, preferred top-K, expert counts, FFN ratios, and the INT8 shift.

use serde::Serialize;

use crate::frontier::Point;
use crate::space::Candidate;

/// Summary of one frontier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrontierFindings {
    /// Frontier size.
    pub size: usize,
    /// Share of MoE designs (E > 1).
    pub moe_share: f64,
    /// Smallest and largest depth on the frontier.
    pub depth_range: (u64, u64),
    /// Share with fewer than 20 layers.
    pub depth_below_20_share: f64,
    /// Share whose width is the largest width present among all candidates.
    pub max_width_share: f64,
    /// Depth of the fastest frontier design that reaches the largest width (None if none does).
    pub depth_when_width_saturates: Option<u64>,
    /// Share with top-1 routing among MoE frontier designs.
    pub top1_share_of_moe: f64,
    /// (E, count) on the frontier, by E.
    pub experts_histogram: Vec<(u64, usize)>,
    /// Median E on the frontier.
    pub median_experts: u64,
    /// Share with r < 4 and with r < 1.
    pub ffn_below_4_share: f64,
    /// Share with r < 1.
    pub ffn_below_1_share: f64,
    /// Latency span of the frontier (fastest, slowest).
    pub latency_range_secs: (f64, f64),
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

/// Summarises the frontier `front` (indices into `candidates`, by increasing latency).
pub fn summarise(candidates: &[Candidate], points: &[Point], front: &[usize]) -> FrontierFindings {
    let archs: Vec<_> = front.iter().map(|&i| &candidates[i].arch).collect();
    let n = archs.len();
    let max_width = candidates.iter().map(|c| c.arch.d_model).max().unwrap_or(0);
    let moe: Vec<_> = archs.iter().filter(|a| a.is_moe()).collect();
    let mut experts: Vec<u64> = archs.iter().map(|a| a.experts).collect();
    experts.sort_unstable();
    let mut hist: Vec<(u64, usize)> = Vec::new();
    for e in &experts {
        match hist.last_mut() {
            Some((v, c)) if v == e => *c += 1,
            _ => hist.push((*e, 1)),
        }
    }
    FrontierFindings {
        size: n,
        moe_share: share(moe.len(), n),
        depth_range: (archs.iter().map(|a| a.layers).min().unwrap_or(0), archs.iter().map(|a| a.layers).max().unwrap_or(0)),
        depth_below_20_share: share(archs.iter().filter(|a| a.layers < 20).count(), n),
        max_width_share: share(archs.iter().filter(|a| a.d_model == max_width).count(), n),
        depth_when_width_saturates: archs.iter().find(|a| a.d_model == max_width).map(|a| a.layers),
        top1_share_of_moe: share(moe.iter().filter(|a| a.active_experts == 1).count(), moe.len()),
        experts_histogram: hist,
        median_experts: experts.get(n / 2).copied().unwrap_or(0),
        ffn_below_4_share: share(archs.iter().filter(|a| a.ffn_ratio() < 4.0 - 1e-9).count(), n),
        ffn_below_1_share: share(archs.iter().filter(|a| a.ffn_ratio() < 1.0 - 1e-9).count(), n),
        latency_range_secs: (front.first().map_or(0.0, |&i| points[i].latency_secs), front.last().map_or(0.0, |&i| points[i].latency_secs)),
    }
}

/// How much faster one frontier is than another at equal loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shift {
    /// Loss levels compared (the slower frontier's points that the faster frontier can match).
    pub levels: usize,
    /// Median of latency(slow) / latency(fast) at equal loss.
    pub median_speedup: f64,
    /// Smallest ratio.
    pub min_speedup: f64,
    /// Largest ratio.
    pub max_speedup: f64,
}

/// For each point of the `slow` frontier, the fastest `fast` frontier point with loss at most as high;
/// the ratio of latencies. None when no level can be matched.
pub fn shift(slow_points: &[Point], slow_front: &[usize], fast_points: &[Point], fast_front: &[usize]) -> Option<Shift> {
    let mut ratios: Vec<f64> = slow_front
        .iter()
        .filter_map(|&i| {
            let p = slow_points[i];
            fast_front
                .iter()
                .map(|&j| fast_points[j])
                .filter(|q| q.loss <= p.loss)
                .map(|q| q.latency_secs)
                .reduce(f64::min)
                .map(|t| p.latency_secs / t)
        })
        .collect();
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    Some(Shift {
        levels: ratios.len(),
        median_speedup: ratios[ratios.len() / 2],
        min_speedup: ratios[0],
        max_speedup: ratios[ratios.len() - 1],
    })
}
