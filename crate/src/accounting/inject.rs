//! What `peft.get_peft_model` does to an architecture: which modules get LoRA layers and which become
//! `modules_to_save` copies. Follows `BaseTuner.inject_adapter`, `check_target_module_exists`,
//! `_maybe_include_all_linear_layers` and `_set_trainable` in PEFT 0.21, quirks included, because the
//! figures must be the ones PEFT reports.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::accounting::arch::{Architecture, ModuleSpec, Task};
use crate::accounting::lora_config::{LoraConfig, TargetModules};
use crate::accounting::path::within;
use crate::error::Error;

/// `PeftModelForSequenceClassification` adds these to `modules_to_save`.
pub const SEQ_CLS_MODULES_TO_SAVE: [&str; 2] = ["classifier", "score"];

/// The outcome of injecting a LoRA adapter.
#[derive(Debug, Clone, Serialize)]
pub struct Injection {
    /// Indices into `Architecture::modules` of the modules wrapped with LoRA, in module order.
    pub lora: Vec<usize>,
    /// Paths PEFT wraps in `ModulesToSaveWrapper` (a trainable copy next to the frozen original).
    pub modules_to_save: Vec<String>,
}

impl Injection {
    /// Whether a module is inside (or is) one of the `modules_to_save` wrappers.
    pub fn saved(&self, module: &ModuleSpec) -> bool {
        self.modules_to_save.iter().any(|p| within(&module.name, p))
    }
}

/// Every module path `named_modules()` yields that has parameters below it: the leaves and their parents.
fn all_paths(arch: &Architecture) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for m in &arch.modules {
        let mut end = 0;
        while let Some(dot) = m.name[end..].find('.') {
            end += dot;
            paths.insert(m.name[..end].to_string());
            end += 1;
        }
        paths.insert(m.name.clone());
    }
    paths
}

