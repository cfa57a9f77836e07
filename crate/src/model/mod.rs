//! The trainable encoder (burn): configuration, the LoRA layer, the BERT modules and checkpoint loading.

pub mod bert;
pub mod config;
pub mod load;
pub mod lora;
pub mod export;
pub mod files;
pub mod graft;
pub mod methods;
pub mod tiny;
