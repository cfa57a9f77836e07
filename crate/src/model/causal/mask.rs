//! Which keys each query may see in a language model: earlier positions (causal), not padding, and on a
//! sliding-window layer only the last `window` positions (transformers' `sliding_window_overlay`:
//! `key > query - window`).

use burn::tensor::{Device, Tensor, TensorData};

/// An additive mask `[batch, 1, queries, keys]`: 0 where visible, a large negative number elsewhere (finite, so a
/// padding query whose window holds only padding gets uniform weights, not NaN). Queries are at positions
/// `start..start + queries`; `keys` = `start + queries`; `real[b][k]` says whether key k of sequence b is a token.
pub fn causal_mask(
    real: &[Vec<bool>],
    start: usize,
    queries: usize,
    window: Option<usize>,
    device: &Device,
) -> Tensor<4> {
    let keys = start + queries;
    let b = real.len();
    let mut v = Vec::with_capacity(b * queries * keys);
    for row in real {
        for q in start..keys {
            for k in 0..keys {
                let visible = k <= q && row.get(k).copied().unwrap_or(true) && window.is_none_or(|w| k + w > q);
                v.push(if visible { 0.0 } else { -1e9 });
            }
        }
    }
    Tensor::<3>::from_data(TensorData::new(v, [b, queries, keys]), device).reshape([b, 1, queries, keys])
}
