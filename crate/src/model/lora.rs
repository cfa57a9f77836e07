//! A linear layer that may carry a LoRA adapter, with PEFT's conventions (`peft/tuners/lora/layer.py`):
//! `y = x W + b + scaling * dropout(x) A^T B^T`, A `[r, in]` kaiming-uniform (a = sqrt(5)), B `[out, r]` zeros,
//! so the adapter starts as an exact no-op.

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::module::linear;
use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::Rng;

/// What a LoRA adapter is made of (PEFT's `LoraConfig` fields that shape the layer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoraShape {
    pub r: usize,
    pub lora_alpha: f64,
    pub use_rslora: bool,
    pub lora_dropout: f64,
}

impl LoraShape {
    /// `lora_alpha / r`, or `lora_alpha / sqrt(r)` with rsLoRA (Kalajdzievski 2023).
    pub fn scaling(&self) -> f64 {
        if self.use_rslora { self.lora_alpha / (self.r as f64).sqrt() } else { self.lora_alpha / self.r as f64 }
    }
}

#[derive(Module, Debug)]
pub struct LoraLinear {
    /// `[in, out]`: burn's layout, the transpose of the `[out, in]` torch stores.
    pub weight: Param<Tensor<2>>,
    /// `[out]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// PEFT's `lora_A.weight`: `[r, in]`.
    pub lora_a: Option<Param<Tensor<2>>>,
    /// PEFT's `lora_B.weight`: `[out, r]`.
    pub lora_b: Option<Param<Tensor<2>>>,
    pub scaling: f64,
    /// Dropout applied to the input of the LoRA path only (`lora_dropout`).
    pub lora_dropout: Dropout,
    /// Whether `B A` has been folded into `weight` (then the LoRA path is skipped).
    pub merged: bool,
}

impl LoraLinear {
    /// A plain linear layer from a torch-layout weight `[out, in]` given as `[in, out]` already transposed.
    pub fn new(weight: Tensor<2>, bias: Option<Tensor<1>>) -> Self {
        Self {
            weight: Param::from_tensor(weight),
            bias: bias.map(Param::from_tensor),
            lora_a: None,
            lora_b: None,
            scaling: 1.0,
            lora_dropout: DropoutConfig::new(0.0).init(),
            merged: false,
        }
    }

    pub fn in_features(&self) -> usize {
        self.weight.shape().dims::<2>()[0]
    }

    pub fn out_features(&self) -> usize {
        self.weight.shape().dims::<2>()[1]
    }

    /// Adds a fresh adapter. A is drawn from U(-1/sqrt(in), 1/sqrt(in)), which is what
    /// `kaiming_uniform_(a=sqrt(5))` gives: gain sqrt(2/(1+5)) times sqrt(3/fan_in). Drawn from our seeded
    /// generator, not the backend's, so a seed gives the same adapter on the CPU and on WebGPU.
    pub fn with_lora(mut self, shape: LoraShape, rng: &mut Rng, device: &Device) -> Self {
        let (d_in, d_out) = (self.in_features(), self.out_features());
        let bound = 1.0 / (d_in as f64).sqrt();
        let a: Vec<f32> = (0..shape.r * d_in).map(|_| rng.uniform(-bound, bound) as f32).collect();
        self.lora_a = Some(Param::from_tensor(Tensor::from_data(TensorData::new(a, [shape.r, d_in]), device)));
        self.lora_b = Some(Param::from_tensor(Tensor::zeros([d_out, shape.r], device)));
        self.scaling = shape.scaling();
        self.lora_dropout = DropoutConfig::new(shape.lora_dropout).init();
        self
    }

    pub fn has_lora(&self) -> bool {
        self.lora_a.is_some()
    }

    /// # Shapes
    /// - input `[..., in]`, output `[..., out]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let base = linear(x.clone(), self.weight.val(), self.bias.as_ref().map(|b| b.val()));
        match (&self.lora_a, &self.lora_b) {
            (Some(a), Some(b)) if !self.merged => {
                // [..., in] x [in, r] -> [..., r] x [r, out] -> [..., out]
                let h = linear(self.lora_dropout.forward(x), a.val().transpose(), None);
                base + linear(h, b.val().transpose(), None).mul_scalar(self.scaling)
            }
            _ => base,
        }
    }

    /// `scaling * (B A)^T`, the change LoRA makes to `weight` (in burn's `[in, out]` layout).
    pub fn delta_weight(&self) -> Option<Tensor<2>> {
        let (a, b) = (self.lora_a.as_ref()?, self.lora_b.as_ref()?);
        Some(a.val().transpose().matmul(b.val().transpose()).mul_scalar(self.scaling))
    }

    /// Folds the adapter into the weight, as PEFT's `merge()`: inference then costs what the base layer costs.
    pub fn merge(mut self) -> Self {
        if let (false, Some(delta)) = (self.merged, self.delta_weight()) {
            self.weight = self.weight.map(|w| w + delta);
            self.merged = true;
        }
        self
    }

    /// Takes the adapter back out of the weight (PEFT's `unmerge()`).
    pub fn unmerge(mut self) -> Self {
        if let (true, Some(delta)) = (self.merged, self.delta_weight()) {
            self.weight = self.weight.map(|w| w - delta);
            self.merged = false;
        }
        self
    }
}
