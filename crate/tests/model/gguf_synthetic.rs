//! Small GGUF files of every kind the reader builds differently (`tests/reference/synthetic_gguf.py` wrote them with
//! gguf-py as llama.cpp lays models out, and recorded what transformers makes of each): Llama with its own output
//! head and a Llama 3 split regex, Llama with a SentencePiece vocabulary (merges from non-monotone scores, byte
//! fallback), Qwen2 with q/k/v biases and its split regex, Gemma 3 with q/k norms and a position-ordered
//! SentencePiece vocabulary. Token ids and chat-template text equal transformers', log-probabilities within 1e-4
//! (relative to their size: the random weights make them large).
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::model::causal::chat::{Message, render};
use lora_playground::model::causal::files::{LmFiles, LmSource};
use lora_playground::model::causal::score::logprobs;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gguf");

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn each_kind_of_gguf_reads_as_transformers_reads_it() {
    let device = Device::flex();
    for name in ["llama_bpe", "llama_sp", "qwen2", "gemma3"] {
        let bytes = std::fs::read(format!("{FIXTURES}/{name}.gguf")).unwrap();
        let want: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/{name}.expected.json")).unwrap())
                .unwrap();
        let lm = LmFiles::new(format!("{name}.gguf"), LmSource::Gguf(bytes.into())).load(None, &device).unwrap();
        for t in want["texts"].as_array().unwrap() {
            let text = t["text"].as_str().unwrap();
            let ours = lm.tokenizer.encode(text, true).unwrap().get_ids().to_vec();
            assert_eq!(ours, ids(&t["ids"]), "{name}: token ids of {text:?}");
        }
        match (&want["chat"], &lm.chat_template) {
            (Value::Null, None) => {}
            (chat, Some((template, source))) if !chat.is_null() => {
                let messages: Vec<Message> = serde_json::from_value(chat["messages"].clone()).unwrap();
                let text = render(template, source, &messages, true, &lm.special).unwrap();
                assert_eq!(text, chat["text"].as_str().unwrap(), "{name}: chat template");
                assert_eq!(lm.tokenizer.encode(text.as_str(), false).unwrap().get_ids().to_vec(), ids(&chat["ids"]));
            }
            (chat, ours) => panic!("{name}: transformers' chat {chat} against ours {ours:?}"),
        }
        let tokens = ids(&want["logprobs"]["ids"]);
        let ours = block_on(logprobs(&lm.model, std::slice::from_ref(&tokens), &device)).unwrap().remove(0);
        for (i, (a, b)) in ours.iter().zip(want["logprobs"]["logprobs"].as_array().unwrap()).enumerate() {
            let b = b.as_f64().unwrap() as f32;
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{name}: log-probability {i}: {a} against {b}");
        }
    }
}
