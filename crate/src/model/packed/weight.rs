//! The packed weight of one frozen layer: NF4 blocks in host memory (QLoRA's base), a GGUF file's own blocks (the
//! *as stored* base) or float16 values (the *float16* base), shared by clones of the model, widened into the layout
//! a use needs.

use std::ops::Range;
use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};

use super::ggml::GgmlWeight;
use super::half::HalfWeight;
use super::rows::RowSource;
use crate::bnb::Nf4Tensor;

#[derive(Debug)]
enum Blocks {
    Nf4(Nf4Tensor),
    Ggml(GgmlWeight),
    Half(HalfWeight),
}

impl Blocks {
    /// The weight read a row at a time, when it is (NF4's blocks are dequantized whole).
    fn rows(&self) -> Option<&dyn RowSource> {
        match self {
            Blocks::Nf4(_) => None,
            Blocks::Ggml(g) => Some(g),
            Blocks::Half(h) => Some(h),
        }
    }
}

/// The packed weight of one layer (torch's `[out, in]`), cheap to clone.
#[derive(Clone, Debug)]
pub struct PackedWeight(Arc<Blocks>);

impl PackedWeight {
    /// NF4 blocks of a `[d_output, d_input]` weight (torch's layout, as bitsandbytes quantizes it).
    pub fn nf4(weight: Nf4Tensor) -> Self {
        debug_assert_eq!(weight.shape.len(), 2);
        Self(Arc::new(Blocks::Nf4(weight)))
    }

    /// A GGUF file's blocks, as stored.
    pub fn ggml(weight: GgmlWeight) -> Self {
        Self(Arc::new(Blocks::Ggml(weight)))
    }

    /// float16 values.
    pub fn half(weight: HalfWeight) -> Self {
        Self(Arc::new(Blocks::Half(weight)))
    }

    /// The quantized weight as bitsandbytes holds it, when it is NF4.
    pub fn nf4_tensor(&self) -> Option<&Nf4Tensor> {
        match &*self.0 {
            Blocks::Nf4(q) => Some(q),
            _ => None,
        }
    }

    /// `NF4`, or the ggml type (`Q4_K`).
    pub fn format(&self) -> &'static str {
        match &*self.0 {
            Blocks::Nf4(_) => "NF4",
            Blocks::Ggml(g) => g.kind().name(),
            Blocks::Half(_) => "F16",
        }
    }

    /// Number of weights.
    pub fn numel(&self) -> usize {
        self.d_input() * self.d_output()
    }

    pub fn d_input(&self) -> usize {
        match &*self.0 {
            Blocks::Nf4(q) => q.shape[1],
            Blocks::Ggml(g) => g.d_input(),
            Blocks::Half(h) => h.d_input(),
        }
    }

    pub fn d_output(&self) -> usize {
        match &*self.0 {
            Blocks::Nf4(q) => q.shape[0],
            Blocks::Ggml(g) => g.d_output(),
            Blocks::Half(h) => h.d_output(),
        }
    }

    /// Bytes the packed weight holds (codes and scales).
    pub fn nbytes(&self) -> usize {
        match &*self.0 {
            Blocks::Nf4(q) => q.nbytes(),
            Blocks::Ggml(g) => g.nbytes(),
            Blocks::Half(h) => h.nbytes(),
        }
    }

    /// The dequantized weight in torch's layout `[d_output, d_input]`.
    pub fn dequantize(&self) -> Vec<f32> {
        self.rows(0..self.d_output())
    }

    /// Rows `rows` of the dequantized weight, torch's layout `[rows.len(), d_input]`.
    pub fn rows(&self, rows: Range<usize>) -> Vec<f32> {
        match (&*self.0, self.0.rows()) {
            (_, Some(r)) => r.rows(rows),
            (Blocks::Nf4(q), _) if rows == (0..q.shape[0]) => q.dequantize(),
            (Blocks::Nf4(q), _) => q.dequantize()[rows.start * q.shape[1]..rows.end * q.shape[1]].to_vec(),
            _ => unreachable!("every other kind is read by rows"),
        }
    }

    /// The rows `ids` name (an embedding lookup), `[ids.len(), d_input]`.
    pub fn gather(&self, ids: &[usize]) -> Vec<f32> {
        match (&*self.0, self.0.rows()) {
            (_, Some(r)) => r.gather(ids),
            (Blocks::Nf4(q), _) => {
                let (w, d) = (q.dequantize(), q.shape[1]);
                ids.iter().flat_map(|&r| w.get(r * d..(r + 1) * d).unwrap_or(&vec![0.0; d]).to_vec()).collect()
            }
            _ => unreachable!("every other kind is read by rows"),
        }
    }

    /// `x W^T` for a few rows `x` `[rows, d_input]`, read from the blocks: `[rows, d_output]`.
    pub fn matmul_rows(&self, x: &[f32], rows: usize) -> Vec<f32> {
        match (&*self.0, self.0.rows()) {
            (_, Some(r)) => r.matmul_rows(x, rows),
            (Blocks::Nf4(q), _) => q.matmul_rows(x, rows),
            _ => unreachable!("every other kind is read by rows"),
        }
    }

    /// The dequantized weight in burn's layout `[d_input, d_output]` (what `x W` multiplies by), transposed on the
    /// host: the CPU backend multiplies a contiguous right-hand side several times faster than a strided one.
    pub fn burn_layout(&self, device: &Device) -> Tensor<2> {
        self.burn_layout_rows(0..self.d_output(), device)
    }

    /// `burn_layout` of the output rows `rows` alone, `[d_input, rows.len()]`.
    pub fn burn_layout_rows(&self, rows: Range<usize>, device: &Device) -> Tensor<2> {
        let (d_in, n) = (self.d_input(), rows.len());
        let values = match (&*self.0, self.0.rows()) {
            (_, Some(r)) => r.rows_transposed(rows),
            (Blocks::Nf4(q), _) if rows == (0..q.shape[0]) => q.dequantize_transposed(),
            _ => {
                let w = self.rows(rows);
                let mut t = vec![0f32; w.len()];
                for (j, row) in w.chunks_exact(d_in).enumerate() {
                    row.iter().enumerate().for_each(|(i, v)| t[i * n + j] = *v);
                }
                t
            }
        };
        Tensor::from_data(TensorData::new(values, [d_in, n]), device)
    }

    /// The dequantized weight in torch's layout, `[d_output, d_input]`: the backward step's `grad W^T`.
    pub fn torch_layout(&self, device: &Device) -> Tensor<2> {
        self.torch_layout_rows(0..self.d_output(), device)
    }

    /// `torch_layout` of the output rows `rows` alone, `[rows.len(), d_input]`.
    pub fn torch_layout_rows(&self, rows: Range<usize>, device: &Device) -> Tensor<2> {
        let n = rows.len();
        Tensor::from_data(TensorData::new(self.rows(rows), [n, self.d_input()]), device)
    }
}
