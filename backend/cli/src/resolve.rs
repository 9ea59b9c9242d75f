//! The only place where flags become typed requests (`rooflaw::api`): files named by flags are read
//! here and added to the request context (devices, calibrations, laws, spaces), and the science
//! crate's errors gain the command line's how-to.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use rooflaw::api::{
    Context, FrontierRequest, LawRequest, MatchRequest, MemoryBudget, ModelRequest, PredictRequest, SearchRequest, TargetRequest,
    TheoryRequest,
};
use rooflaw::calibrate::{parse_measurements, profiles_from_json, CalibrationProfile, GroupKey, MeasurementRow};
use rooflaw::fit::{FitOptions, Robust};
use rooflaw::hardware::parse_devices;
use rooflaw::hf::from_hf_config;
use rooflaw::law::{find_law, Law};
use rooflaw::space::{find_space, DesignSpace};
use rooflaw::{Architecture, ArchitectureSpec, Level};

use crate::args::{
    BackendArg, CalibrateArgs, CampaignRunArgs, DataDirArg, DatabaseArgs, EngineArg, FetchArgs, FitArgs, FrontierArgs, GroupArg, LawArgs,
    LawChoice, MatchArgs, MeasureLatencyArgs, MeasureRooflineArgs, ModelArgs, PlotArgs, PredictArgs, PrepareArgs, ReproduceArgs, RobustArg,
    ServeArgs, SimulateArgs, SpaceArgs, TargetArgs, TheoryArgs, TrainArgs,
};
use rooflaw::campaign::{SimulateRequest, Strategy};

/// Reads a text file named by a flag.
pub fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {} (check the path)", path.display()))
}

/// Adds the command line's how-to to a science-crate error.
fn how<T>(r: rooflaw::Result<T>, how_to: &str) -> Result<T> {
    r.map_err(|e| anyhow!("{e} ({how_to})"))
}

/// The request context: the catalogue with `--devices FILE` added.
pub fn context(devices: Option<&Path>) -> Result<Context> {
    let mut ctx = Context::default();
    if let Some(p) = devices {
        ctx.catalogue = ctx.catalogue.with(parse_devices(&read(p, "devices file")?, &p.display().to_string())?);
    }
    Ok(ctx)
}

/// Where the architecture comes from; the file is read here.
pub fn model(m: &ModelArgs) -> Result<ModelRequest> {
    let mut r = ModelRequest::default();
    if let Some(p) = &m.hf_config {
        r.hf_config = Some(read(p, "config.json")?);
    } else if let Some(p) = &m.spec {
        let text = read(p, "architecture file")?;
        r.spec =
            Some(serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e} (see `rooflaw arch show --help` for the fields)", p.display()))?);
    } else {
        r.model = m.model.clone();
    }
    Ok(r)
}

/// The validated architecture of `m`, with the CLI's how-to on failure.
pub fn architecture(m: &ModelRequest) -> Result<Architecture> {
    how(m.architecture(), "see `rooflaw arch list`, or pass --hf-config FILE or --spec FILE")
}

/// Device, workload and precision; a `--calibration FILE` is added to the context.
pub fn target(t: &TargetArgs, ctx: &mut Context) -> Result<TargetRequest> {
    if let Some(p) = &t.calibration {
        ctx.calibrations = profiles_from_json(&read(p, "calibration file")?, &p.display().to_string())
            .map_err(|e| anyhow!("{e} (write one with `rooflaw calibrate MEASUREMENTS.csv --out PROFILE.json`)"))?;
    }
    let r = TargetRequest {
        device: t.device.clone(),
        power_mode: t.power_mode.clone(),
        batch: t.batch,
        prompt_tokens: t.prompt,
        generated_tokens: t.generate,
        precision: t.precision.clone(),
        weights: t.weights.clone(),
        activations: t.activations.clone(),
        kv: t.kv.clone(),
        engine: t.engine.clone(),
    };
    if let Some(e) = &t.engine {
        rooflaw::calibrate::parse_engine(e)?;
    }
    // Check it now, so that every command reports a bad target the same way, with the CLI's how-to.
    how(r.resolve(&ctx.catalogue), "see `rooflaw devices list`; add a device with --devices FILE")?;
    Ok(r)
}

/// The law: a built-in name, or a law file added to the context.
pub fn law(l: &LawChoice, ctx: &mut Context) -> Result<Option<String>> {
    let path = Path::new(&l.law);
    match find_law(&l.law) {
        Ok(_) => Ok(Some(l.law.clone())),
        Err(e) if !path.exists() => Err(anyhow!("{e} (or give a law file written by `rooflaw fit RUNS --out LAW.json`)")),
        Err(_) => {
            let law = Law::from_json(&read(path, "law file")?, &path.display().to_string())?;
            let name = law.name.clone();
            ctx.laws.push(law);
            Ok(Some(name))
        }
    }
}

