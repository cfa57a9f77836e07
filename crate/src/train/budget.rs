//! Will it fit? Before a model is downloaded and before a run starts, the memory it needs (the calculator's
//! figures for the plan: weights, gradients, AdamW's state and activations for the batch and length, plus the
//! model file the trainer keeps to rebuild runs from) against what a browser tab has: 4 GiB of WebAssembly
//! memory, and on WebGPU the adapter's largest storage buffer. A run that cannot fit is refused with the setting
//! to change, instead of failing deep inside an allocation.

use serde::Serialize;

use super::plan::Plan;
use crate::accounting::memory::{Batch, Memory, Precision, frozen_module_bytes};
use crate::accounting::method_costs::{self as costs, CostInputs};
use crate::accounting::report::{Setup, architecture, compute};
use crate::error::Error;
use crate::model::methods::Method;
use crate::model::packed::Base;

/// wasm32's whole address space: the most a tab's trainer can ever hold.
pub const WASM_MEMORY: u64 = 4 << 30;

/// What the device offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// The trainer's own memory (WebAssembly's, in a browser).
    pub host_bytes: u64,
    /// On a GPU: its largest storage buffer (WebGPU's `maxStorageBufferBindingSize`); tensors live there.
    pub gpu_buffer_bytes: Option<u64>,
}

impl Budget {
    pub fn wasm_cpu() -> Self {
        Self { host_bytes: WASM_MEMORY, gpu_buffer_bytes: None }
    }

    pub fn wasm_webgpu(max_storage_buffer: u64) -> Self {
        Self { host_bytes: WASM_MEMORY, gpu_buffer_bytes: Some(max_storage_buffer) }
    }
}

/// The estimate, shown before a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Need {
    /// The calculator's breakdown for this plan (float32 or QLoRA's NF4 base, AdamW).
    pub memory: Memory,
    /// The model file, kept by the trainer.
    pub file_bytes: u64,
    /// In the trainer's own memory: the file, plus the whole breakdown on the CPU backend.
    pub host_bytes: u64,
    /// The largest single tensor of a step (the attention scores or the word embeddings), which a GPU buffer must hold.
    pub largest_tensor_bytes: u64,
}

/// The memory `plan` needs to train the model of `config_json` (its weights file `file_bytes` long) on
/// `num_labels` classes, checked against `budget`: an error names the setting to change.
pub fn check(
    config_json: &str,
    file_bytes: u64,
    num_labels: usize,
    plan: &Plan,
    budget: Budget,
) -> Result<Need, Error> {
    let need = estimate(config_json, file_bytes, num_labels, plan, budget.gpu_buffer_bytes.is_some())?;
    if need.within(budget) {
        return Ok(need);
    }
    // What would fit: the largest batch at this length, else the model does not fit at all.
    let fits = |batch_size: usize| -> Result<bool, Error> {
        Ok(estimate(
            config_json,
            file_bytes,
            num_labels,
            &at_batch(plan, batch_size),
            budget.gpu_buffer_bytes.is_some(),
        )?
        .within(budget))
    };
    let gib = |b: u64| {
        if b >= 1 << 30 {
            format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64)
        } else {
            format!("{} MiB", b.div_ceil(1 << 20))
        }
    };
    let m = &need.memory;
    let breakdown = format!(
        "about {} (the model file {}, weights {}, gradients {}, AdamW state {}, activations {} for {} x {} tokens)",
        gib(need.host_bytes.max(m.total)),
        gib(need.file_bytes),
        gib(m.frozen_weights + m.trainable_weights),
        gib(m.gradients),
        gib(m.optimizer_state),
        gib(m.activations),
        plan.train.batch_size,
        plan.max_len
    );
    let limit = match budget.gpu_buffer_bytes {
        Some(b) if need.largest_tensor_bytes > b => {
            format!(
                // Named as WebGPU names it: the device was already given all the adapter offers (cubecl
                // requests the adapter's own limits), so this is the GPU's limit, not a default.
                "its largest tensor ({}) is over this GPU's largest buffer ({}: WebGPU's maxStorageBufferBindingSize, \
                 all this adapter offers)",
                gib(need.largest_tensor_bytes),
                gib(b)
            )
        }
        _ => format!("a browser tab has {} of WebAssembly memory", gib(budget.host_bytes)),
    };
    if !fits(1)? {
        let field = if plan.method == Method::Full { "method" } else { "model" };
        let what = if plan.method == Method::Full {
            "try LoRA, which keeps no gradients or AdamW state for the frozen weights"
        } else {
            "choose a smaller model"
        };
        return Err(Error::invalid(
            field,
            format!(
                "this model cannot train here even one example at a time: it needs {breakdown}, and {limit}; {what}"
            ),
        ));
    }
    // Memory only grows with the batch, so the largest batch that fits is found by bisection (1 fits, the plan's
    // does not): a dozen estimates rather than one per batch size.
    let (mut lo, mut hi) = (1, plan.train.batch_size);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid)? { lo = mid } else { hi = mid }
    }
    let most = lo;
    Err(Error::invalid(
        "batch_size",
        format!(
            "this run needs {breakdown}, and {limit}: a batch of at most {most} fits at max_len {} (or lower max_len)",
            plan.max_len
        ),
    ))
}

