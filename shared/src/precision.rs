//! Numeric precision per tensor class: weights, activations and KV cache each have their own element
//! type, and the matrix units run in the precision the math actually uses (SCIENCE.md §4.3): W4A16 runs
//! FP16 math on dequantised weights; W8A8 runs INT8 math.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Storage type of one tensor element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// IEEE single precision.
    Fp32,
    /// IEEE half precision.
    Fp16,
    /// bfloat16.
    Bf16,
    /// 8-bit float (E4M3/E5M2).
    Fp8,
    /// 8-bit integer.
    Int8,
    /// 4-bit integer (weight-only; scales are not counted).
    Int4,
}

/// The precision the matrix units compute in, which selects the device's peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MathPrecision {
    /// FP32 (CUDA cores).
    Fp32,
    /// FP16 tensor math.
    Fp16,
    /// BF16 tensor math.
    Bf16,
    /// INT8 tensor math.
    Int8,
    /// FP8 tensor math.
    Fp8,
}

impl DType {
    /// Bytes per element.
    pub fn bytes(self) -> f64 {
        match self {
            DType::Fp32 => 4.0,
            DType::Fp16 | DType::Bf16 => 2.0,
            DType::Fp8 | DType::Int8 => 1.0,
            DType::Int4 => 0.5,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            DType::Fp32 => "fp32",
            DType::Fp16 => "fp16",
            DType::Bf16 => "bf16",
            DType::Fp8 => "fp8",
            DType::Int8 => "int8",
            DType::Int4 => "int4",
        }
    }

    /// Parses `fp32|fp16|bf16|fp8|int8|int4` (also `f32`, `f16`, `i8`, `i4`).
    pub fn parse(field: &str, text: &str) -> Result<DType> {
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "fp32" | "f32" | "float32" => DType::Fp32,
            "fp16" | "f16" | "float16" | "half" => DType::Fp16,
            "bf16" | "bfloat16" => DType::Bf16,
            "fp8" | "f8" | "e4m3" | "e5m2" => DType::Fp8,
            "int8" | "i8" => DType::Int8,
            "int4" | "i4" => DType::Int4,
            other => {
                return Err(Error::invalid(field, format!("unknown element type '{other}'"), "use fp32, fp16, bf16, fp8, int8 or int4"))
            }
        })
    }
}

impl MathPrecision {
    /// Lower-case name, as used for the keys of a power mode's peak table.
    pub fn name(self) -> &'static str {
        match self {
            MathPrecision::Fp32 => "fp32",
            MathPrecision::Fp16 => "fp16",
            MathPrecision::Bf16 => "bf16",
            MathPrecision::Int8 => "int8",
            MathPrecision::Fp8 => "fp8",
        }
    }
}

/// Element types of the three tensor classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precision {
    /// Weights (b_w).
    pub weights: DType,
    /// Activations between operators (b_a).
    pub activations: DType,
    /// KV cache (b_kv).
    pub kv: DType,
}

/// Preset names accepted by [`Precision::preset`].
pub const PRESETS: [&str; 6] = ["fp32", "fp16", "bf16", "int8", "int4", "fp8"];

impl Precision {
    /// All three tensor classes in one type.
    pub const fn uniform(t: DType) -> Self {
        Precision { weights: t, activations: t, kv: t }
    }

    /// FP16 everywhere: the paper's reference precision.
    pub const FP16: Precision = Precision::uniform(DType::Fp16);

    /// The paper's INT8 setting, W8A8 with an INT8 KV cache. Softmax, norms and other element-wise
    /// operators still read and write FP16 (see [`Precision::elementwise_bytes`]).
    pub const INT8: Precision = Precision::uniform(DType::Int8);

