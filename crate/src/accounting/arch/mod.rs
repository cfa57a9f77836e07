//! Architectures as PEFT sees them: a flat list of named modules with their kind and shape.
//!
//! Names are the `named_modules()` paths of the transformers model (`bert.encoder.layer.0.attention.self.query`),
//! so a name here is a PEFT `target_modules` entry, a checkpoint key prefix and a row on the page at once.
//! No tensors live here: an architecture is arithmetic over shapes.

mod bert;
mod distilbert;
mod gemma3;
mod gpt2;
mod hf_config;
mod llama;
mod modernbert;

pub use hf_config::HfConfig;

use serde::Serialize;

use crate::error::Error;

/// What a leaf module is; decides its parameters and whether LoRA can wrap it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleKind {
    /// `torch.nn.Linear`: weight `[out_features, in_features]`.
    Linear,
    /// GPT-2's `transformers.pytorch_utils.Conv1D`: weight `[in_features, out_features]`
    /// (PEFT sets `fan_in_fan_out = True` for it).
    Conv1D,
    /// `torch.nn.Embedding`: weight `[num_embeddings, embedding_dim]` stored as `in = num_embeddings`,
    /// `out = embedding_dim`.
    Embedding,
    /// `torch.nn.LayerNorm`: weight `[out]`, bias `[out]` when `elementwise_affine` has one.
    LayerNorm,
    /// Llama / Gemma RMSNorm: weight `[out]`, never a bias.
    RmsNorm,
}

impl ModuleKind {
    /// Modules that PEFT's `all-linear` collects (`nn.Linear` and `Conv1D`).
    pub fn is_linear(self) -> bool {
        matches!(self, ModuleKind::Linear | ModuleKind::Conv1D)
    }

    /// Modules PEFT's LoRA can wrap (among the kinds these architectures have).
    pub fn lora_supported(self) -> bool {
        matches!(self, ModuleKind::Linear | ModuleKind::Conv1D | ModuleKind::Embedding)
    }

    /// The class name PEFT prints in its errors.
    pub fn torch_name(self) -> &'static str {
        match self {
            ModuleKind::Linear => "Linear",
            ModuleKind::Conv1D => "Conv1D",
            ModuleKind::Embedding => "Embedding",
            ModuleKind::LayerNorm => "LayerNorm",
            ModuleKind::RmsNorm => "RMSNorm",
        }
    }
}

/// One leaf module with parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleSpec {
    /// Full dotted path, as `model.named_modules()` yields it.
    pub name: String,
    pub kind: ModuleKind,
    /// Linear/Conv1D: input features. Embedding: vocabulary size. Norms: normalized size.
    pub in_features: u64,
    /// Linear/Conv1D: output features. Embedding: embedding size. Norms: normalized size.
    pub out_features: u64,
    /// Whether the module owns a bias parameter.
    pub bias: bool,
    /// Index of the transformer block that owns it, found the way PEFT's `layers_to_transform` finds it.
    pub layer: Option<usize>,
    /// A parameter the model itself never trains (`requires_grad = False`: DistilBERT's sinusoidal position table),
    /// so not even full fine-tuning updates it.
    pub fixed: bool,
}

impl ModuleSpec {
    pub fn linear(name: impl Into<String>, in_features: u64, out_features: u64, bias: bool) -> Self {
        Self::new(name, ModuleKind::Linear, in_features, out_features, bias)
    }
    pub fn conv1d(name: impl Into<String>, in_features: u64, out_features: u64) -> Self {
        Self::new(name, ModuleKind::Conv1D, in_features, out_features, true)
    }
    pub fn embedding(name: impl Into<String>, num_embeddings: u64, dim: u64) -> Self {
        Self::new(name, ModuleKind::Embedding, num_embeddings, dim, false)
    }
    pub fn layer_norm(name: impl Into<String>, dim: u64, bias: bool) -> Self {
        Self::new(name, ModuleKind::LayerNorm, dim, dim, bias)
    }
    pub fn rms_norm(name: impl Into<String>, dim: u64) -> Self {
        Self::new(name, ModuleKind::RmsNorm, dim, dim, false)
    }

    fn new(name: impl Into<String>, kind: ModuleKind, in_features: u64, out_features: u64, bias: bool) -> Self {
        let name = name.into();
        let layer = layer_index(&name);
        Self { name, kind, in_features, out_features, bias, layer, fixed: false }
    }

    /// The module as one the model never trains (see `fixed`).
    pub fn fixed(self) -> Self {
        Self { fixed: true, ..self }
    }

    /// Elements of the weight tensor.
    pub fn weight_params(&self) -> u64 {
        match self.kind {
            ModuleKind::Linear | ModuleKind::Conv1D | ModuleKind::Embedding => self.in_features * self.out_features,
            ModuleKind::LayerNorm | ModuleKind::RmsNorm => self.out_features,
        }
    }

    /// Elements of the bias tensor (0 without one).
    pub fn bias_params(&self) -> u64 {
        if self.bias { self.out_features } else { 0 }
    }

    pub fn params(&self) -> u64 {
        self.weight_params() + self.bias_params()
    }

