//! A run from files to files on the tiny model: prepare, train, save, load back (ours -> ours), with
//! predictions equal to the in-memory model's; adapters the size the calculator predicts, to the byte; and
//! clear errors for adapters that do not fit the base model or are damaged.
#![cfg(feature = "train")]

use std::collections::BTreeMap;

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::activation::softmax;
use lora_playground::accounting::checkpoint::{AdapterDtypes, Dtype, adapter_tensors, safetensors_bytes};
use lora_playground::accounting::inject::inject;
use lora_playground::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use lora_playground::data::parse;
use lora_playground::model::methods::{Method, architecture};
use lora_playground::model::tiny;
use lora_playground::safetensors::{SafeTensors, write_f32};
use lora_playground::train::batch::to_input;
use lora_playground::train::classifier::load_trained;
use lora_playground::train::config::TrainConfig;
use lora_playground::train::fit::train;
use lora_playground::train::folder::saved_files;
use lora_playground::train::plan::Plan;
use lora_playground::train::prepare::prepare;

fn dataset() -> lora_playground::data::Dataset {
    let mut jsonl = String::new();
    for i in 0..24 {
        let (text, label) = [
            ("my card fee was charged", "card"),
            ("the school loan interest", "loan"),
            ("great service thank you", "praise"),
        ][i % 3];
        jsonl.push_str(&serde_json::json!({"text": format!("{text} {i}"), "label": label}).to_string());
        jsonl.push('\n');
    }
    parse("d.jsonl", jsonl.as_bytes()).unwrap()
}

fn plan(method: Method, lora: LoraConfig) -> Plan {
    Plan {
        method,
        lora,
        lora_dropout: 0.0,
        train: TrainConfig { epochs: 1, batch_size: 8, lr: 1e-2, ..TrainConfig::default() },
        max_len: 16,
        val_fraction: 0.25,
        ..Plan::default()
    }
}

fn lora(r: u64, targets: TargetModules, bias: Bias) -> LoraConfig {
    LoraConfig { r, lora_alpha: 2.0 * r as f64, target_modules: Some(targets), bias, ..LoraConfig::default() }
}

fn names(n: &[&str]) -> TargetModules {
    TargetModules::Names(n.iter().map(|s| s.to_string()).collect())
}

/// Trains briefly, saves, loads back; returns the saved files.
fn round_trip(plan: &Plan) -> BTreeMap<String, Vec<u8>> {
    let files = tiny::files(1);
    let data = dataset();
    let device = Device::flex();
    let p = prepare(&files, plan, &data, &device.clone().autodiff()).unwrap();
    let (model, reports) =
        train(p.model, &plan.train, &p.config, &p.train, &p.val, &p.labels, &device.clone().autodiff(), |_| {});
    let saved: BTreeMap<String, Vec<u8>> =
        saved_files(&model, &files, plan, &p.labels, &reports).unwrap().into_iter().collect();
    let back = load_trained(&files, &saved, &device).unwrap();
    assert_eq!(back.labels, p.labels);
    let texts: Vec<String> = data.examples.iter().take(6).map(|e| e.text.clone()).collect();
    let got = back.predict(&texts, 4, &device).unwrap();
    let tokens: Vec<_> = texts.iter().map(|t| p.encoder.encode(t).unwrap()).collect();
    let refs: Vec<_> = tokens.iter().collect();
    let want = softmax(model.valid().forward(&to_input(&p.config, &refs, &device)), 1)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let diff = got.concat().iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff < 1e-5, "{:?}: reloaded predictions differ by {diff}", plan.method);
    saved
}

#[test]
fn saved_models_load_back_and_predict_the_same() {
    for method in [Method::Full, Method::Head, Method::Bitfit] {
        round_trip(&plan(method, LoraConfig::default()));
    }
    round_trip(&plan(Method::Lora, lora(4, TargetModules::Shorthand("all-linear".into()), Bias::All)));
}

#[test]
fn adapters_are_the_size_the_calculator_predicts() {
    let configs = [
        lora(4, names(&["query", "value"]), Bias::None),
        lora(2, TargetModules::Shorthand("all-linear".into()), Bias::All),
        lora(3, names(&["attention.output.dense", "key"]), Bias::LoraOnly),
        LoraConfig { layers_to_transform: Some(vec![1]), use_rslora: true, ..lora(8, names(&["query"]), Bias::None) },
    ];
    for config in configs {
        let saved = round_trip(&plan(Method::Lora, config.clone()));
        let arch = architecture(&tiny::config(), 3).unwrap();
        let predicted = safetensors_bytes(&adapter_tensors(
            &arch,
            &config,
            &inject(&arch, &config).unwrap(),
            AdapterDtypes { lora: Dtype::F32, base: Dtype::F32 },
        ));
        assert_eq!(saved["adapter_model.safetensors"].len() as u64, predicted, "{config:?}");
    }
}

