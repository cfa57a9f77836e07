//! Seeded reproducibility, alone in its own test binary: burn's CPU random state (initialisation, dropout) is
//! process-wide, and tests inside one binary run in parallel threads that would draw from it concurrently.
#![cfg(feature = "train")]

use burn::tensor::Device;
use lora_playground::accounting::lora_config::{LoraConfig, TargetModules};
use lora_playground::model::auto::build;
use lora_playground::model::config::EncoderConfig;
use lora_playground::model::load::{LoraPlacement, Weights};
use lora_playground::model::lora::LoraLinearConfig;
use lora_playground::model::methods::{Method, apply, lora_modules};
use lora_playground::train::batch::Tokens;
use lora_playground::train::config::{Sample, TrainConfig};
use lora_playground::train::fit::{Progress, train};

fn run(seed: u64) -> Vec<f64> {
    let config = EncoderConfig::tiny(40);
    let device = Device::flex().autodiff();
    device.seed(seed);
    let lora = LoraConfig {
        r: 4,
        lora_alpha: 8.0,
        target_modules: Some(TargetModules::Names(vec!["query".into(), "value".into()])),
        ..LoraConfig::default()
    };
    let modules = lora_modules(&config, 3, &lora).unwrap();
    let adapter = LoraLinearConfig::new(4, 8.0).with_dropout(0.1);
    let m = build(&config, Weights::Random, 3, Some(LoraPlacement { modules: &modules, config: adapter }), &device)
        .unwrap();
    let m = apply(m, &config, Method::Lora, lora.bias, &modules);
    let data: Vec<Sample> = (0..30u32)
        .map(|i| Sample {
            tokens: Tokens { ids: vec![1, 3 + i % 30, 5 + i % 7, 2], type_ids: vec![0; 4] },
            label: (i % 3) as usize,
        })
        .collect();
    let labels: Vec<String> = (0..3).map(|i| i.to_string()).collect();
    let cfg = TrainConfig { epochs: 2, batch_size: 8, lr: 5e-3, seed, ..TrainConfig::default() };
    let mut losses = Vec::new();
    train(m, &cfg, &config, &data, &data[..9], &labels, &device, |p| {
        if let Progress::Step { loss, .. } = p {
            losses.push(loss);
        }
    });
    losses
}

#[test]
fn the_same_seed_gives_the_same_losses() {
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}
