//! A Hugging Face model folder's three files, as bytes: what the CLI reads from disk and the page downloads.

use crate::accounting::arch::HfConfig;
use crate::error::Error;
use super::config::EncoderConfig;

pub struct ModelFiles {
    /// What to record as `base_model_name_or_path` (`sentence-transformers/all-MiniLM-L6-v2`, a folder).
    pub name: String,
    pub config_json: String,
    pub safetensors: Vec<u8>,
    pub tokenizer_json: Vec<u8>,
}

impl ModelFiles {
    /// The encoder's configuration from `config.json`.
    pub fn encoder_config(&self) -> Result<EncoderConfig, Error> {
        encoder_config(&self.config_json)
    }
}

pub fn encoder_config(config_json: &str) -> Result<EncoderConfig, Error> {
    EncoderConfig::from_hf(&HfConfig::parse(config_json)?)
}
