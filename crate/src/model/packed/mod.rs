//! A frozen base weight kept in its 4-bit blocks (QLoRA, issue 26), dequantized each time its layer runs and
//! dropped after. Training goes through [`autodiff::matmul`], whose backward step dequantizes the weight again
//! instead of keeping the float copy from the forward pass (bitsandbytes' `MatMul4Bit` does the same): between
//! uses, and in the graph of a step, the base costs what the calculator's 4-bit row says.
//!
//! The blocks live in host memory (`Arc`, shared by clones of the model): that is the CPU backend's memory, so the
//! CPU path keeps the base packed; on WebGPU each use uploads the dequantized layer and frees it after.

mod autodiff;
pub mod ggml;
pub mod half;
pub mod rows;
mod weight;

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};

pub use weight::PackedWeight;

/// How a frozen base holds its linear layers: the page's *Base weights* and the CLI's `--base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Base {
    /// float32, as the file's weights widen to.
    #[default]
    Float32,
    /// float16: every stored weight rounded to float16 (to nearest, as `torch_dtype=torch.float16` loads it); the
    /// blocks' linear layers, the token table and the output head held in float16, widened a row or a layer at a
    /// time when used, so the arithmetic stays float32 (the norms' few values are kept widened).
    Float16,
    /// NF4 with double-quantized scales, as transformers' `BitsAndBytesConfig(load_in_4bit=True,
    /// bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True)` quantizes a model: every linear layer but the
    /// output head (transformers' `get_keys_to_not_convert`); embeddings and norms stay float32. A classifier's task
    /// layers outside its backbone (`classifier`, `pre_classifier`, ModernBERT's `head`) stay float32 too: they train.
    Nf4,
    /// As the file stores it: a GGUF file's quantized tensors in their own blocks (Q4_0, Q4_1, Q4_K, Q5_K, Q6_K,
    /// Q8_0, ...), the token embedding table and the output head too, as llama.cpp holds them; its float tensors
    /// (norms) and a folder's float weights in float32; a folder saved in 4 bits in NF4.
    AsStored,
}

impl Base {
    /// `float32`, `float16`, `nf4` or `as-stored`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "float32" | "fp32" => Ok(Self::Float32),
            "float16" | "fp16" => Ok(Self::Float16),
            "nf4" => Ok(Self::Nf4),
            "as-stored" => Ok(Self::AsStored),
            other => Err(format!("--base {other}: expected float32, float16, nf4 or as-stored")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Float16 => "float16",
            Self::Nf4 => "nf4",
            Self::AsStored => "as-stored",
        }
    }

    /// Whether the base is frozen in blocks (full fine-tuning cannot train it).
    pub fn is_packed(self) -> bool {
        self != Self::Float32
    }
}

/// At most this many rows outside a graph (a generation step: one row a sequence) are multiplied straight from the
/// codes on the CPU backend (`Nf4Tensor::matmul_rows`), not by a dequantized copy of the weight.
const FEW_ROWS: usize = 8;

/// Weights widened at once outside a graph, at most: 64 MiB of float32 (`sliced`).
const SLICE_WEIGHTS: usize = 16 << 20;

impl PackedWeight {
    /// `x W^T` (+ bias) for `x` `[..., d_input]`, the weight dequantized for this call only.
    pub fn linear<const D: usize>(&self, x: Tensor<D>, bias: Option<Tensor<1>>) -> Tensor<D> {
        let dims = x.dims();
        let rows: usize = dims[..D - 1].iter().product();
        let x = x.reshape([rows, self.d_input()]);
        let y = match self.from_codes(&x, rows) {
            Some(y) => y,
            None if !x.is_tracked() && self.numel() > SLICE_WEIGHTS => self.sliced(x),
            None => autodiff::matmul(x, self),
        };
        let mut out_dims = dims;
        out_dims[D - 1] = self.d_output();
        let y = y.reshape(out_dims);
        match bias {
            Some(b) => y + b.unsqueeze(),
            None => y,
        }
    }

    /// `x W^T` a slice of output rows at a time, outside a graph: a head kept in blocks (Gemma 3's 262,144 x 640 table)
    /// answering many rows at once, or one row on WebGPU, never widens to one float copy (671 MB).
    fn sliced(&self, x: Tensor<2>) -> Tensor<2> {
        let (device, step) = (x.device(), (SLICE_WEIGHTS / self.d_input().max(1)).max(1));
        let parts: Vec<Tensor<2>> = (0..self.d_output())
            .step_by(step)
            .map(|s| x.clone().matmul(self.burn_layout_rows(s..(s + step).min(self.d_output()), &device)))
            .collect();
        Tensor::cat(parts, 1)
    }

    /// `x W^T` from the codes, when `x` is a few rows on the CPU backend and outside a graph; else None.
    fn from_codes(&self, x: &Tensor<2>, rows: usize) -> Option<Tensor<2>> {
        if rows > FEW_ROWS || x.is_tracked() {
            return None;
        }
        // The CPU backend's own tensor, read in place (a host read: no future to wait on, in wasm either).
        let host = x.clone().inner().try_into_primitive::<Flex>().ok()?;
        let values = host.into_data().convert::<f32>().try_into_vec::<f32>().ok()?;
        let y = self.matmul_rows(&values, rows);
        Some(Tensor::from_data(TensorData::new(y, [rows, self.d_output()]), &x.device()))
    }
}
