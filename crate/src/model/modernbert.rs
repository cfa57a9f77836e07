//! ModernBERT in burn as transformers' `ModernBertForSequenceClassification` computes it (`modeling_modernbert.py`,
//! eager attention): pre-norm layers (the first one's `attn_norm` is the identity), a fused `Wqkv` with rotary
//! position embeddings whose `rope_theta` differs between global and sliding-window layers, sliding-window
//! attention (a token sees those within `local_attention / 2` of it) on the layers that are not global, a GeGLU
//! MLP (`Wi` is input and gate side by side), no biases where the config says so, `final_norm`, and the prediction
//! `head` (dense, GELU, norm) over the `[CLS]` token or the mean of the real tokens. Field names are the Hugging
//! Face module names (`Wqkv` included), so a parameter's path is its checkpoint key.
#![allow(non_snake_case)]

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm};
use burn::tensor::Tensor;
use burn::tensor::activation::gelu;

use super::attention::{attend, key_mask, split_qkv};
use super::config::{EncoderConfig, ModernBertOptions, Pooling};
use super::dropout;
use super::input::EncoderInput;
use super::load::Loader;
use super::lora::LoraLinear;
use super::paths::child;
use super::rotary;
use crate::error::Error;

#[derive(Module, Debug)]
pub struct ModernBertEmbeddings {
    pub tok_embeddings: Embedding,
    pub norm: LayerNorm,
    pub drop: Dropout,
}

#[derive(Module, Debug)]
pub struct ModernBertAttention {
    /// Query, key and value in one `[hidden, 3 hidden]` layer.
    pub Wqkv: LoraLinear,
    pub Wo: LoraLinear,
    pub attn_drop: Dropout,
    pub out_drop: Dropout,
    pub num_heads: usize,
}

impl ModernBertAttention {
    /// `rope`: cos and sin `[1, 1, seq, head_dim]`; `mask`: 0 where a query may see a key.
    pub fn forward(&self, x: Tensor<3>, rope: &(Tensor<4>, Tensor<4>), mask: Tensor<4>) -> Tensor<3> {
        let [q, k, v] = split_qkv(self.Wqkv.forward(x), self.num_heads);
        let (cos, sin) = rope;
        let turn = |t: Tensor<4>| rotary::apply(t, cos, sin);
        dropout::apply(&self.out_drop, self.Wo.forward(attend(turn(q), turn(k), v, mask, &self.attn_drop)))
    }
}

#[derive(Module, Debug)]
pub struct ModernBertMlp {
    /// `[hidden, 2 intermediate]`: the input half, then the gate half.
    pub Wi: LoraLinear,
    pub Wo: LoraLinear,
    pub drop: Dropout,
}

#[derive(Module, Debug)]
pub struct ModernBertEncoderLayer {
    /// None in layer 0 (`nn.Identity`): the embeddings' norm already normalised its input.
    pub attn_norm: Option<LayerNorm>,
    pub attn: ModernBertAttention,
    pub mlp_norm: LayerNorm,
    pub mlp: ModernBertMlp,
    /// `Some(half window)` on a sliding-window layer.
    #[module(skip)]
    pub window: Option<usize>,
}

impl ModernBertEncoderLayer {
    fn forward(&self, x: Tensor<3>, rope: &(Tensor<4>, Tensor<4>), mask: Tensor<4>) -> Tensor<3> {
        let normed = match &self.attn_norm {
            Some(n) => n.forward(x.clone()),
            None => x.clone(),
        };
        let x = x + self.attn.forward(normed, rope, mask);
        let wi = self.mlp.Wi.forward(self.mlp_norm.forward(x.clone()));
        let [b, s, two] = wi.dims();
        let (input, gate) = (wi.clone().slice([0..b, 0..s, 0..two / 2]), wi.slice([0..b, 0..s, two / 2..two]));
        x + self.mlp.Wo.forward(dropout::apply(&self.mlp.drop, gelu(input) * gate))
    }
}

#[derive(Module, Debug)]
pub struct ModernBertModel {
    pub embeddings: ModernBertEmbeddings,
    pub layers: Vec<ModernBertEncoderLayer>,
    pub final_norm: LayerNorm,
    #[module(skip)]
    pub rope_theta: (f64, f64),
}

