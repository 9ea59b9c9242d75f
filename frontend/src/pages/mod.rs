//! One module per page.

pub mod arch;
pub mod campaign;
pub mod embed;
pub mod explorer;
pub mod lab;
pub mod law;
pub mod matching;
pub mod theory;
