//! A training job driven from outside, one call at a time: the browser worker's whole model side. It owns the
//! model files, the tokenized split and the `Run`; every call returns plain serializable data, and everything it
//! reads back from the device is read asynchronously. Natively testable (`block_on`), so the browser's training is
//! the same code the CLI runs, and the same seed gives the same losses.

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::activation::softmax;
use serde::Serialize;

use super::batch::{TextEncoder, to_input};
use super::config::Sample;
use super::fit::evaluate;
use super::folder::saved_files_from;
use super::metrics::{Metrics, argmax};
use super::plan::Plan;
use super::prepare::prepare_with;
use super::readback::{read_floats, read_named_tensors, trainable_tensors};
use super::replica::Replica;
use super::run::{Run, StepReport};
use super::shares::{HostTensors, Share, ShareGradients, read_weights};
use super::snapshot::Snapshot;
use crate::data::Dataset;
use crate::error::Error;
use crate::model::config::EncoderConfig;
use crate::model::files::ModelFiles;
use crate::model::methods::count;

/// What the page shows once a job is ready.
#[derive(Debug, Clone, Serialize)]
pub struct JobInfo {
    pub method: String,
    /// `PeftModel.get_nb_trainable_parameters()`'s figures for the live model.
    pub trainable: u64,
    pub total: u64,
    pub train_examples: usize,
    pub val_examples: usize,
    pub labels: Vec<String>,
    pub steps_per_epoch: usize,
    pub total_steps: usize,
    /// Texts cut at `max_len`.
    pub truncated: usize,
}

/// The validation results after an epoch.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub val_loss: f64,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// One text's prediction.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub label: String,
    /// In `labels` order.
    pub probs: Vec<f32>,
    pub labels: Vec<String>,
}

impl Prediction {
    /// The most probable label with every class's probability.
    pub fn new(probs: Vec<f32>, labels: &[String]) -> Self {
        Prediction { label: labels[argmax(&probs)].clone(), probs, labels: labels.to_vec() }
    }
}

pub struct Job {
    plan: Plan,
    config: EncoderConfig,
    encoder: TextEncoder,
    train: Vec<Sample>,
    val: Vec<Sample>,
    run: Run,
    /// The autodiff device the run trains on.
    device: Device,
    info: JobInfo,
}

impl Job {
    /// Builds the model for `plan` over `files` on `device` (a plain device; autodiff is added here).
    pub fn new(files: &ModelFiles, plan: &Plan, data: &Dataset, device: &Device) -> Result<Self, Error> {
        Self::build(files, plan, data, device, None)
    }

    /// The job `snapshot` was taken from, carried on on `device` exactly (its tensors, AdamW's moments, its place).
    pub fn resume(
        files: &ModelFiles,
        plan: &Plan,
        data: &Dataset,
        device: &Device,
        snapshot: &Snapshot,
    ) -> Result<Self, Error> {
        Self::build(files, plan, data, device, Some(snapshot))
    }

    fn build(
        files: &ModelFiles,
        plan: &Plan,
        data: &Dataset,
        device: &Device,
        from: Option<&Snapshot>,
    ) -> Result<Self, Error> {
        let device = device.clone().autodiff();
        let p = prepare_with(files, plan, data, from.map(|s| &s.tensors), &device)?;
        let live = count(&p.model);
        let run = match from {
            Some(s) => Run::resume(p.model, &plan.train, p.train.len(), s.position.clone(), &s.optimizer, &device),
            None => Run::new(p.model, &plan.train, p.train.len()),
        };
        let info = JobInfo {
            method: plan.method.name().to_string(),
            trainable: live.trainable,
            total: live.total,
            train_examples: p.train.len(),
            val_examples: p.val.len(),
            labels: p.labels,
            steps_per_epoch: run.steps_per_epoch(),
            total_steps: run.total_steps(),
            truncated: p.truncated,
        };
        Ok(Self {
            plan: plan.clone(),
            config: p.config,
            encoder: p.encoder,
            train: p.train,
            val: p.val,
            run,
            device,
            info,
        })
    }

    pub fn info(&self) -> &JobInfo {
        &self.info
    }

    pub fn finished(&self) -> bool {
        self.run.finished()
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn global_step(&self) -> usize {
        self.run.global_step()
    }

    /// The trainable tensors, AdamW's moments and the run's position, read back from the device.
    pub async fn snapshot(&self) -> Result<Snapshot, Error> {
        Ok(Snapshot {
            tensors: trainable_tensors(self.run.model()).await?,
            optimizer: self.run.optimizer_state().await?,
            position: self.run.position(),
        })
    }

    /// The files `train` would save for the model as it is now (PEFT's adapter files for LoRA), read back
    /// asynchronously; `training.json` records the plan but no epochs.
    pub async fn saved_files(&self, files: &ModelFiles) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let tensors = read_named_tensors(self.run.model()).await?;
        let live = (self.info.trainable, self.info.total);
        saved_files_from(&tensors, files, &self.plan, &self.info.labels, Vec::new(), live)
    }

    /// One optimizer step.
    pub async fn step(&mut self) -> Result<StepReport, Error> {
        self.run.step(&self.config, &self.train, &self.device).await
    }

    /// Begins the next step cut in `workers` shares (`Run::begin_step`): the shares for the other workers, and
    /// the trainable tensors they compute at (read back: the run's values now).
    pub async fn begin_shared_step(&mut self, workers: usize) -> Result<(Vec<Share>, HostTensors), Error> {
        let shares = self.run.begin_step(&self.train, workers)?;
        let weights = if shares.is_empty() { HostTensors::new() } else { read_weights(self.run.model()).await? };
        Ok((shares, weights))
    }

    /// The gradients of this job's own share of the begun step.
    pub fn compute_own_share(&mut self) {
        self.run.compute_own(&self.config, &self.device);
    }

    /// The other workers' results in, one optimizer step taken.
    pub async fn finish_shared_step(&mut self, others: Vec<ShareGradients>) -> Result<StepReport, Error> {
        self.run.finish_step(others, &self.device).await
    }

    /// A worker for this job's shares, over the same `files`, on `device` (a plain device).
    pub fn replica(&self, files: &ModelFiles, device: &Device) -> Result<Replica, Error> {
        Replica::new(files, &self.plan, self.info.labels.len(), device)
    }

    /// Loss and metrics on the validation split with the model as it is now.
    pub async fn evaluate(&self) -> Result<Evaluation, Error> {
        let (val_loss, metrics) = evaluate(
            self.run.model(),
            &self.config,
            &self.val,
            &self.info.labels,
            self.plan.train.batch_size,
            &self.device,
        )
        .await?;
        Ok(Evaluation { val_loss, metrics })
    }

    /// Class probabilities for one text, in inference mode.
    pub async fn predict(&self, text: &str) -> Result<Prediction, Error> {
        if text.trim().is_empty() {
            return Err(Error::invalid("text", "is empty: type a sentence to classify"));
        }
        let tokens = self.encoder.encode(text)?;
        let inner = self.device.clone().inner();
        let model = self.run.model().valid();
        let probs = read_floats(softmax(model.forward(&to_input(&self.config, &[&tokens], &inner)), 1)).await?;
        Ok(Prediction::new(probs, &self.info.labels))
    }
}
