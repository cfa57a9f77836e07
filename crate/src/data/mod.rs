//! Labelled text for training: file parsing with per-row problems, the built-in datasets, and the split.

pub mod builtin;
mod jsonl;
mod lines;
pub mod lm;
pub mod parse;
mod problem;
mod records;
pub mod split;
mod texts;

pub use parse::{Dataset, Example, RowProblem, parse};
pub use texts::texts;
