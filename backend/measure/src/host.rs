//! The machine a measurement ran on, and its load: what makes two measurements comparable (SCIENCE.md
//! §8 asks for device, software and date on every record), read with `sysinfo`.

use serde::{Deserialize, Serialize};
use sysinfo::{MemoryRefreshKind, RefreshKind, System};

/// Facts about the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Host name.
    pub hostname: String,
    /// Operating system and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// CPU model.
    pub cpu_model: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Installed memory.
    pub memory_total_bytes: u64,
    /// Memory available to a new process when read.
    pub memory_available_bytes: u64,
}

impl Host {
    /// This machine, now.
    pub fn this() -> Host {
        let sys = System::new_with_specifics(
            RefreshKind::nothing().with_cpu(sysinfo::CpuRefreshKind::nothing()).with_memory(MemoryRefreshKind::everything()),
        );
        let cpu_model = sys
            .cpus()
            .first()
            .map(|c| c.brand().trim().to_string())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        Host {
            hostname: System::host_name().unwrap_or_else(|| "unknown".into()),
            os: System::long_os_version().unwrap_or_else(|| std::env::consts::OS.into()),
            kernel: System::kernel_version().unwrap_or_default(),
            cpu_model,
            cpus: std::thread::available_parallelism().map_or(sys.cpus().len().max(1), |n| n.get()),
            memory_total_bytes: sys.total_memory(),
            memory_available_bytes: sys.available_memory(),
        }
    }
}

/// The 1-minute load average (0 where the platform has none).
pub fn load1() -> f64 {
    System::load_average().one
}

/// Refuses a measurement whose model would not fit in the memory available now.
pub fn check_fits(needed_bytes: f64, what: &str) -> anyhow::Result<()> {
    let host = Host::this();
    let available = host.memory_available_bytes as f64;
    if available > 0.0 && needed_bytes > available {
        anyhow::bail!(
            "{what} needs {:.2} GB (weights, KV cache and activations) but {:.2} GB of memory is available on {}; choose a smaller model, batch or context, or a lower precision",
            needed_bytes / 1e9,
            available / 1e9,
            host.hostname
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: test code; a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn this_host_is_described() {
        let h = Host::this();
        assert!(h.cpus >= 1);
        assert!(h.memory_total_bytes >= h.memory_available_bytes && h.memory_available_bytes > 0);
        assert!(load1() >= 0.0);
    }

    #[test]
    fn a_model_larger_than_memory_is_refused_with_a_fix() {
        let err = check_fits(1e18, "qwen3-235b at fp32").unwrap_err().to_string();
        assert!(err.starts_with("qwen3-235b at fp32 needs 1000000000.00 GB"), "{err}");
        assert!(err.contains("choose a smaller model"), "{err}");
        check_fits(1e6, "a tiny model").unwrap();
    }
}
