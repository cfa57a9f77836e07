//! DistilBERT (`DistilBertModel`, `DistilBertForSequenceClassification`), after transformers'
//! `modeling_distilbert.py`; defaults are `DistilBertConfig`'s. PEFT has no default targets for it.

use super::HfConfig;
use super::hf_config::head_dim;
use super::spec::{Built, ModuleSpec, Task, prefixed};
use crate::error::Error;

/// `DistilBertConfig`'s sizes under its own names, with its defaults: read here once, for the count and for the
/// burn model (`model::config::bert`).
pub struct DistilBertSizes {
    pub vocab_size: u64,
    pub dim: u64,
    pub n_layers: u64,
    pub n_heads: u64,
    pub hidden_dim: u64,
    pub max_position_embeddings: u64,
    /// The position table holds fixed sinusoids that never train.
    pub sinusoidal_pos_embds: bool,
}

impl DistilBertSizes {
    pub fn read(config: &HfConfig) -> Result<Self, Error> {
        let dim = config.size_or("dim", Some(768))?;
        let n_heads = config.size_or("n_heads", Some(12))?;
        head_dim(dim, n_heads, "dim", "n_heads")?;
        Ok(Self {
            vocab_size: config.size_or("vocab_size", Some(30522))?,
            dim,
            n_layers: config.size_or("n_layers", Some(6))?,
            n_heads,
            hidden_dim: config.size_or("hidden_dim", Some(3072))?,
            max_position_embeddings: config.size_or("max_position_embeddings", Some(512))?,
            sinusoidal_pos_embds: config.flag_or("sinusoidal_pos_embds", false)?,
        })
    }
}

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let s = DistilBertSizes::read(config)?;
    let (vocab, dim, layers, hidden_dim, positions) =
        (s.vocab_size, s.dim, s.n_layers, s.hidden_dim, s.max_position_embeddings);

    let mut m = vec![
        ModuleSpec::embedding("embeddings.word_embeddings", vocab, dim),
        // With `sinusoidal_pos_embds` the table is filled with fixed values: still a parameter (counted in the
        // total), but with `requires_grad = False`, so full fine-tuning leaves it alone.
        if s.sinusoidal_pos_embds {
            ModuleSpec::embedding("embeddings.position_embeddings", positions, dim).fixed()
        } else {
            ModuleSpec::embedding("embeddings.position_embeddings", positions, dim)
        },
        ModuleSpec::layer_norm("embeddings.LayerNorm", dim, true),
    ];
    for i in 0..layers {
        let p = format!("transformer.layer.{i}");
        for name in ["q_lin", "k_lin", "v_lin", "out_lin"] {
            m.push(ModuleSpec::linear(format!("{p}.attention.{name}"), dim, dim, true));
        }
        m.push(ModuleSpec::layer_norm(format!("{p}.sa_layer_norm"), dim, true));
        m.push(ModuleSpec::linear(format!("{p}.ffn.lin1"), dim, hidden_dim, true));
        m.push(ModuleSpec::linear(format!("{p}.ffn.lin2"), hidden_dim, dim, true));
        m.push(ModuleSpec::layer_norm(format!("{p}.output_layer_norm"), dim, true));
    }
    let modules = match task {
        Task::Base => m,
        Task::SeqCls => {
            let mut m = prefixed("distilbert", m);
            m.push(ModuleSpec::linear("pre_classifier", dim, dim, true));
            m.push(ModuleSpec::linear("classifier", dim, num_labels, true));
            m
        }
    };
    Ok(Built {
        modules,
        num_layers: layers as usize,
        default_targets: None,
        hidden_size: dim,
        num_attention_heads: s.n_heads,
        base_model_prefix: "distilbert",
    })
}
