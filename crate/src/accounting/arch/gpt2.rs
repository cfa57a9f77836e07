//! GPT-2 (`GPT2Model`, `GPT2ForSequenceClassification`), after transformers' `modeling_gpt2.py`; defaults are
//! `GPT2Config`'s. Its projections are `Conv1D` (weight `[in, out]`, PEFT sets `fan_in_fan_out`), and
//! `c_attn` is query, key and value fused: `[hidden, 3 * hidden]`.

use super::bert::Built;
use super::hf_config::head_dim;
use super::{HfConfig, ModuleSpec, Task, prefixed};
use crate::error::Error;

pub fn modules(config: &HfConfig, task: Task, num_labels: u64) -> Result<Built, Error> {
    let vocab = config.size_or("vocab_size", Some(50257))?;
    let hidden = config.size_or("n_embd", Some(768))?;
    let layers = config.size_or("n_layer", Some(12))?;
    let heads = config.size_or("n_head", Some(12))?;
    head_dim(hidden, heads, "n_embd", "n_head")?;
    let positions = config.size_or("n_positions", Some(1024))?;
    // `n_inner = None` means 4 * n_embd.
    let inner = config.optional_size("n_inner")?.unwrap_or(4 * hidden);

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
    Ok((modules, layers as usize, Some(&["c_attn"])))
}
