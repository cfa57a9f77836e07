//! Broken `config.json` files (through the trainer's reader and the calculator's) and link settings (through
//! `Plan::from_json`, what the page's hash and the CLI's flags feed).

use lora_playground::accounting::report::{Setup, compute};
use lora_playground::model::files::encoder_config;
use lora_playground::train::plan::Plan;
use serde_json::{Value, json};

use super::cases::{Case, Expect, case};

/// A BERT config with `key` set to `value` (or removed for `Value::Null`).
fn bert_with(key: &str, value: Value) -> String {
    let mut c = json!({
        "model_type": "bert", "hidden_size": 32, "num_attention_heads": 4, "num_hidden_layers": 2,
        "intermediate_size": 64, "vocab_size": 100, "max_position_embeddings": 64, "type_vocab_size": 2,
    });
    match value {
        Value::Null => c.as_object_mut().unwrap().remove(key),
        v => c.as_object_mut().unwrap().insert(key.to_string(), v),
    };
    c.to_string()
}

fn trainer(text: String) -> impl FnOnce() -> super::cases::Outcome + Send {
    move || encoder_config(&text).map(|_| Vec::new())
}

fn calculator(text: String) -> impl FnOnce() -> super::cases::Outcome + Send {
    move || compute(&Setup { config_json: Some(text), ..Setup::default() }).map(|_| Vec::new())
}

const SIZES: [&str; 7] = [
    "hidden_size",
    "num_attention_heads",
    "num_hidden_layers",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "type_vocab_size",
];

pub fn cases() -> Vec<Case> {
    use Expect::*;
    let mut out = Vec::new();
    // Every size: zero, negative, a string, absurd, fractional, a boolean. Each is named by its key.
    let bad: [(&str, Value); 6] = [
        ("0", json!(0)),
        ("-1", json!(-1)),
        ("\"big\"", json!("big")),
        ("1e12", json!(1e12)),
        ("3.5", json!(3.5)),
        ("true", json!(true)),
    ];
    for key in SIZES {
        for (shown, value) in &bad {
            out.push(case(
                format!("config.json {key} = {shown}"),
                Refused(key),
                trainer(bert_with(key, value.clone())),
            ));
        }
    }
    for (what, text, field) in [
        ("not JSON", "{\"model_type\": \"bert\",".to_string(), "config.json"),
        ("empty", String::new(), "config.json"),
        ("a list, not an object", "[1, 2]".to_string(), "config.json"),
        ("no model_type", bert_with("model_type", Value::Null), "model_type"),
        ("model_type a number", bert_with("model_type", json!(5)), "model_type"),
        ("an unknown model_type", bert_with("model_type", json!("mamba")), "model_type"),
        ("hidden_size not divisible by the heads", bert_with("num_attention_heads", json!(5)), "num_attention_heads"),
        ("an activation this encoder lacks", bert_with("hidden_act", json!("relu")), "hidden_act"),
        ("layer_norm_eps a string", bert_with("layer_norm_eps", json!("tiny")), "layer_norm_eps"),
        ("hidden_dropout_prob a list", bert_with("hidden_dropout_prob", json!([0.1])), "hidden_dropout_prob"),
    ] {
        out.push(case(format!("config.json {what} (trainer)"), Refused(field), trainer(text)));
    }
    for (what, text, field) in [
        ("not JSON", "{".to_string(), "config.json"),
        ("an unknown model_type", bert_with("model_type", json!("mamba")), "model_type"),
        ("zero layers", bert_with("num_hidden_layers", json!(0)), "num_hidden_layers"),
        ("absurd hidden_size", bert_with("hidden_size", json!(1u64 << 40)), "hidden_size"),
        ("no model_type", bert_with("model_type", Value::Null), "model_type"),
    ] {
        out.push(case(format!("config.json {what} (calculator)"), Refused(field), calculator(text)));
    }
    out
}

/// Link settings a student could type into `train.html#...` (or a CLI flag), each named by its field.
pub fn plan_cases() -> Vec<Case> {
    use Expect::*;
    [
        ("r", json!(-1)),
        ("r", json!("abc")),
        ("r", json!(0)),
        ("r", json!(1_000_000)),
        ("lora_alpha", json!("1e309")),
        ("lora_alpha", json!("NaN")),
        ("lr", json!("NaN")),
        ("lr", json!(-0.1)),
        ("lr", json!("fast")),
        ("epochs", json!(1e9)),
        ("epochs", json!(0)),
        ("batch_size", json!(0)),
        ("batch_size", json!(100_000)),
        ("max_len", json!(100_000)),
        ("max_len", json!(1)),
        ("lora_dropout", json!(2)),
        ("val_fraction", json!(1)),
        ("seed", json!(-5)),
        ("warmup_ratio", json!(2)),
        ("max_grad_norm", json!(0)),
        ("weight_decay", json!("lots")),
        ("method", json!("dora")),
        ("bias", json!("most")),
        ("target_modules", json!([])),
        ("layers_to_transform", json!("a,b")),
        ("use_rslora", json!("maybe")),
        ("rank", json!(8)),
    ]
    .into_iter()
    .map(|(field, value)| {
        let fields = json!({ field: value.clone() });
        case(format!("link {field}={value}"), Refused(field), move || Plan::from_json(&fields).map(|_| Vec::new()))
    })
    .collect()
}
