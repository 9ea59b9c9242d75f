//! Training rooflaw candidate architectures with burn on real text: the model built from a
//! `rooflaw::Architecture` (`model`), the token data (`data`) and the training loop with checkpoints
//! and exact resume (`trainer`). CPU (burn's `flex` backend) in this build.

pub mod corpora;
pub mod data;
pub mod model;
pub mod trainer;