impl Need {
    fn within(&self, budget: Budget) -> bool {
        self.host_bytes <= budget.host_bytes && budget.gpu_buffer_bytes.is_none_or(|b| self.largest_tensor_bytes <= b)
    }
}

/// What each of `workers` CPU workers holds for `plan` (`train/shares.rs`): the model file, the model, and the
/// rest of the estimate at one share of the batch. The page keeps the workers' sum within the machine's memory.
pub fn worker_host_bytes(
    config_json: &str,
    file_bytes: u64,
    num_labels: usize,
    plan: &Plan,
    workers: usize,
) -> Result<u64, Error> {
    let share = plan.train.batch_size.div_ceil(workers.max(1));
    Ok(estimate(config_json, file_bytes, num_labels, &at_batch(plan, share), false)?.host_bytes)
}

/// `plan` with another batch size, all else the same.
fn at_batch(plan: &Plan, batch_size: usize) -> Plan {
    Plan { train: super::config::TrainConfig { batch_size, ..plan.train.clone() }, ..plan.clone() }
}

fn estimate(config_json: &str, file_bytes: u64, num_labels: usize, plan: &Plan, on_gpu: bool) -> Result<Need, Error> {
    let setup = Setup {
        config_json: Some(config_json.to_string()),
        num_labels: num_labels as u64,
        // QLoRA's base: NF4 blocks for the frozen linear layers, float32 for the rest and for the arithmetic.
        precision: if plan.base == Base::Nf4 { Precision::Nf4Fp32 } else { Precision::Fp32 },
        lora: plan.lora.clone(),
        batch: Batch { batch_size: plan.train.batch_size as u64, seq_len: plan.max_len as u64, ..Batch::default() },
        ..Setup::default()
    };
    let arch = architecture(&setup)?;
    // The other methods' figures do not depend on LoRA's targets, whose names (BERT's by default) another
    // architecture may lack: only LoRA goes through the whole report.
    let inputs = CostInputs { precision: setup.precision, optimizer: setup.optimizer, batch: setup.batch };
    let memory = match plan.method {
        Method::Lora => {
            compute(&setup)?.methods.into_iter().find(|m| m.method == "lora").map(|m| m.memory).unwrap_or_default()
        }
        Method::Full => costs::full(&arch, inputs).memory,
        Method::Head => costs::head_only(&arch, inputs).memory,
        Method::Bitfit => costs::bitfit(&arch, inputs).memory,
    };
    let (b, s) = (plan.train.batch_size as u64, plan.max_len as u64);
    let scores = b * arch.num_attention_heads * s * s * 4;
    let widest = arch.modules.iter().map(|m| frozen_module_bytes(m, Precision::Fp32, false)).max().unwrap_or(0);
    let host_bytes = file_bytes + if on_gpu { 0 } else { memory.total };
    Ok(Need { memory, file_bytes, host_bytes, largest_tensor_bytes: scores.max(widest) })
}
