//! A language model's LoRA adapter as PEFT saves it for `task_type: CAUSAL_LM`: `adapter_model.safetensors` with
//! `base_model.model.<module>.lora_A.weight` / `lora_B.weight` for every adapted layer (PEFT's layout: A `[r, in]`,
//! B `[out, r]`), and `adapter_config.json` with the plan's settings (no `modules_to_save`: an LM has no new head).

use std::collections::BTreeSet;

use burn::module::Param;
use burn::tensor::Tensor;
use serde_json::json;

use crate::accounting::lora_config::LoraConfig;
use crate::error::Error;
use crate::model::causal::AutoModelForCausalLM;
use crate::model::export::{PEFT_PREFIX, adapter_config_json};
use crate::model::walk::{VisitParam, visit_named};
use crate::readback::read_floats;
use crate::safetensors::write_f32;

/// The two files, by name.
pub async fn peft_causal_adapter(
    model: &AutoModelForCausalLM,
    flavor: crate::accounting::arch::flavor::Flavor,
    lora: &LoraConfig,
    lora_dropout: f64,
    base_model: &str,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    struct Collect(Vec<(String, Vec<usize>, Tensor<1>)>);
    impl VisitParam for Collect {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            if name.contains(".lora_A.") || name.contains(".lora_B.") {
                let t = param.val();
                let shape = t.dims().to_vec();
                let n: usize = shape.iter().product();
                self.0.push((name.to_string(), shape, t.reshape([n])));
            }
        }
    }
    let mut c = Collect(Vec::new());
    visit_named(model, flavor, &mut c);
    if c.0.is_empty() {
        return Err(Error::invalid("adapter", "the model has no LoRA layers to save"));
    }
    let mut tensors = Vec::with_capacity(c.0.len());
    let mut modules = BTreeSet::new();
    for (name, shape, t) in c.0 {
        let module = name.split(".lora_").next().unwrap_or_default();
        modules.insert(module.rsplit('.').next().unwrap_or_default().to_string());
        tensors.push((format!("{PEFT_PREFIX}{name}"), shape, read_floats(t).await?));
    }
    let mut config = adapter_config_json(lora, lora_dropout, base_model, &modules);
    config["task_type"] = json!("CAUSAL_LM");
    config["modules_to_save"] = json!(null);
    Ok(vec![
        ("adapter_config.json".into(), (serde_json::to_string_pretty(&config).expect("json") + "\n").into_bytes()),
        ("adapter_model.safetensors".into(), write_f32(&tensors)),
    ])
}
