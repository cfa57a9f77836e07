//! A language model's files, as bytes (what the CLI reads from disk and the page downloads): a Hugging Face folder
//! (`config.json`, `tokenizer.json`, `model.safetensors`, and a chat template from `chat_template.jinja` or
//! `tokenizer_config.json`) or one GGUF file holding all of it. `load` makes the model, its tokenizer and its chat
//! template, with a PEFT adapter when one is given, after checking that the files belong together.

use std::sync::Arc;

use serde_json::Value as Json;
use tokenizers::Tokenizer;

use super::chat::SpecialTokens;
use super::gguf;
use super::gguf_tokenizer;
use super::model::AutoModelForCausalLM;
use crate::accounting::arch::HfConfig;
use crate::error::Error;
use crate::gguf::Gguf;
use crate::model::config::decoder::DecoderConfig;
use crate::model::export::{read_adapter_config, read_peft_weights};
use crate::model::load::{LoraPlacement, Overrides, Weights};
use crate::model::lora::LoraLinearConfig;
use crate::model::packed::Base;
use crate::safetensors::SafeTensors;
use burn::tensor::Device;

use crate::model::token_embedding::TokenEmbedding;

pub enum LmSource {
    Folder {
        config_json: String,
        tokenizer_json: Vec<u8>,
        safetensors: Vec<u8>,
        /// `tokenizer_config.json`, when the folder has one (its `chat_template`, special tokens).
        tokenizer_config_json: Option<String>,
        /// `chat_template.jinja` (transformers 5 saves the template there).
        chat_template_jinja: Option<String>,
    },
    /// Shared: a weight the *as stored* base keeps in its blocks reads them here.
    Gguf(Arc<Vec<u8>>),
}

pub struct LmFiles {
    /// What to record as `base_model_name_or_path` (a Hub id, a folder, a file).
    pub name: String,
    pub source: LmSource,
    /// How the base's linear layers are held (float32, or NF4 for QLoRA).
    pub base: Base,
}

/// A PEFT adapter's two files.
pub struct AdapterFiles {
    pub config_json: String,
    pub safetensors: Vec<u8>,
}

/// A loaded language model with what it needs to read and write text.
pub struct LanguageModel {
    pub name: String,
    pub config: DecoderConfig,
    pub tokenizer: Tokenizer,
    /// The template and the file it came from.
    pub chat_template: Option<(String, String)>,
    pub special: SpecialTokens,
    pub model: AutoModelForCausalLM,
}

impl LmFiles {
    /// The model's files, its base in float32.
    pub fn new(name: impl Into<String>, source: LmSource) -> Self {
        Self { name: name.into(), source, base: Base::Float32 }
    }

    /// The same files, the base held as `base` says.
    pub fn with_base(self, base: Base) -> Self {
        Self { base, ..self }
    }

    /// The model's config, tokenizer and chat template, without its weights (what the page checks first).
    pub fn describe(&self) -> Result<(DecoderConfig, Tokenizer, Option<(String, String)>), Error> {
        match &self.source {
            LmSource::Folder { tokenizer_json, .. } => {
                let tokenizer = Tokenizer::from_bytes(tokenizer_json)
                    .map_err(|e| Error::invalid("tokenizer.json", format!("cannot be read: {e}")))?;
                Ok((self.config()?, tokenizer, self.chat_template()?))
            }
            // The file parsed once for all three.
            LmSource::Gguf(bytes) => {
                let g = Gguf::parse(&self.name, bytes)?;
                let config = super::read_config(&HfConfig::parse(&gguf::config_json(&g)?)?)?;
                Ok((config, gguf_tokenizer::tokenizer(&g)?, self.gguf_template(&g)?))
            }
        }
    }

    /// The model's config alone (the trainer needs no tokenizer: building a 262k-token one is not free).
    pub fn config(&self) -> Result<DecoderConfig, Error> {
        super::read_config(&HfConfig::parse(&self.config_and_size()?.0)?)
    }

