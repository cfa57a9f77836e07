//! `x W^T` read straight from the NF4 codes, for the few rows of a generation step. Multiplying by the dequantized
//! weight writes a float32 copy of every layer for every new token (8 bytes a weight written and read again, for a
//! product of 2 flops a weight); reading the codes (half a byte a weight) and the block scales instead is what
//! bitsandbytes' own inference kernel (`gemv_4bit`) does. Why by hand: the kernel is this format's, not a linear
//! algebra library's.

use super::codes::NF4;
use super::{BLOCKSIZE, Nf4Tensor};

/// Each byte's two NF4 values, the high nibble's first (the first of the pair of weights it holds).
fn pairs() -> [[f32; 2]; 256] {
    std::array::from_fn(|b| [NF4[b >> 4], NF4[b & 0x0f]])
}

impl Nf4Tensor {
    /// `x W^T` for `x` `[rows, d_in]` (row-major) and this weight `[d_out, d_in]`: `[rows, d_out]`, in float32.
    pub fn matmul_rows(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let (d_out, d_in) = (self.shape[0], self.shape.get(1).copied().unwrap_or(1));
        debug_assert_eq!(x.len(), rows * d_in);
        let scales = self.block_scales();
        let mut y = vec![0f32; rows * d_out];
        if d_in % BLOCKSIZE != 0 {
            // Blocks that straddle rows (no linear layer of the models here): through the dequantized weight.
            let w = self.dequantize();
            for r in 0..rows {
                for j in 0..d_out {
                    y[r * d_out + j] = x[r * d_in..(r + 1) * d_in].iter().zip(&w[j * d_in..]).map(|(a, b)| a * b).sum();
                }
            }
            return y;
        }
        let table = pairs();
        let (row_bytes, row_blocks) = (d_in / 2, d_in / BLOCKSIZE);
        for j in 0..d_out {
            let codes = &self.packed[j * row_bytes..(j + 1) * row_bytes];
            let scale = &scales[j * row_blocks..(j + 1) * row_blocks];
            for r in 0..rows {
                let xr = &x[r * d_in..(r + 1) * d_in];
                let mut acc = 0f32;
                for ((block, xb), s) in codes.chunks_exact(BLOCKSIZE / 2).zip(xr.chunks_exact(BLOCKSIZE)).zip(scale) {
                    // Four partial sums, so consecutive bytes do not wait on one another.
                    let mut p = [0f32; 4];
                    for (c4, x8) in block.chunks_exact(4).zip(xb.chunks_exact(8)) {
                        for k in 0..4 {
                            let [a, b] = table[c4[k] as usize];
                            p[k] += x8[2 * k] * a + x8[2 * k + 1] * b;
                        }
                    }
                    acc += (p[0] + p[1] + p[2] + p[3]) * s;
                }
                y[r * d_out + j] = acc;
            }
        }
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product from the codes equals the product with the dequantized weight, row-aligned blocks or not.
    #[test]
    fn equals_the_dequantized_product() {
        for (d_out, d_in, rows) in [(5, 128, 1), (3, 192, 3), (4, 40, 2)] {
            let w: Vec<f32> = (0..d_out * d_in).map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0).collect();
            let q = Nf4Tensor::quantize(&w, &[d_out, d_in]);
            let x: Vec<f32> = (0..rows * d_in).map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0).collect();
            let deq = q.dequantize();
            let got = q.matmul_rows(&x, rows);
            for r in 0..rows {
                for j in 0..d_out {
                    let want: f32 = (0..d_in).map(|i| x[r * d_in + i] * deq[j * d_in + i]).sum();
                    let g = got[r * d_out + j];
                    assert!((g - want).abs() <= 1e-5 * want.abs().max(1.0), "{d_out}x{d_in} [{r},{j}]: {g} vs {want}");
                }
            }
        }
    }
}
