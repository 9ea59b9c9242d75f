//! The request/report vocabulary that every front end speaks: the command line, the site's JavaScript
//! API and (next) the HTTP API. Each request has its documented defaults here, written once; each
//! command's result is a typed report whose JSON keys are stable.
//!
//! A request names things (a device id, a law, a design space); a [`Context`] resolves the names: the
//! device catalogue plus custom devices, calibration profiles, and laws and spaces loaded from files
//! by the caller (this crate reads no files).

use serde::{Deserialize, Serialize};

use crate::arch::{Architecture, ArchitectureSpec};
use crate::calibrate::{
    builtin_for_engine, parse_engine, profiles_for_engine, select_profile, CalibrationProfile, Interval, DEFAULT_ENGINE,
};
use crate::campaign::{
    simulate as simulate_campaign, summarise, CampaignSpace, CampaignSpec, SimulateRequest, Simulation, SimulationReport, Trace,
    MIN_RUNS_TO_FIT,
};
use crate::cost::Phase;
use crate::error::{Error, Result};
use crate::frontier::{
    best_feasible, find_scenario, match_reference, pareto_2d, pareto_3d, refine, Budget, Evaluator, MatchReport, Objective, Point,
    RefineOptions, RefineReport,
};
use crate::hardware::Catalogue;
use crate::law::{find_law, Law, LawInputs, LossPrediction};
use crate::models::find_model;
use crate::precision::{DType, Precision};
use crate::report::Prediction;
use crate::roofline::{breakdown, Bound, Level, OperatorTiming, Target};
use crate::space::{find_space, Candidate, DesignSpace};
use crate::theory::{analyse, TheoryInput, TheoryReport};
use crate::uncertain::{uncertain_frontier, Settings, Uncertainty, DEFAULT_DRAWS};
use crate::workload::Workload;

/// Every default of every request, in one place.
pub mod defaults {
    use crate::frontier::Objective;
    use crate::roofline::Level;

    /// The device priced when none is named: the paper's Jetson AGX Orin (64 GB).
    pub const DEVICE: &str = "jetson-agx-orin-64gb";
    /// Batch B.
    pub const BATCH: u64 = 1;
    /// Prompt tokens S_in (the paper's workload).
    pub const PROMPT_TOKENS: u64 = 1024;
    /// Generated tokens S_out (the paper's workload).
    pub const GENERATED_TOKENS: u64 = 16;
    /// Precision preset.
    pub const PRECISION: &str = "fp16";
    /// Reference model shown first (the paper's comparison model).
    pub const MODEL: &str = "qwen2.5-0.5b";
    /// Design space.
    pub const SPACE: &str = "paper-table5";
    /// Latin-hypercube draws of a continuous space.
    pub const SAMPLES: usize = 50_000;
    /// Seed of the sampling and refinement.
    pub const SEED: u64 = 1;
    /// Latency objective.
    pub const OBJECTIVE: Objective = Objective::Total;
    /// Latency model level.
    pub const LEVEL: Level = Level::Roofline;
    /// Loss law.
    pub const LAW: &str = "paper";
    /// Law fit: name of the fitted law.
    pub const FIT_NAME: &str = "fitted";
    /// Law fit: restarts from a Latin hypercube over the exponent bounds.
    pub const FIT_RESTARTS: usize = 48;
    /// Law fit: bootstrap resamples for the 95% intervals.
    pub const FIT_BOOTSTRAP: usize = 200;
    /// Law fit: seed.
    pub const FIT_SEED: u64 = 0;
    /// Law fit: share of runs held out when the runs name no split.
    pub const FIT_HOLDOUT: f64 = 0.2;
    /// Law fit: cross-validation folds.
    pub const FIT_FOLDS: usize = 5;
}

/// What the requests' names are resolved against.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Devices: the built-in catalogue plus custom ones.
    pub catalogue: Catalogue,
    /// Calibration profiles for the calibrated level; empty: the built-in profile.
    pub calibrations: Vec<CalibrationProfile>,
    /// Laws beyond the built-in ones (e.g. loaded from a file); they take precedence by name.
    pub laws: Vec<Law>,
    /// Design spaces beyond the built-in ones; they take precedence by name.
    pub spaces: Vec<DesignSpace>,
}

impl Context {
    /// A law by name: an added law first, then a built-in one.
    pub fn law(&self, name: &str) -> Result<Law> {
        match self.laws.iter().find(|l| l.name.eq_ignore_ascii_case(name.trim())) {
            Some(l) => Ok(l.clone()),
            None => find_law(name).cloned(),
        }
    }

    /// A design space by name: an added space first, then a built-in one.
    pub fn space(&self, name: &str) -> Result<DesignSpace> {
        match self.spaces.iter().find(|s| s.name() == name.trim()) {
            Some(s) => Ok(s.clone()),
            None => find_space(name).cloned(),
        }
    }

    /// The calibration for `target` and `engine` (None: [`DEFAULT_ENGINE`]): the built-in profile of
    /// the engine when no calibration was given; otherwise, among the given profiles, the one whose
    /// engine (when `engine` is named and a profile is grouped by engine), device and power mode match.
    pub fn calibration(&self, target: &Target, engine: Option<&str>) -> Result<CalibrationProfile> {
        if self.calibrations.is_empty() {
            return builtin_for_engine(engine.unwrap_or(DEFAULT_ENGINE));
        }
        let candidates: Vec<CalibrationProfile> = match engine {
            Some(name) => {
                let family = parse_engine(name)?;
                let picked = profiles_for_engine(&self.calibrations, family);
                if picked.is_empty() {
                    let engines: Vec<&str> = self.calibrations.iter().filter_map(|p| p.scope.engine.as_deref()).collect();
                    return Err(Error::invalid(
                        "engine",
                        format!("the calibration has no profile for {family} (its engines: {})", engines.join(", ")),
                        "name one of those engines, or fit a profile on measurements of this one",
                    ));
                }
                picked
            }
            None => self.calibrations.clone(),
        };
        let p = select_profile(&candidates, target)
            .ok_or_else(|| Error::invalid("calibration", "the calibration has no profile", "fit one on measurements of the device"))?;
        Ok(p.clone())
    }
}

