//! Training and timing rooflaw candidate architectures with burn on real text: the model built from a
//! `rooflaw::Architecture` (`model`), the corpora and their conversion to plain text (`corpora`,
//! `wikitext`), the token data (`data`) and the training loop with checkpoints and exact resume
//! (`trainer`), and the burn latency engine (`latency`), on burn's `flex` CPU backend, or wgpu and CUDA in builds with those features.

pub mod corpora;
pub mod data;
pub mod latency;
pub mod model;
pub mod trainer;
pub mod wikitext;
