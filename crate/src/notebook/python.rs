//! Values as Python source: what the generated script assigns (`r=8`, `target_modules=["query", "value"]`,
//! `layers_to_transform=None`). A JSON string is a valid Python string literal (the same escapes), so strings go
//! through serde_json; the rest is JSON's other words in Python's spelling.

use serde_json::Value;

/// `v` as a Python literal.
pub fn literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(_) => v.to_string(),
        Value::Array(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let items: Vec<String> =
                map.iter().map(|(k, v)| format!("{}: {}", Value::String(k.clone()), literal(v))).collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// A float as Python reads it back to the same number (`2e-3` -> `0.002`, `16.0` stays a float).
pub fn float(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains(['.', 'e', 'E']) || s.contains("inf") || s.contains("NaN") { s } else { format!("{s}.0") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_values_become_the_python_literals_that_mean_the_same() {
        let v = json!({"a": [1, 2.5, null, true, false], "b": "quote \" and \\ and\nline"});
        assert_eq!(literal(&v), r#"{"a": [1, 2.5, None, True, False], "b": "quote \" and \\ and\nline"}"#);
        assert_eq!((float(16.0), float(0.002), float(1e-9)), ("16.0".into(), "0.002".into(), "1e-9".into()));
    }
}