/// The space: a built-in name, or a space file added to the context.
pub fn search(s: &SpaceArgs, ctx: &mut Context) -> Result<SearchRequest> {
    let path = Path::new(&s.space);
    let space = match find_space(&s.space) {
        Ok(_) => s.space.clone(),
        Err(e) if !path.exists() => return Err(anyhow!("{e} (or give a space file; see the README)")),
        Err(_) => {
            let sp = DesignSpace::from_json(&read(path, "space file")?, &path.display().to_string())?;
            let name = sp.name().to_string();
            ctx.spaces.push(sp);
            name
        }
    };
    Ok(SearchRequest { space, samples: s.samples, seed: s.seed, refine: s.refine, objective: s.objective, level: s.level })
}

/// `predict`: the request and the breakdown level, if one was asked for.
pub fn predict(a: &PredictArgs, ctx: &mut Context) -> Result<(PredictRequest, Option<Level>)> {
    Ok((PredictRequest { model: model(&a.model)?, target: target(&a.target, ctx)? }, a.breakdown))
}

/// `roofline-plot`: the architectures, target, level and output file.
#[derive(Debug)]
pub struct RooflinePlot {
    /// Architectures drawn.
    pub architectures: Vec<Architecture>,
    /// Device and workload.
    pub target: TargetRequest,
    /// Level drawn.
    pub level: Level,
    /// Output file.
    pub out: PathBuf,
}

/// `roofline-plot`.
pub fn roofline_plot(a: &PlotArgs, ctx: &mut Context) -> Result<RooflinePlot> {
    let mut architectures = a.models.iter().map(|m| architecture(&ModelRequest::named(m))).collect::<Result<Vec<_>>>()?;
    if let Some(p) = &a.hf_config {
        architectures.push(architecture(&ModelRequest { hf_config: Some(read(p, "config.json")?), ..Default::default() })?);
    }
    Ok(RooflinePlot { architectures, target: target(&a.target, ctx)?, level: a.level, out: a.out.clone() })
}

/// `calibrate`: the measurements' text, the grouping and the output file.
#[derive(Debug)]
pub struct Calibrate {
    /// The measurements, with the config.json files they name read.
    pub rows: Vec<MeasurementRow>,
    /// Fields that split the rows into profiles.
    pub group_by: Vec<GroupKey>,
    /// Where to write the profiles.
    pub out: Option<PathBuf>,
    /// Price the rows with these profiles (empty: the built-in ones) instead of fitting.
    pub evaluate: Option<Vec<CalibrationProfile>>,
}

/// `calibrate`.
pub fn calibrate(a: &CalibrateArgs, ctx: &mut Context) -> Result<Calibrate> {
    let (text, what, dir) = match (&a.from_server, &a.measurements, &a.evaluate) {
        (Some(url), _, _) => (server_measurements(url, ctx)?, format!("the measurements on {url}"), None),
        (None, Some(p), _) | (None, None, Some(p)) => {
            (read(p, "measurements file")?, p.display().to_string(), p.parent().map(Path::to_path_buf))
        }
        (None, None, None) => bail!("give a measurements file, --evaluate FILE, or --from-server URL"),
    };
    let mut rows = parse_measurements(&text, &what)?;
    for (i, row) in rows.iter_mut().enumerate() {
        if let (Some(config), None) = (&row.config, &row.architecture) {
            let path = dir.as_deref().unwrap_or(Path::new(".")).join(config);
            let arch =
                from_hf_config(&read(&path, "config.json")?).map_err(|e| anyhow!("{what} line {}: {}: {e}", i + 2, path.display()))?;
            // The row's model name names it in the reports.
            row.architecture = Some(ArchitectureSpec { name: Some(row.model.clone()), ..arch.to_spec() });
        }
    }
    let evaluate = match (&a.evaluate, &a.calibration) {
        (None, _) => None,
        (Some(_), None) => Some(Vec::new()),
        (Some(_), Some(p)) => Some(
            profiles_from_json(&read(p, "calibration file")?, &p.display().to_string())
                .map_err(|e| anyhow!("{e} (write one with `rooflaw calibrate MEASUREMENTS.csv --out PROFILE.json`)"))?,
        ),
    };
    Ok(Calibrate {
        rows,
        group_by: a
            .group_by
            .iter()
            .map(|g| match g {
                GroupArg::Device => GroupKey::Device,
                GroupArg::PowerMode => GroupKey::PowerMode,
                GroupArg::Engine => GroupKey::Engine,
                GroupArg::Precision => GroupKey::Precision,
            })
            .collect(),
        out: a.out.clone(),
        evaluate,
    })
}

