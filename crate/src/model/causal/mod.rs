//! The language models that generate (`AutoModelForCausalLM`): Llama (SmolLM2, TinyLlama), Qwen2 and Gemma 3's
//! text model, computed as transformers computes them, named as PEFT names them (`model.layers.N.self_attn.q_proj`).
//! `build` makes one from a config and weights (a checkpoint, a random draw), with LoRA where the placement says;
//! `score` gives log-probabilities and the completion-only loss; `generate` writes text with a key/value cache.

pub mod attention;
pub mod cache;
pub mod chat;
pub mod checkpoint;
pub mod files;
pub mod generate;
pub mod gguf;
pub mod gguf_tokenizer;
pub mod layer;
pub mod llama_cpp;
pub mod mask;
pub mod merge;
pub mod model;
pub mod norm;
pub mod packed_head;
pub mod quantize;
pub mod score;

use std::sync::Arc;

use burn::tensor::Device;

use super::config::decoder::{DecoderConfig, decoder_config};
use super::load::{Loader, LoraPlacement, Overrides, Weights};
use super::packed::Base;
use crate::accounting::arch::HfConfig;
use crate::accounting::arch::flavor::Flavor;
use crate::accounting::lora_config::TargetModules;
use crate::error::Error;
use crate::model::token_embedding::TokenEmbedding;
pub use model::AutoModelForCausalLM;

/// The reader for a language model's `config.json` (`model_type` llama, qwen2 or gemma3_text).
pub fn read_config(config: &HfConfig) -> Result<DecoderConfig, Error> {
    let flavor = match config.model_type()?.as_str() {
        "llama" => Flavor::Llama,
        "qwen2" => Flavor::Qwen2,
        "gemma3_text" => Flavor::Gemma3Text,
        other => {
            return Err(Error::invalid(
                "model_type",
                format!("language models here are llama, qwen2 and gemma3_text; this config is '{other}'"),
            ));
        }
    };
    decoder_config(config, flavor)
}

/// The model `config` describes, with trained tensors (an adapter's A and B) laid over `weights`, and LoRA on the
/// modules `lora` names (full names: `model.layers.0.self_attn.q_proj`); random values drawn from `seed`.
/// `embedding`: another model's token embedding table of the same file, shared rather than read again (the page's
/// trainer and the base model it keeps for the answers hold one table between them). `base`: how the frozen weights
/// are held, with the GGUF file `weights` views when there is one (the *as stored* base keeps its blocks there).
#[allow(clippy::too_many_arguments)]
pub fn build(
    config: &DecoderConfig,
    weights: Weights<'_>,
    overrides: Option<&Overrides>,
    lora: Option<LoraPlacement<'_>>,
    seed: u64,
    (base, file): (Base, Option<Arc<Vec<u8>>>),
    embedding: Option<TokenEmbedding>,
    device: &Device,
) -> Result<AutoModelForCausalLM, Error> {
    let mut loader =
        Loader::for_flavor(config.flavor, config.initializer_range, weights, overrides, lora, seed, device)?
            .with_base(base)
            .with_file(file)
            .with_embedding(embedding);
    AutoModelForCausalLM::load(&mut loader, config)
}

/// Every parameter of `model` (the tied head counted once, as transformers counts it), a 4-bit base's packed
/// weights by their number of weights (burn does not see them as parameters).
pub fn parameter_count(model: &AutoModelForCausalLM) -> u64 {
    use burn::module::Module;
    (model.num_params() + model.packed_weights()) as u64
}

/// The linear layers PEFT's `target_modules` can name, in module order: `model.layers.N.self_attn.{q,k,v,o}_proj`
/// and `model.layers.N.mlp.{gate,up,down}_proj` (the output head is never a target).
pub fn linear_modules(config: &DecoderConfig) -> Vec<String> {
    (0..config.num_hidden_layers)
        .flat_map(|i| layer::LINEARS.into_iter().map(move |m| format!("model.layers.{i}.{m}")))
        .collect()
}

/// The modules PEFT's `target_modules` put LoRA on: `all-linear` is every linear layer of the blocks; a name
/// matches a module whose name is it or ends in `.` + it.
pub fn lora_modules(config: &DecoderConfig, targets: &TargetModules) -> Vec<String> {
    let all = linear_modules(config);
    match targets {
        TargetModules::Names(names) => {
            all.into_iter().filter(|m| names.iter().any(|t| m == t || m.ends_with(&format!(".{t}")))).collect()
        }
        _ => all,
    }
}
