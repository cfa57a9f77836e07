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
mod matvec;
mod reduce;
pub mod saved;

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
        dequantize_blockwise(&self.absmax, &self.nested_absmax, NESTED_BLOCKSIZE)
            .iter()
            .map(|a| a + self.offset)
            .collect()
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

    /// `dequantize` of a `[rows, cols]` weight written as its transpose `[cols, rows]`, in one pass (the layout
    /// burn's `x W` multiplies by, without a second copy).
    pub fn dequantize_transposed(&self) -> Vec<f32> {
        let (rows, cols) = (self.shape[0], self.shape.get(1).copied().unwrap_or(1));
        let scales = self.block_scales();
        let mut out = vec![0f32; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                let byte = self.packed[i / 2];
                let code = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
                out[c * rows + r] = NF4[code as usize] * scales[i / BLOCKSIZE];
            }
        }
        out
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

/// `quantize_blockwise(A, code=dynamic, blocksize)` as bitsandbytes 0.50's C++ CPU kernel computes it
/// (`csrc/cpu_ops.cpp`, `quantize_cpu_impl`): each block multiplied by the reciprocal of its absmax, the result
/// mapped to one of 65,536 evenly spaced bins of [-1, 1] and the bin to the code nearest its centre through a
/// look-up table. That is not always the code nearest the value itself (a value within half a bin of a midpoint
/// may go either way), and a block of zeros gets code 0: both are what bitsandbytes stores.
pub fn quantize_blockwise(values: &[f32], blocksize: usize) -> (Vec<u8>, Vec<f32>) {
    let lut = lut();
    let mut out = Vec::with_capacity(values.len());
    let mut absmax = Vec::with_capacity(values.len().div_ceil(blocksize));
    for block in values.chunks(blocksize) {
        let scale = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        absmax.push(scale);
        if scale == 0.0 {
            out.extend(std::iter::repeat_n(0u8, block.len()));
            continue;
        }
        let inverse = 1.0 / scale;
        out.extend(block.iter().map(|&v| lut[lut_index(v * inverse)]));
    }
    (out, absmax)
}

const LUT_SIZE: usize = 65536;

/// `norm_to_lut_index`: `(v + 1) * 0.5 * 65535 + 0.5`, truncated; the kernel is built with FMA, and the last
/// multiply-add is fused.
fn lut_index(value: f32) -> usize {
    let v = value.clamp(-1.0, 1.0);
    ((v + 1.0) * 0.5).mul_add((LUT_SIZE - 1) as f32, 0.5) as u16 as usize
}

/// `build_quantize_lut` for the dynamic map: bin `i`'s centre `-1 + 2i / 65535`, and the first code whose upper
/// midpoint is not below it. Built once.
fn lut() -> &'static [u8; LUT_SIZE] {
    static LUT: std::sync::OnceLock<Box<[u8; LUT_SIZE]>> = std::sync::OnceLock::new();
    LUT.get_or_init(|| {
        let code = dynamic_map();
        let midpoints: Vec<f32> = code.windows(2).map(|p| 0.5 * (p[0] + p[1])).collect();
        let mut lut = Box::new([0u8; LUT_SIZE]);
        let mut c = 0;
        for (i, slot) in lut.iter_mut().enumerate() {
            let centre = -1.0f32 + (2.0 * i as f32) / (LUT_SIZE - 1) as f32;
            while c < midpoints.len() && midpoints[c] < centre {
                c += 1;
            }
            *slot = c as u8;
        }
        lut
    })
}

/// `dequantize_blockwise` with the dynamic map.
pub fn dequantize_blockwise(codes: &[u8], absmax: &[f32], blocksize: usize) -> Vec<f32> {
    let code = dynamic_map();
    codes.iter().enumerate().map(|(i, &c)| code[c as usize] * absmax[i / blocksize]).collect()
}
