//! ModernBERT's `config.json`: the sizes every encoder has, and what only ModernBERT has (`ModernBertOptions`).

use super::{EncoderConfig, ModernBertOptions, Pooling};
use crate::accounting::arch::HfConfig;
use crate::accounting::arch::flavor::Flavor;
use crate::accounting::arch::modernbert::ModernBertSizes;
use crate::error::Error;

impl ModernBertOptions {
    /// From `config.json`, old style (`global_attn_every_n_layers`, `global_rope_theta`, `local_rope_theta`, as
    /// `answerdotai/ModernBERT-base` has it) or new (`layer_types`, `rope_parameters`), with `ModernBertConfig`'s
    /// defaults.
    /// The biases are the calculator's reading (`sizes`), not read again.
    pub fn from_hf(config: &HfConfig, sizes: &ModernBertSizes) -> Result<Self, Error> {
        let layers = sizes.num_hidden_layers as usize;
        let half = config.size_or("local_attention", Some(128))? as usize / 2;
        let types = config.get("layer_types");
        let types: Option<Vec<String>> =
            (!types.is_null()).then(|| serde_json::from_value(types.clone())).transpose().map_err(|_| {
                Error::invalid("layer_types", "must be a list of \"full_attention\" / \"sliding_attention\"")
            })?;
        let windows = match types {
            Some(t) if t.len() != layers => {
                return Err(Error::invalid("layer_types", format!("has {} entries for {layers} layers", t.len())));
            }
            Some(t) => t
                .iter()
                .map(|k| match k.as_str() {
                    "full_attention" => Ok(None),
                    "sliding_attention" => Ok(Some(half)),
                    other => Err(Error::invalid(
                        "layer_types",
                        format!("'{other}' is not full_attention or sliding_attention"),
                    )),
                })
                .collect::<Result<_, _>>()?,
            None => {
                let every = config.size_or("global_attn_every_n_layers", Some(3))? as usize;
                (0..layers).map(|i| (i % every != 0).then_some(half)).collect()
            }
        };
        let theta = |kind: &str, old: &str, default: f64| -> Result<f64, Error> {
            let p = &config.get("rope_parameters")[kind];
            if let Some(t) = p.get("rope_type").and_then(|t| t.as_str()).filter(|t| *t != "default") {
                return Err(Error::invalid(
                    "rope_parameters",
                    format!("rope_type '{t}' is not supported; this ModernBERT computes \"default\""),
                ));
            }
            Ok(p.get("rope_theta").and_then(|t| t.as_f64()).map_or(config.float_or(old, default), Ok)?)
        };
        for key in ["hidden_activation", "classifier_activation"] {
            let act = config.string_or(key, "gelu")?;
            if act != "gelu" {
                return Err(Error::invalid(
                    key,
                    format!("'{act}' is not supported; this ModernBERT computes \"gelu\" (erf)"),
                ));
            }
        }
        let pooling = match config.string_or("classifier_pooling", "cls")?.as_str() {
            "cls" => Pooling::Cls,
            "mean" => Pooling::Mean,
            other => return Err(Error::invalid("classifier_pooling", format!("'{other}' is not cls or mean"))),
        };
        Ok(Self {
            windows,
            global_rope_theta: theta("full_attention", "global_rope_theta", 160_000.0)?,
            local_rope_theta: theta("sliding_attention", "local_rope_theta", 10_000.0)?,
            norm_bias: sizes.norm_bias,
            attention_bias: sizes.attention_bias,
            mlp_bias: sizes.mlp_bias,
            classifier_bias: sizes.classifier_bias,
            pooling,
        })
    }
}

/// `ModernBertConfig`'s names and defaults (`norm_eps`, `embedding_dropout`, `mlp_dropout`,
/// `attention_dropout`, `classifier_dropout`, all 0 by default), and its own settings (`ModernBertOptions`).
pub fn encoder_config(config: &HfConfig) -> Result<EncoderConfig, Error> {
    let s = ModernBertSizes::read(config)?;
    let layers = s.num_hidden_layers as usize;
    Ok(EncoderConfig {
        flavor: Flavor::ModernBert,
        vocab_size: s.vocab_size as usize,
        hidden_size: s.hidden_size as usize,
        num_hidden_layers: layers,
        num_attention_heads: s.num_attention_heads as usize,
        intermediate_size: s.intermediate_size as usize,
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
        modernbert: Some(ModernBertOptions::from_hf(config, &s)?),
    })
}
