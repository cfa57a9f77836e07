//! The packed weight of one linear layer: NF4 blocks in host memory, shared by clones of the model, dequantized
//! into the layout a use needs.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};

use crate::bnb::Nf4Tensor;

/// The packed weight of one linear layer (torch's `[out, in]`), cheap to clone.
#[derive(Clone, Debug)]
pub struct PackedWeight(Arc<Nf4Tensor>);

impl PackedWeight {
    /// NF4 blocks of a `[d_output, d_input]` weight (torch's layout, as bitsandbytes quantizes it).
    pub fn nf4(weight: Nf4Tensor) -> Self {
        debug_assert_eq!(weight.shape.len(), 2);
        Self(Arc::new(weight))
    }

    /// The quantized weight as bitsandbytes holds it.
    pub fn nf4_tensor(&self) -> &Nf4Tensor {
        &self.0
    }

    /// Number of weights.
    pub fn numel(&self) -> usize {
        self.0.numel()
    }

    pub fn d_input(&self) -> usize {
        self.0.shape[1]
    }

    pub fn d_output(&self) -> usize {
        self.0.shape[0]
    }

    /// Bytes the packed weight holds (codes and scales).
    pub fn nbytes(&self) -> usize {
        self.0.nbytes()
    }

    /// The dequantized weight in torch's layout `[d_output, d_input]`.
    pub fn dequantize(&self) -> Vec<f32> {
        self.0.dequantize()
    }

    /// The dequantized weight in burn's layout `[d_input, d_output]` (what `x W` multiplies by), transposed on the
    /// host: the CPU backend multiplies a contiguous right-hand side several times faster than a strided one.
    pub fn burn_layout(&self, device: &Device) -> Tensor<2> {
        let (d_in, d_out) = (self.d_input(), self.d_output());
        Tensor::from_data(TensorData::new(self.0.dequantize_transposed(), [d_in, d_out]), device)
    }

    /// The dequantized weight in torch's layout, `[d_output, d_input]`: the backward step's `grad W^T`.
    pub fn torch_layout(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(self.dequantize(), [self.d_output(), self.d_input()]), device)
    }
}
