//! A training run from bytes to bytes, so the CLI and the browser worker share it: model files and a dataset
//! in, a model ready to train (with its tokenized split) out; a trained model in, the files to save out; saved
//! files back in, a model ready to predict.

use std::collections::BTreeMap;

use burn::tensor::Device;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

use super::batch::{TextEncoder, to_input};
use super::run::read_floats;
use super::trainer::{EpochReport, Sample, TrainConfig};
use crate::accounting::arch::HfConfig;
use crate::data::{Dataset, Example, split::stratified};
use crate::error::Error;
use crate::accounting::lora_config::{Bias, LoraConfig};
use crate::model::bert::BertForSequenceClassification;
use crate::model::config::EncoderConfig;
use crate::model::export;
use crate::model::graft::graft;
use crate::model::load::{LoraPlacement, Overrides, Weights, build, build_with, checkpoint_num_labels};
use crate::model::lora::LoraLinearConfig;
use crate::model::methods::{Method, apply, lora_modules};
use crate::safetensors::SafeTensors;

/// A Hugging Face model folder's three files, as bytes.
pub struct ModelFiles {
    /// What to record as `base_model_name_or_path` (`sentence-transformers/all-MiniLM-L6-v2`, a folder).
    pub name: String,
    pub config_json: String,
    pub safetensors: Vec<u8>,
    pub tokenizer_json: Vec<u8>,
}

/// What to train and how.
#[derive(Debug, Clone)]
pub struct Plan {
    pub method: Method,
    /// Used by `Method::Lora`; its `bias` also applies there.
    pub lora: LoraConfig,
    pub lora_dropout: f64,
    pub train: TrainConfig,
    /// Tokens per text, special tokens included; longer texts are truncated.
    pub max_len: usize,
    /// Share of each class held out for validation.
    pub val_fraction: f64,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            method: Method::Lora,
            lora: LoraConfig { r: 8, lora_alpha: 16.0, target_modules: Some(crate::accounting::lora_config::TargetModules::Names(vec!["query".into(), "value".into()])), ..LoraConfig::default() },
            lora_dropout: 0.1,
            train: TrainConfig::default(),
            max_len: 128,
            val_fraction: 0.2,
        }
    }
}

/// Everything a run needs, built from the files, the data and the plan.
pub struct Prepared {
    pub config: EncoderConfig,
    pub model: BertForSequenceClassification,
    pub encoder: TextEncoder,
    pub train: Vec<Sample>,
    pub val: Vec<Sample>,
    pub labels: Vec<String>,
    /// Texts longer than `max_len` tokens (cut).
    pub truncated: usize,
}

pub fn encoder_config(config_json: &str) -> Result<EncoderConfig, Error> {
    EncoderConfig::from_hf(&HfConfig::parse(config_json)?)
}

fn tokenize(encoder: &TextEncoder, examples: &[Example], truncated: &mut usize) -> Result<Vec<Sample>, Error> {
    examples
        .iter()
        .map(|e| {
            let (t, cut) = encoder.encode_truncated(&e.text).map_err(|mut err| {
                err.line = Some(e.line);
                err
            })?;
            if cut {
                *truncated += 1;
            }
            Ok((t, e.label))
        })
        .collect()
}

/// Builds the model for `plan` (seeded: the same seed gives the same adapter and head) and the tokenized split.
pub fn prepare(files: &ModelFiles, plan: &Plan, data: &Dataset, device: &Device) -> Result<Prepared, Error> {
    prepare_with(files, plan, data, None, device)
}