    /// Weight shape as torch stores it (what a checkpoint holds).
    pub fn weight_shape(&self) -> Vec<u64> {
        match self.kind {
            ModuleKind::Linear => vec![self.out_features, self.in_features],
            ModuleKind::Conv1D | ModuleKind::Embedding => vec![self.in_features, self.out_features],
            ModuleKind::LayerNorm | ModuleKind::RmsNorm => vec![self.out_features],
        }
    }

    /// The last dotted component: `query` for `bert.encoder.layer.0.attention.self.query`.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }
}

/// The block index in a module path, as PEFT's `check_target_module_exists` extracts it for
/// `layers_to_transform` when `layers_pattern` is unset: the first all-digit component that has a
/// dotted component before it and another component after it (`re.match(r".*?\.[^.]*\.(?P<idx>\d+)\.", key)`).
/// So `bert.encoder.layer.3.attention.self.query` is layer 3, while a bare `layers.0.attn.Wqkv`
/// (the base ModernBERT or Llama model, without the `model.` prefix) has no layer for PEFT.
pub fn layer_index(name: &str) -> Option<usize> {
    let parts: Vec<&str> = name.split('.').collect();
    (2..parts.len().saturating_sub(1))
        .find(|&i| !parts[i].is_empty() && parts[i].bytes().all(|b| b.is_ascii_digit()))
        .and_then(|i| parts[i].parse().ok())
}

/// The name of a module inside its block, the way target_modules usually names it:
/// `bert.encoder.layer.3.attention.self.query` -> `attention.self.query`, `layers.0.mlp.up_proj` -> `mlp.up_proj`.
/// Paths outside blocks stay whole. (For display and grouping; PEFT's own layer index is `layer_index`.)
pub fn block_relative(name: &str) -> String {
    let parts: Vec<&str> = name.split('.').collect();
    match (1..parts.len().saturating_sub(1)).find(|&i| parts[i].bytes().all(|b| b.is_ascii_digit())) {
        Some(i) => parts[i + 1..].join("."),
        None => name.to_string(),
    }
}

/// The block number shown for a module (the first numbered component), whether or not PEFT can see it.
pub fn display_layer(name: &str) -> Option<usize> {
    let parts: Vec<&str> = name.split('.').collect();
    (1..parts.len().saturating_sub(1))
        .find(|&i| parts[i].bytes().all(|b| b.is_ascii_digit()))
        .and_then(|i| parts[i].parse().ok())
}

/// Which model transformers builds around the backbone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// `AutoModel`: the backbone alone (BERT and RoBERTa include their pooler).
    Base,
    /// `AutoModelForSequenceClassification` with `num_labels` outputs.
    SeqCls,
}

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
        let (modules, num_layers, default_targets) = match model_type.as_str() {
            "bert" => bert::modules(config, task, num_labels, bert::Flavor::Bert)?,
            "roberta" => bert::modules(config, task, num_labels, bert::Flavor::Roberta)?,
            "distilbert" => distilbert::modules(config, task, num_labels)?,
            "modernbert" => modernbert::modules(config, task, num_labels)?,
            "gpt2" => gpt2::modules(config, task, num_labels)?,
            "llama" => llama::modules(config, task, num_labels)?,
            "gemma3_text" => gemma3::modules(config, task, num_labels)?,
            other => {
                return Err(Error::invalid(
                    "model_type",
                    format!("'{other}' is not supported; supported: {}", SUPPORTED_MODEL_TYPES.join(", ")),
                ));
            }
        };
        // Defaults as in each config class; the builders above already validated these fields.
        let (hidden_key, heads_key, hidden_default, heads_default, prefix) = match model_type.as_str() {
            "bert" => ("hidden_size", "num_attention_heads", 768, 12, "bert"),
            "roberta" => ("hidden_size", "num_attention_heads", 768, 12, "roberta"),
            "distilbert" => ("dim", "n_heads", 768, 12, "distilbert"),
            "modernbert" => ("hidden_size", "num_attention_heads", 768, 12, "model"),
            "gpt2" => ("n_embd", "n_head", 768, 12, "transformer"),
            "llama" => ("hidden_size", "num_attention_heads", 4096, 32, "model"),
            _ => ("hidden_size", "num_attention_heads", 2304, 8, "model"),
        };
        let hidden_size = config.size_or(hidden_key, Some(hidden_default))?;
        let num_attention_heads = config.size_or(heads_key, Some(heads_default))?;
        Ok(Self {
            hidden_size,
            num_attention_heads,
            base_model_prefix: prefix,
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
pub const SUPPORTED_MODEL_TYPES: [&str; 7] =
    ["bert", "roberta", "distilbert", "modernbert", "gpt2", "llama", "gemma3_text"];

/// Prefixes every name with the attribute under which a `*ForSequenceClassification` model keeps its backbone.
fn prefixed(prefix: &str, modules: Vec<ModuleSpec>) -> Vec<ModuleSpec> {
    modules
        .into_iter()
        .map(|m| ModuleSpec {
            fixed: m.fixed,
            ..ModuleSpec::new(format!("{prefix}.{}", m.name), m.kind, m.in_features, m.out_features, m.bias)
        })
        .collect()
}

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
