//! Parity with transformers on small random models of each architecture (`tests/reference/arch_fixtures.py`
//! built them with transformers and recorded what it computes for five sentences run as one padded batch).
//! BERT is trained today: its tokens, hidden states and logits are transformers', and a PEFT adapter saved for it
//! predicts what PEFT predicted. The architectures the trainer does not train yet are refused by name, before
//! anything is built (issue 13 turns each refusal into a parity test).
#![cfg(feature = "train")]

use std::process::Command;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use lora_playground::model::bert::EncoderInput;
use lora_playground::model::files::encoder_config;
use lora_playground::model::load::{Weights, build};
use lora_playground::safetensors::SafeTensors;
use lora_playground::train::batch::TextEncoder;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/arch");

fn read(name: &str, file: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}/{file}")).unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn sentences(expected: &SafeTensors) -> Vec<String> {
    serde_json::from_str(&expected.metadata["sentences"]).unwrap()
}

#[test]
fn bert_matches_transformers_on_a_padded_batch() {
    let config = encoder_config(&String::from_utf8(read("bert", "config.json")).unwrap()).unwrap();
    let weights = read("bert", "model.safetensors");
    let device = Device::flex();
    let model = build(&config, Weights::Checkpoint(SafeTensors::parse("model.safetensors", &weights).unwrap()), 3, None, &device)
        .unwrap()
        .valid();
    let bytes = read("bert", "expected.safetensors");
    let expected = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
    let (ids, shape) = expected.f32("input_ids").unwrap();
    let (mask, _) = expected.f32("attention_mask").unwrap();
    let (ids, mask): (Vec<i64>, Vec<i64>) = (ids.iter().map(|&x| x as i64).collect(), mask.iter().map(|&x| x as i64).collect());
    let [b, s] = [shape[0], shape[1]];
    // Our tokenizer (the `tokenizers` crate on the same tokenizer.json) gives transformers' ids.
    let encoder = TextEncoder::from_bytes(&read("bert", "tokenizer.json"), 64).unwrap();
    for (i, text) in sentences(&expected).iter().enumerate() {
        let want: Vec<i64> = (0..s).filter(|&j| mask[i * s + j] == 1).map(|j| ids[i * s + j]).collect();
        let got: Vec<i64> = encoder.encode(text).unwrap().ids.iter().map(|&x| x as i64).collect();
        assert_eq!(got, want, "{text}");
    }
    let int = |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [b, s]), &device);
    let input = EncoderInput {
        input_ids: int(ids.clone()),
        token_type_ids: int(vec![0; b * s]),
        position_ids: int((0..b * s).map(|i| (i % s) as i64).collect()),
        attention_mask: Tensor::<2>::from_data(TensorData::new(mask.iter().map(|&m| m as f32).collect::<Vec<_>>(), [b, s]), &device),
    };
    let hidden = model.bert.forward(&input).last_hidden_state.into_data().try_to_vec::<f32>().unwrap();
    let (want_hidden, hshape) = expected.f32("last_hidden_state").unwrap();
    let h = hshape[2];
    // Padding positions hold whatever attention over nothing gives: only real tokens are compared.
    let real = |v: &[f32]| -> Vec<f32> { (0..b * s).filter(|&t| mask[t] == 1).flat_map(|t| v[t * h..(t + 1) * h].to_vec()).collect() };
    let dh = max_diff(&real(&hidden), &real(&want_hidden));
    let logits = model.forward(&input).into_data().try_to_vec::<f32>().unwrap();
    let dl = max_diff(&logits, &expected.f32("logits").unwrap().0);
    assert!(dh < 1e-4 && dl < 1e-4, "last_hidden_state differs by {dh}, logits by {dl}");
}

/// The CLI's `predict` with the adapter folder PEFT saved (one sentence at a time): PEFT's logits for each.
#[test]
fn a_peft_adapter_for_bert_predicts_what_peft_computed() {
    let dir = std::env::temp_dir().join(format!("lp-arch-peft-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = read("bert", "expected.safetensors");
    let expected = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
    let texts = sentences(&expected);
    let input: String = texts.iter().map(|t| serde_json::json!({ "text": t }).to_string() + "\n").collect();
    std::fs::write(dir.join("in.jsonl"), input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lora-playground"))
        .args(["predict", "--model", &format!("{FIXTURES}/bert"), "--adapter", &format!("{FIXTURES}/bert/peft"), "--input"])
        .arg(dir.join("in.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (logits, _) = expected.f32("peft_logits").unwrap();
    let lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(lines.len(), texts.len());
    for (i, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let got: Vec<f32> = v["logits"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let d = max_diff(&got, &logits[3 * i..3 * i + 3]);
        assert!(d < 1e-4, "sentence {i}: logits differ from PEFT's by {d}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn architectures_not_trained_yet_are_refused_by_name() {
    for (name, says) in [
        ("distilbert", "distilbert"),
        ("modernbert-cls", "modernbert"),
        ("gpt2", "gpt2"),
    ] {
        let e = encoder_config(&String::from_utf8(read(name, "config.json")).unwrap()).unwrap_err();
        assert!(e.message.contains(says), "{name}: {}", e.message);
    }
    // RoBERTa's encoder is built from a bare RobertaModel, but a RobertaForSequenceClassification checkpoint (its
    // own head, classifier.dense + classifier.out_proj) is refused.
    let config = encoder_config(&String::from_utf8(read("roberta", "config.json")).unwrap()).unwrap();
    let weights = read("roberta", "model.safetensors");
    let e = build(&config, Weights::Checkpoint(SafeTensors::parse("model.safetensors", &weights).unwrap()), 3, None, &Device::flex()).unwrap_err();
    assert!(e.message.contains("not a BERT checkpoint"), "{}", e.message);
}
