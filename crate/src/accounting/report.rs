//! One setup in, every figure out: what the CLI prints and the page shows come from `compute`, so they agree.

use serde::{Deserialize, Serialize};

use crate::accounting::arch::{Architecture, HfConfig, Task};
use crate::accounting::checkpoint::{AdapterDtypes, Dtype, adapter_tensors, model_tensors, safetensors_bytes};
use crate::accounting::count::{LoraCount, count_lora, lora_params_of};
use crate::accounting::inject::inject;
use crate::accounting::lora_config::LoraConfig;
use crate::accounting::memory::{Batch, Memory, Optimizer, Precision};
use crate::accounting::method_costs::{self, CostInputs, MethodCost, PeftMethod};
pub use crate::accounting::module_table::{ModuleGroup, RankRow, RankTable};
use crate::accounting::module_table::{groups, percent, rank_table};
use crate::accounting::presets::{PRESETS, preset_config};
pub use crate::accounting::targets::{TargetChoice, target_choices};
use crate::error::Error;

/// Everything a user can set. Field names follow PEFT where PEFT has the setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Setup {
    /// A preset id; ignored when `config_json` is given.
    pub model: String,
    /// A pasted or uploaded `config.json`.
    pub config_json: Option<String>,
    pub task: Task,
    pub num_labels: u64,
    pub lora: LoraConfig,
    /// Storage of the frozen base model.
    pub precision: Precision,
    /// dtype of the LoRA matrices (PEFT's default `autocast_adapter_dtype=True` keeps them in float32).
    pub adapter_dtype: AdapterDtype,
    pub optimizer: Optimizer,
    pub batch: Batch,
    /// Houlsby adapter bottleneck size for the method comparison.
    pub bottleneck: u64,
    /// Virtual tokens for prompt and prefix tuning in the method comparison.
    pub num_virtual_tokens: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            model: "all-MiniLM-L6-v2".into(),
            config_json: None,
            task: Task::SeqCls,
            num_labels: 2,
            lora: LoraConfig::default(),
            precision: Precision::Fp32,
            adapter_dtype: AdapterDtype::Fp32,
            optimizer: Optimizer::Adamw,
            batch: Batch::default(),
            bottleneck: 64,
            num_virtual_tokens: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdapterDtype {
    #[default]
    Fp32,
    Bf16,
}

