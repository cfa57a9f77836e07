//! A frozen weight stored in float16 (the *float16* base): half of float32's bytes, each value rounded to nearest
//! (ties to even: `half`, as torch's `.to(torch.float16)` rounds), widened to float32 a row at a time when it is
//! used, so the arithmetic stays float32 (as with `bnb_4bit_compute_dtype=torch.float32`).

use std::sync::OnceLock;

use half::f16;
use half::slice::HalfFloatSliceExt;

use super::rows::RowSource;

/// Every float16 value widened, by its bits: a table read is one load, where `half`'s conversion without the
/// hardware's (WebAssembly has none) is a dozen bit operations and branches a value (measured: the float16 base's
/// step in the page, docs/MEASUREMENTS.md). 256 KiB, made once.
fn widened() -> &'static [f32] {
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    TABLE.get_or_init(|| (0..=u16::MAX).map(|b| f16::from_bits(b).to_f32()).collect())
}

/// One `[d_output, d_input]` weight (torch's layout) in float16.
#[derive(Clone, Debug)]
pub struct HalfWeight {
    values: Vec<f16>,
    d_output: usize,
    d_input: usize,
}

impl HalfWeight {
    /// `values` (`[d_output, d_input]`, row-major) rounded to float16.
    pub fn round(values: &[f32], [d_output, d_input]: [usize; 2]) -> Self {
        debug_assert_eq!(values.len(), d_output * d_input);
        let mut half = vec![f16::ZERO; values.len()];
        half.convert_from_f32_slice(values);
        Self { values: half, d_output, d_input }
    }

    /// `source`'s rows rounded to float16, a slice of rows at a time (no float32 copy of the whole weight).
    pub fn from_rows(source: &dyn RowSource) -> Self {
        let (d_output, d_input) = (source.d_output(), source.d_input());
        let mut values = vec![f16::ZERO; d_output * d_input];
        let mut rows = Vec::new();
        for start in (0..d_output).step_by(1024) {
            let end = (start + 1024).min(d_output);
            rows.clear();
            (start..end).for_each(|r| source.row_into(r, &mut rows));
            values[start * d_input..end * d_input].convert_from_f32_slice(&rows);
        }
        Self { values, d_output, d_input }
    }

    pub fn nbytes(&self) -> usize {
        2 * self.values.len()
    }
}

impl RowSource for HalfWeight {
    fn d_output(&self) -> usize {
        self.d_output
    }

    fn d_input(&self) -> usize {
        self.d_input
    }

    fn row_into(&self, r: usize, out: &mut Vec<f32>) {
        if r >= self.d_output {
            out.resize(out.len() + self.d_input, 0.0);
            return;
        }
        let table = widened();
        out.extend(self.values[r * self.d_input..(r + 1) * self.d_input].iter().map(|h| table[h.to_bits() as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows widen the rounded values: float16's nearest (1/3 -> 0.33325195), ties to even (1 + 2^-11 -> 1).
    #[test]
    fn rows_are_the_values_rounded_to_float16() {
        let w = HalfWeight::round(&[1.0 / 3.0, 1.0 + 2f32.powi(-11), -2.5, 65504.0], [2, 2]);
        assert_eq!(w.rows(0..2), [0.33325195, 1.0, -2.5, 65504.0]);
        assert_eq!(w.gather(&[1, 7]), [-2.5, 65504.0, 0.0, 0.0], "a row beyond the weight reads as zeros");
        assert_eq!(w.nbytes(), 8);
    }
}
