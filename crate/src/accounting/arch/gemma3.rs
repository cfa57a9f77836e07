//! Gemma 3 text models (`Gemma3TextModel`, `Gemma3TextForSequenceClassification`), after transformers'
//! `modeling_gemma3.py`; defaults are `Gemma3TextConfig`'s. Unlike Llama, `head_dim` is its own setting
//! (256 for Gemma 3 270M, whose hidden size is 640), attention has RMS norms on queries and keys, and each
//! block has four norms.

use super::HfConfig;
use super::llama::{DecoderSizes, GEMMA3, attention_projections, gated_mlp, with_score_head};
use super::spec::{Built, ModuleSpec, Task};
use crate::error::Error;

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let s = DecoderSizes::read(config, &GEMMA3)?;
    let (hidden, head_dim) = (s.hidden_size, s.head_dim);
    let attention_bias = config.flag_or("attention_bias", false)?;

    let mut m = vec![ModuleSpec::embedding("embed_tokens", s.vocab_size, hidden)];
    for i in 0..s.num_hidden_layers {
        let p = format!("layers.{i}");
        m.extend(attention_projections(&p, &s, attention_bias, attention_bias));
        m.push(ModuleSpec::rms_norm(format!("{p}.self_attn.q_norm"), head_dim));
        m.push(ModuleSpec::rms_norm(format!("{p}.self_attn.k_norm"), head_dim));
        m.extend(gated_mlp(&p, hidden, s.intermediate_size, false));
        m.push(ModuleSpec::rms_norm(format!("{p}.input_layernorm"), hidden));
        m.push(ModuleSpec::rms_norm(format!("{p}.post_attention_layernorm"), hidden));
        m.push(ModuleSpec::rms_norm(format!("{p}.pre_feedforward_layernorm"), hidden));
        m.push(ModuleSpec::rms_norm(format!("{p}.post_feedforward_layernorm"), hidden));
    }
    m.push(ModuleSpec::rms_norm("norm", hidden));
    Ok(Built {
        modules: with_score_head(m, task, hidden, num_labels),
        num_layers: s.num_hidden_layers as usize,
        default_targets: Some(&["q_proj", "v_proj"]),
        hidden_size: hidden,
        num_attention_heads: s.num_attention_heads,
        base_model_prefix: "model",
    })
}
