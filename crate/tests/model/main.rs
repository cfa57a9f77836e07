//! The burn models against transformers and PEFT: parity per architecture, LoRA as PEFT defines it, reproducible
//! builds, and what is inside a trained adapter.
//! One test binary per area (each links burn once); a file per subject inside it.

mod arch_parity;
mod bert_parity;
mod decoder_parity;
mod encoder_nf4;
mod gguf_real;
mod gguf_synthetic;
mod inspect;
mod model;
mod nf4_parity;
mod reproducible;
