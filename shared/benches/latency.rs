//! Latency of evaluating one candidate: prefill plus every decode step, at each model level.
//! Target (issue 2): at least one million candidate evaluations per second on one core.
//! Run: `cargo bench -p rooflaw --bench latency`.
#![allow(clippy::unwrap_used)] // reason: benchmark setup on embedded data

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rooflaw::calibrate::builtin_calibration;
use rooflaw::models::find_model;
use rooflaw::roofline::latency;
use rooflaw::{Catalogue, Level, Precision, Target, Workload};

fn bench(c: &mut Criterion) {
    let cat = Catalogue::default();
    let target = Target::new(cat.get("jetson-agx-orin-64gb").unwrap(), None, Workload::PAPER, Precision::FP16).unwrap();
    let eff = builtin_calibration().efficiency;
    for id in ["qwen2.5-0.5b", "olmoe-1b-7b"] {
        let arch = find_model(id).unwrap().architecture().unwrap();
        for level in Level::ALL {
            c.bench_function(&format!("latency/{id}/{}", level.name()), |b| {
                b.iter(|| latency(black_box(&arch), black_box(&target), level, black_box(&eff)))
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
