//! Parity with transformers: all-MiniLM-L6-v2 in burn, 8 fixed sentences run as one padded batch, against
//! `BertModel` in PyTorch (`tests/reference/bert_parity.py` wrote the reference values). The model files come
//! from the set-up step (`tools/fetch_model.sh`, run by `tools/test.sh`).
#![cfg(feature = "train")]

use burn::module::Module;
use burn::tensor::Device;
use lora_playground::accounting::arch::HfConfig;
use lora_playground::model::auto::AutoModelForSequenceClassification;
use lora_playground::model::auto::{build, read_config};
use lora_playground::model::load::Weights;
use lora_playground::safetensors::SafeTensors;
use lora_playground::train::batch::{TextEncoder, to_input};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn model_dir() -> String {
    let dir = std::env::var("LP_MODEL_DIR").unwrap_or_else(|_| format!("{ROOT}/models/all-MiniLM-L6-v2"));
    assert!(
        std::path::Path::new(&dir).join("model.safetensors").is_file(),
        "the parity test needs all-MiniLM-L6-v2 in {dir}: run tools/fetch_model.sh models/all-MiniLM-L6-v2 (tools/test.sh does)"
    );
    dir
}

#[test]
fn minilm_matches_transformers_on_eight_sentences() {
    let dir = model_dir();
    let read = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
    let config = read_config(&HfConfig::parse(&String::from_utf8(read("config.json")).unwrap()).unwrap()).unwrap();
    let weights = read("model.safetensors");
    let device = Device::flex();
    let model = build(
        &config,
        Weights::Checkpoint(SafeTensors::parse("model.safetensors", &weights).unwrap()),
        2,
        None,
        &device,
    )
    .unwrap()
    .valid();
    let encoder = TextEncoder::from_bytes(&read("tokenizer.json"), 512).unwrap();

    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/tests/reference/bert_parity.json")).unwrap())
            .unwrap();
    let values = std::fs::read(format!("{ROOT}/tests/reference/bert_parity.safetensors")).unwrap();
    let values = SafeTensors::parse("bert_parity.safetensors", &values).unwrap();
    let sentences = reference["sentences"].as_array().unwrap();
    assert_eq!(sentences.len(), 8);

    let tokens: Vec<_> = sentences.iter().map(|s| encoder.encode(s["text"].as_str().unwrap()).unwrap()).collect();
    for (t, s) in tokens.iter().zip(sentences) {
        let want: Vec<u32> = serde_json::from_value(s["input_ids"].clone()).unwrap();
        assert_eq!(t.ids, want, "tokenizer ids differ for {:?}", s["text"]);
    }
    // One padded batch: padding must not change any sentence's real tokens.
    let refs: Vec<_> = tokens.iter().collect();
    let AutoModelForSequenceClassification::Bert(model) = model else { panic!("all-MiniLM-L6-v2 is a BERT") };
    let out = model.bert.forward(&to_input(&config, &refs, &device));
    let [_, seq, hidden] = out.last_hidden_state.dims();
    let hs = out.last_hidden_state.into_data().try_to_vec::<f32>().unwrap();
    let pooled = out.pooler_output.into_data().try_to_vec::<f32>().unwrap();
    let mut worst = (0f32, 0f32);
    for (i, t) in tokens.iter().enumerate() {
        let n = t.ids.len();
        let (want_h, shape) = values.f32(&format!("{i}.last_hidden_state")).unwrap();
        assert_eq!(shape, [n, hidden]);
        let got_h = &hs[i * seq * hidden..i * seq * hidden + n * hidden];
        let dh = got_h.iter().zip(&want_h).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        let (want_p, _) = values.f32(&format!("{i}.pooler_output")).unwrap();
        let dp =
            pooled[i * hidden..(i + 1) * hidden].iter().zip(&want_p).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(dh < 1e-4 && dp < 1e-4, "sentence {i}: last_hidden_state differs by {dh}, pooler_output by {dp}");
        worst = (worst.0.max(dh), worst.1.max(dp));
    }
    eprintln!("max abs difference: last_hidden_state {:e}, pooler_output {:e}", worst.0, worst.1);
}
