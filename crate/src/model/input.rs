//! What every model reads: one batch of token ids with its masks. A leaf of the model layer.

use burn::tensor::{Int, Tensor};

/// One batch of token ids, padded to the same length.
#[derive(Debug, Clone)]
pub struct EncoderInput {
    /// `[batch, seq]`
    pub input_ids: Tensor<2, Int>,
    /// `[batch, seq]`
    pub token_type_ids: Tensor<2, Int>,
    /// `[batch, seq]`
    pub position_ids: Tensor<2, Int>,
    /// `[batch, seq]`, 1 for real tokens and 0 for padding.
    pub attention_mask: Tensor<2>,
}

impl EncoderInput {
    /// transformers' extended attention mask: (1 - mask) * finfo(float32).min as `[batch, 1, 1, seq]`, broadcast
    /// over heads and queries, so no query sees a padding key.
    pub fn padding_mask(&self) -> Tensor<4> {
        let [b, s] = self.attention_mask.dims();
        (self.attention_mask.clone().neg() + 1.0).mul_scalar(f32::MIN).reshape([b, 1, 1, s])
    }
}
