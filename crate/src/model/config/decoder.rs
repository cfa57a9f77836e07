//! The language models' hyper-parameters (`LlamaConfig`, `Qwen2Config`, `Gemma3TextConfig`), read from a
//! `config.json` with transformers' defaults. The sizes come from the calculator's reader
//! (`accounting::arch::llama::DecoderSizes`); the rest here: norms, rotary settings in both spellings
//! (transformers 4's `rope_theta` / `rope_scaling`, transformers 5's `rope_parameters`), which layers slide, the
//! special tokens. A setting this implementation does not compute (an unknown rope scaling, soft-capping, Qwen2's
//! sliding window) is refused by name rather than silently ignored.

use serde_json::Value;

use crate::accounting::arch::HfConfig;
use crate::accounting::arch::flavor::Flavor;
use crate::accounting::arch::llama::{DecoderSizes, GEMMA3, LLAMA, QWEN2};
use crate::error::Error;

/// The feed-forward's gate activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `silu` (Llama, Qwen2: SwiGLU).
    Silu,
    /// `gelu_pytorch_tanh` (Gemma 3: GeGLU with the tanh approximation).
    GeluTanh,
}

/// One layer's attention: its rotary base and, on a sliding-window layer, the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerAttention {
    pub rope_theta: f64,
    /// `rope_scaling` of type `linear`: positions divided by this factor (1 otherwise).
    pub rope_factor: f64,
    /// `Some(w)`: a query sees the keys fewer than `w` positions behind it (transformers' sliding window).
    pub window: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecoderConfig {
    pub flavor: Flavor,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub hidden_act: Activation,
    /// Biases on q/k/v (Qwen2 always; Llama's `attention_bias`), and on `o_proj` (Llama's `attention_bias` only).
    pub qkv_bias: bool,
    pub o_bias: bool,
    pub mlp_bias: bool,
    /// The output head is the embedding matrix (`tie_word_embeddings`): no `lm_head` tensor of its own.
    pub tie_word_embeddings: bool,
    /// Per layer.
    pub layers: Vec<LayerAttention>,
    /// The attention scores' factor: `head_dim^-0.5`, Gemma 3's `query_pre_attn_scalar^-0.5`.
    pub attention_scale: f64,
    /// Gemma 3's differences from Llama: norms scale by (1 + w), q/k norms, four norms a block, embeddings times
    /// sqrt(hidden_size).
    pub gemma: bool,
    pub initializer_range: f64,
    pub max_position_embeddings: usize,
    pub bos_token_id: Option<u32>,
    /// `eos_token_id` (one id or a list): generation stops at any of them.
    pub eos_token_ids: Vec<u32>,
    pub pad_token_id: Option<u32>,
}

impl DecoderConfig {
    pub fn q_width(&self) -> usize {
        self.num_attention_heads * self.head_dim
    }

    pub fn kv_width(&self) -> usize {
        self.num_key_value_heads * self.head_dim
    }
}

/// The reader for `model_type` `llama`, `qwen2` or `gemma3_text`.
pub fn decoder_config(config: &HfConfig, flavor: Flavor) -> Result<DecoderConfig, Error> {
    let (defaults, gemma) = match flavor {
        Flavor::Llama => (&LLAMA, false),
        Flavor::Qwen2 => (&QWEN2, false),
        Flavor::Gemma3Text => (&GEMMA3, true),
        other => return Err(Error::internal("model_type", format!("{} is not a language model", other.model_type()))),
    };
    let s = DecoderSizes::read(config, defaults)?;
    for key in ["final_logit_softcapping", "attn_logit_softcapping"] {
        if !config.get(key).is_null() {
            return Err(Error::invalid(key, "soft-capping is not implemented here; only models without it load"));
        }
    }
    if config.flag_or("use_bidirectional_attention", false)? {
        return Err(Error::invalid("use_bidirectional_attention", "only causal (left-to-right) models load"));
    }
    if flavor == Flavor::Qwen2 && config.flag_or("use_sliding_window", false)? {
        return Err(Error::invalid("use_sliding_window", "Qwen2's sliding window is not implemented here"));
    }
    let act_key = if gemma { "hidden_activation" } else { "hidden_act" };
    let act = config.string_or(act_key, if gemma { "gelu_pytorch_tanh" } else { "silu" })?;
    let hidden_act = match act.as_str() {
        "silu" | "swish" => Activation::Silu,
        "gelu_pytorch_tanh" | "gelu_tanh" | "gelu_new" => Activation::GeluTanh,
        other => {
            return Err(Error::invalid(act_key, format!("'{other}' is not supported (silu or gelu_pytorch_tanh)")));
        }
    };
    let (qkv_bias, o_bias, mlp_bias) = match flavor {
        Flavor::Qwen2 => (true, false, false),
        _ => {
            let b = config.flag_or("attention_bias", false)?;
            (b, b, config.flag_or("mlp_bias", false)?)
        }
    };
    let layers = layer_attention(config, flavor, s.num_hidden_layers as usize)?;
    let attention_scale = if gemma {
        1.0 / config.float_or("query_pre_attn_scalar", 256.0)?.sqrt()
    } else {
        1.0 / (s.head_dim as f64).sqrt()
    };
    let eos_token_ids = match config.get("eos_token_id") {
        Value::Null => vec![],
        Value::Array(ids) => ids.iter().map(|v| token_id(v, "eos_token_id")).collect::<Result<_, _>>()?,
        v => vec![token_id(v, "eos_token_id")?],
    };
    let optional_id = |key: &str| match config.get(key) {
        Value::Null => Ok(None),
        v => token_id(v, key).map(Some),
    };
    Ok(DecoderConfig {
        flavor,
        vocab_size: s.vocab_size as usize,
        hidden_size: s.hidden_size as usize,
        intermediate_size: s.intermediate_size as usize,
        num_hidden_layers: s.num_hidden_layers as usize,
        num_attention_heads: s.num_attention_heads as usize,
        num_key_value_heads: s.num_key_value_heads as usize,
        head_dim: s.head_dim as usize,
        rms_norm_eps: config.float_or("rms_norm_eps", 1e-6)?,
        hidden_act,
        qkv_bias,
        o_bias,
        mlp_bias,
        // LlamaConfig and Qwen2Config default to untied, Gemma3TextConfig to tied.
        tie_word_embeddings: config.flag_or("tie_word_embeddings", gemma)?,
        layers,
        attention_scale,
        gemma,
        initializer_range: config.float_or("initializer_range", 0.02)?,
        max_position_embeddings: config.size_or("max_position_embeddings", Some(if gemma { 131072 } else { 2048 }))?
            as usize,
        bos_token_id: optional_id("bos_token_id")?,
        eos_token_ids,
        pad_token_id: optional_id("pad_token_id")?,
    })
}