/// Where an architecture comes from: a reference model's name, an architecture spec, or the text of a
/// Hugging Face config.json (the first one given, in the order spec, config.json, model).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ModelRequest {
    /// Reference model id or name.
    pub model: Option<String>,
    /// An architecture spec.
    pub spec: Option<ArchitectureSpec>,
    /// The text of a Hugging Face config.json.
    pub hf_config: Option<String>,
}

impl ModelRequest {
    /// A reference model by name.
    pub fn named(name: &str) -> Self {
        ModelRequest { model: Some(name.to_string()), ..Default::default() }
    }

    /// The validated architecture.
    pub fn architecture(&self) -> Result<Architecture> {
        match (&self.spec, &self.hf_config, &self.model) {
            (Some(s), _, _) => s.validate(),
            (None, Some(cfg), _) => crate::hf::from_hf_config(cfg),
            (None, None, Some(m)) => find_model(m)?.architecture(),
            (None, None, None) => Err(Error::invalid(
                "model",
                "no architecture given",
                "name a reference model, or give an architecture spec or a config.json",
            )),
        }
    }
}

/// Device, power mode, workload and precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TargetRequest {
    /// Device id.
    pub device: String,
    /// Power mode (None: the device's default, e.g. MAXN).
    pub power_mode: Option<String>,
    /// Batch B.
    pub batch: u64,
    /// Prompt tokens S_in.
    pub prompt_tokens: u64,
    /// Generated tokens S_out.
    pub generated_tokens: u64,
    /// Precision preset (fp32, fp16, bf16, int8, int4, fp8).
    pub precision: String,
    /// Weight element type overriding the preset's.
    pub weights: Option<String>,
    /// Activation element type overriding the preset's.
    pub activations: Option<String>,
    /// KV-cache element type overriding the preset's.
    pub kv: Option<String>,
    /// Inference engine whose calibration prices the calibrated level (`mlc`, `llama.cpp`, `vllm`,
    /// `tensorrt-llm`, `tinychat`, `transformers`, `ollama`, `burn`; None: `mlc`).
    pub engine: Option<String>,
}

impl Default for TargetRequest {
    fn default() -> Self {
        TargetRequest {
            device: defaults::DEVICE.to_string(),
            power_mode: None,
            batch: defaults::BATCH,
            prompt_tokens: defaults::PROMPT_TOKENS,
            generated_tokens: defaults::GENERATED_TOKENS,
            precision: defaults::PRECISION.to_string(),
            weights: None,
            activations: None,
            kv: None,
            engine: None,
        }
    }
}

impl TargetRequest {
    /// The precision: the preset with any per-class override.
    pub fn precision(&self) -> Result<Precision> {
        let mut p = Precision::preset(&self.precision)?;
        if let Some(w) = &self.weights {
            p.weights = DType::parse("weights", w)?;
        }
        if let Some(a) = &self.activations {
            p.activations = DType::parse("activations", a)?;
        }
        if let Some(k) = &self.kv {
            p.kv = DType::parse("kv", k)?;
        }
        Ok(p)
    }

    /// The workload.
    pub fn workload(&self) -> Result<Workload> {
        Workload::new(self.batch, self.prompt_tokens, self.generated_tokens)
    }

    /// The priced target, on a device of the catalogue.
    pub fn resolve(&self, catalogue: &Catalogue) -> Result<Target> {
        let device = catalogue.get(&self.device)?;
        Target::new(device, self.power_mode.as_deref(), self.workload()?, self.precision()?)
    }
}

/// Which candidates are searched and how they are priced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SearchRequest {
    /// Design space name.
    pub space: String,
    /// Latin-hypercube draws of a continuous space (ignored for a grid).
    pub samples: usize,
    /// Seed of the sampling and refinement.
    pub seed: u64,
    /// Refine a sampled frontier around its points and in its gaps until it stops changing.
    pub refine: bool,
    /// Latency objective.
    pub objective: Objective,
    /// Latency model level.
    pub level: Level,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            space: defaults::SPACE.to_string(),
            samples: defaults::SAMPLES,
            seed: defaults::SEED,
            refine: false,
            objective: defaults::OBJECTIVE,
            level: defaults::LEVEL,
        }
    }
}

/// A memory budget: a number of bytes, or the device's usable memory.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum MemoryBudget {
    /// At most this many bytes.
    Bytes(f64),
    /// `"usable"`: the device's usable memory.
    Named(UsableMemory),
}

/// The word `usable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum UsableMemory {
    /// The device's usable memory.
    Usable,
}

impl MemoryBudget {
    /// Parses a positive number of bytes (`4e9`) or `usable`.
    pub fn parse(s: &str) -> Result<MemoryBudget> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("usable") {
            return Ok(MemoryBudget::Named(UsableMemory::Usable));
        }
        match t.parse::<f64>() {
            Ok(b) if b.is_finite() && b > 0.0 => Ok(MemoryBudget::Bytes(b)),
            _ => Err(Error::invalid("memory budget", format!("'{s}' is not a positive number of bytes"), "use e.g. 4e9, or usable")),
        }
    }

    /// Bytes on `target`.
    pub fn bytes(self, target: &Target) -> Result<f64> {
        match self {
            MemoryBudget::Named(UsableMemory::Usable) => Ok(target.usable_memory_bytes),
            MemoryBudget::Bytes(b) if b.is_finite() && b > 0.0 => Ok(b),
            MemoryBudget::Bytes(b) => {
                Err(Error::invalid("memory budget", format!("{b} is not a positive number of bytes"), "use e.g. 4e9"))
            }
        }
    }
}