#[test]
fn adapters_that_do_not_fit_get_a_clear_message() {
    let saved = round_trip(&plan(Method::Lora, lora(4, names(&["query", "value"]), Bias::None)));
    let files = tiny::files(1);
    let device = Device::flex();
    let err =
        |saved: &BTreeMap<String, Vec<u8>>| load_trained(&files, saved, &device).err().expect("an error").to_string();

    // Another base model: the same adapter over a wider encoder.
    let mut wide = tiny::files(1);
    let mut c = tiny::config();
    c.hidden_size = 48;
    c.intermediate_size = 96;
    let other = {
        let m =
            lora_playground::model::auto::build(&c, lora_playground::model::load::Weights::Random, 2, None, &device)
                .unwrap();
        lora_playground::model::export::model_safetensors(&lora_playground::model::export::named_tensors(&m))
    };
    wide.config_json = c.to_hf_json();
    wide.safetensors = other;
    let e = load_trained(&wide, &saved, &device).err().expect("shape mismatch").to_string();
    assert!(e.contains("has shape") && e.contains("expected"), "{e}");

    // A key for a module the config does not target.
    let mut changed = saved.clone();
    let cfg = String::from_utf8(saved["adapter_config.json"].clone()).unwrap().replace("\"value\"", "\"key\"");
    changed.insert("adapter_config.json".into(), cfg.into_bytes());
    assert!(err(&changed).contains("no such LoRA module"), "{}", err(&changed));

    // Damaged files.
    for (name, bytes, want) in [
        ("adapter_model.safetensors", saved["adapter_model.safetensors"][..100].to_vec(), "safetensors"),
        ("adapter_model.safetensors", vec![0xff; 16], "header length"),
        ("adapter_config.json", b"{\"r\": ".to_vec(), "adapter_config.json"),
        ("adapter_config.json", b"{\"peft_type\": \"IA3\", \"r\": 4}".to_vec(), "only LORA"),
        ("training.json", b"[]".to_vec(), "training.json"),
    ] {
        let mut damaged = saved.clone();
        damaged.insert(name.into(), bytes);
        let e = err(&damaged);
        assert!(e.contains(want), "{name}: {e}");
    }
    let mut missing = saved.clone();
    missing.remove("adapter_model.safetensors");
    assert!(err(&missing).contains("adapter_model.safetensors is missing"));

    // Header damage: an absurd length, a header that is not UTF-8, a header that is not an object.
    let header = |json: &[u8]| {
        let mut b = (json.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(json);
        b
    };
    let mut absurd = saved["adapter_model.safetensors"].clone();
    absurd[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    for (bytes, want) in [
        (absurd, "header length"),
        (header(b"{\"a\xff\": 1}"), "header is not JSON"),
        (header(b"[1, 2]"), "not a JSON object"),
        (
            header(br#"{"x": {"dtype": "F32", "shape": [4611686018427387904, 8], "data_offsets": [0, 0]}}"#),
            "do not hold",
        ),
    ] {
        let mut damaged = saved.clone();
        damaged.insert("adapter_model.safetensors".into(), bytes);
        let e = err(&damaged);
        assert!(e.contains(want), "{want}: {e}");
    }
    let mut not_utf8 = saved.clone();
    not_utf8.insert("adapter_config.json".into(), b"{\"r\": 4, \xff}".to_vec());
    assert!(err(&not_utf8).contains("not UTF-8"), "{}", err(&not_utf8));

    // Tensor-level mismatches, rewriting the adapter file.
    type Tensors = Vec<(String, Vec<usize>, Vec<f32>)>;
    let rewrite = |f: &dyn Fn(&mut Tensors)| {
        let file = SafeTensors::parse("a", &saved["adapter_model.safetensors"]).unwrap();
        let mut t: Tensors = file
            .entries
            .keys()
            .map(|k| {
                let (v, s) = file.f32(k).unwrap();
                (k.clone(), s, v)
            })
            .collect();
        f(&mut t);
        let mut changed = saved.clone();
        changed.insert("adapter_model.safetensors".into(), write_f32(&t));
        err(&changed)
    };
    let b1 = "base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight";
    // A matrix missing: named, with the likely causes.
    let e = rewrite(&|t| t.retain(|(k, _, _)| k != b1));
    assert!(e.contains("has no bert.encoder.layer.1.attention.self.value.lora_B.weight"), "{e}");
    // Another rank than adapter_config.json's r.
    let e = rewrite(&|t| {
        let a = t.iter_mut().find(|(k, _, _)| k.ends_with("layer.0.attention.self.query.lora_A.weight")).unwrap();
        a.1[0] = 2;
        a.2.truncate(2 * a.1[1]);
    });
    assert!(e.contains("has shape [2, 32]") && e.contains("another r"), "{e}");
    // A tensor this model has no place for.
    let e = rewrite(&|t| {
        t.push(("base_model.model.bert.encoder.layer.0.attention.self.gate.weight".into(), vec![1], vec![0.0]))
    });
    assert!(e.contains("bert.encoder.layer.0.attention.self.gate.weight: this base model has no such tensor"), "{e}");
    // An integer tensor where a float one belongs.
    let mut ints = saved.clone();
    let json = format!(r#"{{"{b1}": {{"dtype": "I32", "shape": [32, 4], "data_offsets": [0, 512]}}}}"#);
    let mut bytes = header(json.as_bytes());
    bytes.extend(vec![0u8; 512]);
    ints.insert("adapter_model.safetensors".into(), bytes);
    assert!(err(&ints).contains("is I32; expected a float tensor"), "{}", err(&ints));
}
