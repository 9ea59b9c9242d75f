//! Training: AdamW with explicit hyperparameters, linear warm-up then cosine decay, clipping by the
//! global gradient norm, gradient accumulation and a budget in tokens; metrics per step in
//! `metrics.jsonl`; checkpoints written atomically and the last K kept; exact resume.
//!
//! A run folder holds `config.json` (what is trained, on what, how), `metrics.jsonl`, `checkpoints/
//! step-NNNNNNNN/` (model, optimizer, state) and, at the end, `run.json`: the run in the `fit`
//! command's format. Batches are a pure function of (seed, step), so the data position and the random
//! state of a resumed run are its step; a resumed run continues the same loss curve.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use rooflaw::api::ModelRequest;
use rooflaw::{Architecture, ArchitectureSpec};
use serde::{Deserialize, Serialize};

use crate::data::{sync_dir, write_atomic, Dataset};
use crate::model::{LanguageModel, ModelOptions};

/// Hyperparameters and budget of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrainOptions {
    /// Token budget: the run takes ⌈tokens / tokens per step⌉ optimizer steps.
    pub tokens: u64,
    /// Sequences per micro-batch.
    pub batch: usize,
    /// Tokens per sequence.
    pub seq: usize,
    /// Micro-batches per optimizer step (gradient accumulation).
    pub accumulation: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Final learning rate as a share of the peak.
    pub min_lr_ratio: f64,
    /// Linear warm-up steps.
    pub warmup: u64,
    /// AdamW β₁.
    pub beta1: f32,
    /// AdamW β₂.
    pub beta2: f32,
    /// AdamW ε (PyTorch's 1e-8; burn's default differs).
    pub eps: f32,
    /// AdamW decoupled weight decay.
    pub weight_decay: f32,
    /// Largest global gradient norm (0: no clipping).
    pub clip_norm: f64,
    /// Weight of the MoE load-balancing loss.
    pub aux_loss_weight: f64,
    /// Seed of the initialisation and of the batches.
    pub seed: u64,
    /// Steps between checkpoints (0: only at the end).
    pub checkpoint_every: u64,
    /// Checkpoints kept.
    pub keep_checkpoints: usize,
    /// Steps between evaluations (0: only at the end).
    pub eval_every: u64,
    /// Validation tokens per evaluation.
    pub eval_tokens: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            tokens: 1_000_000,
            batch: 8,
            seq: 256,
            accumulation: 1,
            lr: 1e-3,
            min_lr_ratio: 0.1,
            warmup: 100,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.1,
            clip_norm: 1.0,
            aux_loss_weight: 0.01,
            seed: 0,
            checkpoint_every: 200,
            keep_checkpoints: 2,
            eval_every: 200,
            eval_tokens: 32_768,
        }
    }
}

impl TrainOptions {
    /// Tokens per optimizer step.
    pub fn tokens_per_step(&self) -> u64 {
        (self.batch * self.seq * self.accumulation) as u64
    }

    /// Optimizer steps of the budget.
    pub fn steps(&self) -> u64 {
        self.tokens.div_ceil(self.tokens_per_step())
    }

    /// Learning rate at `step` (0-based): linear warm-up to `lr`, then cosine decay to `lr · min_lr_ratio`
    /// at the last step.
    pub fn lr_at(&self, step: u64) -> f64 {
        let total = self.steps();
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let span = total.saturating_sub(self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / span).min(1.0);
        let min = self.lr * self.min_lr_ratio;
        min + (self.lr - min) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }

    fn check(&self, data: &Dataset) -> Result<()> {
        if self.batch == 0 || self.seq < 2 || self.accumulation == 0 {
            bail!("--batch, --seq and --accumulation must be at least 1, 2 and 1");
        }
        if self.tokens < (self.batch * self.seq) as u64 {
            bail!(
                "--tokens {} is below one batch ({} × {} = {} tokens); raise --tokens or lower --batch/--seq",
                self.tokens,
                self.batch,
                self.seq,
                self.batch * self.seq
            );
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("--lr {} must be a positive number, e.g. 1e-3", self.lr);
        }
        if data.train.len() <= self.seq + 1 || data.validation.len() <= self.seq + 1 {
            bail!(
                "the data has {} training and {} validation tokens, too few for --seq {}; lower --seq or prepare more text",
                data.train.len(),
                data.validation.len(),
                self.seq
            );
        }
        Ok(())
    }
}

