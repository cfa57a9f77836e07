//! A frozen weight kept in the GGUF file's own blocks (the *as stored* base): no copy of its own, only where its rows
//! are in the file's bytes, which the model's files already hold (the page keeps the download to build the trainer;
//! the CLI reads the file once). Rows are dequantized when they are used, with gguf-py's arithmetic
//! (`gguf::quant`), so every value is the one the widened model holds.
//!
//! ggml blocks run along a row (`ne0`, torch's last dimension), so a row is a whole number of blocks and any set of
//! rows can be read alone: an embedding lookup reads only its tokens' rows, and the output head reads the vocabulary
//! a slice at a time.

use std::ops::Range;
use std::sync::Arc;

use super::rows::RowSource;
use crate::gguf::quant::{self, GgmlType};

/// One `[d_output, d_input]` weight (torch's layout) in ggml blocks.
#[derive(Clone, Debug)]
pub struct GgmlWeight {
    file: Arc<Vec<u8>>,
    start: usize,
    kind: GgmlType,
    d_output: usize,
    d_input: usize,
    /// Llama's q and k rows are stored in llama.cpp's rotary order; `Some(heads)` reads them in transformers' order.
    unpermute: Option<usize>,
}

impl GgmlWeight {
    /// The weight at `range` of `file`: `[d_output, d_input]` in `kind`'s blocks. An error says what does not fit
    /// (the GGUF reader has already bounded the range by the file's size; this checks it against the shape).
    pub fn new(
        file: Arc<Vec<u8>>,
        range: Range<usize>,
        kind: GgmlType,
        [d_output, d_input]: [usize; 2],
        unpermute: Option<usize>,
    ) -> Result<Self, String> {
        if d_input % kind.block_size() != 0 {
            return Err(format!("rows of {d_input} are not whole {} blocks of {}", kind.name(), kind.block_size()));
        }
        let want = d_output.checked_mul(d_input).and_then(|n| kind.bytes_for(n));
        if want != Some(range.len()) || range.end > file.len() {
            return Err(format!("{} bytes do not hold {d_output} x {d_input} {} weights", range.len(), kind.name()));
        }
        Ok(Self { file, start: range.start, kind, d_output, d_input, unpermute })
    }

    pub fn kind(&self) -> GgmlType {
        self.kind
    }

    /// Bytes of the file the weight's blocks take.
    pub fn nbytes(&self) -> usize {
        self.d_output * self.row_bytes()
    }

    fn row_bytes(&self) -> usize {
        self.d_input / self.kind.block_size() * self.kind.block_bytes()
    }

    /// Where row `r` (transformers' order) is stored: row (h, a, b) of transformers' `[heads, 2, dim]` is row
    /// (h, b, a) of llama.cpp's (`safetensors::permute_rows`).
    fn stored_row(&self, r: usize) -> usize {
        let Some(heads) = self.unpermute else { return r };
        let dim = self.d_output / heads.max(1) / 2;
        if heads == 0 || dim == 0 || heads * dim * 2 != self.d_output {
            return r;
        }
        let (h, a, b) = (r / (2 * dim), r % (2 * dim) / dim, r % dim);
        h * 2 * dim + b * 2 + a
    }
}

impl RowSource for GgmlWeight {
    fn d_output(&self) -> usize {
        self.d_output
    }

    fn d_input(&self) -> usize {
        self.d_input
    }

    /// Row `r`'s values, appended to `out`; zeros for a row the weight does not have (a token id beyond the table,
    /// as Gemma 3's tokenizer has for its vision tower: no panic in the page).
    fn row_into(&self, r: usize, out: &mut Vec<f32>) {
        if r >= self.d_output {
            out.resize(out.len() + self.d_input, 0.0);
            return;
        }
        let at = self.start + self.stored_row(r) * self.row_bytes();
        quant::dequantize_into(self.kind, &self.file[at..at + self.row_bytes()], out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safetensors::permute_rows;

    /// Q8_0 blocks of `n` weights: scale 1/64 (float16 0x2400), codes counting up.
    fn q8(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for b in 0..n / 32 {
            out.extend([0x00, 0x24]);
            out.extend((0..32).map(|i| ((b * 7 + i * 3) % 255) as u8));
        }
        out
    }

    /// Rows, gathers, transposes and products read the weight that `dequantize` of the whole tensor gives, with
    /// llama.cpp's q/k order undone as the widened model undoes it.
    #[test]
    fn rows_are_the_widened_weight() {
        let (d_out, d_in, heads) = (40, 64, 2);
        let bytes = Arc::new(q8(d_out * d_in));
        let whole = quant::dequantize(GgmlType::Q8_0, &bytes);
        let want = permute_rows(&whole, d_out, heads, false);
        let w = GgmlWeight::new(bytes.clone(), 0..bytes.len(), GgmlType::Q8_0, [d_out, d_in], Some(heads)).unwrap();
        assert_eq!(w.rows(0..d_out), want);
        assert_eq!(w.gather(&[5, 1]), [&want[5 * d_in..6 * d_in], &want[d_in..2 * d_in]].concat());
        // Across tiles of rows: every value of rows 2..37 in its transposed place.
        let t = w.rows_transposed(2..37);
        for r in 2..37 {
            for i in 0..d_in {
                assert_eq!(t[i * 35 + r - 2], want[r * d_in + i], "row {r}, column {i}");
            }
        }
        let x: Vec<f32> = (0..2 * d_in).map(|i| (i % 5) as f32 - 2.0).collect();
        let y = w.matmul_rows(&x, 2);
        let dot = |r: usize, j: usize| -> f32 { (0..d_in).map(|i| x[r * d_in + i] * want[j * d_in + i]).sum() };
        assert_eq!(y[d_out + 6], dot(1, 6));
        let short = GgmlWeight::new(bytes.clone(), 0..bytes.len() - 1, GgmlType::Q8_0, [d_out, d_in], None);
        assert!(short.unwrap_err().contains("do not hold"));
        let odd = GgmlWeight::new(bytes, 0..34, GgmlType::Q8_0, [1, 48], None);
        assert!(odd.unwrap_err().contains("whole Q8_0 blocks"));
    }

    /// A GGUF table rounded to float16 a slice of rows at a time holds what the whole table widened, then rounded,
    /// holds (1,100 rows: across the slices of 1,024).
    #[test]
    fn rows_round_to_float16_a_slice_at_a_time() {
        use crate::model::packed::half::HalfWeight;
        let (d_out, d_in) = (1100, 32);
        let bytes = Arc::new(q8(d_out * d_in));
        let w = GgmlWeight::new(bytes.clone(), 0..bytes.len(), GgmlType::Q8_0, [d_out, d_in], None).unwrap();
        let whole = HalfWeight::round(&w.rows(0..d_out), [d_out, d_in]);
        assert_eq!(HalfWeight::from_rows(&w).rows(0..d_out), whole.rows(0..d_out));
    }
}
