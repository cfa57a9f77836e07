//! One training loop for every method: AdamW with weight decay, linear warm-up and decay, gradient clipping,
//! seeded shuffling. Frozen parameters have no gradient, so the optimizer never moves them.

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::grad_clipping::GradientClippingConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::Serialize;

use super::batch::{Tokens, to_input};
use super::metrics::{Metrics, metrics};
use super::schedule::LinearSchedule;
use crate::model::bert::BertForSequenceClassification;
use crate::model::config::EncoderConfig;
use crate::rng::Rng;

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
        Self { epochs: 3, batch_size: 16, lr: 2e-4, weight_decay: 0.01, warmup_ratio: 0.1, max_grad_norm: 1.0, seed: 0 }
    }
}

/// What one epoch did.
#[derive(Debug, Clone, Serialize)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    pub val_macro_f1: f64,
    pub examples_per_s: f64,
    pub seconds: f64,
    pub metrics: Metrics,
}

/// Progress the caller can show (a progress bar natively, messages in the browser).
pub enum Progress<'a> {
    Step { epoch: usize, step: usize, steps: usize, loss: f64 },
    Epoch(&'a EpochReport),
}

/// A labelled, tokenized example.
pub type Sample = (Tokens, usize);

pub fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    AdamWConfig::new()
        .with_epsilon(1e-8)
        .with_weight_decay(config.weight_decay as f32)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(config.max_grad_norm as f32)))
        .init()
}

/// Targets as an int tensor.
fn targets(labels: &[usize], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(labels.iter().map(|&l| l as i64).collect::<Vec<_>>(), [labels.len()]), device)
}

/// One optimizer step on a batch; returns the updated model and the batch's mean loss.
pub fn step(
    model: BertForSequenceClassification,
    optim: &mut ModuleOptimizer,
    lr: f64,
    encoder: &EncoderConfig,
    batch: &[&Sample],
    device: &Device,
) -> (BertForSequenceClassification, f64) {
    let tokens: Vec<&Tokens> = batch.iter().map(|s| &s.0).collect();
    let labels: Vec<usize> = batch.iter().map(|s| s.1).collect();
    let input = to_input(encoder, &tokens, device);
    let logits = model.forward(&input);
    let loss = CrossEntropyLossConfig::new().init(device).forward(logits, targets(&labels, device));
    let value = loss.clone().into_scalar::<f32>() as f64;
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(lr, model, grads), value)
}

/// Mean loss and predictions over `samples`, in inference mode (no dropout, no graph).
pub fn evaluate(
    model: &BertForSequenceClassification,
    encoder: &EncoderConfig,
    samples: &[Sample],
    batch_size: usize,
    device: &Device,
) -> (f64, Vec<usize>) {
    let model = model.valid();
    let device = device.clone().inner();
    let (mut total, mut predicted) = (0.0, Vec::with_capacity(samples.len()));
    for chunk in samples.chunks(batch_size.max(1)) {
        let tokens: Vec<&Tokens> = chunk.iter().map(|s| &s.0).collect();
        let labels: Vec<usize> = chunk.iter().map(|s| s.1).collect();
        let logits = model.forward(&to_input(encoder, &tokens, &device));
        let loss = CrossEntropyLossConfig::new().init(&device).forward(logits.clone(), targets(&labels, &device));
        total += loss.into_scalar::<f32>() as f64 * chunk.len() as f64;
        let best = logits.argmax(1).into_data();
        predicted.extend(best.iter::<i64>().map(|v| v as usize));
    }
    (total / samples.len().max(1) as f64, predicted)
}

/// Trains `model` (whose `require_grad` flags already say what trains) and reports each epoch.
#[allow(clippy::too_many_arguments)]
pub fn train(
    mut model: BertForSequenceClassification,
    config: &TrainConfig,
    encoder: &EncoderConfig,
    train: &[Sample],
    val: &[Sample],
    labels: &[String],
    device: &Device,
    mut on: impl FnMut(Progress<'_>),
) -> (BertForSequenceClassification, Vec<EpochReport>) {
    let mut optim = optimizer(config);
    let steps_per_epoch = train.len().div_ceil(config.batch_size.max(1));
    let total = steps_per_epoch * config.epochs;
    let schedule = LinearSchedule {
        peak_lr: config.lr,
        warmup_steps: (total as f64 * config.warmup_ratio).round() as usize,
        total_steps: total,
    };
    let mut rng = Rng::new(config.seed);
    let mut reports = Vec::new();
    let mut global = 0;
    for epoch in 1..=config.epochs {
        let started = Instant::now();
        let mut order: Vec<usize> = (0..train.len()).collect();
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for (i, chunk) in order.chunks(config.batch_size.max(1)).enumerate() {
            let batch: Vec<&Sample> = chunk.iter().map(|&j| &train[j]).collect();
            let (next, loss) = step(model, &mut optim, schedule.lr(global), encoder, &batch, device);
            model = next;
            global += 1;
            loss_sum += loss * chunk.len() as f64;
            on(Progress::Step { epoch, step: i + 1, steps: steps_per_epoch, loss });
        }
        let seconds = started.elapsed().as_secs_f64();
        let (val_loss, predicted) = evaluate(&model, encoder, val, config.batch_size, device);
        let truth: Vec<usize> = val.iter().map(|s| s.1).collect();
        let m = metrics(labels, &truth, &predicted);
        let report = EpochReport {
            epoch,
            train_loss: loss_sum / train.len().max(1) as f64,
            val_loss,
            val_accuracy: m.accuracy,
            val_macro_f1: m.macro_f1,
            examples_per_s: train.len() as f64 / seconds.max(1e-9),
            seconds,
            metrics: m,
        };
        on(Progress::Epoch(&report));
        reports.push(report);
    }
    (model, reports)
}