/// Every measurement stored on a server, as a JSON list of rows; the server's devices join the catalogue.
fn server_measurements(url: &str, ctx: &mut Context) -> Result<String> {
    let base = url.trim_end_matches('/');
    let http: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(std::time::Duration::from_secs(60))).build().into();
    let get = |path: &str| -> Result<serde_json::Value> {
        let mut r = http
            .get(&format!("{base}/api/v1{path}"))
            .call()
            .map_err(|e| anyhow!("cannot read {base}/api/v1{path}: {e} (is `rooflaw serve` running there?)"))?;
        Ok(serde_json::from_str(&r.body_mut().read_to_string()?)?)
    };
    let devices = get("/devices")?;
    ctx.catalogue = std::mem::take(&mut ctx.catalogue).with(parse_devices(&devices.to_string(), &format!("{base} devices"))?);
    let mut rows = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let page = get(&format!("/measurements?limit=500{}", before.map_or(String::new(), |b| format!("&before={b}"))))?;
        let list = page["measurements"].as_array().cloned().unwrap_or_default();
        rows.extend(list.iter().map(|m| m["row"].clone()));
        match page["next_before"].as_i64() {
            Some(b) if list.len() == 500 => before = Some(b),
            _ => break,
        }
    }
    if rows.is_empty() {
        bail!("{base} stores no measurement yet (agents post them; see `rooflaw-agent --help`)");
    }
    Ok(serde_json::to_string(&rows)?)
}

/// `law`.
pub fn law_request(a: &LawArgs, ctx: &mut Context) -> Result<LawRequest> {
    Ok(LawRequest { model: model(&a.model)?, law: law(&a.law, ctx)? })
}

/// `fit`: the runs' texts, the options and the output files.
#[derive(Debug)]
pub struct Fit {
    /// Each runs file's text and its name in messages (a run folder gives its run.json).
    pub sources: Vec<(String, String)>,
    /// Fit settings.
    pub options: FitOptions,
    /// Where to write the law.
    pub out: Option<PathBuf>,
    /// Where to draw the fit.
    pub plot: Option<PathBuf>,
}

