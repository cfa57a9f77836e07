//! How the loop trains (`TrainConfig`, AdamW as transformers' Trainer sets it up) and what it trains on (`Sample`).

use super::adamw::AdamW;
use super::batch::Tokens;

#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// AdamW's decoupled weight decay (transformers' Trainer default 0.0; 0.01 is the common choice).
    pub weight_decay: f64,
    /// Share of all steps spent warming up linearly from 0.
    pub warmup_ratio: f64,
    /// Clip each gradient tensor to this L2 norm (burn's `GradientClippingConfig::Norm`).
    pub max_grad_norm: f64,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        // lr 3e-3: LoRA's usual rate (`Method::usual_lr`, which a plan without an lr takes for its method).
        Self { epochs: 3, batch_size: 16, lr: 3e-3, weight_decay: 0.01, warmup_ratio: 0.1, max_grad_norm: 1.0, seed: 0 }
    }
}

/// A labelled, tokenized example.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub tokens: Tokens,
    /// Index into the dataset's labels.
    pub label: usize,
}

/// AdamW with `epsilon` 1e-8 (torch's default), decoupled weight decay and per-tensor gradient clipping.
pub fn optimizer(config: &TrainConfig) -> AdamW {
    AdamW::new(config.weight_decay, config.max_grad_norm)
}