impl AdapterDtype {
    pub fn dtype(self) -> Dtype {
        match self {
            AdapterDtype::Fp32 => Dtype::F32,
            AdapterDtype::Bf16 => Dtype::BF16,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub model_type: String,
    pub task: Task,
    pub num_labels: u64,
    pub num_layers: usize,
    pub hidden_size: u64,
    pub params: u64,
}

/// Every figure of a setup.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub model: ModelInfo,
    pub target_choices: Vec<TargetChoice>,
    /// PEFT's `trainable` (LoRA + head copy + trained biases).
    pub trainable: u64,
    /// PEFT's `all` (base + LoRA + head copy).
    pub all: u64,
    pub trainable_percent: f64,
    /// The LoRA matrices alone.
    pub lora_params: u64,
    /// The trainable head copies inside `trainable` (and, with the frozen originals, twice inside `all`).
    pub head_copy_params: u64,
    /// Biases made trainable by `bias="all"` / `"lora_only"`.
    pub trainable_bias_params: u64,
    pub lora_percent_of_base: f64,
    /// `lora_alpha / r`, or `lora_alpha / sqrt(r)` with rsLoRA.
    pub scaling: f64,
    pub modules: Vec<String>,
    pub modules_to_save: Vec<String>,
    pub module_groups: Vec<ModuleGroup>,
    /// `adapter_model.safetensors` as PEFT writes it.
    pub adapter_bytes: u64,
    /// `model.safetensors` of the model before PEFT, in the base's float dtype.
    pub full_model_bytes: u64,
    /// The model after `merge_and_unload()`, saved: the same tensors as the original model.
    pub merged_model_bytes: u64,
    pub optimizer_bytes: u64,
    /// LoRA's training memory.
    pub memory: Memory,
    /// LoRA, full fine-tuning, head-only and BitFit, costed alike.
    pub methods: Vec<MethodCost>,
    pub peft_methods: Vec<PeftMethod>,
    /// `trainable` at r = 1..=256 with everything else fixed (exact: trainable is affine in r).
    pub rank_curve: Vec<u64>,
    /// The rank table tutorials print, for each adapted module shape.
    pub rank_tables: Vec<RankTable>,
}

impl Report {
    /// The line PEFT's `print_trainable_parameters()` prints for this setup.
    pub fn peft_line(&self) -> String {
        peft_line(self.trainable, self.all)
    }
}

/// The line PEFT's `print_trainable_parameters()` prints for these counts.
pub fn peft_line(trainable: u64, all: u64) -> String {
    format!(
        "trainable params: {} || all params: {} || trainable%: {:.4}",
        grouped(trainable),
        grouped(all),
        percent(trainable, all)
    )
}

/// `1234567` -> `1,234,567` (Python's `f"{n:,}"`, as PEFT prints counts).
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What the page needs to draw its controls, available even when the LoRA settings are invalid.
#[derive(Debug, Clone, Serialize)]
pub struct Description {
    pub model: ModelInfo,
    pub target_choices: Vec<TargetChoice>,
    /// PEFT's default `target_modules` for this model type, where it has one.
    pub default_targets: Option<Vec<String>>,
}

/// The model a setup names and the modules it offers, without LoRA.
pub fn describe(setup: &Setup) -> Result<Description, Error> {
    let arch = architecture(setup)?;
    Ok(Description {
        model: model_info(&arch),
        target_choices: target_choices(&arch),
        default_targets: arch.default_targets.clone(),
    })
}

fn model_info(arch: &Architecture) -> ModelInfo {
    ModelInfo {
        model_type: arch.model_type.clone(),
        task: arch.task,
        num_labels: arch.num_labels,
        num_layers: arch.num_layers,
        hidden_size: arch.hidden_size,
        params: arch.params(),
    }
}

/// The largest rank the page's slider and curve go to.
pub const MAX_RANK: u64 = 256;

/// Builds the architecture a setup describes.
pub fn architecture(setup: &Setup) -> Result<Architecture, Error> {
    let text = match &setup.config_json {
        Some(t) => t.as_str(),
        None => preset_config(&setup.model).ok_or_else(|| {
            let ids: Vec<&str> = PRESETS.iter().map(|(id, _)| *id).collect();
            Error::invalid("model", format!("unknown preset '{}'; presets: {}", setup.model, ids.join(", ")))
        })?,
    };
    let config = HfConfig::parse(text)?;
    Architecture::from_config(&config, setup.task, setup.num_labels)
}

fn validate(setup: &Setup) -> Result<(), Error> {
    if setup.lora.r > 1 << 20 {
        return Err(Error::invalid(
            "r",
            format!("{} is larger than any layer here; ranks beyond {MAX_RANK} rarely help", setup.lora.r),
        ));
    }
    if setup.batch.batch_size == 0 || setup.batch.batch_size > 1 << 16 {
        return Err(Error::invalid("batch_size", "must be between 1 and 65536"));
    }
    if setup.batch.seq_len == 0 || setup.batch.seq_len > 1 << 20 {
        return Err(Error::invalid("seq_len", "must be between 1 and 1048576"));
    }
    if setup.bottleneck == 0 || setup.bottleneck > 1 << 16 {
        return Err(Error::invalid("bottleneck", "must be between 1 and 65536"));
    }
    if setup.num_virtual_tokens == 0 || setup.num_virtual_tokens > 1 << 16 {
        return Err(Error::invalid("num_virtual_tokens", "must be between 1 and 65536"));
    }
    Ok(())
}

pub fn compute(setup: &Setup) -> Result<Report, Error> {
    validate(setup)?;
    let arch = architecture(setup)?;
    let config = &setup.lora;
    let inj = inject(&arch, config)?;
    let count: LoraCount = count_lora(&arch, config)?;
    let inputs = CostInputs { precision: setup.precision, optimizer: setup.optimizer, batch: setup.batch };
    let float = setup.precision.float_dtype();
    let lora_cost = method_costs::lora(&arch, config, &inj, &count, inputs, setup.adapter_dtype.dtype());
    let full = method_costs::full(&arch, inputs);
    let head = method_costs::head_only(&arch, inputs);
    let bitfit = method_costs::bitfit(&arch, inputs);
    let module_groups = groups(&arch, config, &inj.lora);

    // trainable(r) = r * sum(in + out) + (head copy + biases): two exact counts pin the line.
    let per_rank: u64 = inj.lora.iter().map(|&i| lora_params_of(&arch.modules[i], 1)).sum();
    let fixed = count.trainable - count.lora_params;
    let rank_curve = (1..=MAX_RANK).map(|r| r * per_rank + fixed).collect();

    let full_model_bytes = safetensors_bytes(&model_tensors(&arch, float));
    let peft_methods = vec![
        method_costs::from_cost(&lora_cost, false, "merges into the base weights after training: no added latency"),
        method_costs::from_cost(&full, false, "a full copy of the model per task"),
        method_costs::from_cost(&head, false, "features stay frozen: often weakest"),
        method_costs::from_cost(&bitfit, false, "bias terms only"),
        method_costs::houlsby(&arch, setup.bottleneck),
        method_costs::prompt_tuning(&arch, setup.num_virtual_tokens),
        method_costs::prefix_tuning(&arch, setup.num_virtual_tokens),
    ];
    let adapter =
        adapter_tensors(&arch, config, &inj, AdapterDtypes { lora: setup.adapter_dtype.dtype(), base: float });
    debug_assert_eq!(safetensors_bytes(&adapter), lora_cost.checkpoint_bytes);
    Ok(Report {
        model: model_info(&arch),
        target_choices: target_choices(&arch),
        trainable: count.trainable,
        all: count.all,
        trainable_percent: percent(count.trainable, count.all),
        lora_params: count.lora_params,
        head_copy_params: count.head_copy_params,
        trainable_bias_params: count.trainable_bias_params,
        lora_percent_of_base: percent(count.lora_params, arch.params()),
        scaling: config.scaling(),
        modules: count.modules.clone(),
        modules_to_save: count.modules_to_save.clone(),
        rank_tables: module_groups.iter().map(rank_table).collect(),
        module_groups,
        adapter_bytes: lora_cost.checkpoint_bytes,
        full_model_bytes,
        merged_model_bytes: full_model_bytes,
        optimizer_bytes: lora_cost.memory.optimizer_state,
        memory: lora_cost.memory.clone(),
        methods: vec![lora_cost, full, head, bitfit],
        peft_methods,
        rank_curve,
    })
}
