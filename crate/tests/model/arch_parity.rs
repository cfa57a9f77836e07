//! Parity with transformers on small random models of each architecture (`tests/reference/arch_fixtures.py`
//! built them with transformers and recorded what it computes for five sentences run as one padded batch).
//! BERT, RoBERTa, DistilBERT, GPT-2 and ModernBERT are trained: their tokens, hidden states and logits are
//! transformers', and a PEFT adapter saved for each predicts what PEFT predicted; a LoRA run on each trains PEFT's
//! count and writes PEFT's file. Any other `model_type` is refused by name before anything is built.
#![cfg(feature = "train")]

use std::process::Command;

use burn::module::Module;
use burn::tensor::Device;
use lora_playground::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use lora_playground::accounting::report::{Setup, compute};
use lora_playground::model::auto::build;
use lora_playground::model::files::encoder_config;
use lora_playground::model::load::Weights;
use lora_playground::safetensors::SafeTensors;
use lora_playground::train::batch::{TextEncoder, to_input};

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

/// Our forward pass on the fixture's five sentences as one padded batch, tokenized by us from its tokenizer.json
/// and batched as training batches them (position ids as the architecture counts them): transformers' token ids,
/// last hidden state (real tokens) and logits within 1e-4.
fn matches_transformers(name: &str) {
    let config = encoder_config(&String::from_utf8(read(name, "config.json")).unwrap()).unwrap();
    let weights = read(name, "model.safetensors");
    let device = Device::flex();
    let model = build(
        &config,
        Weights::Checkpoint(SafeTensors::parse("model.safetensors", &weights).unwrap()),
        3,
        None,
        &device,
    )
    .unwrap()
    .valid();
    let bytes = read(name, "expected.safetensors");
    let expected = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
    let (ids, shape) = expected.f32("input_ids").unwrap();
    let (mask, _) = expected.f32("attention_mask").unwrap();
    let [b, s] = [shape[0], shape[1]];
    let encoder = TextEncoder::from_bytes(&read(name, "tokenizer.json"), 64).unwrap();
    let tokens: Vec<_> = sentences(&expected).iter().map(|t| encoder.encode(t).unwrap()).collect();
    for (i, t) in tokens.iter().enumerate() {
        let want: Vec<u32> = (0..s).filter(|&j| mask[i * s + j] == 1.0).map(|j| ids[i * s + j] as u32).collect();
        assert_eq!(t.ids, want, "{name}: sentence {i}");
    }
    let input = to_input(&config, &tokens.iter().collect::<Vec<_>>(), &device);
    assert_eq!(input.attention_mask.dims(), [b, s], "{name}: the batch pads to transformers' length");
    let hidden = model.encode(&input).into_data().try_to_vec::<f32>().unwrap();
    let (want_hidden, hshape) = expected.f32("last_hidden_state").unwrap();
    let h = hshape[2];
    // Padding positions hold whatever attention over nothing gives: only real tokens are compared.
    let real = |v: &[f32]| -> Vec<f32> {
        (0..b * s).filter(|&t| mask[t] == 1.0).flat_map(|t| v[t * h..(t + 1) * h].to_vec()).collect()
    };
    let dh = max_diff(&real(&hidden), &real(&want_hidden));
    let logits = model.forward(&input).into_data().try_to_vec::<f32>().unwrap();
    let dl = max_diff(&logits, &expected.f32("logits").unwrap().0);
    assert!(dh < 1e-4 && dl < 1e-4, "{name}: last_hidden_state differs by {dh}, logits by {dl}");
}

#[test]
fn bert_matches_transformers_on_a_padded_batch() {
    matches_transformers("bert");
}

/// `RobertaForSequenceClassification`: `roberta.*` names, position ids from `pad_token_id + 1`, and its own head
/// (`classifier.dense` + tanh + `classifier.out_proj`, no pooler), loaded from the checkpoint.
#[test]
fn roberta_matches_transformers_on_a_padded_batch() {
    matches_transformers("roberta");
}

