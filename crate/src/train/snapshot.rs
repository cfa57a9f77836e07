//! A run between two steps, in host memory and as one file: the trainable tensors, AdamW's moments and the run's
//! position, so that carrying it on (on the CPU after a lost GPU, in a fresh worker after a trap, in a reopened tab
//! from IndexedDB) gives the losses the uninterrupted run gives.
//!
//! The file is a `.safetensors` file (Hugging Face's `safetensors` crate writes and reads it): tensors
//! `param/<Hugging Face name>`, `exp_avg/<module path>`, `exp_avg_sq/<module path>` (PyTorch's names for AdamW's
//! moments), and in `__metadata__` the plan, the position and the fingerprints of the model and the data it
//! belongs to, so a snapshot is never laid over another model or dataset. Python can open it to look inside.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::adamw::{HostMoments, OptimizerState};
use super::run::RunPosition;
use crate::data::Dataset;
use crate::error::Error;
use crate::model::load::Overrides;

/// Bumped when the layout changes: an old snapshot is refused with a message instead of misread.
pub const FORMAT: &str = "lora-playground-snapshot/1";

#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Every trainable tensor by Hugging Face name, torch layout.
    pub tensors: Overrides,
    /// AdamW's moments by module path.
    pub optimizer: OptimizerState,
    pub position: RunPosition,
}

/// What a snapshot belongs to: the run's plan (as `Plan::to_json`) and the SHA-256 of the model and the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub plan: Value,
    pub model: String,
    pub data: String,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    format: String,
    #[serde(flatten)]
    provenance: Provenance,
    position: RunPosition,
    /// AdamW's step count per module path.
    steps: HashMap<String, usize>,
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid("snapshot", message)
}

impl Snapshot {
    /// The snapshot as one `.safetensors` file.
    pub fn to_bytes(&self, provenance: &Provenance) -> Result<Vec<u8>, Error> {
        let mut owned: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::new();
        for (name, (values, shape)) in &self.tensors {
            owned.push((format!("param/{name}"), le_bytes(values), shape.clone()));
        }
        for (path, m) in &self.optimizer {
            owned.push((format!("exp_avg/{path}"), le_bytes(&m.exp_avg), vec![m.exp_avg.len()]));
            owned.push((format!("exp_avg_sq/{path}"), le_bytes(&m.exp_avg_sq), vec![m.exp_avg_sq.len()]));
        }
        let meta = Meta {
            format: FORMAT.into(),
            provenance: provenance.clone(),
            position: self.position.clone(),
            steps: self.optimizer.iter().map(|(p, m)| (p.clone(), m.step)).collect(),
        };
        let views = owned
            .iter()
            .map(|(name, bytes, shape)| TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (name.clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("cannot be written: {e}")))?;
        let info = [("snapshot".to_string(), serde_json::to_string(&meta).expect("plain data"))].into_iter().collect();
        safetensors::serialize(views, Some(info)).map_err(|e| bad(format!("cannot be written: {e}")))
    }

    /// A snapshot file read back, with what it belongs to; anything damaged is refused by name.
    pub fn from_bytes(bytes: &[u8]) -> Result<(Self, Provenance), Error> {
        let (_, header) =
            safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(format!("is not a snapshot file ({e})")))?;
        let text = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("snapshot"))
            .ok_or_else(|| bad("has no run metadata: it is not a snapshot file"))?;
        let meta: Meta = serde_json::from_str(text).map_err(|e| bad(format!("its metadata does not read: {e}")))?;
        if meta.format != FORMAT {
            return Err(bad(format!(
                "is in format '{}'; this version reads '{FORMAT}': discard it and start again",
                meta.format
            )));
        }
        let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(format!("is damaged ({e})")))?;
        let floats = |name: &str| -> Result<(Vec<f32>, Vec<usize>), Error> {
            let t = file.tensor(name).map_err(|_| bad(format!("has no tensor {name}")))?;
            if t.dtype() != Dtype::F32 {
                return Err(bad(format!("{name} is {:?}, not F32", t.dtype())));
            }
            let values = t.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            Ok((values, t.shape().to_vec()))
        };
        let mut tensors = Overrides::new();
        let mut optimizer = OptimizerState::new();
        for name in file.names() {
            if let Some(param) = name.strip_prefix("param/") {
                tensors.insert(param.to_string(), floats(name)?);
            }
        }
        for (path, &step) in &meta.steps {
            let (exp_avg, _) = floats(&format!("exp_avg/{path}"))?;
            let (exp_avg_sq, _) = floats(&format!("exp_avg_sq/{path}"))?;
            if exp_avg.len() != exp_avg_sq.len() {
                return Err(bad(format!("the moments of {path} differ in size")));
            }
            optimizer.insert(path.clone(), HostMoments { step, exp_avg, exp_avg_sq });
        }
        Ok((Snapshot { tensors, optimizer, position: meta.position }, meta.provenance))
    }
}

/// SHA-256 of a model's files (config, tokenizer, weights), hex: what a snapshot and a page's saved run name as
/// their base model.
pub fn model_fingerprint(config_json: &str, tokenizer_json: &[u8], safetensors: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [config_json.as_bytes(), tokenizer_json, safetensors] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    hex(&h.finalize())
}

/// SHA-256 of a dataset as parsed (labels, then each example's label and text), hex.
pub fn data_fingerprint(data: &Dataset) -> String {
    let mut h = Sha256::new();
    for label in &data.labels {
        h.update((label.len() as u64).to_le_bytes());
        h.update(label.as_bytes());
    }
    for e in &data.examples {
        h.update((e.label as u64).to_le_bytes());
        h.update((e.text.len() as u64).to_le_bytes());
        h.update(e.text.as_bytes());
    }
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
