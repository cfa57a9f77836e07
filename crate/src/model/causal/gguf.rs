//! A GGUF file as the model folder transformers makes of it (`from_pretrained(dir, gguf_file=...)`): its metadata as
//! a `config.json`, its tensors under Hugging Face names through a view that dequantizes each when it is loaded, with
//! what llama.cpp's converter did to them undone (Llama's q/k row permutation, Gemma's norms stored as 1 + w). The
//! tokenizer is `gguf_tokenizer.rs`'s.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::error::Error;
use crate::gguf::{Gguf, TensorInfo};
use crate::safetensors::{Entry, Fix, SafeTensors};

/// The architectures read from GGUF, by `general.architecture`, with the `model_type` transformers gives them.
fn model_type(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "llama" => "llama",
        "qwen2" => "qwen2",
        "gemma3" => "gemma3_text",
        _ => return None,
    })
}

/// `general.architecture`, checked.
pub fn architecture<'g>(gguf: &'g Gguf<'_>) -> Result<&'g str, Error> {
    let arch = gguf.str("general.architecture")?.ok_or_else(|| {
        Error::invalid(&gguf.file, "has no general.architecture: not a model file (an adapter or a vocabulary only?)")
    })?;
    if gguf.str("general.type")? == Some("adapter") {
        return Err(Error::invalid(&gguf.file, "is a LoRA adapter (general.type adapter), not a model"));
    }
    model_type(arch).map(|_| arch).ok_or_else(|| {
        Error::invalid(&gguf.file, format!("general.architecture is {arch}; llama, qwen2 and gemma3 are read here"))
    })
}

/// The `config.json` transformers writes for the file (`GGUF_CONFIG_MAPPING`), in its keys.
pub fn config_json(gguf: &Gguf<'_>) -> Result<String, Error> {
    let arch = architecture(gguf)?;
    let key = |k: &str| format!("{arch}.{k}");
    let size = |k: &str| -> Result<Option<usize>, Error> { gguf.usize(&key(k)) };
    let required = |k: &str| -> Result<usize, Error> {
        size(k)?.ok_or_else(|| Error::invalid(&gguf.file, format!("has no {} in its metadata", key(k))))
    };
    let vocab = match size("vocab_size")? {
        Some(v) => v,
        None => gguf.require("tokenizer.ggml.tokens")?.as_array().map_or(0, <[_]>::len),
    };
    let heads = required("attention.head_count")?;
    let mut c = serde_json::Map::new();
    c.insert("model_type".into(), json!(model_type(arch)));
    c.insert("vocab_size".into(), json!(vocab));
    c.insert("hidden_size".into(), json!(required("embedding_length")?));
    c.insert("intermediate_size".into(), json!(required("feed_forward_length")?));
    c.insert("num_hidden_layers".into(), json!(required("block_count")?));
    c.insert("num_attention_heads".into(), json!(heads));
    c.insert("num_key_value_heads".into(), json!(size("attention.head_count_kv")?.unwrap_or(heads)));
    if let Some(n) = size("context_length")? {
        c.insert("max_position_embeddings".into(), json!(n));
    }
    if let Some(eps) = gguf.f64(&key("attention.layer_norm_rms_epsilon"))? {
        // Stored as float32: transformers reads the float32 value (9.999999747378752e-06 for 1e-5).
        c.insert("rms_norm_eps".into(), json!(eps));
    }
    if let Some(theta) = gguf.f64(&key("rope.freq_base"))? {
        c.insert("rope_theta".into(), json!(theta));
    }
    if let Some(kind) = gguf.str(&key("rope.scaling.type"))? {
        let factor = gguf.f64(&key("rope.scaling.factor"))?;
        c.insert("rope_scaling".into(), json!({"rope_type": kind, "factor": factor}));
    }
    if arch == "gemma3" {
        let head_dim = required("attention.key_length")?;
        c.insert("head_dim".into(), json!(head_dim));
        // No query_pre_attn_scalar: transformers leaves Gemma3TextConfig's 256 (llama.cpp scales by head_dim, the
        // same 256 for every Gemma 3 but 27B), and this reader gives what transformers gives.
        if let Some(w) = size("attention.sliding_window")? {
            c.insert("sliding_window".into(), json!(w));
        }
    }
    for (ours, theirs) in [
        ("bos_token_id", "tokenizer.ggml.bos_token_id"),
        ("eos_token_id", "tokenizer.ggml.eos_token_id"),
        ("pad_token_id", "tokenizer.ggml.padding_token_id"),
    ] {
        if let Some(id) = gguf.usize(theirs)? {
            c.insert(ours.into(), json!(id));
        }
    }
    // No output.weight: the head is the embedding matrix.
    c.insert("tie_word_embeddings".into(), json!(gguf.tensor("output.weight").is_none()));
    Ok(Json::Object(c).to_string())
}