/// A frontier search with budgets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FrontierRequest {
    /// Candidates and pricing.
    #[serde(flatten)]
    pub search: SearchRequest,
    /// Device and workload.
    #[serde(flatten)]
    pub target: TargetRequest,
    /// Law name (None: the default law).
    pub law: Option<String>,
    /// Latency budget on the objective, in seconds.
    pub latency_budget_secs: Option<f64>,
    /// Memory budget.
    pub memory_budget: Option<MemoryBudget>,
    /// A Table 2 scenario: its latency budget (unless one is given) and its objective.
    pub scenario: Option<String>,
    /// Memory as a third objective.
    pub with_memory: bool,
    /// Monte Carlo draws of the uncertain frontier (P(Pareto), the band, the best design's odds); None:
    /// [`DEFAULT_DRAWS`]; 0: none.
    pub draws: Option<usize>,
}

/// The best candidate at a reference model's latency.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchRequest {
    /// The reference.
    #[serde(flatten)]
    pub model: ModelRequest,
    /// Candidates and pricing.
    #[serde(flatten)]
    pub search: SearchRequest,
    /// Device and workload.
    #[serde(flatten)]
    pub target: TargetRequest,
    /// Law name (None: the default law).
    pub law: Option<String>,
}

/// One architecture under a law.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LawRequest {
    /// The architecture.
    #[serde(flatten)]
    pub model: ModelRequest,
    /// Law name (None: the default law).
    pub law: Option<String>,
}

/// One architecture's latency and memory on a target.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PredictRequest {
    /// The architecture.
    #[serde(flatten)]
    pub model: ModelRequest,
    /// Device and workload.
    #[serde(flatten)]
    pub target: TargetRequest,
}

/// The theory's inputs: the paper's worked example, or a device (π, β, usable memory at a precision),
/// with any figure overridden.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TheoryRequest {
    /// Start from the paper's worked example (10 TOPS, 50 GB/s, 4 GB, 100 ms decode, S_out = 10).
    pub worked_example: bool,
    /// Take π, β and usable memory from this device.
    pub device: Option<String>,
    /// Power mode of the device.
    pub power_mode: Option<String>,
    /// π in FLOP/s.
    pub peak_flops_per_sec: Option<f64>,
    /// β in bytes/s.
    pub mem_bandwidth_bytes_per_sec: Option<f64>,
    /// Memory budget M in bytes.
    pub memory_budget_bytes: Option<f64>,
    /// Prefill latency target in seconds.
    pub prefill_target_secs: Option<f64>,
    /// Decode latency target for all S_out steps, in seconds.
    pub decode_target_secs: Option<f64>,
    /// Batch B.
    pub batch: Option<f64>,
    /// Prompt tokens S_in.
    pub prompt_tokens: Option<f64>,
    /// Generated tokens S_out.
    pub generated_tokens: Option<f64>,
    /// Precision preset (sets b_w and b_kv; with a device, also π).
    pub precision: String,
    /// Width d at which ρ*, l*, r*, gqa* are evaluated.
    pub d_model: Option<f64>,
    /// FFN ratio r where it is taken as given.
    pub ffn_ratio: Option<f64>,
    /// GQA ratio where it is taken as given.
    pub gqa: Option<f64>,
    /// Law name (None: the default law).
    pub law: Option<String>,
    /// An inference engine: its built-in calibration's η_c and η_m scale the ceilings π and β, so the
    /// closed forms speak for what that engine reaches rather than for peak (None: peak).
    pub engine: Option<String>,
}

impl Default for TheoryRequest {
    fn default() -> Self {
        TheoryRequest {
            worked_example: false,
            device: None,
            power_mode: None,
            peak_flops_per_sec: None,
            mem_bandwidth_bytes_per_sec: None,
            memory_budget_bytes: None,
            prefill_target_secs: None,
            decode_target_secs: None,
            batch: None,
            prompt_tokens: None,
            generated_tokens: None,
            precision: defaults::PRECISION.to_string(),
            d_model: None,
            ffn_ratio: None,
            gqa: None,
            law: None,
            engine: None,
        }
    }
}

fn law_of(ctx: &Context, name: &Option<String>) -> Result<Law> {
    ctx.law(name.as_deref().unwrap_or(defaults::LAW))
}

/// `predict`: every level, the closed forms and memory.
pub fn predict(req: &PredictRequest, ctx: &Context) -> Result<Prediction> {
    let arch = req.model.architecture()?;
    let target = req.target.resolve(&ctx.catalogue)?;
    let cal = ctx.calibration(&target, req.target.engine.as_deref())?;
    Ok(crate::report::predict(&arch, &target, &cal))
}

/// One row of a per-operator breakdown, flat (for tables, CSV and JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakdownRecord {
    /// `prefill` or `decode` (decode rows are summed over all steps).
    pub phase: &'static str,
    /// Operator name.
    pub operator: &'static str,
    /// Executions per forward pass.
    pub repeats: f64,
    /// FLOPs.
    pub flops: f64,
    /// Weight bytes.
    pub weight_bytes: f64,
    /// Activation bytes.
    pub activation_bytes: f64,
    /// KV-cache bytes read.
    pub kv_read_bytes: f64,
    /// KV-cache bytes written.
    pub kv_write_bytes: f64,
    /// All bytes.
    pub bytes: f64,
    /// FLOPs per byte.
    pub intensity_flops_per_byte: f64,
    /// `compute` or `memory`.
    pub bound: &'static str,
    /// Seconds at the level's ceilings.
    pub time_secs: f64,
}

