//! The encoder's hyper-parameters, read from a Hugging Face `config.json` with transformers' defaults.

use super::modernbert::{ModernBertOptions, Pooling};
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
            "gpt2" => return Self::from_gpt2(config),
            "modernbert" => return Self::from_modernbert(config),
            other => {
                return Err(Error::invalid(
                    "model_type",
                    format!("training supports bert, roberta, distilbert, modernbert and gpt2; this config is '{other}'"),
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
            hidden_dropout_prob: config.float_or("dropout", 0.1)?,
            embedding_dropout_prob: config.float_or("dropout", 0.1)?,
            attention_probs_dropout_prob: config.float_or("attention_dropout", 0.1)?,
            classifier_dropout: config.float_or("seq_classif_dropout", 0.2)?,
            pad_token_id: config.index_or("pad_token_id", 0)?,
            initializer_range: config.float_or("initializer_range", 0.02)?,
            sinusoidal_pos_embds: config.flag_or("sinusoidal_pos_embds", false)?,
            modernbert: None,
        })
    }

    /// `GPT2Config`'s names and defaults (`n_embd`, `n_layer`, `n_head`, `n_inner` = 4 `n_embd` when null,
    /// `n_positions`, `resid_pdrop`, `embd_pdrop`, `attn_pdrop`, `layer_norm_epsilon`). GPT-2 has no padding token;
    /// transformers' sequence classifier needs one, and, as is usual, the end-of-text token stands in for it
    /// (`pad_token_id`, else `eos_token_id`).
    fn from_gpt2(config: &HfConfig) -> Result<Self, Error> {
        let n = config.size_or("n_embd", Some(768))? as usize;
        let heads = config.size_or("n_head", Some(12))? as usize;
        check_heads(n, heads, "n_embd", "n_head")?;
        let act = config.string_or("activation_function", "gelu_new")?;
        if act != "gelu_new" {
            return Err(Error::invalid("activation_function", format!("'{act}' is not supported; GPT-2 here computes \"gelu_new\"")));
        }
        for flag in ["scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"] {
            if config.flag_or(flag, false)? {
                return Err(Error::invalid(flag, "is true: not supported by this GPT-2"));
            }
        }
        if !config.flag_or("scale_attn_weights", true)? {
            return Err(Error::invalid("scale_attn_weights", "is false: not supported by this GPT-2"));
        }
        let eos = config.index_or("eos_token_id", 50256)?;
        Ok(Self {
            flavor: Flavor::Gpt2,
            vocab_size: config.size_or("vocab_size", Some(50257))? as usize,
            hidden_size: n,
            num_hidden_layers: config.size_or("n_layer", Some(12))? as usize,
            num_attention_heads: heads,
            intermediate_size: config.optional_size("n_inner")?.map_or(4 * n, |x| x as usize),
            max_position_embeddings: config.size_or("n_positions", Some(1024))? as usize,
            type_vocab_size: 0,
            layer_norm_eps: config.float_or("layer_norm_epsilon", 1e-5)?,
            hidden_dropout_prob: config.float_or("resid_pdrop", 0.1)?,
            embedding_dropout_prob: config.float_or("embd_pdrop", 0.1)?,
            attention_probs_dropout_prob: config.float_or("attn_pdrop", 0.1)?,
            // `GPT2ForSequenceClassification` scores the hidden state with no dropout before `score`.
            classifier_dropout: 0.0,
            pad_token_id: config.index_or("pad_token_id", eos)?,
            initializer_range: config.float_or("initializer_range", 0.02)?,
            sinusoidal_pos_embds: false,
            modernbert: None,
        })
    }

    /// `ModernBertConfig`'s names and defaults (`norm_eps`, `embedding_dropout`, `mlp_dropout`,
    /// `attention_dropout`, `classifier_dropout`, all 0 by default), and its own settings (`ModernBertOptions`).
    fn from_modernbert(config: &HfConfig) -> Result<Self, Error> {
        let hidden = config.size_or("hidden_size", Some(768))? as usize;
        let heads = config.size_or("num_attention_heads", Some(12))? as usize;
        check_heads(hidden, heads, "hidden_size", "num_attention_heads")?;
        let layers = config.size_or("num_hidden_layers", Some(22))? as usize;
        Ok(Self {
            flavor: Flavor::ModernBert,
            vocab_size: config.size_or("vocab_size", Some(50368))? as usize,
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            intermediate_size: config.size_or("intermediate_size", Some(1152))? as usize,
            max_position_embeddings: config.size_or("max_position_embeddings", Some(8192))? as usize,
            type_vocab_size: 0,
            layer_norm_eps: config.float_or("norm_eps", 1e-5)?,
            hidden_dropout_prob: config.float_or("mlp_dropout", 0.0)?,
            embedding_dropout_prob: config.float_or("embedding_dropout", 0.0)?,
            attention_probs_dropout_prob: config.float_or("attention_dropout", 0.0)?,
            classifier_dropout: config.float_or("classifier_dropout", 0.0)?,
            pad_token_id: config.index_or("pad_token_id", 50283)?,
            initializer_range: config.float_or("initializer_range", 0.02)?,
            sinusoidal_pos_embds: false,
            modernbert: Some(ModernBertOptions::from_hf(config, layers)?),
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

    /// The same model as a `config.json` (in its architecture's own keys), so the calculator can count it.
    pub fn to_hf_json(&self) -> String {
        let v = match self.flavor {
            Flavor::Distilbert => serde_json::json!({
                "model_type": "distilbert",
                "vocab_size": self.vocab_size,
                "dim": self.hidden_size,
                "n_layers": self.num_hidden_layers,
                "n_heads": self.num_attention_heads,
                "hidden_dim": self.intermediate_size,
                "max_position_embeddings": self.max_position_embeddings,
                "dropout": self.hidden_dropout_prob,
                "attention_dropout": self.attention_probs_dropout_prob,
                "seq_classif_dropout": self.classifier_dropout,
                "sinusoidal_pos_embds": self.sinusoidal_pos_embds,
                "pad_token_id": self.pad_token_id,
                "initializer_range": self.initializer_range,
            }),
            Flavor::Gpt2 => serde_json::json!({
                "model_type": "gpt2",
                "vocab_size": self.vocab_size,
                "n_embd": self.hidden_size,
                "n_layer": self.num_hidden_layers,
                "n_head": self.num_attention_heads,
                "n_inner": self.intermediate_size,
                "n_positions": self.max_position_embeddings,
                "layer_norm_epsilon": self.layer_norm_eps,
                "resid_pdrop": self.hidden_dropout_prob,
                "embd_pdrop": self.embedding_dropout_prob,
                "attn_pdrop": self.attention_probs_dropout_prob,
                "pad_token_id": self.pad_token_id,
                "initializer_range": self.initializer_range,
            }),
            Flavor::ModernBert => {
                let o = self.modernbert.as_ref().expect("a ModernBERT config has its options");
                let layer_types: Vec<&str> = o.windows.iter().map(|w| if w.is_some() { "sliding_attention" } else { "full_attention" }).collect();
                serde_json::json!({
                    "model_type": "modernbert",
                    "vocab_size": self.vocab_size,
                    "hidden_size": self.hidden_size,
                    "num_hidden_layers": self.num_hidden_layers,
                    "num_attention_heads": self.num_attention_heads,
                    "intermediate_size": self.intermediate_size,
                    "max_position_embeddings": self.max_position_embeddings,
                    "norm_eps": self.layer_norm_eps,
                    "norm_bias": o.norm_bias,
                    "attention_bias": o.attention_bias,
                    "mlp_bias": o.mlp_bias,
                    "classifier_bias": o.classifier_bias,
                    "classifier_pooling": if o.pooling == Pooling::Mean { "mean" } else { "cls" },
                    "layer_types": layer_types,
                    "local_attention": 2 * o.windows.iter().flatten().next().copied().unwrap_or(64),
                    "rope_parameters": {
                        "full_attention": { "rope_type": "default", "rope_theta": o.global_rope_theta },
                        "sliding_attention": { "rope_type": "default", "rope_theta": o.local_rope_theta },
                    },
                    "embedding_dropout": self.embedding_dropout_prob,
                    "mlp_dropout": self.hidden_dropout_prob,
                    "attention_dropout": self.attention_probs_dropout_prob,
                    "classifier_dropout": self.classifier_dropout,
                    "pad_token_id": self.pad_token_id,
                    "initializer_range": self.initializer_range,
                })
            }
            _ => serde_json::json!({
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
            }),
        };
        v.to_string()
    }
}

fn check_heads(hidden: usize, heads: usize, hidden_key: &str, heads_key: &str) -> Result<(), Error> {
    if heads == 0 || hidden % heads != 0 {
        return Err(Error::invalid(heads_key, format!("{hidden_key} ({hidden}) must be divisible by it ({heads})")));
    }
    Ok(())
}

fn check_gelu(act: &str, key: &str) -> Result<(), Error> {
    if act != "gelu" {
        return Err(Error::invalid(key, format!("'{act}' is not supported; this encoder implements \"gelu\" (erf)")));
    }
    Ok(())
}