impl ModernBertModel {
    /// The last hidden state (after `final_norm`), `[batch, seq, hidden]`.
    pub fn forward(&self, input: &EncoderInput) -> Tensor<3> {
        let [_, s] = input.attention_mask.dims();
        let device = input.attention_mask.device();
        let first = &self.layers[0].attn;
        let dim = first.Wo.out_features() / first.num_heads;
        let rope = |theta| rotary::cos_sin(theta, 1.0, 0, s, dim, &device);
        let (global, local) = (rope(self.rope_theta.0), rope(self.rope_theta.1));
        let padding = input.padding_mask();
        let window = |half: usize| key_mask(s, &device, |query, key| query.abs_diff(key) <= half) + padding.clone();
        // A config gives every sliding layer the same window: its mask is built once per pass, not once per layer.
        let mut sliding: Option<(usize, Tensor<4>)> = None;
        let mut x = dropout::apply(
            &self.embeddings.drop,
            self.embeddings.norm.forward(self.embeddings.tok_embeddings.forward(input.input_ids.clone())),
        );
        for layer in &self.layers {
            x = match layer.window {
                Some(half) => {
                    let mask = match &sliding {
                        Some((h, m)) if *h == half => m.clone(),
                        _ => {
                            let m = window(half);
                            sliding = Some((half, m.clone()));
                            m
                        }
                    };
                    layer.forward(x, &local, mask)
                }
                None => layer.forward(x, &global, padding.clone()),
            };
        }
        self.final_norm.forward(x)
    }
}

#[derive(Module, Debug)]
pub struct ModernBertPredictionHead {
    pub dense: LoraLinear,
    pub norm: LayerNorm,
}

#[derive(Module, Debug)]
pub struct ModernBertForSequenceClassification {
    pub model: ModernBertModel,
    pub head: ModernBertPredictionHead,
    pub drop: Dropout,
    pub classifier: LoraLinear,
    #[module(skip)]
    pub pooling: Pooling,
}

/// Configuration to create [`ModernBertModel`] using the [init function](ModernBertModelConfig::init):
/// `ModernBertConfig`'s sizes and dropouts under its own names, and what only ModernBERT has (`options`).
#[derive(Config, Debug)]
pub struct ModernBertModelConfig {
    /// Token embeddings `[vocab_size, hidden_size]` (no position table: rotary embeddings).
    pub vocab_size: usize,
    pub hidden_size: usize,
    /// Attention heads (`hidden_size / num_attention_heads` wide each).
    pub num_attention_heads: usize,
    /// Width of the GeGLU MLP (`Wi` is twice it: the gate and the input).
    pub intermediate_size: usize,
    #[config(default = 1e-5)]
    pub norm_eps: f64,
    #[config(default = 0.0)]
    pub embedding_dropout: f64,
    #[config(default = 0.0)]
    pub attention_dropout: f64,
    #[config(default = 0.0)]
    pub mlp_dropout: f64,
    /// Each layer's window, the rotary thetas, the biases and the pooling (its length is the number of layers).
    pub options: ModernBertOptions,
}

impl ModernBertModelConfig {
    /// The model a `config.json` describes (`config::modernbert` read it); None without ModernBERT's settings.
    pub fn from_encoder(config: &EncoderConfig) -> Option<Self> {
        let options = config.modernbert.clone()?;
        Some(
            Self::new(
                config.vocab_size,
                config.hidden_size,
                config.num_attention_heads,
                config.intermediate_size,
                options,
            )
            .with_norm_eps(config.layer_norm_eps)
            .with_embedding_dropout(config.embedding_dropout_prob)
            .with_attention_dropout(config.attention_probs_dropout_prob)
            .with_mlp_dropout(config.hidden_dropout_prob),
        )
    }

