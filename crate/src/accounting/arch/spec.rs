//! The vocabulary every family's file builds with: a module (`ModuleSpec`, its kind and shape), the task model
//! around a backbone, where a module sits in the blocks, and what a family's reader hands back (`Built`). A leaf
//! below the families and the dispatch (`mod.rs`).

use serde::Serialize;

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

/// What a family's `modules` reads from its config: its modules, and the sizes the rest of the accounting needs,
/// each read once with its config class's default.
pub struct Built {
    pub modules: Vec<ModuleSpec>,
    pub num_layers: usize,
    /// PEFT's default `target_modules` for the family, where it has them.
    pub default_targets: Option<&'static [&'static str]>,
    pub hidden_size: u64,
    pub num_attention_heads: u64,
    /// transformers' `base_model_prefix`: the backbone's module in a task model.
    pub base_model_prefix: &'static str,
}

/// Prefixes every name with the attribute under which a `*ForSequenceClassification` model keeps its backbone.
pub fn prefixed(prefix: &str, modules: Vec<ModuleSpec>) -> Vec<ModuleSpec> {
    modules
        .into_iter()
        .map(|m| ModuleSpec {
            fixed: m.fixed,
            ..ModuleSpec::new(format!("{prefix}.{}", m.name), m.kind, m.in_features, m.out_features, m.bias)
        })
        .collect()
}
