//! A BERT-family encoder in burn that computes what transformers' `BertModel` / `BertForSequenceClassification`
//! compute (`transformers/models/bert/modeling_bert.py`, eager attention). Field names follow the Hugging Face
//! module names (`paths` maps the few that cannot: `self` is a Rust keyword), so a parameter's path is its
//! checkpoint key. The blocks live in `embeddings`, `attention` and `layer`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, tanh};

use super::config::EncoderConfig;
use super::dropout;
use super::embeddings::{Embeddings, EmbeddingsConfig};
use super::input::EncoderInput;
use super::layer::{BertEncoder, BertEncoderConfig, LayerConfig};
use super::load::Loader;
use super::lora::LoraLinear;
use super::paths::child;
use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;

/// Configuration to create [`Pooler`] using the [init function](PoolerConfig::init).
#[derive(Config, Debug)]
pub struct PoolerConfig {
    /// Width of the hidden states (`hidden_size`).
    pub hidden_size: usize,
}

impl PoolerConfig {
    /// The pooler at `path` (`bert.pooler`; RoBERTa's `classifier.dense`), its tensors from `loader`.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<Pooler, Error> {
        Ok(Pooler { dense: loader.linear(&child(path, "dense"), self.hidden_size, self.hidden_size)? })
    }
}

#[derive(Module, Debug)]
pub struct Pooler {
    /// `[hidden_size, hidden_size]`.
    pub dense: LoraLinear,
}

impl Pooler {
    /// The first token's hidden state through dense + tanh.
    ///
    /// # Shapes
    /// - input: `[batch, seq, hidden_size]`
    /// - output: `[batch, hidden_size]`
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<2> {
        self.forward_first(first_token(hidden))
    }

    /// dense + tanh on the first token's hidden state `[batch, hidden_size]`.
    pub fn forward_first(&self, first: Tensor<2>) -> Tensor<2> {
        tanh(self.dense.forward(first))
    }
}

/// `[batch, seq, hidden]` -> the first token's `[batch, hidden]` (`[CLS]`, RoBERTa's `<s>`).
fn first_token(hidden: Tensor<3>) -> Tensor<2> {
    let [b, _, h] = hidden.dims();
    hidden.slice([0..b, 0..1]).reshape([b, h])
}

/// Configuration to create [`BertModel`] using the [init function](BertModelConfig::init): the sizes of
/// `config.json` (see `from_encoder`).
#[derive(Config, Debug)]
pub struct BertModelConfig {
    /// Embeddings (vocabulary, positions, token types).
    pub embeddings: EmbeddingsConfig,
    /// The stack of layers.
    pub encoder: BertEncoderConfig,
}

impl BertModelConfig {
    /// The model a `config.json` describes.
    pub fn from_encoder(config: &EncoderConfig) -> Self {
        let h = config.hidden_size;
        let embeddings =
            EmbeddingsConfig::new(config.vocab_size, config.max_position_embeddings, config.type_vocab_size, h)
                .with_layer_norm_eps(config.layer_norm_eps)
                .with_hidden_dropout_prob(config.hidden_dropout_prob)
                .with_sinusoidal(config.sinusoidal_pos_embds);
        let layer = LayerConfig::new(h, config.num_attention_heads, config.intermediate_size)
            .with_layer_norm_eps(config.layer_norm_eps)
            .with_hidden_dropout_prob(config.hidden_dropout_prob)
            .with_attention_probs_dropout_prob(config.attention_probs_dropout_prob);
        Self::new(embeddings, BertEncoderConfig::new(config.num_hidden_layers, layer))
    }

    /// Width of the hidden states (`hidden_size`).
    pub fn hidden_size(&self) -> usize {
        self.embeddings.hidden_size
    }

    /// The model at `path` (`bert`), its tensors from `loader`, in checkpoint order (embeddings, layers, pooler).
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<BertModel, Error> {
        Ok(BertModel {
            embeddings: self.embeddings.init(loader, &child(path, "embeddings"))?,
            encoder: self.encoder.init(loader, &child(path, "encoder"))?,
            pooler: PoolerConfig::new(self.hidden_size()).init(loader, &child(path, "pooler"))?,
        })
    }
}

#[derive(Module, Debug)]
pub struct BertModel {
    pub embeddings: Embeddings,
    pub encoder: BertEncoder,
    pub pooler: Pooler,
}

