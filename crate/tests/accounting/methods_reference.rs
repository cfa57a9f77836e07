//! Full fine-tuning, head-only, BitFit, prompt and prefix tuning against transformers + PEFT
//! (`tests/reference/peft_methods_reference.json`).

use lora_playground::accounting::arch::{Architecture, HfConfig, Task};
use lora_playground::accounting::memory::{Batch, Optimizer, Precision};
use lora_playground::accounting::method_costs::{self, CostInputs};
use lora_playground::accounting::presets::preset_config;
use serde_json::Value;

#[test]
fn every_method_row_matches_the_reference() {
    let reference: Value =
        serde_json::from_str(include_str!("../../../tests/reference/peft_methods_reference.json")).unwrap();
    let inputs = CostInputs { precision: Precision::Fp32, optimizer: Optimizer::Adamw, batch: Batch::default() };
    let rows = reference["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 16);
    for row in rows {
        let preset = row["preset"].as_str().unwrap();
        let task = if row["task"] == "seq-cls" { Task::SeqCls } else { Task::Base };
        let a = Architecture::from_config(&HfConfig::parse(preset_config(preset).unwrap()).unwrap(), task, 2).unwrap();
        let what = format!("{preset} {task:?}");
        for (name, cost) in [
            ("full", method_costs::full(&a, inputs)),
            ("head_only", method_costs::head_only(&a, inputs)),
            ("bitfit", method_costs::bitfit(&a, inputs)),
        ] {
            let want = &row[name];
            assert_eq!(cost.trainable, want["trainable"].as_u64().unwrap(), "{name} trainable, {what}");
            assert_eq!(cost.all, want["all"].as_u64().unwrap(), "{name} all, {what}");
            assert_eq!(cost.trainable_tensors, want["trainable_tensors"].as_u64().unwrap(), "{name} tensors, {what}");
        }
        let n = row["virtual_tokens"].as_u64().unwrap();
        for (name, got) in [
            ("prompt_tuning", method_costs::prompt_tuning(&a, n)),
            ("prefix_tuning", method_costs::prefix_tuning(&a, n)),
        ] {
            let want = &row[name];
            if let Some(err) = want.get("error") {
                // PEFT cannot find DistilBERT's width (`dim`): the page must say so next to the figure.
                assert!(err.as_str().unwrap().contains("token_dim"), "{err}");
                assert!(got.note.contains("token_dim"), "{name} {what}: note must explain PEFT's error");
                continue;
            }
            assert_eq!(got.trainable, want["trainable"].as_u64().unwrap(), "{name} trainable, {what}");
            assert_eq!(got.all, want["all"].as_u64().unwrap(), "{name} all, {what}");
        }
    }
}
