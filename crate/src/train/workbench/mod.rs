//! The training page's workbench, with the whole run policy in Rust and testable natively (`block_on`): it owns the
//! device, the model files, the dataset, the job, the snapshots and the adapters kept over the base model. The
//! browser worker only forwards messages to it and yields between `advance` calls; what happens after a step
//! (evaluate at an epoch's end, snapshot to host memory, carry on on the CPU when the GPU is lost) is decided here.
//! The adapters kept over the base model and the merge check are in `kept.rs`.

mod hooks;
#[cfg(feature = "test-hooks")]
mod injected;
mod kept;
mod notebook;
mod shared;
mod trial;

use std::collections::BTreeMap;

use burn::tensor::Device;

use self::hooks::Hooks;
use super::adapters::AdapterSet;
use super::batch::{TokenPreview, preview_tokens};
use super::budget::{self, Budget, Need};
use super::job::{Job, JobInfo, Prediction};
use super::plan::Plan;
use super::replica::Replica;
use super::replies::{DatasetSummary, DeviceInfo, EpochResult, Fallback, ModelSummary, SplitCounts, Tick};
use super::run::StepReport;
use super::snapshot::{Provenance, Snapshot, data_fingerprint, model_fingerprint};
use crate::data::parse::label_counts;
use crate::data::{self, Dataset, split::stratified};
use crate::error::{Error, ErrorKind};
use crate::model::files::{ModelFiles, encoder_config};
use crate::model::methods::Method;

/// Runs whose trainable part is at most this many parameters are snapshotted after every step (LoRA, head-only,
/// BitFit: a few hundred KB read back); bigger ones (full fine-tuning) at each epoch's end.
pub const SNAPSHOT_EVERY_STEP_UP_TO: u64 = 2_000_000;

/// A saved folder: file name -> bytes.
pub type Folder = BTreeMap<String, Vec<u8>>;

#[derive(Default)]
pub struct Workbench {
    device: Option<(Device, DeviceInfo)>,
    /// What the device offers (a browser tab's); `None` natively, where the CLI checks nothing.
    budget: Option<Budget>,
    model: Option<ModelFiles>,
    /// SHA-256 of the loaded model's files and of the loaded dataset: what a snapshot file names as its own.
    model_sha: String,
    data_sha: String,
    data: Option<Dataset>,
    /// The data file as it was loaded (name, bytes): what the notebook export writes beside the script.
    data_file: Option<(String, Vec<u8>)>,
    job: Option<Job>,
    /// A model built only to time a step before a run (`trial.rs`).
    trial: Option<Job>,
    /// The last snapshot of the job, in host memory: what a lost GPU leaves to carry on from.
    snapshot: Option<Snapshot>,
    /// Failures on demand for tests (`hooks.rs`: compiled only with the `test-hooks` feature).
    hooks: Hooks,
    /// Adapters kept over the loaded base model, as folders: the set below is rebuilt from them when the device
    /// changes, so switching device loses none.
    kept: Vec<(String, Folder)>,
    adapters: Option<AdapterSet>,
    /// This tab's part in another worker's run (`shared.rs`), when it is a helper worker, and the shares it has
    /// computed (a test's trap counts them: `hooks`).
    replica: Option<Replica>,
    replica_shares: usize,
}

impl Workbench {
    pub fn new() -> Self {
        Self::default()
    }

    /// Trains and classifies on `device` from now on; a job in progress is dropped (its tensors live on the old one).
    pub fn set_device(&mut self, device: Device, info: DeviceInfo) {
        self.device = Some((device, info));
        self.job = None;
        self.snapshot = None;
        self.adapters = None;
    }

    /// Runs are checked against `budget` before they start (`train/budget.rs`).
    pub fn set_budget(&mut self, budget: Option<Budget>) {
        self.budget = budget;
    }

    /// Whether a model of `config_json` with a `file_bytes` weights file can train here at all (LoRA, one example
    /// of 16 tokens): asked before its download. Without a budget, everything fits.
    pub fn check_model(&self, config_json: &str, file_bytes: u64) -> Result<Option<Need>, Error> {
        // An architecture we cannot train is refused here, before the page downloads its weights.
        encoder_config(config_json)?;
        let Some(budget) = self.budget else { return Ok(None) };
        // The cheapest run: head-only (LoRA's default targets are BERT's names, which another architecture lacks).
        let mut smallest = Plan { method: Method::Head, ..Plan::default() };
        smallest.train.batch_size = 1;
        smallest.max_len = 16;
        budget::check(config_json, file_bytes, 2, &smallest, budget).map(Some)
    }

    /// The memory `plan` needs with the loaded model and data, checked against the budget.
    pub fn check_run(&self, plan: &Plan) -> Result<Option<Need>, Error> {
        let Some(budget) = self.budget else { return Ok(None) };
        let files = self.files()?;
        budget::check(&files.config_json, files.safetensors.len() as u64, self.dataset()?.labels.len(), plan, budget)
            .map(Some)
    }

