//! Llama (`LlamaModel`, `LlamaForSequenceClassification`), after transformers' `modeling_llama.py`; defaults are
//! `LlamaConfig`'s. Grouped-query attention shrinks `k_proj` / `v_proj` to `num_key_value_heads * head_dim` outputs.

use super::HfConfig;
use super::hf_config::head_dim;
use super::spec::{Built, ModuleSpec, Task, prefixed};
use crate::error::Error;

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let vocab = config.size_or("vocab_size", Some(32000))?;
    let hidden = config.size_or("hidden_size", Some(4096))?;
    let intermediate = config.size_or("intermediate_size", Some(11008))?;
    let layers = config.size_or("num_hidden_layers", Some(32))?;
    let heads = config.size_or("num_attention_heads", Some(32))?;
    let kv_heads = config.optional_size("num_key_value_heads")?.unwrap_or(heads);
    let head_dim = match config.optional_size("head_dim")? {
        Some(d) => d,
        None => head_dim(hidden, heads, "hidden_size", "num_attention_heads")?,
    };
    let attention_bias = config.flag_or("attention_bias", false)?;
    let mlp_bias = config.flag_or("mlp_bias", false)?;

    let mut m = vec![ModuleSpec::embedding("embed_tokens", vocab, hidden)];
    for i in 0..layers {
        let p = format!("layers.{i}");
        m.extend(attention_projections(&p, hidden, heads * head_dim, kv_heads * head_dim, attention_bias));
        m.extend(gated_mlp(&p, hidden, intermediate, mlp_bias));
        m.push(ModuleSpec::rms_norm(format!("{p}.input_layernorm"), hidden));
        m.push(ModuleSpec::rms_norm(format!("{p}.post_attention_layernorm"), hidden));
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

/// `self_attn.{q,k,v,o}_proj` of a grouped-query attention block at `p`: queries `q_width` wide, keys and values
/// `kv_width` (`num_key_value_heads * head_dim`). Shared by the Llama family (Llama, Gemma 3).
pub fn attention_projections(p: &str, hidden: u64, q_width: u64, kv_width: u64, bias: bool) -> [ModuleSpec; 4] {
    [
        ModuleSpec::linear(format!("{p}.self_attn.q_proj"), hidden, q_width, bias),
        ModuleSpec::linear(format!("{p}.self_attn.k_proj"), hidden, kv_width, bias),
        ModuleSpec::linear(format!("{p}.self_attn.v_proj"), hidden, kv_width, bias),
        ModuleSpec::linear(format!("{p}.self_attn.o_proj"), q_width, hidden, bias),
    ]
}

/// `mlp.{gate,up,down}_proj`: the gated feed-forward of the Llama family.
pub fn gated_mlp(p: &str, hidden: u64, intermediate: u64, bias: bool) -> [ModuleSpec; 3] {
    [
        ModuleSpec::linear(format!("{p}.mlp.gate_proj"), hidden, intermediate, bias),
        ModuleSpec::linear(format!("{p}.mlp.up_proj"), hidden, intermediate, bias),
        ModuleSpec::linear(format!("{p}.mlp.down_proj"), intermediate, hidden, bias),
    ]
}

/// `*ForSequenceClassification` for decoder models: the backbone under `model.` and a bias-free `score`.
pub fn with_score_head(m: Vec<ModuleSpec>, task: Task, hidden: u64, num_labels: u64) -> Vec<ModuleSpec> {
    match task {
        Task::Base => m,
        Task::SeqCls => {
            let mut m = prefixed("model", m);
            m.push(ModuleSpec::linear("score", hidden, num_labels, false));
            m
        }
    }
}
