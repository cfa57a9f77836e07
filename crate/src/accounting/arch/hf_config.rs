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

    /// A field as it is (null when absent), for structured settings (ModernBERT's `rope_parameters`).
    pub fn get(&self, key: &str) -> &Value {
        self.fields.get(key).unwrap_or(&Value::Null)
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

    /// A string setting with a default (`hidden_act`).
    pub fn string_or(&self, key: &str, default: &str) -> Result<String, Error> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(Error::invalid(key, format!("must be a string, got {v}"))),
        }
    }

    /// A non-negative finite number with a default (`layer_norm_eps`, dropout probabilities).
    pub fn float_or(&self, key: &str, default: f64) -> Result<f64, Error> {
        Ok(self.optional_float(key)?.unwrap_or(default))
    }

    pub fn optional_float(&self, key: &str) -> Result<Option<f64>, Error> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                _ => Err(Error::invalid(key, format!("must be a non-negative number, got {v}"))),
            },
        }
    }

    /// A non-negative integer such as a token id, with a default.
    pub fn index_or(&self, key: &str, default: usize) -> Result<usize, Error> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| Error::invalid(key, format!("must be a non-negative integer, got {v}"))),
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
