//! Merge and verify (PEFT's `merge_and_unload`): fold each adapter's `scaling * B A` into its base weight, check
//! that the merged model computes what the adapter did, and save it as a plain transformers model, which then
//! costs exactly what the base model costs at inference.

use serde::Serialize;

use super::classifier::Classifier;
use super::folder::TrainingRecord;
use super::metrics::argmax;
use crate::error::Error;
use crate::model::export;
use crate::model::files::ModelFiles;
use crate::model::walk::map_linears;

/// How closely the merged model reproduces the unmerged one on the same texts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MergeCheck {
    pub texts: usize,
    /// Largest `|merged - unmerged|` over every text's logits.
    pub max_abs_logit_diff: f32,
    /// Texts whose predicted label is the same both ways.
    pub same_prediction: usize,
}

impl Classifier {
    /// The same classifier with every adapter folded into its weight and no LoRA path left. `self` is unchanged
    /// (the merged model shares every tensor the merge does not touch), so keep it to have the adapter still.
    pub fn merged(&self) -> Classifier {
        Classifier { model: self.model.clone().merge(), ..self.clone() }
    }
}

/// Compares two models' logits for the same texts.
pub fn check(unmerged: &[Vec<f32>], merged: &[Vec<f32>]) -> MergeCheck {
    let mut check = MergeCheck { texts: unmerged.len().min(merged.len()), max_abs_logit_diff: 0.0, same_prediction: 0 };
    for (u, m) in unmerged.iter().zip(merged) {
        for (a, b) in u.iter().zip(m) {
            // NaN must not hide as "no difference".
            let d = (a - b).abs();
            check.max_abs_logit_diff = if d.is_nan() { f32::NAN } else { check.max_abs_logit_diff.max(d) };
        }
        if argmax(u) == argmax(m) {
            check.same_prediction += 1;
        }
    }
    check
}

/// The merged model as a transformers folder: `config.json` (the base's, with `BertForSequenceClassification`
/// and the labels), `model.safetensors` (Hugging Face names, no `lora_*` tensors), `tokenizer.json`, and a
/// `training.json` so `predict` reads the folder back.
pub fn merged_files(merged: &Classifier, base: &ModelFiles, max_len: usize) -> Result<Vec<(String, Vec<u8>)>, Error> {
    // A layer held packed (the NF4 base) is no parameter and would be missing from the file: a classifier merges into
    // its float32 base (the page's adapter set and `merge` build that base).
    let mut packed = None;
    let _ = map_linears(merged.model.clone(), |name, l| {
        if l.packed.is_some() && packed.is_none() {
            packed = Some(name.to_string());
        }
        l
    });
    if let Some(layer) = packed {
        return Err(Error::invalid(
            "base",
            format!("{layer} is held in 4 bits: merge the adapter into the float32 base model, then save it"),
        ));
    }
    let tensors = export::named_tensors(&merged.model);
    if tensors.keys().any(|k| k.contains(".lora_")) {
        return Err(Error::invalid("adapter", "the model is not merged (call Classifier::merged first)"));
    }
    let record = TrainingRecord {
        method: "full".into(),
        base_model: base.name.clone(),
        labels: merged.labels.clone(),
        max_len,
        weights: "model.safetensors".into(),
        epochs: Vec::new(),
        merged_from: Some("lora".into()),
        ..TrainingRecord::default()
    };
    Ok(vec![
        ("config.json".into(), export::classifier_config_json(&base.config_json, &merged.labels)?.into_bytes()),
        ("model.safetensors".into(), export::model_safetensors(&tensors)),
        ("tokenizer.json".into(), base.tokenizer_json.clone()),
        ("training.json".into(), record.to_bytes()),
    ])
}
