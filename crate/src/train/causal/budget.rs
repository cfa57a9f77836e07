//! Will a language-model run fit in a tab? Before the run starts: the calculator's figures for the plan (frozen and
//! trainable weights, gradients, AdamW's state, activations at this batch and length; `accounting::report`), plus
//! what this trainer holds beside them (the model file, and the base model kept apart from the trained one so the
//! two can answer side by side, but for the token embedding table they share), plus the output head's logits
//! chunk, against 4 GiB of WebAssembly memory. A run
//! that cannot fit is refused naming the setting to change (the batch, the length, or the model itself).

use serde::Serialize;

use super::trainer::LmPlan;
use crate::accounting::arch::{HfConfig, Task};
use crate::accounting::memory::{Batch, Memory, Precision};
use crate::accounting::report::{Setup, compute};
use crate::error::Error;
use crate::model::methods::Method;
use crate::model::packed::Base;
use crate::train::budget::WASM_MEMORY;

/// The estimate, shown before a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LmNeed {
    /// The calculator's breakdown for the plan (float32, AdamW).
    pub memory: Memory,
    /// The model file, kept to rebuild the run's model.
    pub file_bytes: u64,
    /// The base model's weights, kept beside the trained one, but for the token embedding table the two share (a
    /// full fine-tuning run's trainer soon holds its own).
    pub base_bytes: u64,
    pub total_bytes: u64,
}

/// `widened`: on the *as stored* base, the bytes of the weights the file does not store in blocks (norms, a float16
/// or float32 tensor), which each model holds widened to float32.
fn estimate(
    config_json: &str,
    (file_bytes, widened): (u64, u64),
    plan: &LmPlan,
    batch: usize,
    seq: usize,
) -> Result<LmNeed, Error> {
    let setup = Setup {
        config_json: Some(config_json.to_string()),
        precision: match plan.base {
            Base::Nf4 => Precision::Nf4Fp32,
            Base::Float32 | Base::Float16 | Base::AsStored => Precision::Fp32,
        },
        task: Task::Base,
        lora: plan.lora.clone(),
        batch: Batch {
            batch_size: batch as u64,
            seq_len: seq as u64,
            gradient_checkpointing: plan.gradient_checkpointing,
        },
        ..Setup::default()
    };
    let report = compute(&setup)?;
    let method = match plan.method {
        Method::Full => "full",
        Method::Bitfit => "bitfit",
        _ => "lora",
    };
    let mut m = report.methods.iter().find(|c| c.method == method).map_or(report.memory.clone(), |c| c.memory.clone());
    if plan.base == Base::AsStored {
        // The frozen blocks are the model file's own, counted in `file_bytes` (both models read them there); what
        // the file stores in float is widened in each model.
        m = Memory::new(widened, m.trainable_weights, m.optimizer_state, m.activations);
    }
    if plan.base == Base::Float16 {
        // Two bytes a frozen weight (the norms' float32 are a few thousand weights); LoRA trains in float32.
        m = Memory::new(m.frozen_weights / 2, m.trainable_weights, m.optimizer_state, m.activations);
    }
    // The head's logits, computed at most 64 MiB at a time (`score.rs`), and their log-softmax.
    let config = HfConfig::parse(config_json)?;
    let vocab = config.size_or("vocab_size", Some(32000))?;
    let table = vocab * config.size_or("hidden_size", None)? * 4;
    // Full fine-tuning trains the table: its first step gives the trainer a table of its own.
    let shared = if plan.method == Method::Full { 0 } else { table };
    let shared = if plan.base == Base::Float16 { shared / 2 } else { shared };
    // On the *as stored* base the answers' model reads the same file's blocks.
    let base_bytes = match plan.base {
        Base::AsStored => widened,
        _ => (m.frozen_weights + m.trainable_weights).saturating_sub(shared),
    };
    let logits = 2 * (64u64 << 20).min((batch * seq) as u64 * vocab * 4);
    let total_bytes = m.total + file_bytes + base_bytes + logits;
    Ok(LmNeed { memory: m, file_bytes, base_bytes, total_bytes })
}

/// The estimate for `plan` at `batch` x `seq` tokens, refused when it exceeds `host_bytes` (None: no limit, the
/// native CLI), naming the batch size to choose, or the model when even a batch of 1 cannot fit.
pub fn check(
    config_json: &str,
    file_bytes: (u64, u64),
    plan: &LmPlan,
    seq: usize,
    host_bytes: Option<u64>,
) -> Result<LmNeed, Error> {
    let need = estimate(config_json, file_bytes, plan, plan.batch_size, seq)?;
    let Some(limit) = host_bytes else { return Ok(need) };
    if need.total_bytes <= limit {
        return Ok(need);
    }
    let gib = |b: u64| format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64);
    let fits = (1..plan.batch_size)
        .rev()
        .find(|&b| estimate(config_json, file_bytes, plan, b, seq).is_ok_and(|n| n.total_bytes <= limit));
    Err(match fits {
        Some(b) => Error::invalid(
            "per_device_train_batch_size",
            format!(
                "this run needs about {} in the tab, more than its {}: a batch of {b} fits at {seq} tokens",
                gib(need.total_bytes),
                gib(limit)
            ),
        ),
        None => Error::invalid(
            "model",
            format!(
                "even a batch of 1 needs more than the tab's {} ({} at batch {}); use the command line",
                gib(limit),
                gib(need.total_bytes),
                plan.batch_size
            ),
        ),
    })
}

/// A tab's memory: wasm32's whole address space.
pub fn tab() -> Option<u64> {
    Some(WASM_MEMORY)
}
