//! A saved folder, written and read side by side so the two cannot drift: what `train` saves (PEFT's adapter
//! files for LoRA, a transformers folder for full fine-tuning, the trained tensors for head-only and BitFit, always
//! `training.json`), and what reading such a folder back (ours or one Python PEFT wrote) gives, checked against
//! the base model's config.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fit::EpochReport;
use super::frozen::{self, FrozenCheck};
use super::plan::Plan;
use crate::accounting::arch::Task;
use crate::accounting::lora_config::{LoraConfig, TargetModules};
use crate::accounting::report::{self, Setup};
use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::config::EncoderConfig;
use crate::model::export;
use crate::model::files::ModelFiles;
use crate::model::load::Overrides;
use crate::model::methods::{Method, lora_modules};
use crate::model::paths::{head_bias, head_weight};
use crate::safetensors::SafeTensors;

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
    /// The whole plan as `Plan::to_json` writes it (what the page's link and the CLI's flags set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Value>,
    /// The data it trained on, as `--data` named it (`builtin:complaints`, a path): what `export-run` writes
    /// beside the script. The page's runs leave it out (the page exports its data itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// PEFT's `get_nb_trainable_parameters()` for the run (the calculator's figures for a LoRA run; the live
    /// model's for the other methods), what `export-run` sets beside the script's own count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trainable: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<u64>,
    /// `"lora"` for a model `merge` folded an adapter into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<String>,
    /// The frozen tensors' checksum in the checkpoint and after the run (`frozen.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen: Option<FrozenCheck>,
}

/// The files to save for a trained model (name, bytes): PEFT's adapter files for LoRA, a transformers folder for
/// full fine-tuning, the trained tensors for head-only and BitFit; always `training.json`.
pub fn saved_files(
    model: &AutoModelForSequenceClassification,
    files: &ModelFiles,
    plan: &Plan,
    labels: &[String],
    reports: &[EpochReport],
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let reports: Vec<serde_json::Value> =
        reports.iter().map(|r| serde_json::to_value(r).expect("reports serialize")).collect();
    let live = crate::model::methods::count(model);
    saved_files_from(&export::named_tensors(model), files, plan, labels, reports, (live.trainable, live.total))
}

/// `saved_files` from tensors already read back (the page reads them asynchronously); `epochs` for training.json,
/// `live` the model's (trainable, all) parameters.
pub fn saved_files_from(
    tensors: &export::NamedTensors,
    files: &ModelFiles,
    plan: &Plan,
    labels: &[String],
    epochs: Vec<serde_json::Value>,
    live: (u64, u64),
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let config = files.encoder_config()?;
    let mut out = match plan.method {
        Method::Lora => export::peft_adapter(tensors, &config, &plan.lora, plan.lora_dropout, &files.name)?,
        Method::Full => vec![
            ("config.json".into(), export::classifier_config_json(&files.config_json, labels)?.into_bytes()),
            ("model.safetensors".into(), export::model_safetensors(tensors)),
            ("tokenizer.json".into(), files.tokenizer_json.clone()),
        ],
        Method::Head | Method::Bitfit => vec![("trained.safetensors".into(), export::trained_tensors(tensors))],
    };
    let peft = peft_counts(files, plan, labels.len()).unwrap_or(live);
    let weights =
        out.iter().find(|(n, _)| n.ends_with(".safetensors")).map(|(n, _)| n.clone()).expect("a weights file");
    let record = TrainingRecord {
        method: plan.method.name().into(),
        base_model: files.name.clone(),
        labels: labels.to_vec(),
        max_len: plan.max_len,
        weights,
        epochs,
        seed: Some(plan.train.seed),
        val_fraction: Some(plan.val_fraction),
        plan: Some(plan.to_json()),
        data: None,
        trainable: Some(peft.0),
        all: Some(peft.1),
        merged_from: None,
        frozen: frozen::check(tensors, files, config.flavor)?,
    };
    out.push(("training.json".into(), record.to_bytes()));
    Ok(out)
}

