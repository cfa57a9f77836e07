//! Do `config.json`, `tokenizer.json` and `model.safetensors` belong to one model? Files fetched by Hub id, picked
//! from disk or copied into `models/` can come from three places; a tokenizer with more tokens than the embedding
//! table has rows would index past it at the first batch (a panic deep in a kernel, or silently wrong rows on a GPU),
//! and a checkpoint of another width fails only when the model is built. Checked when a model is loaded, before
//! any training, with messages that name both files.

use super::checkpoint_keys::checkpoint_prefix;
use super::config::EncoderConfig;
use super::files::ModelFiles;
use super::paths::backbone;
use crate::error::Error;
use crate::safetensors::SafeTensors;

pub fn check(files: &ModelFiles, config: &EncoderConfig) -> Result<(), Error> {
    let tokenizer = tokenizers::Tokenizer::from_bytes(&files.tokenizer_json)
        .map_err(|e| Error::invalid("tokenizer.json", format!("cannot be read: {e}")))?;
    // The largest id, not the count: ids need not be dense (added tokens can sit above the base vocabulary).
    let ids = tokenizer.get_vocab(true).into_values().max().map_or(0, |m| m as usize + 1);
    if ids > config.vocab_size {
        return Err(Error::invalid(
            "tokenizer.json",
            format!(
                "has token ids up to {} but config.json's vocab_size is {}: the tokenizer is from another model",
                ids - 1,
                config.vocab_size
            ),
        ));
    }
    let weights = SafeTensors::parse("model.safetensors", &files.safetensors)?;
    // Found where the loader will look for it (a bare backbone's file, or a task model's under `bert.`, `model.`, ...).
    let name = format!("{}{}", checkpoint_prefix(&weights, config.flavor)?, backbone(config.flavor).1);
    let entry = &weights.entries[&name];
    let want = [config.vocab_size, config.hidden_size];
    if entry.shape != want {
        return Err(Error::invalid(
            "model.safetensors",
            format!(
                "{name} is {:?} but config.json says vocab_size x hidden_size = {want:?}: the weights are from another model",
                entry.shape
            ),
        ));
    }
    Ok(())
}