    /// Presets: `fp32`, `fp16`, `bf16`, `int8` (W8A8, INT8 KV), `int4` (W4A16: INT4 weights, FP16
    /// activations and KV), `fp8` (W8A8 in FP8). Aliases: `w8a8`, `w4a16`.
    pub fn preset(name: &str) -> Result<Precision> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "fp32" => Precision::uniform(DType::Fp32),
            "fp16" => Precision::FP16,
            "bf16" => Precision::uniform(DType::Bf16),
            "int8" | "w8a8" => Precision::INT8,
            "int4" | "w4a16" => Precision { weights: DType::Int4, activations: DType::Fp16, kv: DType::Fp16 },
            "fp8" => Precision::uniform(DType::Fp8),
            other => {
                return Err(Error::Unknown {
                    kind: "precision",
                    name: other.to_string(),
                    fix: format!(
                        "use one of {} (aliases w8a8, w4a16), or set the weight, activation and KV types separately",
                        PRESETS.join(", ")
                    ),
                })
            }
        })
    }

    /// Checks that the combination is one an engine runs, and returns the math precision.
    pub fn math(&self) -> Result<MathPrecision> {
        use DType::*;
        match (self.weights, self.activations) {
            (_, Int4) => Err(Error::invalid("activations", "INT4 activations are not modelled", "use int8 (W8A8) or fp16 activations")),
            (Int8, Int8) => Ok(MathPrecision::Int8),
            (Fp8, Fp8) => Ok(MathPrecision::Fp8),
            (Int8 | Fp8, a @ (Int8 | Fp8)) => Err(Error::invalid(
                "activations",
                format!("{} weights with {} activations have no common matrix path", self.weights.name(), a.name()),
                "use the same 8-bit type for both",
            )),
            // Weight-only quantisation: dequantise to the activation type and compute there.
            (_, Fp32) => Ok(MathPrecision::Fp32),
            (_, Fp16) => Ok(MathPrecision::Fp16),
            (_, Bf16) => Ok(MathPrecision::Bf16),
            (w, a) => Err(Error::invalid(
                "activations",
                format!("{} weights with {} activations are not a supported combination", w.name(), a.name()),
                "use fp16 activations, or matching 8-bit weights and activations",
            )),
        }
    }

    /// Bytes per element read or written by element-wise operators (norms, softmax, RoPE, residuals,
    /// SwiGLU): these stay in at least 16-bit floating point in every engine modelled, which is one
    /// reason INT8 gains less than 2× (paper §4.3).
    pub fn elementwise_bytes(&self) -> f64 {
        self.activations.bytes().max(2.0)
    }

    /// Reads engine precision labels from measurement files: MLC's `q4f16_ft` / `q4f16_1`, GGUF's
    /// `Q4_K_M`, `Q4_0`, `Q8_0`, `F16`, and plain preset names. `None` when the label says nothing
    /// usable (e.g. "GGUF (see source)").
    pub fn from_engine_label(label: &str) -> Option<Precision> {
        let l = label.trim().to_ascii_lowercase();
        let first = l.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
        let w4a16 = Precision { weights: DType::Int4, activations: DType::Fp16, kv: DType::Fp16 };
        // AWQ and GPTQ checkpoints are 4-bit weight-only (W4A16) as engines run them on Orin.
        if first.starts_with("q4f16") || first.starts_with("q4_") || matches!(first, "int4" | "w4a16" | "awq" | "gptq") {
            return Some(w4a16);
        }
        if first.starts_with("q8_") || first.starts_with("q8f16") {
            // llama.cpp Q8_0: 8-bit weights dequantised to FP16 math, FP16 KV.
            return Some(Precision { weights: DType::Int8, activations: DType::Fp16, kv: DType::Fp16 });
        }
        if first.starts_with("q0f16") || first == "f16" {
            return Some(Precision::FP16);
        }
        Precision::preset(first).ok()
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.weights == self.activations && self.activations == self.kv {
            f.write_str(self.weights.name())
        } else {
            write!(f, "w:{} a:{} kv:{}", self.weights.name(), self.activations.name(), self.kv.name())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn presets_and_math() {
        let table = [
            ("fp16", 2.0, 2.0, MathPrecision::Fp16),
            ("int8", 1.0, 1.0, MathPrecision::Int8),
            ("w4a16", 0.5, 2.0, MathPrecision::Fp16),
            ("fp32", 4.0, 4.0, MathPrecision::Fp32),
            ("fp8", 1.0, 1.0, MathPrecision::Fp8),
        ];
        for (name, bw, bkv, math) in table {
            let p = Precision::preset(name).unwrap();
            assert_eq!((p.weights.bytes(), p.kv.bytes(), p.math().unwrap()), (bw, bkv, math), "{name}");
        }
        assert!(Precision::preset("int3").unwrap_err().to_string().starts_with("unknown precision 'int3'"));
    }

    #[test]
    fn engine_labels() {
        assert_eq!(Precision::from_engine_label("q4f16_ft (4-bit weights fp16 math)").unwrap().weights, DType::Int4);
        assert_eq!(Precision::from_engine_label("Q8_0").unwrap().weights, DType::Int8);
        assert_eq!(Precision::from_engine_label("AWQ int4 g128 (W4A16)").unwrap().weights, DType::Int4);
        assert_eq!(Precision::from_engine_label("GGUF (see source)"), None);
        assert_eq!(Precision::from_engine_label("Q2_K"), None);
    }
}
