//! One JSON Lines row: an object, and its fields read as text by the same rules for datasets and texts to classify.

use serde_json::Value;

use super::problem::RowProblem;

/// The line's JSON value, or the problem naming the line.
pub fn object(line: usize, text: &str) -> Result<Value, RowProblem> {
    serde_json::from_str(text).map_err(|e| RowProblem {
        line,
        reason: format!("not a JSON object: {}", e.to_string().split(" at line ").next().unwrap_or("")),
    })
}

/// A field as text: strings as they are, numbers and booleans as written (`{"label": 1}` is the label "1").
pub fn field(value: &Value, key: &str) -> Option<String> {
    match value.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}
