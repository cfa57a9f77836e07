//! Text to tensors: tokenization with the model's own `tokenizer.json`, and padded batches.

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;
use crate::model::config::EncoderConfig;
use crate::model::files::ModelFiles;
use crate::model::input::EncoderInput;

/// One tokenized text: ids with the tokenizer's special tokens, and token types (serialized: a share of a step
/// crosses between workers as JSON, `train::shares`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
}

/// The model's tokenizer, truncating to `max_len` tokens (special tokens included).
#[derive(Clone)]
pub struct TextEncoder {
    tokenizer: tokenizers::Tokenizer,
    max_len: usize,
}

impl TextEncoder {
    /// From `tokenizer.json` bytes.
    pub fn from_bytes(bytes: &[u8], max_len: usize) -> Result<Self, Error> {
        let mut tokenizer = tokenizers::Tokenizer::from_bytes(bytes)
            .map_err(|e| Error::invalid("tokenizer.json", format!("cannot be read: {e}")))?;
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams { max_length: max_len, ..Default::default() }))
            .map_err(|e| Error::invalid("tokenizer.json", e.to_string()))?;
        tokenizer.with_padding(None);
        Ok(Self { tokenizer, max_len })
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    pub fn encode(&self, text: &str) -> Result<Tokens, Error> {
        Ok(self.encode_truncated(text)?.0)
    }

    /// The word pieces and their ids (special tokens included), truncated at `max_len`.
    pub fn pieces(&self, text: &str) -> Result<(Vec<String>, Vec<u32>), Error> {
        let e = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::invalid("text", format!("cannot be tokenized: {e}")))?;
        Ok((e.get_tokens().to_vec(), e.get_ids().to_vec()))
    }

    /// The tokens, and whether truncation cut the text.
    pub fn encode_truncated(&self, text: &str) -> Result<(Tokens, bool), Error> {
        let e = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::invalid("text", format!("cannot be tokenized: {e}")))?;
        Ok((Tokens { ids: e.get_ids().to_vec(), type_ids: e.get_type_ids().to_vec() }, !e.get_overflowing().is_empty()))
    }
}

/// Pads a batch to its longest member and builds the model's inputs (position ids as each architecture counts them).
pub fn to_input(config: &EncoderConfig, batch: &[&Tokens], device: &Device) -> EncoderInput {
    let b = batch.len();
    let s = batch.iter().map(|t| t.ids.len()).max().unwrap_or(1).max(1);
    let pad = config.pad_token_id as i64;
    let (mut ids, mut types, mut positions, mut mask) =
        (vec![pad; b * s], vec![0i64; b * s], vec![0i64; b * s], vec![0f32; b * s]);
    for (row, t) in batch.iter().enumerate() {
        for (col, (&id, &ty)) in t.ids.iter().zip(&t.type_ids).enumerate() {
            let i = row * s + col;
            ids[i] = id as i64;
            types[i] = ty as i64;
            mask[i] = 1.0;
            // RoBERTa numbers real tokens from pad_token_id + 1 (`create_position_ids_from_input_ids`).
            positions[i] = match config.flavor {
                Flavor::Roberta => pad + 1 + col as i64,
                _ => col as i64,
            };
        }
        for col in t.ids.len()..s {
            positions[row * s + col] = if config.flavor == Flavor::Roberta { pad } else { col as i64 };
        }
    }
    let int = |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [b, s]), device);
    EncoderInput {
        input_ids: int(ids),
        token_type_ids: int(types),
        position_ids: int(positions),
        attention_mask: Tensor::<2>::from_data(TensorData::new(mask, [b, s]), device),
    }
}

/// A tokenizer preview: the word pieces and ids of `text`, and where `max_len` cuts it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenPreview {
    pub tokens: Vec<String>,
    pub ids: Vec<u32>,
    /// Tokens the text has without truncation (special tokens included).
    pub full_length: usize,
    /// Tokens kept at `max_len`.
    pub kept: usize,
}

pub fn preview_tokens(files: &ModelFiles, text: &str, max_len: usize) -> Result<TokenPreview, Error> {
    let config = files.encoder_config()?;
    let full = TextEncoder::from_bytes(&files.tokenizer_json, config.max_position_embeddings.max(max_len))?;
    let (tokens, ids) = full.pieces(text)?;
    Ok(TokenPreview { full_length: ids.len(), kept: ids.len().min(max_len), tokens, ids })
}

/// Targets as an int tensor.
pub fn targets(labels: &[usize], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(labels.iter().map(|&l| l as i64).collect::<Vec<_>>(), [labels.len()]), device)
}
