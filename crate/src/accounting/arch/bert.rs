//! BERT and RoBERTa (`BertModel`, `RobertaModel` and their `*ForSequenceClassification`).
//! Follows transformers' `modeling_bert.py` / `modeling_roberta.py`; defaults are `BertConfig`'s / `RobertaConfig`'s.

use super::hf_config::head_dim;
use super::{HfConfig, ModuleSpec, Task, prefixed};
use crate::error::Error;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Bert,
    Roberta,
}

pub type Built = (Vec<ModuleSpec>, usize, Option<&'static [&'static str]>);

pub fn modules(config: &HfConfig, task: Task, num_labels: u64, flavor: Flavor) -> Result<Built, Error> {
    let (vocab_default, positions_default, types_default) = match flavor {
        Flavor::Bert => (30522, 512, 2),
        Flavor::Roberta => (50265, 514, 1),
    };
    let vocab = config.size_or("vocab_size", Some(vocab_default))?;
    let hidden = config.size_or("hidden_size", Some(768))?;
    let layers = config.size_or("num_hidden_layers", Some(12))?;
    let heads = config.size_or("num_attention_heads", Some(12))?;
    head_dim(hidden, heads, "hidden_size", "num_attention_heads")?;
    let intermediate = config.size_or("intermediate_size", Some(3072))?;
    let positions = config.size_or("max_position_embeddings", Some(positions_default))?;
    let types = config.size_or("type_vocab_size", Some(types_default))?;

    let mut m = vec![ModuleSpec::embedding("embeddings.word_embeddings", vocab, hidden)];
    // Registration order differs (RoBERTa registers its position table last); names and shapes are what count.
    match flavor {
        Flavor::Bert => {
            m.push(ModuleSpec::embedding("embeddings.position_embeddings", positions, hidden));
            m.push(ModuleSpec::embedding("embeddings.token_type_embeddings", types, hidden));
            m.push(ModuleSpec::layer_norm("embeddings.LayerNorm", hidden, true));
        }
        Flavor::Roberta => {
            m.push(ModuleSpec::embedding("embeddings.token_type_embeddings", types, hidden));
            m.push(ModuleSpec::layer_norm("embeddings.LayerNorm", hidden, true));
            m.push(ModuleSpec::embedding("embeddings.position_embeddings", positions, hidden));
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
    let pooler = task == Task::Base || flavor == Flavor::Bert;
    if pooler {
        m.push(ModuleSpec::linear("pooler.dense", hidden, hidden, true));
    }
    let modules = match (task, flavor) {
        (Task::Base, _) => m,
        (Task::SeqCls, Flavor::Bert) => {
            let mut m = prefixed("bert", m);
            m.push(ModuleSpec::linear("classifier", hidden, num_labels, true));
            m
        }
        (Task::SeqCls, Flavor::Roberta) => {
            let mut m = prefixed("roberta", m);
            m.push(ModuleSpec::linear("classifier.dense", hidden, hidden, true));
            m.push(ModuleSpec::linear("classifier.out_proj", hidden, num_labels, true));
            m
        }
    };
    Ok((modules, layers as usize, Some(&["query", "value"])))
}
