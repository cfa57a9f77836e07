//! The trainable models (burn): BERT, RoBERTa and DistilBERT (one post-norm encoder), GPT-2 and ModernBERT,
//! picked by `model_type` (`auto`); their configuration, the LoRA layer, their Hugging Face names, the walks over
//! their parameters and checkpoint loading.

pub mod attention;
pub mod auto;
pub mod bert;
pub mod causal;
pub mod checkpoint_keys;
pub mod config;
pub mod dropout;
pub mod embeddings;
pub mod export;
pub mod files;
pub mod gpt2;
pub mod graft;
pub mod input;
pub mod layer;
pub mod load;
pub mod lora;
pub mod matching;
pub mod methods;
pub mod modernbert;
pub mod packed;
pub mod paths;
pub mod rotary;
pub mod tiny;
pub mod token_embedding;
pub mod walk;