/// PEFT's `get_nb_trainable_parameters()` for a LoRA run, as the calculator computes it (checked against PEFT): the
/// live model holds its head once, PEFT's `all` counts the frozen original head and the trained copy
/// `modules_to_save` makes. Other methods have no PEFT wrapper: their live counts are what a script counts.
pub fn peft_counts(files: &ModelFiles, plan: &Plan, num_labels: usize) -> Option<(u64, u64)> {
    if plan.method != Method::Lora {
        return None;
    }
    calculator(files, num_labels, plan.lora.clone()).map(|r| (r.trainable, r.all))
}

/// The calculator's report for the loaded model with `num_labels` classes and `lora`.
fn calculator(files: &ModelFiles, num_labels: usize, lora: LoraConfig) -> Option<report::Report> {
    let setup = Setup {
        config_json: Some(files.config_json.clone()),
        task: Task::SeqCls,
        num_labels: num_labels as u64,
        lora,
        ..Setup::default()
    };
    report::compute(&setup).ok()
}

/// What a run of `plan` will count before there is one: PEFT's figures for LoRA, the calculator's method costs
/// (the model's own parameters) for full fine-tuning, head-only and BitFit.
pub fn expected_counts(files: &ModelFiles, plan: &Plan, num_labels: usize) -> Option<(u64, u64)> {
    let name = match plan.method {
        Method::Lora => return peft_counts(files, plan, num_labels),
        Method::Full => "full",
        Method::Head => "head_only",
        Method::Bitfit => "bitfit",
    };
    // The method costs do not depend on LoRA's settings, but the setup must name a valid target.
    let lora = LoraConfig {
        target_modules: Some(TargetModules::Shorthand(TargetModules::ALL_LINEAR.into())),
        ..LoraConfig::default()
    };
    let r = calculator(files, num_labels, lora)?;
    r.methods.iter().find(|m| m.method == name).map(|m| (m.trainable, m.all))
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
    /// The run's frozen-weights proof from `training.json`, when the folder is one of ours.
    pub frozen: Option<FrozenCheck>,
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
    let bytes =
        saved.get(&weights_name).ok_or_else(|| Error::invalid("adapter", format!("{weights_name} is missing")))?;
    let file = SafeTensors::parse(&weights_name, bytes)?;
    let tensors =
        if method == Method::Lora { export::read_peft_weights(&file)? } else { export::read_model_weights(&file)? };
    let (weight, bias) = (head_weight(config.flavor), head_bias(config.flavor));
    // GPT-2's `score` has no bias; every other head has one of its width.
    let num_labels = match (tensors.get(&weight), bias.as_ref().map(|b| tensors.get(b))) {
        (Some((_, w)), None) if w.len() == 2 => w[0],
        (Some((_, w)), Some(Some((_, b)))) if w.len() == 2 && b[..] == [w[0]] => w[0],
        _ => {
            let bias = bias.map_or(String::new(), |b| format!(" with {b} [num_labels]"));
            return Err(Error::invalid(
                weights_name,
                format!(
                    "has no {weight} [num_labels, hidden]{bias}: not a sequence-classification head for this {} base",
                    config.flavor.model_type()
                ),
            ));
        }
    };
    let labels = match &record {
        Some(r) if r.labels.len() == num_labels => r.labels.clone(),
        Some(r) => {
            return Err(Error::invalid(
                "training.json",
                format!("lists {} labels but the classifier has {num_labels}", r.labels.len()),
            ));
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
                format!(
                    "{key}: no such LoRA module in this base model with this adapter_config.json (another base model?)"
                ),
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
    let frozen = record.as_ref().and_then(|r| r.frozen.clone());
    Ok(Saved { method, lora, lora_modules, tensors, labels, max_len: record.map(|r| r.max_len), weights_name, frozen })
}

impl TrainingRecord {
    /// `training.json`'s bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        (serde_json::to_string_pretty(self).expect("a record serializes") + "\n").into_bytes()
    }
}
