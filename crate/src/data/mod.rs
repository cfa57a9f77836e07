//! Labelled text for training: file parsing with per-row problems, the built-in datasets, and the split.

pub mod builtin;
pub mod parse;
pub mod split;

pub use parse::{Dataset, Example, RowProblem, parse, texts};
