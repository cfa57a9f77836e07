//! The key/value cache of generation: each layer's keys (after the rotation) and values of the tokens seen so far,
//! so each new token costs one position's work instead of the whole sequence's.

use burn::tensor::Tensor;

/// Per layer, `[batch, num_key_value_heads, seen, head_dim]` keys and values; empty before the first step.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    pub layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
}

impl KvCache {
    pub fn new(num_layers: usize) -> Self {
        Self { layers: vec![None; num_layers] }
    }

    /// How many positions are cached (the position of the next token).
    pub fn seen(&self) -> usize {
        self.layers.first().and_then(|l| l.as_ref()).map_or(0, |(k, _)| k.dims()[2])
    }

    /// Appends this step's `k`, `v` to layer `i` and returns all of them.
    pub fn extend(&mut self, i: usize, k: Tensor<4>, v: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let all = match self.layers[i].take() {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        self.layers[i] = Some(all.clone());
        all
    }
}
