//! How results reach the user: the output format, friendly units for tables, and the one place that
//! writes tables, JSON, CSV and files.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::ValueEnum;
use comfy_table::{presets::NOTHING, Table};
use serde::Serialize;

pub mod plot;

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

/// Seconds as ms (or µs below 0.1 ms).
pub fn secs(s: f64) -> String {
    if s < 1e-4 {
        format!("{:.2} µs", s * 1e6)
    } else if s < 10.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// Bytes in decimal GB or MB.
pub fn bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.3} GB", b / 1e9)
    } else {
        format!("{:.2} MB", b / 1e6)
    }
}

/// An integer with thousands separators.
pub use rooflaw::format::thousands as count;

/// A percentage.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A range of seconds, `low–high`.
pub fn secs_range([lo, hi]: [f64; 2]) -> String {
    format!("{}–{}", secs(lo), secs(hi))
}

/// The MoE terms of a calibration, or nothing when it has none (fitted without MoE rows, or the
/// leave-one-out choice kept neither).
pub fn moe_terms(e: &rooflaw::Efficiency) -> String {
    let mut parts = Vec::new();
    if e.expert_efficiency != 1.0 {
        parts.push(format!("MoE expert GEMMs at η_e {:.3} of η_c", e.expert_efficiency));
    }
    if e.expert_overhead_secs != 0.0 {
        parts.push(format!("{} per routed expert", secs(e.expert_overhead_secs)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

/// A table with a header row and no borders.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING).set_header(header.iter().copied());
    t
}

/// Pretty JSON to stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value).context("cannot encode the result as JSON")?);
    Ok(())
}

/// CSV rows (with a header from the first record's field names) to stdout.
pub fn print_csv<T: Serialize>(rows: &[T]) -> Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    for r in rows {
        w.serialize(r).context("cannot encode the result as CSV")?;
    }
    w.flush().context("cannot write to stdout")?;
    Ok(())
}

/// Writes text to stdout (a table).
pub fn print_table(t: &Table) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth reporting.
    let _ = writeln!(out, "{t}");
}

/// Writes `text` to `path`, saying how to fix a failure.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {} (check the directory exists and is writable)", path.display()))
}