/// `BertModel`'s outputs.
pub struct EncoderOutput {
    /// `[batch, seq, hidden_size]`
    pub last_hidden_state: Tensor<3>,
    /// `[batch, hidden_size]`
    pub pooler_output: Tensor<2>,
}

impl BertModel {
    /// # Shapes
    /// - input: ids and mask `[batch, seq]`
    /// - output: see `EncoderOutput`
    pub fn forward(&self, input: &EncoderInput) -> EncoderOutput {
        let x = self.encode(input);
        let pooler_output = self.pooler.forward(x.clone());
        EncoderOutput { last_hidden_state: x, pooler_output }
    }

    /// The last hidden state `[batch, seq, hidden_size]`, without the pooler.
    pub fn encode(&self, input: &EncoderInput) -> Tensor<3> {
        self.encoder.forward(self.embeddings.forward(input), input.padding_mask())
    }
}

/// Configuration to create [`BertForSequenceClassification`] using the
/// [init function](BertForSequenceClassificationConfig::init).
#[derive(Config, Debug)]
pub struct BertForSequenceClassificationConfig {
    /// The encoder.
    pub bert: BertModelConfig,
    /// Classes the head scores (`num_labels`).
    pub num_labels: usize,
    /// Dropout probability before the head (`classifier_dropout`, else `hidden_dropout_prob`).
    #[config(default = 0.1)]
    pub classifier_dropout: f64,
    /// Whose names and head: BERT's pooler + classifier, or RoBERTa's `RobertaClassificationHead`.
    #[config(default = "Flavor::Bert")]
    pub flavor: Flavor,
}

impl BertForSequenceClassificationConfig {
    /// The classifier a `config.json` describes, for `num_labels` classes.
    pub fn from_encoder(config: &EncoderConfig, num_labels: usize) -> Self {
        Self::new(BertModelConfig::from_encoder(config), num_labels)
            .with_classifier_dropout(config.classifier_dropout)
            .with_flavor(config.flavor)
    }

    /// The whole model, its tensors from `loader` (which names them as `flavor` does). The head (and a pooler the
    /// checkpoint lacks) comes from the overrides or the checkpoint when they have it, else it is fresh:
    /// `N(0, initializer_range)` weight, zero bias (transformers' `_init_weights`). A checkpoint's head for another
    /// number of labels (a fine-tuned classifier as the base of a new task) is replaced by a fresh one, as
    /// transformers does with `ignore_mismatched_sizes=True`; an adapter's head must fit.
    pub fn init(&self, loader: &mut Loader) -> Result<BertForSequenceClassification, Error> {
        let bert = self.bert.init(loader, &child("", "bert"))?;
        let classifier = loader.head("classifier", self.bert.hidden_size(), self.num_labels, true)?;
        let dropout = DropoutConfig::new(self.classifier_dropout).init();
        Ok(BertForSequenceClassification { bert, dropout, classifier, flavor: self.flavor })
    }
}

#[derive(Module, Debug)]
pub struct BertForSequenceClassification {
    pub bert: BertModel,
    pub dropout: Dropout,
    /// `[hidden_size, num_labels]`.
    pub classifier: LoraLinear,
    /// Names its parameters (`paths::flavor_name`) and picks the head's dropout placement.
    #[module(skip)]
    pub flavor: Flavor,
}

impl BertForSequenceClassification {
    /// # Shapes
    /// - input: ids and mask `[batch, seq]`
    /// - output: logits `[batch, num_labels]`
    pub fn forward(&self, input: &EncoderInput) -> Tensor<2> {
        let x = self.bert.encode(input);
        let pooled = match self.flavor {
            // `RobertaClassificationHead`: dropout on the first token before `dense`, and again before `out_proj`.
            Flavor::Roberta => self.bert.pooler.forward_first(dropout::apply(&self.dropout, first_token(x))),
            // `pre_classifier` + ReLU on the first token.
            Flavor::Distilbert => relu(self.bert.pooler.dense.forward(first_token(x))),
            // BERT (GPT-2, ModernBERT and the language models are models of their own, never this one).
            _ => self.bert.pooler.forward(x),
        };
        self.classifier.forward(dropout::apply(&self.dropout, pooled))
    }

    pub fn num_labels(&self) -> usize {
        self.classifier.out_features()
    }
}
