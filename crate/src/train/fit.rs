//! The native training loop (`train`: every epoch, evaluated after each) and evaluation, for every method.
//! Frozen parameters have no gradient, so the optimizer never moves them. The browser drives the same `Run`
//! one step at a time through `Workbench`.

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Device;
use futures_lite::future::block_on;
use serde::Serialize;

use super::adamw::AdamW;
use super::batch::targets;
use super::batch::{Tokens, to_input};
use super::config::{Sample, TrainConfig};
use super::metrics::{Metrics, metrics};
use super::readback::{read_data, read_scalar};
use super::run::{Run, forward_backward_step};
use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::config::EncoderConfig;

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

/// One optimizer step on a batch; returns the updated model and the batch's mean loss (native: reads the loss
/// synchronously; the browser goes through `Run::step`).
pub fn step(
    model: AutoModelForSequenceClassification,
    optim: &mut AdamW,
    lr: f64,
    encoder: &EncoderConfig,
    batch: &[&Sample],
    device: &Device,
) -> (AutoModelForSequenceClassification, f64) {
    let (model, loss) = forward_backward_step(model, optim, lr, encoder, batch, device);
    (model, block_on(read_scalar(loss)).expect("a CPU or native GPU result reads back"))
}

/// Mean loss and the classification metrics over `samples` (whose labels index `labels`), in inference mode (no
/// dropout, no graph): the evaluation after each epoch, for the CLI loop and for the page's job alike.
pub async fn evaluate(
    model: &AutoModelForSequenceClassification,
    encoder: &EncoderConfig,
    samples: &[Sample],
    labels: &[String],
    batch_size: usize,
    device: &Device,
) -> Result<(f64, Metrics), Error> {
    let model = model.valid();
    let device = device.clone().inner();
    let (mut total, mut predicted) = (0.0, Vec::with_capacity(samples.len()));
    for chunk in samples.chunks(batch_size.max(1)) {
        let tokens: Vec<&Tokens> = chunk.iter().map(|s| &s.tokens).collect();
        let labels: Vec<usize> = chunk.iter().map(|s| s.label).collect();
        let logits = model.forward(&to_input(encoder, &tokens, &device));
        let loss = CrossEntropyLossConfig::new().init(&device).forward(logits.clone(), targets(&labels, &device));
        total += read_scalar(loss).await? * chunk.len() as f64;
        let best = read_data(logits.argmax(1)).await?;
        predicted.extend(best.iter::<i64>().map(|v| v as usize));
    }
    let truth: Vec<usize> = samples.iter().map(|s| s.label).collect();
    Ok((total / samples.len().max(1) as f64, metrics(labels, &truth, &predicted)))
}

/// Trains `model` (whose `require_grad` flags already say what trains) and reports each epoch.
#[allow(clippy::too_many_arguments)]
pub fn train(
    model: AutoModelForSequenceClassification,
    config: &TrainConfig,
    encoder: &EncoderConfig,
    train: &[Sample],
    val: &[Sample],
    labels: &[String],
    device: &Device,
    mut on: impl FnMut(Progress<'_>),
) -> (AutoModelForSequenceClassification, Vec<EpochReport>) {
    let mut run = Run::new(model, config, train.len());
    let mut reports = Vec::new();
    for epoch in 1..=config.epochs {
        let started = Instant::now();
        let train_loss = loop {
            let s = block_on(run.step(encoder, train, device)).expect("a CPU or native GPU result reads back");
            on(Progress::Step { epoch, step: s.step, steps: s.steps_per_epoch, loss: s.loss });
            if s.epoch_done {
                break s.epoch_train_loss;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let (val_loss, m) = block_on(evaluate(run.model(), encoder, val, labels, config.batch_size, device))
            .expect("a CPU or native GPU result reads back");
        let report = EpochReport {
            epoch,
            train_loss,
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
    let model = run.into_model();
    (model, reports)
}