/// Where the run's data lives and what it trains, as saved in `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The architecture (with the data's vocabulary).
    pub architecture: ArchitectureSpec,
    /// The prepared data folder.
    pub data: PathBuf,
    /// Where the run was started (a resume continues there unless told otherwise).
    pub backend: Backend,
    /// Hyperparameters.
    pub options: TrainOptions,
    /// Peak FLOP/s of the device (at the training precision), for MFU; None where it is not known.
    #[serde(default)]
    pub peak_flops_per_sec: Option<f64>,
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Optimizer step (1-based: the step just taken).
    pub step: u64,
    /// Tokens trained on so far.
    pub tokens: u64,
    /// Training loss of the step (cross-entropy, nats per token).
    pub train_loss: f64,
    /// Learning rate of the step.
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Training throughput of the step.
    pub tokens_per_sec: f64,
    /// Model FLOPs utilisation against the device's peak, when the peak is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfu: Option<f64>,
    /// Validation loss, at evaluations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f64>,
    /// Validation perplexity, at evaluations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_perplexity: Option<f64>,
}

/// What a checkpoint records beside the model and the optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CheckpointState {
    step: u64,
    tokens: u64,
    /// Lines of `metrics.jsonl` written up to this step.
    metrics_lines: u64,
}

/// Sum of squares of every parameter's gradient, then (with a scale) the gradients rescaled.
struct GlobalNorm<'a> {
    grads: &'a mut GradientsParams,
    sum: Option<Tensor<1>>,
    scale: Option<f64>,
}

impl ModuleVisitor for GlobalNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        match self.scale {
            None => {
                if let Some(g) = self.grads.get::<D>(param.id) {
                    let s = g.powi_scalar(2).sum();
                    self.sum = Some(match self.sum.take() {
                        Some(acc) => acc + s,
                        None => s,
                    });
                }
            }
            Some(scale) => {
                if let Some(g) = self.grads.remove::<D>(param.id) {
                    self.grads.register::<D>(param.id, g * scale);
                }
            }
        }
    }
}

/// Clips the gradients to a global L2 norm of at most `max` (0: no clipping); returns the norm before.
fn clip_global_norm(model: &LanguageModel, grads: &mut GradientsParams, max: f64) -> f64 {
    let mut v = GlobalNorm { grads, sum: None, scale: None };
    model.visit(&mut v);
    let norm = v.sum.take().map_or(0.0, |s| f64::from(s.into_scalar::<f32>()).sqrt());
    if max > 0.0 && norm > max {
        v.scale = Some(max / (norm + 1e-6));
        model.visit(&mut v);
    }
    norm
}

/// Mean validation loss over the validation windows.
pub fn evaluate(model: &LanguageModel, data: &Dataset, o: &TrainOptions, device: &Device) -> f64 {
    let m = model.valid();
    let (mut sum, mut n) = (0.0f64, 0usize);
    for (rows, tokens) in data.validation_batches(o.batch, o.seq, o.eval_tokens) {
        let t = Tensor::<2, Int>::from_data(TensorData::new(tokens, [rows, o.seq + 1]), device);
        let (ce, _) = m.loss(t);
        sum += f64::from(ce.into_scalar::<f32>()) * rows as f64;
        n += rows;
    }
    sum / n.max(1) as f64
}

/// A library error's debug text on one line.
fn one_line(e: &impl std::fmt::Debug) -> String {
    format!("{e:?}").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The checkpoint folders under `root` (`step-N`, not the `.tmp` ones being written), oldest first.
fn checkpoint_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(root).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    dirs.retain(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("step-") && !n.ends_with(".tmp")));
    dirs.sort();
    dirs
}

