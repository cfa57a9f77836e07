//! An `EncoderConfig` written back as a `config.json` in its architecture's own keys, for the calculator (which
//! reads configs as transformers does, each architecture by its own field names).

use super::{EncoderConfig, Pooling};
use crate::accounting::arch::flavor::Flavor;

impl EncoderConfig {
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
                let layer_types: Vec<&str> = o
                    .windows
                    .iter()
                    .map(|w| if w.is_some() { "sliding_attention" } else { "full_attention" })
                    .collect();
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
