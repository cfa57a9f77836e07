//! NF4 as bitsandbytes makes it (QLoRA's 4-bit base, issue 26): `quantize_4bit(blocksize=64, quant_type="nf4",
//! compress_statistics=True)` and `dequantize_4bit`, value for value and byte for byte what bitsandbytes 0.50
//! computes on the CPU (`tests/reference/nf4_fixtures.py`). Why by hand: bitsandbytes is a Python/C++/CUDA
//! library; there is no Rust crate with its NF4 and its double quantization, and the page needs it in wasm.
//!
//! The format: a weight flattened in torch's row-major order, cut into blocks of 64; each block's largest
//! magnitude (its `absmax`) divides it, and each value becomes the nearest of NF4's 16 values, two 4-bit codes a
//! byte (the first in the high nibble). Double quantization stores the float32 block scales themselves in 8 bits:
//! their mean is subtracted (`offset`), and what is left is quantized in blocks of 256 with the signed dynamic map,
//! each nested block keeping its own float32 `nested_absmax`. So a weight costs 4 bits, plus 8 bits a 64 values,
//! plus 32 bits a 16,384 values: 4.127 bits a parameter.

pub mod codes;
mod reduce;
// pub mod saved;

use codes::{NF4, dynamic_map, nf4_bounds};

/// NF4's code of 0.0.
const ZERO_CODE: u8 = 7;

/// NF4's block size (bitsandbytes' and transformers' default, `bnb_4bit_blocksize` 64).
pub const BLOCKSIZE: usize = 64;
/// The block size of the nested (double) quantization of the block scales.
pub const NESTED_BLOCKSIZE: usize = 256;

/// One weight in NF4 with double-quantized scales (bitsandbytes' packed weight and its `QuantState`).
#[derive(Debug, Clone, PartialEq)]
pub struct Nf4Tensor {
    /// torch's shape of the weight (`[out, in]` for a linear layer).
    pub shape: Vec<usize>,
    /// Two codes a byte, the first in the high nibble; `ceil(n / 2)` bytes.
    pub packed: Vec<u8>,
    /// Each 64-block's scale, minus `offset`, as an 8-bit code of the dynamic map.
    pub absmax: Vec<u8>,
    /// Each 256-block of `absmax` codes' own float32 scale.
    pub nested_absmax: Vec<f32>,
    /// The mean of the float32 block scales, added back after the nested dequantization.
    pub offset: f32,
}

impl Nf4Tensor {
    /// `bitsandbytes.functional.quantize_4bit(A, blocksize=64, compress_statistics=True, quant_type="nf4")` of a
    /// float32 tensor in torch's row-major order.
    pub fn quantize(values: &[f32], shape: &[usize]) -> Self {
        debug_assert_eq!(values.len(), shape.iter().product::<usize>());
        let (codes, scales) = quantize_nf4(values);
        // An odd count is padded with a 0.0 (NF4's code 7), as bitsandbytes pads the scaled values.
        let packed = codes.chunks(2).map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(ZERO_CODE)).collect();
        let offset = mean(&scales);
        let centred: Vec<f32> = scales.iter().map(|s| s - offset).collect();
        let (absmax, nested_absmax) = quantize_blockwise(&centred, NESTED_BLOCKSIZE);
        Self { shape: shape.to_vec(), packed, absmax, nested_absmax, offset }
    }

    /// Number of values.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The float32 block scales as `dequantize_4bit` widens them: `dequantize_blockwise(absmax) + offset`.
    pub fn block_scales(&self) -> Vec<f32> {
        dequantize_blockwise(&self.absmax, &self.nested_absmax, NESTED_BLOCKSIZE).iter().map(|a| a + self.offset).collect()
    }

    /// `dequantize_4bit`: each code's NF4 value times its block's scale, in float32.
    pub fn dequantize(&self) -> Vec<f32> {
        let scales = self.block_scales();
        (0..self.numel())
            .map(|i| {
                let byte = self.packed[i / 2];
                let code = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
                NF4[code as usize] * scales[i / BLOCKSIZE]
            })
            .collect()
    }

    /// Bytes held: the packed codes, the 8-bit scales, the nested scales and the offset.
    pub fn nbytes(&self) -> usize {
        self.packed.len() + self.absmax.len() + 4 * self.nested_absmax.len() + 4
    }
}

/// The 4-bit codes and float32 block scales (bitsandbytes' `quantize_4bit` CPU kernel, `backends/default/ops.py`):
/// a full block is scaled by the reciprocal of its absmax, the ragged last one divided by it, both clamped to
/// [-1, 1]; the code is the number of NF4 midpoints strictly below the value.
fn quantize_nf4(values: &[f32]) -> (Vec<u8>, Vec<f32>) {
    let bounds = nf4_bounds();
    let mut codes = Vec::with_capacity(values.len());
    let mut scales = Vec::with_capacity(values.len().div_ceil(BLOCKSIZE));
    for block in values.chunks(BLOCKSIZE) {
        let absmax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let safe = absmax.max(1e-38);
        let inverse = 1.0 / safe;
        for &v in block {
            let scaled = if block.len() == BLOCKSIZE { v * inverse } else { v / safe }.clamp(-1.0, 1.0);
            codes.push(bounds.iter().take_while(|&&b| b < scaled).count() as u8);
        }
        scales.push(absmax);
    }
    (codes, scales)
}

/// torch's float32 `mean()` on the CPU: its float32 sum, divided by the count in float32.
fn mean(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    reduce::torch_sum(values) / values.len() as f32
}

/// `quantize_blockwise(A, code=dynamic, blocksize)` as bitsandbytes' C++ CPU kernel computes it
/// (`csrc/common.cpp`, `quantize_block`): each block divided by its absmax, then the nearest value of the dynamic
/// map, searched with the map's first value taken as -1 and ties going to the lower code.
pub fn quantize_blockwise(values: &[f32], blocksize: usize) -> (Vec<u8>, Vec<f32>) {
    let mut code = dynamic_map();
    code[0] = -1.0;
    let mut out = Vec::with_capacity(values.len());
    let mut absmax = Vec::with_capacity(values.len().div_ceil(blocksize));
    for block in values.chunks(blocksize) {
        let scale = block.iter().fold(f32::MIN, |m, v| m.max(v.abs()));
        absmax.push(scale);
        for &v in block {
            out.push(nearest(&code, v / scale));
        }
    }
    (out, absmax)
}

/// The code whose value is nearest to `x`: the largest value at or below it, or the next if strictly nearer.
/// A block of zeros divides 0 by 0; bitsandbytes' search then lands on its first code, and so does this.
fn nearest(code: &[f32; 256], x: f32) -> u8 {
    if x.is_nan() {
        return 0;
    }
    let left = code.partition_point(|&c| c <= x).saturating_sub(1);
    if left < 255 && (x - code[left + 1]).abs() < (x - code[left]).abs() { (left + 1) as u8 } else { left as u8 }
}

/// `dequantize_blockwise` with the dynamic map (the stored map, whose first value is -0.993, not -1).
pub fn dequantize_blockwise(codes: &[u8], absmax: &[f32], blocksize: usize) -> Vec<f32> {
    let code = dynamic_map();
    codes.iter().enumerate().map(|(i, &c)| code[c as usize] * absmax[i / blocksize]).collect()
}
