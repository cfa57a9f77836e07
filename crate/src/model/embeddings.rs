//! transformers' `BertEmbeddings`: word, position and token-type embeddings summed, then LayerNorm and dropout.
//! DistilBERT's `Embeddings` are the same without token types (`type_vocab_size` 0), its positions learned or
//! fixed sinusoids.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm};
use burn::tensor::Tensor;

use super::dropout;
use super::input::EncoderInput;
use super::load::Loader;
use super::paths::child;
use crate::error::Error;

/// Configuration to create [`Embeddings`] using the [init function](EmbeddingsConfig::init).
#[derive(Config, Debug)]
pub struct EmbeddingsConfig {
    /// Tokens in the vocabulary (`vocab_size`).
    pub vocab_size: usize,
    /// Positions the model has embeddings for (`max_position_embeddings`).
    pub max_position_embeddings: usize,
    /// Segment types (`type_vocab_size`); 0 for none (DistilBERT).
    pub type_vocab_size: usize,
    /// Width of each embedding and of every hidden state (`hidden_size`).
    pub hidden_size: usize,
    /// LayerNorm epsilon (`layer_norm_eps`).
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
    /// Dropout probability after the LayerNorm (`hidden_dropout_prob`).
    #[config(default = 0.1)]
    pub hidden_dropout_prob: f64,
    /// DistilBERT's `sinusoidal_pos_embds`: a model without a checkpoint gets the fixed sinusoids, not noise.
    #[config(default = false)]
    pub sinusoidal: bool,
}

impl EmbeddingsConfig {
    /// The embeddings at `path` (`bert.embeddings`), their tensors from `loader`.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<Embeddings, Error> {
        let h = self.hidden_size;
        Ok(Embeddings {
            word_embeddings: loader.embedding(&child(path, "word_embeddings"), self.vocab_size, h)?,
            position_embeddings: if self.sinusoidal {
                loader.sinusoidal_embedding(&child(path, "position_embeddings"), self.max_position_embeddings, h)?
            } else {
                loader.embedding(&child(path, "position_embeddings"), self.max_position_embeddings, h)?
            },
            token_type_embeddings: match self.type_vocab_size {
                0 => None,
                n => Some(loader.embedding(&child(path, "token_type_embeddings"), n, h)?),
            },
            layer_norm: loader.layer_norm(&child(path, "layer_norm"), h, self.layer_norm_eps)?,
            dropout: DropoutConfig::new(self.hidden_dropout_prob).init(),
        })
    }
}

#[derive(Module, Debug)]
pub struct Embeddings {
    /// `[vocab_size, hidden_size]`, from the checkpoint, else `N(0, initializer_range)`.
    pub word_embeddings: Embedding,
    /// `[max_position_embeddings, hidden_size]`, from the checkpoint, else `N(0, initializer_range)`.
    pub position_embeddings: Embedding,
    /// `[type_vocab_size, hidden_size]`, from the checkpoint, else `N(0, initializer_range)`; none in DistilBERT.
    pub token_type_embeddings: Option<Embedding>,
    /// `[hidden_size]` weight and bias, from the checkpoint, else ones and zeros.
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl Embeddings {
    /// # Shapes
    /// - input: ids `[batch, seq]`
    /// - output: `[batch, seq, hidden_size]`
    pub fn forward(&self, input: &EncoderInput) -> Tensor<3> {
        let x = self.word_embeddings.forward(input.input_ids.clone())
            + self.position_embeddings.forward(input.position_ids.clone());
        let x = match &self.token_type_embeddings {
            Some(types) => x + types.forward(input.token_type_ids.clone()),
            None => x,
        };
        dropout::apply(&self.dropout, self.layer_norm.forward(x))
    }
}