impl From<&OperatorTiming> for BreakdownRecord {
    fn from(r: &OperatorTiming) -> Self {
        BreakdownRecord {
            phase: phase_name(r.phase),
            operator: r.name,
            repeats: r.repeats,
            flops: r.cost.flops,
            weight_bytes: r.cost.weight_bytes,
            activation_bytes: r.cost.activation_bytes,
            kv_read_bytes: r.cost.kv_read_bytes,
            kv_write_bytes: r.cost.kv_write_bytes,
            bytes: r.bytes,
            intensity_flops_per_byte: r.intensity_flops_per_byte,
            bound: match r.bound {
                Bound::Compute => "compute",
                Bound::Memory => "memory",
            },
            time_secs: r.time_secs,
        }
    }
}

/// `prefill` or `decode`.
pub fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Prefill => "prefill",
        Phase::Decode => "decode",
    }
}

/// The per-operator breakdown at a level, prefill rows then decode rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    /// Architecture name.
    pub model: String,
    /// The target.
    pub target: Target,
    /// The level.
    pub level: Level,
    /// Rows.
    pub rows: Vec<BreakdownRecord>,
}

/// `predict --breakdown`: every operator at one level.
pub fn breakdown_of(req: &PredictRequest, level: Level, ctx: &Context) -> Result<Breakdown> {
    let arch = req.model.architecture()?;
    let target = req.target.resolve(&ctx.catalogue)?;
    let cal = ctx.calibration(&target, req.target.engine.as_deref())?;
    let rows = [Phase::Prefill, Phase::Decode]
        .into_iter()
        .flat_map(|ph| breakdown(&arch, &target, level, &cal.efficiency, ph))
        .map(|r| BreakdownRecord::from(&r))
        .collect();
    Ok(Breakdown { model: arch.name, target, level, rows })
}

/// `law`: an architecture's predicted loss.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LawReport {
    /// Architecture name.
    pub model: String,
    /// The law.
    pub law: Law,
    /// The law's inputs for the architecture.
    pub inputs: LawInputs,
    /// Loss, perplexity, extrapolation flags.
    pub prediction: LossPrediction,
}

/// `law`: predicted loss and perplexity.
pub fn law(req: &LawRequest, ctx: &Context) -> Result<LawReport> {
    let a = req.model.architecture()?;
    let law = law_of(ctx, &req.law)?;
    let prediction = law.predict(&a);
    Ok(LawReport { model: a.name.clone(), inputs: LawInputs::of(&a), law, prediction })
}

/// One candidate of a search: the one record used by every output (CLI tables, CSV and JSON, the
/// site's exports, the JavaScript and HTTP APIs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CandidateRecord {
    /// Name.
    pub name: String,
    /// Whether it is on the Pareto frontier.
    pub on_frontier: bool,
    /// Layers l.
    pub layers: u64,
    /// Width d.
    pub d_model: u64,
    /// Query heads.
    pub heads: u64,
    /// KV heads.
    pub kv_heads: u64,
    /// Head dimension.
    pub head_dim: u64,
    /// FFN ratio r over the active experts.
    pub ffn_ratio: f64,
    /// Expert FFN intermediate size.
    pub intermediate_size: u64,
    /// Experts E.
    pub experts: u64,
    /// Active experts K.
    pub active_experts: u64,
    /// Vocabulary.
    pub vocab_size: u64,
    /// Predicted loss.
    pub loss: f64,
    /// Predicted perplexity.
    pub perplexity: f64,
    /// Latency of the objective.
    pub latency_secs: f64,
    /// Memory footprint.
    pub memory_bytes: f64,
    /// Total parameters.
    pub total_params: u64,
    /// Probability of being on the loss–latency frontier, under the law's and the latency's
    /// uncertainty (None: not computed).
    pub p_pareto: Option<f64>,
    /// 5th percentile of the loss over the law's bootstrap (None: not computed, or never on the frontier).
    pub loss_low: Option<f64>,
    /// 95th percentile.
    pub loss_high: Option<f64>,
}

impl CandidateRecord {
    /// The record of an evaluated architecture.
    pub fn new(a: &Architecture, p: &Point, on_frontier: bool) -> Self {
        CandidateRecord {
            name: a.name.clone(),
            on_frontier,
            layers: a.layers,
            d_model: a.d_model,
            heads: a.heads,
            kv_heads: a.kv_heads,
            head_dim: a.head_dim,
            ffn_ratio: a.ffn_ratio(),
            intermediate_size: a.intermediate_size,
            experts: a.experts,
            active_experts: a.active_experts,
            vocab_size: a.vocab_size,
            loss: p.loss,
            perplexity: p.perplexity(),
            latency_secs: p.latency_secs,
            memory_bytes: p.memory_bytes,
            total_params: a.params().total,
            p_pareto: None,
            loss_low: None,
            loss_high: None,
        }
    }

    /// The record with candidate `i`'s uncertainty.
    pub fn with_uncertainty(mut self, u: &Uncertainty, i: usize) -> Self {
        self.p_pareto = Some(u.p_pareto(i));
        if u.law_draws > 0 {
            if let Some([lo, hi]) = u.loss_interval(i) {
                self.loss_low = Some(lo);
                self.loss_high = Some(hi);
            }
        }
        self
    }
}

