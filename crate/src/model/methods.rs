//! The four ways to train the same model through one loop (`lora`, `full`, `head`, `bitfit`), as which
//! parameters require gradients. Frozen parameters get no gradient, so the optimizer never touches them.

use std::collections::BTreeSet;

use burn::module::Param;
use burn::tensor::Tensor;

use super::auto::AutoModelForSequenceClassification;
use super::config::EncoderConfig;
use super::paths::{flavor_name, is_head, outside_backbone};
use super::walk::{MapParam, VisitParam, map_linears, map_params, visit_params};
use crate::accounting::arch::{Architecture, HfConfig, ModuleKind, Task};
use crate::accounting::inject::inject;
use crate::accounting::lora_config::{Bias, LoraConfig};
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// LoRA adapters (+ the classifier, + biases per `bias`).
    Lora,
    /// Every parameter.
    Full,
    /// The classifier only: a linear probe on frozen features.
    Head,
    /// Every bias term and the classifier (Ben Zaken et al., 2021).
    Bitfit,
}

impl Method {
    pub const ALL: [&'static str; 4] = ["lora", "full", "head", "bitfit"];

    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "lora" => Ok(Method::Lora),
            "full" => Ok(Method::Full),
            "head" | "head_only" => Ok(Method::Head),
            "bitfit" => Ok(Method::Bitfit),
            _ => Err(Error::invalid("method", format!("'{s}' is not one of {}", Self::ALL.join(", ")))),
        }
    }

    pub fn name(self) -> &'static str {
        Self::ALL[self as usize]
    }

    /// The learning rate a plan gets when it names none: each method's usual one, chosen by measurement
    /// (`tools/bench/lr_defaults.sh`, docs/MEASUREMENTS.md's table: all-MiniLM-L6-v2, 3 epochs, on 300 real SMS messages and the
    /// built-in complaints and sentiment sets) as the better of two rates each, on final held-out accuracy. Updating
    /// every weight wants a rate about thirty times smaller than updating a few; a linear probe on frozen features
    /// a larger one. These are higher than the usual advice for large models (LoRA 1e-4 to 1e-3, full 2e-5 to
    /// 5e-5) because a first run here is a few dozen steps on a small encoder.
    pub fn usual_lr(self) -> f64 {
        match self {
            Method::Lora => 3e-3,
            Method::Full => 1e-4,
            Method::Head => 3e-2,
            Method::Bitfit => 3e-3,
        }
    }
}

/// The modules LoRA wraps, by the calculator's (PEFT's) rules, as full Hugging Face names.
pub fn lora_modules(config: &EncoderConfig, num_labels: usize, lora: &LoraConfig) -> Result<Vec<String>, Error> {
    let arch = architecture(config, num_labels)?;
    let injection = inject(&arch, lora)?;
    let modules: Vec<&crate::accounting::arch::ModuleSpec> = injection.lora.iter().map(|&i| &arch.modules[i]).collect();
    if let Some(m) = modules.iter().find(|m| m.kind == ModuleKind::Embedding) {
        return Err(Error::invalid(
            "target_modules",
            format!("{}: LoRA on embeddings is not implemented in the trainer", m.name),
        ));
    }
    Ok(modules.iter().map(|m| m.name.clone()).collect())
}

/// The calculator's view of this encoder with its classification head.
pub fn architecture(config: &EncoderConfig, num_labels: usize) -> Result<Architecture, Error> {
    Architecture::from_config(&HfConfig::parse(&config.to_hf_json())?, Task::SeqCls, num_labels as u64)
}

/// Whether the parameter with Hugging Face name `name` trains under `method`. LoRA trains the head PEFT's
/// `modules_to_save` keeps (`paths::is_head`); head-only and BitFit train the whole task head, everything outside
/// the backbone (`paths::outside_backbone`: ModernBERT's prediction `head` too), as the calculator counts them.
pub fn trains(method: Method, bias: Bias, lora_modules: &BTreeSet<String>, name: &str) -> bool {
    let (module, param) = name.rsplit_once('.').unwrap_or(("", name));
    if is_head(name) {
        return true;
    }
    match method {
        Method::Full => true,
        Method::Head => outside_backbone(name),
        Method::Bitfit => param == "bias" || outside_backbone(name),
        Method::Lora if name.contains(".lora_A.") || name.contains(".lora_B.") => true,
        Method::Lora => match param {
            "bias" => match bias {
                Bias::None => false,
                Bias::All => true,
                Bias::LoraOnly => lora_modules.contains(module),
            },
            _ => false,
        },
    }
}

struct SetTrainable<'a> {
    rule: &'a dyn Fn(&str) -> bool,
}

impl MapParam for SetTrainable<'_> {
    fn map<const D: usize>(&mut self, name: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.set_require_grad((self.rule)(name))
    }
}

/// Parameters that never train, whatever the method: DistilBERT's sinusoidal position table (transformers sets
/// `requires_grad = False` on it).
pub fn fixed_params(config: &EncoderConfig) -> Vec<String> {
    match config.sinusoidal_pos_embds {
        true => vec![flavor_name(config.flavor, "bert.embeddings.position_embeddings.weight")],
        false => Vec::new(),
    }
}

/// Sets `require_grad` on every parameter of `config`'s model for `method`.
pub fn apply(
    model: AutoModelForSequenceClassification,
    config: &EncoderConfig,
    method: Method,
    bias: Bias,
    lora_modules: &[String],
) -> AutoModelForSequenceClassification {
    let set: BTreeSet<String> = lora_modules.iter().cloned().collect();
    let fixed = fixed_params(config);
    let rule = |name: &str| !fixed.iter().any(|f| f == name) && trains(method, bias, &set, name);
    map_params(model, &mut SetTrainable { rule: &rule })
}

/// Parameters of the live model: every float parameter, and those that require gradients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveCount {
    pub trainable: u64,
    pub total: u64,
    /// Trainable parameter names (Hugging Face style), for tests and the page.
    pub trainable_names: Vec<String>,
}

struct Counter(LiveCount);

impl VisitParam for Counter {
    fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
        let n = param.shape().num_elements() as u64;
        self.0.total += n;
        if param.is_require_grad() {
            self.0.trainable += n;
            self.0.trainable_names.push(name.to_string());
        }
    }
}

pub fn count(model: &AutoModelForSequenceClassification) -> LiveCount {
    let mut c = Counter(LiveCount::default());
    visit_params(model, &mut c);
    // A packed base (NF4) is not a parameter burn sees; it counts in the total as transformers counts it.
    let _ = map_linears(model.clone(), |_, l| {
        c.0.total += l.packed.as_ref().map_or(0, |p| p.numel() as u64);
        l
    });
    c.0
}
