//! A model ready to classify: a saved folder laid over a base model (the base built once, the folder's tensors
//! grafted over it, as the page's adapter set does for each adapter), with batched, async inference.

use std::collections::BTreeMap;

use burn::tensor::Device;
use burn::tensor::activation::softmax;

use super::batch::{TextEncoder, to_input};
use super::folder::{Saved, read_saved};
use super::readback::read_floats;
use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::auto::build;
use crate::model::checkpoint_keys::checkpoint_num_labels;
use crate::model::config::EncoderConfig;
use crate::model::files::ModelFiles;
use crate::model::graft::graft;
use crate::model::load::Weights;
use crate::model::lora::LoraLinearConfig;
use crate::safetensors::SafeTensors;

/// A model ready to classify.
#[derive(Clone)]
pub struct Classifier {
    pub config: EncoderConfig,
    pub model: AutoModelForSequenceClassification,
    pub encoder: TextEncoder,
    pub labels: Vec<String>,
}

impl Saved {
    /// The folder laid over `base` (see `graft`: tensors the folder does not replace are shared with `base`),
    /// with the tokenizer at the folder's max length.
    pub fn classifier(
        self,
        base: &AutoModelForSequenceClassification,
        config: &EncoderConfig,
        tokenizer_json: &[u8],
    ) -> Result<Classifier, Error> {
        let lora = LoraLinearConfig::from_peft(&self.lora, 0.0);
        let model = graft(base, &self.lora_modules, lora, &self.tensors, &self.weights_name)?;
        let encoder =
            TextEncoder::from_bytes(tokenizer_json, self.max_len.unwrap_or(config.max_position_embeddings.min(512)))?;
        Ok(Classifier { config: config.clone(), model, encoder, labels: self.labels })
    }
}

/// The base model for grafting, in inference mode. Its head is a placeholder every adapter replaces: the
/// checkpoint's own if it has one (a fine-tuned model as base), else a fresh one.
pub fn base_model(
    config: &EncoderConfig,
    files: &ModelFiles,
    device: &Device,
) -> Result<AutoModelForSequenceClassification, Error> {
    let weights = SafeTensors::parse("model.safetensors", &files.safetensors)?;
    let num_labels = checkpoint_num_labels(&weights, config.flavor).unwrap_or(2);
    Ok(burn::module::Module::valid(&build(config, Weights::Checkpoint(weights), num_labels, None, device)?))
}

/// Reads a saved folder (see `read_saved`) over the base model: the base built once, the saved tensors grafted
/// over it (what the page's adapter set does for each of its adapters).
pub fn load_trained(
    files: &ModelFiles,
    saved: &BTreeMap<String, Vec<u8>>,
    device: &Device,
) -> Result<Classifier, Error> {
    let config = files.encoder_config()?;
    let s = read_saved(&config, saved)?;
    s.classifier(&base_model(&config, files, device)?, &config, &files.tokenizer_json)
}

impl Classifier {
    /// Class probabilities for each text, in `labels` order.
    pub async fn predict_async(
        &self,
        texts: &[String],
        batch_size: usize,
        device: &Device,
    ) -> Result<Vec<Vec<f32>>, Error> {
        self.scores(texts, batch_size, device, true).await
    }

    /// The raw logits for each text, in `labels` order (what PEFT's model returns, for comparing with it).
    pub async fn logits_async(
        &self,
        texts: &[String],
        batch_size: usize,
        device: &Device,
    ) -> Result<Vec<Vec<f32>>, Error> {
        self.scores(texts, batch_size, device, false).await
    }

    /// `logits_async`, natively.
    pub fn logits(&self, texts: &[String], batch_size: usize, device: &Device) -> Result<Vec<Vec<f32>>, Error> {
        futures_lite::future::block_on(self.logits_async(texts, batch_size, device))
    }

    async fn scores(
        &self,
        texts: &[String],
        batch_size: usize,
        device: &Device,
        probabilities: bool,
    ) -> Result<Vec<Vec<f32>>, Error> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(batch_size.max(1)) {
            let tokens = chunk.iter().map(|t| self.encoder.encode(t)).collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<_> = tokens.iter().collect();
            let logits = self.model.forward(&to_input(&self.config, &refs, device));
            let values = read_floats(if probabilities { softmax(logits, 1) } else { logits }).await?;
            out.extend(values.chunks(self.labels.len()).map(<[f32]>::to_vec));
        }
        Ok(out)
    }

    /// `predict_async`, natively.
    pub fn predict(&self, texts: &[String], batch_size: usize, device: &Device) -> Result<Vec<Vec<f32>>, Error> {
        futures_lite::future::block_on(self.predict_async(texts, batch_size, device))
    }
}