    pub fn device_info(&self) -> Option<&DeviceInfo> {
        self.device.as_ref().map(|(_, i)| i)
    }

    fn device(&self) -> Result<&Device, Error> {
        self.device.as_ref().map(|(d, _)| d).ok_or_else(|| Error::invalid("device", "choose WebGPU or CPU first"))
    }

    fn files(&self) -> Result<&ModelFiles, Error> {
        self.model.as_ref().ok_or_else(|| Error::invalid("model", "no model is loaded"))
    }

    fn dataset(&self) -> Result<&Dataset, Error> {
        self.data.as_ref().ok_or_else(|| Error::invalid("data", "no dataset is loaded"))
    }

    fn job(&self) -> Result<&Job, Error> {
        self.job.as_ref().ok_or_else(|| Error::invalid("job", "nothing trained yet: start a run first"))
    }

    /// A model folder's files, checked; the job and the kept adapters (which belong to a base model) are dropped.
    pub fn load_model(&mut self, files: ModelFiles) -> Result<ModelSummary, Error> {
        let c = files.encoder_config()?;
        crate::model::matching::check(&files, &c)?;
        let summary = ModelSummary {
            name: files.name.clone(),
            hidden_size: c.hidden_size,
            num_hidden_layers: c.num_hidden_layers,
            num_attention_heads: c.num_attention_heads,
            vocab_size: c.vocab_size,
            max_position_embeddings: c.max_position_embeddings,
            config_json: files.config_json.clone(),
        };
        self.model_sha = model_fingerprint(&files.config_json, &files.tokenizer_json, &files.safetensors);
        self.model = Some(files);
        self.job = None;
        self.snapshot = None;
        self.kept.clear();
        self.adapters = None;
        Ok(summary)
    }

    /// CSV/TSV/JSONL bytes parsed with the CLI's rules; the good rows are kept and every problem listed by line.
    pub fn load_dataset(&mut self, name: &str, bytes: &[u8]) -> Result<DatasetSummary, Error> {
        let d = data::parse(name, bytes)?;
        let summary = DatasetSummary {
            examples: d.examples.len(),
            labels: d.labels.clone(),
            counts: d.counts(),
            problems: d.problems.clone(),
            sample: d.examples.iter().take(8).map(|e| (e.text.clone(), d.labels[e.label].clone(), e.line)).collect(),
        };
        self.data_sha = data_fingerprint(&d);
        self.data = Some(d);
        self.data_file = Some((name.to_string(), bytes.to_vec()));
        self.job = None;
        self.snapshot = None;
        Ok(summary)
    }

    /// Per-class counts of the split a run with `val_fraction` and `seed` trains and validates on.
    pub fn split_counts(&self, val_fraction: f64, seed: u64) -> Result<SplitCounts, Error> {
        let d = self.dataset()?;
        Plan { val_fraction, ..Plan::default() }.validate()?;
        let (train, val) = stratified(&d.examples, d.labels.len(), val_fraction, seed);
        Ok(SplitCounts { train: label_counts(&train, d.labels.len()), val: label_counts(&val, d.labels.len()) })
    }

    pub fn preview_tokens(&self, text: &str, max_len: usize) -> Result<TokenPreview, Error> {
        preview_tokens(self.files()?, text, max_len)
    }

    /// Builds the model for `plan` on the chosen device; returns the job's figures.
    pub fn prepare(&mut self, plan: Plan) -> Result<JobInfo, Error> {
        let job = self.new_job(&plan)?;
        let info = job.info().clone();
        self.job = Some(job);
        self.snapshot = None;
        Ok(info)
    }

    /// A job for `plan` on the chosen device, checked as every run is (the plan, and the memory it needs).
    fn new_job(&self, plan: &Plan) -> Result<Job, Error> {
        // In the page's order: device, model, data.
        let device = self.device()?;
        plan.validate()?;
        self.check_run(plan)?;
        Job::new(self.files()?, plan, self.dataset()?, device)
    }

    /// The last snapshot as a file (`train/snapshot.rs`), tied to the loaded model and data; `None` before the
    /// first. The page keeps it (IndexedDB) to carry the run on after a trap or a reload.
    pub fn snapshot_file(&self) -> Result<Option<Vec<u8>>, Error> {
        let (Some(s), Some(job)) = (&self.snapshot, &self.job) else { return Ok(None) };
        let provenance =
            Provenance { plan: job.plan().to_json(), model: self.model_sha.clone(), data: self.data_sha.clone() };
        s.to_bytes(&provenance).map(Some)
    }

