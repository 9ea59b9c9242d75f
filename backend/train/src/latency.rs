//! The burn engine of `rooflaw measure latency`, and the GEMM ceiling of `rooflaw measure roofline`: the
//! trainer's model with random weights (latency does not depend on their values) and a KV cache, timed
//! by the protocol of `rooflaw_measure::record`: a warm-up, then per repeat a prefill and every decode
//! step, each step sampling its next token on the host as a generation loop does (which also waits for
//! a GPU to finish).

use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use burn::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rooflaw::precision::Precision;
use rooflaw::roofline::memory_footprint;
use rooflaw::workload::Workload;
use rooflaw::Architecture;
use rooflaw_measure::energy::{Energy, Meter, PhaseEnergy};
use rooflaw_measure::host::{self, Host};
use rooflaw_measure::record::{Identity, LatencyPlan, LatencyRecord, Load, PhaseTimes};

use crate::model::{LanguageModel, ModelOptions};
use crate::trainer::Backend;

/// The burn version this crate pins (Cargo.toml: `burn = "=0.22.1"`), recorded with every measurement.
pub const BURN_VERSION: &str = "0.22.1";

/// Where a measurement is recorded: the device id and power mode it speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Device id (e.g. one saved by `measure roofline --save-device`).
    pub device: String,
    /// Power mode.
    pub power_mode: String,
}

fn random_tokens(rng: &mut ChaCha8Rng, vocab: u64, b: usize, t: usize, device: &Device) -> Tensor<2, Int> {
    let ids: Vec<i64> = (0..b * t).map(|_| (rng.next_u64() % vocab) as i64).collect();
    Tensor::from_data(TensorData::new(ids, [b, t]), device)
}

/// Next tokens by greedy sampling, read back to the host: `[b, 1]`.
fn sample(logits: Tensor<2>, device: &Device) -> Result<Tensor<2, Int>> {
    let [b, _] = logits.dims();
    let ids: Vec<i64> = logits.argmax(1).into_data().iter::<i64>().collect();
    if ids.len() != b {
        bail!("the engine sampled {} tokens for {b} sequences", ids.len());
    }
    Ok(Tensor::from_data(TensorData::new(ids, [b, 1]), device))
}

/// Measures `arch` with the burn engine on `backend`.
pub fn measure(arch: &Architecture, backend: Backend, threads: usize, plan: LatencyPlan, place: &Place) -> Result<LatencyRecord> {
    if let Some(why) = crate::model::unsupported(arch) {
        bail!("{why}");
    }
    let fp32 = Precision::preset("fp32")?;
    let workload = Workload::new(plan.batch, plan.depth + plan.prompt, plan.generate)?;
    if backend == Backend::Cpu {
        host::check_fits(
            memory_footprint(arch, &workload, &fp32).total_bytes,
            &format!("{} at fp32 with batch {}", arch.name, plan.batch),
        )?;
    }
    let device = backend.device()?;
    let model = LanguageModel::new(arch, &ModelOptions::default(), &device);
    model.initialize_parameters();
    let (b, capacity) = (plan.batch as usize, plan.final_context() as usize);
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let meter = Meter::start();
    let mut energy = PhaseEnergy::default();
    let mut times = PhaseTimes::default();
    let load_before = host::load1();
    for run in 0..plan.warmup + plan.repeat {
        let timed = run >= plan.warmup;
        let mut cache = model.kv_cache(b, capacity, &device);
        // The context before the prompt, untimed, in chunks that bound the activations.
        let mut filled = 0;
        while filled < plan.depth as usize {
            let t = (plan.depth as usize - filled).min(512);
            let logits =
                model.forward_cached(random_tokens(&mut rng, arch.vocab_size, b, t, &device), &mut cache).map_err(|e| anyhow!(e))?;
            sample(logits, &device)?;
            filled += t;
        }
        let prompt = random_tokens(&mut rng, arch.vocab_size, b, plan.prompt as usize, &device);
        let joules = meter.as_ref().map_or(0.0, Meter::joules);
        let start = Instant::now();
        let logits = model.forward_cached(prompt, &mut cache).map_err(|e| anyhow!(e))?;
        let mut next = sample(logits, &device)?;
        let secs = start.elapsed().as_secs_f64();
        if timed {
            times.prefill.push(secs);
            energy.add(false, meter.as_ref().map_or(0.0, Meter::joules) - joules, secs);
        }
        let mut steps = Vec::with_capacity(plan.generate as usize);
        let (joules, phase) = (meter.as_ref().map_or(0.0, Meter::joules), Instant::now());
        for _ in 0..plan.generate {
            let start = Instant::now();
            let logits = model.forward_cached(next, &mut cache).map_err(|e| anyhow!(e))?;
            next = sample(logits, &device)?;
            steps.push(start.elapsed().as_secs_f64());
        }
        if timed {
            energy.add(true, meter.as_ref().map_or(0.0, Meter::joules) - joules, phase.elapsed().as_secs_f64());
            times.decode.push(steps);
        }
    }
    let load = Load { before: load_before, after: host::load1() };
    let energy = match &meter {
        Ok(m) => energy.finish(
            m.source(),
            plan.batch * plan.prompt * u64::from(plan.repeat),
            plan.batch * plan.generate * u64::from(plan.repeat),
        ),
        Err(why) => Energy::none(why),
    };
    let who = Identity {
        device: place.device.clone(),
        power_mode: place.power_mode.clone(),
        engine: "burn".into(),
        engine_version: format!("burn {BURN_VERSION} ({})", backend_label(backend)),
        backend: backend.name().into(),
        precision: "fp32".into(),
        threads,
    };
    LatencyRecord::assemble(who, arch, plan, times, load, Host::this(), energy)
}

