//! transformers' `BertAttention` (eager): `BertSelfAttention` (multi-head scaled dot-product attention) followed
//! by `BertSelfOutput` (dense, dropout, residual, LayerNorm), which `BertOutput` repeats after the feed-forward.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

use super::dropout;
use super::load::Loader;
use super::lora::LoraLinear;
use super::paths::child;
use crate::error::Error;

/// `[batch, seq, heads * d]` -> `[batch, heads, seq, d]`.
pub fn split_heads(t: Tensor<3>, heads: usize) -> Tensor<4> {
    let [b, s, h] = t.dims();
    t.reshape([b, s, heads, h / heads]).swap_dims(1, 2)
}

/// A fused query-key-value projection `[batch, seq, 3 hidden]` (GPT-2's `c_attn`, ModernBERT's `Wqkv`: query, key
/// and value side by side) as the three `[batch, heads, seq, d]`.
pub fn split_qkv(qkv: Tensor<3>, heads: usize) -> [Tensor<4>; 3] {
    let [b, s, three] = qkv.dims();
    let h = three / 3;
    [0, 1, 2].map(|i| split_heads(qkv.clone().slice([0..b, 0..s, i * h..(i + 1) * h]), heads))
}

/// Scaled dot-product attention as transformers' eager path computes it for every architecture here:
/// softmax(q k^T / sqrt(d) + mask), dropout on the weights, times v, the heads joined again.
///
/// # Shapes
/// - q, k, v: `[batch, heads, seq, d]`
/// - mask: `[batch or 1, 1, seq or 1, seq]`, 0 where a query may see a key and a large negative number elsewhere
/// - output: `[batch, seq, heads * d]`
pub fn attend(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, mask: Tensor<4>, dropout: &Dropout) -> Tensor<3> {
    let [b, heads, s, d] = q.dims();
    let scores = q.matmul(k.transpose()).div_scalar((d as f64).sqrt()) + mask;
    let probs = dropout::apply(dropout, softmax(scores, 3));
    probs.matmul(v).swap_dims(1, 2).reshape([b, s, heads * d])
}

/// A `[1, 1, seq, seq]` mask from which keys each query may see (`visible(query, key)`): GPT-2's causal mask,
/// ModernBERT's sliding window. Built on the host once per forward pass; transformers' finfo(float32).min elsewhere.
pub fn key_mask(s: usize, device: &Device, visible: impl Fn(usize, usize) -> bool) -> Tensor<4> {
    let v: Vec<f32> = (0..s * s).map(|i| if visible(i / s, i % s) { 0.0 } else { f32::MIN }).collect();
    Tensor::<2>::from_data(TensorData::new(v, [s, s]), device).reshape([1, 1, s, s])
}

/// Configuration to create [`SelfAttention`] using the [init function](SelfAttentionConfig::init).
#[derive(Config, Debug)]
pub struct SelfAttentionConfig {
    /// Width of the hidden states (`hidden_size`).
    pub hidden_size: usize,
    /// Heads, each `hidden_size / num_attention_heads` wide (`num_attention_heads`).
    pub num_attention_heads: usize,
    /// Dropout probability on the attention weights (`attention_probs_dropout_prob`).
    #[config(default = 0.1)]
    pub attention_probs_dropout_prob: f64,
}

impl SelfAttentionConfig {
    /// The self-attention at `path` (`bert.encoder.layer.N.attention.self`), its tensors from `loader`.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<SelfAttention, Error> {
        let h = self.hidden_size;
        Ok(SelfAttention {
            query: loader.linear(&child(path, "query"), h, h)?,
            key: loader.linear(&child(path, "key"), h, h)?,
            value: loader.linear(&child(path, "value"), h, h)?,
            dropout: DropoutConfig::new(self.attention_probs_dropout_prob).init(),
            num_heads: self.num_attention_heads,
        })
    }
}

#[derive(Module, Debug)]
pub struct SelfAttention {
    /// `[hidden_size, hidden_size]`.
    pub query: LoraLinear,
    /// `[hidden_size, hidden_size]`.
    pub key: LoraLinear,
    /// `[hidden_size, hidden_size]`.
    pub value: LoraLinear,
    pub dropout: Dropout,
    pub num_heads: usize,
}

