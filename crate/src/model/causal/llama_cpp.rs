//! A PEFT LoRA adapter of a language model as llama.cpp's LoRA adapter (the GGUF file llama.cpp's
//! `convert_lora_to_gguf.py` writes, which `llama-cli --lora`, llama-cpp-python's `lora_path`, Ollama's `ADAPTER`
//! and LM Studio load on top of the base GGUF): `general.type` adapter, `adapter.type` lora, `adapter.lora.alpha`,
//! and `blk.N.<tensor>.weight.lora_a` / `.lora_b` (PEFT's A `[r, in]` and B `[out, r]`, float32).
//!
//! llama.cpp scales by `alpha / r`: the alpha written is PEFT's scaling times r, so an rsLoRA adapter (`alpha /
//! sqrt(r)`, which llama.cpp's own converter writes unscaled) computes what PEFT computes. Llama's q/k rows are
//! permuted in llama.cpp's files (interleaved rotary pairs), so B's rows are permuted the same way.

use super::files::{AdapterFiles, LmFiles};
use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;
use crate::gguf::write::{Value, write};
use crate::model::export::{read_adapter_config, read_peft_weights};
use crate::model::lora::LoraLinearConfig;
use crate::safetensors::{SafeTensors, permute_rows};

/// llama.cpp's architecture name for a decoder.
fn architecture(flavor: Flavor) -> Result<&'static str, Error> {
    match flavor {
        Flavor::Llama => Ok("llama"),
        Flavor::Qwen2 => Ok("qwen2"),
        Flavor::Gemma3Text => Ok("gemma3"),
        other => Err(Error::invalid(
            "--model",
            format!("{} is not a language model llama.cpp runs here", other.model_type()),
        )),
    }
}

/// transformers' module inside a block -> llama.cpp's tensor.
fn tensor_name(module: &str) -> Option<&'static str> {
    Some(match module {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        _ => return None,
    })
}

/// The adapter as llama.cpp's LoRA GGUF for `base`.
pub fn lora_gguf(base: &LmFiles, adapter: &AdapterFiles, name: &str) -> Result<Vec<u8>, Error> {
    let config = base.config()?;
    let arch = architecture(config.flavor)?;
    let (lora, dropout) = read_adapter_config(&adapter.config_json)?;
    let alpha = (LoraLinearConfig::from_peft(&lora, dropout).scaling() * lora.r as f64) as f32;
    let file = SafeTensors::parse("adapter_model.safetensors", &adapter.safetensors)?;
    let weights = read_peft_weights(&file)?;
    let mut tensors = Vec::new();
    for (key, (values, shape)) in &weights {
        let unsupported = || {
            Error::invalid(
                "adapter_model.safetensors",
                format!("tensor {key}: llama.cpp's LoRA adapters carry A and B of the blocks' linear layers only"),
            )
        };
        let rest = key.strip_prefix("model.layers.").ok_or_else(unsupported)?;
        let (layer, rest) = rest.split_once('.').ok_or_else(unsupported)?;
        let (module, matrix) = rest.rsplit_once(".lora_").ok_or_else(unsupported)?;
        let part = tensor_name(module).ok_or_else(unsupported)?;
        let (suffix, values) = match matrix {
            "A.weight" => ("lora_a", values.clone()),
            "B.weight" if arch == "llama" && part == "attn_q" => {
                ("lora_b", permute_rows(values, shape[0], config.num_attention_heads, true))
            }
            "B.weight" if arch == "llama" && part == "attn_k" => {
                ("lora_b", permute_rows(values, shape[0], config.num_key_value_heads, true))
            }
            "B.weight" => ("lora_b", values.clone()),
            _ => return Err(unsupported()),
        };
        tensors.push((format!("blk.{layer}.{part}.weight.{suffix}"), shape.clone(), values));
    }
    if tensors.is_empty() {
        return Err(Error::invalid("adapter_model.safetensors", "has no LoRA matrices"));
    }
    let metadata = [
        ("general.architecture", Value::Str(arch.to_string())),
        ("general.type", Value::Str("adapter".to_string())),
        ("general.name", Value::Str(name.to_string())),
        ("adapter.type", Value::Str("lora".to_string())),
        ("adapter.lora.alpha", Value::F32(alpha)),
    ];
    Ok(write(&metadata, &tensors))
}
