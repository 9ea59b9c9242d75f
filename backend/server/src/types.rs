//! The shapes of the API's list and wrapper responses (the records themselves are the store's and the
//! science crate's types); the OpenAPI document describes these same types.

use rooflaw::hardware::Device;
use rooflaw_store::{Agent, Calibration, Fit, MeasureJob, Measurement, Run, Token};
use serde::Serialize;

/// A page of runs, newest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RunsPage {
    /// The runs.
    pub runs: Vec<Run>,
    /// `before=` for the next page (none: this was the last).
    pub next_before: Option<i64>,
}

/// A page of campaigns.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CampaignsPage {
    /// The campaigns.
    pub campaigns: Vec<rooflaw_store::Campaign>,
    /// `before=` for the next page (none: this was the last).
    pub next_before: Option<i64>,
}

/// A page of fitted laws.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FitsPage {
    /// The fits.
    pub fits: Vec<Fit>,
    /// `before=` for the next page.
    pub next_before: Option<i64>,
}

/// A page of measurement agents.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AgentsPage {
    /// The agents.
    pub agents: Vec<Agent>,
    /// `before=` for the next page.
    pub next_before: Option<i64>,
}

/// A page of measurement jobs.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MeasureJobsPage {
    /// The jobs.
    pub jobs: Vec<MeasureJob>,
    /// `before=` for the next page.
    pub next_before: Option<i64>,
}

/// A page of calibrations.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CalibrationsPage {
    /// The calibrations.
    pub calibrations: Vec<Calibration>,
    /// `before=` for the next page.
    pub next_before: Option<i64>,
}

/// A page of measurements.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MeasurementsPage {
    /// The rows.
    pub measurements: Vec<Measurement>,
    /// `before=` for the next page.
    pub next_before: Option<i64>,
}

/// The device catalogue.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Devices {
    /// Built-in and custom devices.
    pub devices: Vec<Device>,
}

/// The tokens (never their secrets).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Tokens {
    /// The tokens, newest first.
    pub tokens: Vec<Token>,
    /// `before=` for the next page.
    pub next_before: Option<i64>,
}

/// A new token and its secret (shown in this response only).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TokenCreated {
    /// The token.
    pub token: Token,
    /// Its secret: send it as `Authorization: Bearer …`.
    pub secret: String,
}

/// A prepared data folder runs can name.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DatasetInfo {
    /// Its name under `datasets/`.
    pub name: String,
    /// Tokenizer.
    pub tokenizer: String,
    /// Vocabulary size.
    pub vocab_size: u32,
    /// Training tokens.
    pub train_tokens: u64,
    /// Validation tokens.
    pub validation_tokens: u64,
    /// The validation set's name.
    pub validation_set: String,
}

/// The prepared data folders.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Datasets {
    /// The folders.
    pub datasets: Vec<DatasetInfo>,
    /// Where they are.
    pub folder: String,
}

/// The answer of `/health`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: Option<rooflaw_store::Dialect>,
    /// The server's version.
    pub version: String,
    /// Why the database does not answer.
    pub error: Option<String>,
}

/// An error: what went wrong and how to fix it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    /// The message.
    pub error: String,
}
