//! The Llama family of decoders (`LlamaModel`, `Qwen2Model`, `Gemma3TextModel` and their `*ForSequenceClassification`),
//! after transformers' `modeling_llama.py`, `modeling_qwen2.py` and `modeling_gemma3.py`; defaults are each config
//! class's. Grouped-query attention shrinks `k_proj` / `v_proj` to `num_key_value_heads * head_dim` outputs. Qwen2 has
//! biases on q/k/v (not on `o_proj`); Gemma 3's own modules are in `gemma3.rs`.

use super::HfConfig;
use super::hf_config::head_dim;
use super::spec::{Built, ModuleSpec, Task, prefixed};
use crate::error::Error;

/// The sizes every decoder of the family has, under transformers' names, with the config class's defaults: read
/// here once, for the count and for the burn model (`model::config::decoder`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecoderSizes {
    pub vocab_size: u64,
    pub hidden_size: u64,
    pub intermediate_size: u64,
    pub num_hidden_layers: u64,
    pub num_attention_heads: u64,
    pub num_key_value_heads: u64,
    /// `head_dim`, else `hidden_size / num_attention_heads` (Gemma 3 sets its own: 256 with a hidden size of 640).
    pub head_dim: u64,
}

/// A config class's defaults for [`DecoderSizes`]: `head_dim` None where the class derives it.
pub struct Defaults {
    pub vocab_size: u64,
    pub hidden_size: u64,
    pub intermediate_size: u64,
    pub num_hidden_layers: u64,
    pub num_attention_heads: u64,
    /// None: `num_attention_heads` (no grouping) when absent.
    pub num_key_value_heads: Option<u64>,
    pub head_dim: Option<u64>,
}

/// `LlamaConfig`'s defaults (Llama 2 7B).
pub const LLAMA: Defaults = Defaults {
    vocab_size: 32000,
    hidden_size: 4096,
    intermediate_size: 11008,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: None,
    head_dim: None,
};

/// `Qwen2Config`'s defaults (Qwen2 7B).
pub const QWEN2: Defaults = Defaults {
    vocab_size: 151936,
    hidden_size: 4096,
    intermediate_size: 22016,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: Some(32),
    head_dim: None,
};

/// `Gemma3TextConfig`'s defaults (Gemma 3 4B's text model).
pub const GEMMA3: Defaults = Defaults {
    vocab_size: 262208,
    hidden_size: 2304,
    intermediate_size: 9216,
    num_hidden_layers: 26,
    num_attention_heads: 8,
    num_key_value_heads: Some(4),
    head_dim: Some(256),
};

impl DecoderSizes {
    pub fn read(config: &HfConfig, d: &Defaults) -> Result<Self, Error> {
        let hidden = config.size_or("hidden_size", Some(d.hidden_size))?;
        let heads = config.size_or("num_attention_heads", Some(d.num_attention_heads))?;
        let kv_heads = config.size_or("num_key_value_heads", Some(d.num_key_value_heads.unwrap_or(heads)))?;
        if heads % kv_heads != 0 {
            return Err(Error::invalid(
                "num_key_value_heads",
                format!("num_attention_heads ({heads}) must be a multiple of num_key_value_heads ({kv_heads})"),
            ));
        }
        let head_dim = match (config.optional_size("head_dim")?, d.head_dim) {
            (Some(dim), _) | (None, Some(dim)) => dim,
            (None, None) => head_dim(hidden, heads, "hidden_size", "num_attention_heads")?,
        };
        Ok(Self {
            vocab_size: config.size_or("vocab_size", Some(d.vocab_size))?,
            hidden_size: hidden,
            intermediate_size: config.size_or("intermediate_size", Some(d.intermediate_size))?,
            num_hidden_layers: config.size_or("num_hidden_layers", Some(d.num_hidden_layers))?,
            num_attention_heads: heads,
            num_key_value_heads: kv_heads,
            head_dim,
        })
    }

    /// Width of the queries (and of `o_proj`'s input): `num_attention_heads * head_dim`.
    pub fn q_width(&self) -> u64 {
        self.num_attention_heads * self.head_dim
    }

    /// Width of the keys and values: `num_key_value_heads * head_dim`.
    pub fn kv_width(&self) -> u64 {
        self.num_key_value_heads * self.head_dim
    }
}

/// Llama (`attention_bias` and `mlp_bias` on every projection when set) and Qwen2 (biases on q/k/v only).
pub fn modules(config: &HfConfig, task: Task, num_labels: u64, qwen2: bool) -> Result<Built, Error> {
    let s = DecoderSizes::read(config, if qwen2 { &QWEN2 } else { &LLAMA })?;
    let (qkv_bias, o_bias, mlp_bias) = if qwen2 {
        (true, false, false)
    } else {
        let bias = config.flag_or("attention_bias", false)?;
        (bias, bias, config.flag_or("mlp_bias", false)?)
    };
    let hidden = s.hidden_size;
    let mut m = vec![ModuleSpec::embedding("embed_tokens", s.vocab_size, hidden)];
    for i in 0..s.num_hidden_layers {
        let p = format!("layers.{i}");
        m.extend(attention_projections(&p, &s, qkv_bias, o_bias));
        m.extend(gated_mlp(&p, hidden, s.intermediate_size, mlp_bias));
        m.push(ModuleSpec::rms_norm(format!("{p}.input_layernorm"), hidden));
        m.push(ModuleSpec::rms_norm(format!("{p}.post_attention_layernorm"), hidden));
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

/// `self_attn.{q,k,v,o}_proj` of a grouped-query attention block at `p`.
pub fn attention_projections(p: &str, s: &DecoderSizes, qkv_bias: bool, o_bias: bool) -> [ModuleSpec; 4] {
    let hidden = s.hidden_size;
    [
        ModuleSpec::linear(format!("{p}.self_attn.q_proj"), hidden, s.q_width(), qkv_bias),
        ModuleSpec::linear(format!("{p}.self_attn.k_proj"), hidden, s.kv_width(), qkv_bias),
        ModuleSpec::linear(format!("{p}.self_attn.v_proj"), hidden, s.kv_width(), qkv_bias),
        ModuleSpec::linear(format!("{p}.self_attn.o_proj"), s.q_width(), hidden, o_bias),
    ]
}

/// `mlp.{gate,up,down}_proj`: the gated feed-forward of the family.
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
