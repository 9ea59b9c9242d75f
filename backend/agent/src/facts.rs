//! What an agent reports about its device: the host (CPU, memory, OS), and on a Jetson the board model,
//! the L4T release, CUDA, the nvpmodel power mode and the clocks. Each fact is read from the file or
//! command that holds it; a fact that is not there is absent, never guessed.

use std::process::Command;

use rooflaw_measure::host::Host;
use serde::Serialize;

/// The facts an agent registers with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facts {
    /// CPU, memory, OS.
    pub host: Host,
    /// Board model (`/proc/device-tree/model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
    /// L4T release (`/etc/nv_tegra_release`), e.g. `36.3.0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l4t: Option<String>,
    /// CUDA version (`/usr/local/cuda/version.json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    /// GPUs (`nvidia-smi`), for discrete GPUs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<String>,
    /// Power mode (`nvpmodel -q`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_mode: Option<String>,
    /// Clocks (`jetson_clocks --show`), as printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clocks: Option<String>,
}

/// `# R36 (release), REVISION: 3.0, GCID: …` → `36.3.0`.
pub fn parse_l4t(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("# R"))?;
    let major = line.strip_prefix("# R")?.split_whitespace().next()?;
    let revision = line.split("REVISION:").nth(1)?.split(',').next()?.trim();
    Some(format!("{major}.{revision}"))
}

/// `{"cuda": {"name": "CUDA SDK", "version": "12.2.140"}, …}` → `12.2.140`.
pub fn parse_cuda(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get("cuda")?.get("version")?.as_str().map(str::to_string)
}

/// `nvpmodel -q` prints `NV Power Mode: MAXN` and the mode number: `MAXN (mode 0)`.
pub fn parse_nvpmodel(text: &str) -> Option<String> {
    let name = text.lines().find_map(|l| l.strip_prefix("NV Power Mode:"))?.trim();
    let number = text.lines().map(str::trim).find(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()));
    Some(match number {
        Some(n) => format!("{name} (mode {n})"),
        None => name.to_string(),
    })
}

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

impl Facts {
    /// This device's facts.
    pub fn collect() -> Facts {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        Facts {
            host: Host::this(),
            board: read("/proc/device-tree/model").map(|s| s.trim_end_matches('\0').trim().to_string()).filter(|s| !s.is_empty()),
            l4t: read("/etc/nv_tegra_release").as_deref().and_then(parse_l4t),
            cuda: read("/usr/local/cuda/version.json").as_deref().and_then(parse_cuda),
            gpus: run("nvidia-smi", &["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"])
                .map(|s| s.lines().map(str::to_string).collect())
                .unwrap_or_default(),
            power_mode: run("nvpmodel", &["-q"]).as_deref().and_then(parse_nvpmodel),
            clocks: run("jetson_clocks", &["--show"]).map(|s| s.lines().take(40).collect::<Vec<_>>().join("\n")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn jetson_files_are_read() {
        // The layouts of JetPack 6.0's /etc/nv_tegra_release, /usr/local/cuda/version.json and `nvpmodel -q`.
        let release = "# R36 (release), REVISION: 3.0, GCID: 36923193, BOARD: generic, EABI: aarch64, DATE: Fri Jul 19 23:24:25 UTC 2024\n# KERNEL_VARIANT: oot\n";
        assert_eq!(parse_l4t(release).as_deref(), Some("36.3.0"));
        assert_eq!(
            parse_cuda(r#"{"cuda": {"name": "CUDA SDK", "version": "12.2.140"}, "cuda_cudart": {"version": "12.2.140"}}"#).as_deref(),
            Some("12.2.140")
        );
        assert_eq!(parse_nvpmodel("NV Power Mode: MAXN\n0\n").as_deref(), Some("MAXN (mode 0)"));
        assert_eq!(parse_nvpmodel("NV Power Mode: 15W\n").as_deref(), Some("15W"));
        assert!(parse_l4t("").is_none() && parse_cuda("{}").is_none() && parse_nvpmodel("nvpmodel: not found").is_none());
    }

    #[test]
    fn this_machine_has_host_facts() {
        let f = Facts::collect();
        assert!(f.host.cpus >= 1);
        assert!(serde_json::to_value(&f).unwrap()["host"]["cpu_model"].is_string());
    }
}
