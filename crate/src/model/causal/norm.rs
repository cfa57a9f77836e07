//! RMSNorm as the language models compute it: `x / sqrt(mean(x^2) + eps)` times `w` (Llama, Qwen2:
//! `LlamaRMSNorm`) or times `1 + w` (Gemma 3: `Gemma3RMSNorm`, whose weights are stored as offsets from one).

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use crate::error::Error;
use crate::model::load::{Init, Loader};
use crate::model::paths::child;

#[derive(Module, Debug)]
pub struct RmsNorm {
    /// `[d]`: ones for Llama when the checkpoint has none, zeros for Gemma (so the scale is one either way).
    pub weight: Param<Tensor<1>>,
    #[module(skip)]
    pub eps: f64,
    /// Gemma: the scale is `1 + weight`.
    #[module(skip)]
    pub unit_offset: bool,
}

impl RmsNorm {
    /// The norm at `path` over `d` features.
    pub fn load(loader: &mut Loader, path: &str, d: usize, eps: f64, unit_offset: bool) -> Result<Self, Error> {
        let init = if unit_offset { Init::Zeros } else { Init::Ones };
        Ok(Self { weight: Param::from_tensor(loader.tensor(&child(path, "weight"), [d], init)?), eps, unit_offset })
    }

    /// Over the last dimension of `x`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let rms = x.clone().powi_scalar(2).mean_dim(D - 1).add_scalar(self.eps).sqrt();
        let w = self.weight.val().unsqueeze::<D>();
        let scale = if self.unit_offset { w.add_scalar(1.0) } else { w };
        x.div(rms).mul(scale)
    }
}
