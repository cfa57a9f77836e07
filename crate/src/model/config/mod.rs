//! The hyper-parameters every trainable model is built from, as transformers' configs hold them: `EncoderConfig`
//! (the sizes every encoder has) and `ModernBertOptions` (what only ModernBERT has). Each family's file here reads
//! its own `config.json` keys with transformers' defaults; `auto::read_config` picks the reader by `model_type`.
//! The sizes every family shares with the calculator are read by the calculator's own code
//! (`accounting::arch::<family>`, with transformers' defaults typed there once); the rest (dropouts, norms' eps,
//! padding ids, ModernBERT's options) here. The types import nothing of the model; the readers import the types.

pub mod bert;
pub mod decoder;
pub mod gpt2;
pub mod json;
pub mod modernbert;

use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct EncoderConfig {
    pub flavor: Flavor,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub hidden_dropout_prob: f64,
    /// Dropout on the summed embeddings: `hidden_dropout_prob` in the BERT family, GPT-2's `embd_pdrop`.
    pub embedding_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    /// `classifier_dropout`, falling back to `hidden_dropout_prob` as `BertForSequenceClassification` does.
    pub classifier_dropout: f64,
    pub pad_token_id: usize,
    /// `initializer_range`: the std of the classifier's normal initialisation.
    pub initializer_range: f64,
    /// DistilBERT's `sinusoidal_pos_embds`: the position table holds fixed sinusoids and never trains
    /// (transformers sets `requires_grad = False` on it).
    pub sinusoidal_pos_embds: bool,
    /// ModernBERT's own settings (its layers' windows and rotary thetas, biases, pooling); None for the others.
    pub modernbert: Option<ModernBertOptions>,
}

impl EncoderConfig {
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// A small random-weight BERT for tests and the browser's smoke runs.
    pub fn tiny(vocab_size: usize) -> Self {
        Self {
            flavor: Flavor::Bert,
            vocab_size,
            hidden_size: 16,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 32,
            max_position_embeddings: 64,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_dropout_prob: 0.1,
            embedding_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            classifier_dropout: 0.1,
            pad_token_id: 0,
            initializer_range: 0.02,
            sinusoidal_pos_embds: false,
            modernbert: None,
        }
    }
}

pub(crate) fn check_gelu(act: &str, key: &str) -> Result<(), Error> {
    if act != "gelu" {
        return Err(Error::invalid(key, format!("'{act}' is not supported; this encoder implements \"gelu\" (erf)")));
    }
    Ok(())
}

/// How the classifier reads the sequence (`classifier_pooling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Pooling {
    /// The first token (`[CLS]`).
    Cls,
    /// The mean over the real tokens.
    Mean,
}

/// What ModernBERT's config says beyond the sizes every encoder has.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModernBertOptions {
    /// Per layer: `Some(half window)` for a sliding-window layer, `None` for a global one.
    pub windows: Vec<Option<usize>>,
    /// `rope_theta` of the global and of the sliding-window layers.
    pub global_rope_theta: f64,
    pub local_rope_theta: f64,
    pub norm_bias: bool,
    pub attention_bias: bool,
    pub mlp_bias: bool,
    pub classifier_bias: bool,
    pub pooling: Pooling,
}
