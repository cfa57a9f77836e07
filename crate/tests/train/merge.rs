//! Merge and verify on the tiny model: a trained adapter folded into the base weights gives the adapter's logits;
//! the merged folder has exactly the tensors a plain `BertForSequenceClassification` has (no `lora_*`), and reads
//! back to the same logits; each merged weight is the base weight plus `scaling * B A`, and the adapter it was
//! merged from is left as it was.
#![cfg(feature = "train")]

use crate::common;

use common::max_diff;

use std::collections::{BTreeMap, BTreeSet};

use burn::tensor::Device;
use lora_playground::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use lora_playground::model::auto::build;
use lora_playground::model::export::named_tensors;
use lora_playground::model::load::Weights;
use lora_playground::model::tiny;
use lora_playground::safetensors::SafeTensors;
use lora_playground::train::classifier::load_trained;
use lora_playground::train::fit::train;
use lora_playground::train::folder::saved_files;
use lora_playground::train::merge::{check, merged_files};
use lora_playground::train::plan::Plan;
use lora_playground::train::prepare::prepare;

/// Trains a LoRA adapter on every linear layer (with biases, so the merged folder carries trained biases too)
/// and returns the saved adapter folder.
fn trained_adapter(files: &lora_playground::model::files::ModelFiles) -> BTreeMap<String, Vec<u8>> {
    let data = common::keyword_data();
    let plan = Plan {
        lora: LoraConfig {
            r: 4,
            lora_alpha: 8.0,
            target_modules: Some(TargetModules::Shorthand("all-linear".into())),
            bias: Bias::All,
            ..LoraConfig::default()
        },
        lora_dropout: 0.0,
        ..common::tiny_plan()
    };
    let device = Device::flex().autodiff();
    let p = prepare(files, &plan, &data, &device).unwrap();
    let (model, reports) = train(p.model, &plan.train, &p.config, &p.train, &p.val, &p.labels, &device, |_| {});
    saved_files(&model, files, &plan, &p.labels, &reports).unwrap().into_iter().collect()
}

