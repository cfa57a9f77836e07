//! A frozen base weight kept in its 4-bit blocks (QLoRA, issue 26), dequantized each time its layer runs and
//! dropped after. Training goes through [`autodiff::matmul`], whose backward step dequantizes the weight again
//! instead of keeping the float copy from the forward pass (bitsandbytes' `MatMul4Bit` does the same): between
//! uses, and in the graph of a step, the base costs what the calculator's 4-bit row says.
//!
//! The blocks live in host memory (`Arc`, shared by clones of the model): that is the CPU backend's memory, so the
//! CPU path keeps the base packed; on WebGPU each use uploads the dequantized layer and frees it after.

mod autodiff;

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};

use crate::bnb::Nf4Tensor;

/// How a frozen base holds its linear layers: the page's *Base weights* and the CLI's `--base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Base {
    /// float32, as the file's weights widen to.
    #[default]
    Float32,
    /// NF4 with double-quantized scales, as transformers' `BitsAndBytesConfig(load_in_4bit=True,
    /// bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True)` quantizes a model: every linear layer but the
    /// output head (transformers' `get_keys_to_not_convert`); embeddings and norms stay float32.
    Nf4,
}

impl Base {
    /// `float32` or `nf4`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "float32" | "fp32" => Ok(Self::Float32),
            "nf4" => Ok(Self::Nf4),
            other => Err(format!("--base {other}: expected float32 or nf4")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Nf4 => "nf4",
        }
    }
}

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

    /// `x W^T` (+ bias) for `x` `[..., d_input]`, the weight dequantized for this call only.
    pub fn linear<const D: usize>(&self, x: Tensor<D>, bias: Option<Tensor<1>>) -> Tensor<D> {
        let dims = x.dims();
        let rows: usize = dims[..D - 1].iter().product();
        let y = autodiff::matmul(x.reshape([rows, self.d_input()]), self);
        let mut out_dims = dims;
        out_dims[D - 1] = self.d_output();
        let y = y.reshape(out_dims);
        match bias {
            Some(b) => y + b.unsqueeze(),
            None => y,
        }
    }
}
