//! Evaluating latency and loss for 50,000 candidates and extracting the Pareto set.
//! Target (issue 3): at most 20 ms on one core (goal 10 ms). Run: `cargo bench -p rooflaw --bench frontier`.
#![allow(clippy::unwrap_used)] // reason: benchmark setup on embedded data

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rooflaw::calibrate::builtin_calibration;
use rooflaw::frontier::{pareto_2d, Budget, Evaluator, Objective};
use rooflaw::law::Law;
use rooflaw::space::{find_space, latin_hypercube, DesignSpace};
use rooflaw::uncertain::{uncertain_frontier, Settings};
use rooflaw::{Catalogue, Level, Precision, Target, Workload};

fn bench(c: &mut Criterion) {
    let cat = Catalogue::default();
    let target = Target::new(cat.get("jetson-agx-orin-64gb").unwrap(), None, Workload::PAPER, Precision::FP16).unwrap();
    let DesignSpace::Continuous(space) = find_space("wide").unwrap() else { unreachable!("wide is continuous") };
    let candidates = latin_hypercube(space, 50_000, 1);
    let eff = builtin_calibration().efficiency;
    let mut group = c.benchmark_group("frontier-50k");
    group.sample_size(20);
    for level in [Level::Paper, Level::Roofline] {
        for objective in Objective::ALL {
            let ev = Evaluator { target: &target, level, efficiency: eff, law: Law::paper(), objective };
            group.bench_function(format!("{}/{}", level.name(), objective.name()), |b| {
                b.iter(|| {
                    let points = ev.evaluate(black_box(&candidates));
                    pareto_2d(&points).len()
                })
            });
        }
    }
    // Where the time goes (roofline level, total objective).
    let ev = Evaluator { target: &target, level: Level::Roofline, efficiency: eff, law: Law::paper(), objective: Objective::Total };
    let points = ev.evaluate(&candidates);
    group.bench_function("parts/evaluate-only", |b| b.iter(|| ev.evaluate(black_box(&candidates)).len()));
    group.bench_function("parts/pareto-only", |b| b.iter(|| pareto_2d(black_box(&points)).len()));
    group.bench_function("parts/loss-only", |b| {
        b.iter(|| candidates.iter().map(|c| Law::paper().loss(&rooflaw::law::LawInputs::of(&c.arch))).sum::<f64>())
    });
    group.bench_function("parts/memory-only", |b| {
        b.iter(|| {
            candidates
                .iter()
                .map(|c| rooflaw::roofline::memory_footprint(&c.arch, &target.workload, &target.precision).total_bytes)
                .sum::<f64>()
        })
    });
    // The uncertain frontier (issue 12): 100 draws, a law with 100 bootstrap sets (the published
    // coefficients jittered by up to ±5%) or none, and the built-in calibration's interval of decode.
    let mut law = Law::paper().clone();
    let base = law.coefficients.to_array();
    law.bootstrap = (0..100).map(|k| base.map(|c| c * (1.0 + 0.05 * ((k * 37 % 101) as f64 / 50.0 - 1.0)))).collect();
    let interval = builtin_calibration().objective_interval(Objective::Decode);
    assert!(interval.is_some(), "the built-in profile has decode rows");
    let budget = Budget { latency_secs: Some(0.5), memory_bytes: None };
    let best = rooflaw::frontier::best_feasible(&points, &budget);
    group.bench_function("uncertain/100-draws-published-law", |b| {
        b.iter(|| {
            let s = Settings { draws: 100, seed: 0, interval: interval.as_ref(), budget: &budget, best };
            uncertain_frontier(Law::paper(), black_box(&candidates), &points, &s).possible
        })
    });
    group.bench_function("uncertain/100-draws-bootstrap-law", |b| {
        b.iter(|| {
            let s = Settings { draws: 100, seed: 0, interval: interval.as_ref(), budget: &budget, best };
            uncertain_frontier(&law, black_box(&candidates), &points, &s).possible
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