    /// The model at `model`, its tensors from `loader`, in checkpoint order.
    pub fn init(&self, loader: &mut Loader) -> Result<ModernBertModel, Error> {
        let (h, eps, o) = (self.hidden_size, self.norm_eps, &self.options);
        let dropout = |p: f64| DropoutConfig::new(p).init();
        let embeddings = ModernBertEmbeddings {
            tok_embeddings: loader.embedding("model.embeddings.tok_embeddings", self.vocab_size, h)?,
            norm: loader.layer_norm_with_bias("model.embeddings.norm", h, eps, o.norm_bias)?,
            drop: dropout(self.embedding_dropout),
        };
        let mut layers = Vec::with_capacity(o.windows.len());
        for (i, window) in o.windows.iter().enumerate() {
            let p = child("model.layers", &i.to_string());
            let (attn, mlp) = (child(&p, "attn"), child(&p, "mlp"));
            layers.push(ModernBertEncoderLayer {
                attn_norm: if i == 0 {
                    None
                } else {
                    Some(loader.layer_norm_with_bias(&child(&p, "attn_norm"), h, eps, o.norm_bias)?)
                },
                attn: ModernBertAttention {
                    Wqkv: loader.linear_with_bias(&child(&attn, "Wqkv"), h, 3 * h, o.attention_bias)?,
                    Wo: loader.linear_with_bias(&child(&attn, "Wo"), h, h, o.attention_bias)?,
                    attn_drop: dropout(self.attention_dropout),
                    out_drop: dropout(self.attention_dropout),
                    num_heads: self.num_attention_heads,
                },
                mlp_norm: loader.layer_norm_with_bias(&child(&p, "mlp_norm"), h, eps, o.norm_bias)?,
                mlp: ModernBertMlp {
                    Wi: loader.linear_with_bias(&child(&mlp, "Wi"), h, 2 * self.intermediate_size, o.mlp_bias)?,
                    Wo: loader.linear_with_bias(&child(&mlp, "Wo"), self.intermediate_size, h, o.mlp_bias)?,
                    drop: dropout(self.mlp_dropout),
                },
                window: *window,
            });
        }
        let final_norm = loader.layer_norm_with_bias("model.final_norm", h, eps, o.norm_bias)?;
        Ok(ModernBertModel { embeddings, layers, final_norm, rope_theta: (o.global_rope_theta, o.local_rope_theta) })
    }
}

/// Configuration to create [`ModernBertForSequenceClassification`] using the
/// [init function](ModernBertForSequenceClassificationConfig::init).
#[derive(Config, Debug)]
pub struct ModernBertForSequenceClassificationConfig {
    /// The encoder.
    pub model: ModernBertModelConfig,
    /// Classes the classifier scores.
    pub num_labels: usize,
    #[config(default = 0.0)]
    pub classifier_dropout: f64,
}

impl ModernBertForSequenceClassificationConfig {
    /// The classifier a `config.json` describes, for `num_labels` classes.
    pub fn from_encoder(config: &EncoderConfig, num_labels: usize) -> Result<Self, Error> {
        let model = ModernBertModelConfig::from_encoder(config)
            .ok_or_else(|| Error::invalid("config.json", "a ModernBERT config without its settings"))?;
        Ok(Self::new(model, num_labels).with_classifier_dropout(config.classifier_dropout))
    }

    /// The whole model; `head` and `classifier` come from the overrides or the checkpoint when it has them (a masked
    /// LM checkpoint has `head` but no `classifier`), else they are fresh (`Loader::head`).
    pub fn init(&self, loader: &mut Loader) -> Result<ModernBertForSequenceClassification, Error> {
        let model = self.model.init(loader)?;
        let (h, eps, o) = (self.model.hidden_size, self.model.norm_eps, &self.model.options);
        let head = ModernBertPredictionHead {
            dense: loader.linear_with_bias("head.dense", h, h, o.classifier_bias)?,
            norm: loader.layer_norm_with_bias("head.norm", h, eps, o.norm_bias)?,
        };
        let classifier = loader.head("classifier", h, self.num_labels, true)?;
        let drop = DropoutConfig::new(self.classifier_dropout).init();
        Ok(ModernBertForSequenceClassification { model, head, drop, classifier, pooling: o.pooling })
    }
}

impl ModernBertForSequenceClassification {
    /// Logits `[batch, num_labels]`.
    pub fn forward(&self, input: &EncoderInput) -> Tensor<2> {
        let x = self.model.forward(input);
        let [b, s, h] = x.dims();
        let pooled = match self.pooling {
            Pooling::Cls => x.slice([0..b, 0..1]).reshape([b, h]),
            Pooling::Mean => {
                let mask = input.attention_mask.clone().reshape([b, s, 1]);
                (x * mask.clone()).sum_dim(1).reshape([b, h]) / mask.sum_dim(1).reshape([b, 1])
            }
        };
        let head = self.head.norm.forward(gelu(self.head.dense.forward(pooled)));
        self.classifier.forward(dropout::apply(&self.drop, head))
    }

    pub fn num_labels(&self) -> usize {
        self.classifier.out_features()
    }
}
