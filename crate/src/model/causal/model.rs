//! `LlamaForCausalLM` (and Qwen2's, Gemma 3's): token embeddings (Gemma: times sqrt(hidden_size)), the blocks, the
//! final norm and the output head, which is the embedding matrix itself when the model ties them. Fields are
//! transformers' module names, so a parameter's path is its checkpoint key and PEFT's adapter key.
//!
//! The head is applied only where logits are needed (`logits_at`): Gemma 3's 262,144-row vocabulary makes the
//! full `[batch, seq, vocab]` logits of a 4 x 128 batch 537 MB, so training and scoring ask for the rows they read.

use burn::module::Module;
use burn::nn::Embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::cache::KvCache;
use super::checkpoint;
use super::layer::{DecoderLayer, LINEARS};
use super::mask::causal_mask;
use super::norm::RmsNorm;
use crate::error::Error;
use crate::model::config::decoder::DecoderConfig;
use crate::model::load::Loader;
use crate::model::lora::LoraLinear;

#[derive(Module, Debug)]
pub struct DecoderModel {
    pub embed_tokens: Embedding,
    pub layers: Vec<DecoderLayer>,
    pub norm: RmsNorm,
    /// Gemma: sqrt(hidden_size) (rounded to float32, as transformers casts it).
    #[module(skip)]
    pub embed_scale: Option<f32>,
}

#[derive(Module, Debug)]
pub struct AutoModelForCausalLM {
    pub model: DecoderModel,
    /// None when tied to `model.embed_tokens` (`tie_word_embeddings`).
    pub lm_head: Option<LoraLinear>,
    #[module(skip)]
    pub vocab_size: usize,
    /// Each block keeps only its input for the backward pass and runs again there (`checkpoint`), as after
    /// transformers' `gradient_checkpointing_enable()`.
    #[module(skip)]
    pub gradient_checkpointing: bool,
}

impl AutoModelForCausalLM {
    /// The model `config` describes, its tensors from `loader` in transformers' order of modules.
    pub fn load(loader: &mut Loader, c: &DecoderConfig) -> Result<Self, Error> {
        let embed_tokens = loader.embedding("model.embed_tokens", c.vocab_size, c.hidden_size)?;
        let layers = (0..c.num_hidden_layers).map(|i| DecoderLayer::load(loader, c, i)).collect::<Result<_, _>>()?;
        let norm = RmsNorm::load(loader, "model.norm", c.hidden_size, c.rms_norm_eps, c.gemma)?;
        let lm_head = if c.tie_word_embeddings {
            None
        } else {
            if loader.is_checkpoint() && loader.checkpoint_shape("lm_head.weight").is_none() {
                return Err(Error::invalid(
                    "model.safetensors",
                    "has no lm_head.weight, and config.json says the output head is not tied to the embeddings",
                ));
            }
            Some(loader.output_head("lm_head", c.hidden_size, c.vocab_size, false)?)
        };
        let embed_scale = c.gemma.then(|| (c.hidden_size as f64).sqrt() as f32);
        Ok(Self {
            model: DecoderModel { embed_tokens, layers, norm, embed_scale },
            lm_head,
            vocab_size: c.vocab_size,
            gradient_checkpointing: false,
        })
    }

    /// The last hidden state (after the final norm) of `ids` at positions `start..start + seq`, every layer's keys
    /// and values added to `cache` when one is given. `real[b][k]` is false at padding (right padding: ids after a
    /// sequence's end); with a cache it must cover the cached positions too.
    ///
    /// # Shapes
    /// - ids `[batch, seq]`, output `[batch, seq, hidden]`
    pub fn hidden(&self, ids: Tensor<2, Int>, real: &[Vec<bool>], mut cache: Option<&mut KvCache>) -> Tensor<3> {
        let start = cache.as_ref().map_or(0, |c| c.seen());
        let [_, s] = ids.dims();
        let device = ids.device();
        let mut x = self.model.embed_tokens.forward(ids);
        if let Some(scale) = self.model.embed_scale {
            x = x.mul_scalar(scale);
        }
        let (mut full, mut sliding) = (None, None);
        for (i, layer) in self.model.layers.iter().enumerate() {
            let window = layer.window();
            let slot = if window.is_some() { &mut sliding } else { &mut full };
            let mask = slot.get_or_insert_with(|| causal_mask(real, start, s, window, &device)).clone();
            x = match cache.as_deref_mut() {
                None if self.gradient_checkpointing => checkpoint::forward(layer, x, mask),
                cache => layer.forward(x, mask, start, cache.map(|c| (c, i))),
            };
        }
        self.model.norm.forward(x)
    }

    /// Logits `[n, vocab]` for `n` hidden states `[n, hidden]`.
    pub fn logits_at(&self, hidden: Tensor<2>) -> Tensor<2> {
        match &self.lm_head {
            Some(head) => head.forward(hidden),
            None => hidden.matmul(self.model.embed_tokens.weight.val().transpose()),
        }
    }

    pub fn num_layers(&self) -> usize {
        self.model.layers.len()
    }

    /// The blocks' linear layers with their Hugging Face names (`model.layers.0.self_attn.q_proj`), in module order.
    pub fn linear_layers(&self) -> Vec<(String, &LoraLinear)> {
        let mut out = Vec::new();
        for (i, layer) in self.model.layers.iter().enumerate() {
            for (name, l) in LINEARS.into_iter().zip(layer.linears()) {
                out.push((format!("model.layers.{i}.{name}"), l));
            }
        }
        out
    }

    /// The weights a 4-bit base holds packed (burn does not see them as parameters).
    pub fn packed_weights(&self) -> usize {
        self.linear_layers().iter().filter_map(|(_, l)| l.packed.as_ref()).map(|p| p.numel()).sum()
    }
}

/// `[batch, seq]` ids on `device`, right-padded with `pad`, and which positions are real tokens.
pub fn ids_tensor(ids: &[Vec<u32>], pad: u32, device: &Device) -> (Tensor<2, Int>, Vec<Vec<bool>>) {
    let s = ids.iter().map(Vec::len).max().unwrap_or(0);
    let flat: Vec<i64> =
        ids.iter().flat_map(|row| (0..s).map(move |j| row.get(j).copied().unwrap_or(pad) as i64)).collect();
    let real = ids.iter().map(|row| (0..s).map(|j| j < row.len()).collect()).collect();
    (Tensor::from_data(TensorData::new(flat, [ids.len(), s]), device), real)
}