/// Records as CSV with a header line.
pub fn to_csv<T: Serialize>(records: &[T]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.serialize(r).map_err(|e| Error::parse("CSV output", e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::parse("CSV output", e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Error::parse("CSV output", e.to_string()))
}

/// Records of the frontier `front` (by latency), or of every candidate in order, each flagged with
/// whether it is on the frontier, with its P(Pareto) and loss interval when `uncertainty` is given.
pub fn candidate_records(
    candidates: &[Candidate],
    points: &[Point],
    front: &[usize],
    all: bool,
    uncertainty: Option<&Uncertainty>,
) -> Vec<CandidateRecord> {
    let on = on_front(points.len(), front);
    let idx: Vec<usize> = if all { (0..points.len()).collect() } else { front.to_vec() };
    idx.into_iter().map(|i| candidate_record(&candidates[i], &points[i], on[i], i, uncertainty)).collect()
}

fn candidate_record(c: &Candidate, p: &Point, on: bool, i: usize, uncertainty: Option<&Uncertainty>) -> CandidateRecord {
    let r = CandidateRecord::new(&c.arch, p, on);
    match uncertainty {
        Some(u) => r.with_uncertainty(u, i),
        None => r,
    }
}

fn on_front(n: usize, front: &[usize]) -> Vec<bool> {
    let mut on = vec![false; n];
    for &i in front {
        on[i] = true;
    }
    on
}

/// An evaluated search: every candidate with its point, the frontier and the best feasible design.
#[derive(Debug, Clone)]
pub struct Search {
    /// The space searched.
    pub space: DesignSpace,
    /// Combinations (grid) or draws (continuous) tried.
    pub tried: u64,
    /// Valid candidates before refinement.
    pub valid: usize,
    /// Candidates (after refinement).
    pub candidates: Vec<Candidate>,
    /// Their points.
    pub points: Vec<Point>,
    /// Frontier indices, by increasing latency.
    pub front: Vec<usize>,
    /// Refinement rounds, when asked for on a continuous space.
    pub refinement: Option<RefineReport>,
    /// The target.
    pub target: Target,
    /// The level.
    pub level: Level,
    /// The calibration of the calibrated level.
    pub calibration: CalibrationProfile,
    /// The law.
    pub law: Law,
    /// The objective (a scenario's, when one was named).
    pub objective: Objective,
    /// The budget.
    pub budget: Budget,
    /// Memory was a third objective.
    pub with_memory: bool,
    /// Index of the best feasible candidate under the budget.
    pub best: Option<usize>,
    /// The uncertain frontier (None when no draws were asked for).
    pub uncertainty: Option<Uncertainty>,
}

/// The JSON report of a frontier search (`rooflaw frontier --format json`; keys stable).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FrontierReport {
    /// Space name.
    pub space: String,
    /// The space's stated assumptions.
    pub assumptions: Vec<String>,
    /// Combinations or draws tried.
    pub tried: u64,
    /// Valid candidates.
    pub valid: usize,
    /// Candidates evaluated (after refinement).
    pub evaluated: usize,
    /// Refinement rounds.
    pub refinement: Option<RefineReport>,
    /// Device id.
    pub device: String,
    /// Power mode.
    pub power_mode: String,
    /// Precision.
    pub precision: String,
    /// Workload.
    pub workload: Workload,
    /// Objective.
    pub objective: &'static str,
    /// Level.
    pub level: &'static str,
    /// Law name.
    pub law: String,
    /// Budget.
    pub budget: Budget,
    /// The calibration of the calibrated level (its label).
    pub calibration: String,
    /// At the calibrated level: the 90% prediction interval of every candidate's latency, as factors on
    /// it (from the calibration's leave-one-out residuals; none where it has no rows of the objective).
    pub latency_interval: Option<Interval>,
    /// Best feasible candidate.
    pub best_feasible: Option<CandidateRecord>,
    /// The uncertain frontier: draws, the error model, the band and the best design's odds (each
    /// candidate's P(Pareto) and loss interval are in its record).
    pub uncertainty: Option<Uncertainty>,
    /// The frontier, or every candidate.
    pub candidates: Vec<CandidateRecord>,
}

impl Search {
    /// The latency interval factors of the search's objective (calibrated level only).
    pub fn latency_interval(&self) -> Option<Interval> {
        (self.level == Level::Calibrated).then(|| self.calibration.objective_interval(self.objective)).flatten()
    }

    /// The evaluator the search used.
    pub fn evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            target: &self.target,
            level: self.level,
            efficiency: self.calibration.efficiency,
            law: &self.law,
            objective: self.objective,
        }
    }

    /// Records of the frontier (by latency), or of every candidate in order.
    pub fn records(&self, all: bool) -> Vec<CandidateRecord> {
        candidate_records(&self.candidates, &self.points, &self.front, all, self.uncertainty.as_ref())
    }

    /// Candidates that fit the budget.
    pub fn feasible(&self) -> usize {
        self.points.iter().filter(|p| self.budget.admits(p)).count()
    }

    /// The JSON report.
    pub fn report(&self, all: bool) -> FrontierReport {
        let on = on_front(self.points.len(), &self.front);
        FrontierReport {
            space: self.space.name().to_string(),
            assumptions: self.space.assumptions().to_vec(),
            tried: self.tried,
            valid: self.valid,
            evaluated: self.candidates.len(),
            refinement: self.refinement.clone(),
            device: self.target.device_id.clone(),
            power_mode: self.target.power_mode.clone(),
            precision: self.target.precision.to_string(),
            workload: self.target.workload,
            objective: self.objective.name(),
            level: self.level.name(),
            law: self.law.name.clone(),
            budget: self.budget,
            calibration: self.calibration.label.clone(),
            latency_interval: self.latency_interval(),
            best_feasible: self.best.map(|i| candidate_record(&self.candidates[i], &self.points[i], on[i], i, self.uncertainty.as_ref())),
            uncertainty: self.uncertainty.clone(),
            candidates: self.records(all),
        }
    }
}

/// The candidates of a space, with the number tried.
fn candidates_of(space: &DesignSpace, search: &SearchRequest) -> Result<(u64, Vec<Candidate>)> {
    space.candidates(search.samples, search.seed)
}

fn evaluate(
    space: &DesignSpace,
    search: &SearchRequest,
    ev: &Evaluator,
    mut cands: Vec<Candidate>,
) -> (Vec<Candidate>, Vec<Point>, Option<RefineReport>) {
    let mut points = ev.evaluate(&cands);
    let report = match (space, search.refine) {
        (DesignSpace::Continuous(c), true) => {
            Some(refine(c, ev, &mut cands, &mut points, &RefineOptions { seed: search.seed, ..Default::default() }))
        }
        _ => None,
    };
    (cands, points, report)
}

