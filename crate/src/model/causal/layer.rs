//! One block of a language model: pre-norm attention and a gated feed-forward, each added to the residual stream
//! (`LlamaDecoderLayer`); Gemma 3 also norms each branch's output before the sum (`Gemma3DecoderLayer`'s
//! `post_attention_layernorm` and `post_feedforward_layernorm`, with `pre_feedforward_layernorm` before the MLP).

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::{gelu_approximate, silu};

use super::attention::DecoderAttention;
use super::cache::KvCache;
use super::norm::RmsNorm;
use crate::error::Error;
use crate::model::config::decoder::{Activation, DecoderConfig};
use crate::model::load::Loader;
use crate::model::lora::LoraLinear;
use crate::model::paths::child;

/// `down_proj(act(gate_proj(x)) * up_proj(x))`.
#[derive(Module, Debug)]
pub struct GatedMlp {
    pub gate_proj: LoraLinear,
    pub up_proj: LoraLinear,
    pub down_proj: LoraLinear,
    #[module(skip)]
    pub gelu: bool,
}

impl GatedMlp {
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let gate = self.gate_proj.forward(x.clone());
        let gate = if self.gelu { gelu_approximate(gate) } else { silu(gate) };
        self.down_proj.forward(gate * self.up_proj.forward(x))
    }
}

/// A block's linear layers by their names inside `model.layers.N`, in module order (`DecoderLayer::linears`).
pub const LINEARS: [&str; 7] = [
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
];

#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub self_attn: DecoderAttention,
    pub mlp: GatedMlp,
    pub input_layernorm: RmsNorm,
    /// Llama: the norm before the MLP. Gemma: the norm of the attention's output.
    pub post_attention_layernorm: RmsNorm,
    /// Gemma only.
    pub pre_feedforward_layernorm: Option<RmsNorm>,
    pub post_feedforward_layernorm: Option<RmsNorm>,
}

impl DecoderLayer {
    /// The block's linear layers, in `LINEARS`' order.
    pub fn linears(&self) -> [&LoraLinear; 7] {
        let (a, m) = (&self.self_attn, &self.mlp);
        [&a.q_proj, &a.k_proj, &a.v_proj, &a.o_proj, &m.gate_proj, &m.up_proj, &m.down_proj]
    }

    /// `linears`, to replace them (merging).
    pub fn linears_mut(&mut self) -> [&mut LoraLinear; 7] {
        let (a, m) = (&mut self.self_attn, &mut self.mlp);
        [&mut a.q_proj, &mut a.k_proj, &mut a.v_proj, &mut a.o_proj, &mut m.gate_proj, &mut m.up_proj, &mut m.down_proj]
    }

    /// Layer `i` (`model.layers.i`).
    pub fn load(loader: &mut Loader, c: &DecoderConfig, i: usize) -> Result<Self, Error> {
        let p = format!("model.layers.{i}");
        let (h, eps, g) = (c.hidden_size, c.rms_norm_eps, c.gemma);
        let self_attn = DecoderAttention::load(loader, c, &child(&p, "self_attn"), c.layers[i])?;
        let m = child(&p, "mlp");
        let mlp = GatedMlp {
            gate_proj: loader.linear_with_bias(&child(&m, "gate_proj"), h, c.intermediate_size, c.mlp_bias)?,
            up_proj: loader.linear_with_bias(&child(&m, "up_proj"), h, c.intermediate_size, c.mlp_bias)?,
            down_proj: loader.linear_with_bias(&child(&m, "down_proj"), c.intermediate_size, h, c.mlp_bias)?,
            gelu: c.hidden_act == Activation::GeluTanh,
        };
        let mut norm = |name: &str| RmsNorm::load(loader, &child(&p, name), h, eps, g);
        Ok(Self {
            self_attn,
            mlp,
            input_layernorm: norm("input_layernorm")?,
            post_attention_layernorm: norm("post_attention_layernorm")?,
            pre_feedforward_layernorm: if g { Some(norm("pre_feedforward_layernorm")?) } else { None },
            post_feedforward_layernorm: if g { Some(norm("post_feedforward_layernorm")?) } else { None },
        })
    }

    /// # Shapes
    /// - x, output: `[batch, seq, hidden]`; mask `[batch, 1, seq, start + seq]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        mask: Tensor<4>,
        start: usize,
        cache: Option<(&mut KvCache, usize)>,
    ) -> Tensor<3> {
        let attn = self.self_attn.forward(self.input_layernorm.forward(x.clone()), mask, start, cache);
        match (&self.pre_feedforward_layernorm, &self.post_feedforward_layernorm) {
            (Some(pre), Some(post)) => {
                let x = x + self.post_attention_layernorm.forward(attn);
                x.clone() + post.forward(self.mlp.forward(pre.forward(x)))
            }
            _ => {
                let x = x + attn;
                x.clone() + self.mlp.forward(self.post_attention_layernorm.forward(x))
            }
        }
    }

    /// This layer's sliding window, if it has one.
    pub fn window(&self) -> Option<usize> {
        self.self_attn.layer.window
    }
}
