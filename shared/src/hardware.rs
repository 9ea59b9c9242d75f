//! The hardware catalogue: devices with power modes, peak compute per precision and memory bandwidth,
//! embedded from `data/devices.json` (SI units, a source per device; HARDWARE.md explains each figure).
//! Custom devices load from a JSON file of the same shape and add to or replace catalogue entries.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::precision::MathPrecision;

/// Peak dense FLOP/s per math precision; absent keys are precisions the mode cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Peaks {
    /// FP32 (vector units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp32: Option<f64>,
    /// FP16 tensor, dense.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp16: Option<f64>,
    /// BF16 tensor, dense.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bf16: Option<f64>,
    /// INT8 tensor, dense.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8: Option<f64>,
    /// FP8 tensor, dense.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp8: Option<f64>,
}

impl Peaks {
    /// Peak for a math precision, if the mode has one.
    pub fn get(&self, math: MathPrecision) -> Option<f64> {
        match math {
            MathPrecision::Fp32 => self.fp32,
            MathPrecision::Fp16 => self.fp16,
            MathPrecision::Bf16 => self.bf16,
            MathPrecision::Int8 => self.int8,
            MathPrecision::Fp8 => self.fp8,
        }
    }
}

/// One power mode of a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PowerMode {
    /// Vendor name of the mode (`MAXN`, `15W`…).
    pub name: String,
    /// Other names for it (`default`, `default(15W)`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Module power budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_watts: Option<f64>,
    /// GPU clock in this mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_clock_hz: Option<f64>,
    /// Dense peaks; absent for a mode that is listed but cannot be priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_flops_per_sec: Option<Peaks>,
    /// Sustained memory bandwidth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_bandwidth_bytes_per_sec: Option<f64>,
    /// Figures computed from clocks and unit counts rather than read off a datasheet.
    #[serde(default)]
    pub derived: bool,
    /// Figures not yet re-read from a primary source.
    #[serde(default)]
    pub to_verify: bool,
    /// Where the figures come from and how far to trust them.
    #[serde(default)]
    pub note: String,
}

/// A device in the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Device {
    /// Lower-case id (`jetson-agx-orin-64gb`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Vendor.
    #[serde(default)]
    pub vendor: String,
    /// `edge`, `desktop` or `datacenter`.
    #[serde(default)]
    pub kind: String,
    /// CUDA compute capability, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<String>,
    /// Streaming multiprocessors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<u32>,
    /// CUDA cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda_cores: Option<u32>,
    /// Memory installed.
    pub memory_capacity_bytes: f64,
    /// Memory a model can actually use.
    pub usable_memory_bytes: f64,
    /// How the usable figure was obtained.
    #[serde(default)]
    pub usable_memory_note: String,
    /// Math precisions the device cannot execute, with the reason.
    #[serde(default)]
    pub unsupported_precisions: std::collections::BTreeMap<String, String>,
    /// Mode used when none is asked for.
    pub default_power_mode: String,
    /// Power modes.
    pub power_modes: Vec<PowerMode>,
    /// Where the figures come from.
    pub source: String,
}

/// A device in one power mode with both roofline ceilings known: what the latency model prices on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// Device id.
    pub device_id: String,
    /// Power mode name.
    pub power_mode: String,
    /// Peak FLOP/s per precision.
    pub peaks: Peaks,
    /// Memory bandwidth β.
    pub mem_bandwidth_bytes_per_sec: f64,
    /// Memory usable for a model.
    pub usable_memory_bytes: f64,
    /// Installed memory.
    pub memory_capacity_bytes: f64,
}

impl Profile {
    /// π for a math precision, or an error that says why the device cannot run it.
    pub fn peak_flops(&self, math: MathPrecision, device: &Device) -> Result<f64> {
        self.peaks.get(math).ok_or_else(|| Error::UnsupportedPrecision {
            device: self.device_id.clone(),
            precision: math.name().to_string(),
            why: device
                .unsupported_precisions
                .get(math.name())
                .cloned()
                .unwrap_or_else(|| format!("the {} power mode has no {} peak in the catalogue", self.power_mode, math.name())),
            fix: {
                let have: Vec<&str> =
                    [MathPrecision::Fp16, MathPrecision::Bf16, MathPrecision::Int8, MathPrecision::Fp8, MathPrecision::Fp32]
                        .into_iter()
                        .filter(|m| self.peaks.get(*m).is_some())
                        .map(MathPrecision::name)
                        .collect();
                if math == MathPrecision::Fp8 && have.contains(&"int8") {
                    "use int8 (W8A8) or int4 (W4A16)".to_string()
                } else {
                    format!("use one of {}", have.join(", "))
                }
            },
        })
    }
}