/// The last complete checkpoint folder of a run, if any.
fn latest_checkpoint(run: &Path) -> Option<PathBuf> {
    checkpoint_dirs(&run.join("checkpoints")).into_iter().rev().find(|p| p.join("state.json").is_file())
}

/// Writes a checkpoint: into `step-N.tmp/`, synced, then renamed to `step-N/`; older ones beyond `keep`
/// are removed.
fn save_checkpoint(
    run: &Path,
    model: &LanguageModel,
    optim: &burn::optim::ModuleOptimizer,
    state: &CheckpointState,
    keep: usize,
) -> Result<()> {
    let root = run.join("checkpoints");
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    let name = format!("step-{:08}", state.step);
    let tmp = root.join(format!("{name}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    model.clone().save_file(tmp.join("model.bpk")).map_err(|e| anyhow!("cannot save the model: {e:?}"))?;
    let bytes = optim.into_bytes().map_err(|e| anyhow!("cannot encode the optimizer state: {e:?}"))?;
    write_atomic(&tmp.join("optimizer.bin"), &bytes)?;
    write_atomic(&tmp.join("state.json"), serde_json::to_string_pretty(state)?.as_bytes())?;
    sync_dir(&tmp);
    let dst = root.join(&name);
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::rename(&tmp, &dst).with_context(|| format!("cannot move checkpoint {} into place", dst.display()))?;
    sync_dir(&root);
    let mut all = checkpoint_dirs(&root);
    while all.len() > keep.max(1) {
        let old = all.remove(0);
        let _ = std::fs::remove_dir_all(old);
    }
    Ok(())
}

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Steps taken.
    pub steps: u64,
    /// Tokens trained on.
    pub tokens: u64,
    /// The set the validation loss is measured on (`Wikipedia-2016 sample`).
    #[serde(default)]
    pub validation_set: String,
    /// Final validation loss (nats per token).
    pub val_loss: f64,
    /// Final validation perplexity.
    pub val_perplexity: f64,
    /// Unigram entropy of the training data (nats per token), for comparison.
    pub unigram_entropy_nats: f64,
    /// Wall seconds of this process's training.
    pub wall_secs: f64,
}

/// Called after each step (progress display).
/// Called after every step with its metrics and the total number of steps; `Break` stops the run
/// after a checkpoint of that step (e.g. on a signal before a job's time limit), to be resumed later.
pub type OnStep<'a> = &'a mut dyn FnMut(&Metrics, u64) -> ControlFlow<()>;

/// How a call to [`train`] ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The budget was trained and `run.json` written.
    Finished(RunSummary),
    /// Stopped at the caller's request after a checkpoint of this step.
    Stopped {
        /// The step checkpointed.
        step: u64,
    },
}

