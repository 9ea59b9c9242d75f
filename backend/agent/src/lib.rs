//! `rooflaw-agent`: runs on a device (a Jetson Orin, a laptop, a GPU server), registers with a rooflaw
//! server under a device id, claims the latency measurement jobs queued for that device, runs them
//! (llama.cpp, vLLM, and burn in builds with the `burn` feature) and posts the records.
//!
//! Nothing is lost when the network or the server goes away: requests are retried with exponential
//! backoff, and a job's records are written to a spool folder before they are posted and removed only
//! once the server has them. The server stores a job's records once (its result is idempotent by job),
//! so a result posted twice after a lost response changes nothing.

pub mod client;
pub mod facts;
pub mod run;
