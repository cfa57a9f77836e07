//! The few linear-algebra facts the inspector needs, over row-major `f32` matrices in torch layout (`[rows, cols]`),
//! computed in `f64` on burn's CPU backend, with the SVD from `burn-linalg` (burn's own linear algebra: already in
//! the build, pure Rust, the same in the page's wasm). Only quantities that do not depend on the signs or the order
//! an SVD routine picks (singular values, squared projections) leave this file, so they compare with numpy's.

use burn::tensor::{DType, Device, Tensor, TensorData};

/// Sweeps of the bidiagonal QR iteration per singular value: converges in a few for the matrices an adapter has
/// (a few thousand by a few thousand at most); the bound only stops a runaway.
const SWEEPS: usize = 100;

/// A row-major `[rows, cols]` matrix of `f32` values, as `f64` on the CPU.
pub fn matrix(values: &[f32], rows: usize, cols: usize) -> Tensor<2> {
    let data = TensorData::new(values.iter().map(|&v| v as f64).collect::<Vec<_>>(), [rows, cols]);
    Tensor::from_data(data, (&Device::flex(), DType::F64))
}

/// `||m||_F`.
pub fn frobenius(m: &Tensor<2>) -> f64 {
    m.clone().powi_scalar(2).sum().into_scalar::<f64>().sqrt()
}

/// Singular values, largest first.
pub fn singular_values(m: &Tensor<2>) -> Vec<f64> {
    let (_, s, _) = burn_linalg::svd::<2, 1>(m.clone(), SWEEPS);
    s.into_data().convert::<f64>().try_into_vec::<f64>().expect("f64 values")
}

/// `cumulative[k-1]`: the share of `||m||_F^2` in the top `k` singular directions, for every `k`.
pub fn energy_shares(singular: &[f64]) -> Vec<f64> {
    let total: f64 = singular.iter().map(|s| s * s).sum();
    let mut acc = 0.0;
    singular
        .iter()
        .map(|s| {
            acc += s * s;
            if total > 0.0 { acc / total } else { 0.0 }
        })
        .collect()
}

/// The LoRA paper's subspace similarity (section 7): `phi[i-1][j-1] = ||U_i^T V_j||_F^2 / min(i, j)`, where `U_i` are
/// the top `i` right-singular vectors of `a` (`[r_a, in]`, an adapter's `lora_A`) and `V_j` the top `j` of `b`.
/// 1 when one subspace contains the other, 0 when they are orthogonal.
pub fn subspace_similarity(a: &Tensor<2>, b: &Tensor<2>) -> Vec<Vec<f64>> {
    // The rows of V^T are the right-singular vectors, largest singular value first.
    let (_, _, va) = burn_linalg::svd::<2, 1>(a.clone(), SWEEPS);
    let (_, _, vb) = burn_linalg::svd::<2, 1>(b.clone(), SWEEPS);
    let [ka, kb] = [va.dims()[0], vb.dims()[0]];
    // [ka, kb]: every pair of directions' cosine, squared.
    let overlap: Vec<f64> = va
        .matmul(vb.transpose())
        .powi_scalar(2)
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .expect("f64 values");
    // Prefix sums over the top-left i x j block.
    let mut block = vec![vec![0.0; kb + 1]; ka + 1];
    for i in 1..=ka {
        for j in 1..=kb {
            block[i][j] = overlap[(i - 1) * kb + (j - 1)] + block[i - 1][j] + block[i][j - 1] - block[i - 1][j - 1];
        }
    }
    (1..=ka).map(|i| (1..=kb).map(|j| block[i][j] / i.min(j) as f64).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rank_two_product_has_two_nonzero_singular_values() {
        // [3, 2] x [2, 4]: rank 2 at most.
        let b = matrix(&[1.0, 0.0, 0.0, 2.0, 1.0, 1.0], 3, 2);
        let a = matrix(&[1.0, 2.0, 0.0, 1.0, 0.0, 1.0, 3.0, 0.0], 2, 4);
        let s = singular_values(&b.matmul(a));
        assert_eq!(s.len(), 3);
        assert!(s[1] > 1e-6 && s[2] < 1e-9 * s[0], "{s:?}");
        let e = energy_shares(&s);
        assert!((e[1] - 1.0).abs() < 1e-12 && e[0] < 1.0);
    }

    #[test]
    fn a_subspace_is_fully_similar_to_itself_and_not_to_an_orthogonal_one() {
        let a = matrix(&[1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0], 2, 4);
        let same = subspace_similarity(&a, &a);
        assert!((same[1][1] - 1.0).abs() < 1e-12 && (same[0][0] - 1.0).abs() < 1e-12, "{same:?}");
        let b = matrix(&[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0], 2, 4);
        assert!(subspace_similarity(&a, &b).iter().flatten().all(|&p| p.abs() < 1e-12));
    }
}
