//! Gemma 3 text models (`Gemma3TextModel`, `Gemma3TextForSequenceClassification`), after transformers'
//! `modeling_gemma3.py`; defaults are `Gemma3TextConfig`'s. Unlike Llama, `head_dim` is its own setting
//! (256 for Gemma 3 270M, whose hidden size is 640), attention has RMS norms on queries and keys, and each
//! block has four norms.

use super::HfConfig;
use super::llama::{attention_projections, gated_mlp, with_score_head};
use super::spec::{Built, ModuleSpec, Task};
use crate::error::Error;

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let vocab = config.size_or("vocab_size", Some(262208))?;
    let hidden = config.size_or("hidden_size", Some(2304))?;
    let intermediate = config.size_or("intermediate_size", Some(9216))?;
    let layers = config.size_or("num_hidden_layers", Some(26))?;
    let heads = config.size_or("num_attention_heads", Some(8))?;
    let kv_heads = config.size_or("num_key_value_heads", Some(4))?;
    let head_dim = config.size_or("head_dim", Some(256))?;
    let attention_bias = config.flag_or("attention_bias", false)?;

    let mut m = vec![ModuleSpec::embedding("embed_tokens", vocab, hidden)];
    for i in 0..layers {
        let p = format!("layers.{i}");
        m.extend(attention_projections(&p, hidden, heads * head_dim, kv_heads * head_dim, attention_bias));
        m.push(ModuleSpec::rms_norm(format!("{p}.self_attn.q_norm"), head_dim));
        m.push(ModuleSpec::rms_norm(format!("{p}.self_attn.k_norm"), head_dim));
        m.extend(gated_mlp(&p, hidden, intermediate, false));
        m.push(ModuleSpec::rms_norm(format!("{p}.input_layernorm"), hidden));
        m.push(ModuleSpec::rms_norm(format!("{p}.post_attention_layernorm"), hidden));
        m.push(ModuleSpec::rms_norm(format!("{p}.pre_feedforward_layernorm"), hidden));
        m.push(ModuleSpec::rms_norm(format!("{p}.post_feedforward_layernorm"), hidden));
    }
    m.push(ModuleSpec::rms_norm("norm", hidden));
    Ok(Built {
        modules: with_score_head(m, task, hidden, num_labels),
        num_layers: layers as usize,
        default_targets: Some(&["q_proj", "v_proj"]),
        hidden_size: hidden,
        num_attention_heads: heads,
        base_model_prefix: "model",
    })
}
