//! The trainable encoder (burn): configuration, the LoRA layer, the BERT blocks, their Hugging Face names and
//! checkpoint loading.

pub mod attention;
pub mod auto;
pub mod bert;
pub mod config;
pub mod embeddings;
pub mod export;
pub mod files;
pub mod gpt2;
pub mod graft;
pub mod layer;
pub mod load;
pub mod lora;
pub mod matching;
pub mod methods;
pub mod modernbert;
pub mod paths;
pub mod tiny;