impl SelfAttention {
    /// `mask` is 0 where a token may be attended to and a large negative number at padding.
    ///
    /// # Shapes
    /// - x: `[batch, seq, hidden_size]`
    /// - mask: `[batch, 1, 1, seq]`
    /// - output: `[batch, seq, hidden_size]`
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        let q = split_heads(self.query.forward(x.clone()), self.num_heads);
        let k = split_heads(self.key.forward(x.clone()), self.num_heads);
        let v = split_heads(self.value.forward(x), self.num_heads);
        attend(q, k, v, mask, &self.dropout)
    }
}

/// Configuration to create [`ResidualOutput`] using the [init function](ResidualOutputConfig::init).
#[derive(Config, Debug)]
pub struct ResidualOutputConfig {
    /// Width of the input: `hidden_size` after attention, `intermediate_size` after the feed-forward.
    pub d_input: usize,
    /// Width of the residual stream (`hidden_size`).
    pub hidden_size: usize,
    /// LayerNorm epsilon (`layer_norm_eps`).
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
    /// Dropout probability before the residual sum (`hidden_dropout_prob`).
    #[config(default = 0.1)]
    pub hidden_dropout_prob: f64,
}

impl ResidualOutputConfig {
    /// The output block at `path` (`...attention.output`, `...output`), its tensors from `loader`.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<ResidualOutput, Error> {
        Ok(ResidualOutput {
            dense: loader.linear(&child(path, "dense"), self.d_input, self.hidden_size)?,
            layer_norm: loader.layer_norm(&child(path, "layer_norm"), self.hidden_size, self.layer_norm_eps)?,
            dropout: DropoutConfig::new(self.hidden_dropout_prob).init(),
        })
    }
}

/// `BertSelfOutput` and `BertOutput`: dense, dropout, residual, LayerNorm.
#[derive(Module, Debug)]
pub struct ResidualOutput {
    /// `[d_input, hidden_size]`.
    pub dense: LoraLinear,
    /// `[hidden_size]` weight and bias, from the checkpoint, else ones and zeros.
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl ResidualOutput {
    /// # Shapes
    /// - x: `[batch, seq, d_input]`
    /// - residual, output: `[batch, seq, hidden_size]`
    pub fn forward(&self, x: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        self.layer_norm.forward(dropout::apply(&self.dropout, self.dense.forward(x)) + residual)
    }
}

/// Configuration to create [`Attention`] using the [init function](AttentionConfig::init).
#[derive(Config, Debug)]
pub struct AttentionConfig {
    /// Width of the hidden states (`hidden_size`).
    pub hidden_size: usize,
    /// Heads, each `hidden_size / num_attention_heads` wide (`num_attention_heads`).
    pub num_attention_heads: usize,
    /// LayerNorm epsilon (`layer_norm_eps`).
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
    /// Dropout probability before the residual sum (`hidden_dropout_prob`).
    #[config(default = 0.1)]
    pub hidden_dropout_prob: f64,
    /// Dropout probability on the attention weights (`attention_probs_dropout_prob`).
    #[config(default = 0.1)]
    pub attention_probs_dropout_prob: f64,
}

impl AttentionConfig {
    /// The attention block at `path` (`bert.encoder.layer.N.attention`), its tensors from `loader`.
    pub fn init(&self, loader: &mut Loader, path: &str) -> Result<Attention, Error> {
        let h = self.hidden_size;
        Ok(Attention {
            self_attention: SelfAttentionConfig::new(h, self.num_attention_heads)
                .with_attention_probs_dropout_prob(self.attention_probs_dropout_prob)
                .init(loader, &child(path, "self_attention"))?,
            output: ResidualOutputConfig::new(h, h)
                .with_layer_norm_eps(self.layer_norm_eps)
                .with_hidden_dropout_prob(self.hidden_dropout_prob)
                .init(loader, &child(path, "output"))?,
        })
    }
}

#[derive(Module, Debug)]
pub struct Attention {
    /// Hugging Face: `attention.self`.
    pub self_attention: SelfAttention,
    pub output: ResidualOutput,
}

impl Attention {
    /// # Shapes
    /// - x, output: `[batch, seq, hidden_size]`
    /// - mask: `[batch, 1, 1, seq]` (see `SelfAttention::forward`)
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        self.output.forward(self.self_attention.forward(x.clone(), mask), x)
    }
}