    /// Carries on the run a snapshot file was taken from, over the loaded model and data (which must be the ones
    /// it names) on the chosen device, exactly where it stood.
    pub fn resume_run(&mut self, file: &[u8]) -> Result<(JobInfo, Plan), Error> {
        let (snapshot, provenance) = Snapshot::from_bytes(file)?;
        if self.model.is_some() && provenance.model != self.model_sha {
            return Err(Error::invalid(
                "snapshot",
                "was taken with another model: load the model the run was trained on",
            ));
        }
        if self.data.is_some() && provenance.data != self.data_sha {
            return Err(Error::invalid(
                "snapshot",
                "was taken on another dataset: load the dataset the run was trained on",
            ));
        }
        let plan = Plan::from_json(&provenance.plan)?;
        self.check_run(&plan)?;
        let job = Job::resume(self.files()?, &plan, self.dataset()?, self.device()?, &snapshot)?;
        let info = job.info().clone();
        self.job = Some(job);
        self.snapshot = Some(snapshot);
        Ok((info, plan))
    }

    /// The run's global step count (0 before the first step).
    pub fn global_step(&self) -> Result<usize, Error> {
        Ok(self.job()?.global_step())
    }

    /// One optimizer step, the epoch's evaluation when it ends one, and a snapshot to host memory. On a GPU, a lost
    /// device anywhere in that carries the run on on the CPU from the last snapshot instead of ending it; any other
    /// error (a bad setting, a bug) is returned as it is, since the CPU would fail the same way, only slower.
    pub async fn advance(&mut self) -> Result<Tick, Error> {
        if self.job()?.finished() {
            return Err(Error::invalid("run", "has finished every epoch: start a new one"));
        }
        match self.step_evaluate_snapshot().await {
            Ok((step, evaluation, snapshot)) => {
                Ok(Tick { step: Some(step), evaluation, fallback: None, snapshot, done: self.job()?.finished() })
            }
            Err(e) if e.kind == ErrorKind::DeviceLost && self.device_info().is_some_and(DeviceInfo::is_gpu) => {
                let fallback = self.fall_back_to_cpu(e.message)?;
                Ok(Tick { step: None, evaluation: None, fallback: Some(fallback), snapshot: false, done: false })
            }
            Err(e) => Err(e),
        }
    }

    async fn step_evaluate_snapshot(&mut self) -> Result<(StepReport, Option<EpochResult>, bool), Error> {
        self.hooks.next_step_failure()?;
        let step = self.job_for_step()?.step().await?;
        self.after_step(step).await
    }

    fn job_mut(&mut self) -> Result<&mut Job, Error> {
        self.job.as_mut().ok_or_else(|| Error::invalid("job", "nothing to train: prepare first"))
    }

    /// The job, about to take its next step (alone or shared); a test's trap goes off here (`hooks`).
    fn job_for_step(&mut self) -> Result<&mut Job, Error> {
        let next = self.job_mut()?.global_step() + 1;
        self.hooks.trap_at(next, "step");
        self.job_mut()
    }

    /// The epoch's evaluation when `step` ended one, and the snapshot to host memory.
    async fn after_step(&mut self, step: StepReport) -> Result<(StepReport, Option<EpochResult>, bool), Error> {
        let job = self.job_mut()?;
        let evaluation = if step.epoch_done {
            Some(EpochResult {
                epoch: step.epoch,
                train_loss: step.epoch_train_loss,
                evaluation: job.evaluate().await?,
            })
        } else {
            None
        };
        // After the evaluation, so a snapshot never stands for an epoch whose results were not delivered.
        let snapshot = step.epoch_done || job.info().trainable <= SNAPSHOT_EVERY_STEP_UP_TO;
        if snapshot {
            self.snapshot = Some(job.snapshot().await?);
        }
        Ok((step, evaluation, snapshot))
    }

    /// The job rebuilt on the CPU backend from its last snapshot (from the start if none was taken yet).
    fn fall_back_to_cpu(&mut self, reason: String) -> Result<Fallback, Error> {
        let plan = self.job()?.plan().clone();
        let device = Device::flex();
        let (files, data) = (self.files()?, self.dataset()?);
        let job = match &self.snapshot {
            Some(s) => Job::resume(files, &plan, data, &device, s)?,
            None => Job::new(files, &plan, data, &device)?,
        };
        let fallback = Fallback { reason, resumed_at: job.global_step(), device: DeviceInfo::cpu() };
        self.job = Some(job);
        self.device = Some((device, fallback.device.clone()));
        self.adapters = None;
        Ok(fallback)
    }

    /// Class probabilities for a typed text with the model being (or last) trained.
    pub async fn predict(&self, text: &str) -> Result<Prediction, Error> {
        self.job()?.predict(text).await
    }

    /// The files `train` saves for the model as it is now (PEFT's adapter folder for LoRA), read back, and the
    /// same run as a PEFT notebook and script with its data (`notebook.rs`).
    pub async fn export_job(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let mut files = self.job()?.saved_files(self.files()?).await?;
        files.extend(self.export_notebook(None)?);
        Ok(files)
    }
}
