//! A training run advanced one optimizer step at a time, so its caller decides what happens between steps: the
//! CLI draws a progress bar, the browser worker answers pause, resume and stop, and posts progress to the page.
//! Values are read back with `into_data_async`, the only readback WebGPU allows in a browser; natively
//! `futures_lite::future::block_on` drives the same code (the `train` loop and the tests).
//!
//! The order of random draws is the contract that makes a seed mean the same run on the CPU and on WebGPU: each
//! epoch shuffles `0..n` afresh with the seeded generator, then walks it in batches.

use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::adamw::{AdamW, OptimizerState};
use super::config::{Sample, TrainConfig, optimizer};
use super::readback::read_scalar;
use super::schedule::LinearSchedule;
use super::shares::{Share, ShareExample, ShareGradients, add_gradients, share_gradients, split};
use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::config::EncoderConfig;
use crate::rng::Rng;

/// What one step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// 1-based epoch the step belongs to.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    pub steps_per_epoch: usize,
    /// Steps done so far in the whole run (this one included).
    pub global_step: usize,
    pub total_steps: usize,
    /// The batch's mean cross-entropy.
    pub loss: f64,
    /// The learning rate this step used.
    pub lr: f64,
    pub batch_size: usize,
    /// This step ended its epoch: time to evaluate.
    pub epoch_done: bool,
    /// Mean training loss over the epoch so far (weighted by batch size).
    pub epoch_train_loss: f64,
}

/// Where a run stands between two steps: with the trained tensors and AdamW's moments, enough to carry it on
/// exactly, on another device or in another process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPosition {
    pub epoch: usize,
    pub next_batch: usize,
    pub global: usize,
    pub loss_sum: f64,
    pub seen: usize,
    pub rng_state: u64,
    pub order: Vec<usize>,
}

pub struct Run {
    /// `None` only while a step holds it (burn's optimizer takes the model by value).
    model: Option<AutoModelForSequenceClassification>,
    optim: AdamW,
    schedule: LinearSchedule,
    batch_size: usize,
    epochs: usize,
    rng: Rng,
    /// The plan's seed: each step's dropout masks are drawn from it and the step's number (below).
    seed: u64,
    n_train: usize,
    order: Vec<usize>,
    epoch: usize,
    /// Index of the next batch within the epoch.
    next_batch: usize,
    global: usize,
    loss_sum: f64,
    seen: usize,
    /// The step begun and not yet finished.
    pending: Option<Pending>,
}

/// A step between `begin_step` and `finish_step`.
struct Pending {
    own: Share,
    /// How many shares went to other workers.
    others: usize,
    /// This run's own share's gradients and loss, once computed.
    computed: Option<(GradientsParams, Tensor<1>)>,
}

impl Run {
    pub fn new(model: AutoModelForSequenceClassification, config: &TrainConfig, n_train: usize) -> Self {
        let batch_size = config.batch_size.max(1);
        let total = n_train.div_ceil(batch_size) * config.epochs;
        let schedule = LinearSchedule {
            peak_lr: config.lr,
            warmup_steps: (total as f64 * config.warmup_ratio).round() as usize,
            total_steps: total,
        };
        let mut run = Self {
            model: Some(model),
            optim: optimizer(config),
            schedule,
            batch_size,
            epochs: config.epochs,
            rng: Rng::new(config.seed),
            seed: config.seed,
            n_train,
            order: Vec::new(),
            epoch: 0,
            next_batch: 0,
            global: 0,
            loss_sum: 0.0,
            seen: 0,
            pending: None,
        };
        run.start_epoch();
        run
    }

    /// A run carried on from `position` with `model` (its trained tensors laid in) and AdamW's moments laid back
    /// on `device` (the autodiff device the run trains on).
    pub fn resume(
        model: AutoModelForSequenceClassification,
        config: &TrainConfig,
        n_train: usize,
        position: RunPosition,
        optimizer: &OptimizerState,
        device: &Device,
    ) -> Self {
        let mut run = Self::new(model, config, n_train);
        run.optim.load_state(optimizer, &device.clone().inner());
        run.epoch = position.epoch;
        run.next_batch = position.next_batch;
        run.global = position.global;
        run.loss_sum = position.loss_sum;
        run.seen = position.seen;
        run.rng = Rng::new(position.rng_state);
        run.order = position.order;
        run
    }

    pub fn position(&self) -> RunPosition {
        RunPosition {
            epoch: self.epoch,
            next_batch: self.next_batch,
            global: self.global,
            loss_sum: self.loss_sum,
            seen: self.seen,
            rng_state: self.rng.state(),
            order: self.order.clone(),
        }
    }

