//! The inference workload W: batch, prompt tokens and generated tokens (SCIENCE.md §2).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const MAX_TOKENS: u64 = 1 << 24;

/// Batch B, prompt length S_in and generated tokens S_out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Workload {
    /// Sequences processed together, B.
    pub batch: u64,
    /// Prompt tokens per sequence, S_in (prefill).
    pub prompt_tokens: u64,
    /// Generated tokens per sequence, S_out (decode steps).
    pub generated_tokens: u64,
}

impl Workload {
    /// The paper's reference workload (§4.2.2): B = 1, S_in = 1,024, S_out = 16.
    pub const PAPER: Workload = Workload { batch: 1, prompt_tokens: 1024, generated_tokens: 16 };

    /// A validated workload.
    pub fn new(batch: u64, prompt_tokens: u64, generated_tokens: u64) -> Result<Self> {
        let check = |field: &str, v: u64, min: u64| {
            if v < min {
                Err(Error::invalid(field, format!("must be at least {min}, got {v}"), format!("set {field} to {min} or more")))
            } else if v > MAX_TOKENS {
                Err(Error::invalid(field, format!("{v} is more than the {MAX_TOKENS} supported"), "use a smaller value"))
            } else {
                Ok(v)
            }
        };
        Ok(Workload {
            batch: check("batch", batch, 1)?,
            prompt_tokens: check("prompt_tokens", prompt_tokens, 1)?,
            generated_tokens: check("generated_tokens", generated_tokens, 0)?,
        })
    }

    /// Mean context length seen by a decode step, S̄ = S_in + (S_out + 1)/2 (SCIENCE.md §2).
    pub fn mean_decode_context(&self) -> f64 {
        self.prompt_tokens as f64 + (self.generated_tokens as f64 + 1.0) / 2.0
    }

    /// Context length after the last token, S_in + S_out (what the KV cache holds at the end).
    pub fn final_context(&self) -> u64 {
        self.prompt_tokens + self.generated_tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn validation_and_mean_context() {
        assert_eq!(Workload::PAPER.mean_decode_context(), 1032.5);
        assert_eq!(Workload::new(0, 10, 1).unwrap_err().to_string(), "batch: must be at least 1, got 0; set batch to 1 or more");
        assert!(Workload::new(1, 10, 0).is_ok());
    }
}
