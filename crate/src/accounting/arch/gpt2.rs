//! GPT-2 (`GPT2Model`, `GPT2ForSequenceClassification`), after transformers' `modeling_gpt2.py`; defaults are
//! `GPT2Config`'s. Its projections are `Conv1D` (weight `[in, out]`, PEFT sets `fan_in_fan_out`), and
//! `c_attn` is query, key and value fused: `[hidden, 3 * hidden]`.

use super::HfConfig;
use super::hf_config::head_dim;
use super::spec::{Built, ModuleSpec, Task, prefixed};
use crate::error::Error;

/// `GPT2Config`'s sizes under its own names, with its defaults: read here once, for the count and for the burn
/// model (`model::config::gpt2`).
pub struct Gpt2Sizes {
    pub vocab_size: u64,
    pub n_embd: u64,
    pub n_layer: u64,
    pub n_head: u64,
    pub n_positions: u64,
    /// `n_inner`, or 4 `n_embd` when the config leaves it null.
    pub n_inner: u64,
}

impl Gpt2Sizes {
    pub fn read(config: &HfConfig) -> Result<Self, Error> {
        let n_embd = config.size_or("n_embd", Some(768))?;
        let n_head = config.size_or("n_head", Some(12))?;
        head_dim(n_embd, n_head, "n_embd", "n_head")?;
        Ok(Self {
            vocab_size: config.size_or("vocab_size", Some(50257))?,
            n_embd,
            n_layer: config.size_or("n_layer", Some(12))?,
            n_head,
            n_positions: config.size_or("n_positions", Some(1024))?,
            n_inner: config.optional_size("n_inner")?.unwrap_or(4 * n_embd),
        })
    }
}

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let s = Gpt2Sizes::read(config)?;
    let (vocab, hidden, layers, positions, inner) = (s.vocab_size, s.n_embd, s.n_layer, s.n_positions, s.n_inner);

    let mut m = vec![ModuleSpec::embedding("wte", vocab, hidden), ModuleSpec::embedding("wpe", positions, hidden)];
    for i in 0..layers {
        let p = format!("h.{i}");
        m.push(ModuleSpec::layer_norm(format!("{p}.ln_1"), hidden, true));
        m.push(ModuleSpec::conv1d(format!("{p}.attn.c_attn"), hidden, 3 * hidden));
        m.push(ModuleSpec::conv1d(format!("{p}.attn.c_proj"), hidden, hidden));
        m.push(ModuleSpec::layer_norm(format!("{p}.ln_2"), hidden, true));
        m.push(ModuleSpec::conv1d(format!("{p}.mlp.c_fc"), hidden, inner));
        m.push(ModuleSpec::conv1d(format!("{p}.mlp.c_proj"), inner, hidden));
    }
    m.push(ModuleSpec::layer_norm("ln_f", hidden, true));
    let modules = match task {
        Task::Base => m,
        Task::SeqCls => {
            let mut m = prefixed("transformer", m);
            m.push(ModuleSpec::linear("score", hidden, num_labels, false));
            m
        }
    };
    Ok(Built {
        modules,
        num_layers: layers as usize,
        default_targets: Some(&["c_attn"]),
        hidden_size: hidden,
        num_attention_heads: s.n_head,
        base_model_prefix: "transformer",
    })
}
