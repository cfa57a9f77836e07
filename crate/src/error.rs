//! One error type for everything a user can get wrong: it names the field (or line) and says what was wrong,
//! so the page can show it beside the control and the CLI can print it.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    /// The input it concerns: a config.json field (`hidden_size`), a LoRA setting (`target_modules`),
    /// a CLI flag (`--r`), or `config.json` itself for a parse error.
    pub field: String,
    /// What was wrong, in words a student can act on.
    pub message: String,
    /// 1-based line in the input text, where the error has one (JSON syntax errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column in the input text, with `line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), line: None, column: None }
    }

    /// A JSON text that does not parse, with serde_json's line and column.
    pub fn json(field: impl Into<String>, err: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C" to its message; we carry those as fields instead.
        let text = err.to_string();
        let message = text.split(" at line ").next().unwrap_or(&text).to_string();
        Self { field: field.into(), message, line: Some(err.line()), column: Some(err.column()) }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{} (line {l}, column {c}): {}", self.field, self.message),
            _ => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

impl std::error::Error for Error {}