fn backend_label(backend: Backend) -> &'static str {
    match backend {
        Backend::Cpu => "flex",
        Backend::Wgpu => "wgpu",
        Backend::Cuda => "cuda",
    }
}

/// The fastest of `passes` runs of `run`, in seconds.
fn best_secs<T>(passes: usize, run: impl Fn() -> T) -> f64 {
    (0..passes)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(run());
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Achieved FP32 matrix-multiply throughput: the best of `passes` products of two `n × n` matrices on
/// `backend`, in FLOP/s (2n³ per product), after one untimed product.
pub fn gemm_flops(backend: Backend, n: usize, passes: usize) -> Result<f64> {
    if n < 64 || passes == 0 {
        bail!("the GEMM ceiling needs n ≥ 64 and one pass");
    }
    let device = backend.device()?;
    let normal = burn::tensor::Distribution::Normal(0.0, 1.0);
    let (a, b) = (Tensor::<2>::random([n, n], normal, &device), Tensor::<2>::random([n, n], normal, &device));
    // Reading one element back waits for the product (a GPU runs asynchronously).
    let run = || -> f32 { a.clone().matmul(b.clone()).slice([0..1, 0..1]).into_scalar() };
    let check = run();
    if !check.is_finite() {
        bail!("the matrix product gave {check}; this backend's figures are not trustworthy");
    }
    Ok(2.0 * (n as f64).powi(3) / best_secs(passes, run))
}

/// Achieved memory bandwidth of `backend` for an element-wise kernel, c = a + b on `elements` f32 values
/// (STREAM's add: two arrays read, one written), the best of `passes`, in bytes/s. What `measure
/// roofline` uses on a GPU backend, where the CPU kernel of `rooflaw_measure::stream` says nothing.
pub fn add_bandwidth(backend: Backend, elements: usize, passes: usize) -> Result<f64> {
    if elements < 1024 || passes == 0 {
        bail!("the bandwidth kernel needs at least 1024 elements and one pass");
    }
    let device = backend.device()?;
    let (a, b) = (Tensor::<1>::ones([elements], &device), Tensor::<1>::ones([elements], &device) * 2.0);
    let run = || -> f32 { (a.clone() + b.clone()).slice(elements - 1..elements).into_scalar() };
    if run() != 3.0 {
        bail!("the add kernel computed a wrong value; this backend's figures are not trustworthy");
    }
    Ok(3.0 * 4.0 * elements as f64 / best_secs(passes, run))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use rooflaw::ArchitectureSpec;

    use super::*;

    #[test]
    fn the_recorded_burn_version_is_the_pinned_one() {
        assert!(include_str!("../Cargo.toml").contains(&format!("burn = {{ version = \"={BURN_VERSION}\"")));
    }

    #[test]
    fn a_small_model_is_timed_and_recorded() {
        let arch = ArchitectureSpec {
            layers: 2,
            d_model: 64,
            heads: 4,
            kv_heads: Some(2),
            ffn_ratio: Some(2.0),
            vocab_size: 500,
            ..Default::default()
        }
        .validate()
        .unwrap();
        let plan = LatencyPlan::new(2, 16, 5, 8, 1, 3).unwrap();
        let place = Place { device: "test-box".into(), power_mode: "default".into() };
        let r = measure(&arch, Backend::Cpu, 1, plan, &place).unwrap();
        assert_eq!(r.prefill.samples.len(), 3);
        assert_eq!(r.decode.samples.len(), 15);
        assert_eq!(r.decode_repeat_medians.len(), 3);
        assert_eq!((r.row.batch, r.row.prompt_tokens, r.row.generated_tokens), (2, Some(24), Some(5)));
        assert!(r.row.prefill_tokens_per_sec.is_none(), "a prefill from depth 8 is not a calibration row");
        assert_eq!(r.row.engine, "burn");
        assert_eq!(r.engine_version, "burn 0.22.1 (flex)");
        assert!(r.energy.source.is_some() || r.energy.note.starts_with("no power sensor"), "{:?}", r.energy);
        // The prefill of 16 tokens costs more than one decode step.
        assert!(r.prefill.median > r.decode.min, "{} vs {}", r.prefill.median, r.decode.min);
    }

    #[test]
    fn a_model_larger_than_memory_is_refused() {
        let huge = rooflaw::models::find_model("qwen3-30b-a3b").unwrap().architecture().unwrap();
        let plan = LatencyPlan::new(64, 4096, 4096, 0, 0, 1).unwrap();
        let place = Place { device: "d".into(), power_mode: "default".into() };
        let err = measure(&huge, Backend::Cpu, 1, plan, &place).unwrap_err().to_string();
        assert!(err.contains("GB of memory is available"), "{err}");
    }

    #[test]
    fn gemm_reaches_a_plausible_rate() {
        let f = gemm_flops(Backend::Cpu, 256, 3).unwrap();
        assert!(f > 1e8 && f < 1e14, "{f}");
        assert!(gemm_flops(Backend::Cpu, 8, 1).is_err());
        let bw = add_bandwidth(Backend::Cpu, 1 << 20, 3).unwrap();
        assert!(bw > 1e8 && bw < 1e13, "{bw}");
    }
}
