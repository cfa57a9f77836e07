//! ModernBERT (`ModernBertModel`, `ModernBertForSequenceClassification`), after transformers'
//! `modeling_modernbert.py`; defaults are `ModernBertConfig`'s. PEFT has no default targets for it.
//! Attention is one fused projection, `Wqkv` `[3 * hidden, hidden]`, and the MLP's `Wi` is fused gate+up
//! `[2 * intermediate, hidden]`: a LoRA on `Wqkv` adapts query, key and value together.

use super::HfConfig;
use super::hf_config::head_dim;
use super::spec::{Built, ModuleSpec, Task, prefixed};
use crate::error::Error;

/// `ModernBertConfig`'s sizes and biases, with its defaults: read here once, for the count and for the burn model
/// (`model::config::modernbert`).
pub struct ModernBertSizes {
    pub vocab_size: u64,
    pub hidden_size: u64,
    pub num_hidden_layers: u64,
    pub num_attention_heads: u64,
    pub intermediate_size: u64,
    pub norm_bias: bool,
    pub attention_bias: bool,
    pub mlp_bias: bool,
    pub classifier_bias: bool,
}

impl ModernBertSizes {
    pub fn read(config: &HfConfig) -> Result<Self, Error> {
        let hidden_size = config.size_or("hidden_size", Some(768))?;
        let num_attention_heads = config.size_or("num_attention_heads", Some(12))?;
        head_dim(hidden_size, num_attention_heads, "hidden_size", "num_attention_heads")?;
        Ok(Self {
            vocab_size: config.size_or("vocab_size", Some(50368))?,
            hidden_size,
            num_hidden_layers: config.size_or("num_hidden_layers", Some(22))?,
            num_attention_heads,
            intermediate_size: config.size_or("intermediate_size", Some(1152))?,
            norm_bias: config.flag_or("norm_bias", false)?,
            attention_bias: config.flag_or("attention_bias", false)?,
            mlp_bias: config.flag_or("mlp_bias", false)?,
            classifier_bias: config.flag_or("classifier_bias", false)?,
        })
    }
}

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let s = ModernBertSizes::read(config)?;
    let (vocab, hidden, layers, intermediate) = (s.vocab_size, s.hidden_size, s.num_hidden_layers, s.intermediate_size);
    let (norm_bias, attention_bias, mlp_bias, classifier_bias) =
        (s.norm_bias, s.attention_bias, s.mlp_bias, s.classifier_bias);

    let mut m = vec![
        ModuleSpec::embedding("embeddings.tok_embeddings", vocab, hidden),
        ModuleSpec::layer_norm("embeddings.norm", hidden, norm_bias),
    ];
    for i in 0..layers {
        let p = format!("layers.{i}");
        // Layer 0's `attn_norm` is `nn.Identity`: the embedding norm already normalised its input.
        if i > 0 {
            m.push(ModuleSpec::layer_norm(format!("{p}.attn_norm"), hidden, norm_bias));
        }
        m.push(ModuleSpec::linear(format!("{p}.attn.Wqkv"), hidden, 3 * hidden, attention_bias));
        m.push(ModuleSpec::linear(format!("{p}.attn.Wo"), hidden, hidden, attention_bias));
        m.push(ModuleSpec::layer_norm(format!("{p}.mlp_norm"), hidden, norm_bias));
        m.push(ModuleSpec::linear(format!("{p}.mlp.Wi"), hidden, 2 * intermediate, mlp_bias));
        m.push(ModuleSpec::linear(format!("{p}.mlp.Wo"), intermediate, hidden, mlp_bias));
    }
    m.push(ModuleSpec::layer_norm("final_norm", hidden, norm_bias));
    let modules = match task {
        Task::Base => m,
        Task::SeqCls => {
            let mut m = prefixed("model", m);
            m.push(ModuleSpec::linear("head.dense", hidden, hidden, classifier_bias));
            m.push(ModuleSpec::layer_norm("head.norm", hidden, norm_bias));
            // The classifier always has a bias (`nn.Linear(hidden_size, num_labels)`).
            m.push(ModuleSpec::linear("classifier", hidden, num_labels, true));
            m
        }
    };
    Ok(Built {
        modules,
        num_layers: layers as usize,
        default_targets: None,
        hidden_size: hidden,
        num_attention_heads: s.num_attention_heads,
        base_model_prefix: "model",
    })
}