/// `_set_trainable`: every module whose path *ends with* a `modules_to_save` name (a plain string suffix,
/// so DistilBERT's `pre_classifier` is caught by `classifier`). Nested matches stay inside their wrapper.
pub fn modules_to_save(arch: &Architecture) -> Vec<String> {
    if arch.task != Task::SeqCls {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for path in all_paths(arch) {
        if SEQ_CLS_MODULES_TO_SAVE.iter().any(|s| path.ends_with(s)) && !out.iter().any(|p| within(&path, p)) {
            out.push(path);
        }
    }
    out
}

/// The names LoRA can target for an architecture, for error messages: each supported module's name inside its
/// block (`attention.self.query`), leaving out the head PEFT keeps as `modules_to_save`.
pub fn target_choices(arch: &Architecture) -> Vec<String> {
    let saved = modules_to_save(arch);
    let mut seen = BTreeSet::new();
    arch.modules
        .iter()
        .filter(|m| m.kind.lora_supported() && !saved.iter().any(|p| within(&m.name, p)))
        .map(|m| crate::accounting::arch::block_relative(&m.name))
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

pub fn inject(arch: &Architecture, config: &LoraConfig) -> Result<Injection, Error> {
    config.validate()?;
    let saved_names: &[&str] = if arch.task == Task::SeqCls { &SEQ_CLS_MODULES_TO_SAVE } else { &[] };
    let targets = resolve_targets(arch, config)?;
    let is_leaf = |path: &str| arch.modules.iter().position(|m| m.name == path);

    let mut lora = Vec::new();
    for path in all_paths(arch) {
        // "Adapters should never match on modules to save": any path with a component equal to one.
        if path.split('.').any(|c| saved_names.contains(&c)) {
            continue;
        }
        if !matches(&path, &targets, config.layers_to_transform.as_deref()) {
            continue;
        }
        match is_leaf(&path) {
            Some(i) if arch.modules[i].kind.lora_supported() => lora.push(i),
            Some(i) => return Err(unsupported(&path, arch.modules[i].kind.torch_name())),
            None => return Err(unsupported(&path, "a container module")),
        }
    }
    if lora.is_empty() {
        let asked = match &targets {
            Targets::Names(n) => n.join(", "),
            Targets::FullNames(_) => TargetModules::ALL_LINEAR.into(),
        };
        let layers = match &config.layers_to_transform {
            Some(l) if arch.modules.iter().all(|m| m.layer.is_none()) => format!(
                " in layers {l:?} (PEFT reads the layer number only after a prefix, as in `model.layers.0`; \
                 this model's blocks have none, so layers_to_transform matches nothing: use the task model or drop it)"
            ),
            Some(l) => format!(" in layers {l:?}"),
            None => String::new(),
        };
        return Err(Error::invalid(
            "target_modules",
            format!(
                "Target modules {{{asked}}} not found in the base model{layers}. Module names in this model: {}",
                target_choices(arch).join(", ")
            ),
        ));
    }
    lora.sort_unstable();

    let saved = modules_to_save(arch);
    // `_set_trainable` refuses to wrap a module that already became a LoRA layer (PEFT raises TypeError:
    // "modules_to_save cannot be applied to modules of type lora.Linear"), e.g. DistilBERT's `pre_classifier`
    // under all-linear.
    if let Some(&i) = lora.iter().find(|&&i| saved.iter().any(|p| arch.modules[i].name == *p)) {
        return Err(Error::invalid(
            "target_modules",
            format!(
                "'{}' is both a LoRA target and a modules_to_save head (its name ends with classifier/score); \
                 PEFT refuses this combination: modules_to_save cannot be applied to modules of type lora.Linear",
                arch.modules[i].name
            ),
        ));
    }
    Ok(Injection { lora, modules_to_save: saved })
}

fn unsupported(path: &str, what: &str) -> Error {
    Error::invalid(
        "target_modules",
        format!(
            "Target module {path} ({what}) is not supported. LoRA wraps Linear, Conv1D and Embedding modules only."
        ),
    )
}

enum Targets {
    /// User-given names: full path or dot-boundary suffix, with `layers_to_transform` applied.
    Names(Vec<String>),
    /// `all-linear` expanded to full paths; PEFT's exact-name branch skips the layer filter.
    FullNames(BTreeSet<String>),
}

fn resolve_targets(arch: &Architecture, config: &LoraConfig) -> Result<Targets, Error> {
    match &config.target_modules {
        Some(t) if t.is_all_linear() => {
            let mut names: BTreeSet<String> =
                arch.modules.iter().filter(|m| m.kind.is_linear()).map(|m| m.name.clone()).collect();
            // The base models here have no output embedding; for SEQ_CLS the first of `score`, `classifier`
            // found as an attribute of the model is left out.
            if arch.task == Task::SeqCls {
                if let Some(head) = ["score", "classifier"].into_iter().find(|h| all_paths(arch).contains(*h)) {
                    names.retain(|n| !within(n, head));
                }
            }
            Ok(Targets::FullNames(names))
        }
        Some(TargetModules::Names(n)) => Ok(Targets::Names(n.clone())),
        Some(TargetModules::Shorthand(_)) => unreachable!("validate() rejects shorthands other than all-linear"),
        None => match &arch.default_targets {
            Some(d) => Ok(Targets::Names(d.clone())),
            None => {
                // all-linear is offered only where PEFT takes it (not on a DistilBERT classifier, whose
                // `pre_classifier` it would wrap).
                let all_linear = LoraConfig {
                    target_modules: Some(TargetModules::Shorthand(TargetModules::ALL_LINEAR.into())),
                    ..config.clone()
                };
                let or = if inject(arch, &all_linear).is_ok() { " (or all-linear)" } else { "" };
                Err(Error::invalid(
                    "target_modules",
                    format!(
                        "PEFT has no default target_modules for model_type '{}'; choose some of: {}{or}",
                        arch.model_type,
                        target_choices(arch).join(", ")
                    ),
                ))
            }
        },
    }
}

fn matches(path: &str, targets: &Targets, layers: Option<&[usize]>) -> bool {
    match targets {
        Targets::FullNames(names) => names.contains(path),
        Targets::Names(names) => {
            if names.iter().any(|n| n == path) {
                return true;
            }
            let suffix = names.iter().any(|n| {
                path.len() > n.len() && path.ends_with(n.as_str()) && {
                    path.as_bytes()[path.len() - n.len() - 1] == b'.'
                }
            });
            match layers {
                Some(layers) if suffix => {
                    crate::accounting::arch::layer_index(path).is_some_and(|l| layers.contains(&l))
                }
                _ => suffix,
            }
        }
    }
}