/// Trains (or resumes) the run in `run` (which must hold `config.json`) to the end of its budget.
pub fn train(run: &Path, device: &Device, on_step: OnStep) -> Result<Outcome> {
    let config: RunConfig = serde_json::from_str(
        &std::fs::read_to_string(run.join("config.json"))
            .with_context(|| format!("{} is not a run folder (no config.json)", run.display()))?,
    )
    .with_context(|| format!("{}/config.json is not a run configuration", run.display()))?;
    let arch = config.architecture.validate()?;
    // One trainer per run folder: a second one (a reclaimed job whose first trainer still lives) stops here.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(run.join(".lock"))
        .with_context(|| format!("cannot open {}/.lock", run.display()))?;
    if lock.try_lock().is_err() {
        bail!("another trainer is running {} (its lock is held); wait for it or stop it first", run.display());
    }
    let data = Dataset::open(&config.data)?;
    let o = &config.options;
    o.check(&data)?;
    if arch.vocab_size != u64::from(data.manifest.vocab_size) {
        bail!("the architecture's vocabulary {} is not the data's {}", arch.vocab_size, data.manifest.vocab_size);
    }
    let device = device.clone().autodiff();
    device.seed(o.seed);
    let model_opts = ModelOptions::default();
    let mut model = LanguageModel::new(&arch, &model_opts, &device);
    let (burn, science) = (model.num_params() as u64, arch.params().total);
    if burn != science {
        bail!("burn counts {burn} parameters and the science crate {science}: refusing to train a model that is not the architecture");
    }
    let adamw = AdamWConfig::new().with_beta_1(o.beta1).with_beta_2(o.beta2).with_epsilon(o.eps).with_weight_decay(o.weight_decay);
    let mut optim = adamw.init();
    let (mut step, mut tokens, mut metrics_lines) = (0u64, 0u64, 0u64);
    if let Some(ckpt) = latest_checkpoint(run) {
        let state: CheckpointState = serde_json::from_str(&std::fs::read_to_string(ckpt.join("state.json"))?)
            .with_context(|| format!("checkpoint {} is corrupt (state.json); remove it to resume from the one before", ckpt.display()))?;
        model = model.try_load_file(ckpt.join("model.bpk")).map_err(|e| {
            anyhow!("checkpoint {} is corrupt (model): {}; remove it to resume from the one before", ckpt.display(), one_line(&e))
        })?;
        let bytes = std::fs::read(ckpt.join("optimizer.bin"))?;
        optim = optim.from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes)).map_err(|e| {
            anyhow!("checkpoint {} is corrupt (optimizer): {}; remove it to resume from the one before", ckpt.display(), one_line(&e))
        })?;
        (step, tokens, metrics_lines) = (state.step, state.tokens, state.metrics_lines);
    }
    // Keep exactly the metrics up to the checkpoint: a killed run may have logged steps after it.
    let mpath = run.join("metrics.jsonl");
    let kept: String =
        std::fs::read_to_string(&mpath).unwrap_or_default().lines().take(metrics_lines as usize).map(|l| format!("{l}\n")).collect();
    write_atomic(&mpath, kept.as_bytes())?;
    let mut log = std::fs::OpenOptions::new().append(true).open(&mpath).with_context(|| format!("cannot open {}", mpath.display()))?;

    let flops_per_token = rooflaw::cost::training_flops_per_token(&arch, o.seq as u64)?;
    let total = o.steps();
    let started = Instant::now();
    let mut last = None;
    while step < total {
        let t0 = Instant::now();
        let lr = o.lr_at(step);
        let mut acc = GradientsAccumulator::<LanguageModel>::new();
        let mut loss_sum = 0.0f64;
        for micro in 0..o.accumulation as u64 {
            let batch = data.batch(o.seed, step, micro, o.batch, o.seq);
            let t = Tensor::<2, Int>::from_data(TensorData::new(batch, [o.batch, o.seq + 1]), &device);
            let (ce, aux) = model.loss(t);
            loss_sum += f64::from(ce.clone().into_scalar::<f32>());
            let mut loss = ce;
            if let Some(a) = aux {
                loss = loss + a * o.aux_loss_weight;
            }
            let loss = loss / o.accumulation as f64;
            acc.accumulate(&model, GradientsParams::from_grads(loss.backward(), &model));
        }
        let mut grads = acc.grads();
        let grad_norm = clip_global_norm(&model, &mut grads, o.clip_norm);
        model = optim.step(lr, model, grads);
        step += 1;
        tokens += o.tokens_per_step();
        let secs = t0.elapsed().as_secs_f64();
        let mut m = Metrics {
            step,
            tokens,
            train_loss: loss_sum / o.accumulation as f64,
            lr,
            grad_norm,
            tokens_per_sec: o.tokens_per_step() as f64 / secs.max(1e-9),
            mfu: None,
            val_loss: None,
            val_perplexity: None,
        };
        m.mfu = config.peak_flops_per_sec.map(|peak| flops_per_token * m.tokens_per_sec / peak);
        if step == total || (o.eval_every > 0 && step % o.eval_every == 0) {
            let v = evaluate(&model, &data, o, &device);
            m.val_loss = Some(v);
            m.val_perplexity = Some(rooflaw::law::perplexity(v));
            last = Some(v);
        }
        writeln!(log, "{}", serde_json::to_string(&m)?).with_context(|| format!("cannot append to {}", mpath.display()))?;
        metrics_lines += 1;
        let flow = on_step(&m, total);
        if step == total || (o.checkpoint_every > 0 && step % o.checkpoint_every == 0) || flow.is_break() {
            log.sync_all().ok();
            save_checkpoint(run, &model, &optim, &CheckpointState { step, tokens, metrics_lines }, o.keep_checkpoints)?;
        }
        if flow.is_break() && step < total {
            return Ok(Outcome::Stopped { step });
        }
    }
    let val_loss = match last {
        Some(v) => v,
        None => evaluate(&model, &data, o, &device),
    };
    let summary = RunSummary {
        steps: step,
        tokens,
        validation_set: data.manifest.validation_name().to_string(),
        val_loss,
        val_perplexity: rooflaw::law::perplexity(val_loss),
        unigram_entropy_nats: data.manifest.unigram_entropy_nats,
        wall_secs: started.elapsed().as_secs_f64(),
    };
    write_run_record(run, &arch, &config, &summary)?;
    Ok(Outcome::Finished(summary))
}

