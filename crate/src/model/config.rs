//! The encoder's hyper-parameters, read from a Hugging Face `config.json` with transformers' defaults.

use super::modernbert::ModernBertOptions;
use crate::accounting::arch::HfConfig;
use crate::error::Error;

/// The post-norm encoders one burn model computes. BERT and RoBERTa differ in position ids (RoBERTa counts from
/// `pad_token_id + 1`), token types, and the names and dropouts of the classification head; DistilBERT has no
/// token types, a `pre_classifier` with ReLU where BERT's pooler has tanh, and its own names for everything
/// (`paths::flavor_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Flavor {
    Bert,
    Roberta,
    Distilbert,
    /// GPT-2, its own model (`gpt2.rs`), named as transformers names it.
    Gpt2,
    /// ModernBERT, its own model (`modernbert.rs`), named as transformers names it.
    ModernBert,
}

impl Flavor {
    pub const ALL: [Flavor; 5] = [Flavor::Bert, Flavor::Roberta, Flavor::Distilbert, Flavor::Gpt2, Flavor::ModernBert];

    /// `config.json`'s `model_type`.
    pub fn model_type(self) -> &'static str {
        match self {
            Flavor::Bert => "bert",
            Flavor::Roberta => "roberta",
            Flavor::Distilbert => "distilbert",
            Flavor::Gpt2 => "gpt2",
            Flavor::ModernBert => "modernbert",
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
    /// Dropout on the summed embeddings: `hidden_dropout_prob` in the BERT family, GPT-2's `embd_pdrop`.
    pub embedding_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    /// `classifier_dropout`, falling back to `hidden_dropout_prob` as `BertForSequenceClassification` does.
    pub classifier_dropout: f64,
    pub pad_token_id: usize,
    /// `initializer_range`: the std of the classifier's normal initialisation.
    pub initializer_range: f64,
    /// DistilBERT's `sinusoidal_pos_embds`: the position table holds fixed sinusoids and never trains
    /// (transformers sets `requires_grad = False` on it).
    pub sinusoidal_pos_embds: bool,
    /// ModernBERT's own settings (its layers' windows and rotary thetas, biases, pooling); None for the others.
    pub modernbert: Option<ModernBertOptions>,
}

impl EncoderConfig {
    pub fn from_hf(config: &HfConfig) -> Result<Self, Error> {
        let model_type = config.model_type()?;
        let flavor = match model_type.as_str() {
            "bert" => Flavor::Bert,
            "roberta" => Flavor::Roberta,
            "distilbert" => return Self::from_distilbert(config),
            "gpt2" => return super::gpt2::encoder_config(config),
            "modernbert" => return super::modernbert::encoder_config(config),
            other => {
                return Err(Error::invalid(
                    "model_type",
                    format!(
                        "training supports bert, roberta, distilbert, modernbert and gpt2; this config is '{other}'"
                    ),
                ));
            }
        };
        let (vocab, positions, types) = match flavor {
            Flavor::Roberta => (50265, 514, 1),
            _ => (30522, 512, 2),
        };
        let hidden = config.size_or("hidden_size", Some(768))? as usize;
        let heads = config.size_or("num_attention_heads", Some(12))? as usize;
        check_heads(hidden, heads, "hidden_size", "num_attention_heads")?;
        check_gelu(&config.string_or("hidden_act", "gelu")?, "hidden_act")?;
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
            embedding_dropout_prob: hidden_dropout,
            attention_probs_dropout_prob: config.float_or("attention_probs_dropout_prob", 0.1)?,
            classifier_dropout: config.optional_float("classifier_dropout")?.unwrap_or(hidden_dropout),
            pad_token_id: config.index_or("pad_token_id", if flavor == Flavor::Roberta { 1 } else { 0 })?,
            initializer_range: config.float_or("initializer_range", 0.02)?,
            sinusoidal_pos_embds: false,
            modernbert: None,
        })
    }

    /// `DistilBertConfig`'s names and defaults (`dim`, `n_layers`, `n_heads`, `hidden_dim`, `dropout`,
    /// `attention_dropout`, `seq_classif_dropout`); its LayerNorms use eps 1e-12 and it has no token types.
    fn from_distilbert(config: &HfConfig) -> Result<Self, Error> {
        let dim = config.size_or("dim", Some(768))? as usize;
        let heads = config.size_or("n_heads", Some(12))? as usize;
        check_heads(dim, heads, "dim", "n_heads")?;
        check_gelu(&config.string_or("activation", "gelu")?, "activation")?;
        let dropout = config.float_or("dropout", 0.1)?;
        Ok(Self {
            flavor: Flavor::Distilbert,
            vocab_size: config.size_or("vocab_size", Some(30522))? as usize,
            hidden_size: dim,
            num_hidden_layers: config.size_or("n_layers", Some(6))? as usize,
            num_attention_heads: heads,
            intermediate_size: config.size_or("hidden_dim", Some(3072))? as usize,
            max_position_embeddings: config.size_or("max_position_embeddings", Some(512))? as usize,
            type_vocab_size: 0,
            layer_norm_eps: 1e-12,
            hidden_dropout_prob: dropout,
            embedding_dropout_prob: dropout,
            attention_probs_dropout_prob: config.float_or("attention_dropout", 0.1)?,
            classifier_dropout: config.float_or("seq_classif_dropout", 0.2)?,
            pad_token_id: config.index_or("pad_token_id", 0)?,
            initializer_range: config.float_or("initializer_range", 0.02)?,
            sinusoidal_pos_embds: config.flag_or("sinusoidal_pos_embds", false)?,
            modernbert: None,
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
            embedding_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            classifier_dropout: 0.1,
            pad_token_id: 0,
            initializer_range: 0.02,
            sinusoidal_pos_embds: false,
            modernbert: None,
        }
    }
}

pub(crate) fn check_heads(hidden: usize, heads: usize, hidden_key: &str, heads_key: &str) -> Result<(), Error> {
    if heads == 0 || hidden % heads != 0 {
        return Err(Error::invalid(heads_key, format!("{hidden_key} ({hidden}) must be divisible by it ({heads})")));
    }
    Ok(())
}

pub(crate) fn check_gelu(act: &str, key: &str) -> Result<(), Error> {
    if act != "gelu" {
        return Err(Error::invalid(key, format!("'{act}' is not supported; this encoder implements \"gelu\" (erf)")));
    }
    Ok(())
}
