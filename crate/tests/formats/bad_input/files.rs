//! Broken model and adapter files: tokenizers (`TextEncoder`), safetensors headers damaged field by field
//! (`SafeTensors::parse` and the read of every tensor), and adapter folders (`load_trained`, what the page's
//! "Load an adapter folder" and the CLI's `predict --adapter` use), over the tiny model the page offers.

use std::collections::BTreeMap;

use burn::tensor::Device;
use lora_playground::model::files::ModelFiles;
use lora_playground::model::tiny;
use lora_playground::safetensors::{SafeTensors, write_f32};
use lora_playground::train::batch::TextEncoder;
use lora_playground::train::classifier::load_trained;
use lora_playground::train::workbench::Workbench;
use serde_json::{Value, json};

use super::cases::{Case, Expect, Outcome, case};

const PEFT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/peft_tiny");

fn tokenizer(bytes: Vec<u8>) -> impl FnOnce() -> Outcome + Send {
    move || TextEncoder::from_bytes(&bytes, 16).map(|_| Vec::new())
}

/// Parses `bytes` and reads every tensor as floats, as loading a model does.
fn safetensors(bytes: Vec<u8>) -> impl FnOnce() -> Outcome + Send {
    move || {
        let file = SafeTensors::parse("model.safetensors", &bytes)?;
        for name in ["a", "b"] {
            file.f32(name)?;
        }
        Ok(Vec::new())
    }
}

/// A safetensors file whose JSON header is `header` (padded as the format asks), over `data` bytes.
fn with_header(header: &Value, data: &[u8]) -> Vec<u8> {
    let mut text = header.to_string().into_bytes();
    while text.len() % 8 != 0 {
        text.push(b' ');
    }
    [&(text.len() as u64).to_le_bytes()[..], &text, data].concat()
}

/// The whole import path: the folder read, checked and laid over the tiny base model on the CPU.
fn adapter(folder: BTreeMap<String, Vec<u8>>) -> impl FnOnce() -> Outcome + Send {
    move || load_trained(&tiny::files(0), &folder, &Device::flex()).map(|_| Vec::new())
}

fn peft_folder() -> BTreeMap<String, Vec<u8>> {
    ["adapter_config.json", "adapter_model.safetensors"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(format!("{PEFT}/{f}")).expect("the committed PEFT fixture")))
        .collect()
}

/// The PEFT folder with its adapter_config.json's `key` set to `value`.
fn peft_config_with(key: &str, value: Value) -> BTreeMap<String, Vec<u8>> {
    let mut folder = peft_folder();
    let mut config: Value = serde_json::from_slice(&folder["adapter_config.json"]).unwrap();
    config[key] = value;
    folder.insert("adapter_config.json".into(), config.to_string().into_bytes());
    folder
}

