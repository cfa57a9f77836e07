//! What to train and how: one `Plan`, the one source of its defaults and its checks. The page sends it as a
//! flat JSON object with PEFT's names (`r`, `lora_alpha`, `target_modules`, ...), the CLI's flags map onto the same
//! keys (`FIELDS`), and `training.json` records it the same way, so the three can never disagree on a default or
//! on what counts as valid. Every error names the field it concerns.

use serde_json::{Value, json};

use super::config::TrainConfig;
use crate::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use crate::error::Error;
use crate::model::methods::Method;
use crate::model::packed::Base;

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub method: Method,
    /// Used by `Method::Lora` (its `bias` too).
    pub lora: LoraConfig,
    /// PEFT's `lora_dropout`: dropout on the LoRA path's input while training.
    pub lora_dropout: f64,
    pub train: TrainConfig,
    /// Tokens per text, special tokens included; longer texts are truncated.
    pub max_len: usize,
    /// Share of each class held out for validation.
    pub val_fraction: f64,
    /// How the frozen base is held: float32, or NF4 (QLoRA: bitsandbytes' 4-bit blocks, dequantized as each layer
    /// runs). The language models' other bases (float16, a GGUF file's blocks) are theirs (`causal::plan`).
    pub base: Base,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            method: Method::Lora,
            // PEFT's LoraConfig defaults r=8, alpha=8; tutorials (and our measurements) use alpha = 2r.
            lora: LoraConfig {
                r: 8,
                lora_alpha: 16.0,
                target_modules: Some(TargetModules::Names(vec!["query".into(), "value".into()])),
                ..LoraConfig::default()
            },
            lora_dropout: 0.1,
            train: TrainConfig::default(),
            // 64 tokens: short texts fit whole, and a CPU step in the page costs half of what 128 would.
            max_len: 64,
            val_fraction: 0.2,
            base: Base::Float32,
        }
    }
}

/// Every field: its JSON key (PEFT's name where PEFT has the setting) and the CLI flag that sets it.
pub const FIELDS: [(&str, &str); 18] = [
    ("method", "--method"),
    ("r", "--r"),
    ("lora_alpha", "--alpha"),
    ("target_modules", "--targets"),
    ("use_rslora", "--rslora"),
    ("layers_to_transform", "--layers"),
    ("bias", "--bias"),
    ("lora_dropout", "--lora-dropout"),
    ("epochs", "--epochs"),
    ("batch_size", "--batch-size"),
    ("lr", "--lr"),
    ("weight_decay", "--weight-decay"),
    ("warmup_ratio", "--warmup-ratio"),
    ("max_grad_norm", "--max-grad-norm"),
    ("max_len", "--max-len"),
    ("seed", "--seed"),
    ("val_fraction", "--val-fraction"),
    ("base", "--base"),
];

/// Limits beyond which a setting is a typo, not an experiment (a tab would run for days or out of memory).
const MAX_EPOCHS: usize = 1000;
const MAX_BATCH: usize = 1024;
const MAX_RANK: u64 = 4096;
const MAX_LEN: usize = 8192;

impl Plan {
    /// The defaults with `fields` (a JSON object, any subset of `FIELDS`) laid over them, checked. An `lr` left
    /// out (or null, or "") is the method's usual one (`Method::usual_lr`), so `{"method": "full"}` trains full
    /// fine-tuning at its own rate, not LoRA's.
    pub fn from_json(fields: &Value) -> Result<Self, Error> {
        let map = fields.as_object().ok_or_else(|| Error::invalid("plan", "must be an object of training settings"))?;
        let mut plan = Plan::default();
        for (key, value) in map {
            if key != "lr" || lr_given(fields) {
                plan.set(key, value)?;
            }
        }
        if !lr_given(fields) {
            plan.train.lr = plan.method.usual_lr();
        }
        plan.validate()?;
        Ok(plan)
    }

