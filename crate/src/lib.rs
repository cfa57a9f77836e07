//! LoRA Playground's core: architectures and exact PEFT accounting (no tensors), and, in later layers,
//! the burn model and trainer. Nothing here knows about the browser; `wasm.rs` is the only boundary.

pub mod accounting;
pub mod bnb;
pub mod error;
pub mod f16;
#[cfg(not(target_arch = "wasm32"))]
pub mod float16;
pub mod gguf;
pub mod lesson;
pub mod safetensors;

pub mod rng;

#[cfg(feature = "train")]
pub mod data;
#[cfg(feature = "train")]
pub mod inspect;
#[cfg(feature = "train")]
pub mod model;
#[cfg(feature = "train")]
pub mod notebook;
#[cfg(feature = "train")]
pub mod readback;
#[cfg(feature = "train")]
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