/// llama.cpp's name for a block's tensor -> transformers' (inside `model.layers.N.`), for `arch`.
fn block_name(arch: &str, part: &str) -> Option<&'static str> {
    let gemma = arch == "gemma3";
    Some(match part {
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "attn_q_norm" => "self_attn.q_norm",
        "attn_k_norm" => "self_attn.k_norm",
        "attn_norm" => "input_layernorm",
        "ffn_norm" if gemma => "pre_feedforward_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        "post_attention_norm" => "post_attention_layernorm",
        "post_ffw_norm" => "post_feedforward_layernorm",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        _ => return None,
    })
}

/// A tensor's Hugging Face name, or an error naming the one this reader does not know.
fn hf_name(gguf: &Gguf<'_>, arch: &str, t: &TensorInfo) -> Result<String, Error> {
    let name = t.name.as_str();
    let unknown = || Error::invalid(&gguf.file, format!("has a tensor {name} that {arch} models do not have here"));
    Ok(match name {
        "token_embd.weight" => "model.embed_tokens.weight".into(),
        "output_norm.weight" => "model.norm.weight".into(),
        "output.weight" => "lm_head.weight".into(),
        _ => {
            let rest = name.strip_prefix("blk.").ok_or_else(unknown)?;
            let (layer, rest) = rest.split_once('.').ok_or_else(unknown)?;
            let layer: usize = layer.parse().map_err(|_| unknown())?;
            let (part, param) = rest.rsplit_once('.').ok_or_else(unknown)?;
            let module = block_name(arch, part).ok_or_else(unknown)?;
            if param != "weight" && param != "bias" {
                return Err(unknown());
            }
            format!("model.layers.{layer}.{module}.{param}")
        }
    })
}

/// The file's tensors under transformers' names, each dequantized to float32 when the model loads it.
pub fn weights<'a>(gguf: &Gguf<'a>, bytes: &'a [u8]) -> Result<SafeTensors<'a>, Error> {
    let arch = architecture(gguf)?;
    let heads = gguf.usize(&format!("{arch}.attention.head_count"))?.unwrap_or(1);
    let kv_heads = gguf.usize(&format!("{arch}.attention.head_count_kv"))?.unwrap_or(heads);
    let mut entries = BTreeMap::new();
    for t in &gguf.tensors {
        let name = hf_name(gguf, arch, t)?;
        let fix = if arch == "llama" && name.ends_with("q_proj.weight") {
            Fix::Unpermute(heads)
        } else if arch == "llama" && name.ends_with("k_proj.weight") {
            Fix::Unpermute(kv_heads)
        } else if arch == "gemma3" && name.ends_with("norm.weight") {
            Fix::MinusOne
        } else {
            Fix::None
        };
        let dtype = t.kind.name().to_string();
        entries.insert(name, Entry { dtype, shape: t.torch_shape(), start: t.start, end: t.end, fix });
    }
    Ok(SafeTensors::view(&gguf.file, bytes, entries))
}
