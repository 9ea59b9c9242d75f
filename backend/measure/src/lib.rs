//! Latency measurement without a tensor library, so that the device agent stays small: the timing
//! protocol and the record every engine produces (`record`), the host's facts and load (`host`), a
//! STREAM-like bandwidth kernel (`stream`), power sensors (`energy`), and the engines that run outside
//! this process: a GGUF writer (`gguf`) and llama.cpp's `llama-bench` (`llamacpp`), and the adapters for
//! engines that only run on the device (`adapters`: vLLM, MLC). The burn engine and GEMM ceilings live in
//! `rooflaw-train`, which has the tensor library.

pub mod adapters;
pub mod energy;
pub mod gguf;
pub mod host;
pub mod job;
pub mod llamacpp;
pub mod record;
pub mod stream;

pub use record::{LatencyPlan, LatencyRecord, PhaseTimes, Stats};
