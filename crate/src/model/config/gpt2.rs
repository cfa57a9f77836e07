//! GPT-2's `config.json` (`GPT2Config`'s names and defaults).

use super::EncoderConfig;
use crate::accounting::arch::HfConfig;
use crate::accounting::arch::flavor::Flavor;
use crate::accounting::arch::gpt2::Gpt2Sizes;
use crate::error::Error;

/// `GPT2Config`'s names and defaults (`n_embd`, `n_layer`, `n_head`, `n_inner` = 4 `n_embd` when null,
/// `n_positions`, `resid_pdrop`, `embd_pdrop`, `attn_pdrop`, `layer_norm_epsilon`). GPT-2 has no padding token;
/// transformers' sequence classifier needs one, and, as is usual, the end-of-text token stands in for it
/// (`pad_token_id`, else `eos_token_id`).
pub fn encoder_config(config: &HfConfig) -> Result<EncoderConfig, Error> {
    let s = Gpt2Sizes::read(config)?;
    let act = config.string_or("activation_function", "gelu_new")?;
    if act != "gelu_new" {
        return Err(Error::invalid(
            "activation_function",
            format!("'{act}' is not supported; GPT-2 here computes \"gelu_new\""),
        ));
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
    Ok(EncoderConfig {
        flavor: Flavor::Gpt2,
        vocab_size: s.vocab_size as usize,
        hidden_size: s.n_embd as usize,
        num_hidden_layers: s.n_layer as usize,
        num_attention_heads: s.n_head as usize,
        intermediate_size: s.n_inner as usize,
        max_position_embeddings: s.n_positions as usize,
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