    fn start_epoch(&mut self) {
        self.epoch += 1;
        self.next_batch = 0;
        self.loss_sum = 0.0;
        self.seen = 0;
        self.order = (0..self.n_train).collect();
        self.rng.shuffle(&mut self.order);
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.n_train.div_ceil(self.batch_size)
    }

    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.epochs
    }

    pub fn global_step(&self) -> usize {
        self.global
    }

    pub fn finished(&self) -> bool {
        self.global >= self.total_steps()
    }

    /// AdamW's moments read back to the host.
    pub async fn optimizer_state(&self) -> Result<OptimizerState, Error> {
        self.optim.state().await
    }

    pub fn model(&self) -> &AutoModelForSequenceClassification {
        self.model.as_ref().expect("the model is only taken during a step")
    }

    pub fn into_model(self) -> AutoModelForSequenceClassification {
        self.model.expect("the model is only taken during a step")
    }

    /// One optimizer step on the next batch of `train` (which must be the `n_train` samples the run was made for).
    pub async fn step(
        &mut self,
        encoder: &EncoderConfig,
        train: &[Sample],
        device: &Device,
    ) -> Result<StepReport, Error> {
        self.begin_step(train, 1)?;
        self.compute_own(encoder, device);
        self.finish_step(Vec::new(), device).await
    }

    /// Cuts the next batch into `workers` shares (`shares::split`) and returns all but the first, which this run
    /// computes itself (`compute_own`); `finish_step` takes the others' gradients. Nothing advances until
    /// `finish_step`: a step begun again (a worker lost) cuts the same batch.
    pub fn begin_step(&mut self, train: &[Sample], workers: usize) -> Result<Vec<Share>, Error> {
        if self.finished() {
            return Err(Error::invalid("run", "has finished every epoch"));
        }
        if train.len() != self.n_train {
            return Err(Error::invalid(
                "train",
                format!("has {} samples; the run was made for {}", train.len(), self.n_train),
            ));
        }
        if self.next_batch == self.steps_per_epoch() {
            self.start_epoch();
        }
        let start = self.next_batch * self.batch_size;
        let end = (start + self.batch_size).min(self.n_train);
        let examples = self.order[start..end].iter().map(|&i| ShareExample::new(&train[i], i as u64)).collect();
        let mut shares = split(examples, workers, step_seed(self.seed, self.global)).into_iter();
        let own = shares.next().expect("a batch has at least one example");
        let others: Vec<Share> = shares.collect();
        self.pending = Some(Pending { own, others: others.len(), computed: None });
        Ok(others)
    }

    /// The gradients of this run's own share of the begun step.
    pub fn compute_own(&mut self, encoder: &EncoderConfig, device: &Device) {
        let Some(pending) = self.pending.as_mut() else { return };
        // Dropout outside a run's forward pass draws from the backend's generator; seeded per step all the same.
        device.seed(pending.own.seed);
        let model = self.model.as_ref().expect("the model is only taken during a step");
        pending.computed = Some(share_gradients(model, encoder, &pending.own, device));
    }

    /// Adds the other workers' gradients to this run's own, takes one optimizer step and reports it.
    pub async fn finish_step(&mut self, others: Vec<ShareGradients>, device: &Device) -> Result<StepReport, Error> {
        let pending = self.pending.take().ok_or_else(|| Error::invalid("run", "no step begun"))?;
        let (mut grads, own_loss) =
            pending.computed.ok_or_else(|| Error::invalid("run", "the step's own share was not computed"))?;
        if others.len() != pending.others {
            return Err(Error::invalid(
                "gradients",
                format!("{} workers answered; the step was cut for {}", others.len(), pending.others),
            ));
        }
        let inner = device.clone().inner();
        let mut loss = 0.0;
        for other in &others {
            add_gradients(self.model(), &mut grads, &other.gradients, &inner)?;
            loss += other.loss;
        }
        let lr = self.schedule.lr(self.global);
        let model = self.model.take().expect("the model is only taken during a step");
        self.model = Some(self.optim.step(lr, model, grads));
        let loss = loss + read_scalar(own_loss).await?;
        let batch = pending.own.batch_size;
        self.next_batch += 1;
        self.global += 1;
        self.loss_sum += loss * batch as f64;
        self.seen += batch;
        Ok(StepReport {
            epoch: self.epoch,
            step: self.next_batch,
            steps_per_epoch: self.steps_per_epoch(),
            global_step: self.global,
            total_steps: self.total_steps(),
            loss,
            lr,
            batch_size: batch,
            epoch_done: self.next_batch == self.steps_per_epoch(),
            epoch_train_loss: self.loss_sum / self.seen.max(1) as f64,
        })
    }
}

/// The dropout seed of step `global` of a run seeded `seed` (SplitMix64 of both, so neighbours differ), cut to 53
/// bits: a share crosses between workers as JSON, which JavaScript would read as a number holding 53.
fn step_seed(seed: u64, global: usize) -> u64 {
    Rng::new(seed ^ (global as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).next_u64() >> 11
}

/// Forward, backward and one optimizer step on `batch` (its examples numbered from 0 for their dropout masks,
/// step seed 0); the loss comes back as a tensor, unread, so that the caller can read it the way its platform allows.
pub fn forward_backward_step(
    model: AutoModelForSequenceClassification,
    optim: &mut AdamW,
    lr: f64,
    encoder: &EncoderConfig,
    batch: &[&Sample],
    device: &Device,
) -> (AutoModelForSequenceClassification, Tensor<1>) {
    let examples = batch.iter().enumerate().map(|(i, s)| ShareExample::new(s, i as u64)).collect();
    let share = split(examples, 1, 0).remove(0);
    let (grads, loss) = share_gradients(&model, encoder, &share, device);
    (optim.step(lr, model, grads), loss)
}
