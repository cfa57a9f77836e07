//! One error type for the page, the worker and the CLI: what kind of failure it is (so a caller can tell a bad
//! setting from a lost GPU), the field (or line) it concerns and what was wrong, so the page can show it beside
//! the control and the CLI can print it. Its JSON is the page's error shape: `{kind, field, message, line?, column?}`.

use serde::Serialize;

/// What kind of failure: only `DeviceLost` moves a GPU run to the CPU (`train::workbench`); a bad setting or a
/// bug would fail there too, and hiding it behind a slower run would only lose the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Something the user gave (a setting, a file, a line of data) is wrong: the message says what to change.
    #[default]
    BadInput,
    /// The GPU device is gone (lost, reset, or it failed to hand a result back): the same work can go on elsewhere.
    DeviceLost,
    /// Another action holds what this one needs (a run in progress): try again when it ends.
    Busy,
    /// A bug: something that should not happen whatever the input (a tensor of the wrong shape, a broken invariant).
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    pub kind: ErrorKind,
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
    /// Bad input: `field` names what to change.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::of(ErrorKind::BadInput, field, message)
    }

    /// The GPU device is lost (its `field` is `device`).
    pub fn device_lost(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::DeviceLost, "device", message)
    }

    /// `field` is held by another action.
    pub fn busy(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Busy, field, message)
    }

    /// A bug, found at `field` (the part of the program that found it).
    pub fn internal(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Internal, field, message)
    }

    pub fn of(kind: ErrorKind, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { kind, field: field.into(), message: message.into(), line: None, column: None }
    }

    /// A JSON text that does not parse, with serde_json's line and column.
    pub fn json(field: impl Into<String>, err: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C" to its message; we carry those as fields instead.
        let text = err.to_string();
        let message = text.split(" at line ").next().unwrap_or(&text).to_string();
        Self {
            kind: ErrorKind::BadInput,
            field: field.into(),
            message,
            line: Some(err.line()),
            column: Some(err.column()),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{} (line {l}, column {c}): {}", self.field, self.message),
            _ if self.field.is_empty() => write!(f, "{}", self.message),
            _ => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// A message that already says where (the CLI's "--adapter DIR: ..."): bad input, with no field of its own.
impl From<String> for Error {
    fn from(message: String) -> Self {
        Self::invalid("", message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Self::invalid("", message)
    }
}

impl std::error::Error for Error {}