/// `frontier`: evaluates the space, extracts the frontier and the best design under the budget.
pub fn frontier(req: &FrontierRequest, ctx: &Context) -> Result<Search> {
    let target = req.target.resolve(&ctx.catalogue)?;
    let law = law_of(ctx, &req.law)?;
    let calibration = ctx.calibration(&target, req.target.engine.as_deref())?;
    let scenario = req.scenario.as_deref().map(find_scenario).transpose()?;
    let objective = scenario.map_or(req.search.objective, |s| s.objective);
    if let Some(b) = req.latency_budget_secs {
        if !b.is_finite() || b <= 0.0 {
            return Err(Error::invalid("latency budget", format!("{b} is not a positive number of seconds"), "use e.g. 0.1"));
        }
    }
    let budget = Budget {
        latency_secs: req.latency_budget_secs.or(scenario.map(|s| s.latency_secs)),
        memory_bytes: req.memory_budget.map(|m| m.bytes(&target)).transpose()?,
    };
    let space = ctx.space(&req.search.space)?;
    let (tried, cands) = candidates_of(&space, &req.search)?;
    let valid = cands.len();
    let ev = Evaluator { target: &target, level: req.search.level, efficiency: calibration.efficiency, law: &law, objective };
    let (candidates, points, refinement) = evaluate(&space, &req.search, &ev, cands);
    let front = if req.with_memory { pareto_3d(&points) } else { pareto_2d(&points) };
    let best = best_feasible(&points, &budget);
    let draws = req.draws.unwrap_or(DEFAULT_DRAWS);
    let interval = (req.search.level == Level::Calibrated).then(|| calibration.objective_interval(objective)).flatten();
    let uncertainty = (draws > 0).then(|| {
        uncertain_frontier(
            &law,
            &candidates,
            &points,
            &Settings { draws, seed: req.search.seed, interval: interval.as_ref(), budget: &budget, best },
        )
    });
    Ok(Search {
        space,
        tried,
        valid,
        candidates,
        points,
        front,
        refinement,
        target,
        level: req.search.level,
        calibration,
        law,
        objective,
        budget,
        with_memory: req.with_memory,
        best,
        uncertainty,
    })
}

/// A campaign's candidates priced once on its target: latency and memory from the latency model, each
/// run's training FLOPs for `tokens` tokens of `seq`-token sequences (6N·T plus attention).
pub fn campaign_space(spec: &CampaignSpec, ctx: &Context, tokens: f64, seq: u64) -> Result<CampaignSpace> {
    spec.check()?;
    let target = spec.target.resolve(&ctx.catalogue)?;
    let calibration = ctx.calibration(&target, spec.target.engine.as_deref())?;
    let space = ctx.space(&spec.search.space)?;
    let (_, candidates) = candidates_of(&space, &spec.search)?;
    let law = Law::paper();
    let ev =
        Evaluator { target: &target, level: spec.search.level, efficiency: calibration.efficiency, law, objective: spec.search.objective };
    let points = ev.evaluate(&candidates);
    let costs =
        candidates.iter().map(|c| crate::cost::training_flops_per_token(&c.arch, seq).map(|f| f * tokens)).collect::<Result<Vec<f64>>>()?;
    let budget = Budget { latency_secs: spec.latency_budget_secs, memory_bytes: spec.memory_budget.map(|m| m.bytes(&target)).transpose()? };
    Ok(CampaignSpace {
        features: crate::campaign::features(&candidates),
        candidates,
        points,
        costs,
        interval: (spec.search.level == Level::Calibrated).then(|| calibration.objective_interval(spec.search.objective)).flatten(),
        budget,
        tokens,
    })
}

/// `campaign simulate`: the space priced on the target, the true law's losses, and every strategy's
/// campaigns replayed (seeds 1…n). Runs count one each: the comparison is by number of runs.
pub fn simulate(req: &SimulateRequest, ctx: &Context) -> Result<SimulationReport> {
    if req.initial < MIN_RUNS_TO_FIT {
        return Err(Error::invalid(
            "initial",
            format!("{} initial runs cannot fit the law's 11 coefficients", req.initial),
            format!("start from at least {MIN_RUNS_TO_FIT} runs"),
        ));
    }
    if req.batch == 0 || req.max_runs < req.initial || req.seeds == 0 || req.strategies.is_empty() {
        return Err(Error::invalid(
            "campaign",
            format!("batch {}, max runs {}, seeds {}, {} strategies", req.batch, req.max_runs, req.seeds, req.strategies.len()),
            "give a batch ≥ 1, max runs ≥ the initial runs, at least one seed and one strategy",
        ));
    }
    if !(req.noise.is_finite() && req.noise >= 0.0 && req.tolerance.is_finite() && req.tolerance > 0.0) {
        return Err(Error::invalid(
            "noise",
            format!("noise {} and tolerance {}", req.noise, req.tolerance),
            "give a noise ≥ 0 and a tolerance > 0 (nats)",
        ));
    }
    crate::campaign::check_explore(req.explore)?;
    if !(req.misspecification.is_finite() && req.misspecification >= 0.0) {
        return Err(Error::invalid(
            "misspecification",
            format!("{}", req.misspecification),
            "give the misspecification surface's standard deviation in nats, ≥ 0 (0: none)",
        ));
    }
    let target = req.target.resolve(&ctx.catalogue)?;
    let truth = law_of(ctx, &req.truth)?;
    let calibration = ctx.calibration(&target, req.target.engine.as_deref())?;
    let space = ctx.space(&req.search.space)?;
    let (_, candidates) = candidates_of(&space, &req.search)?;
    let ev = Evaluator {
        target: &target,
        level: req.search.level,
        efficiency: calibration.efficiency,
        law: &truth,
        objective: req.search.objective,
    };
    let mut points = ev.evaluate(&candidates);
    if req.misspecification > 0.0 {
        // One surface for every campaign and strategy: they all chase the same truth.
        let surface = crate::campaign::misspecification(&crate::campaign::features(&candidates), req.misspecification, 0);
        points.iter_mut().zip(surface).for_each(|(p, m)| p.loss += m);
    }
    let interval = (req.search.level == Level::Calibrated).then(|| calibration.objective_interval(req.search.objective)).flatten();
    let costs = vec![1.0; candidates.len()];
    let sim = Simulation {
        truth: &truth,
        noise: req.noise,
        candidates: &candidates,
        points: &points,
        costs: &costs,
        interval: interval.as_ref(),
        initial: req.initial,
        batch: req.batch,
        max_runs: req.max_runs.min(candidates.len()),
        bootstrap: req.bootstrap,
        restarts: req.restarts.max(1),
        draws: req.draws.max(1),
        explore: req.explore,
    };
    let traces: Vec<Trace> = req
        .strategies
        .iter()
        .flat_map(|&st| (1..=req.seeds as u64).map(move |seed| (st, seed)))
        .map(|(st, seed)| simulate_campaign(&sim, st, seed))
        .collect();
    let summary = req.strategies.iter().map(|&st| summarise(st, &traces, req.tolerance)).collect();
    Ok(SimulationReport {
        space: space.name().to_string(),
        candidates: candidates.len(),
        device: target.device_id.clone(),
        objective: req.search.objective.name().to_string(),
        level: req.search.level.name().to_string(),
        truth: if req.misspecification > 0.0 {
            format!("{} + a smooth surface of {} nats", truth.name, req.misspecification)
        } else {
            truth.name.clone()
        },
        request: req.clone(),
        traces,
        summary,
    })
}

