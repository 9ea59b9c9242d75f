//! Command-line interface definitions (clap derive). Dispatch lives in `main.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// JSON with stable keys (documented in the README).
    Json,
    /// CSV with a header line.
    Csv,
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
    #[arg(long, default_value = "jetson-agx-orin-64gb")]
    pub device: String,
    /// Power mode (default: the device's default, e.g. MAXN).
    #[arg(long)]
    pub power_mode: Option<String>,
    /// Batch size B.
    #[arg(long, default_value_t = 1)]
    pub batch: u64,
    /// Prompt tokens S_in.
    #[arg(long, default_value_t = 1024)]
    pub prompt: u64,
    /// Generated tokens S_out.
    #[arg(long, default_value_t = 16)]
    pub generate: u64,
    /// Precision preset: fp32, fp16, bf16, int8 (W8A8), int4 (W4A16), fp8.
    #[arg(long, default_value = "fp16")]
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
    /// Calibration profile for the calibrated level (a JSON written by `rooflaw calibrate --out`);
    /// default: the built-in fit on public Jetson Orin measurements.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the per-operator breakdown (prefill and decode) at this level instead of the summary.
    #[arg(long, value_enum)]
    pub breakdown: Option<LevelArg>,
}

/// A latency model level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// The paper's operator table at peak.
    Paper,
    /// Every operator at peak.
    Roofline,
    /// Every operator at calibrated efficiency plus overheads.
    Calibrated,
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
    #[arg(long, value_enum, default_value_t = LevelArg::Roofline)]
    pub level: LevelArg,
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
    /// Measurements CSV (columns: device, power_mode, engine, precision, model, batch,
    /// decode_tokens_per_sec; optional hf_architecture, source, prompt_tokens, generated_tokens,
    /// prefill_tokens_per_sec).
    pub measurements: PathBuf,
    /// Fit one profile per value of these fields (comma-separated); default: one profile for all rows.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub group_by: Vec<GroupArg>,
    /// Write the first fitted profile as JSON, for `predict --calibration FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
