//! The sequence classifier a `config.json`'s `model_type` picks, as transformers' `AutoModelForSequenceClassification`
//! does: BERT, RoBERTa and DistilBERT (one post-norm encoder under each one's names, `bert.rs`), GPT-2
//! (`gpt2.rs`) or ModernBERT (`modernbert.rs`). The trainer, the walks over parameters and the exports all take this
//! one type. The dispatch by family lives here and only here: reading a config (`read_config`, by `model_type`) and
//! building its model (`build`, by `Flavor`); adding a family adds one line to each.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::bert::{BertForSequenceClassification, BertForSequenceClassificationConfig};
use super::config::{self, EncoderConfig};
use super::gpt2::{Gpt2ForSequenceClassification, Gpt2ForSequenceClassificationConfig};
use super::input::EncoderInput;
use super::load::{Loader, LoraPlacement, Overrides, Weights};
use super::modernbert::{ModernBertForSequenceClassification, ModernBertForSequenceClassificationConfig};
use super::packed::Base;
use crate::accounting::arch::HfConfig;
use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;

#[derive(Module, Debug)]
pub enum AutoModelForSequenceClassification {
    /// BERT, RoBERTa or DistilBERT (its `flavor` says which).
    Bert(BertForSequenceClassification),
    Gpt2(Gpt2ForSequenceClassification),
    ModernBert(ModernBertForSequenceClassification),
}

impl AutoModelForSequenceClassification {
    /// Which architecture: it names the parameters (`paths::flavor_name`).
    pub fn flavor(&self) -> Flavor {
        match self {
            Self::Bert(m) => m.flavor,
            Self::Gpt2(_) => Flavor::Gpt2,
            Self::ModernBert(_) => Flavor::ModernBert,
        }
    }

    /// # Shapes
    /// - input: ids and mask `[batch, seq]`
    /// - output: logits `[batch, num_labels]`
    pub fn forward(&self, input: &EncoderInput) -> Tensor<2> {
        match self {
            Self::Bert(m) => m.forward(input),
            Self::Gpt2(m) => m.forward(input),
            Self::ModernBert(m) => m.forward(input),
        }
    }

    /// The backbone's last hidden state `[batch, seq, hidden]`, before any head.
    pub fn encode(&self, input: &EncoderInput) -> Tensor<3> {
        match self {
            Self::Bert(m) => m.bert.encode(input),
            Self::Gpt2(m) => m.transformer.forward(input),
            Self::ModernBert(m) => m.model.forward(input),
        }
    }

    pub fn num_labels(&self) -> usize {
        match self {
            Self::Bert(m) => m.num_labels(),
            Self::Gpt2(m) => m.num_labels(),
            Self::ModernBert(m) => m.num_labels(),
        }
    }
}

/// The family's reader for a `config.json` (transformers' `AutoConfig`): its names and transformers' defaults.
pub fn read_config(config: &HfConfig) -> Result<EncoderConfig, Error> {
    match config.model_type()?.as_str() {
        "bert" => config::bert::encoder_config(config, Flavor::Bert),
        "roberta" => config::bert::encoder_config(config, Flavor::Roberta),
        "distilbert" => config::bert::distilbert_config(config),
        "gpt2" => config::gpt2::encoder_config(config),
        "modernbert" => config::modernbert::encoder_config(config),
        other => Err(Error::invalid(
            "model_type",
            format!("training supports bert, roberta, distilbert, modernbert and gpt2; this config is '{other}'"),
        )),
    }
}

/// Builds the sequence classifier `config` describes for `num_labels` on `device`.
pub fn build(
    config: &EncoderConfig,
    weights: Weights<'_>,
    num_labels: usize,
    lora: Option<LoraPlacement<'_>>,
    device: &Device,
) -> Result<AutoModelForSequenceClassification, Error> {
    build_with(config, weights, None, num_labels, lora, (0, Base::Float32), device)
}

/// `build`, with trained tensors laid over the checkpoint's, random values (LoRA A, a fresh head, a random model)
/// drawn from `seed`, and the frozen linear layers held as `base` says (float32, or NF4 for QLoRA).
pub fn build_with(
    config: &EncoderConfig,
    weights: Weights<'_>,
    overrides: Option<&Overrides>,
    num_labels: usize,
    lora: Option<LoraPlacement<'_>>,
    (seed, base): (u64, Base),
    device: &Device,
) -> Result<AutoModelForSequenceClassification, Error> {
    use AutoModelForSequenceClassification::{Bert, Gpt2, ModernBert};
    let mut loader = Loader::new(config, weights, overrides, lora, seed, device)?.with_base(base);
    Ok(match config.flavor {
        Flavor::Gpt2 => Gpt2(Gpt2ForSequenceClassificationConfig::from_encoder(config, num_labels).init(&mut loader)?),
        Flavor::ModernBert => {
            ModernBert(ModernBertForSequenceClassificationConfig::from_encoder(config, num_labels)?.init(&mut loader)?)
        }
        Flavor::Bert | Flavor::Roberta | Flavor::Distilbert => {
            Bert(BertForSequenceClassificationConfig::from_encoder(config, num_labels).init(&mut loader)?)
        }
        Flavor::Llama | Flavor::Qwen2 | Flavor::Gemma3Text => {
            return Err(Error::invalid(
                "model_type",
                format!(
                    "{} is a language model: it is built by causal::build, not as a classifier",
                    config.flavor.model_type()
                ),
            ));
        }
    })
}