pub fn cases() -> Vec<Case> {
    use Expect::*;
    let real = tiny::files(0).tokenizer_json;
    let mut out = vec![
        case("tokenizer.json empty", Refused("tokenizer.json"), tokenizer(Vec::new())),
        case("tokenizer.json {}", Refused("tokenizer.json"), tokenizer(b"{}".to_vec())),
        case("tokenizer.json a list", Refused("tokenizer.json"), tokenizer(b"[1,2]".to_vec())),
        case(
            "tokenizer.json with a model of the wrong type",
            Refused("tokenizer.json"),
            tokenizer(br#"{"model": 5}"#.to_vec()),
        ),
        case("tokenizer.json cut in half", Refused("tokenizer.json"), tokenizer(real[..real.len() / 2].to_vec())),
        case(
            "tokenizer.json random bytes",
            Refused("tokenizer.json"),
            tokenizer((0..2048u32).map(|i| (i * 7919 % 251) as u8).collect()),
        ),
        case(
            "tokenizer.json a config.json by mistake",
            Refused("tokenizer.json"),
            tokenizer(tiny::files(0).config_json.into_bytes()),
        ),
    ];

    // safetensors: a valid two-tensor file, then its header damaged one field at a time.
    let good = write_f32(&[("a", vec![2, 2], vec![1.0; 4]), ("b", vec![3], vec![2.0; 3])]);
    let data = vec![0u8; 28];
    let entry =
        |dtype: Value, shape: Value, offsets: Value| json!({"dtype": dtype, "shape": shape, "data_offsets": offsets});
    let b = entry(json!("F32"), json!([3]), json!([16, 28]));
    let headers: Vec<(&str, Value)> = vec![
        ("no dtype", json!({"a": {"shape": [2, 2], "data_offsets": [0, 16]}, "b": b})),
        ("dtype a number", json!({"a": entry(json!(5), json!([2, 2]), json!([0, 16])), "b": b})),
        ("an unknown dtype", json!({"a": entry(json!("F7"), json!([2, 2]), json!([0, 16])), "b": b})),
        ("an integer tensor", json!({"a": entry(json!("I32"), json!([2, 2]), json!([0, 16])), "b": b})),
        ("a bool tensor", json!({"a": entry(json!("BOOL"), json!([16]), json!([0, 16])), "b": b})),
        ("no shape", json!({"a": {"dtype": "F32", "data_offsets": [0, 16]}, "b": b})),
        ("a negative dimension", json!({"a": entry(json!("F32"), json!([-2, 2]), json!([0, 16])), "b": b})),
        ("a shape that lies (too big)", json!({"a": entry(json!("F32"), json!([4, 4]), json!([0, 16])), "b": b})),
        ("a shape that lies (too small)", json!({"a": entry(json!("F32"), json!([1]), json!([0, 16])), "b": b})),
        ("a shape that overflows", json!({"a": entry(json!("F32"), json!([u64::MAX, 2]), json!([0, 16])), "b": b})),
        ("a shape as a string", json!({"a": entry(json!("F32"), json!("2x2"), json!([0, 16])), "b": b})),
        ("no data_offsets", json!({"a": {"dtype": "F32", "shape": [2, 2]}, "b": b})),
        ("offsets past the end", json!({"a": entry(json!("F32"), json!([2, 2]), json!([100, 116])), "b": b})),
        ("offsets reversed", json!({"a": entry(json!("F32"), json!([2, 2]), json!([16, 0])), "b": b})),
        ("three offsets", json!({"a": entry(json!("F32"), json!([2, 2]), json!([0, 8, 16])), "b": b})),
        ("negative offsets", json!({"a": entry(json!("F32"), json!([2, 2]), json!([-16, 0])), "b": b})),
        ("a tensor entry that is a string", json!({"a": "F32", "b": b})),
        ("a tensor missing", json!({"b": b})),
        ("a header that is a list", json!([1, 2])),
        ("a header that is a number", json!(8)),
    ];
    for (what, header) in headers {
        out.push(case(
            format!("safetensors: {what}"),
            Refused("model.safetensors"),
            safetensors(with_header(&header, &data)),
        ));
    }
    for cut in [0, 4, 7, 8, 12, 20, good.len() - 1] {
        out.push(case(
            format!("safetensors cut at byte {cut}"),
            Refused("model.safetensors"),
            safetensors(good[..cut].to_vec()),
        ));
    }
    for (what, n) in [
        ("a header length of u64::MAX", u64::MAX),
        ("a header length past the end", 1 << 20),
        ("a header length of 1 TiB", 1 << 40),
    ] {
        let mut bytes = good.clone();
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        out.push(case(format!("safetensors: {what}"), Refused("model.safetensors"), safetensors(bytes)));
    }
    out.push(case(
        "safetensors: a header that is not UTF-8",
        Refused("model.safetensors"),
        safetensors([&8u64.to_le_bytes()[..], b"\xff\xfe{}    "].concat()),
    ));

    // Adapter folders: the PEFT-written fixture, damaged.
    let mut no_weights = peft_folder();
    no_weights.remove("adapter_model.safetensors");
    let mut cut_weights = peft_folder();
    let w = cut_weights.get_mut("adapter_model.safetensors").unwrap();
    w.truncate(w.len() / 2);
    let mut bad_config = peft_folder();
    bad_config.insert("adapter_config.json".into(), b"{\"r\": 4,".to_vec());
    let folders: Vec<(&str, BTreeMap<String, Vec<u8>>, &'static str)> = vec![
        ("an empty folder", BTreeMap::new(), "adapter"),
        ("no adapter_model.safetensors", no_weights, "adapter"),
        ("adapter_model.safetensors cut in half", cut_weights, "adapter_model.safetensors"),
        ("adapter_config.json not JSON", bad_config, "adapter_config.json"),
        ("another r than the weights", peft_config_with("r", json!(8)), "adapter_model.safetensors"),
        ("r = 0", peft_config_with("r", json!(0)), "r"),
        ("use_dora", peft_config_with("use_dora", json!(true)), "adapter_config.json"),
        ("a target this base lacks", peft_config_with("target_modules", json!(["gate_proj"])), "target_modules"),
        (
            "a target list missing a module the weights hold",
            peft_config_with("target_modules", json!(["query"])),
            "adapter_model.safetensors",
        ),
        (
            "training.json not JSON",
            {
                let mut f = peft_folder();
                f.insert("training.json".into(), b"{".to_vec());
                f
            },
            "training.json",
        ),
    ];
    for (what, folder, field) in folders {
        out.push(case(format!("adapter folder: {what}"), Refused(field), adapter(folder)));
    }
    out.extend(mismatched_files());
    out
}

/// A model folder whose three files come from different models (a Hub id, a picked folder or a copy under
/// `models/` can mix them): refused when the model is loaded, naming the file that does not fit.
fn mismatched_files() -> Vec<Case> {
    use Expect::*;
    let with_config = |key: &str, value: Value| {
        let mut files = tiny::files(0);
        let mut config: Value = serde_json::from_str(&files.config_json).unwrap();
        config[key] = value;
        files.config_json = config.to_string();
        files
    };
    let load = |files: ModelFiles| move || Workbench::default().load_model(files).map(|_| Vec::new());
    let mut no_embeddings = tiny::files(0);
    no_embeddings.safetensors = write_f32(&[("a", vec![2], vec![1.0; 2])]);
    let mut wrong_tokenizer = tiny::files(0);
    wrong_tokenizer.tokenizer_json = b"{}".to_vec();
    vec![
        case(
            "model folder: a tokenizer larger than config.json's vocab_size",
            Refused("tokenizer.json"),
            load(with_config("vocab_size", json!(20))),
        ),
        case(
            "model folder: weights narrower than config.json's hidden_size",
            Refused("model.safetensors"),
            load(with_config("hidden_size", json!(64))),
        ),
        case(
            "model folder: weights with fewer rows than config.json's vocab_size",
            Refused("model.safetensors"),
            load(with_config("vocab_size", json!(5000))),
        ),
        case("model folder: weights with no word embeddings", Refused("model.safetensors"), load(no_embeddings)),
        case("model folder: a tokenizer.json that is not one", Refused("tokenizer.json"), load(wrong_tokenizer)),
        case(
            "model folder: an architecture the trainer lacks",
            Refused("model_type"),
            load(with_config("model_type", json!("t5"))),
        ),
    ]
}
