//! A Hugging Face model folder's three files, as bytes: what the CLI reads from disk and the page downloads.

use super::auto::read_config;
use super::config::EncoderConfig;
use crate::accounting::arch::HfConfig;
use crate::accounting::lora_config::{LoraConfig, TargetModules};
use crate::accounting::memory::Batch;
use crate::accounting::report::{Setup, architecture, compute};
use crate::error::Error;

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

/// The encoder a `config.json` describes, if the trainer trains it: a model over `MAX_PARAMS` is refused first, by
/// its size and what training it would need (the calculator still counts it), then anything not BERT-family.
pub fn encoder_config(config_json: &str) -> Result<EncoderConfig, Error> {
    let config = HfConfig::parse(config_json)?;
    too_big(&config, config_json)?;
    read_config(&config)
}

/// The most parameters the trainer takes: the largest presets it trains (BERT-base 110M, RoBERTa-base 125M,
/// ModernBERT-base 150M) train a lesson's few hundred texts in minutes on a laptop; the next (Gemma 3 270M) would
/// take several times longer per step on the page's CPU path, and the 7B models cannot fit a tab at all.
pub const MAX_PARAMS: u64 = 150_000_000;

fn too_big(config: &HfConfig, config_json: &str) -> Result<(), Error> {
    let setup = Setup {
        config_json: Some(config_json.to_string()),
        batch: Batch { batch_size: 16, seq_len: 64, ..Batch::default() },
        // all-linear: every decoder has it (PEFT has no default targets for some architectures).
        lora: LoraConfig {
            r: 8,
            lora_alpha: 16.0,
            target_modules: Some(TargetModules::Shorthand(TargetModules::ALL_LINEAR.into())),
            ..LoraConfig::default()
        },
        ..Setup::default()
    };
    // What the calculator cannot read is judged by its architecture instead (`auto::read_config`).
    let Ok(params) = architecture(&setup).map(|a| a.params()) else { return Ok(()) };
    if params <= MAX_PARAMS {
        return Ok(());
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let need = match compute(&setup) {
        Ok(r) => {
            let m = &r.memory;
            let over = if m.total > 4 << 30 { ", more than a browser tab's 4 GiB" } else { "" };
            format!(
                ": LoRA r=8 on all-linear at batch 16 x 64 tokens would need about {:.2} GiB in float32 (weights {:.2} GiB, \
                 activations {:.2} GiB){over}",
                gib(m.total),
                gib(m.frozen_weights + m.trainable_weights),
                gib(m.activations)
            )
        }
        Err(_) => String::new(),
    };
    let model_type = config.model_type()?;
    Err(Error::invalid(
        "model",
        format!(
            "this {model_type} model has {:.0}M parameters, more than the {}M the trainer takes{need}; the calculator still counts it",
            params as f64 / 1e6,
            MAX_PARAMS / 1_000_000
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounting::presets::{PRESETS, preset_config};

    #[test]
    fn presets_up_to_150m_train_and_bigger_ones_are_refused_by_their_size() {
        let mut trained = Vec::new();
        for (id, _) in PRESETS {
            let config = preset_config(id).unwrap();
            let params =
                architecture(&Setup { config_json: Some(config.into()), ..Setup::default() }).unwrap().params();
            match encoder_config(config) {
                // Every preset of at most 150M parameters trains: the six of issue 13.
                Ok(_) => {
                    assert!(params <= MAX_PARAMS, "{id}");
                    trained.push(id.to_string());
                }
                Err(e) => {
                    assert!(params > MAX_PARAMS && e.field == "model", "{id}: {}", e.message);
                    assert!(
                        e.message.contains(&format!("{:.0}M parameters", params as f64 / 1e6))
                            && e.message.contains("GiB"),
                        "{id}: {}",
                        e.message
                    );
                }
            }
        }
        assert_eq!(
            trained,
            [
                "all-MiniLM-L6-v2",
                "bert-base-uncased",
                "distilbert-base-uncased",
                "roberta-base",
                "ModernBERT-base",
                "gpt2"
            ]
        );
        let llama = encoder_config(preset_config("Llama-2-7b").unwrap()).unwrap_err();
        // Llama-2-7b as a sequence classifier: 6,738M published less its 131M LM head, which a classifier replaces.
        assert!(
            llama.message.contains("6607M parameters") && llama.message.contains("more than a browser tab's 4 GiB"),
            "{}",
            llama.message
        );
        let gemma = encoder_config(preset_config("gemma-3-270m").unwrap()).unwrap_err();
        assert!(gemma.message.contains("268M parameters") && !gemma.message.contains("4 GiB"), "{}", gemma.message);
    }
}