/// `match`: the report with what it was priced on.
#[derive(Debug, Clone)]
pub struct Matched {
    /// The comparison.
    pub report: MatchReport,
    /// The calibration of the calibrated level (its label).
    pub calibration: String,
    /// At the calibrated level: the 90% prediction interval of the latencies, as factors on them.
    pub latency_interval: Option<Interval>,
    /// The target.
    pub target: Target,
    /// The level.
    pub level: Level,
    /// The objective.
    pub objective: Objective,
    /// Space name.
    pub space: String,
}

/// `match`: the best candidate at or below the reference's latency. Candidates take the reference's
/// vocabulary and embedding tying, so the comparison is about the body.
pub fn matching(req: &MatchRequest, ctx: &Context) -> Result<Matched> {
    let reference = req.model.architecture()?;
    let target = req.target.resolve(&ctx.catalogue)?;
    let law = law_of(ctx, &req.law)?;
    let calibration = ctx.calibration(&target, req.target.engine.as_deref())?;
    let ev = Evaluator {
        target: &target,
        level: req.search.level,
        efficiency: calibration.efficiency,
        law: &law,
        objective: req.search.objective,
    };
    let space = ctx.space(&req.search.space)?.with_vocab(reference.vocab_size, reference.tied_embeddings);
    let (_, cands) = candidates_of(&space, &req.search)?;
    let (cands, points, _) = evaluate(&space, &req.search, &ev, cands);
    let report = match_reference(&ev, &reference, &cands, &points);
    let latency_interval = (req.search.level == Level::Calibrated).then(|| calibration.objective_interval(req.search.objective)).flatten();
    Ok(Matched {
        report,
        calibration: calibration.label,
        latency_interval,
        level: req.search.level,
        objective: req.search.objective,
        space: space.name().to_string(),
        target,
    })
}