/// `run.json`: the run in the `fit` command's format (`{"runs": [...]}` with the law's inputs, the token
/// budget and the final validation loss), plus the architecture and the summary.
fn write_run_record(run: &Path, arch: &Architecture, config: &RunConfig, s: &RunSummary) -> Result<()> {
    let name = run.file_name().and_then(|n| n.to_str()).unwrap_or("run").to_string();
    let record = serde_json::json!({
        "runs": [{
            "name": name,
            "layers": arch.layers,
            "d_model": arch.d_model,
            "experts": arch.experts,
            "active_experts": arch.active_experts,
            "ffn_ratio": arch.ffn_ratio(),
            "kv_width": arch.kv_heads * arch.head_dim,
            "tokens": s.tokens,
            "val_loss": s.val_loss,
        }],
        "architecture": config.architecture,
        "summary": s,
        "validation_set": s.validation_set,
        "data": config.data,
    });
    write_atomic(&run.join("run.json"), serde_json::to_string_pretty(&record)?.as_bytes())
}

/// Sets the number of CPU threads burn's `flex` backend uses (its matrix products run on rayon's global
/// pool). Call once, before any training; one thread (the default) makes runs bit-for-bit repeatable.
pub fn set_threads(threads: usize) -> Result<()> {
    rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build_global().map_err(|e| anyhow!("cannot set {threads} threads: {e}"))
}

/// Where a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Backend {
    /// burn's `flex` CPU backend.
    Cpu,
    /// wgpu (feature `wgpu`).
    Wgpu,
    /// CUDA (feature `cuda`).
    Cuda,
}

impl Backend {
    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }

    /// The best backend this build has and this machine can run: CUDA when a device answers, else the CPU.
    pub fn auto() -> Backend {
        if cfg!(feature = "cuda") && Backend::Cuda.device().is_ok() {
            Backend::Cuda
        } else {
            Backend::Cpu
        }
    }

    /// The device; a backend this build lacks, or CUDA without a driver or a GPU, is an error, never a panic.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Cpu => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(DeviceKind::DefaultDevice)),
            #[cfg(feature = "cuda")]
            Backend::Cuda => {
                // Keeps the LLVM stand-ins of `rooflaw-cuda-link` in every binary that can train on CUDA.
                std::hint::black_box(rooflaw_cuda_link::linked());
                Device::enumerate(burn::tensor::DeviceType::Cuda).first().cloned().ok_or_else(|| {
                    anyhow!("no CUDA device: the driver's libcuda.so.1 was not found or no GPU is visible; use --backend cpu")
                })
            }
            #[allow(unreachable_patterns)] // reason: reachable in builds without a GPU feature
            other => bail!(
                "this build of rooflaw has no {} backend (build it with `--features {}`); use --backend cpu",
                other.name(),
                other.name()
            ),
        }
    }
}

