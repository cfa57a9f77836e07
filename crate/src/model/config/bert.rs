//! BERT's, RoBERTa's and DistilBERT's `config.json` (one post-norm encoder under three sets of names).

use super::{EncoderConfig, check_gelu};
use crate::accounting::arch::HfConfig;
use crate::accounting::arch::bert::BertSizes;
use crate::accounting::arch::distilbert::DistilBertSizes;
use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;

/// `BertConfig`'s and `RobertaConfig`'s names and defaults (`flavor` is `Bert` or `Roberta`: RoBERTa's vocabulary,
/// positions, token types and padding id differ): the sizes as the calculator reads them (`BertSizes`), the rest here.
pub fn encoder_config(config: &HfConfig, flavor: Flavor) -> Result<EncoderConfig, Error> {
    let s = BertSizes::read(config, flavor)?;
    check_gelu(&config.string_or("hidden_act", "gelu")?, "hidden_act")?;
    let hidden_dropout = config.float_or("hidden_dropout_prob", 0.1)?;
    Ok(EncoderConfig {
        flavor,
        vocab_size: s.vocab_size as usize,
        hidden_size: s.hidden_size as usize,
        num_hidden_layers: s.num_hidden_layers as usize,
        num_attention_heads: s.num_attention_heads as usize,
        intermediate_size: s.intermediate_size as usize,
        max_position_embeddings: s.max_position_embeddings as usize,
        type_vocab_size: s.type_vocab_size as usize,
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
pub fn distilbert_config(config: &HfConfig) -> Result<EncoderConfig, Error> {
    let s = DistilBertSizes::read(config)?;
    check_gelu(&config.string_or("activation", "gelu")?, "activation")?;
    let dropout = config.float_or("dropout", 0.1)?;
    Ok(EncoderConfig {
        flavor: Flavor::Distilbert,
        vocab_size: s.vocab_size as usize,
        hidden_size: s.dim as usize,
        num_hidden_layers: s.n_layers as usize,
        num_attention_heads: s.n_heads as usize,
        intermediate_size: s.hidden_dim as usize,
        max_position_embeddings: s.max_position_embeddings as usize,
        type_vocab_size: 0,
        layer_norm_eps: 1e-12,
        hidden_dropout_prob: dropout,
        embedding_dropout_prob: dropout,
        attention_probs_dropout_prob: config.float_or("attention_dropout", 0.1)?,
        classifier_dropout: config.float_or("seq_classif_dropout", 0.2)?,
        pad_token_id: config.index_or("pad_token_id", 0)?,
        initializer_range: config.float_or("initializer_range", 0.02)?,
        sinusoidal_pos_embds: s.sinusoidal_pos_embds,
        modernbert: None,
    })
}
