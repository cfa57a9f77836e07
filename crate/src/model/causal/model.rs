//! `LlamaForCausalLM` (and Qwen2's, Gemma 3's): token embeddings (Gemma: times sqrt(hidden_size)), the blocks, the
//! final norm and the output head, which is the embedding matrix itself when the model ties them. Fields are
//! transformers' module names, so a parameter's path is its checkpoint key and PEFT's adapter key.
//!
//! The head is applied only where logits are needed (`logits_at`): Gemma 3's 262,144-row vocabulary makes the
//! full `[batch, seq, vocab]` logits of a 4 x 128 batch 537 MB, so training and scoring ask for the rows they read.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::cache::KvCache;
use super::checkpoint;
use super::layer::{DecoderLayer, LINEARS};
use super::mask::causal_mask;
use super::norm::RmsNorm;
use crate::error::Error;
use crate::model::config::decoder::DecoderConfig;
use crate::model::load::Loader;
use crate::model::lora::LoraLinear;
use crate::model::packed::PackedWeight;
use crate::model::token_embedding::TokenEmbedding;

#[derive(Module, Debug)]
pub struct DecoderModel {
    pub embed_tokens: TokenEmbedding,
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
        let embed_tokens = loader.token_embedding("model.embed_tokens", c.vocab_size, c.hidden_size)?;
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

    /// The last hidden state (after the final norm) of `ids` (right-padded to the longest) at positions
    /// `start..start + seq`, every layer's keys and values added to `cache` when one is given. `real[b][k]` is false
    /// at padding (ids after a sequence's end); with a cache it must cover the cached positions too.
    ///
    /// # Shapes
    /// - ids `[batch][seq]`, output `[batch, seq, hidden]`
    pub fn hidden(
        &self,
        ids: &[Vec<u32>],
        real: &[Vec<bool>],
        mut cache: Option<&mut KvCache>,
        device: &Device,
    ) -> Tensor<3> {
        let start = cache.as_ref().map_or(0, |c| c.seen());
        let s = ids.iter().map(Vec::len).max().unwrap_or(0);
        let mut x = self.model.embed_tokens.forward(ids, device);
        if let Some(scale) = self.model.embed_scale {
            x = x.mul_scalar(scale);
        }
        let (mut full, mut sliding) = (None, None);
        for (i, layer) in self.model.layers.iter().enumerate() {
            let window = layer.window();
            let slot = if window.is_some() { &mut sliding } else { &mut full };
            let mask = slot.get_or_insert_with(|| causal_mask(real, start, s, window, device)).clone();
            x = match cache.as_deref_mut() {
                None if self.gradient_checkpointing => checkpoint::forward(layer, x, mask),
                cache => layer.forward(x, mask, start, cache.map(|c| (c, i))),
            };
        }
        self.model.norm.forward(x)
    }

    /// Logits `[n, vocab]` for `n` hidden states `[n, hidden]`.
    pub fn logits_at(&self, hidden: Tensor<2>) -> Tensor<2> {
        match (&self.lm_head, &self.model.embed_tokens) {
            (Some(head), _) => head.forward(hidden),
            (None, TokenEmbedding { weight: Some(w), .. }) => hidden.matmul(w.val().transpose()),
            (None, TokenEmbedding { packed, .. }) => {
                packed.as_ref().expect("a float or packed table").linear(hidden, None)
            }
        }
    }

    /// The output head when it is packed (the float16 and *as stored* bases; `packed_head` reads it a slice at a time).
    pub fn packed_head(&self) -> Option<&PackedWeight> {
        match &self.lm_head {
            Some(head) => head.packed.as_ref().filter(|_| !head.has_lora() && head.bias.is_none()),
            None => self.model.embed_tokens.packed.as_ref(),
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

    /// The weights a 4-bit base holds packed (burn does not see them as parameters): the blocks' linear layers,
    /// and on the float16 and *as stored* bases the token table and an untied head.
    pub fn packed_weights(&self) -> usize {
        let layers: usize = self.linear_layers().iter().filter_map(|(_, l)| l.packed.as_ref()).map(|p| p.numel()).sum();
        let head = self.lm_head.as_ref().and_then(|h| h.packed.as_ref()).map_or(0, PackedWeight::numel);
        layers + head + self.model.embed_tokens.packed.as_ref().map_or(0, PackedWeight::numel)
    }
}

/// Which positions of `ids`, right-padded to the longest, are real tokens.
pub fn real_positions(ids: &[Vec<u32>]) -> Vec<Vec<bool>> {
    let s = ids.iter().map(Vec::len).max().unwrap_or(0);
    ids.iter().map(|row| (0..s).map(|j| j < row.len()).collect()).collect()
}
