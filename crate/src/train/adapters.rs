//! Several trained adapters on one loaded base model, as LoRA is served: the base's tensors live on the device
//! once, each adapter adds only its own (LoRA matrices, its head, any biases it trained), and switching is picking
//! another grafted model (no tensor moves). `memory` compares that with keeping N fine-tuned copies.

use std::collections::BTreeMap;

use burn::tensor::Device;
use serde::Serialize;

use super::classifier::{Classifier, base_model};
use super::folder::read_saved;
use super::job::Prediction;
use super::merge::{MergeCheck, check};
use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::config::EncoderConfig;
use crate::model::export::torch_params;
use crate::model::files::ModelFiles;
use crate::model::methods::Method;
use crate::model::paths::is_head;
use crate::train::frozen::FrozenCheck;

/// What the page lists for an adapter.
#[derive(Debug, Clone, Serialize)]
pub struct AdapterInfo {
    pub name: String,
    pub method: String,
    pub labels: Vec<String>,
    /// LoRA rank, alpha and the modules it sits on (short names: `query`, `value`); absent for other methods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lora_alpha: Option<f64>,
    pub lora_modules: usize,
    /// Values this adapter holds on the device (LoRA A and B, its head, biases it trained).
    pub params: u64,
    /// `params` as float32 bytes.
    pub bytes: u64,
    /// The run's proof that the base stayed as it was (`training.json`'s `frozen`; absent in a PEFT folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frozen: Option<FrozenCheck>,
}

/// Parameter memory (float32, on the device) of the set against one fine-tuned copy of the model per adapter.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Memory {
    /// The base encoder, held once (its placeholder head left out: every adapter brings its own).
    pub base_bytes: u64,
    pub adapter_bytes: Vec<u64>,
    /// `base_bytes + sum(adapter_bytes)`.
    pub shared_bytes: u64,
    /// One whole model per adapter: `N * base_bytes + each one's head`.
    pub copies_bytes: u64,
}

struct Entry {
    info: AdapterInfo,
    classifier: Classifier,
    /// The same adapter merged into its own copy of the weights it touches, with no LoRA path (built on first use;
    /// `classifier` keeps the adapter).
    merged: Option<Classifier>,
    head_params: u64,
}

pub struct AdapterSet {
    config: EncoderConfig,
    tokenizer_json: Vec<u8>,
    base: AutoModelForSequenceClassification,
    base_params: u64,
    entries: Vec<Entry>,
    device: Device,
}

const BYTES_PER_PARAM: u64 = 4;

impl AdapterSet {
    /// Loads the base model once on `device`.
    pub fn new(files: &ModelFiles, device: &Device) -> Result<Self, Error> {
        let config = files.encoder_config()?;
        let base = base_model(&config, files, device)?;
        let base_params = torch_params(&base)
            .iter()
            .filter(|p| !is_head(&p.name))
            .map(|p| p.shape.iter().product::<usize>() as u64)
            .sum();
        Ok(Self {
            config,
            tokenizer_json: files.tokenizer_json.clone(),
            base,
            base_params,
            entries: Vec::new(),
            device: device.clone(),
        })
    }

    /// Reads a saved folder (file name -> bytes: a PEFT adapter, ours, a head-only or BitFit run) and lays it over
    /// the base; returns what the page lists. Nothing is added on error.
    pub fn add(&mut self, name: &str, saved: &BTreeMap<String, Vec<u8>>) -> Result<AdapterInfo, Error> {
        let s = read_saved(&self.config, saved)?;
        let params: u64 = s.tensors.values().map(|(v, _)| v.len() as u64).sum();
        let head_params = s.tensors.iter().filter(|(k, _)| is_head(k)).map(|(_, (v, _))| v.len() as u64).sum();
        let lora = s.method == Method::Lora;
        let info = AdapterInfo {
            name: name.to_string(),
            method: s.method.name().to_string(),
            labels: s.labels.clone(),
            r: lora.then_some(s.lora.r),
            lora_alpha: lora.then_some(s.lora.lora_alpha),
            lora_modules: s.lora_modules.len(),
            params,
            bytes: params * BYTES_PER_PARAM,
            frozen: s.frozen.clone(),
        };
        let classifier = s.classifier(&self.base, &self.config, &self.tokenizer_json)?;
        self.entries.push(Entry { info: info.clone(), classifier, merged: None, head_params });
        Ok(info)
    }

    pub fn remove(&mut self, index: usize) -> Result<(), Error> {
        self.check(index)?;
        self.entries.remove(index);
        Ok(())
    }

    pub fn infos(&self) -> Vec<AdapterInfo> {
        self.entries.iter().map(|e| e.info.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn check(&self, index: usize) -> Result<&Entry, Error> {
        self.entries.get(index).ok_or_else(|| {
            Error::invalid("adapter", format!("no adapter number {index} (there are {})", self.entries.len()))
        })
    }

    /// The classifier with adapter `index` laid over the base.
    pub fn classifier(&self, index: usize) -> Result<&Classifier, Error> {
        Ok(&self.check(index)?.classifier)
    }

    /// Class probabilities for `text` with adapter `index`.
    pub async fn predict(&self, index: usize, text: &str) -> Result<Prediction, Error> {
        if text.trim().is_empty() {
            return Err(Error::invalid("text", "is empty: type a sentence to classify"));
        }
        let c = &self.check(index)?.classifier;
        let probs = c.predict_async(&[text.to_string()], 1, &self.device).await?.remove(0);
        Ok(Prediction::new(probs, &c.labels))
    }

    /// Logits of `texts` (batches of 16) with adapter `index` as it is, or merged into the weights (PEFT's
    /// `merge_and_unload`; only LoRA has something to merge).
    pub async fn logits(&mut self, index: usize, merged: bool, texts: &[String]) -> Result<Vec<Vec<f32>>, Error> {
        self.check(index)?;
        let device = self.device.clone();
        let entry = &mut self.entries[index];
        let classifier = if merged {
            if entry.info.method != Method::Lora.name() {
                return Err(Error::invalid(
                    "adapter",
                    format!("{} is {}: only a LoRA adapter has something to merge", entry.info.name, entry.info.method),
                ));
            }
            entry.merged.get_or_insert_with(|| entry.classifier.merged())
        } else {
            &entry.classifier
        };
        classifier.logits_async(texts, 16, &device).await
    }

    /// Merged against unmerged on `texts`: the largest logit difference and the predictions that agree.
    pub async fn verify_merge(&mut self, index: usize, texts: &[String]) -> Result<MergeCheck, Error> {
        if texts.is_empty() {
            return Err(Error::invalid("texts", "no texts to compare on: load a dataset"));
        }
        let before = self.logits(index, false, texts).await?;
        let after = self.logits(index, true, texts).await?;
        Ok(check(&before, &after))
    }

    pub fn memory(&self) -> Memory {
        let base_bytes = self.base_params * BYTES_PER_PARAM;
        let adapter_bytes: Vec<u64> = self.entries.iter().map(|e| e.info.bytes).collect();
        let copies_bytes = self.entries.iter().map(|e| base_bytes + e.head_params * BYTES_PER_PARAM).sum();
        Memory { base_bytes, shared_bytes: base_bytes + adapter_bytes.iter().sum::<u64>(), adapter_bytes, copies_bytes }
    }
}