/// `theory`: the request made into the theory's inputs, and analysed.
pub fn theory(req: &TheoryRequest, ctx: &Context) -> Result<TheoryReport> {
    let law = law_of(ctx, &req.law)?;
    let mut input = TheoryInput::WORKED_EXAMPLE;
    if !req.worked_example {
        input.prefill_target_secs = None;
        input.decode_target_secs = None;
        input.prompt_tokens = defaults::PROMPT_TOKENS as f64;
        input.generated_tokens = defaults::GENERATED_TOKENS as f64;
    }
    let precision = Precision::preset(&req.precision)?;
    input.weight_bytes = precision.weights.bytes();
    input.kv_bytes = precision.kv.bytes();
    if let Some(id) = &req.device {
        let d = ctx.catalogue.get(id)?;
        let profile = d.profile(req.power_mode.as_deref())?;
        input.peak_flops_per_sec = profile.peak_flops(precision.math()?, d)?;
        input.mem_bandwidth_bytes_per_sec = profile.mem_bandwidth_bytes_per_sec;
        input.memory_budget_bytes = profile.usable_memory_bytes;
    } else if !req.worked_example
        && (req.peak_flops_per_sec.is_none() || req.mem_bandwidth_bytes_per_sec.is_none() || req.memory_budget_bytes.is_none())
    {
        return Err(Error::invalid(
            "device",
            "no device figures given",
            "name a device, give peak compute, bandwidth and a memory budget, or start from the worked example",
        ));
    }
    let set = |slot: &mut f64, v: Option<f64>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(&mut input.peak_flops_per_sec, req.peak_flops_per_sec);
    set(&mut input.mem_bandwidth_bytes_per_sec, req.mem_bandwidth_bytes_per_sec);
    set(&mut input.memory_budget_bytes, req.memory_budget_bytes);
    set(&mut input.batch, req.batch);
    set(&mut input.prompt_tokens, req.prompt_tokens);
    set(&mut input.generated_tokens, req.generated_tokens);
    set(&mut input.d_model, req.d_model);
    set(&mut input.ffn_ratio, req.ffn_ratio);
    set(&mut input.gqa, req.gqa);
    if req.prefill_target_secs.is_some() {
        input.prefill_target_secs = req.prefill_target_secs;
    }
    if req.decode_target_secs.is_some() {
        input.decode_target_secs = req.decode_target_secs;
    }
    if let Some(engine) = &req.engine {
        let e = builtin_for_engine(engine)?.efficiency;
        input.peak_flops_per_sec *= e.compute;
        input.mem_bandwidth_bytes_per_sec *= e.memory;
    }
    analyse(&input, &law.coefficients)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn requests_take_their_defaults_from_one_place() {
        let t: TargetRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(t, TargetRequest::default());
        assert_eq!((t.device.as_str(), t.batch, t.prompt_tokens, t.generated_tokens), ("jetson-agx-orin-64gb", 1, 1024, 16));
        let f: FrontierRequest = serde_json::from_str(r#"{"objective": "decode", "batch": 2}"#).unwrap();
        assert_eq!(f.search.objective, Objective::Decode);
        assert_eq!(f.search.level, Level::Roofline);
        assert_eq!(f.target.batch, 2);
        assert_eq!(f.search.samples, 50_000);
        let p: PredictRequest = serde_json::from_str(r#"{"model": "qwen2.5-0.5b", "device": "jetson-orin-nano-8gb"}"#).unwrap();
        assert_eq!(p.model.model.as_deref(), Some("qwen2.5-0.5b"));
        assert_eq!(p.target.device, "jetson-orin-nano-8gb");
    }

    #[test]
    fn a_level_or_objective_that_is_not_one_is_refused() {
        assert_eq!(Level::parse(" Calibrated ").unwrap(), Level::Calibrated);
        assert_eq!(Level::parse("peak").unwrap_err().to_string(), "unknown level 'peak'; use paper, roofline or calibrated");
        assert!(serde_json::from_str::<SearchRequest>(r#"{"level": "peak"}"#).is_err());
    }

    #[test]
    fn memory_budgets_are_bytes_or_usable() {
        assert_eq!(MemoryBudget::parse("4e9").unwrap(), MemoryBudget::Bytes(4e9));
        assert_eq!(MemoryBudget::parse("usable").unwrap(), MemoryBudget::Named(UsableMemory::Usable));
        assert!(MemoryBudget::parse("-1").is_err());
        assert!(MemoryBudget::parse("lots").is_err());
        let f: FrontierRequest = serde_json::from_str(r#"{"memory_budget": "usable"}"#).unwrap();
        assert_eq!(f.memory_budget, Some(MemoryBudget::Named(UsableMemory::Usable)));
    }

    #[test]
    fn a_candidate_record_carries_the_perplexity_of_its_loss() {
        let a = find_model("qwen2.5-0.5b").unwrap().architecture().unwrap();
        let p = Point { loss: 3.0, latency_secs: 0.1, memory_bytes: 1e9 };
        let r = CandidateRecord::new(&a, &p, true);
        // e³ = 20.0855…
        assert!((r.perplexity - 20.085_536_923_187_668).abs() < 1e-12);
        assert_eq!(r.total_params, 494_032_768);
        let csv = to_csv(&[r]).unwrap();
        assert!(csv.starts_with("name,on_frontier,layers,d_model,"), "{csv}");
        assert_eq!(csv.lines().count(), 2);
    }

    #[test]
    fn a_frontier_request_searches_the_table5_grid() {
        let req = FrontierRequest { latency_budget_secs: Some(0.05), ..Default::default() };
        let s = frontier(&req, &Context::default()).unwrap();
        // 6,560 valid designs of the 7,200 Table 5 combinations (hand count in space.rs).
        assert_eq!((s.tried, s.valid), (7_200, 6_560));
        let best = s.best.unwrap();
        assert!(s.points[best].latency_secs <= 0.05);
        let r = s.report(false);
        assert_eq!(r.candidates.len(), s.front.len());
        assert!(r.candidates.iter().all(|c| c.on_frontier));
        assert_eq!(r.best_feasible.unwrap().loss, s.points[best].loss);
    }

    #[test]
    fn matching_uses_the_references_vocabulary() {
        let req = MatchRequest { model: ModelRequest::named("qwen2.5-0.5b"), ..Default::default() };
        let m = matching(&req, &Context::default()).unwrap();
        let best = m.report.best.unwrap();
        assert_eq!(best.architecture.vocab_size, 151_936);
        assert!(best.latency_secs <= m.report.reference.latency_secs);
    }

    #[test]
    fn an_engines_own_profile_wins_over_one_for_every_engine() {
        let (mlc, pooled) = (builtin_for_engine("mlc").unwrap(), builtin_for_engine("transformers").unwrap());
        assert!(pooled.scope.engine.is_none() && mlc.scope.engine.as_deref() == Some("mlc"));
        let t = TargetRequest::default().resolve(&Catalogue::default()).unwrap();
        for order in [vec![mlc.clone(), pooled.clone()], vec![pooled.clone(), mlc.clone()]] {
            let ctx = Context { calibrations: order, ..Default::default() };
            assert_eq!(ctx.calibration(&t, Some("MLC 0.1.2")).unwrap().label, mlc.label);
            // An engine the file has no profile of gets the unscoped one.
            assert_eq!(ctx.calibration(&t, Some("vllm")).unwrap().label, pooled.label);
        }
        let only_mlc = Context { calibrations: vec![mlc], ..Default::default() };
        assert!(only_mlc.calibration(&t, Some("vllm")).unwrap_err().to_string().contains("no profile for vllm"));
    }

    #[test]
    fn theory_needs_figures_or_a_device() {
        assert!(theory(&TheoryRequest::default(), &Context::default()).is_err());
        let r = theory(&TheoryRequest { worked_example: true, ..Default::default() }, &Context::default()).unwrap();
        // The paper's worked example: M̄_d = 0.1 s × 50 GB/s / 10 steps = 0.5 GB, η = 0.5 / 4 = 0.125.
        assert!((r.eta.unwrap() - 0.125).abs() < 1e-12);
    }
}
