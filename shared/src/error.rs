//! The science crate's one error type: every variant says what is wrong and how to fix it.

use thiserror::Error;

/// Anything a user can get wrong when describing an architecture, a device, a workload or a file.
///
/// Messages are one line, name the field or file at fault and end with a suggestion, because they are
/// shown as-is by the CLI, the API and beside a form field in the site.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// A field has a value that cannot describe a valid model, device or workload.
    #[error("{field}: {problem}; {fix}")]
    Invalid {
        /// The field at fault, as written in files and forms (`heads`, `kv_heads`, `batch`…).
        field: String,
        /// What is wrong with it.
        problem: String,
        /// What to do instead.
        fix: String,
    },
    /// A name that is not in a catalogue (model preset, device, power mode, precision…).
    #[error("unknown {kind} '{name}'; {fix}")]
    Unknown {
        /// What kind of name it is ("model", "device"…).
        kind: &'static str,
        /// The name that was asked for.
        name: String,
        /// The known names, or how to add one.
        fix: String,
    },
    /// A precision the device cannot execute.
    #[error("{device} cannot run {precision} math: {why}; {fix}")]
    UnsupportedPrecision {
        /// Device id.
        device: String,
        /// The precision asked for.
        precision: String,
        /// Why the hardware cannot do it.
        why: String,
        /// What to use instead.
        fix: String,
    },
    /// A file or text that could not be parsed (JSON, CSV).
    #[error("{what}: {message}")]
    Parse {
        /// What was being read ("config.json", "measurements CSV line 4"…).
        what: String,
        /// The parser's message, with a hint where one helps.
        message: String,
    },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Invalid { field: field.into(), problem: problem.into(), fix: fix.into() }
    }

    /// Shorthand for [`Error::Parse`].
    pub fn parse(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Parse { what: what.into(), message: message.into() }
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
