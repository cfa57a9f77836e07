//! An element's attributes as written in the lesson (`model="ModernBERT-base" r="8" targets="Wqkv,Wo"`), read into
//! the calculator's `Setup` with the names the CLI's `count` uses, so a figure and `count --json` with the same
//! settings are the same computation. Attribute names follow PEFT where PEFT has the setting (`lora_alpha` and
//! `target_modules` are accepted beside the short `alpha` and `targets`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::accounting::arch::Task;
use crate::accounting::lora_config::{Bias, TargetModules};
use crate::accounting::memory::{Optimizer, Precision};
use crate::accounting::report::{AdapterDtype, Setup};
use crate::error::Error;

/// The attributes that set up the model and LoRA, with what each means (the element reference lists them).
pub const SETUP_ATTRIBUTES: &[(&str, &str)] = &[
    ("model", "a preset id (as the calculator lists them)"),
    ("r", "LoRA rank"),
    ("alpha", "lora_alpha (also written lora_alpha)"),
    ("targets", "target_modules, comma-separated, or all-linear (also written target_modules)"),
    ("bias", "none, all or lora_only"),
    ("layers", "layers_to_transform, comma-separated block numbers"),
    ("rslora", "true for use_rslora"),
    ("task", "seq-cls (a classifier head, the default) or base"),
    ("labels", "num_labels of the classifier head"),
    ("precision", "the frozen base's storage: fp32, bf16, fp16, int8, nf4"),
    ("adapter-dtype", "fp32 or bf16"),
    ("optimizer", "adamw, sgd_momentum or sgd"),
    ("batch", "batch size for the memory figures"),
    ("seq", "sequence length for the memory figures"),
    ("gradient-checkpointing", "true for the activations with gradient checkpointing (each layer's input kept)"),
];

const ALIASES: &[(&str, &str)] = &[("lora_alpha", "alpha"), ("target_modules", "targets")];

/// An element's attributes by name (lower case, as HTML reads them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Spec(pub BTreeMap<String, String>);

impl Spec {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of a setup attribute under its short name or its PEFT name.
    fn setting(&self, name: &str) -> Option<&str> {
        self.get(name).or_else(|| ALIASES.iter().find(|(_, short)| *short == name).and_then(|(long, _)| self.get(long)))
    }

    /// `digits="2"`: decimals in a rounded format.
    pub fn digits(&self) -> Result<Option<u32>, Error> {
        self.get("digits")
            .map(|d| {
                d.trim().parse::<u32>().ok().filter(|&d| d <= 12).ok_or_else(|| bad("digits", d, "a whole number 0-12"))
            })
            .transpose()
    }

    /// The calculator's setup these attributes describe; defaults are the calculator's (and `count`'s).
    pub fn setup(&self) -> Result<Setup, Error> {
        let mut setup = Setup::default();
        if let Some(m) = self.setting("model") {
            setup.model = m.trim().to_string();
        }
        if let Some(v) = self.setting("r") {
            setup.lora.r = whole("r", v)?;
        }
        if let Some(v) = self.setting("alpha") {
            setup.lora.lora_alpha =
                v.trim().parse::<f64>().ok().filter(|a| a.is_finite()).ok_or_else(|| bad("alpha", v, "a number"))?;
        }
        if let Some(v) = self.setting("targets") {
            setup.lora.target_modules = Some(TargetModules::parse_list(v));
        }
        if let Some(v) = self.setting("bias") {
            setup.lora.bias = Bias::parse(v.trim()).map_err(|e| Error::invalid("bias", e.message))?;
        }
        if let Some(v) = self.setting("layers") {
            let layers: Result<Vec<usize>, _> = v.split(',').map(|s| s.trim().parse::<usize>()).collect();
            setup.lora.layers_to_transform =
                Some(layers.map_err(|_| bad("layers", v, "comma-separated block numbers"))?);
        }
        if let Some(v) = self.setting("rslora") {
            setup.lora.use_rslora = flag("rslora", v)?;
        }
        if let Some(v) = self.setting("task") {
            setup.task = match v.trim() {
                "base" => Task::Base,
                "seq-cls" | "seq_cls" | "SEQ_CLS" => Task::SeqCls,
                _ => return Err(bad("task", v, "seq-cls or base")),
            };
        }
        if let Some(v) = self.setting("labels") {
            setup.num_labels = whole("labels", v)?;
        }
        if let Some(v) = self.setting("precision") {
            setup.precision = Precision::parse(v.trim()).map_err(|e| Error::invalid("precision", e.message))?;
        }
        if let Some(v) = self.setting("adapter-dtype") {
            setup.adapter_dtype = match v.trim() {
                "fp32" => AdapterDtype::Fp32,
                "bf16" => AdapterDtype::Bf16,
                _ => return Err(bad("adapter-dtype", v, "fp32 or bf16")),
            };
        }
        if let Some(v) = self.setting("optimizer") {
            setup.optimizer = Optimizer::parse(v.trim()).map_err(|e| Error::invalid("optimizer", e.message))?;
        }
        if let Some(v) = self.setting("batch") {
            setup.batch.batch_size = whole("batch", v)?;
        }
        if let Some(v) = self.setting("seq") {
            setup.batch.seq_len = whole("seq", v)?;
        }
        if let Some(v) = self.setting("gradient-checkpointing") {
            setup.batch.gradient_checkpointing = flag("gradient-checkpointing", v)?;
        }
        Ok(setup)
    }
}

/// A boolean attribute: present alone (`rslora`) or `true` is on, `false` off.
fn flag(name: &str, v: &str) -> Result<bool, Error> {
    match v.trim() {
        "true" | "" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(name, v, "true or false")),
    }
}

fn whole(name: &str, v: &str) -> Result<u64, Error> {
    v.trim().parse::<u64>().map_err(|_| bad(name, v, "a whole number"))
}

fn bad(name: &str, v: &str, wanted: &str) -> Error {
    Error::invalid(name, format!("{name}=\"{v}\" is not {wanted}"))
}
