//! GPT-2 in burn as transformers' `GPT2ForSequenceClassification` computes it (`modeling_gpt2.py`, eager
//! attention): pre-norm blocks with causal self-attention, `Conv1D` projections (weights stored `[in, out]`, which is
//! burn's own layout, so they load untransposed and PEFT's `fan_in_fan_out` holds for their adapters), GELU's tanh
//! approximation (`gelu_new`), and the `score` head (no bias) read at the last token that is not padding. Field
//! names are the Hugging Face module names, so a parameter's path is its checkpoint key.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm};
use burn::tensor::activation::tanh;
use burn::tensor::{Int, Tensor};

use super::attention::{attend, key_mask, split_qkv};
use super::bert::EncoderInput;
use super::config::{EncoderConfig, Flavor, check_heads};
use super::dropout;
use super::load::Loader;
use super::lora::LoraLinear;
use super::paths::child;
use crate::accounting::arch::HfConfig;
use crate::error::Error;

/// `GPT2Config`'s names and defaults (`n_embd`, `n_layer`, `n_head`, `n_inner` = 4 `n_embd` when null,
/// `n_positions`, `resid_pdrop`, `embd_pdrop`, `attn_pdrop`, `layer_norm_epsilon`). GPT-2 has no padding token;
/// transformers' sequence classifier needs one, and, as is usual, the end-of-text token stands in for it
/// (`pad_token_id`, else `eos_token_id`).
pub fn encoder_config(config: &HfConfig) -> Result<EncoderConfig, Error> {
    let n = config.size_or("n_embd", Some(768))? as usize;
    let heads = config.size_or("n_head", Some(12))? as usize;
    check_heads(n, heads, "n_embd", "n_head")?;
    let act = config.string_or("activation_function", "gelu_new")?;
    if act != "gelu_new" {
        return Err(Error::invalid(
            "activation_function",
            format!("'{act}' is not supported; GPT-2 here computes \"gelu_new\""),
        ));
    }
    for flag in ["scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"] {
        if config.flag_or(flag, false)? {
            return Err(Error::invalid(flag, "is true: not supported by this GPT-2"));
        }
    }
    if !config.flag_or("scale_attn_weights", true)? {
        return Err(Error::invalid("scale_attn_weights", "is false: not supported by this GPT-2"));
    }
    let eos = config.index_or("eos_token_id", 50256)?;
    Ok(EncoderConfig {
        flavor: Flavor::Gpt2,
        vocab_size: config.size_or("vocab_size", Some(50257))? as usize,
        hidden_size: n,
        num_hidden_layers: config.size_or("n_layer", Some(12))? as usize,
        num_attention_heads: heads,
        intermediate_size: config.optional_size("n_inner")?.map_or(4 * n, |x| x as usize),
        max_position_embeddings: config.size_or("n_positions", Some(1024))? as usize,
        type_vocab_size: 0,
        layer_norm_eps: config.float_or("layer_norm_epsilon", 1e-5)?,
        hidden_dropout_prob: config.float_or("resid_pdrop", 0.1)?,
        embedding_dropout_prob: config.float_or("embd_pdrop", 0.1)?,
        attention_probs_dropout_prob: config.float_or("attn_pdrop", 0.1)?,
        // `GPT2ForSequenceClassification` scores the hidden state with no dropout before `score`.
        classifier_dropout: 0.0,
        pad_token_id: config.index_or("pad_token_id", eos)?,
        initializer_range: config.float_or("initializer_range", 0.02)?,
        sinusoidal_pos_embds: false,
        modernbert: None,
    })
}

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

impl Gpt2Model {
    /// The model at `path` (`transformer`), its tensors from `loader`, in checkpoint order.
    pub fn init(config: &EncoderConfig, loader: &mut Loader, path: &str) -> Result<Self, Error> {
        let (n, eps) = (config.hidden_size, config.layer_norm_eps);
        let dropout = |p: f64| DropoutConfig::new(p).init();
        let wte = loader.embedding(&child(path, "wte"), config.vocab_size, n)?;
        let wpe = loader.embedding(&child(path, "wpe"), config.max_position_embeddings, n)?;
        let mut h = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let block = child(&child(path, "h"), &i.to_string());
            let (attn, mlp) = (child(&block, "attn"), child(&block, "mlp"));
            h.push(Gpt2Block {
                ln_1: loader.layer_norm(&child(&block, "ln_1"), n, eps)?,
                attn: Gpt2Attention {
                    c_attn: loader.conv1d(&child(&attn, "c_attn"), n, 3 * n)?,
                    c_proj: loader.conv1d(&child(&attn, "c_proj"), n, n)?,
                    attn_dropout: dropout(config.attention_probs_dropout_prob),
                    resid_dropout: dropout(config.hidden_dropout_prob),
                    num_heads: config.num_attention_heads,
                },
                ln_2: loader.layer_norm(&child(&block, "ln_2"), n, eps)?,
                mlp: Gpt2Mlp {
                    c_fc: loader.conv1d(&child(&mlp, "c_fc"), n, config.intermediate_size)?,
                    c_proj: loader.conv1d(&child(&mlp, "c_proj"), config.intermediate_size, n)?,
                    dropout: dropout(config.hidden_dropout_prob),
                },
            });
        }
        let ln_f = loader.layer_norm(&child(path, "ln_f"), n, eps)?;
        Ok(Self { wte, wpe, drop: dropout(config.embedding_dropout_prob), h, ln_f })
    }

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

impl Gpt2ForSequenceClassification {
    /// The whole model; the `score` head (no bias) as `Loader::head` finds or makes it.
    pub fn init(config: &EncoderConfig, num_labels: usize, loader: &mut Loader) -> Result<Self, Error> {
        let transformer = Gpt2Model::init(config, loader, "transformer")?;
        let score = loader.head("score", config.hidden_size, num_labels, false)?;
        Ok(Self { transformer, score, pad_token_id: config.pad_token_id })
    }

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
