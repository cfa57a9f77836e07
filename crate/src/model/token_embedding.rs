//! A language model's token embedding table: a float parameter (`nn.Embedding`), or packed: float16 values (the
//! float16 base), or the GGUF file's blocks (the *as stored* base; Gemma 3 270M's table is 170M of its 268M weights:
//! 671 MB in float32, 178 MB in the Q8_0 blocks its GGUF file stores), of which a lookup widens only its tokens' rows. The field is `weight`
//! either way, so the parameter's path is transformers' `model.embed_tokens.weight`.

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::model::packed::PackedWeight;

#[derive(Module, Debug)]
pub struct TokenEmbedding {
    /// `[vocab_size, hidden_size]`; `None` when the table is `packed`.
    pub weight: Option<Param<Tensor<2>>>,
    /// The frozen table in its file's blocks (not a parameter: nothing trains it).
    #[module(skip)]
    pub packed: Option<PackedWeight>,
}

impl TokenEmbedding {
    pub fn float(weight: Tensor<2>) -> Self {
        Self { weight: Some(Param::from_tensor(weight)), packed: None }
    }

    pub fn packed(table: PackedWeight) -> Self {
        Self { weight: None, packed: Some(table) }
    }

    /// The rows of `ids` (right-padded with id 0 to the longest), `[batch, seq, hidden]`.
    pub fn forward(&self, ids: &[Vec<u32>], device: &Device) -> Tensor<3> {
        let s = ids.iter().map(Vec::len).max().unwrap_or(0);
        let flat: Vec<usize> =
            ids.iter().flat_map(|row| (0..s).map(move |j| row.get(j).copied().unwrap_or(0) as usize)).collect();
        match (&self.weight, &self.packed) {
            (Some(w), _) => {
                let flat: Vec<i64> = flat.into_iter().map(|i| i as i64).collect();
                let ids = Tensor::<2, Int>::from_data(TensorData::new(flat, [ids.len(), s]), device);
                burn::tensor::module::embedding(w.val(), ids)
            }
            (None, Some(p)) => {
                let d = p.d_input();
                Tensor::from_data(TensorData::new(p.gather(&flat), [ids.len(), s, d]), device)
            }
            (None, None) => unreachable!("a table is float or packed"),
        }
    }

    /// `[vocab_size, hidden_size]`.
    pub fn dims(&self) -> [usize; 2] {
        match (&self.weight, &self.packed) {
            (Some(w), _) => w.shape().dims(),
            (None, Some(p)) => [p.d_output(), p.d_input()],
            (None, None) => [0, 0],
        }
    }
}
