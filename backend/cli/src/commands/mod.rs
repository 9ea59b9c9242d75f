//! One file per command. A command file imports `resolve` (for its request), `render` (for its output,
//! plots included) and the science crate, never another command or `main`.

pub mod arch;
pub mod calibrate;
pub mod campaign;
pub mod data;
pub mod devices;
pub mod fit;
pub mod frontier;
pub mod law;
pub mod matching;
pub mod measure;
pub mod predict;
pub mod reproduce;
pub mod roofline_plot;
pub mod serve;
pub mod theory;
pub mod token;
pub mod train;
