//! A row that could not be used: the line it starts on and why, so a student can fix the file.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// 1-based line where the row starts.
    pub line: usize,
    pub reason: String,
}