/// Trains (or resumes) on a backend.
pub fn train_on(backend: Backend, run: &Path, on_step: OnStep) -> Result<Outcome> {
    train(run, &backend.device()?, on_step)
}

/// Checks what a trainer would refuse, without writing anything: the data folder, the options against
/// it, and the architecture with the data's vocabulary (burn's parameter count must equal the science
/// crate's). Returns the architecture as it will be trained.
pub fn check_run(model: &ModelRequest, data_dir: &Path, options: TrainOptions) -> Result<Architecture> {
    let data = Dataset::open(data_dir)?;
    options.check(&data)?;
    let mut spec = model.architecture()?.to_spec();
    spec.vocab_size = u64::from(data.manifest.vocab_size);
    let arch = spec.validate()?;
    if let Some(why) = crate::model::unsupported(&arch) {
        bail!("{why}");
    }
    let (burn, science) = (crate::model::burn_param_count(&arch), arch.params().total);
    if burn != science {
        bail!("burn counts {burn} parameters and the science crate {science}: this architecture cannot be trained as described");
    }
    Ok(arch)
}

/// Creates a run folder with its configuration. Refuses a folder that already holds a run.
pub fn create_run(
    run: &Path,
    model: &ModelRequest,
    data_dir: &Path,
    backend: Backend,
    peak_flops_per_sec: Option<f64>,
    options: TrainOptions,
) -> Result<RunConfig> {
    if run.join("config.json").exists() {
        bail!("{} already holds a run; continue it with `rooflaw train --resume {}` or choose another --out", run.display(), run.display());
    }
    let spec = check_run(model, data_dir, options.clone())?.to_spec();
    std::fs::create_dir_all(run).with_context(|| format!("cannot create {} (is its parent writable?)", run.display()))?;
    let config = RunConfig { architecture: spec, data: data_dir.to_path_buf(), backend, options, peak_flops_per_sec };
    write_atomic(&run.join("config.json"), serde_json::to_string_pretty(&config)?.as_bytes())?;
    Ok(config)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn clipping_scales_every_gradient_to_the_global_norm() {
        let a = ArchitectureSpec {
            layers: 1,
            d_model: 32,
            heads: 2,
            intermediate_size: Some(64),
            experts: Some(4),
            active_experts: Some(2),
            vocab_size: 40,
            ..Default::default()
        }
        .validate()
        .unwrap();
        let device = Device::flex().autodiff();
        device.seed(3);
        let model = LanguageModel::new(&a, &ModelOptions::default(), &device);
        let tokens = Tensor::<2, Int>::from_data(TensorData::new((0..34i64).map(|i| (i * 7) % 40).collect::<Vec<_>>(), [2, 17]), &device);
        let (ce, aux) = model.loss(tokens);
        let loss = ce + aux.unwrap() * 0.01;
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let before = clip_global_norm(&model, &mut grads, 0.05);
        assert!(before > 0.05, "{before}");
        // Measured again without clipping: the norm is now the limit (up to the 1e-6 guard).
        let after = clip_global_norm(&model, &mut grads, 0.0);
        assert!((after - 0.05).abs() < 1e-4, "{after}");
    }

    #[test]
    fn the_schedule_warms_up_then_decays_to_its_floor() {
        let o = TrainOptions { tokens: 100 * 8 * 256, warmup: 10, lr: 1e-3, min_lr_ratio: 0.1, ..Default::default() };
        assert_eq!(o.steps(), 100);
        assert!((o.lr_at(0) - 1e-4).abs() < 1e-15);
        assert!((o.lr_at(9) - 1e-3).abs() < 1e-15);
        // Half-way through the decay the cosine is at its midpoint: (1e-3 + 1e-4) / 2.
        assert!((o.lr_at(10 + 45) - 5.5e-4).abs() < 1e-12);
        assert!((o.lr_at(100) - 1e-4).abs() < 1e-15);
    }
}
