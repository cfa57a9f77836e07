//! transformers' `BertLayer` (attention, then the feed-forward `BertIntermediate` + `BertOutput`) and
//! `BertEncoder`, the stack of layers.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::gelu;

use super::attention::{Attention, AttentionConfig, ResidualOutput, ResidualOutputConfig};
use super::load::Loader;
use super::lora::LoraLinear;
use super::paths::child;
use crate::error::Error;

/// Configuration to create [`Intermediate`] using the [init function](IntermediateConfig::init).
#[derive(Config, Debug)]
pub struct IntermediateConfig {
    /// Width of the hidden states (`hidden_size`).
    pub hidden_size: usize,
    /// Width of the feed-forward's inner layer (`intermediate_size`).
    pub intermediate_size: usize,
}

impl IntermediateConfig {
    /// The feed-forward's first half at `path` (`bert.encoder.layer.N.intermediate`), its tensors from `loader`.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<Intermediate, Error> {
        Ok(Intermediate { dense: loader.linear(&child(path, "dense"), self.hidden_size, self.intermediate_size)? })
    }
}

#[derive(Module, Debug)]
pub struct Intermediate {
    /// `[hidden_size, intermediate_size]`.
    pub dense: LoraLinear,
}

impl Intermediate {
    /// # Shapes
    /// - input: `[batch, seq, hidden_size]`
    /// - output: `[batch, seq, intermediate_size]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        gelu(self.dense.forward(x))
    }
}

/// Configuration to create [`Layer`] using the [init function](LayerConfig::init).
#[derive(Config, Debug)]
pub struct LayerConfig {
    /// Width of the hidden states (`hidden_size`).
    pub hidden_size: usize,
    /// Attention heads (`num_attention_heads`).
    pub num_attention_heads: usize,
    /// Width of the feed-forward's inner layer (`intermediate_size`).
    pub intermediate_size: usize,
    /// LayerNorm epsilon (`layer_norm_eps`).
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
    /// Dropout probability before each residual sum (`hidden_dropout_prob`).
    #[config(default = 0.1)]
    pub hidden_dropout_prob: f64,
    /// Dropout probability on the attention weights (`attention_probs_dropout_prob`).
    #[config(default = 0.1)]
    pub attention_probs_dropout_prob: f64,
}

impl LayerConfig {
    /// The layer at `path` (`bert.encoder.layer.N`), its tensors from `loader`.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<Layer, Error> {
        let h = self.hidden_size;
        Ok(Layer {
            attention: AttentionConfig::new(h, self.num_attention_heads)
                .with_layer_norm_eps(self.layer_norm_eps)
                .with_hidden_dropout_prob(self.hidden_dropout_prob)
                .with_attention_probs_dropout_prob(self.attention_probs_dropout_prob)
                .init(loader, &child(path, "attention"))?,
            intermediate: IntermediateConfig::new(h, self.intermediate_size)
                .init(loader, &child(path, "intermediate"))?,
            output: ResidualOutputConfig::new(self.intermediate_size, h)
                .with_layer_norm_eps(self.layer_norm_eps)
                .with_hidden_dropout_prob(self.hidden_dropout_prob)
                .init(loader, &child(path, "output"))?,
        })
    }
}

#[derive(Module, Debug)]
pub struct Layer {
    pub attention: Attention,
    pub intermediate: Intermediate,
    pub output: ResidualOutput,
}

impl Layer {
    /// # Shapes
    /// - x, output: `[batch, seq, hidden_size]`
    /// - mask: `[batch, 1, 1, seq]` (see `SelfAttention::forward`)
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        let attended = self.attention.forward(x, mask);
        self.output.forward(self.intermediate.forward(attended.clone()), attended)
    }
}

/// Configuration to create [`BertEncoder`] using the [init function](BertEncoderConfig::init).
#[derive(Config, Debug)]
pub struct BertEncoderConfig {
    /// Layers in the stack (`num_hidden_layers`).
    pub num_hidden_layers: usize,
    /// Every layer's configuration.
    pub layer: LayerConfig,
}

impl BertEncoderConfig {
    /// The stack at `path` (`bert.encoder`), its tensors from `loader`, layer 0 first.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<BertEncoder, Error> {
        let layers = child(path, "layer");
        let layer = (0..self.num_hidden_layers)
            .map(|n| self.layer.init(loader, &child(&layers, &n.to_string())))
            .collect::<Result<_, _>>()?;
        Ok(BertEncoder { layer })
    }
}

/// transformers' `BertEncoder` (named so, as `EncoderConfig` is the whole `config.json`).
#[derive(Module, Debug)]
pub struct BertEncoder {
    pub layer: Vec<Layer>,
}

impl BertEncoder {
    /// # Shapes
    /// - x, output: `[batch, seq, hidden_size]`
    /// - mask: `[batch, 1, 1, seq]` (see `SelfAttention::forward`)
    pub fn forward(&self, mut x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        for layer in &self.layer {
            x = layer.forward(x, mask.clone());
        }
        x
    }
}
