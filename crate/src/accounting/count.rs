//! Parameter counts exactly as `PeftModel.get_nb_trainable_parameters()` reports them.
//!
//! PEFT counts every parameter of the wrapped model once: the frozen base, the LoRA matrices, and for
//! sequence classification *both* the frozen original head and its trainable `modules_to_save` copy.

use serde::Serialize;

use crate::accounting::arch::{Architecture, ModuleSpec};
use crate::accounting::inject::{Injection, inject};
use crate::accounting::lora_config::{Bias, LoraConfig};
use crate::error::Error;

#[derive(Debug, Clone, Serialize)]
pub struct LoraCount {
    /// PEFT's `trainable`.
    pub trainable: u64,
    /// PEFT's `all`: base + LoRA + the head copy.
    pub all: u64,
    /// The LoRA matrices alone (`r * (in + out)` per wrapped module), the figure papers quote.
    pub lora_params: u64,
    /// Parameters of the trainable `modules_to_save` copies (the classifier head).
    pub head_copy_params: u64,
    /// Bias parameters the `bias` setting makes trainable.
    pub trainable_bias_params: u64,
    /// Names of the modules wrapped with LoRA.
    pub modules: Vec<String>,
    /// Paths PEFT keeps as trainable copies.
    pub modules_to_save: Vec<String>,
}

/// LoRA parameters PEFT adds to one module: A `[r, in]` and B `[out, r]` (embeddings: `[r, num]`, `[dim, r]`).
pub fn lora_params_of(module: &ModuleSpec, r: u64) -> u64 {
    r * (module.in_features + module.out_features)
}

pub fn count_lora(arch: &Architecture, config: &LoraConfig) -> Result<LoraCount, Error> {
    let injection = inject(arch, config)?;
    Ok(count_injection(arch, config, &injection))
}

fn count_injection(arch: &Architecture, config: &LoraConfig, inj: &Injection) -> LoraCount {
    let lora_params: u64 = inj.lora.iter().map(|&i| lora_params_of(&arch.modules[i], config.r)).sum();
    let copies: u64 = arch.modules.iter().filter(|m| inj.saved(m)).map(ModuleSpec::params).sum();
    let biases: u64 = match config.bias {
        Bias::None => 0,
        // Every parameter named `*bias*` outside the saved heads (their copies are already trainable).
        Bias::All => arch.modules.iter().filter(|m| !inj.saved(m)).map(ModuleSpec::bias_params).sum(),
        Bias::LoraOnly => inj.lora.iter().map(|&i| arch.modules[i].bias_params()).sum(),
    };
    LoraCount {
        trainable: lora_params + copies + biases,
        all: arch.params() + lora_params + copies,
        lora_params,
        head_copy_params: copies,
        trainable_bias_params: biases,
        modules: inj.lora.iter().map(|&i| arch.modules[i].name.clone()).collect(),
        modules_to_save: inj.modules_to_save.clone(),
    }
}
