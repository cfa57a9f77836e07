//! A linear layer that may carry a LoRA adapter, with PEFT's conventions (`peft/tuners/lora/layer.py`):
//! `y = x W + b + scaling * dropout(x) A^T B^T`, A `[r, in]` kaiming-uniform (a = sqrt(5)), B `[out, r]` zeros,
//! so the adapter starts as an exact no-op.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::module::linear;
use burn::tensor::{Device, Tensor, TensorData};

use super::dropout;
use super::packed::PackedWeight;
use crate::accounting::lora_config::LoraConfig;
use crate::rng::Rng;

/// Configuration of a LoRA adapter (the fields of PEFT's `LoraConfig` that shape one layer's adapter), built
/// with [`init`](LoraLinearConfig::init).
#[derive(Config, Debug, Copy, PartialEq)]
pub struct LoraLinearConfig {
    /// Rank of the update `B A` (PEFT's `r`).
    pub r: usize,
    /// Numerator of the update's scaling (PEFT's `lora_alpha`).
    pub alpha: f64,
    /// Whether the scaling is `alpha / sqrt(r)` (rsLoRA, PEFT's `use_rslora`) rather than `alpha / r`.
    #[config(default = false)]
    pub rslora: bool,
    /// Dropout probability on the input of the LoRA path only (PEFT's `lora_dropout`).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl LoraLinearConfig {
    /// The adapter PEFT's `LoraConfig` describes, with `dropout` (which PEFT keeps in the same config).
    pub fn from_peft(lora: &LoraConfig, dropout: f64) -> Self {
        Self::new(lora.r as usize, lora.lora_alpha).with_rslora(lora.use_rslora).with_dropout(dropout)
    }

    /// `alpha / r`, or `alpha / sqrt(r)` with rsLoRA (Kalajdzievski 2023, which keeps large ranks learning).
    pub fn scaling(&self) -> f64 {
        if self.rslora { self.alpha / (self.r as f64).sqrt() } else { self.alpha / self.r as f64 }
    }

    /// A fresh adapter for a `[d_input, d_output]` layer. A's values come from our seeded generator, not the
    /// backend's, so a seed gives the same adapter on the CPU and on WebGPU.
    pub fn init(&self, d_input: usize, d_output: usize, rng: &mut Rng, device: &Device) -> Lora {
        // PEFT's `kaiming_uniform_(a=sqrt(5))`: gain sqrt(2/(1+5)) times sqrt(3/fan_in) is 1/sqrt(fan_in).
        let bound = 1.0 / (d_input as f64).sqrt();
        let a: Vec<f32> = (0..self.r * d_input).map(|_| rng.uniform(-bound, bound) as f32).collect();
        let a = Tensor::from_data(TensorData::new(a, [self.r, d_input]), device);
        self.init_with(a, Tensor::zeros([d_output, self.r], device))
    }