/// The CLI's `predict` with the adapter folder PEFT saved (one sentence at a time): PEFT's logits for each.
fn peft_adapter_predicts_what_peft_computed(name: &str) {
    let dir = std::env::temp_dir().join(format!("lp-arch-peft-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = read(name, "expected.safetensors");
    let expected = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
    let texts = sentences(&expected);
    let input: String = texts.iter().map(|t| serde_json::json!({ "text": t }).to_string() + "\n").collect();
    std::fs::write(dir.join("in.jsonl"), input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lora-playground"))
        .args([
            "predict",
            "--model",
            &format!("{FIXTURES}/{name}"),
            "--adapter",
            &format!("{FIXTURES}/{name}/peft"),
            "--input",
        ])
        .arg(dir.join("in.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    let (logits, _) = expected.f32("peft_logits").unwrap();
    let lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(lines.len(), texts.len());
    for (i, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let got: Vec<f32> = v["logits"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let d = max_diff(&got, &logits[3 * i..3 * i + 3]);
        assert!(d < 1e-4, "{name}: sentence {i}: logits differ from PEFT's by {d}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `DistilBertForSequenceClassification`: `distilbert.transformer.layer.N` with its own block names, no token
/// types, and `pre_classifier` + ReLU on the first token before `classifier`; learned positions.
#[test]
fn distilbert_matches_transformers_on_a_padded_batch() {
    matches_transformers("distilbert");
}

/// DistilBERT with `sinusoidal_pos_embds`: the fixed table comes from the checkpoint.
#[test]
fn distilbert_with_sinusoidal_positions_matches_transformers() {
    matches_transformers("distilbert-sinusoidal");
}

/// `GPT2ForSequenceClassification`: pre-norm causal blocks with Conv1D weights, `gelu_new`, and `score` read at
/// each row's last token that is not padding (the end-of-text token pads, as transformers requires).
#[test]
fn gpt2_matches_transformers_on_a_padded_batch() {
    matches_transformers("gpt2");
}

/// `ModernBertForSequenceClassification` with `[CLS]` pooling: pre-norm layers, rotary embeddings with the global
/// and the local `rope_theta`, a sliding-window layer between two global ones, and a sentence longer than the
/// window (`local_attention` 8 in the fixture), so the window's edge is crossed.
#[test]
fn modernbert_with_cls_pooling_matches_transformers() {
    matches_transformers("modernbert-cls");
}

/// The same with mean pooling over the real tokens.
#[test]
fn modernbert_with_mean_pooling_matches_transformers() {
    matches_transformers("modernbert-mean");
}

#[test]
fn a_peft_adapter_for_bert_predicts_what_peft_computed() {
    peft_adapter_predicts_what_peft_computed("bert");
}

/// PEFT's RoBERTa adapter keeps the whole head (`classifier.dense` and `classifier.out_proj`) as modules_to_save.
#[test]
fn a_peft_adapter_for_roberta_predicts_what_peft_computed() {
    peft_adapter_predicts_what_peft_computed("roberta");
}

/// PEFT's DistilBERT adapter keeps `pre_classifier` as well as `classifier`: `modules_to_save` matches by suffix.
#[test]
fn a_peft_adapter_for_distilbert_predicts_what_peft_computed() {
    peft_adapter_predicts_what_peft_computed("distilbert");
}

/// PEFT's GPT-2 adapter targets the fused Conv1D `c_attn` with `fan_in_fan_out` and keeps `score`.
#[test]
fn a_peft_adapter_for_gpt2_predicts_what_peft_computed() {
    peft_adapter_predicts_what_peft_computed("gpt2");
}

/// A bare backbone's file (what `AutoModel.save_pretrained` writes: no task head, no backbone prefix) builds for
/// every architecture, its task head fresh (ModernBERT's prediction `head`, DistilBERT's `pre_classifier`, RoBERTa's
/// `classifier.dense` included), and its backbone computes what the task model's backbone computes.
#[test]
fn a_bare_backbone_checkpoint_builds_with_a_fresh_head() {
    for (name, prefix) in [
        ("bert", "bert."),
        ("roberta", "roberta."),
        ("distilbert", "distilbert."),
        ("gpt2", "transformer."),
        ("modernbert-cls", "model."),
    ] {
        let config = encoder_config(&String::from_utf8(read(name, "config.json")).unwrap()).unwrap();
        let bytes = read(name, "model.safetensors");
        let file = SafeTensors::parse("model.safetensors", &bytes).unwrap();
        let bare: Vec<(String, Vec<usize>, Vec<f32>)> = file
            .entries
            .keys()
            .filter_map(|k| k.strip_prefix(prefix).map(|rest| (k, rest)))
            .map(|(k, rest)| {
                let (v, shape) = file.f32(k).unwrap();
                (rest.to_string(), shape, v)
            })
            .collect();
        let bare_bytes = lora_playground::safetensors::write_f32(&bare);
        let device = Device::flex();
        let model = build(
            &config,
            Weights::Checkpoint(SafeTensors::parse("model.safetensors", &bare_bytes).unwrap()),
            2,
            None,
            &device,
        )
        .unwrap_or_else(|e| panic!("{name}: {}", e.message))
        .valid();
        let full = build(&config, Weights::Checkpoint(file), 2, None, &device).unwrap().valid();
        let encoder = TextEncoder::from_bytes(&read(name, "tokenizer.json"), 64).unwrap();
        let tokens = [encoder.encode("a short sentence").unwrap()];
        let input = to_input(&config, &tokens.iter().collect::<Vec<_>>(), &device);
        let d = max_diff(
            &model.encode(&input).into_data().try_to_vec::<f32>().unwrap(),
            &full.encode(&input).into_data().try_to_vec::<f32>().unwrap(),
        );
        assert!(d == 0.0, "{name}: the backbone differs by {d}");
        assert_eq!(model.num_labels(), 2, "{name}");
    }
}

/// PEFT's ModernBERT adapter on the fused `Wqkv`, for each pooling.
#[test]
fn a_peft_adapter_for_modernbert_predicts_what_peft_computed() {
    peft_adapter_predicts_what_peft_computed("modernbert-cls");
    peft_adapter_predicts_what_peft_computed("modernbert-mean");
}

#[test]
fn a_config_for_another_architecture_is_refused_by_name() {
    let llama = r#"{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100}"#;
    let e = encoder_config(llama).unwrap_err();
    assert!(e.field == "model_type" && e.message.contains("'llama'"), "{}", e.message);
    // A BERT config over RoBERTa's weights names what is wrong.
    let bert = String::from_utf8(read("bert", "config.json")).unwrap();
    let config = encoder_config(&bert).unwrap();
    let weights = read("roberta", "model.safetensors");
    let e = build(
        &config,
        Weights::Checkpoint(SafeTensors::parse("model.safetensors", &weights).unwrap()),
        3,
        None,
        &Device::flex(),
    )
    .unwrap_err();
    assert!(e.message.contains("not a BERT checkpoint: its tensors are named roberta.*"), "{}", e.message);
}

/// A LoRA run through the CLI on the fixture `name` (2 labels, r=4, alpha 8, `bias="lora_only"` on `targets`):
/// the trainable count it prints and the adapter file it writes are PEFT's (`trainable`, `bytes`, read with
/// `get_peft_model(...).get_nb_trainable_parameters()` and `save_pretrained` on the same model), and the
/// calculator's. Returns the adapter's tensor names and its `adapter_config.json`.
fn lora_run_trains_and_saves_what_peft_does(
    name: &str,
    targets: &str,
    trainable: u64,
    bytes: u64,
) -> (Vec<String>, serde_json::Value) {
    let dir = std::env::temp_dir().join(format!("lp-arch-train-{name}-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_lora-playground"))
        .args(["train", "--model", &format!("{FIXTURES}/{name}"), "--data", "builtin:sentiment", "--method", "lora"])
        .args([
            "--r",
            "4",
            "--alpha",
            "8",
            "--targets",
            targets,
            "--bias",
            "lora_only",
            "--epochs",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}: {stderr}");
    let setup = Setup {
        config_json: Some(String::from_utf8(read(name, "config.json")).unwrap()),
        num_labels: 2,
        lora: LoraConfig {
            r: 4,
            lora_alpha: 8.0,
            target_modules: Some(TargetModules::Names(targets.split(',').map(String::from).collect())),
            bias: Bias::LoraOnly,
            ..LoraConfig::default()
        },
        ..Setup::default()
    };
    let report = compute(&setup).unwrap();
    assert_eq!((report.trainable, report.adapter_bytes), (trainable, bytes), "{name}: the calculator");
    assert!(stderr.contains(&format!("trainable params: {trainable} ")), "{name}: {stderr}");
    let written = std::fs::metadata(dir.join("adapter_model.safetensors")).unwrap().len();
    assert_eq!(written, bytes, "{name}: adapter_model.safetensors");
    let file = std::fs::read(dir.join("adapter_model.safetensors")).unwrap();
    let keys = SafeTensors::parse("adapter_model.safetensors", &file).unwrap().entries.into_keys().collect();
    let config = serde_json::from_slice(&std::fs::read(dir.join("adapter_config.json")).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (keys, config)
}

/// RoBERTa: `target_modules=["dense"]` reaches every encoder `dense` but not `classifier.dense`, which sits inside
/// the `modules_to_save` head (tests/reference/roberta_roundtrip.txt has PEFT loading the adapter such a run
/// writes and computing its logits within 1e-6).
#[test]
fn a_roberta_lora_run_trains_and_saves_what_peft_does() {
    let (keys, _) = lora_run_trains_and_saves_what_peft_does("roberta", "dense", 2940, 14608);
    assert!(keys.contains(&"base_model.model.classifier.dense.weight".to_string()), "{keys:?}");
    assert!(!keys.iter().any(|k| k.contains("classifier.dense.lora")), "{keys:?}");
}

/// DistilBERT: `pre_classifier` trains and is saved beside `classifier`, as PEFT's suffix match makes it
/// (tests/reference/distilbert_roundtrip.txt has PEFT loading such an adapter).
#[test]
fn a_distilbert_lora_run_trains_and_saves_what_peft_does() {
    let (keys, _) = lora_run_trains_and_saves_what_peft_does("distilbert", "q_lin,v_lin", 2274, 11160);
    for key in [
        "base_model.model.pre_classifier.weight",
        "base_model.model.distilbert.transformer.layer.1.attention.v_lin.lora_B.weight",
    ] {
        assert!(keys.contains(&key.to_string()), "{key}: {keys:?}");
    }
}

/// GPT-2: LoRA on the fused Conv1D `c_attn` (one adapter over query, key and value together), `score` kept whole,
/// `fan_in_fan_out` written as PEFT writes it for Conv1D.
#[test]
fn a_gpt2_lora_run_trains_and_saves_what_peft_does() {
    let (keys, config) = lora_run_trains_and_saves_what_peft_does("gpt2", "c_attn", 1280, 5960);
    assert_eq!(config["fan_in_fan_out"], true);
    for key in ["base_model.model.score.weight", "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight"] {
        assert!(keys.contains(&key.to_string()), "{key}: {keys:?}");
    }
}

/// ModernBERT: LoRA on the fused `Wqkv` (no biases to train: `bias="lora_only"` adds none), `classifier` kept whole;
/// the prediction `head` stays frozen, as it is outside `modules_to_save`.
#[test]
fn a_modernbert_lora_run_trains_and_saves_what_peft_does() {
    let (keys, _) = lora_run_trains_and_saves_what_peft_does("modernbert-cls", "Wqkv", 1602, 7320);
    assert!(keys.contains(&"base_model.model.model.layers.2.attn.Wqkv.lora_B.weight".to_string()), "{keys:?}");
    assert!(!keys.iter().any(|k| k.contains("head.")), "{keys:?}");
}
