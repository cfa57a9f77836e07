//! DistilBERT (`DistilBertModel`, `DistilBertForSequenceClassification`), after transformers'
//! `modeling_distilbert.py`; defaults are `DistilBertConfig`'s. PEFT has no default targets for it.

use super::bert::Built;
use super::hf_config::head_dim;
use super::{HfConfig, ModuleSpec, Task, prefixed};
use crate::error::Error;

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let vocab = config.size_or("vocab_size", Some(30522))?;
    let dim = config.size_or("dim", Some(768))?;
    let layers = config.size_or("n_layers", Some(6))?;
    let heads = config.size_or("n_heads", Some(12))?;
    head_dim(dim, heads, "dim", "n_heads")?;
    let hidden_dim = config.size_or("hidden_dim", Some(3072))?;
    let positions = config.size_or("max_position_embeddings", Some(512))?;

    let mut m = vec![
        ModuleSpec::embedding("embeddings.word_embeddings", vocab, dim),
        // With `sinusoidal_pos_embds` the table is filled with fixed values: still a parameter (counted in the
        // total), but with `requires_grad = False`, so full fine-tuning leaves it alone.
        if config.flag_or("sinusoidal_pos_embds", false)? {
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
    Ok((modules, layers as usize, None))
}