#[derive(Deserialize)]
struct DevicesFile {
    devices: Vec<Device>,
}

/// Parses a devices file (`{"devices": [...]}`, the shape of the built-in `devices.json`).
pub fn parse_devices(text: &str, what: &str) -> Result<Vec<Device>> {
    let file: DevicesFile = serde_json::from_str(text).map_err(|e| {
        Error::parse(what, format!("{e}; expected {{\"devices\": [...]}} with entries shaped like the built-in catalogue's"))
    })?;
    for d in &file.devices {
        d.validate()?;
    }
    Ok(file.devices)
}

impl Device {
    /// A device described by three figures: dense FP16 peak compute (FLOP/s), memory bandwidth
    /// (bytes/s) and the memory a model can use (bytes), in one power mode named `default`.
    ///
    /// Assumption: FP32 and BF16 are priced at the FP16 figure, and INT8 and FP8 at twice it, as on
    /// GPUs whose tensor cores double their throughput at 8 bits. For a device where this does not hold,
    /// describe it in a devices file with a peak per precision instead.
    pub fn custom(id: &str, fp16_flops_per_sec: f64, mem_bandwidth_bytes_per_sec: f64, usable_memory_bytes: f64) -> Result<Device> {
        for (field, v, example) in [
            ("peak compute", fp16_flops_per_sec, "40e12 FLOP/s"),
            ("bandwidth", mem_bandwidth_bytes_per_sec, "200e9 bytes/s"),
            ("usable memory", usable_memory_bytes, "16e9 bytes"),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(field, format!("{v} is not a positive number"), format!("enter e.g. {example}")));
            }
        }
        let pi = fp16_flops_per_sec;
        Ok(Device {
            id: id.to_string(),
            name: "Custom device".into(),
            vendor: String::new(),
            kind: "custom".into(),
            compute_capability: None,
            sms: None,
            cuda_cores: None,
            memory_capacity_bytes: usable_memory_bytes,
            usable_memory_bytes,
            usable_memory_note: "given with the device's figures".into(),
            unsupported_precisions: Default::default(),
            default_power_mode: "default".into(),
            power_modes: vec![PowerMode {
                name: "default".into(),
                aliases: vec![],
                power_watts: None,
                gpu_clock_hz: None,
                peak_flops_per_sec: Some(Peaks {
                    fp32: Some(pi),
                    fp16: Some(pi),
                    bf16: Some(pi),
                    int8: Some(2.0 * pi),
                    fp8: Some(2.0 * pi),
                }),
                mem_bandwidth_bytes_per_sec: Some(mem_bandwidth_bytes_per_sec),
                derived: false,
                to_verify: false,
                note: "custom: FP32/BF16 at the FP16 figure, INT8/FP8 at twice it".into(),
            }],
            source: "given by the user".into(),
        })
    }

    fn validate(&self) -> Result<()> {
        let field = |f: &str| format!("device {}: {f}", self.id);
        if self.id.trim().is_empty() {
            return Err(Error::invalid("id", "a device has an empty id", "give every device a short lower-case id"));
        }
        if !(self.usable_memory_bytes > 0.0 && self.usable_memory_bytes <= self.memory_capacity_bytes) {
            return Err(Error::invalid(
                field("usable_memory_bytes"),
                "must be positive and at most memory_capacity_bytes",
                "fix the figures (bytes, not GB)",
            ));
        }
        if !self.power_modes.iter().any(|m| m.name == self.default_power_mode) {
            return Err(Error::invalid(
                field("default_power_mode"),
                format!("'{}' is not one of its power modes", self.default_power_mode),
                "name one of the listed modes",
            ));
        }
        for m in &self.power_modes {
            let positive = |v: Option<f64>| v.is_none_or(|x| x.is_finite() && x > 0.0);
            let peaks = m.peak_flops_per_sec.unwrap_or_default();
            if !positive(m.mem_bandwidth_bytes_per_sec)
                || ![peaks.fp32, peaks.fp16, peaks.bf16, peaks.int8, peaks.fp8].into_iter().all(positive)
            {
                return Err(Error::invalid(
                    field(&m.name),
                    "peaks and bandwidth must be positive numbers",
                    "use FLOP/s and bytes/s (e.g. 4.26e13, 2.048e11)",
                ));
            }
        }
        Ok(())
    }

    /// Finds a power mode by name or alias (case-insensitive); `None` picks the default.
    pub fn power_mode(&self, name: Option<&str>) -> Result<&PowerMode> {
        let want = name.unwrap_or(&self.default_power_mode).trim().to_ascii_lowercase();
        self.power_modes
            .iter()
            .find(|m| m.name.to_ascii_lowercase() == want || m.aliases.iter().any(|a| a.to_ascii_lowercase() == want))
            .ok_or_else(|| Error::Unknown {
                kind: "power mode",
                name: name.unwrap_or_default().to_string(),
                fix: format!("{} has {}", self.id, self.power_modes.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")),
            })
    }

    /// The device in a power mode, ready to price on.
    pub fn profile(&self, power_mode: Option<&str>) -> Result<Profile> {
        let mode = self.power_mode(power_mode)?;
        let priced: Vec<&str> = self
            .power_modes
            .iter()
            .filter(|m| m.peak_flops_per_sec.is_some() && m.mem_bandwidth_bytes_per_sec.is_some())
            .map(|m| m.name.as_str())
            .collect();
        match (mode.peak_flops_per_sec, mode.mem_bandwidth_bytes_per_sec) {
            (Some(peaks), Some(bw)) => Ok(Profile {
                device_id: self.id.clone(),
                power_mode: mode.name.clone(),
                peaks,
                mem_bandwidth_bytes_per_sec: bw,
                usable_memory_bytes: self.usable_memory_bytes,
                memory_capacity_bytes: self.memory_capacity_bytes,
            }),
            _ => Err(Error::invalid(
                "power_mode",
                format!("{} mode {} has no clock or bandwidth figures in the catalogue, so it cannot be priced", self.id, mode.name),
                format!("use {}, or add the mode's clock and bandwidth figures to the device catalogue", priced.join(" or ")),
            )),
        }
    }
}

