//! ModernBERT (`ModernBertModel`, `ModernBertForSequenceClassification`), after transformers'
//! `modeling_modernbert.py`; defaults are `ModernBertConfig`'s. PEFT has no default targets for it.
//! Attention is one fused projection, `Wqkv` `[3 * hidden, hidden]`, and the MLP's `Wi` is fused gate+up
//! `[2 * intermediate, hidden]`: a LoRA on `Wqkv` adapts query, key and value together.

use super::bert::Built;
use super::hf_config::head_dim;
use super::{HfConfig, ModuleSpec, Task, prefixed};
use crate::error::Error;

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let vocab = config.size_or("vocab_size", Some(50368))?;
    let hidden = config.size_or("hidden_size", Some(768))?;
    let layers = config.size_or("num_hidden_layers", Some(22))?;
    let heads = config.size_or("num_attention_heads", Some(12))?;
    head_dim(hidden, heads, "hidden_size", "num_attention_heads")?;
    let intermediate = config.size_or("intermediate_size", Some(1152))?;
    let norm_bias = config.flag_or("norm_bias", false)?;
    let attention_bias = config.flag_or("attention_bias", false)?;
    let mlp_bias = config.flag_or("mlp_bias", false)?;
    let classifier_bias = config.flag_or("classifier_bias", false)?;

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
    Ok((modules, layers as usize, None))
}
