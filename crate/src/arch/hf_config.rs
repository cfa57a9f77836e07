//! A Hugging Face `config.json`, read the way transformers' config classes read it:
//! each architecture asks for its own field names, with transformers' defaults where a field may be absent.

use serde_json::{Map, Value};

use crate::error::Error;

#[derive(Debug, Clone)]
pub struct HfConfig {
    fields: Map<String, Value>,
}

impl HfConfig {
    /// Parses a `config.json` text; syntax errors carry line and column.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::json("config.json", &e))?;
        match value {
            Value::Object(fields) => Ok(Self { fields }),
            _ => Err(Error::invalid("config.json", "expected a JSON object ({ ... }) at the top level")),
        }
    }

    pub fn model_type(&self) -> Result<String, Error> {
        match self.fields.get("model_type") {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(Error::invalid("model_type", "must be a string such as \"bert\"")),
            None => Err(Error::invalid("model_type", "missing: config.json must say which architecture it is")),
        }
    }

    /// A required positive integer (sizes and counts).
    pub fn size(&self, key: &str) -> Result<u64, Error> {
        self.size_or(key, None)
    }

    /// A positive integer that transformers defaults when absent.
    pub fn size_or(&self, key: &str, default: Option<u64>) -> Result<u64, Error> {
        match self.fields.get(key) {
            None | Some(Value::Null) => {
                default.ok_or_else(|| Error::invalid(key, "missing: this architecture needs it"))
            }
            Some(v) => match v.as_u64() {
                Some(0) => Err(Error::invalid(key, "must be at least 1, got 0")),
                // Shapes beyond 2^32 per dimension are not real models and would overflow the arithmetic.
                Some(n) if n <= u32::MAX as u64 => Ok(n),
                _ => Err(Error::invalid(key, format!("must be a positive integer, got {v}"))),
            },
        }
    }

    /// An optional positive integer where `null` and absent mean "derive it".
    pub fn optional_size(&self, key: &str) -> Result<Option<u64>, Error> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.size(key).map(Some),
        }
    }

    pub fn flag_or(&self, key: &str, default: bool) -> Result<bool, Error> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(Error::invalid(key, format!("must be true or false, got {v}"))),
        }
    }

    /// `_name_or_path`, used as `base_model_name_or_path` by PEFT.
    pub fn name_or_path(&self) -> Option<&str> {
        self.fields.get("_name_or_path").and_then(Value::as_str)
    }
}

/// Divides `hidden` into `heads` the way attention needs it, or says which fields disagree.
pub fn head_dim(hidden: u64, heads: u64, hidden_key: &str, heads_key: &str) -> Result<u64, Error> {
    if hidden % heads != 0 {
        return Err(Error::invalid(
            heads_key,
            format!("{hidden_key} ({hidden}) must be divisible by {heads_key} ({heads})"),
        ));
    }
    Ok(hidden / heads)
}
