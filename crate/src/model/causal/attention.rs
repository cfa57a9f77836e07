//! Grouped-query self-attention of the language models (`LlamaAttention`, `Qwen2Attention`, `Gemma3Attention`,
//! eager): q/k/v projections, Gemma's RMS norms on each query and key head, the rotation, keys and values shared by
//! `num_attention_heads / num_key_value_heads` query heads (`repeat_kv`), the causal (and sliding-window) mask, and
//! `o_proj`. With a cache, keys and values of earlier steps are reused.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::softmax;

use super::cache::KvCache;
use super::norm::RmsNorm;
use crate::error::Error;
use crate::model::attention::split_heads;
use crate::model::config::decoder::{DecoderConfig, LayerAttention};
use crate::model::load::Loader;
use crate::model::lora::LoraLinear;
use crate::model::paths::child;
use crate::model::rotary;

#[derive(Module, Debug)]
pub struct DecoderAttention {
    pub q_proj: LoraLinear,
    pub k_proj: LoraLinear,
    pub v_proj: LoraLinear,
    pub o_proj: LoraLinear,
    /// Gemma 3's norms over each head's queries and keys (before the rotation).
    pub q_norm: Option<RmsNorm>,
    pub k_norm: Option<RmsNorm>,
    #[module(skip)]
    pub num_heads: usize,
    #[module(skip)]
    pub num_kv_heads: usize,
    #[module(skip)]
    pub scale: f64,
    #[module(skip)]
    pub layer: LayerAttention,
}

impl DecoderAttention {
    /// The attention block at `path` (`model.layers.N.self_attn`).
    pub fn load(loader: &mut Loader, c: &DecoderConfig, path: &str, layer: LayerAttention) -> Result<Self, Error> {
        let h = c.hidden_size;
        let norm = |loader: &mut Loader, name: &str| -> Result<Option<RmsNorm>, Error> {
            c.gemma.then(|| RmsNorm::load(loader, &child(path, name), c.head_dim, c.rms_norm_eps, true)).transpose()
        };
        Ok(Self {
            q_proj: loader.linear_with_bias(&child(path, "q_proj"), h, c.q_width(), c.qkv_bias)?,
            k_proj: loader.linear_with_bias(&child(path, "k_proj"), h, c.kv_width(), c.qkv_bias)?,
            v_proj: loader.linear_with_bias(&child(path, "v_proj"), h, c.kv_width(), c.qkv_bias)?,
            o_proj: loader.linear_with_bias(&child(path, "o_proj"), c.q_width(), h, c.o_bias)?,
            q_norm: norm(loader, "q_norm")?,
            k_norm: norm(loader, "k_norm")?,
            num_heads: c.num_attention_heads,
            num_kv_heads: c.num_key_value_heads,
            scale: c.attention_scale,
            layer,
        })
    }

    /// `x` holds the tokens at positions `start..start + seq` (`start` = what `cache` has seen); `mask` is this
    /// layer's additive mask `[batch, 1, seq, start + seq]`.
    ///
    /// # Shapes
    /// - x, output: `[batch, seq, hidden]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        mask: Tensor<4>,
        start: usize,
        cache: Option<(&mut KvCache, usize)>,
    ) -> Tensor<3> {
        let [b, s, _] = x.dims();
        let mut q = split_heads(self.q_proj.forward(x.clone()), self.num_heads);
        let mut k = split_heads(self.k_proj.forward(x.clone()), self.num_kv_heads);
        let v = split_heads(self.v_proj.forward(x), self.num_kv_heads);
        if let (Some(qn), Some(kn)) = (&self.q_norm, &self.k_norm) {
            q = qn.forward(q);
            k = kn.forward(k);
        }
        let d = q.dims()[3];
        let (cos, sin) = rotary::cos_sin(self.layer.rope_theta, self.layer.rope_factor, start, s, d, &q.device());
        let (q, k) = (rotary::apply(q, &cos, &sin), rotary::apply(k, &cos, &sin));
        let (k, v) = match cache {
            Some((cache, i)) => cache.extend(i, k, v),
            None => (k, v),
        };
        let (k, v) = (self.repeat_kv(k), self.repeat_kv(v));
        let scores = q.matmul(k.transpose()).mul_scalar(self.scale) + mask;
        let out = softmax(scores, 3).matmul(v).swap_dims(1, 2).reshape([b, s, self.num_heads * d]);
        self.o_proj.forward(out)
    }

    /// `[batch, kv_heads, t, d]` -> `[batch, heads, t, d]`, each key head serving `heads / kv_heads` query heads in
    /// a row (transformers' `repeat_kv`).
    fn repeat_kv(&self, t: Tensor<4>) -> Tensor<4> {
        let rep = self.num_heads / self.num_kv_heads;
        if rep == 1 {
            return t;
        }
        let [b, kv, n, d] = t.dims();
        t.unsqueeze_dim::<5>(2).expand([b, kv, rep, n, d]).reshape([b, kv * rep, n, d])
    }
}