#[test]
fn a_merged_adapter_computes_what_the_adapter_did_and_saves_as_a_plain_model() {
    let files = tiny::files(2);
    let device = Device::flex();
    let saved = trained_adapter(&files);
    let adapter = load_trained(&files, &saved, &device).unwrap();
    let texts: Vec<String> = common::keyword_data().examples.iter().map(|e| e.text.clone()).collect();

    let before = adapter.logits(&texts, 8, &device).unwrap();
    let base = load_trained(&files, &saved, &device).unwrap();
    // The adapter must have moved the model, or "merged == unmerged" would prove nothing.
    let untouched = {
        let plain = build(
            &adapter.config,
            Weights::Checkpoint(SafeTensors::parse("m", &files.safetensors).unwrap()),
            3,
            None,
            &device,
        )
        .unwrap();
        lora_playground::train::classifier::Classifier { model: plain, ..base }.logits(&texts, 8, &device).unwrap()
    };
    assert!(max_diff(&before, &untouched) > 1e-3, "training changed nothing ({})", max_diff(&before, &untouched));

    let adapter_w = named_tensors(&adapter.model);
    let merged = adapter.merged();
    let after = merged.logits(&texts, 8, &device).unwrap();
    let c = check(&before, &after);
    assert_eq!(c.texts, texts.len());
    assert!(c.max_abs_logit_diff < 1e-5, "merged differs from the adapter by {}", c.max_abs_logit_diff);
    assert_eq!(c.same_prediction, texts.len());

    // The merged weight is the base weight plus scaling * B A (PEFT's `get_delta_weight`), in torch's [out, in] ...
    let merged_w = named_tensors(&merged.model);
    assert!(!merged_w.keys().any(|k| k.contains(".lora_")), "a LoRA path is left: {:?}", merged_w.keys());
    // `trained_adapter`'s lora_alpha / r.
    let (scaling, r) = (8.0 / 4.0, 4);
    let q = "bert.encoder.layer.0.attention.self.query";
    let (w, shape, _) = &adapter_w[&format!("{q}.weight")];
    let (out, inp) = (shape[0], shape[1]);
    let (a, b) = (&adapter_w[&format!("{q}.lora_A.weight")].0, &adapter_w[&format!("{q}.lora_B.weight")].0);
    let want: Vec<f32> = (0..out * inp)
        .map(|i| {
            let (o, j) = (i / inp, i % inp);
            w[i] + scaling * (0..r).map(|k| b[o * r + k] * a[k * inp + j]).sum::<f32>()
        })
        .collect();
    assert!(max_diff(&[want], &[merged_w[&format!("{q}.weight")].0.clone()]) < 1e-6);
    assert!(max_diff(&[w.clone()], &[merged_w[&format!("{q}.weight")].0.clone()]) > 1e-6, "the merge changed nothing");
    // ... and the adapter's model is as it was: merging made a new model, it did not change this one.
    assert_eq!(named_tensors(&adapter.model), adapter_w);
    assert_eq!(adapter.logits(&texts, 8, &device).unwrap(), before);

    // The folder: exactly a plain BertForSequenceClassification's tensors, with Hugging Face names and shapes.
    let out: BTreeMap<String, Vec<u8>> = merged_files(&merged, &files, 16).unwrap().into_iter().collect();
    assert_eq!(
        out.keys().cloned().collect::<Vec<_>>(),
        ["config.json", "model.safetensors", "tokenizer.json", "training.json"]
    );
    let file = SafeTensors::parse("model.safetensors", &out["model.safetensors"]).unwrap();
    let plain = build(&adapter.config, Weights::Random, 3, None, &device).unwrap();
    let want: BTreeMap<String, Vec<usize>> = named_tensors(&plain).into_iter().map(|(k, (_, s, _))| (k, s)).collect();
    let got: BTreeMap<String, Vec<usize>> = file.entries.iter().map(|(k, e)| (k.clone(), e.shape.clone())).collect();
    assert_eq!(got, want);
    assert!(!got.keys().any(|k| k.contains("lora")));
    let config: serde_json::Value = serde_json::from_slice(&out["config.json"]).unwrap();
    assert_eq!(config["architectures"][0], "BertForSequenceClassification");
    assert_eq!(config["id2label"].as_object().unwrap().len(), 3);

    // Read back (over the base model, as `predict` does): the merged logits again.
    let back = load_trained(&files, &out, &device).unwrap();
    assert_eq!(back.labels, adapter.labels);
    assert!(max_diff(&back.logits(&texts, 8, &device).unwrap(), &after) < 1e-6);
    // And as a base model of its own (its model.safetensors carries the head).
    let own = lora_playground::model::files::ModelFiles {
        name: "merged".into(),
        config_json: String::from_utf8(out["config.json"].clone()).unwrap(),
        safetensors: out["model.safetensors"].clone(),
        tokenizer_json: out["tokenizer.json"].clone(),
    };
    let again = load_trained(&own, &out, &device).unwrap();
    assert!(max_diff(&again.logits(&texts, 8, &device).unwrap(), &after) < 1e-6);

    // Only a merged model is saved as merged.
    assert!(merged_files(&adapter, &files, 16).is_err());
    let names: BTreeSet<&str> = out.keys().map(String::as_str).collect();
    assert!(names.contains("tokenizer.json"));
}

#[test]
fn check_reports_the_largest_difference_and_disagreements() {
    let c = check(&[vec![0.0, 1.0], vec![2.0, 0.0]], &[vec![0.0, 1.5], vec![0.0, 0.5]]);
    assert_eq!(c.texts, 2);
    assert_eq!(c.max_abs_logit_diff, 2.0);
    assert_eq!(c.same_prediction, 1);
    // A NaN is a failure to report, not a zero difference.
    assert!(check(&[vec![0.0]], &[vec![f32::NAN]]).max_abs_logit_diff.is_nan());
}
