//! GPT-2 in burn as transformers' `GPT2ForSequenceClassification` computes it (`modeling_gpt2.py`, eager
//! attention): pre-norm blocks with causal self-attention, `Conv1D` projections (weights stored `[in, out]`, which is
//! burn's own layout, so they load untransposed and PEFT's `fan_in_fan_out` holds for their adapters), GELU's tanh
//! approximation (`gelu_new`), and the `score` head (no bias) read at the last token that is not padding. Field
//! names are the Hugging Face module names, so a parameter's path is its checkpoint key.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm};
use burn::tensor::activation::tanh;
use burn::tensor::{Int, Tensor};

use super::attention::{attend, key_mask, split_qkv};
use super::config::EncoderConfig;
use super::dropout;
use super::input::EncoderInput;
use super::load::Loader;
use super::lora::LoraLinear;
use super::paths::child;
use crate::error::Error;

/// `gelu_new`: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
fn gelu_new<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let inner =
        (x.clone() + x.clone().powf_scalar(3.0).mul_scalar(0.044715)).mul_scalar((2.0 / std::f64::consts::PI).sqrt());
    x.clone().mul_scalar(0.5) * (tanh(inner) + 1.0)
}

#[derive(Module, Debug)]
pub struct Gpt2Attention {
    /// Query, key and value in one `[n_embd, 3 n_embd]` Conv1D.
    pub c_attn: LoraLinear,
    /// `[n_embd, n_embd]` Conv1D.
    pub c_proj: LoraLinear,
    pub attn_dropout: Dropout,
    pub resid_dropout: Dropout,
    pub num_heads: usize,
}

impl Gpt2Attention {
    /// `mask`: 0 where a query may see a key, a large negative number where the key is later or padding.
    ///
    /// # Shapes
    /// - x, output: `[batch, seq, n_embd]`; mask: `[batch, 1, seq, seq]`
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        let [q, k, v] = split_qkv(self.c_attn.forward(x), self.num_heads);
        dropout::apply(&self.resid_dropout, self.c_proj.forward(attend(q, k, v, mask, &self.attn_dropout)))
    }
}

#[derive(Module, Debug)]
pub struct Gpt2Mlp {
    /// `[n_embd, n_inner]` Conv1D.
    pub c_fc: LoraLinear,
    /// `[n_inner, n_embd]` Conv1D.
    pub c_proj: LoraLinear,
    pub dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct Gpt2Block {
    pub ln_1: LayerNorm,
    pub attn: Gpt2Attention,
    pub ln_2: LayerNorm,
    pub mlp: Gpt2Mlp,
}

impl Gpt2Block {
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        let x = x.clone() + self.attn.forward(self.ln_1.forward(x), mask);
        let m = &self.mlp;
        x.clone() + dropout::apply(&m.dropout, m.c_proj.forward(gelu_new(m.c_fc.forward(self.ln_2.forward(x)))))
    }
}

#[derive(Module, Debug)]
pub struct Gpt2Model {
    /// `[vocab_size, n_embd]` token embeddings.
    pub wte: Embedding,
    /// `[n_positions, n_embd]` position embeddings.
    pub wpe: Embedding,
    pub drop: Dropout,
    pub h: Vec<Gpt2Block>,
    pub ln_f: LayerNorm,
}

/// Configuration to create [`Gpt2Model`] using the [init function](Gpt2ModelConfig::init): `GPT2Config`'s sizes
/// and dropouts under its own names.
#[derive(Config, Debug)]
pub struct Gpt2ModelConfig {
    /// Token embeddings `[vocab_size, n_embd]`.
    pub vocab_size: usize,
    /// Position embeddings `[n_positions, n_embd]`.
    pub n_positions: usize,
    /// Width of the hidden states.
    pub n_embd: usize,
    /// Blocks.
    pub n_layer: usize,
    /// Attention heads (`n_embd / n_head` wide each).
    pub n_head: usize,
    /// Width of the MLP (`4 n_embd` when the config leaves it null).
    pub n_inner: usize,
    #[config(default = 1e-5)]
    pub layer_norm_epsilon: f64,
    /// Dropout after the attention's and the MLP's projections.
    #[config(default = 0.1)]
    pub resid_pdrop: f64,
    /// Dropout on the summed embeddings.
    #[config(default = 0.1)]
    pub embd_pdrop: f64,
    /// Dropout on the attention probabilities.
    #[config(default = 0.1)]
    pub attn_pdrop: f64,
}

impl Gpt2ModelConfig {
    /// The model a `config.json` describes (`config::gpt2` read it).
    pub fn from_encoder(config: &EncoderConfig) -> Self {
        Self::new(
            config.vocab_size,
            config.max_position_embeddings,
            config.hidden_size,
            config.num_hidden_layers,
            config.num_attention_heads,
            config.intermediate_size,
        )
        .with_layer_norm_epsilon(config.layer_norm_eps)
        .with_resid_pdrop(config.hidden_dropout_prob)
        .with_embd_pdrop(config.embedding_dropout_prob)
        .with_attn_pdrop(config.attention_probs_dropout_prob)
    }

