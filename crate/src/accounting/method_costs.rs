//! Ways to fine-tune the same model, counted on the same architecture so every view can compare them:
//! LoRA (from `count`), full fine-tuning, head-only, BitFit, and PEFT's other method families.

use serde::Serialize;

use crate::accounting::arch::{Architecture, ModuleSpec, Task};
use crate::accounting::checkpoint::{
    AdapterDtypes, Dtype, TensorEntry, adapter_tensors, model_tensors, safetensors_bytes,
};
use crate::accounting::count::{LoraCount, lora_params_of};
use crate::accounting::inject::Injection;
use crate::accounting::lora_config::{Bias, LoraConfig};
use crate::accounting::memory::{Batch, Memory, Optimizer, Precision, activation_bytes, frozen_module_bytes};

/// Trainable and frozen tensors of one way of training, and what it costs.
#[derive(Debug, Clone, Serialize)]
pub struct MethodCost {
    /// `lora`, `full`, `head_only` or `bitfit`.
    pub method: &'static str,
    pub trainable: u64,
    pub all: u64,
    /// Trainable parameter tensors (each gets an AdamW `step`).
    pub trainable_tensors: u64,
    pub memory: Memory,
    /// What a run saves: the adapter file for LoRA, the whole `model.safetensors` for full fine-tuning, the
    /// trained tensors alone for head-only and BitFit.
    pub checkpoint_bytes: u64,
    /// Where the figure needs a caveat (e.g. full fine-tuning cannot train a quantized model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Inputs shared by every method's memory figure.
#[derive(Debug, Clone, Copy)]
pub struct CostInputs {
    pub precision: Precision,
    pub optimizer: Optimizer,
    pub batch: Batch,
}

/// A method as "which base parameters train": `(module, weight trains, bias trains)`.
fn partial(
    arch: &Architecture,
    method: &'static str,
    inputs: CostInputs,
    trains: impl Fn(&ModuleSpec) -> (bool, bool),
) -> MethodCost {
    let float = inputs.precision.float_dtype();
    let mut frozen = 0;
    let mut saved = Vec::new();
    let mut backbone_trains = false;
    for m in &arch.modules {
        let (w, b) = trains(m);
        let (w, b) = (w, b && m.bias);
        if w || b {
            backbone_trains |= !arch.in_head(m);
        }
        if w {
            saved.push(TensorEntry { name: format!("{}.weight", m.name), shape: m.weight_shape(), dtype: float });
        }
        if b {
            saved.push(TensorEntry { name: format!("{}.bias", m.name), shape: vec![m.out_features], dtype: float });
        }
        frozen += match (w, b) {
            (true, true) => 0,
            (true, false) => m.bias_params() * float.bytes(),
            (false, true) => {
                frozen_module_bytes(m, inputs.precision, arch.in_head(m)) - m.bias_params() * float.bytes()
            }
            (false, false) => frozen_module_bytes(m, inputs.precision, arch.in_head(m)),
        };
    }
    let trainable: u64 = saved.iter().map(TensorEntry::elements).sum();
    let weight_bytes: u64 = saved.iter().map(TensorEntry::bytes).sum();
    let tensors = saved.len() as u64;
    MethodCost {
        method,
        trainable,
        all: arch.params(),
        trainable_tensors: tensors,
        memory: Memory::new(
            frozen,
            weight_bytes,
            inputs.optimizer.state_bytes(weight_bytes, tensors),
            activation_bytes(arch, inputs.batch, inputs.precision, backbone_trains),
        ),
        checkpoint_bytes: if saved.is_empty() { 0 } else { safetensors_bytes(&saved) },
        note: None,
    }
}

/// Every parameter trains but those the model fixes (DistilBERT's sinusoidal positions). A quantized base cannot
/// be fine-tuned in place, so full fine-tuning is costed in the float dtype a quantized model computes in (bf16).
pub fn full(arch: &Architecture, inputs: CostInputs) -> MethodCost {
    let mut cost = partial(arch, "full", inputs, |m| (!m.fixed, !m.fixed));
    cost.checkpoint_bytes = safetensors_bytes(&model_tensors(arch, inputs.precision.float_dtype()));
    if inputs.precision.is_quantized() {
        cost.note = Some("int8/nf4 weights cannot be trained in place: costed at bf16".into());
    }
    cost
}

/// Only the task head trains (a linear probe on frozen features).
pub fn head_only(arch: &Architecture, inputs: CostInputs) -> MethodCost {
    let mut cost = partial(arch, "head_only", inputs, |m| (arch.in_head(m), arch.in_head(m)));
    if arch.task == Task::Base {
        cost.note = Some("the base model has no head: nothing to train".into());
    }
    cost
}

/// BitFit (Ben Zaken et al., 2021): every bias term, plus the task head.
pub fn bitfit(arch: &Architecture, inputs: CostInputs) -> MethodCost {
    let mut cost = partial(arch, "bitfit", inputs, |m| (arch.in_head(m), true));
    if !arch.modules.iter().any(|m| m.bias && !arch.in_head(m)) {
        cost.note = Some(format!("{} has no bias terms: BitFit trains only the head", arch.model_type));
    }
    cost
}

/// LoRA: the adapter matrices (in `adapter_dtype`), the head copies and the biases the bias mode trains (in the
/// base's float dtype) train; the whole base, original head included, stays frozen at `precision`.
pub fn lora(
    arch: &Architecture,
    config: &LoraConfig,
    inj: &Injection,
    count: &LoraCount,
    inputs: CostInputs,
    adapter_dtype: Dtype,
) -> MethodCost {
    let float = inputs.precision.float_dtype();
    let tensors = adapter_tensors(arch, config, inj, AdapterDtypes { lora: adapter_dtype, base: float });
    let mut frozen: u64 = arch.modules.iter().map(|m| frozen_module_bytes(m, inputs.precision, arch.in_head(m))).sum();
    let (mut weight_bytes, mut n_tensors) = (0, 0);
    for (i, m) in arch.modules.iter().enumerate() {
        if inj.lora.contains(&i) {
            weight_bytes += lora_params_of(m, config.r) * adapter_dtype.bytes();
            n_tensors += 2;
        }
        if inj.saved(m) {
            weight_bytes += m.params() * float.bytes();
            n_tensors += 1 + m.bias as u64;
        }
        let bias_trains = match config.bias {
            Bias::None => false,
            Bias::All => !inj.saved(m),
            Bias::LoraOnly => inj.lora.contains(&i),
        };
        if bias_trains && m.bias {
            weight_bytes += m.bias_params() * float.bytes();
            frozen -= m.bias_params() * float.bytes();
            n_tensors += 1;
        }
    }
    MethodCost {
        method: "lora",
        trainable: count.trainable,
        all: count.all,
        trainable_tensors: n_tensors,
        memory: Memory::new(
            frozen,
            weight_bytes,
            inputs.optimizer.state_bytes(weight_bytes, n_tensors),
            activation_bytes(arch, inputs.batch, inputs.precision, true),
        ),
        checkpoint_bytes: safetensors_bytes(&tensors),
        note: None,
    }
}

/// One row of the PEFT method comparison.
#[derive(Debug, Clone, Serialize)]
pub struct PeftMethod {
    pub method: &'static str,
    pub trainable: u64,
    pub all: u64,
    pub percent: f64,
    /// Whether inference pays for the method after training: LoRA merges into the weights and BitFit/head-only
    /// change existing tensors, while adapters add layers and prompts/prefixes lengthen every sequence.
    pub adds_inference_latency: bool,
    pub note: String,
}

fn row(method: &'static str, trainable: u64, all: u64, latency: bool, note: impl Into<String>) -> PeftMethod {
    let percent = if all == 0 { 0.0 } else { 100.0 * trainable as f64 / all as f64 };
    PeftMethod { method, trainable, all, percent, adds_inference_latency: latency, note: note.into() }
}

/// Parameters of the whole task head (ModernBERT's `head.dense` included).
fn head_params(arch: &Architecture) -> u64 {
    arch.modules.iter().filter(|m| arch.in_head(m)).map(ModuleSpec::params).sum()
}

/// Parameters PEFT's sequence-classification models copy and train as `modules_to_save` (`classifier`, `score`).
fn saved_params(arch: &Architecture) -> u64 {
    let saved = crate::accounting::inject::modules_to_save(arch);
    arch.modules
        .iter()
        .filter(|m| saved.iter().any(|p| crate::accounting::path::within(&m.name, p)))
        .map(ModuleSpec::params)
        .sum()
}

/// Bottleneck adapters as Houlsby et al. (2019) place them: two per layer (after attention and after the
/// feed-forward block), each a down-projection `h -> m` and an up-projection `m -> h` with biases:
/// `2 * (2*h*m + h + m)` per layer. The head trains directly (no copy).
pub fn houlsby(arch: &Architecture, bottleneck: u64) -> PeftMethod {
    let h = arch.hidden_size;
    let adapters = arch.num_layers as u64 * 2 * (2 * h * bottleneck + h + bottleneck);
    row(
        "adapters_houlsby",
        adapters + head_params(arch),
        arch.params() + adapters,
        true,
        format!(
            "bottleneck {bottleneck}: 2 adapters per layer, 2·(2·h·m + h + m) each layer; adds layers at inference"
        ),
    )
}

/// PEFT's width for virtual tokens: `token_dim` is read from `hidden_size` (or `n_embd`, `d_model`); DistilBERT's
/// config calls it `dim`, which PEFT does not find, so there it must be passed explicitly.
fn token_dim_note(arch: &Architecture) -> &'static str {
    if arch.model_type == "distilbert" {
        " (PEFT cannot read token_dim from DistilBERT's config: pass token_dim=768 yourself)"
    } else {
        ""
    }
}

