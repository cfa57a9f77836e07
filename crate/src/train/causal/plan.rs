//! A language-model run's settings from the page, by PEFT's and transformers' names (`r`, `lora_alpha`,
//! `target_modules`, `learning_rate`, `num_train_epochs`, ...), with the defaults of `lora-playground train` for a
//! language model, each checked with a message naming the field.

use serde_json::Value;

use super::trainer::LmPlan;
use crate::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use crate::error::Error;
use crate::model::methods::Method;
use crate::model::packed::Base;

/// The defaults of the page and of `train` for a language model: LoRA r 8, lora_alpha 16 on every linear layer of
/// the blocks (`all-linear`), 3 epochs of batches of 4 at 2e-3 (full fine-tuning 5e-5), 10% warm-up, clipping at
/// 1. Chosen by measurement on the built-in lesson with SmolLM2 (docs/MEASUREMENTS.md, "Language models"): PEFT's
/// default targets (q_proj, v_proj) at 1e-3 left the answer wrong after 40 steps (held-out perplexity 33.0);
/// all-linear at 2e-3 answers it after 30 (20.7).
pub fn default_plan(method: Method) -> LmPlan {
    LmPlan {
        method,
        lora: LoraConfig {
            r: 8,
            lora_alpha: 16.0,
            target_modules: Some(TargetModules::Shorthand(TargetModules::ALL_LINEAR.into())),
            ..LoraConfig::default()
        },
        lora_dropout: 0.0,
        lr: if method == Method::Full { 5e-5 } else { 2e-3 },
        epochs: 3,
        batch_size: 4,
        weight_decay: 0.0,
        warmup_ratio: 0.1,
        max_grad_norm: 1.0,
        seed: 0,
        base: Base::Float32,
        gradient_checkpointing: false,
    }
}

fn number(v: &Value, key: &str, min: f64, max: f64) -> Result<Option<f64>, Error> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => {
            let n = x.as_f64().or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()));
            match n {
                Some(n) if n.is_finite() && n >= min && n <= max => Ok(Some(n)),
                _ => Err(Error::invalid(key, format!("must be a number from {min} to {max}, got {x}"))),
            }
        }
    }
}

fn whole(v: &Value, key: &str, max: f64) -> Result<Option<usize>, Error> {
    match number(v, key, 1.0, max)? {
        Some(n) if n.fract() == 0.0 => Ok(Some(n as usize)),
        Some(n) => Err(Error::invalid(key, format!("must be a whole number, got {n}"))),
        None => Ok(None),
    }
}

/// The plan `v` (any subset of the fields) describes over the defaults.
pub fn plan_from_json(v: &Value) -> Result<LmPlan, Error> {
    let method = Method::parse(v.get("method").and_then(Value::as_str).unwrap_or("lora"))?;
    let mut p = default_plan(method);
    p.lora.r = whole(v, "r", 4096.0)?.map_or(p.lora.r, |r| r as u64);
    p.lora.lora_alpha = number(v, "lora_alpha", 1e-6, 1e6)?.unwrap_or(p.lora.lora_alpha);
    if let Some(t) = v.get("target_modules").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) {
        p.lora.target_modules = Some(TargetModules::parse_list(t));
    }
    p.lora.use_rslora = v.get("use_rslora").and_then(Value::as_bool).unwrap_or(false);
    if let Some(b) = v.get("bias").and_then(Value::as_str) {
        p.lora.bias = Bias::parse(b)?;
    }
    p.lora_dropout = number(v, "lora_dropout", 0.0, 0.99)?.unwrap_or(p.lora_dropout);
    p.lr = number(v, "learning_rate", 1e-9, 1.0)?.unwrap_or(p.lr);
    p.epochs = whole(v, "num_train_epochs", 100.0)?.unwrap_or(p.epochs);
    p.batch_size = whole(v, "per_device_train_batch_size", 256.0)?.unwrap_or(p.batch_size);
    p.weight_decay = number(v, "weight_decay", 0.0, 1.0)?.unwrap_or(p.weight_decay);
    p.warmup_ratio = number(v, "warmup_ratio", 0.0, 1.0)?.unwrap_or(p.warmup_ratio);
    p.max_grad_norm = number(v, "max_grad_norm", 0.0, 1e6)?.unwrap_or(p.max_grad_norm);
    p.seed = number(v, "seed", 0.0, 2f64.powi(53))?.map_or(p.seed, |s| s as u64);
    if let Some(b) = v.get("base").and_then(Value::as_str) {
        p.base = Base::parse(b).map_err(|m| Error::invalid("base", m.replace("--base ", "")))?;
    }
    if let Some(g) = v.get("gradient_checkpointing").filter(|g| !g.is_null()) {
        p.gradient_checkpointing = g
            .as_bool()
            .ok_or_else(|| Error::invalid("gradient_checkpointing", format!("must be true or false, got {g}")))?;
    }
    p.lora.validate()?;
    Ok(p)
}

/// The plan as the flat object `plan_from_json` reads back (what `training.json` records and `export-run` reads).
pub fn plan_to_json(p: &LmPlan) -> Value {
    serde_json::json!({
        "method": p.method.name(), "r": p.lora.r, "lora_alpha": p.lora.lora_alpha,
        "target_modules": p.lora.target_modules.as_ref().map(TargetModules::to_list), "use_rslora": p.lora.use_rslora,
        "bias": p.lora.bias, "lora_dropout": p.lora_dropout, "learning_rate": p.lr, "num_train_epochs": p.epochs,
        "per_device_train_batch_size": p.batch_size, "weight_decay": p.weight_decay, "warmup_ratio": p.warmup_ratio,
        "max_grad_norm": p.max_grad_norm, "seed": p.seed, "base": p.base.name(),
        "gradient_checkpointing": p.gradient_checkpointing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_over_defaults_with_bad_ones_named() {
        let p = plan_from_json(&serde_json::json!({"r": "16", "target_modules": "all-linear", "learning_rate": 2e-3}))
            .unwrap();
        assert_eq!((p.lora.r, p.lr, p.epochs, p.batch_size), (16, 2e-3, 3, 4));
        let d = plan_from_json(&serde_json::json!({})).unwrap();
        assert!(d.lora.target_modules.unwrap().is_all_linear() && d.lr == 2e-3);
        assert!(p.lora.target_modules.unwrap().is_all_linear());
        assert_eq!(plan_from_json(&serde_json::json!({"r": 0})).unwrap_err().field, "r");
        assert_eq!(
            plan_from_json(&serde_json::json!({"num_train_epochs": 1.5})).unwrap_err().field,
            "num_train_epochs"
        );
        assert_eq!(plan_from_json(&serde_json::json!({"method": "head"})).map(|p| p.method).unwrap(), Method::Head);
        assert_eq!(plan_from_json(&serde_json::json!({"method": "x"})).unwrap_err().field, "method");
        let bad = plan_from_json(&serde_json::json!({"gradient_checkpointing": "yes"})).unwrap_err();
        assert_eq!(bad.field, "gradient_checkpointing");
        let mut odd = default_plan(Method::Bitfit);
        (odd.lora.r, odd.lora.use_rslora, odd.lora.bias, odd.base) = (3, true, Bias::All, Base::Nf4);
        (odd.lr, odd.epochs, odd.seed, odd.warmup_ratio) = (1e-4, 7, 9, 0.25);
        odd.gradient_checkpointing = true;
        odd.lora.target_modules = Some(TargetModules::parse_list("q_proj,v_proj"));
        assert_eq!(plan_from_json(&plan_to_json(&odd)).unwrap(), odd);
    }
}
