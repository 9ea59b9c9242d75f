//! Reference models: published architectures embedded from `data/models.json`, one entry per model
//! with its source and published parameter count.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::arch::{Architecture, ArchitectureSpec};
use crate::error::{Error, Result};

/// One reference model as stored in the data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceModel {
    /// Lower-case id used on the command line and in URLs (`qwen2.5-0.5b`).
    pub id: String,
    /// Hugging Face repository id.
    pub hf_id: String,
    /// Parameter count the source states (exact where the source is exact).
    pub published_params: u64,
    /// How the source states it.
    pub published_note: String,
    /// Where the architecture and the count come from.
    pub source: String,
    /// The architecture, transcribed from the model's config.json.
    pub spec: ArchitectureSpec,
}

#[derive(Deserialize)]
struct ModelsFile {
    models: Vec<ReferenceModel>,
}

/// Every reference model, in file order.
pub fn reference_models() -> &'static [ReferenceModel] {
    static MODELS: OnceLock<Vec<ReferenceModel>> = OnceLock::new();
    MODELS.get_or_init(|| {
        // The file is compiled in and checked by the tests, so a parse failure is a build defect.
        #[allow(clippy::expect_used)] // reason: embedded data, validated by `every_reference_model_validates`
        let file: ModelsFile = serde_json::from_str(include_str!("../data/models.json")).expect("embedded models.json is valid");
        file.models
    })
}

fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

/// Finds a reference model by id, display name or Hugging Face id (case-insensitive).
pub fn find_model(name: &str) -> Result<&'static ReferenceModel> {
    let key = normalise(name);
    reference_models()
        .iter()
        .find(|m| {
            normalise(&m.id) == key || m.spec.name.as_deref().map(normalise).as_deref() == Some(key.as_str()) || normalise(&m.hf_id) == key
        })
        .ok_or_else(|| Error::Unknown {
            kind: "model",
            name: name.to_string(),
            fix: format!(
                "known models: {}; or describe the architecture with a config.json or an architecture spec",
                reference_models().iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })
}

impl ReferenceModel {
    /// The validated architecture.
    pub fn architecture(&self) -> Result<Architecture> {
        self.spec.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_reference_model_validates_and_matches_its_published_size() {
        for m in reference_models() {
            let a = m.architecture().unwrap_or_else(|e| panic!("{}: {e}", m.id));
            assert_eq!(a.params().total, m.published_params, "{}: {}", m.id, m.published_note);
        }
    }

    #[test]
    fn lookup_by_id_name_or_hub_id() {
        assert_eq!(find_model("Qwen2.5-0.5B").unwrap().id, "qwen2.5-0.5b");
        assert_eq!(find_model("meta-llama/Llama-3.2-1B").unwrap().id, "llama-3.2-1b");
        assert!(find_model("gpt-9").unwrap_err().to_string().starts_with("unknown model 'gpt-9'; known models: qwen2.5-0.5b"));
    }
}