/// `prepare`, with trained tensors (by Hugging Face name) laid over the fresh model: a run carried on.
pub fn prepare_with(files: &ModelFiles, plan: &Plan, data: &Dataset, overrides: Option<&Overrides>, device: &Device) -> Result<Prepared, Error> {
    if plan.max_len < 3 {
        return Err(Error::invalid("max_len", "must be at least 3 tokens ([CLS], a word, [SEP])"));
    }
    if !(0.0..1.0).contains(&plan.val_fraction) || plan.val_fraction == 0.0 {
        return Err(Error::invalid("val_fraction", "must be between 0 and 1"));
    }
    if plan.train.batch_size == 0 || plan.train.epochs == 0 {
        return Err(Error::invalid(if plan.train.epochs == 0 { "epochs" } else { "batch_size" }, "must be at least 1"));
    }
    if !(plan.train.lr > 0.0 && plan.train.lr.is_finite()) {
        return Err(Error::invalid("lr", "must be a positive number"));
    }
    let config = encoder_config(&files.config_json)?;
    if plan.max_len > config.max_position_embeddings {
        return Err(Error::invalid(
            "max_len",
            format!("{} is longer than the model's max_position_embeddings ({})", plan.max_len, config.max_position_embeddings),
        ));
    }
    let encoder = TextEncoder::from_bytes(&files.tokenizer_json, plan.max_len)?;
    let (train_ex, val_ex) = stratified(&data.examples, data.labels.len(), plan.val_fraction, plan.train.seed);
    let mut truncated = 0;
    let train = tokenize(&encoder, &train_ex, &mut truncated)?;
    let val = tokenize(&encoder, &val_ex, &mut truncated)?;
    let model = build_model(&config, files, overrides, data.labels.len(), plan.method, &plan.lora, plan.lora_dropout, plan.train.seed, device)?;
    Ok(Prepared { config, model, encoder, train, val, labels: data.labels.clone(), truncated })
}

/// The model with LoRA placed (for `Method::Lora`) and `require_grad` set for `method`.
#[allow(clippy::too_many_arguments)]
pub fn build_model(
    config: &EncoderConfig,
    files: &ModelFiles,
    overrides: Option<&Overrides>,
    num_labels: usize,
    method: Method,
    lora: &LoraConfig,
    lora_dropout: f64,
    seed: u64,
    device: &Device,
) -> Result<BertForSequenceClassification, Error> {
    let modules = if method == Method::Lora { lora_modules(config, num_labels, lora)? } else { Vec::new() };
    let adapter = LoraLinearConfig::from_peft(lora, lora_dropout);
    let placement = (method == Method::Lora).then_some(LoraPlacement { modules: &modules, config: adapter });
    let weights = SafeTensors::parse("model.safetensors", &files.safetensors)?;
    // Dropout draws from the backend's generator; everything else random comes from `seed` via `crate::rng`.
    device.seed(seed);
    let model = build_with(config, Weights::Checkpoint(weights), overrides, num_labels, placement, seed, device)?;
    let bias = if method == Method::Lora { lora.bias } else { Bias::None };
    Ok(apply(model, method, bias, &modules))
}

/// `training.json`: what was trained, so `predict` (and a person) can read the folder back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub method: String,
    pub base_model: String,
    pub labels: Vec<String>,
    pub max_len: usize,
    /// The weights file in this folder (`adapter_model.safetensors`, `model.safetensors`, `trained.safetensors`).
    pub weights: String,
    #[serde(default)]
    pub epochs: Vec<serde_json::Value>,
    /// The split's seed and validation share, so `merge` checks on the same validation texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_fraction: Option<f64>,
    /// `"lora"` for a model `merge` folded an adapter into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<String>,
}

/// Every float parameter read back to the host (asynchronously: the browser's way; natively, `block_on` it).
pub async fn read_named_tensors(model: &BertForSequenceClassification) -> Result<export::NamedTensors, Error> {
    read_params(export::torch_params(model)).await
}

/// `params` read back to the host, one at a time, by name.
pub async fn read_params(params: impl IntoIterator<Item = export::TorchParam>) -> Result<export::NamedTensors, Error> {
    let mut out = export::NamedTensors::new();
    for p in params {
        let values = read_floats(p.values).await?;
        out.insert(p.name, (values, p.shape, p.trains));
    }
    Ok(out)
}

/// The files to save for a trained model (name, bytes): PEFT's adapter files for LoRA, a transformers folder for
/// full fine-tuning, the trained tensors for head-only and BitFit; always `training.json`.
pub fn saved_files(
    model: &BertForSequenceClassification,
    files: &ModelFiles,
    plan: &Plan,
    labels: &[String],
    reports: &[EpochReport],
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let reports: Vec<serde_json::Value> = reports.iter().map(|r| serde_json::to_value(r).expect("reports serialize")).collect();
    saved_files_from(&export::named_tensors(model), files, plan, labels, reports)
}