/// The built-in catalogue.
pub fn builtin_devices() -> &'static [Device] {
    static DEVICES: OnceLock<Vec<Device>> = OnceLock::new();
    DEVICES.get_or_init(|| {
        #[allow(clippy::expect_used)] // reason: embedded data, validated by `builtin_catalogue_is_valid`
        let devices = parse_devices(include_str!("../data/devices.json"), "built-in devices.json").expect("embedded devices.json is valid");
        devices
    })
}

/// A catalogue: the built-in devices plus custom ones (a custom device with a built-in id replaces it).
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    devices: Vec<Device>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue { devices: builtin_devices().to_vec() }
    }
}

impl Catalogue {
    /// Adds or replaces devices.
    pub fn with(mut self, custom: Vec<Device>) -> Self {
        for d in custom {
            match self.devices.iter_mut().find(|x| x.id == d.id) {
                Some(slot) => *slot = d,
                None => self.devices.push(d),
            }
        }
        self
    }

    /// Every device.
    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// A device by id (case-insensitive).
    pub fn get(&self, id: &str) -> Result<&Device> {
        let key = id.trim().to_ascii_lowercase();
        self.devices.iter().find(|d| d.id == key).ok_or_else(|| Error::Unknown {
            kind: "device",
            name: id.to_string(),
            fix: format!(
                "known devices: {}; or add the device to the catalogue",
                self.devices.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn builtin_catalogue_is_valid() {
        let devices = builtin_devices();
        assert_eq!(devices.iter().filter(|d| d.id.starts_with("jetson-")).count(), 10);
        for id in ["h100-sxm5-80gb", "h200-sxm-141gb", "a100-sxm-80gb", "rtx-4090"] {
            assert!(devices.iter().any(|d| d.id == id), "{id}");
        }
    }

    #[test]
    fn orin_peaks_follow_the_derivation_in_hardware_md() {
        // HARDWARE.md: dense FP16 = SMs × 2048 × clock; its table gives 42.6 (AGX 64GB), 26.7 (AGX
        // 32GB), 15.0 (NX 16GB), 10.2 (Nano 8GB) and 5.1 (Nano 4GB) TFLOP/s.
        let table = [
            ("jetson-agx-orin-64gb", 42.6),
            ("jetson-agx-orin-32gb", 26.7),
            ("jetson-orin-nx-16gb", 15.0),
            ("jetson-orin-nano-8gb", 10.2),
            ("jetson-orin-nano-4gb", 5.1),
            ("jetson-orin-nano-super-8gb", 16.7),
        ];
        let cat = Catalogue::default();
        for (id, tflops) in table {
            let p = cat.get(id).unwrap().profile(None).unwrap();
            let fp16 = p.peaks.fp16.unwrap() / 1e12;
            assert!((fp16 - tflops).abs() < 0.05, "{id}: {fp16}");
            assert_eq!(p.peaks.int8.unwrap(), 2.0 * p.peaks.fp16.unwrap());
        }
    }

    #[test]
    fn fp8_on_orin_says_why() {
        let cat = Catalogue::default();
        let d = cat.get("jetson-agx-orin-64gb").unwrap();
        let err = d.profile(None).unwrap().peak_flops(MathPrecision::Fp8, d).unwrap_err().to_string();
        assert_eq!(err, "jetson-agx-orin-64gb cannot run fp8 math: compute capability 8.7 (Ampere) has no FP8 tensor path; FP8 needs 8.9 or newer; use int8 (W8A8) or int4 (W4A16)");
    }

    #[test]
    fn a_custom_device_prices_int8_at_twice_its_fp16_peak() {
        let d = Device::custom("custom", 40e12, 200e9, 16e9).unwrap();
        let p = d.profile(None).unwrap();
        assert_eq!((p.peaks.fp16, p.peaks.int8, p.mem_bandwidth_bytes_per_sec), (Some(40e12), Some(80e12), 200e9));
        assert_eq!(p.usable_memory_bytes, 16e9);
        assert_eq!(
            Device::custom("custom", 40e12, f64::NAN, 16e9).unwrap_err().to_string(),
            "bandwidth: NaN is not a positive number; enter e.g. 200e9 bytes/s"
        );
    }

    #[test]
    fn unpriced_modes_and_unknown_devices_are_explained() {
        let cat = Catalogue::default();
        let err = cat.get("jetson-agx-orin-64gb").unwrap().profile(Some("15w")).unwrap_err().to_string();
        assert!(
            err.contains("mode 15W has no clock or bandwidth figures")
                && err.ends_with("use MAXN, or add the mode's clock and bandwidth figures to the device catalogue"),
            "{err}"
        );
        assert!(cat.get("tpu").unwrap_err().to_string().starts_with("unknown device 'tpu'; known devices: jetson-agx-orin-64gb"));
        assert_eq!(cat.get("jetson-orin-nano-8gb").unwrap().profile(Some("default(15W)")).unwrap().power_mode, "15W");
    }

    #[test]
    fn custom_devices_add_and_replace() {
        let text = r#"{"devices": [{"id": "my-npu", "name": "My NPU", "memory_capacity_bytes": 8e9, "usable_memory_bytes": 6e9,
            "default_power_mode": "default", "power_modes": [{"name": "default", "peak_flops_per_sec": {"int8": 2.6e13},
            "mem_bandwidth_bytes_per_sec": 6.4e10}], "source": "vendor brief"}]}"#;
        let cat = Catalogue::default().with(parse_devices(text, "devices.json").unwrap());
        assert_eq!(cat.get("my-npu").unwrap().profile(None).unwrap().mem_bandwidth_bytes_per_sec, 6.4e10);
        let bad = text.replace("6e9", "9e9");
        assert!(parse_devices(&bad, "devices.json").unwrap_err().to_string().contains("usable_memory_bytes"));
    }
}
