//! File sizes and optimizer state against what PEFT, transformers, safetensors and torch produced
//! (`tests/reference/peft_reference.json`).

use lora_playground::accounting::arch::{Architecture, HfConfig, Task};
use lora_playground::accounting::checkpoint::{
    AdapterDtypes, Dtype, adapter_tensors, model_tensors, safetensors_bytes,
};
use lora_playground::accounting::count::count_lora;
use lora_playground::accounting::inject::inject;
use lora_playground::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use lora_playground::accounting::memory::{Batch, Optimizer, Precision};
use lora_playground::accounting::method_costs::{self, CostInputs};
use lora_playground::accounting::presets::preset_config;
use serde_json::Value;

fn reference() -> Value {
    serde_json::from_str(include_str!("../../../tests/reference/peft_reference.json")).unwrap()
}

fn arch(preset: &str, task: &str, labels: u64) -> Architecture {
    let t = if task == "seq-cls" { Task::SeqCls } else { Task::Base };
    Architecture::from_config(&HfConfig::parse(preset_config(preset).unwrap()).unwrap(), t, labels).unwrap()
}

fn lora_config(row: &Value) -> LoraConfig {
    LoraConfig {
        r: row["r"].as_u64().unwrap(),
        lora_alpha: row["lora_alpha"].as_f64().unwrap(),
        use_rslora: row["use_rslora"].as_bool().unwrap(),
        target_modules: Some(match &row["target_modules"] {
            Value::String(s) => TargetModules::Shorthand(s.clone()),
            v => TargetModules::Names(serde_json::from_value(v.clone()).unwrap()),
        }),
        layers_to_transform: serde_json::from_value(row["layers_to_transform"].clone()).unwrap(),
        bias: Bias::parse(row["bias"].as_str().unwrap()).unwrap(),
    }
}

const F32: AdapterDtypes = AdapterDtypes { lora: Dtype::F32, base: Dtype::F32 };

#[test]
fn adapter_file_keys_shapes_and_bytes_match_peft_save_pretrained() {
    let (mut keys_checked, mut bytes_checked) = (0, 0);
    for row in reference()["rows"].as_array().unwrap() {
        if row.get("error").is_some() {
            continue;
        }
        let a =
            arch(row["preset"].as_str().unwrap(), row["task"].as_str().unwrap(), row["num_labels"].as_u64().unwrap());
        let config = lora_config(row);
        let tensors = adapter_tensors(&a, &config, &inject(&a, &config).unwrap(), F32);
        let what = format!(
            "{} {} {:?} r={} bias={}",
            row["preset"], row["task"], row["target_modules"], row["r"], row["bias"]
        );
        if let Some(Value::Object(keys)) = row.get("adapter_keys") {
            let mut got: Vec<(String, Vec<u64>)> = tensors.iter().map(|t| (t.name.clone(), t.shape.clone())).collect();
            let mut want: Vec<(String, Vec<u64>)> =
                keys.iter().map(|(k, v)| (k.clone(), serde_json::from_value(v.clone()).unwrap())).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "adapter keys, {what}");
            keys_checked += 1;
        }
        assert_eq!(safetensors_bytes(&tensors), row["adapter_bytes"].as_u64().unwrap(), "adapter bytes, {what}");
        bytes_checked += 1;
    }
    assert!(keys_checked >= 150 && bytes_checked >= 340, "{keys_checked} key sets, {bytes_checked} sizes");
}

#[test]
fn model_safetensors_bytes_match_transformers_save_pretrained() {
    let mut checked = 0;
    for p in reference()["presets"].as_array().unwrap() {
        for task in ["base", "seq-cls"] {
            let a = arch(p["preset"].as_str().unwrap(), task, 2);
            for (key, dtype) in
                [("model_safetensors_bytes_fp32", Dtype::F32), ("model_safetensors_bytes_bf16", Dtype::BF16)]
            {
                if let Some(bytes) = p[task].get(key) {
                    assert_eq!(
                        safetensors_bytes(&model_tensors(&a, dtype)),
                        bytes.as_u64().unwrap(),
                        "{} {task} {key}",
                        p["preset"]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
fn optimizer_state_matches_torch_after_one_step() {
    let a = arch("all-MiniLM-L6-v2", "seq-cls", 2);
    let config = LoraConfig {
        r: 8,
        lora_alpha: 16.0,
        target_modules: Some(TargetModules::Names(vec!["query".into(), "value".into()])),
        ..LoraConfig::default()
    };
    let inj = inject(&a, &config).unwrap();
    let count = count_lora(&a, &config).unwrap();
    for row in reference()["optimizer"].as_array().unwrap() {
        let optimizer = Optimizer::parse(row["optimizer"].as_str().unwrap()).unwrap();
        let inputs = CostInputs { precision: Precision::Fp32, optimizer, batch: Batch::default() };
        let cost = match row["method"].as_str().unwrap() {
            "lora" => method_costs::lora(&a, &config, &inj, &count, inputs, Dtype::F32),
            "full" => method_costs::full(&a, inputs),
            other => panic!("unexpected method {other}"),
        };
        assert_eq!(cost.trainable_tensors, row["trainable_tensors"].as_u64().unwrap(), "{row}");
        assert_eq!(cost.memory.optimizer_state, row["state_bytes"].as_u64().unwrap(), "{row}");
    }
}