    /// The chat template and the file it came from: a GGUF file's `tokenizer.chat_template`; a folder's
    /// `chat_template.jinja`, else `tokenizer_config.json`'s `chat_template`.
    pub fn chat_template(&self) -> Result<Option<(String, String)>, Error> {
        match &self.source {
            LmSource::Folder { tokenizer_config_json, chat_template_jinja, .. } => {
                let from_config = tokenizer_config_json
                    .as_deref()
                    .map(|t| serde_json::from_str::<Json>(t).map_err(|e| Error::json("tokenizer_config.json", &e)))
                    .transpose()?
                    .and_then(|v| v.get("chat_template").and_then(Json::as_str).map(str::to_string));
                Ok(match (chat_template_jinja, from_config) {
                    (Some(t), _) => Some((t.clone(), "chat_template.jinja".to_string())),
                    (None, Some(t)) => Some((t, "tokenizer_config.json".to_string())),
                    (None, None) => None,
                })
            }
            LmSource::Gguf(bytes) => self.gguf_template(&Gguf::parse(&self.name, bytes)?),
        }
    }

    fn gguf_template(&self, g: &Gguf<'_>) -> Result<Option<(String, String)>, Error> {
        Ok(g.str("tokenizer.chat_template")?.map(|t| (t.to_string(), self.name.clone())))
    }

    /// The model on `device`, with `adapter` when one is given.
    pub fn load(&self, adapter: Option<&AdapterFiles>, device: &Device) -> Result<LanguageModel, Error> {
        let (config, tokenizer, chat_template) = self.describe()?;
        check_vocabulary(&tokenizer, &config, self.tokenizer_file())?;
        let model = match adapter {
            None => self.build(&config, None, None, 0, self.base, None, device)?,
            Some(a) => {
                let (lora, dropout) = read_adapter_config(&a.config_json)?;
                let file = SafeTensors::parse("adapter_model.safetensors", &a.safetensors)?;
                let overrides: Overrides = read_peft_weights(&file)?;
                let targets = lora.target_modules.clone().ok_or_else(|| {
                    Error::invalid("adapter_config.json", "has no target_modules: which layers does it adapt?")
                })?;
                let modules = super::lora_modules(&config, &targets);
                if modules.is_empty() {
                    return Err(Error::invalid(
                        "adapter_config.json",
                        format!("target_modules {} names no layer of this model", targets.to_list()),
                    ));
                }
                let placement =
                    LoraPlacement { modules: &modules, config: LoraLinearConfig::from_peft(&lora, dropout) };
                self.build(&config, Some(&overrides), Some(placement), 0, self.base, None, device)?
            }
        };
        let token = |id: Option<u32>| id.and_then(|i| tokenizer.id_to_token(i));
        let special = SpecialTokens {
            bos_token: token(config.bos_token_id),
            eos_token: token(config.eos_token_ids.first().copied()),
        };
        Ok(LanguageModel { name: self.name.clone(), config, tokenizer, chat_template, special, model })
    }

    /// The model from these files' weights, with `overrides` (an adapter's A and B) and LoRA where `placement`
    /// says; random values (a fresh A) from `seed`.
    pub fn build(
        &self,
        config: &DecoderConfig,
        overrides: Option<&Overrides>,
        placement: Option<LoraPlacement<'_>>,
        seed: u64,
        base: Base,
        embedding: Option<TokenEmbedding>,
        device: &Device,
    ) -> Result<AutoModelForCausalLM, Error> {
        let (weights, file) = match &self.source {
            LmSource::Folder { safetensors, .. } => (SafeTensors::parse("model.safetensors", safetensors)?, None),
            LmSource::Gguf(bytes) => (gguf::weights(&Gguf::parse(&self.name, bytes)?, bytes)?, Some(bytes.clone())),
        };
        check_embeddings(&weights, config)?;
        let weights = Weights::Checkpoint(weights);
        super::build(config, weights, overrides, placement, seed, (base, file), embedding, device)
    }

