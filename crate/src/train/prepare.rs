//! From bytes to a model ready to train: the model files and a dataset in, the model (LoRA placed, `require_grad`
//! set for the method) and its tokenized, seeded split out.

use burn::tensor::Device;

use super::batch::TextEncoder;
use super::config::Sample;
use super::plan::Plan;
use crate::accounting::lora_config::Bias;
use crate::data::{Dataset, Example, split::stratified};
use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::auto::build_with;
use crate::model::config::EncoderConfig;
use crate::model::files::ModelFiles;
use crate::model::load::{LoraPlacement, Overrides, Weights};
use crate::model::lora::LoraLinearConfig;
use crate::model::methods::{Method, apply, lora_modules};
use crate::safetensors::SafeTensors;

/// Everything a run needs, built from the files, the data and the plan.
pub struct Prepared {
    pub config: EncoderConfig,
    pub model: AutoModelForSequenceClassification,
    pub encoder: TextEncoder,
    pub train: Vec<Sample>,
    pub val: Vec<Sample>,
    pub labels: Vec<String>,
    /// Texts longer than `max_len` tokens (cut).
    pub truncated: usize,
}

fn tokenize(encoder: &TextEncoder, examples: &[Example], truncated: &mut usize) -> Result<Vec<Sample>, Error> {
    examples
        .iter()
        .map(|e| {
            let (tokens, cut) = encoder.encode_truncated(&e.text).map_err(|mut err| {
                err.line = Some(e.line);
                err
            })?;
            *truncated += usize::from(cut);
            Ok(Sample { tokens, label: e.label })
        })
        .collect()
}

/// Builds the model for `plan` (seeded: the same seed gives the same adapter and head) and the tokenized split.
pub fn prepare(files: &ModelFiles, plan: &Plan, data: &Dataset, device: &Device) -> Result<Prepared, Error> {
    prepare_with(files, plan, data, None, device)
}

/// `prepare`, with trained tensors (by Hugging Face name) laid over the fresh model: a run carried on.
pub fn prepare_with(
    files: &ModelFiles,
    plan: &Plan,
    data: &Dataset,
    overrides: Option<&Overrides>,
    device: &Device,
) -> Result<Prepared, Error> {
    plan.validate()?;
    let config = files.encoder_config()?;
    if plan.max_len > config.max_position_embeddings {
        return Err(Error::invalid(
            "max_len",
            format!(
                "{} is longer than the model's max_position_embeddings ({})",
                plan.max_len, config.max_position_embeddings
            ),
        ));
    }
    let encoder = TextEncoder::from_bytes(&files.tokenizer_json, plan.max_len)?;
    let (train_ex, val_ex) = stratified(&data.examples, data.labels.len(), plan.val_fraction, plan.train.seed);
    let mut truncated = 0;
    let train = tokenize(&encoder, &train_ex, &mut truncated)?;
    let val = tokenize(&encoder, &val_ex, &mut truncated)?;
    let model = build_model(&config, files, overrides, data.labels.len(), plan, device)?;
    Ok(Prepared { config, model, encoder, train, val, labels: data.labels.clone(), truncated })
}

/// The model with LoRA placed (for `Method::Lora`) and `require_grad` set for the plan's method.
pub fn build_model(
    config: &EncoderConfig,
    files: &ModelFiles,
    overrides: Option<&Overrides>,
    num_labels: usize,
    plan: &Plan,
    device: &Device,
) -> Result<AutoModelForSequenceClassification, Error> {
    let (lora, is_lora) = (&plan.lora, plan.method == Method::Lora);
    let modules = if is_lora { lora_modules(config, num_labels, lora)? } else { Vec::new() };
    let placement = is_lora
        .then(|| LoraPlacement { modules: &modules, config: LoraLinearConfig::from_peft(lora, plan.lora_dropout) });
    let weights = SafeTensors::parse("model.safetensors", &files.safetensors)?;
    // Dropout draws from the backend's generator; everything else random comes from the seed via `crate::rng`.
    let seed = plan.train.seed;
    device.seed(seed);
    let model =
        build_with(config, Weights::Checkpoint(weights), overrides, num_labels, placement, (seed, plan.base), device)?;
    let bias = if is_lora { lora.bias } else { Bias::None };
    Ok(apply(model, config, plan.method, bias, &modules))
}
