//! Proof that the frozen weights did not move: the SHA-256 of every tensor a run did not train, as the checkpoint
//! file holds it and as the trained model holds it after the run. LoRA's promise is that the base model is
//! untouched (one copy serves every adapter); this checks it bit for bit on every save, instead of trusting that
//! `no_grad` and the optimizer's walk skipped them. Recorded in `training.json` (`frozen`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::snapshot::hex;
use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;
use crate::model::checkpoint_keys::{checkpoint_key, checkpoint_prefix};
use crate::model::export::NamedTensors;
use crate::model::files::ModelFiles;
use crate::safetensors::SafeTensors;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenCheck {
    /// Frozen tensors compared (those the checkpoint holds: a freshly initialised one has no "before").
    pub tensors: usize,
    pub values: usize,
    /// SHA-256 over (name, shape, float32 little-endian values) in name order, from the checkpoint file.
    pub checkpoint_sha256: String,
    /// The same over the trained model's tensors.
    pub trained_sha256: String,
    pub unchanged: bool,
}

fn absorb(hash: &mut Sha256, name: &str, shape: &[usize], values: &[f32]) {
    hash.update((name.len() as u64).to_le_bytes());
    hash.update(name.as_bytes());
    for d in shape {
        hash.update((*d as u64).to_le_bytes());
    }
    for v in values {
        hash.update(v.to_le_bytes());
    }
}

/// None when the run trained every tensor (full fine-tuning) or the model has no checkpoint file. `flavor` is the
/// model's (its config names the checkpoint's tensors).
pub fn check(tensors: &NamedTensors, files: &ModelFiles, flavor: Flavor) -> Result<Option<FrozenCheck>, Error> {
    let Ok(weights) = SafeTensors::parse("model.safetensors", &files.safetensors) else { return Ok(None) };
    let Ok(prefix) = checkpoint_prefix(&weights, flavor) else { return Ok(None) };
    let (mut before, mut after) = (Sha256::new(), Sha256::new());
    let (mut count, mut values) = (0, 0);
    for (name, (trained, shape, trains)) in tensors {
        // Under the name the loader read it by; a tensor the checkpoint lacks was freshly initialised.
        let stored = checkpoint_key(&weights, flavor, &prefix, name);
        if *trains || !weights.contains(&stored) {
            continue;
        }
        let (original, original_shape) = weights.f32(&stored)?;
        absorb(&mut before, name, &original_shape, &original);
        absorb(&mut after, name, shape, trained);
        count += 1;
        values += trained.len();
    }
    if count == 0 {
        return Ok(None);
    }
    let (checkpoint_sha256, trained_sha256) = (hex(&before.finalize()), hex(&after.finalize()));
    let unchanged = checkpoint_sha256 == trained_sha256;
    Ok(Some(FrozenCheck { tensors: count, values, checkpoint_sha256, trained_sha256, unchanged }))
}