/// `fit`.
pub fn fit(a: &FitArgs) -> Result<Fit> {
    if !(0.0..1.0).contains(&a.holdout) {
        bail!("--holdout {} must be in [0, 1), e.g. 0.2", a.holdout);
    }
    let sources = a
        .runs
        .iter()
        .map(|p| {
            let file = if p.is_dir() { p.join("run.json") } else { p.clone() };
            if p.is_dir() && !file.is_file() {
                bail!(
                    "{} has no run.json: the run has not finished (continue it with `rooflaw train --resume {}`)",
                    p.display(),
                    p.display()
                );
            }
            Ok((read(&file, "runs file")?, file.display().to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Fit {
        sources,
        options: FitOptions {
            name: a.name.clone(),
            robust: match a.robust {
                RobustArg::Huber => Robust::Huber { delta: a.huber_delta },
                RobustArg::LeastSquares => Robust::LeastSquares,
            },
            restarts: a.restarts,
            bootstrap: a.bootstrap,
            seed: a.seed,
            holdout_fraction: a.holdout,
            folds: a.folds,
        },
        out: a.out.clone(),
        plot: a.plot.clone(),
    })
}

/// `frontier`: the request, whether to print every candidate, and the plot file.
#[derive(Debug)]
pub struct Frontier {
    /// The request.
    pub request: FrontierRequest,
    /// Print every candidate, not only the frontier.
    pub all: bool,
    /// Where to draw the frontier.
    pub plot: Option<PathBuf>,
}

/// `frontier`.
pub fn frontier(a: &FrontierArgs, ctx: &mut Context) -> Result<Frontier> {
    let memory_budget =
        a.memory_budget.as_deref().map(|m| how(MemoryBudget::parse(m), "--memory-budget takes bytes or `usable`")).transpose()?;
    if let Some(b) = a.latency_budget {
        if !b.is_finite() || b <= 0.0 {
            bail!("--latency-budget {b} must be a positive number of seconds, e.g. 0.1");
        }
    }
    let request = FrontierRequest {
        search: search(&a.space, ctx)?,
        target: target(&a.target, ctx)?,
        law: law(&a.law, ctx)?,
        latency_budget_secs: a.latency_budget,
        memory_budget,
        scenario: a.scenario.clone(),
        with_memory: a.with_memory,
        draws: Some(a.draws),
    };
    Ok(Frontier { request, all: a.all, plot: a.plot.clone() })
}

/// `campaign simulate`: the request and where to draw it.
#[derive(Debug)]
pub struct Simulate {
    /// The request.
    pub request: SimulateRequest,
    /// Where to draw the curves.
    pub plot: Option<PathBuf>,
}

/// `campaign simulate`.
pub fn simulate(a: &SimulateArgs, ctx: &mut Context) -> Result<Simulate> {
    let strategies = a.strategies.iter().map(|s| Strategy::parse(s)).collect::<rooflaw::Result<Vec<_>>>()?;
    let request = SimulateRequest {
        search: search(&a.space, ctx)?,
        target: target(&a.target, ctx)?,
        truth: law(&LawChoice { law: a.truth.clone() }, ctx)?,
        noise: a.noise,
        misspecification: a.misspecification,
        explore: a.explore,
        initial: a.initial,
        batch: a.per_round,
        max_runs: a.max_runs,
        seeds: a.seeds,
        strategies,
        tolerance: a.tolerance,
        bootstrap: a.bootstrap,
        restarts: a.restarts,
        draws: a.draws,
    };
    Ok(Simulate { request, plot: a.plot.clone() })
}

/// `match`.
pub fn matching(a: &MatchArgs, ctx: &mut Context) -> Result<MatchRequest> {
    Ok(MatchRequest { model: model(&a.model)?, search: search(&a.space, ctx)?, target: target(&a.target, ctx)?, law: law(&a.law, ctx)? })
}

/// `theory`.
pub fn theory(a: &TheoryArgs, ctx: &mut Context) -> Result<TheoryRequest> {
    if a.device.is_none() && !a.worked_example && (a.peak_flops.is_none() || a.bandwidth.is_none() || a.memory_budget.is_none()) {
        bail!("give --device ID (or --peak-flops, --bandwidth and --memory-budget), or --worked-example");
    }
    Ok(TheoryRequest {
        worked_example: a.worked_example,
        device: a.device.clone(),
        power_mode: a.power_mode.clone(),
        peak_flops_per_sec: a.peak_flops,
        mem_bandwidth_bytes_per_sec: a.bandwidth,
        memory_budget_bytes: a.memory_budget,
        prefill_target_secs: a.prefill_target,
        decode_target_secs: a.decode_target,
        batch: a.batch,
        prompt_tokens: a.prompt,
        generated_tokens: a.generate,
        precision: a.precision.clone(),
        d_model: a.d_model,
        ffn_ratio: a.ffn_ratio,
        gqa: a.gqa,
        law: law(&a.law, ctx)?,
        engine: a.engine.clone(),
    })
}

/// `reproduce`: the device, samples, seed and report file.
#[derive(Debug)]
pub struct Reproduce {
    /// Draws of the wide space.
    pub samples: usize,
    /// Seed.
    pub seed: u64,
    /// Report file.
    pub out: PathBuf,
}

/// `reproduce`.
pub fn reproduce(a: &ReproduceArgs) -> Reproduce {
    Reproduce { samples: a.samples, seed: a.seed, out: a.out.clone() }
}

/// The data folder.
pub fn data_dir(a: &DataDirArg) -> Result<PathBuf> {
    rooflaw_train::corpora::data_dir(a.data_dir.as_deref())
}

/// `data fetch`: the folder and the corpora.
pub fn fetch(a: &FetchArgs) -> Result<(PathBuf, Vec<&'static rooflaw_train::corpora::Corpus>)> {
    let corpora = if a.corpora.is_empty() {
        rooflaw_train::corpora::CORPORA.iter().collect()
    } else {
        a.corpora.iter().map(|n| rooflaw_train::corpora::find(n)).collect::<Result<Vec<_>>>()?
    };
    Ok((data_dir(&a.dir)?, corpora))
}

/// `data prepare`.
pub fn prepare(a: &PrepareArgs) -> Result<rooflaw_train::data::PrepareOptions> {
    Ok(rooflaw_train::data::PrepareOptions {
        texts: a.texts.clone(),
        validation: a.validation.clone(),
        tokenizer: rooflaw_train::data::TokenizerKind::parse(&a.tokenizer)?,
        validation_fraction: a.validation_fraction,
        out: a.out.clone(),
        data_dir: rooflaw_train::corpora::data_dir(a.data_dir.as_deref())?,
    })
}

/// `train`: what to do.
#[derive(Debug)]
pub enum Train {
    /// Check the counts and print the FLOPs per token.
    DryRun {
        /// The architecture (the data's vocabulary when a data folder is given).
        architecture: Architecture,
        /// Tokens per sequence.
        seq: usize,
    },
    /// Create a run and train it.
    New {
        /// The run folder.
        run: PathBuf,
        /// Where to train.
        backend: rooflaw_train::trainer::Backend,
        /// The architecture.
        model: Box<ModelRequest>,
        /// The prepared data.
        data: PathBuf,
        /// Device peak for MFU.
        peak_flops: Option<f64>,
        /// Hyperparameters.
        options: rooflaw_train::trainer::TrainOptions,
        /// No progress bar.
        quiet: bool,
    },
    /// Continue a run.
    Resume {
        /// The run folder.
        run: PathBuf,
        /// Where to continue (None: where it was started).
        backend: Option<rooflaw_train::trainer::Backend>,
        /// No progress bar.
        quiet: bool,
    },
}

fn backend(b: BackendArg) -> Option<rooflaw_train::trainer::Backend> {
    use rooflaw_train::trainer::Backend;
    match b {
        BackendArg::Auto => None,
        BackendArg::Cpu => Some(Backend::Cpu),
        BackendArg::Wgpu => Some(Backend::Wgpu),
        BackendArg::Cuda => Some(Backend::Cuda),
    }
}

/// The engine of `measure latency`, with what it needs.
#[derive(Debug)]
pub enum Engine {
    /// burn on a backend.
    Burn(rooflaw_train::trainer::Backend),
    /// llama.cpp's tools.
    LlamaCpp(rooflaw_measure::llamacpp::LlamaCpp),
    /// vLLM's command line.
    Vllm(PathBuf),
    /// MLC's benchmark script and the model it runs.
    Mlc(PathBuf, rooflaw_measure::adapters::MlcModel),
}

/// `measure latency`: the architecture, the engine, one plan per depth, and where records go.
#[derive(Debug)]
pub struct MeasureLatency {
    /// What is measured.
    pub architecture: Architecture,
    /// How.
    pub engine: Engine,
    /// Precision label.
    pub precision: String,
    /// One plan per KV depth.
    pub plans: Vec<rooflaw_measure::LatencyPlan>,
    /// Engine threads.
    pub threads: usize,
    /// Device id and power mode to record.
    pub place: rooflaw_train::latency::Place,
    /// JSON-lines file to append to.
    pub out: Option<PathBuf>,
}

/// `measure latency`.
pub fn measure_latency(a: &MeasureLatencyArgs) -> Result<MeasureLatency> {
    let architecture = architecture(&model(&a.model)?)?;
    if a.threads == 0 {
        bail!("--threads must be at least 1");
    }
    let mut depths = a.depths.clone();
    depths.dedup();
    let plans = depths
        .iter()
        .map(|d| rooflaw_measure::LatencyPlan::new(a.batch, a.prompt, a.generate, *d, a.warmup, a.repeat))
        .collect::<Result<Vec<_>>>()?;
    let (engine, precision) = match a.engine {
        EngineArg::Burn => {
            let precision = a.precision.clone().unwrap_or_else(|| "fp32".into());
            if !precision.eq_ignore_ascii_case("fp32") {
                bail!("the burn engine runs fp32 weights; use --precision fp32, or --engine llama.cpp for F16, Q8_0 and Q4_0");
            }
            let Some(b) = backend(a.backend) else { bail!("choose the burn engine's backend: --backend cpu, wgpu or cuda") };
            b.device()?;
            rooflaw_train::trainer::set_threads(a.threads)?;
            (Engine::Burn(b), "fp32".to_string())
        }
        EngineArg::LlamaCpp => {
            let precision = a.precision.clone().unwrap_or_else(|| "F16".into());
            let bench = rooflaw_measure::llamacpp::find_tool("llama-bench", a.llama_bench.as_deref())?;
            (Engine::LlamaCpp(rooflaw_measure::llamacpp::LlamaCpp::beside(bench)), precision)
        }
        EngineArg::Vllm => (
            Engine::Vllm(
                rooflaw_measure::adapters::find_vllm().map_err(|e| anyhow!("{e}, or measure here with --engine burn or llama.cpp"))?,
            ),
            a.precision.clone().unwrap_or_else(|| "fp16".into()),
        ),
        EngineArg::Mlc => {
            let Some(model) = a.mlc_model.clone() else {
                bail!("--engine mlc needs --mlc-model DIR: the compiled MLC model of this architecture (MLC has no random-weight mode)")
            };
            let script = rooflaw_measure::adapters::find_mlc_benchmark()?;
            let prompts = a.mlc_prompts.clone().unwrap_or_else(|| PathBuf::from(format!("/data/prompts/completion_{}.json", a.prompt)));
            (
                Engine::Mlc(script, rooflaw_measure::adapters::MlcModel { model, lib: a.mlc_lib.clone(), prompts }),
                a.precision.clone().unwrap_or_else(|| "q4f16_1".into()),
            )
        }
    };
    Ok(MeasureLatency {
        architecture,
        engine,
        precision,
        plans,
        threads: a.threads,
        place: rooflaw_train::latency::Place { device: a.device.clone(), power_mode: a.power_mode.clone() },
        out: a.out.clone(),
    })
}

/// `measure roofline`.
#[derive(Debug)]
pub struct MeasureRoofline {
    /// GEMM backend.
    pub backend: rooflaw_train::trainer::Backend,
    /// Threads.
    pub threads: usize,
    /// f64 elements per bandwidth array.
    pub elements: usize,
    /// GEMM size.
    pub gemm_n: usize,
    /// Passes.
    pub passes: usize,
    /// Device id to save, and the file.
    pub save: Option<(String, PathBuf)>,
}

/// `measure roofline`.
pub fn measure_roofline(a: &MeasureRooflineArgs) -> Result<MeasureRoofline> {
    let Some(b) = backend(a.backend) else { bail!("choose the GEMM backend: --backend cpu, wgpu or cuda") };
    b.device()?;
    if a.threads == 0 || a.passes == 0 {
        bail!("--threads and --passes must be at least 1");
    }
    if a.stream_mib == 0 || a.gemm_n < 64 {
        bail!("--stream-mib must be at least 1 and --gemm-n at least 64");
    }
    if let Some(id) = &a.save_device {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            bail!("--save-device {id:?}: a device id is lower-case letters, digits and dashes (e.g. my-laptop)");
        }
    }
    rooflaw_train::trainer::set_threads(a.threads)?;
    Ok(MeasureRoofline {
        backend: b,
        threads: a.threads,
        elements: a.stream_mib * (1 << 20) / 8,
        gemm_n: a.gemm_n,
        passes: a.passes,
        save: a.save_device.clone().map(|id| (id, a.to.clone())),
    })
}

/// `train`: a new run, a resumed one, or a dry run.
pub fn train(a: &TrainArgs) -> Result<Train> {
    let backend = backend(a.backend);
    if let Some(b) = backend {
        // A backend this build lacks, or CUDA without a GPU, is refused before anything is written.
        b.device()?;
    }
    if a.threads == 0 {
        bail!("--threads must be at least 1");
    }
    rooflaw_train::trainer::set_threads(a.threads)?;
    if let Some(run) = &a.resume {
        if !run.join("config.json").is_file() {
            bail!(
                "{} is not a run folder (no config.json); start a run with `rooflaw train MODEL --data DIR --tokens N --out RUN_DIR`",
                run.display()
            );
        }
        return Ok(Train::Resume { run: run.clone(), backend, quiet: a.quiet });
    }
    let model = model(&ModelArgs { model: a.model.clone(), hf_config: a.hf_config.clone(), spec: a.spec.clone() })?;
    if a.model.is_none() && a.hf_config.is_none() && a.spec.is_none() {
        bail!("no architecture given; name a model (see `rooflaw arch list`), or pass --spec FILE or --hf-config FILE");
    }
    let mut architecture = architecture(&model)?;
    if a.dry_run {
        if let Some(d) = &a.data {
            let m = rooflaw_train::data::Manifest::read(d)?;
            let mut spec = architecture.to_spec();
            spec.vocab_size = u64::from(m.vocab_size);
            architecture = spec.validate()?;
        }
        return Ok(Train::DryRun { architecture, seq: a.seq });
    }
    let (Some(data), Some(tokens), Some(run)) = (&a.data, a.tokens, &a.out) else {
        bail!("give --data DIR, --tokens N and --out RUN_DIR (or --resume RUN_DIR)");
    };
    let options = rooflaw_train::trainer::TrainOptions {
        tokens,
        batch: a.batch,
        seq: a.seq,
        accumulation: a.accumulation,
        lr: a.lr,
        warmup: a.warmup,
        weight_decay: a.weight_decay,
        clip_norm: a.clip_norm,
        seed: a.seed,
        checkpoint_every: a.checkpoint_every,
        keep_checkpoints: a.keep_checkpoints,
        eval_every: a.eval_every,
        eval_tokens: a.eval_tokens,
        ..Default::default()
    };
    Ok(Train::New {
        run: run.clone(),
        backend: backend.unwrap_or_else(rooflaw_train::trainer::Backend::auto),
        model: Box::new(model),
        data: data.clone(),
        peak_flops: a.peak_flops,
        options,
        quiet: a.quiet,
    })
}

/// `serve`: the service's configuration.
pub fn serve(a: &ServeArgs) -> Result<rooflaw_server::Config> {
    let mut c = server_config(a.data_dir.as_deref(), a.database.clone(), a.slurm.as_deref())?;
    c.addr = match a.port {
        Some(p) => format!("{}:{p}", a.addr.rsplit_once(':').map_or(a.addr.as_str(), |(h, _)| h)),
        None => a.addr.clone(),
    };
    if !a.dir.join("index.html").is_file() {
        bail!("{} has no index.html: build the site first with scripts/site.sh (or pass --dir)", a.dir.display());
    }
    if a.train_threads == 0 {
        bail!("--train-threads must be at least 1");
    }
    c.site_dir = Some(a.dir.clone());
    c.workers = a.workers;
    c.train_threads = a.train_threads;
    c.public_read = !a.private;
    c.max_queued_per_token = a.max_queued_per_token;
    c.lease_secs = a.lease_secs;
    for o in &a.cors_origins {
        let valid = match o.trim_end_matches('/').split_once("://") {
            Some(("http" | "https", host)) => !host.is_empty() && !host.contains(['/', '*', ' ', '?', '#']),
            _ => false,
        };
        if !valid {
            bail!("--cors-origin {o} must be an origin such as https://docs.example.org (scheme and host, no path or wildcard)");
        }
        c.cors_origins.push(o.trim_end_matches('/').to_string());
    }
    Ok(c)
}

/// `campaign run`: the configuration of the headless driver and what it starts.
#[derive(Debug)]
pub struct CampaignRun {
    /// Database, data folder, workers, Slurm.
    pub config: rooflaw_server::Config,
    /// A new campaign or one to resume.
    pub start: rooflaw_server::campaign::Start,
}

/// The service's configuration with its defaults: this executable as the trainer, the data folder, the
/// database and the Slurm file (`serve` and the campaign commands).
fn server_config(data_dir: Option<&Path>, database: Option<String>, slurm: Option<&Path>) -> Result<rooflaw_server::Config> {
    let trainer = std::env::current_exe().context("cannot find the rooflaw executable to run trainers with")?;
    let mut c = rooflaw_server::Config::new(rooflaw_train::corpora::data_dir(data_dir)?, trainer);
    c.database = database;
    c.slurm = slurm.map(rooflaw_server::slurm::SlurmConfig::load).transpose()?;
    Ok(c)
}

/// The configuration a campaign command opens: the database, the data folder, the Slurm file.
pub fn campaign_config(db: &DatabaseArgs, slurm: Option<&Path>) -> Result<rooflaw_server::Config> {
    server_config(db.data_dir.as_deref(), db.database.clone(), slurm)
}

/// `campaign run`.
pub fn campaign_run(a: &CampaignRunArgs) -> Result<CampaignRun> {
    let mut c = campaign_config(&a.db, a.slurm.as_deref())?;
    if a.workers == 0 || a.train_threads == 0 {
        bail!("--workers and --train-threads must be at least 1");
    }
    c.workers = a.workers;
    c.train_threads = a.train_threads;
    let start = match (&a.request, a.resume) {
        (_, Some(id)) => rooflaw_server::campaign::Start::Resume(id),
        (Some(p), None) => {
            let text = read(p, "campaign request")?;
            let r: rooflaw_server::campaign::CampaignRequest = serde_json::from_str(&text).map_err(|e| {
                anyhow!("{}: {e} (a campaign request names `data` (a prepared folder under the data folder's datasets/) and the space; see the README)", p.display())
            })?;
            rooflaw_server::campaign::Start::New(Box::new(r))
        }
        (None, None) => bail!("give a campaign request file, or --resume ID"),
    };
    Ok(CampaignRun { config: c, start })
}

/// The database URL a token command opens.
pub fn database(a: &DatabaseArgs) -> Result<String> {
    Ok(match &a.database {
        Some(u) => u.clone(),
        None => {
            let dir = rooflaw_train::corpora::data_dir(a.data_dir.as_deref())?;
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the data folder {}", dir.display()))?;
            rooflaw_store::default_url(&dir)
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use clap::Parser;
    use rooflaw::api::{MemoryBudget, UsableMemory};
    use rooflaw::frontier::Objective;

    use super::*;
    use crate::args::{Cli, Command};

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("rooflaw").chain(args.iter().copied())).unwrap()
    }

    fn predict_of(args: &[&str]) -> Result<(PredictRequest, Option<Level>)> {
        match parse(args).command {
            Command::Predict(a) => predict(&a, &mut context(None).unwrap()),
            _ => unreachable!("a predict command"),
        }
    }

    fn frontier_of(args: &[&str]) -> Result<Frontier> {
        match parse(args).command {
            Command::Frontier(a) => frontier(&a, &mut context(None).unwrap()),
            _ => unreachable!("a frontier command"),
        }
    }

    #[test]
    fn predict_flags_become_requests() {
        // (flags, device, batch, prompt, generate, precision, weights, breakdown)
        type Row<'a> = (&'a [&'a str], &'a str, u64, u64, u64, &'a str, Option<&'a str>, Option<Level>);
        let table: [Row; 4] = [
            (&["predict", "qwen2.5-0.5b"], "jetson-agx-orin-64gb", 1, 1024, 16, "fp16", None, None),
            (
                &["predict", "qwen2.5-0.5b", "--device", "jetson-orin-nano-8gb", "--batch", "4", "--prompt", "128", "--generate", "64"],
                "jetson-orin-nano-8gb",
                4,
                128,
                64,
                "fp16",
                None,
                None,
            ),
            (
                &["predict", "qwen2.5-0.5b", "--precision", "int4", "--weights", "int8"],
                "jetson-agx-orin-64gb",
                1,
                1024,
                16,
                "int4",
                Some("int8"),
                None,
            ),
            (
                &["predict", "qwen2.5-0.5b", "--breakdown", "calibrated"],
                "jetson-agx-orin-64gb",
                1,
                1024,
                16,
                "fp16",
                None,
                Some(Level::Calibrated),
            ),
        ];
        for (flags, device, batch, prompt, generate, precision, weights, breakdown) in table {
            let (r, b) = predict_of(flags).unwrap();
            assert_eq!(r.model, ModelRequest::named("qwen2.5-0.5b"), "{flags:?}");
            let t = &r.target;
            assert_eq!(
                (t.device.as_str(), t.batch, t.prompt_tokens, t.generated_tokens, t.precision.as_str(), t.weights.as_deref(), b),
                (device, batch, prompt, generate, precision, weights, breakdown),
                "{flags:?}"
            );
        }
    }

    #[test]
    fn bad_targets_are_refused_with_the_cli_how_to() {
        for (flags, needle) in [
            (&["predict", "qwen2.5-0.5b", "--device", "tpu"][..], "unknown device 'tpu'"),
            (&["predict", "qwen2.5-0.5b", "--batch", "0"][..], "batch"),
            (&["predict", "qwen2.5-0.5b", "--precision", "fp8"][..], "cannot run fp8 math"),
        ] {
            let e = predict_of(flags).unwrap_err().to_string();
            assert!(e.contains(needle) && e.ends_with("add a device with --devices FILE)"), "{flags:?}: {e}");
        }
    }

    #[test]
    fn frontier_flags_become_requests() {
        // (flags, objective, level, space, latency budget, memory budget, scenario)
        type Row<'a> = (&'a [&'a str], Objective, Level, &'a str, Option<f64>, Option<MemoryBudget>, Option<&'a str>);
        let table: [Row; 4] = [
            (&["frontier"], Objective::Total, Level::Roofline, "paper-table5", None, None, None),
            (
                &["frontier", "--objective", "decode", "--level", "paper", "--space", "wide"],
                Objective::Decode,
                Level::Paper,
                "wide",
                None,
                None,
                None,
            ),
            (
                &["frontier", "--latency-budget", "0.05", "--memory-budget", "usable"],
                Objective::Total,
                Level::Roofline,
                "paper-table5",
                Some(0.05),
                Some(MemoryBudget::Named(UsableMemory::Usable)),
                None,
            ),
            (
                &["frontier", "--memory-budget", "4e9", "--scenario", "smart-home"],
                Objective::Total,
                Level::Roofline,
                "paper-table5",
                None,
                Some(MemoryBudget::Bytes(4e9)),
                Some("smart-home"),
            ),
        ];
        for (flags, objective, level, space, latency, memory, scenario) in table {
            let f = frontier_of(flags).unwrap();
            let r = &f.request;
            assert_eq!(
                (
                    r.search.objective,
                    r.search.level,
                    r.search.space.as_str(),
                    r.latency_budget_secs,
                    r.memory_budget,
                    r.scenario.as_deref()
                ),
                (objective, level, space, latency, memory, scenario),
                "{flags:?}"
            );
            assert_eq!(r.law.as_deref(), Some("paper"));
        }
    }

    #[test]
    fn bad_frontier_flags_are_refused() {
        assert!(frontier_of(&["frontier", "--memory-budget", "lots"]).unwrap_err().to_string().contains("'lots' is not a positive number"));
        assert!(frontier_of(&["frontier", "--latency-budget=-1"]).unwrap_err().to_string().contains("--latency-budget -1"));
        assert!(frontier_of(&["frontier", "--law", "nope"]).unwrap_err().to_string().contains("unknown law 'nope'"));
        assert!(frontier_of(&["frontier", "--space", "nope"]).unwrap_err().to_string().contains("unknown design space 'nope'"));
        // An unknown level never reaches resolve: clap refuses it with the possible values.
        let e = Cli::try_parse_from(["rooflaw", "frontier", "--level", "peak"]).unwrap_err().to_string();
        assert!(e.contains("peak") && e.contains("paper, roofline, calibrated"), "{e}");
    }

    #[test]
    fn theory_needs_a_device_figures_or_the_worked_example() {
        let run = |args: &[&str]| match parse(args).command {
            Command::Theory(a) => theory(&a, &mut context(None).unwrap()),
            _ => unreachable!("a theory command"),
        };
        assert!(run(&["theory"]).unwrap_err().to_string().starts_with("give --device ID"));
        let r = run(&["theory", "--device", "jetson-orin-nano-8gb", "--decode-target", "0.1"]).unwrap();
        assert_eq!((r.device.as_deref(), r.decode_target_secs, r.precision.as_str()), (Some("jetson-orin-nano-8gb"), Some(0.1), "fp16"));
        assert!(run(&["theory", "--worked-example"]).unwrap().worked_example);
    }
}