    /// For a GGUF file, the bytes its tensors stored in float (not in blocks: norms, an F16 or F32 matrix) take once
    /// widened to float32, as the *as stored* base holds them; None for a folder, whose weights are all widened.
    pub fn float_bytes_beside_blocks(&self) -> Result<Option<u64>, Error> {
        let LmSource::Gguf(bytes) = &self.source else { return Ok(None) };
        let g = Gguf::parse(&self.name, bytes)?;
        Ok(Some(g.tensors.iter().filter(|t| t.kind.block_size() == 1).map(|t| 4 * t.elements() as u64).sum()))
    }

    /// The model's `config.json` (a GGUF file's as transformers reads it) and the bytes of its weights file.
    pub fn config_and_size(&self) -> Result<(String, u64), Error> {
        match &self.source {
            LmSource::Folder { config_json, safetensors, .. } => Ok((config_json.clone(), safetensors.len() as u64)),
            LmSource::Gguf(bytes) => Ok((gguf::config_json(&Gguf::parse(&self.name, bytes)?)?, bytes.len() as u64)),
        }
    }

    /// The files of a transformers model folder besides its weights: `config.json`, `tokenizer.json` and, when the
    /// model has one, `chat_template.jinja` (a GGUF file's as transformers reads it).
    pub fn folder_files(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let (config, tokenizer) = match &self.source {
            LmSource::Folder { config_json, tokenizer_json, .. } => (config_json.clone(), tokenizer_json.clone()),
            LmSource::Gguf(bytes) => {
                let g = Gguf::parse(&self.name, bytes)?;
                (gguf::config_json(&g)?, gguf_tokenizer::tokenizer_json(&g)?.to_string().into_bytes())
            }
        };
        let mut out = vec![("config.json".to_string(), config.into_bytes()), ("tokenizer.json".to_string(), tokenizer)];
        if let Some((template, _)) = self.chat_template()? {
            out.push(("chat_template.jinja".to_string(), template.into_bytes()));
        }
        Ok(out)
    }

    fn tokenizer_file(&self) -> &str {
        match self.source {
            LmSource::Folder { .. } => "tokenizer.json",
            LmSource::Gguf(_) => &self.name,
        }
    }
}

/// Every token the tokenizer can produce has a row in the embedding table, except special tokens the text model
/// never embeds (Gemma 3's `<image_soft_token>` at id 262144 = `vocab_size`, for its vision tower).
fn check_vocabulary(tokenizer: &Tokenizer, config: &DecoderConfig, file: &str) -> Result<(), Error> {
    let special: std::collections::HashSet<u32> =
        tokenizer.get_added_tokens_decoder().iter().filter(|(_, t)| t.special).map(|(&id, _)| id).collect();
    let beyond = tokenizer
        .get_vocab(true)
        .into_iter()
        .filter(|(_, id)| *id as usize >= config.vocab_size && !special.contains(id))
        .max_by_key(|(_, id)| *id);
    match beyond {
        Some((token, id)) => Err(Error::invalid(
            file,
            format!(
                "has token {token:?} at id {id} but the model's vocab_size is {}: the tokenizer is from another model",
                config.vocab_size
            ),
        )),
        None => Ok(()),
    }
}

/// The embedding table is `[vocab_size, hidden_size]`.
fn check_embeddings(weights: &SafeTensors<'_>, config: &DecoderConfig) -> Result<(), Error> {
    let name = ["model.embed_tokens.weight", "embed_tokens.weight"].into_iter().find(|n| weights.contains(n));
    let Some(name) = name else {
        return Err(Error::invalid(
            "model.safetensors",
            "has no model.embed_tokens.weight: not a language model's weights",
        ));
    };
    let want = [config.vocab_size, config.hidden_size];
    if weights.entries[name].shape != want {
        return Err(Error::invalid(
            "model.safetensors",
            format!(
                "{name} is {:?} but the config says vocab_size x hidden_size = {want:?}: the weights are from another model",
                weights.entries[name].shape
            ),
        ));
    }
    Ok(())
}