    /// The model at `path` (`transformer`), its tensors from `loader`, in checkpoint order.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<Gpt2Model, Error> {
        let (n, eps) = (self.n_embd, self.layer_norm_epsilon);
        let dropout = |p: f64| DropoutConfig::new(p).init();
        let wte = loader.embedding(&child(path, "wte"), self.vocab_size, n)?;
        let wpe = loader.embedding(&child(path, "wpe"), self.n_positions, n)?;
        let mut h = Vec::with_capacity(self.n_layer);
        for i in 0..self.n_layer {
            let block = child(&child(path, "h"), &i.to_string());
            let (attn, mlp) = (child(&block, "attn"), child(&block, "mlp"));
            h.push(Gpt2Block {
                ln_1: loader.layer_norm(&child(&block, "ln_1"), n, eps)?,
                attn: Gpt2Attention {
                    c_attn: loader.conv1d(&child(&attn, "c_attn"), n, 3 * n)?,
                    c_proj: loader.conv1d(&child(&attn, "c_proj"), n, n)?,
                    attn_dropout: dropout(self.attn_pdrop),
                    resid_dropout: dropout(self.resid_pdrop),
                    num_heads: self.n_head,
                },
                ln_2: loader.layer_norm(&child(&block, "ln_2"), n, eps)?,
                mlp: Gpt2Mlp {
                    c_fc: loader.conv1d(&child(&mlp, "c_fc"), n, self.n_inner)?,
                    c_proj: loader.conv1d(&child(&mlp, "c_proj"), self.n_inner, n)?,
                    dropout: dropout(self.resid_pdrop),
                },
            });
        }
        let ln_f = loader.layer_norm(&child(path, "ln_f"), n, eps)?;
        Ok(Gpt2Model { wte, wpe, drop: dropout(self.embd_pdrop), h, ln_f })
    }
}

impl Gpt2Model {
    /// The last hidden state (after `ln_f`), `[batch, seq, n_embd]`.
    pub fn forward(&self, input: &EncoderInput) -> Tensor<3> {
        let [_, s] = input.attention_mask.dims();
        // A key is hidden from a query when it comes later (causal) or is padding; where both apply the sum is
        // -inf, which softmax treats the same.
        let mask = key_mask(s, &input.attention_mask.device(), |query, key| key <= query) + input.padding_mask();
        let mut x = dropout::apply(
            &self.drop,
            self.wte.forward(input.input_ids.clone()) + self.wpe.forward(input.position_ids.clone()),
        );
        for block in &self.h {
            x = block.forward(x, mask.clone());
        }
        self.ln_f.forward(x)
    }
}

#[derive(Module, Debug)]
pub struct Gpt2ForSequenceClassification {
    pub transformer: Gpt2Model,
    /// `[n_embd, num_labels]`, no bias.
    pub score: LoraLinear,
    pub pad_token_id: usize,
}

/// Configuration to create [`Gpt2ForSequenceClassification`] using the
/// [init function](Gpt2ForSequenceClassificationConfig::init).
#[derive(Config, Debug)]
pub struct Gpt2ForSequenceClassificationConfig {
    /// The transformer.
    pub transformer: Gpt2ModelConfig,
    /// Classes the `score` head rates.
    pub num_labels: usize,
    /// The padding id that marks where a row's text ends (`pad_token_id`, else `eos_token_id`).
    pub pad_token_id: usize,
}

impl Gpt2ForSequenceClassificationConfig {
    /// The classifier a `config.json` describes, for `num_labels` classes.
    pub fn from_encoder(config: &EncoderConfig, num_labels: usize) -> Self {
        Self::new(Gpt2ModelConfig::from_encoder(config), num_labels, config.pad_token_id)
    }

    /// The whole model; the `score` head (no bias) as `Loader::head` finds or makes it.
    pub fn init(&self, loader: &mut Loader) -> Result<Gpt2ForSequenceClassification, Error> {
        let transformer = self.transformer.init(loader, "transformer")?;
        let score = loader.head("score", self.transformer.n_embd, self.num_labels, false)?;
        Ok(Gpt2ForSequenceClassification { transformer, score, pad_token_id: self.pad_token_id })
    }
}

impl Gpt2ForSequenceClassification {
    /// Logits `[batch, num_labels]` at each row's last token that is not padding (transformers' rule: the
    /// rightmost id that differs from `pad_token_id`, the first token when every one is padding).
    pub fn forward(&self, input: &EncoderInput) -> Tensor<2> {
        let hidden = self.transformer.forward(input);
        let [b, s, h] = hidden.dims();
        let device = hidden.device();
        // Each real token scores its position + 1, padding 0, less a hair per position so that a row of padding
        // alone picks its first token: the row's maximum is then exactly transformers' pick. As floats, a one-hot
        // over the sequence at that token, so the pick stays a differentiable product.
        let positions = Tensor::<1, Int>::arange(0..s as i64, &device).float().reshape([1, s]).repeat_dim(0, b);
        let real = input.input_ids.clone().not_equal_elem(self.pad_token_id as i64).float();
        let score = (positions.clone() + 1.0) * real - positions.mul_scalar(1e-3);
        let pick = score.clone().equal(score.max_dim(1).repeat_dim(1, s)).float().reshape([b, s, 1]);
        let pooled = (hidden * pick).sum_dim(1).reshape([b, h]);
        self.score.forward(pooled)
    }

    pub fn num_labels(&self) -> usize {
        self.score.out_features()
    }
}
