//! An adapter folder written by Python PEFT itself (`tests/reference/peft_written_fixture.py`: rsLoRA on query,
//! value and intermediate.dense, bias="all", every value random) loads over the same tiny base model and gives
//! the logits PEFT computed, within 1e-4; PEFT's fields this encoder does not implement are refused by name.
#![cfg(feature = "train")]

use std::collections::BTreeMap;

use burn::tensor::Device;
use lora_playground::model::tiny;
use lora_playground::train::classifier::load_trained;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/peft_tiny");

fn folder() -> BTreeMap<String, Vec<u8>> {
    ["adapter_config.json", "adapter_model.safetensors"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(format!("{FIXTURE}/{f}")).expect("the committed fixture")))
        .collect()
}

#[test]
fn a_folder_peft_saved_predicts_what_peft_predicted() {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{FIXTURE}/expected.json")).unwrap()).unwrap();
    let texts: Vec<String> =
        expected["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
    let want: Vec<Vec<f64>> = serde_json::from_value(expected["logits"].clone()).unwrap();
    // The fixture's base: `lora-playground tiny-model` (seed 0).
    let device = Device::flex();
    let classifier = load_trained(&tiny::files(0), &folder(), &device).unwrap();
    assert_eq!(classifier.labels, ["LABEL_0", "LABEL_1", "LABEL_2"]);
    let got = classifier.logits(&texts, 2, &device).unwrap();
    let diff = got.iter().flatten().zip(want.iter().flatten()).map(|(a, b)| (*a as f64 - b).abs()).fold(0.0, f64::max);
    assert!(diff < 1e-4, "logits differ from PEFT's by {diff}: {got:?} vs {want:?}");
    // PEFT saves the head's bias twice with bias="all"; the modules_to_save copy is the one it uses.
    let mut twice = folder();
    let file = lora_playground::safetensors::SafeTensors::parse("a", &twice["adapter_model.safetensors"]).unwrap();
    let tensors: Vec<(String, Vec<usize>, Vec<f32>)> = file
        .entries
        .keys()
        .map(|k| {
            let (mut v, shape) = file.f32(k).unwrap();
            if k == "base_model.model.classifier.bias" {
                v.iter_mut().for_each(|x| *x += 5.0);
            }
            (k.clone(), shape, v)
        })
        .collect();
    twice.insert("adapter_model.safetensors".into(), lora_playground::safetensors::write_f32(&tensors));
    let got2 = load_trained(&tiny::files(0), &twice, &device).unwrap().logits(&texts, 2, &device).unwrap();
    let diff2 = got2.iter().flatten().zip(&got.concat()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(diff2 < 1e-6, "the plain classifier.bias copy was used: {diff2}");
    // A base that is itself a fine-tuned classifier (here with a 2-label head) takes the adapter's 3-label head.
    let mut with_head = tiny::files(0);
    let file = lora_playground::safetensors::SafeTensors::parse("m", &with_head.safetensors).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = file
        .entries
        .keys()
        .map(|k| {
            let (v, shape) = file.f32(k).unwrap();
            (k.clone(), shape, v)
        })
        .collect();
    tensors.push(("classifier.weight".into(), vec![2, 32], vec![0.5; 64]));
    tensors.push(("classifier.bias".into(), vec![2], vec![1.0, -1.0]));
    with_head.safetensors = lora_playground::safetensors::write_f32(&tensors);
    let got3 = load_trained(&with_head, &folder(), &device).unwrap().logits(&texts, 2, &device).unwrap();
    let diff3 = got3.iter().flatten().zip(&got.concat()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(diff3 < 1e-6, "over a base with its own head: {diff3}");
    // The adapter moves the model: without it, the logits are far off (so agreeing is not an accident).
    let mut no_lora = folder();
    let config = String::from_utf8(no_lora["adapter_config.json"].clone()).unwrap().replace("\"r\": 4", "\"r\": 2");
    no_lora.insert("adapter_config.json".into(), config.into_bytes());
    assert!(load_trained(&tiny::files(0), &no_lora, &device).err().unwrap().to_string().contains("another r"));
}

#[test]
fn peft_features_this_encoder_lacks_are_refused_by_name() {
    let device = Device::flex();
    for (field, value, want) in [
        ("use_dora", "true", "use_dora is true"),
        ("lora_bias", "true", "lora_bias is true"),
        ("exclude_modules", "[\"key\"]", "exclude_modules is set"),
        ("trainable_token_indices", "[1, 2]", "trainable_token_indices is set"),
        ("rank_pattern", "{\"query\": 8}", "rank_pattern is set"),
        ("peft_type", "\"IA3\"", "only LORA"),
    ] {
        let mut f = folder();
        let mut config: serde_json::Value = serde_json::from_slice(&f["adapter_config.json"]).unwrap();
        config[field] = serde_json::from_str(value).unwrap();
        f.insert("adapter_config.json".into(), serde_json::to_vec(&config).unwrap());
        let e = load_trained(&tiny::files(0), &f, &device).err().expect("refused").to_string();
        assert!(e.contains(want), "{field}: {e}");
    }
}

/// The whole import path (config, header, tensors, shapes, placement), not only the safetensors reader, survives
/// damaged folders: random byte flips, insertions and truncations of either file give an error or a model, never
/// a panic. Seeded, so a failure reproduces.
#[test]
fn damaged_adapter_folders_never_panic() {
    let device = Device::flex();
    let base = tiny::files(0);
    let good = folder();
    let mut rng = lora_playground::rng::Rng::new(11);
    let mut refused = 0;
    for i in 0..400 {
        let mut f = good.clone();
        let name = if i % 3 == 0 { "adapter_config.json" } else { "adapter_model.safetensors" };
        let bytes = f.get_mut(name).unwrap();
        match rng.below(3) {
            0 => {
                for _ in 0..1 + rng.below(4) {
                    // Mostly in the header, where damage changes meaning rather than values.
                    let span = if rng.below(2) == 0 { bytes.len().min(2000) } else { bytes.len() };
                    let at = rng.below(span);
                    bytes[at] = rng.next_u64() as u8;
                }
            }
            1 => {
                let at = rng.below(bytes.len());
                bytes.insert(at, rng.next_u64() as u8);
            }
            _ => {
                let keep = rng.below(bytes.len());
                bytes.truncate(keep);
            }
        }
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load_trained(&base, &f, &device).is_err()));
        match outcome {
            Ok(true) => refused += 1,
            Ok(false) => {}
            Err(_) => panic!("mutation {i} of {name} panicked"),
        }
    }
    // Most damage must be caught (a flipped float inside the data is a valid file with other values).
    assert!(refused > 200, "only {refused} of 400 damaged folders were refused");
}
