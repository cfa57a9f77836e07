//! A tiny randomly initialised BERT as a complete model folder (config.json, model.safetensors, tokenizer.json),
//! for tests and for slow devices: it goes through exactly the code paths the real model does (the tokenizer,
//! the checkpoint loader, LoRA placement, saving), in milliseconds.

use burn::tensor::Device;
use serde_json::{Value, json};

use super::auto::build_with;
use super::config::EncoderConfig;
use super::export::named_tensors;
use super::load::Weights;
use super::packed::Base;
use crate::model::files::ModelFiles;
use crate::safetensors::write_f32;

const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Common English words, so short texts are mostly whole-word tokens; anything else falls back to letters.
const WORDS: &str = "the a an and or but of to in on for with at by from is was are were be been it this that my your \
    i you he she we they me not no yes good bad great terrible love hate like money card bank loan debt account \
    mortgage student payment paid pay charged fee interest rate credit collector call calls home house school \
    phone email letter late month year day time service customer company refund help please why how what when";

/// A WordPiece vocabulary: special tokens, the words above, then every ASCII letter and digit alone and as a
/// `##` continuation, and common punctuation, so any text tokenizes without `[UNK]` floods.
pub fn vocab() -> Vec<String> {
    let mut v: Vec<String> = SPECIAL.iter().map(|s| s.to_string()).collect();
    v.extend(WORDS.split_whitespace().map(String::from));
    for c in ('a'..='z').chain('0'..='9') {
        v.push(c.to_string());
        v.push(format!("##{c}"));
    }
    v.extend(".,!?'\"-:;()$%&/".chars().map(|c| c.to_string()));
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|t| seen.insert(t.clone()));
    v
}

/// A `tokenizer.json` in the format of bert-base-uncased's (BertNormalizer, BertPreTokenizer, WordPiece,
/// `[CLS] A [SEP]`), with no padding and no truncation set.
pub fn tokenizer_json() -> String {
    let vocab = vocab();
    let id = |t: &str| vocab.iter().position(|v| v == t).expect("special token");
    let added: Vec<Value> = SPECIAL
        .iter()
        .map(|t| json!({"id": id(t), "content": t, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}))
        .collect();
    let map: serde_json::Map<String, Value> = vocab.iter().enumerate().map(|(i, t)| (t.clone(), json!(i))).collect();
    let cls = json!({"SpecialToken": {"id": "[CLS]", "type_id": 0}});
    let sep = |ty: u32| json!({"SpecialToken": {"id": "[SEP]", "type_id": ty}});
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [cls, {"Sequence": {"id": "A", "type_id": 0}}, sep(0)],
            "pair": [cls, {"Sequence": {"id": "A", "type_id": 0}}, sep(0), {"Sequence": {"id": "B", "type_id": 1}}, sep(1)],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [id("[CLS]")], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [id("[SEP]")], "tokens": ["[SEP]"]}
            }
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": map}
    })
    .to_string()
}

/// The tiny model's config: hidden 32, 2 layers, 4 heads, 128 positions, weights drawn with std 0.2.
pub fn config() -> EncoderConfig {
    let mut c = EncoderConfig::tiny(vocab().len());
    c.hidden_size = 32;
    c.num_attention_heads = 4;
    c.intermediate_size = 64;
    c.max_position_embeddings = 128;
    // At BERT's std 0.02 a random 2-layer encoder hardly carries a word into [CLS], so nothing would learn in the
    // few steps a browser test (or a slow laptop) affords; std 0.2 stands in for pretraining.
    c.initializer_range = 0.2;
    c
}

/// The whole folder, its weights drawn with `seed` (a `BertModel` checkpoint: no classifier, as a pretrained
/// encoder ships).
pub fn files(seed: u64) -> ModelFiles {
    let config = config();
    let device = Device::flex();
    let model = build_with(&config, Weights::Random, None, 2, None, (seed, Base::Float32), &device)
        .expect("the tiny config builds");
    let tensors: Vec<(String, Vec<usize>, Vec<f32>)> = named_tensors(&model)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("classifier."))
        .map(|(k, (v, s, _))| (k, s, v))
        .collect();
    ModelFiles {
        name: "lora-playground/tiny-random-bert".into(),
        config_json: config.to_hf_json(),
        safetensors: write_f32(&tensors),
        tokenizer_json: tokenizer_json().into_bytes(),
    }
}