/// `PromptTuningConfig(num_virtual_tokens=n)`: an `n x h` embedding, plus the head copy for classification.
pub fn prompt_tuning(arch: &Architecture, n: u64) -> PeftMethod {
    let prompt = n * arch.hidden_size;
    let head = saved_params(arch);
    row(
        "prompt_tuning",
        prompt + head,
        arch.params() + prompt + head,
        true,
        format!(
            "{n} virtual tokens of width {}; every input grows by {n} tokens{}",
            arch.hidden_size,
            token_dim_note(arch)
        ),
    )
}

/// `PrefixTuningConfig(num_virtual_tokens=n)` without projection: a key and a value per virtual token per layer,
/// `n * layers * 2 * kv_dim` (with grouped-query attention the key/value width is `num_key_value_heads * head_dim`).
pub fn prefix_tuning(arch: &Architecture, n: u64) -> PeftMethod {
    let kv =
        arch.modules.iter().find(|m| m.short_name() == "k_proj").map(|m| m.out_features).unwrap_or(arch.hidden_size);
    let prefix = n * arch.num_layers as u64 * 2 * kv;
    let head = saved_params(arch);
    row(
        "prefix_tuning",
        prefix + head,
        arch.params() + prefix + head,
        true,
        format!(
            "{n} virtual key/value pairs in each of {} layers (width {kv}){}",
            arch.num_layers,
            token_dim_note(arch)
        ),
    )
}

/// The LoRA, BitFit and head-only rows of the comparison, from their full costs.
pub fn from_cost(cost: &MethodCost, latency: bool, note: impl Into<String>) -> PeftMethod {
    row(cost.method, cost.trainable, cost.all, latency, note)
}