    /// The plan as the flat object `from_json` reads (what the page shows and `training.json` records).
    pub fn to_json(&self) -> Value {
        let targets = match &self.lora.target_modules {
            Some(TargetModules::Names(n)) => json!(n),
            Some(TargetModules::Shorthand(s)) => json!([s]),
            None => Value::Null,
        };
        let (l, t) = (&self.lora, &self.train);
        json!({
            "method": self.method.name(), "r": l.r, "lora_alpha": l.lora_alpha, "target_modules": targets,
            "use_rslora": l.use_rslora, "layers_to_transform": l.layers_to_transform, "bias": l.bias,
            "lora_dropout": self.lora_dropout, "epochs": t.epochs, "batch_size": t.batch_size, "lr": t.lr,
            "weight_decay": t.weight_decay, "warmup_ratio": t.warmup_ratio, "max_grad_norm": t.max_grad_norm,
            "max_len": self.max_len, "seed": t.seed, "val_fraction": self.val_fraction, "base": self.base.name(),
        })
    }

    /// Sets one field from a JSON value. Numbers may come as strings (a URL hash, a CLI flag) if they parse;
    /// lists as comma-separated strings.
    pub fn set(&mut self, key: &str, v: &Value) -> Result<(), Error> {
        match key {
            "method" => self.method = Method::parse(&text(key, v)?)?,
            "r" => self.lora.r = whole(key, v)?,
            "lora_alpha" => self.lora.lora_alpha = number(key, v)?,
            "target_modules" => self.lora.target_modules = Some(target_modules(key, v)?),
            "use_rslora" => self.lora.use_rslora = flag(key, v)?,
            "layers_to_transform" => self.lora.layers_to_transform = layers(key, v)?,
            "bias" => self.lora.bias = Bias::parse(&text(key, v)?)?,
            "lora_dropout" => self.lora_dropout = number(key, v)?,
            "epochs" => self.train.epochs = size(key, v)?,
            "batch_size" => self.train.batch_size = size(key, v)?,
            "lr" => self.train.lr = number(key, v)?,
            "weight_decay" => self.train.weight_decay = number(key, v)?,
            "warmup_ratio" => self.train.warmup_ratio = number(key, v)?,
            "max_grad_norm" => self.train.max_grad_norm = number(key, v)?,
            "max_len" => self.max_len = size(key, v)?,
            "seed" => self.train.seed = whole(key, v)?,
            "val_fraction" => self.val_fraction = number(key, v)?,
            "base" => self.base = encoder_base(key, v)?,
            other => {
                let known: Vec<&str> = FIELDS.iter().map(|(k, _)| *k).collect();
                return Err(Error::invalid(
                    other,
                    format!("is not a training setting (they are: {})", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Every check that needs no model (the model's own limits, such as `max_position_embeddings`, are checked
    /// when the run is prepared).
    pub fn validate(&self) -> Result<(), Error> {
        self.lora.validate()?;
        if self.lora.r > MAX_RANK {
            return Err(Error::invalid(
                "r",
                format!("{} is more than {MAX_RANK}: no layer here is that wide", self.lora.r),
            ));
        }
        let t = &self.train;
        in_range("lora_dropout", self.lora_dropout, 0.0, 1.0, "in [0, 1)", true)?;
        if !(1..=MAX_EPOCHS).contains(&t.epochs) {
            return Err(Error::invalid("epochs", format!("must be between 1 and {MAX_EPOCHS}, not {}", t.epochs)));
        }
        if !(1..=MAX_BATCH).contains(&t.batch_size) {
            return Err(Error::invalid(
                "batch_size",
                format!("must be between 1 and {MAX_BATCH}, not {}", t.batch_size),
            ));
        }
        check_lr("lr", t.lr, "2e-4")?;
        in_range("weight_decay", t.weight_decay, 0.0, 1.0, "in [0, 1]", false)?;
        in_range("warmup_ratio", t.warmup_ratio, 0.0, 1.0, "in [0, 1]", false)?;
        if !(t.max_grad_norm.is_finite() && t.max_grad_norm > 0.0) {
            return Err(Error::invalid("max_grad_norm", format!("must be a positive number, not {}", t.max_grad_norm)));
        }
        if !(3..=MAX_LEN).contains(&self.max_len) {
            return Err(Error::invalid(
                "max_len",
                format!("must be between 3 ([CLS], a word, [SEP]) and {MAX_LEN} tokens, not {}", self.max_len),
            ));
        }
        if self.base.is_packed() && self.method == Method::Full {
            return Err(Error::invalid(
                "method",
                "full fine-tuning trains every weight, and a 4-bit base has none to train: choose LoRA, head-only or \
                 BitFit on it, or the float32 base",
            ));
        }
        if !(self.val_fraction > 0.0 && self.val_fraction < 1.0) {
            return Err(Error::invalid(
                "val_fraction",
                format!("must be between 0 and 1 (such as 0.2), not {}", self.val_fraction),
            ));
        }
        Ok(())
    }
}

/// A learning rate is above 0 and at most 1: the plan's `lr`, and an experiment's `full_lr`.
pub fn check_lr(field: &str, lr: f64, example: &str) -> Result<(), Error> {
    if lr.is_finite() && lr > 0.0 && lr <= 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(field, format!("must be a number above 0 and at most 1 (such as {example}), not {lr}")))
    }
}

/// Whether `fields` set a learning rate (a blank control or a null leaves it to the method).
pub fn lr_given(fields: &Value) -> bool {
    match fields.get("lr") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

fn in_range(field: &str, x: f64, lo: f64, hi: f64, what: &str, open_top: bool) -> Result<(), Error> {
    let ok = x.is_finite() && x >= lo && if open_top { x < hi } else { x <= hi };
    if ok { Ok(()) } else { Err(Error::invalid(field, format!("must be {what}, not {x}"))) }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn number(key: &str, v: &Value) -> Result<f64, Error> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match x {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(Error::invalid(key, format!("must be a finite number, not {}", shown(v)))),
    }
}

fn whole(key: &str, v: &Value) -> Result<u64, Error> {
    let x = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    x.ok_or_else(|| Error::invalid(key, format!("must be a whole number, 0 or more, not {}", shown(v))))
}

fn size(key: &str, v: &Value) -> Result<usize, Error> {
    usize::try_from(whole(key, v)?).map_err(|_| Error::invalid(key, "is too large"))
}

fn flag(key: &str, v: &Value) -> Result<bool, Error> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if matches!(s.as_str(), "1" | "true") => Ok(true),
        Value::String(s) if matches!(s.as_str(), "0" | "false") => Ok(false),
        _ => Err(Error::invalid(key, format!("must be true or false, not {}", shown(v)))),
    }
}

fn text(key: &str, v: &Value) -> Result<String, Error> {
    v.as_str().map(str::to_string).ok_or_else(|| Error::invalid(key, format!("must be a string, not {}", shown(v))))
}

/// An encoder's base: float32 or NF4. float16 and *as stored* hold a language model's token table and head packed,
/// and an encoder trains its head.
fn encoder_base(key: &str, v: &Value) -> Result<Base, Error> {
    match Base::parse(&text(key, v)?) {
        Ok(b @ (Base::Float32 | Base::Nf4)) => Ok(b),
        Ok(b) => Err(Error::invalid(
            key,
            format!("'{}' is a language model's base; a classifier's is float32 or nf4 (QLoRA)", b.name()),
        )),
        Err(_) => Err(Error::invalid(key, format!("must be float32 or nf4 (QLoRA), not {}", shown(v)))),
    }
}

fn strings(key: &str, v: &Value) -> Result<Vec<String>, Error> {
    match v {
        Value::String(s) => Ok(s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()),
        Value::Array(items) => items.iter().map(|i| text(key, i)).collect(),
        _ => Err(Error::invalid(key, format!("must be a list, not {}", shown(v)))),
    }
}

fn target_modules(key: &str, v: &Value) -> Result<TargetModules, Error> {
    let names = strings(key, v)?;
    Ok(if names.len() == 1 && names[0].eq_ignore_ascii_case(TargetModules::ALL_LINEAR) {
        TargetModules::Shorthand(TargetModules::ALL_LINEAR.into())
    } else {
        TargetModules::Names(names)
    })
}

/// `null` (or an empty string) for every block, else block numbers.
fn layers(key: &str, v: &Value) -> Result<Option<Vec<usize>>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(_) | Value::Array(_) => {
            let items: Vec<Value> = match v {
                Value::String(s) => s.split(',').map(|t| Value::String(t.trim().to_string())).collect(),
                Value::Array(a) => a.clone(),
                _ => unreachable!(),
            };
            items.iter().map(|i| size(key, i)).collect::<Result<Vec<_>, _>>().map(Some)
        }
        _ => Err(Error::invalid(key, format!("must be a list of block numbers, not {}", shown(v)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_round_trip_through_json() {
        let plan = Plan::default();
        assert_eq!(Plan::from_json(&plan.to_json()).unwrap(), plan);
        assert_eq!(plan.to_json().as_object().unwrap().len(), FIELDS.len());
    }

    #[test]
    fn a_blank_lr_is_the_method_s_usual_one_and_a_set_one_is_kept() {
        for fields in
            [json!({"method": "full"}), json!({"method": "full", "lr": ""}), json!({"lr": null, "method": "full"})]
        {
            assert_eq!(Plan::from_json(&fields).unwrap().train.lr, Method::Full.usual_lr(), "{fields}");
        }
        assert_eq!(Plan::from_json(&json!({"method": "head"})).unwrap().train.lr, Method::Head.usual_lr());
        assert_eq!(Plan::from_json(&json!({"method": "full", "lr": "2e-4"})).unwrap().train.lr, 2e-4);
        assert_eq!(Plan::default().train.lr, Method::Lora.usual_lr());
    }

    #[test]
    fn strings_from_a_link_or_a_flag_parse_as_numbers_and_lists() {
        let p = Plan::from_json(&json!({"r": "4", "lr": "1e-3", "target_modules": "query, key", "layers_to_transform": "0,1", "use_rslora": "1"})).unwrap();
        assert_eq!((p.lora.r, p.train.lr, p.lora.use_rslora), (4, 1e-3, true));
        assert_eq!(p.lora.target_modules, Some(TargetModules::Names(vec!["query".into(), "key".into()])));
        assert_eq!(p.lora.layers_to_transform, Some(vec![0, 1]));
        assert!(
            Plan::from_json(&json!({"target_modules": "all-linear"}))
                .unwrap()
                .lora
                .target_modules
                .unwrap()
                .is_all_linear()
        );
    }

    #[test]
    fn each_bad_setting_is_refused_with_its_own_field_named() {
        for (fields, field) in [
            (json!({"r": -3}), "r"),
            (json!({"r": 0}), "r"),
            (json!({"lora_alpha": "1e309"}), "lora_alpha"),
            (json!({"lora_alpha": null}), "lora_alpha"),
            (json!({"lr": "NaN"}), "lr"),
            (json!({"lr": 0}), "lr"),
            (json!({"epochs": 1e9}), "epochs"),
            (json!({"epochs": 100000}), "epochs"),
            (json!({"batch_size": 0}), "batch_size"),
            (json!({"max_len": 100000}), "max_len"),
            (json!({"max_len": 2}), "max_len"),
            (json!({"lora_dropout": 1.0}), "lora_dropout"),
            (json!({"val_fraction": 0}), "val_fraction"),
            (json!({"seed": "abc"}), "seed"),
            (json!({"method": "dora"}), "method"),
            (json!({"bias": "some"}), "bias"),
            (json!({"layers_to_transform": "0,x"}), "layers_to_transform"),
            (json!({"target_modules": []}), "target_modules"),
            (json!({"use_rslora": "yes"}), "use_rslora"),
            (json!({"rank": 8}), "rank"),
        ] {
            let e = Plan::from_json(&fields).expect_err(&fields.to_string());
            assert_eq!(e.field, field, "{fields}: {e}");
        }
    }
}