/// `saved_files` from tensors already read back (the page reads them asynchronously); `epochs` for training.json.
pub fn saved_files_from(
    tensors: &export::NamedTensors,
    files: &ModelFiles,
    plan: &Plan,
    labels: &[String],
    epochs: Vec<serde_json::Value>,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let config = encoder_config(&files.config_json)?;
    let mut out = match plan.method {
        Method::Lora => export::peft_adapter(tensors, &config, &plan.lora, plan.lora_dropout, &files.name)?,
        Method::Full => vec![
            ("config.json".into(), export::classifier_config_json(&files.config_json, labels)?.into_bytes()),
            ("model.safetensors".into(), export::model_safetensors(tensors)),
            ("tokenizer.json".into(), files.tokenizer_json.clone()),
        ],
        Method::Head | Method::Bitfit => vec![("trained.safetensors".into(), export::trained_tensors(tensors))],
    };
    let weights = out.iter().find(|(n, _)| n.ends_with(".safetensors")).map(|(n, _)| n.clone()).expect("a weights file");
    let record = TrainingRecord {
        method: plan.method.name().into(),
        base_model: files.name.clone(),
        labels: labels.to_vec(),
        max_len: plan.max_len,
        weights,
        epochs,
        seed: Some(plan.train.seed),
        val_fraction: Some(plan.val_fraction),
        merged_from: None,
    };
    out.push(("training.json".into(), (serde_json::to_string_pretty(&record).expect("json") + "\n").into_bytes()));
    Ok(out)
}

/// A model ready to classify.
#[derive(Clone)]
pub struct Classifier {
    pub config: EncoderConfig,
    pub model: BertForSequenceClassification,
    pub encoder: TextEncoder,
    pub labels: Vec<String>,
}

/// A saved folder (ours, or a PEFT adapter folder from Python), read and checked against the base model's config;
/// not yet on a device.
pub struct Saved {
    pub method: Method,
    /// For `Method::Lora`: the adapter's settings, and the modules (full Hugging Face names) they place LoRA on.
    pub lora: LoraConfig,
    pub lora_modules: Vec<String>,
    /// Every tensor the folder holds, by model name (PEFT's prefixes taken off).
    pub tensors: Overrides,
    pub labels: Vec<String>,
    /// Tokens per text the model was trained with (`training.json`), if recorded.
    pub max_len: Option<usize>,
    /// The weights file, for messages.
    pub weights_name: String,
}

/// Reads `saved` (file name -> bytes); `training.json` is optional (labels then default to `LABEL_i`).
pub fn read_saved(config: &EncoderConfig, saved: &BTreeMap<String, Vec<u8>>) -> Result<Saved, Error> {
    let record: Option<TrainingRecord> = match saved.get("training.json") {
        Some(b) => Some(serde_json::from_slice(b).map_err(|e| Error::json("training.json", &e))?),
        None => None,
    };
    // lora_dropout only matters while training; a loaded folder is for inference.
    let (method, lora, weights_name) = if let Some(text) = saved.get("adapter_config.json") {
        let text = std::str::from_utf8(text).map_err(|_| Error::invalid("adapter_config.json", "is not UTF-8"))?;
        let (lora, _dropout) = export::read_adapter_config(text)?;
        (Method::Lora, lora, "adapter_model.safetensors".to_string())
    } else if let Some(r) = &record {
        (Method::parse(&r.method)?, LoraConfig::default(), r.weights.clone())
    } else {
        return Err(Error::invalid("adapter", "has neither adapter_config.json nor training.json"));
    };
    let bytes = saved.get(&weights_name).ok_or_else(|| Error::invalid("adapter", format!("{weights_name} is missing")))?;
    let file = SafeTensors::parse(&weights_name, bytes)?;
    let tensors = if method == Method::Lora { export::read_peft_weights(&file)? } else { export::read_model_weights(&file)? };
    let num_labels = match (tensors.get("classifier.weight"), tensors.get("classifier.bias")) {
        (Some((_, w)), Some((_, b))) if w.len() == 2 && b[..] == [w[0]] => w[0],
        _ => {
            return Err(Error::invalid(
                weights_name,
                "has no classifier.weight [num_labels, hidden] with classifier.bias [num_labels]: not a sequence-classification head",
            ));
        }
    };
    let labels = match &record {
        Some(r) if r.labels.len() == num_labels => r.labels.clone(),
        Some(r) => {
            return Err(Error::invalid("training.json", format!("lists {} labels but the classifier has {num_labels}", r.labels.len())));
        }
        None => (0..num_labels).map(|i| format!("LABEL_{i}")).collect(),
    };
    let lora_modules = if method == Method::Lora { lora_modules(config, num_labels, &lora)? } else { Vec::new() };
    // Every adapter tensor must land somewhere: a key the model does not have means another base model.
    for key in tensors.keys().filter(|k| k.contains(".lora_")) {
        let module = key.split(".lora_").next().unwrap_or_default();
        if !lora_modules.iter().any(|m| m == module) {
            return Err(Error::invalid(
                &weights_name,
                format!("{key}: no such LoRA module in this base model with this adapter_config.json (another base model?)"),
            ));
        }
    }
    // And every module the config targets must have both matrices: a missing one would silently stay a no-op.
    for module in &lora_modules {
        for matrix in ["lora_A", "lora_B"] {
            if !tensors.contains_key(&format!("{module}.{matrix}.weight")) {
                return Err(Error::invalid(
                    &weights_name,
                    format!(
                        "has no {module}.{matrix}.weight, which adapter_config.json targets \
                         (a damaged adapter, or one saved with other target_modules/layers_to_transform?)"
                    ),
                ));
            }
        }
    }
    Ok(Saved { method, lora, lora_modules, tensors, labels, max_len: record.map(|r| r.max_len), weights_name })
}

