//! `LoraConfig` with PEFT's field names and meanings (`peft/tuners/lora/config.py`).

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Which biases train alongside the adapter (PEFT's `bias`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bias {
    /// No bias trains.
    #[default]
    None,
    /// Every parameter whose name contains `bias` trains (PEFT's `"bias" in name`).
    All,
    /// Only the biases of the layers LoRA wraps train.
    LoraOnly,
}

impl Bias {
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "none" => Ok(Bias::None),
            "all" => Ok(Bias::All),
            "lora_only" => Ok(Bias::LoraOnly),
            other => Err(Error::invalid("bias", format!("'{other}' is not one of none, all, lora_only"))),
        }
    }
}

/// PEFT's `target_modules`: names matched as a full module path or as a suffix after a dot, or `all-linear`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TargetModules {
    Names(Vec<String>),
    /// The string `"all-linear"`: every `nn.Linear` / `Conv1D` except the output layer.
    Shorthand(String),
}

impl TargetModules {
    pub const ALL_LINEAR: &'static str = "all-linear";

    /// Reads the comma-separated form the CLI and the URL use: `query,value` or `all-linear`.
    pub fn parse_list(s: &str) -> Self {
        let s = s.trim();
        if s.eq_ignore_ascii_case(Self::ALL_LINEAR) {
            return TargetModules::Shorthand(Self::ALL_LINEAR.into());
        }
        TargetModules::Names(s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
    }

    /// The comma-separated form `parse_list` reads.
    pub fn to_list(&self) -> String {
        match self {
            TargetModules::Names(names) => names.join(","),
            TargetModules::Shorthand(s) => s.clone(),
        }
    }

    pub fn is_all_linear(&self) -> bool {
        matches!(self, TargetModules::Shorthand(s) if s.eq_ignore_ascii_case(Self::ALL_LINEAR))
    }
}

/// The LoRA settings PEFT's `LoraConfig` takes, with its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoraConfig {
    /// Rank of the update `B A`: A is `[r, in]`, B is `[out, r]`. PEFT default 8.
    pub r: u64,
    /// Scale numerator: the update is multiplied by `lora_alpha / r` (or `/ sqrt(r)` with rsLoRA). PEFT default 8.
    pub lora_alpha: f64,
    /// Rank-stabilised LoRA (Kalajdzievski 2023): scaling `lora_alpha / sqrt(r)`.
    pub use_rslora: bool,
    /// Modules to wrap; `None` takes PEFT's default for the architecture.
    pub target_modules: Option<TargetModules>,
    /// Block indices to adapt; `None` adapts every block.
    pub layers_to_transform: Option<Vec<usize>>,
    pub bias: Bias,
}

impl Default for LoraConfig {
    fn default() -> Self {
        Self {
            r: 8,
            lora_alpha: 8.0,
            use_rslora: false,
            target_modules: None,
            layers_to_transform: None,
            bias: Bias::None,
        }
    }
}

impl LoraConfig {
    /// The factor PEFT multiplies `B A x` by.
    pub fn scaling(&self) -> f64 {
        if self.use_rslora { self.lora_alpha / (self.r as f64).sqrt() } else { self.lora_alpha / self.r as f64 }
    }

    /// Checks the values PEFT itself rejects, with the field that is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        if self.r == 0 {
            return Err(Error::invalid(
                "r",
                "must be a positive integer (PEFT: `r` should be a positive integer value)",
            ));
        }
        if !self.lora_alpha.is_finite() {
            return Err(Error::invalid("lora_alpha", "must be a finite number"));
        }
        if let Some(TargetModules::Names(names)) = &self.target_modules {
            if names.is_empty() {
                return Err(Error::invalid("target_modules", "is empty: name at least one module, or use all-linear"));
            }
        }
        if let Some(TargetModules::Shorthand(s)) = &self.target_modules {
            if !self.target_modules.as_ref().is_some_and(TargetModules::is_all_linear) {
                return Err(Error::invalid("target_modules", format!("'{s}' is not a module list or all-linear")));
            }
        }
        if self.layers_to_transform.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::invalid(
                "layers_to_transform",
                "is empty: list layer indices, or leave it unset for all",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_is_alpha_over_r_or_over_sqrt_r_with_rslora() {
        let mut c = LoraConfig { r: 16, lora_alpha: 32.0, ..Default::default() };
        assert_eq!(c.scaling(), 2.0); // 32 / 16
        c.use_rslora = true;
        assert_eq!(c.scaling(), 8.0); // 32 / sqrt(16)
    }

    #[test]
    fn rank_zero_is_rejected_with_the_field_named() {
        let c = LoraConfig { r: 0, ..Default::default() };
        assert_eq!(c.validate().unwrap_err().field, "r");
    }

    #[test]
    fn target_list_parses_comma_separated_names_and_all_linear() {
        assert_eq!(
            TargetModules::parse_list(" query, value ,"),
            TargetModules::Names(vec!["query".into(), "value".into()])
        );
        assert!(TargetModules::parse_list("ALL-LINEAR").is_all_linear());
    }
}