    /// The adapter with given matrices (a trained adapter): `lora_a` `[r, d_input]`, `lora_b` `[d_output, r]`.
    pub fn init_with(&self, lora_a: Tensor<2>, lora_b: Tensor<2>) -> Lora {
        Lora {
            lora_a: Param::from_tensor(lora_a),
            lora_b: Param::from_tensor(lora_b),
            scaling: self.scaling(),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// One layer's adapter: the low-rank update `scaling * B A` and the dropout on its input.
#[derive(Module, Debug)]
pub struct Lora {
    /// PEFT's `lora_A.weight`: `[r, d_input]`, `U(-k, k)` with `k = 1 / sqrt(d_input)`.
    pub lora_a: Param<Tensor<2>>,
    /// PEFT's `lora_B.weight`: `[d_output, r]`, zeros.
    pub lora_b: Param<Tensor<2>>,
    /// `LoraLinearConfig::scaling`.
    pub scaling: f64,
    /// Applied to the input of the LoRA path only (PEFT's `lora_dropout`).
    pub dropout: Dropout,
}

impl Lora {
    /// What the adapter adds to the layer's output.
    ///
    /// # Shapes
    /// - input `[..., d_input]`, output `[..., d_output]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let h = linear(dropout::apply(&self.dropout, x), self.lora_a.val().transpose(), None);
        linear(h, self.lora_b.val().transpose(), None).mul_scalar(self.scaling)
    }

    /// `scaling * (B A)^T`: the change to the layer's weight, `[d_input, d_output]` (burn's layout).
    pub fn delta_weight(&self) -> Tensor<2> {
        self.lora_a.val().transpose().matmul(self.lora_b.val().transpose()).mul_scalar(self.scaling)
    }
}

/// A linear layer (burn's `Linear` parameters) with an optional LoRA adapter (PEFT's `lora.Linear`), its base
/// weight in float (a parameter) or packed in 4-bit blocks (frozen, QLoRA's base: `packed`).
#[derive(Module, Debug)]
pub struct LoraLinear {
    /// `[d_input, d_output]` (burn's layout, the transpose of torch's `[out, in]`), from the checkpoint, else
    /// `N(0, initializer_range)`; `None` when the base is `packed`.
    pub weight: Option<Param<Tensor<2>>>,
    /// The frozen base in 4-bit blocks, dequantized when the layer runs (not a parameter: nothing trains it).
    #[module(skip)]
    pub packed: Option<PackedWeight>,
    /// `[d_output]`, from the checkpoint, else zeros.
    pub bias: Option<Param<Tensor<1>>>,
    /// The adapter, where LoRA is placed; `merge` folds it into `weight`.
    pub lora: Option<Lora>,
}

impl LoraLinear {
    /// A plain layer: `weight` `[d_input, d_output]` (already transposed from torch's `[out, in]`), `bias`
    /// `[d_output]`.
    pub fn new(weight: Tensor<2>, bias: Option<Tensor<1>>) -> Self {
        Self { weight: Some(Param::from_tensor(weight)), packed: None, bias: bias.map(Param::from_tensor), lora: None }
    }

    /// A layer whose frozen base weight stays packed (QLoRA).
    pub fn packed(weight: PackedWeight, bias: Option<Tensor<1>>) -> Self {
        Self { weight: None, packed: Some(weight), bias: bias.map(Param::from_tensor), lora: None }
    }

    /// The layer with `lora` on it.
    pub fn with_lora(self, lora: Lora) -> Self {
        Self { lora: Some(lora), ..self }
    }

    pub fn in_features(&self) -> usize {
        match (&self.weight, &self.packed) {
            (Some(w), _) => w.shape().dims::<2>()[0],
            (None, Some(p)) => p.d_input(),
            (None, None) => 0,
        }
    }

    pub fn out_features(&self) -> usize {
        match (&self.weight, &self.packed) {
            (Some(w), _) => w.shape().dims::<2>()[1],
            (None, Some(p)) => p.d_output(),
            (None, None) => 0,
        }
    }

    pub fn has_lora(&self) -> bool {
        self.lora.is_some()
    }

    /// # Shapes
    /// - input `[..., d_input]`, output `[..., d_output]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let bias = self.bias.as_ref().map(|b| b.val());
        let base = match (&self.weight, &self.packed) {
            (Some(w), _) => linear(x.clone(), w.val(), bias),
            (None, Some(p)) => p.linear(x.clone(), bias),
            (None, None) => unreachable!("a layer has a float or a packed weight"),
        };
        match &self.lora {
            Some(lora) => base + lora.forward(x),
            None => base,
        }
    }

    /// The adapter folded into the weight (PEFT's `merge_and_unload`): the same outputs at the base layer's
    /// cost, and no LoRA path left. Keep `self` (a clone shares its tensors) to have the adapter still.
    /// A packed base is dequantized and merged in float (PEFT re-quantizes; `bnb` merge does that step).
    pub fn merge(self) -> Self {
        match self.lora {
            Some(lora) => {
                let delta = lora.delta_weight();
                let weight = match (self.weight, self.packed) {
                    (Some(w), _) => w.map(|w| w + delta),
                    (None, Some(p)) => Param::from_tensor(p.burn_layout(&delta.device()) + delta),
                    (None, None) => unreachable!("a layer has a float or a packed weight"),
                };
                Self { weight: Some(weight), packed: None, bias: self.bias, lora: None }
            }
            None => self,
        }
    }
}
