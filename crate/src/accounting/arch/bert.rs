//! BERT and RoBERTa (`BertModel`, `RobertaModel` and their `*ForSequenceClassification`).
//! Follows transformers' `modeling_bert.py` / `modeling_roberta.py`; defaults are `BertConfig`'s / `RobertaConfig`'s.

use super::HfConfig;
use super::flavor::Flavor;
use super::hf_config::head_dim;
use super::spec::{Built, ModuleSpec, Task, prefixed};
use crate::error::Error;

/// `BertConfig`'s and `RobertaConfig`'s sizes, with their defaults: read here once, for the count and for the
/// burn model (`model::config::bert`).
pub struct BertSizes {
    pub vocab_size: u64,
    pub hidden_size: u64,
    pub num_hidden_layers: u64,
    pub num_attention_heads: u64,
    pub intermediate_size: u64,
    pub max_position_embeddings: u64,
    pub type_vocab_size: u64,
}

impl BertSizes {
    /// `flavor` is `Bert` or `Roberta` (RoBERTa's vocabulary, positions and token types differ).
    pub fn read(config: &HfConfig, flavor: Flavor) -> Result<Self, Error> {
        let (vocab, positions, types) = match flavor {
            Flavor::Roberta => (50265, 514, 1),
            _ => (30522, 512, 2),
        };
        let hidden_size = config.size_or("hidden_size", Some(768))?;
        let num_attention_heads = config.size_or("num_attention_heads", Some(12))?;
        head_dim(hidden_size, num_attention_heads, "hidden_size", "num_attention_heads")?;
        Ok(Self {
            vocab_size: config.size_or("vocab_size", Some(vocab))?,
            hidden_size,
            num_hidden_layers: config.size_or("num_hidden_layers", Some(12))?,
            num_attention_heads,
            intermediate_size: config.size_or("intermediate_size", Some(3072))?,
            max_position_embeddings: config.size_or("max_position_embeddings", Some(positions))?,
            type_vocab_size: config.size_or("type_vocab_size", Some(types))?,
        })
    }
}

pub fn modules(config: &HfConfig, task: Task, num_labels: u64, flavor: Flavor) -> Result<Built, Error> {
    let s = BertSizes::read(config, flavor)?;
    let (vocab, hidden, layers, intermediate) = (s.vocab_size, s.hidden_size, s.num_hidden_layers, s.intermediate_size);
    let (positions, types) = (s.max_position_embeddings, s.type_vocab_size);

    let mut m = vec![ModuleSpec::embedding("embeddings.word_embeddings", vocab, hidden)];
    // Registration order differs (RoBERTa registers its position table last); names and shapes are what count.
    match flavor {
        Flavor::Roberta => {
            m.push(ModuleSpec::embedding("embeddings.token_type_embeddings", types, hidden));
            m.push(ModuleSpec::layer_norm("embeddings.LayerNorm", hidden, true));
            m.push(ModuleSpec::embedding("embeddings.position_embeddings", positions, hidden));
        }
        _ => {
            m.push(ModuleSpec::embedding("embeddings.position_embeddings", positions, hidden));
            m.push(ModuleSpec::embedding("embeddings.token_type_embeddings", types, hidden));
            m.push(ModuleSpec::layer_norm("embeddings.LayerNorm", hidden, true));
        }
    }
    for i in 0..layers {
        let p = format!("encoder.layer.{i}");
        m.push(ModuleSpec::linear(format!("{p}.attention.self.query"), hidden, hidden, true));
        m.push(ModuleSpec::linear(format!("{p}.attention.self.key"), hidden, hidden, true));
        m.push(ModuleSpec::linear(format!("{p}.attention.self.value"), hidden, hidden, true));
        m.push(ModuleSpec::linear(format!("{p}.attention.output.dense"), hidden, hidden, true));
        m.push(ModuleSpec::layer_norm(format!("{p}.attention.output.LayerNorm"), hidden, true));
        m.push(ModuleSpec::linear(format!("{p}.intermediate.dense"), hidden, intermediate, true));
        m.push(ModuleSpec::linear(format!("{p}.output.dense"), intermediate, hidden, true));
        m.push(ModuleSpec::layer_norm(format!("{p}.output.LayerNorm"), hidden, true));
    }
    // `BertForSequenceClassification` keeps the pooler; `RobertaForSequenceClassification` builds
    // `RobertaModel(config, add_pooling_layer=False)` and has its own two-layer head instead.
    let pooler = task == Task::Base || flavor != Flavor::Roberta;
    if pooler {
        m.push(ModuleSpec::linear("pooler.dense", hidden, hidden, true));
    }
    let prefix = if flavor == Flavor::Roberta { "roberta" } else { "bert" };
    let modules = match (task, flavor) {
        (Task::Base, _) => m,
        (Task::SeqCls, Flavor::Roberta) => {
            let mut m = prefixed(prefix, m);
            m.push(ModuleSpec::linear("classifier.dense", hidden, hidden, true));
            m.push(ModuleSpec::linear("classifier.out_proj", hidden, num_labels, true));
            m
        }
        (Task::SeqCls, _) => {
            let mut m = prefixed(prefix, m);
            m.push(ModuleSpec::linear("classifier", hidden, num_labels, true));
            m
        }
    };
    Ok(Built {
        modules,
        num_layers: layers as usize,
        default_targets: Some(&["query", "value"]),
        hidden_size: hidden,
        num_attention_heads: s.num_attention_heads,
        base_model_prefix: prefix,
    })
}
