//! The encoder's hyper-parameters, read from a Hugging Face `config.json` with transformers' defaults.

use crate::accounting::arch::HfConfig;
use crate::error::Error;

/// BERT and RoBERTa differ in position ids (RoBERTa counts from `pad_token_id + 1`), token types, and the names
/// and dropouts of the classification head (`paths::flavor_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Flavor {
    Bert,
    Roberta,
}

impl Flavor {
    /// `config.json`'s `model_type`.
    pub fn model_type(self) -> &'static str {
        match self {
            Flavor::Bert => "bert",
            Flavor::Roberta => "roberta",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EncoderConfig {
    pub flavor: Flavor,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub hidden_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    /// `classifier_dropout`, falling back to `hidden_dropout_prob` as `BertForSequenceClassification` does.
    pub classifier_dropout: f64,
    pub pad_token_id: usize,
    /// `initializer_range`: the std of the classifier's normal initialisation.
    pub initializer_range: f64,
}

impl EncoderConfig {
    pub fn from_hf(config: &HfConfig) -> Result<Self, Error> {
        let model_type = config.model_type()?;
        let flavor = match model_type.as_str() {
            "bert" => Flavor::Bert,
            "roberta" => Flavor::Roberta,
            other => {
                return Err(Error::invalid(
                    "model_type",
                    format!("training supports bert and roberta encoders; this config is '{other}'"),
                ));
            }
        };
        let (vocab, positions, types) = match flavor {
            Flavor::Bert => (30522, 512, 2),
            Flavor::Roberta => (50265, 514, 1),
        };
        let hidden = config.size_or("hidden_size", Some(768))? as usize;
        let heads = config.size_or("num_attention_heads", Some(12))? as usize;
        if hidden % heads != 0 {
            return Err(Error::invalid("num_attention_heads", format!("hidden_size ({hidden}) must be divisible by it ({heads})")));
        }
        let act = config.string_or("hidden_act", "gelu")?;
        if act != "gelu" {
            return Err(Error::invalid("hidden_act", format!("'{act}' is not supported; this encoder implements \"gelu\" (erf)")));
        }
        let hidden_dropout = config.float_or("hidden_dropout_prob", 0.1)?;
        Ok(Self {
            flavor,
            vocab_size: config.size_or("vocab_size", Some(vocab))? as usize,
            hidden_size: hidden,
            num_hidden_layers: config.size_or("num_hidden_layers", Some(12))? as usize,
            num_attention_heads: heads,
            intermediate_size: config.size_or("intermediate_size", Some(3072))? as usize,
            max_position_embeddings: config.size_or("max_position_embeddings", Some(positions))? as usize,
            type_vocab_size: config.size_or("type_vocab_size", Some(types))? as usize,
            layer_norm_eps: config.float_or("layer_norm_eps", 1e-12)?,
            hidden_dropout_prob: hidden_dropout,
            attention_probs_dropout_prob: config.float_or("attention_probs_dropout_prob", 0.1)?,
            classifier_dropout: config.optional_float("classifier_dropout")?.unwrap_or(hidden_dropout),
            pad_token_id: config.index_or("pad_token_id", if flavor == Flavor::Roberta { 1 } else { 0 })?,
            initializer_range: config.float_or("initializer_range", 0.02)?,
        })
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// A small random-weight BERT for tests and the browser's smoke runs.
    pub fn tiny(vocab_size: usize) -> Self {
        Self {
            flavor: Flavor::Bert,
            vocab_size,
            hidden_size: 16,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 32,
            max_position_embeddings: 64,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            classifier_dropout: 0.1,
            pad_token_id: 0,
            initializer_range: 0.02,
        }
    }

    /// The same model as a `config.json`, so the calculator can count it.
    pub fn to_hf_json(&self) -> String {
        serde_json::json!({
            "model_type": self.flavor.model_type(),
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "intermediate_size": self.intermediate_size,
            "max_position_embeddings": self.max_position_embeddings,
            "type_vocab_size": self.type_vocab_size,
            "layer_norm_eps": self.layer_norm_eps,
            "hidden_dropout_prob": self.hidden_dropout_prob,
            "attention_probs_dropout_prob": self.attention_probs_dropout_prob,
            "pad_token_id": self.pad_token_id,
            "initializer_range": self.initializer_range,
        })
        .to_string()
    }
}