impl Saved {
    /// The folder laid over `base` (see `graft`: tensors the folder does not replace are shared with `base`),
    /// with the tokenizer at the folder's max length.
    pub fn classifier(self, base: &BertForSequenceClassification, config: &EncoderConfig, tokenizer_json: &[u8]) -> Result<Classifier, Error> {
        let lora = LoraLinearConfig::from_peft(&self.lora, 0.0);
        let model = graft(base, &self.lora_modules, lora, &self.tensors, &self.weights_name)?;
        let encoder = TextEncoder::from_bytes(tokenizer_json, self.max_len.unwrap_or(config.max_position_embeddings.min(512)))?;
        Ok(Classifier { config: config.clone(), model, encoder, labels: self.labels })
    }
}

/// The base model for grafting, in inference mode. Its head is a placeholder every adapter replaces: the
/// checkpoint's own if it has one (a fine-tuned model as base), else a fresh one.
pub fn base_model(config: &EncoderConfig, files: &ModelFiles, device: &Device) -> Result<BertForSequenceClassification, Error> {
    let weights = SafeTensors::parse("model.safetensors", &files.safetensors)?;
    let num_labels = checkpoint_num_labels(&weights).unwrap_or(2);
    Ok(burn::module::Module::valid(&build(config, Weights::Checkpoint(weights), num_labels, None, device)?))
}

/// Reads a saved folder (see `read_saved`) over the base model: the base built once, the saved tensors grafted
/// over it (what the page's adapter set does for each of its adapters).
pub fn load_trained(files: &ModelFiles, saved: &BTreeMap<String, Vec<u8>>, device: &Device) -> Result<Classifier, Error> {
    let config = encoder_config(&files.config_json)?;
    let s = read_saved(&config, saved)?;
    s.classifier(&base_model(&config, files, device)?, &config, &files.tokenizer_json)
}

impl Classifier {
    /// Class probabilities for each text, in `labels` order.
    pub async fn predict_async(&self, texts: &[String], batch_size: usize, device: &Device) -> Result<Vec<Vec<f32>>, Error> {
        self.scores(texts, batch_size, device, true).await
    }

    /// The raw logits for each text, in `labels` order (what PEFT's model returns, for comparing with it).
    pub async fn logits_async(&self, texts: &[String], batch_size: usize, device: &Device) -> Result<Vec<Vec<f32>>, Error> {
        self.scores(texts, batch_size, device, false).await
    }

    /// `logits_async`, natively.
    pub fn logits(&self, texts: &[String], batch_size: usize, device: &Device) -> Result<Vec<Vec<f32>>, Error> {
        futures_lite::future::block_on(self.logits_async(texts, batch_size, device))
    }

    async fn scores(&self, texts: &[String], batch_size: usize, device: &Device, probabilities: bool) -> Result<Vec<Vec<f32>>, Error> {
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
