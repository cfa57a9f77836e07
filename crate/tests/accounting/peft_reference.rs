//! Every row of `tests/reference/peft_reference.json` (written by real transformers + PEFT through
//! `tests/reference/peft_reference.py`) must come out of the calculator exactly.

use lora_playground::accounting::arch::{Architecture, HfConfig, Task};
use lora_playground::accounting::count::count_lora;
use lora_playground::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use lora_playground::accounting::presets::preset_config;
use serde_json::Value;

fn reference() -> Value {
    let text = include_str!("../../../tests/reference/peft_reference.json");
    serde_json::from_str(text).expect("reference table parses")
}

fn task(s: &str) -> Task {
    if s == "seq-cls" { Task::SeqCls } else { Task::Base }
}

fn arch(preset: &str, t: Task, labels: u64) -> Architecture {
    let config = HfConfig::parse(preset_config(preset).expect("preset exists")).unwrap();
    Architecture::from_config(&config, t, labels).unwrap()
}

#[test]
fn base_parameter_counts_equal_transformers_for_every_preset_and_task() {
    for p in reference()["presets"].as_array().unwrap() {
        let id = p["preset"].as_str().unwrap();
        for t in ["base", "seq-cls"] {
            let expected = p[t]["parameters"].as_u64().unwrap();
            assert_eq!(arch(id, task(t), 2).params(), expected, "{id} {t}");
        }
        let defaults = arch(id, Task::Base, 2).default_targets;
        let peft: Option<Vec<String>> = serde_json::from_value(p["peft_default_targets"].clone()).unwrap();
        assert_eq!(defaults, peft, "{id} default target_modules");
    }
}

#[test]
fn published_sizes_match_the_model_cards() {
    // BERT paper: BERT-base 110M; DistilBERT paper: 66M; RoBERTa-base 125M; GPT-2 small 124M.
    assert_eq!(arch("bert-base-uncased", Task::Base, 2).params(), 109_482_240);
    assert_eq!(arch("distilbert-base-uncased", Task::Base, 2).params(), 66_362_880);
    // Gemma 3 270M: 268,098,176 in the model card's count (170M embedding + 100M transformer).
    assert_eq!(arch("gemma-3-270m", Task::Base, 2).params(), 268_098_176);
    // Llama 2 7B: 6,738,415,616 with the untied 32000 x 4096 lm_head; the base model lacks it.
    assert_eq!(arch("Llama-2-7b", Task::Base, 2).params() + 32_000 * 4_096, 6_738_415_616);
}

#[test]
fn every_reference_row_matches_peft_trainable_all_lora_and_modules() {
    let rows = reference()["rows"].as_array().unwrap().clone();
    assert!(rows.len() >= 300, "reference table has {} rows", rows.len());
    let mut checked = 0;
    for row in &rows {
        let preset = row["preset"].as_str().unwrap();
        let a = arch(preset, task(row["task"].as_str().unwrap()), row["num_labels"].as_u64().unwrap());
        let targets = match &row["target_modules"] {
            Value::String(s) => TargetModules::Shorthand(s.clone()),
            v => TargetModules::Names(serde_json::from_value(v.clone()).unwrap()),
        };
        let config = LoraConfig {
            r: row["r"].as_u64().unwrap(),
            lora_alpha: row["lora_alpha"].as_f64().unwrap(),
            use_rslora: row["use_rslora"].as_bool().unwrap(),
            target_modules: Some(targets),
            layers_to_transform: serde_json::from_value(row["layers_to_transform"].clone()).unwrap(),
            bias: Bias::parse(row["bias"].as_str().unwrap()).unwrap(),
        };
        let got = count_lora(&a, &config);
        let what = format!("{preset} {} {:?} r={} bias={}", row["task"], row["target_modules"], row["r"], row["bias"]);
        if row.get("error").is_some() {
            assert!(got.is_err(), "PEFT refused {what} ({}) but the calculator accepted it", row["error"]);
            checked += 1;
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got.trainable, row["trainable"].as_u64().unwrap(), "trainable, {what}");
        assert_eq!(got.all, row["all"].as_u64().unwrap(), "all, {what}");
        assert_eq!(got.lora_params, row["lora_params"].as_u64().unwrap(), "lora_params, {what}");
        let mut modules = got.modules.clone();
        modules.sort();
        let expected: Vec<String> = serde_json::from_value(row["modules"].clone()).unwrap();
        assert_eq!(modules, expected, "modules, {what}");
        checked += 1;
    }
    assert_eq!(checked, rows.len());
}

/// QLoRA (issue 26): SmolLM2-135M-Instruct loaded in 4 bits by bitsandbytes, LoRA r 8 on all-linear; the calculator
/// at `precision: nf4` prints PEFT's own line (tests/reference/peft_nf4_count.py). PEFT counts a packed 4-bit weight
/// as twice its uint8 elements, the weight's true size; the plain `numel()` sum of the 4-bit model is what differs.
#[test]
fn qlora_counts_equal_what_peft_prints_on_a_bitsandbytes_model() {
    use lora_playground::accounting::memory::Precision;
    use lora_playground::accounting::report::{Setup, compute};
    let fixture: Value = serde_json::from_str(include_str!("../fixtures/nf4/smollm2_peft_count.json")).unwrap();
    let setup = Setup {
        config_json: Some(fixture["config"].to_string()),
        task: Task::Base,
        lora: LoraConfig {
            r: 8,
            lora_alpha: 16.0,
            target_modules: Some(TargetModules::Shorthand("all-linear".into())),
            ..LoraConfig::default()
        },
        precision: Precision::Nf4,
        ..Setup::default()
    };
    let r = compute(&setup).unwrap();
    assert_eq!(r.peft_line(), fixture["printed"].as_str().unwrap());
    assert!(r.all > fixture["numel_sum_of_4bit_model"].as_u64().unwrap(), "numel() of packed weights counts half");
}
