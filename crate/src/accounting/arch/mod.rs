//! Architectures as PEFT sees them: a flat list of named modules with their kind and shape.
//!
//! Names are the `named_modules()` paths of the transformers model (`bert.encoder.layer.0.attention.self.query`),
//! so a name here is a PEFT `target_modules` entry, a checkpoint key prefix and a row on the page at once.
//! No tensors live here: an architecture is arithmetic over shapes.

pub mod bert;
pub mod distilbert;
pub mod flavor;
pub mod gemma3;
pub mod gpt2;
pub mod hf_config;
pub mod llama;
pub mod modernbert;
mod spec;

pub use hf_config::HfConfig;
pub use spec::{Built, ModuleKind, ModuleSpec, Task, block_relative, display_layer, layer_index};

use flavor::Flavor;

use serde::Serialize;

use crate::error::Error;

/// A model as a list of modules plus what PEFT needs to know about it.
#[derive(Debug, Clone, Serialize)]
pub struct Architecture {
    /// `config.json`'s `model_type`.
    pub model_type: String,
    pub task: Task,
    /// Outputs of the classification head (0 for the base model).
    pub num_labels: u64,
    /// Transformer blocks (`num_hidden_layers`, `n_layer`, ...).
    pub num_layers: usize,
    /// Every module with parameters, in `named_modules()` order.
    pub modules: Vec<ModuleSpec>,
    /// PEFT's default `target_modules` for this `model_type`, where it has one.
    pub default_targets: Option<Vec<String>>,
    /// Width of the residual stream (`hidden_size`, `n_embd`, `dim`).
    pub hidden_size: u64,
    /// Attention heads per layer (`num_attention_heads`, `n_head`, `n_heads`).
    pub num_attention_heads: u64,
    /// transformers' `base_model_prefix`: the attribute holding the backbone in a `*ForSequenceClassification`
    /// model. Everything outside it is the task head.
    pub base_model_prefix: &'static str,
}

impl Architecture {
    /// Builds the module list transformers would build for a `config.json`.
    pub fn from_config(config: &HfConfig, task: Task, num_labels: u64) -> Result<Self, Error> {
        if task == Task::SeqCls && num_labels == 0 {
            return Err(Error::invalid("num_labels", "a classifier needs at least 1 label"));
        }
        let model_type = config.model_type()?;
        let built = match model_type.as_str() {
            "bert" => bert::modules(config, task, num_labels, Flavor::Bert)?,
            "roberta" => bert::modules(config, task, num_labels, Flavor::Roberta)?,
            "distilbert" => distilbert::modules(config, task, num_labels)?,
            "modernbert" => modernbert::modules(config, task, num_labels)?,
            "gpt2" => gpt2::modules(config, task, num_labels)?,
            "llama" => llama::modules(config, task, num_labels, false)?,
            "qwen2" => llama::modules(config, task, num_labels, true)?,
            "gemma3_text" => gemma3::modules(config, task, num_labels)?,
            other => {
                return Err(Error::invalid(
                    "model_type",
                    format!("'{other}' is not supported; supported: {}", SUPPORTED_MODEL_TYPES.join(", ")),
                ));
            }
        };
        let Built { modules, num_layers, default_targets, hidden_size, num_attention_heads, base_model_prefix } = built;
        Ok(Self {
            hidden_size,
            num_attention_heads,
            base_model_prefix,
            model_type,
            task,
            num_labels: if task == Task::SeqCls { num_labels } else { 0 },
            num_layers,
            modules,
            default_targets: default_targets.map(|t| t.iter().map(|s| s.to_string()).collect()),
        })
    }

    /// Total parameters of the model as transformers builds it.
    pub fn params(&self) -> u64 {
        self.modules.iter().map(ModuleSpec::params).sum()
    }

    /// Whether a module belongs to the sequence-classification head (outside the backbone).
    pub fn in_head(&self, module: &ModuleSpec) -> bool {
        self.task == Task::SeqCls && !crate::accounting::path::within(&module.name, self.base_model_prefix)
    }

    pub fn module(&self, name: &str) -> Option<&ModuleSpec> {
        self.modules.iter().find(|m| m.name == name)
    }
}

/// The `model_type` values this calculator builds.
pub const SUPPORTED_MODEL_TYPES: [&str; 8] =
    ["bert", "roberta", "distilbert", "modernbert", "gpt2", "llama", "qwen2", "gemma3_text"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_index_is_the_first_numbered_component_as_in_peft() {
        assert_eq!(layer_index("bert.encoder.layer.3.attention.self.query"), Some(3));
        assert_eq!(layer_index("transformer.h.11.attn.c_attn"), Some(11));
        assert_eq!(layer_index("model.layers.0.self_attn.q_proj"), Some(0));
        assert_eq!(layer_index("distilbert.transformer.layer.5.ffn.lin1"), Some(5));
        // `layers.0` at the very start has no dot before the pattern, as in PEFT's regex.
        assert_eq!(layer_index("layers.0.attn.Wqkv"), None);
        assert_eq!(layer_index("bert.pooler.dense"), None);
    }
}