fn token_id(v: &Value, key: &str) -> Result<u32, Error> {
    v.as_u64()
        .filter(|&n| n <= u32::MAX as u64)
        .map(|n| n as u32)
        .ok_or_else(|| Error::invalid(key, format!("must be a token id (a non-negative integer), got {v}")))
}

/// Each layer's rotary base and window. Gemma 3's sliding layers have `rope_local_base_freq` (transformers 4) or
/// `rope_parameters.sliding_attention` (5); which layers slide comes from `layer_types`, else from
/// `sliding_window_pattern` (every pattern-th layer is global).
fn layer_attention(config: &HfConfig, flavor: Flavor, n: usize) -> Result<Vec<LayerAttention>, Error> {
    let gemma = flavor == Flavor::Gemma3Text;
    let default_theta = if gemma { 1_000_000.0 } else { 10_000.0 };
    let params = config.get("rope_parameters");
    // transformers 4's `rope_scaling`, read (and an unknown type refused) even beside transformers 5's parameters.
    let legacy = scaling_factor(config.get("rope_scaling"), "rope_scaling")?;
    let (global, local) = if gemma && params.get("full_attention").is_some() {
        let mut full = rope(&params["full_attention"], "rope_parameters.full_attention", default_theta)?;
        full.1 *= legacy;
        let sliding = rope(&params["sliding_attention"], "rope_parameters.sliding_attention", 10_000.0)?;
        (full, sliding)
    } else if params.is_object() {
        let mut r = rope(params, "rope_parameters", default_theta)?;
        r.1 *= legacy;
        let local = if gemma { (config.float_or("rope_local_base_freq", 10_000.0)?, 1.0) } else { r };
        (r, local)
    } else {
        let theta = config.float_or("rope_theta", default_theta)?;
        let factor = legacy;
        let local = if gemma { (config.float_or("rope_local_base_freq", 10_000.0)?, 1.0) } else { (theta, factor) };
        ((theta, factor), local)
    };
    let sliding: Vec<bool> = match config.get("layer_types") {
        Value::Null if gemma => {
            let pattern = config.size_or("sliding_window_pattern", Some(6))? as usize;
            (0..n).map(|i| (i + 1) % pattern != 0).collect()
        }
        Value::Null => vec![false; n],
        Value::Array(types) if types.len() == n => types
            .iter()
            .map(|t| match t.as_str() {
                Some("sliding_attention") => Ok(true),
                Some("full_attention") => Ok(false),
                _ => Err(Error::invalid("layer_types", format!("unknown layer type {t}"))),
            })
            .collect::<Result<_, _>>()?,
        v => return Err(Error::invalid("layer_types", format!("must list one type per layer ({n}), got {v}"))),
    };
    let window =
        if sliding.iter().any(|&s| s) { Some(config.size_or("sliding_window", Some(4096))? as usize) } else { None };
    Ok(sliding
        .iter()
        .map(|&s| {
            let (rope_theta, rope_factor) = if s { local } else { global };
            LayerAttention { rope_theta, rope_factor, window: if s { window } else { None } }
        })
        .collect())
}

/// One `rope_parameters` entry: `(rope_theta, linear factor)`.
fn rope(v: &Value, field: &str, default_theta: f64) -> Result<(f64, f64), Error> {
    let theta = match v.get("rope_theta") {
        None | Some(Value::Null) => default_theta,
        Some(t) => t
            .as_f64()
            .filter(|t| t.is_finite() && *t > 0.0)
            .ok_or_else(|| Error::invalid(field, format!("rope_theta must be a positive number, got {t}")))?,
    };
    Ok((theta, scaling_factor(v, field)?))
}

/// The position divisor of a `rope_scaling` (or `rope_parameters`) entry: 1 for none or `default`, the factor for
/// `linear`; any other type (`llama3`, `yarn`, `dynamic`, ...) is refused by name.
fn scaling_factor(v: &Value, field: &str) -> Result<f64, Error> {
    if v.is_null() {
        return Ok(1.0);
    }
    let kind = v.get("rope_type").or_else(|| v.get("type")).and_then(Value::as_str).unwrap_or("default");
    match kind {
        "default" => Ok(1.0),
        "linear" => v
            .get("factor")
            .and_then(Value::as_f64)
            .filter(|f| f.is_finite() && *f > 0.0)
            .ok_or_else(|| Error::invalid(field, "a linear rope scaling needs a positive factor")),
        other => Err(Error::invalid(field, format!("rope type '{other}' is not implemented here (default or linear)"))),
    }
}
