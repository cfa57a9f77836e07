//! What the workbench tells the page: plain, serializable data (the wasm boundary hands it over as JS objects).

use serde::Serialize;

use super::adapters::{AdapterInfo, Memory};
use super::job::Evaluation;
use super::run::StepReport;
use crate::data::RowProblem;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceInfo {
    /// `webgpu`, `wgpu` (native) or `cpu`.
    pub backend: String,
    /// The GPU adapter's name (SwiftShader, a vendor's GPU), or the CPU backend's.
    pub adapter: String,
}

impl DeviceInfo {
    /// burn's CPU backend, where a run carries on when its GPU is lost.
    pub fn cpu() -> Self {
        let adapter = if cfg!(target_arch = "wasm32") { "burn CPU backend (wasm)" } else { "burn CPU backend" };
        Self { backend: "cpu".into(), adapter: adapter.into() }
    }

    pub fn is_gpu(&self) -> bool {
        self.backend != "cpu"
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    pub name: String,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub vocab_size: usize,
    pub max_position_embeddings: usize,
    pub config_json: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetSummary {
    pub examples: usize,
    pub labels: Vec<String>,
    pub counts: Vec<usize>,
    pub problems: Vec<RowProblem>,
    /// The first rows (text, label, line), for the preview table.
    pub sample: Vec<(String, String, usize)>,
}

/// Examples per class on each side of the split a run with these settings uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitCounts {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
}

/// What one `advance` did.
#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    /// The step, unless the GPU was lost during it (then `fallback` says where the run resumed).
    pub step: Option<StepReport>,
    /// Set when the step ended an epoch.
    pub evaluation: Option<EpochResult>,
    pub fallback: Option<Fallback>,
    /// A snapshot was taken after this step (`Workbench::snapshot_file` has it).
    pub snapshot: bool,
    /// The run has done its last step.
    pub done: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EpochResult {
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

/// A run carried on on the CPU after its GPU was lost.
#[derive(Debug, Clone, Serialize)]
pub struct Fallback {
    /// What the GPU's failure said.
    pub reason: String,
    /// Steps already done, kept from the last snapshot.
    pub resumed_at: usize,
    /// The CPU backend the run carries on on (`backend`, `adapter`, as `set_device` reports them).
    #[serde(flatten)]
    pub device: DeviceInfo,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdapterSummary {
    pub adapters: Vec<AdapterInfo>,
    pub memory: Memory,
}
