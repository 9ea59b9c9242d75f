//! # rooflaw: hardware co-design scaling laws
//!
//! Which LLM architecture gives the lowest loss within a latency and memory budget on a given device?
//! This crate is the science, as a pipeline of plain functions over immutable values (SCIENCE.md is the
//! reference for every formula):
//!
//! 1. **Describe** an architecture: [`arch::ArchitectureSpec`] (raw, from a file, a form or a Hugging
//!    Face `config.json` via [`hf`]) → [`arch::Architecture`] (validated) → exact
//!    [`arch::ParamBreakdown`]. Published models are in [`models`].
//! 2. **Count** each operator's FLOPs and bytes for prefill and for a decode step: [`cost`].
//! 3. **Price** them on a device ([`hardware`]) for a workload ([`workload`]) at a precision
//!    ([`precision`]) with the roofline: [`roofline`], at the paper's level, the full-roofline level,
//!    or calibrated from measurements ([`calibrate`]).
//! 4. **Report** all of it for one candidate: [`report::predict`].
//! 5. **Search** a design space ([`space`]) under a loss law ([`law`], fitted by [`fit`]) for the
//!    loss–latency Pareto frontier ([`frontier`]); the paper's theory is [`theory`] and its findings
//!    [`findings`].
//!
//! [`api`] is the vocabulary of requests (with their defaults) and reports that the command line,
//! the site's JavaScript API and the HTTP API speak.
//!
//! Everything here builds for `wasm32-unknown-unknown`: no clocks, threads or files (the site runs it
//! in the browser); callers read files and pass text in.

// Under wasm32 the unit tests run in the browser: every test module imports wasm-bindgen-test's
// attribute as `test`.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

pub mod api;
pub mod arch;
pub mod calibrate;
pub mod campaign;
pub mod cost;
pub mod error;
pub mod findings;
pub mod fit;
pub mod format;
pub mod frontier;
pub mod hardware;
pub mod hf;
pub mod law;
pub mod layout;
pub mod models;
pub mod precision;
pub mod report;
pub mod roofline;
pub mod space;
pub mod theory;
pub mod uncertain;
pub mod workload;

pub use arch::{Architecture, ArchitectureSpec, ParamBreakdown};
pub use error::{Error, Result};
pub use hardware::{Catalogue, Device};
pub use precision::Precision;
pub use roofline::{Efficiency, Latency, Level, Target};
pub use workload::Workload;
