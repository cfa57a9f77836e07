//! Rotary position embeddings as transformers applies them in every family here (`rotate_half` style: the two
//! halves of each head paired, not neighbouring elements): ModernBERT and the language models.

use burn::tensor::{Device, Tensor, TensorData};

/// `[..., d]` -> `[-x2, x1]`, the halves swapped and the second negated (`rotate_half`).
pub fn rotate_half(x: Tensor<4>) -> Tensor<4> {
    let [b, h, s, d] = x.dims();
    let x1 = x.clone().slice([0..b, 0..h, 0..s, 0..d / 2]);
    let x2 = x.slice([0..b, 0..h, 0..s, d / 2..d]);
    Tensor::cat(vec![x2.neg(), x1], 3)
}

/// `x cos + rotate_half(x) sin`, the rotation itself.
pub fn apply(x: Tensor<4>, cos: &Tensor<4>, sin: &Tensor<4>) -> Tensor<4> {
    x.clone() * cos.clone() + rotate_half(x) * sin.clone()
}

/// Rotary cos and sin `[1, 1, len, dim]` for positions `start..start + len`: frequency theta^(-2i/dim) (in f32, as
/// transformers computes `inv_freq`), divided by `factor` (a `linear` rope scaling), the two halves alike.
pub fn cos_sin(
    theta: f64,
    factor: f64,
    start: usize,
    len: usize,
    dim: usize,
    device: &Device,
) -> (Tensor<4>, Tensor<4>) {
    let inv_freq: Vec<f32> =
        (0..dim / 2).map(|i| (1.0 / theta.powf((2 * i) as f64 / dim as f64) / factor) as f32).collect();
    let angle = |p: usize, j: usize| (start + p) as f32 * inv_freq[j % (dim / 2)];
    let make = |f: fn(f32) -> f32| {
        let v: Vec<f32> = (0..len * dim).map(|i| f(angle(i / dim, i % dim))).collect();
        Tensor::<2>::from_data(TensorData::new(v, [len, dim]), device).reshape([1, 1, len, dim])
    };
    (make(f32::cos), make(f32::sin))
}
