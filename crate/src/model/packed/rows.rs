//! What a weight read a row at a time (a GGUF file's blocks, float16 values) offers beside its rows: row ranges,
//! gathered rows (an embedding lookup), a transposed slice (burn's layout) and a few rows' product, all written once
//! over `row_into`.

use std::ops::Range;

/// A `[d_output, d_input]` weight (torch's layout) whose rows can be read one at a time as float32.
pub trait RowSource {
    fn d_output(&self) -> usize;
    fn d_input(&self) -> usize;
    /// Row `r`'s values appended to `out` (zeros for a row beyond the weight: never a panic).
    fn row_into(&self, r: usize, out: &mut Vec<f32>);

    /// Rows `rows`, `[rows.len(), d_input]` row-major.
    fn rows(&self, rows: Range<usize>) -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.len() * self.d_input());
        rows.for_each(|r| self.row_into(r, &mut out));
        out
    }

    /// The rows `ids` name, in that order (an embedding lookup): `[ids.len(), d_input]`.
    fn gather(&self, ids: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(ids.len() * self.d_input());
        ids.iter().for_each(|&r| self.row_into(r, &mut out));
        out
    }

    /// Rows `rows` transposed, `[d_input, rows.len()]` (burn's layout of that slice of the weight). A tile of rows
    /// at a time, so each write fills whole cache lines (one row at a time wrote every value to another line).
    fn rows_transposed(&self, rows: Range<usize>) -> Vec<f32> {
        const TILE: usize = 32;
        let (n, d) = (rows.len(), self.d_input());
        let mut t = vec![0f32; n * d];
        let mut tile = Vec::with_capacity(TILE * d);
        for j0 in (0..n).step_by(TILE) {
            let m = TILE.min(n - j0);
            tile.clear();
            (rows.start + j0..rows.start + j0 + m).for_each(|r| self.row_into(r, &mut tile));
            for i in 0..d {
                let out = &mut t[i * n + j0..i * n + j0 + m];
                out.iter_mut().enumerate().for_each(|(j, v)| *v = tile[j * d + i]);
            }
        }
        t
    }

    /// `x W^T` for `x` `[rows, d_input]` row-major: `[rows, d_output]`, one weight row dequantized at a time (a
    /// generation step's few rows never need the whole float weight).
    fn matmul_rows(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let d = self.d_input();
        let mut y = vec![0f32; rows * self.d_output()];
        let mut w = Vec::with_capacity(d);
        for j in 0..self.d_output() {
            w.clear();
            self.row_into(j, &mut w);
            for r in 0..rows {
                y[r * self.d_output() + j] = x[r * d..(r + 1) * d].iter().zip(&w).map(|(a, b)| a * b).sum();
            }
        }
        y
    }
}
