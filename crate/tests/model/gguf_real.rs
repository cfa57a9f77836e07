//! Real GGUF files against what transformers makes of the same file (`tests/reference/real_gguf.py` wrote
//! `<model>_gguf.json`): token ids on 251 real texts, the chat template's text and ids, log-probabilities within
//! 1e-3, greedy generation. SmolLM2-135M-Instruct (Q4_1 with a Q8_0 embedding, a byte-level BPE tokenizer) comes
//! from the set-up (`tools/fetch_gguf.sh smollm2`, which `tools/test.sh` runs, with `LP_REQUIRE_REAL_MODELS=1` so
//! that its absence fails); Gemma 3 270M (Q4_K_M with Q6_K and Q8_0 tensors, a SentencePiece tokenizer of 262k
//! tokens) is checked where `tools/fetch_gguf.sh gemma-3-270m` fetched it. Each is read again with its blocks kept
//! as stored (`Base::AsStored`): the widened model's log-probabilities within 1e-5.
#![cfg(feature = "train")]

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::model::causal::chat::{Message, render};
use lora_playground::model::causal::files::{LmFiles, LmSource};
use lora_playground::model::causal::generate::{Sampling, generate};
use lora_playground::model::causal::score::logprobs;
use lora_playground::model::packed::Base;
use serde_json::Value;

fn model_file(file: &str, required: bool) -> Option<PathBuf> {
    let mut places: Vec<PathBuf> = Vec::new();
    if let Ok(dir) = std::env::var("LP_MODEL_DIR") {
        places.push(PathBuf::from(dir).join(file));
    }
    places.push(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../models")).join(file));
    if let Ok(home) = std::env::var("HOME") {
        places.push(PathBuf::from(home).join(".cache/lp/models").join(file));
    }
    let found = places.into_iter().find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !required || std::env::var("LP_REQUIRE_REAL_MODELS").is_err(),
            "{file} is missing: fetch it with tools/fetch_gguf.sh"
        );
        eprintln!("skipped: {file} not fetched (tools/fetch_gguf.sh)");
    }
    found
}

fn reference(model: &str) -> Value {
    let path = format!("{}/../tests/reference/{model}_gguf.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn smollm2_gguf_reads_as_transformers_reads_it() {
    reads_as_transformers("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", true);
}

#[test]
fn gemma3_gguf_reads_as_transformers_reads_it() {
    reads_as_transformers("gemma-3-270m", "gemma-3-270m-q4_k_m.gguf", false);
}

fn reads_as_transformers(model: &str, file: &str, required: bool) {
    let Some(path) = model_file(file, required) else { return };
    let files = LmFiles::new(file, LmSource::Gguf(std::fs::read(path).unwrap().into()));
    let device = Device::flex();
    let lm = files.load(None, &device).unwrap();
    let r = reference(model);

    let texts = r["texts"].as_array().unwrap();
    assert!(texts.len() >= 200);
    for t in texts {
        let text = t["text"].as_str().unwrap();
        let ours = lm.tokenizer.encode(text, true).unwrap().get_ids().to_vec();
        assert_eq!(ours, ids(&t["ids"]), "token ids of {text:?}");
    }

    let chats = r["chats"].as_array().unwrap();
    assert_eq!(lm.chat_template.is_some(), !chats.is_empty(), "{file}: a chat template where transformers has one");
    for chat in chats {
        let (template, source) = lm.chat_template.clone().unwrap();
        let messages: Vec<Message> = serde_json::from_value(chat["messages"].clone()).unwrap();
        let text = render(&template, &source, &messages, true, &lm.special).unwrap();
        assert_eq!(text, chat["text"].as_str().unwrap());
        let ours = lm.tokenizer.encode(text.as_str(), false).unwrap().get_ids().to_vec();
        assert_eq!(ours, ids(&chat["ids"]));
    }

    for s in r["logprobs"].as_array().unwrap() {
        let tokens = ids(&s["ids"]);
        let ours = block_on(logprobs(&lm.model, std::slice::from_ref(&tokens), &device)).unwrap().remove(0);
        let want: Vec<f32> = s["logprobs"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let d = ours.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(d < 1e-3, "log-probabilities of {:?} differ from transformers' by {d}", s["text"]);
        eprintln!("log-probabilities of {:?}: largest difference from transformers' {d:.2e}", s["text"]);
    }

    let g = &r["greedy"];
    let want = ids(&g["tokens"]);
    let got = block_on(generate(&lm.model, &ids(&g["prompt"]), &[], &Sampling::greedy(want.len()), &device, |_| true));
    assert_eq!(got.unwrap(), want, "greedy tokens ({})", g["text"]);

    // The same file with its blocks kept as stored (the table and the head too): the widened model's
    // log-probabilities within 1e-5, and transformers' greedy tokens.
    let stored = files.with_base(Base::AsStored).load(None, &device).unwrap();
    assert!(stored.model.num_params() < 100_000, "{file}: only the norms widened");
    for s in r["logprobs"].as_array().unwrap() {
        let tokens = ids(&s["ids"]);
        let a = block_on(logprobs(&lm.model, std::slice::from_ref(&tokens), &device)).unwrap().remove(0);
        let b = block_on(logprobs(&stored.model, std::slice::from_ref(&tokens), &device)).unwrap().remove(0);
        let d = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(d < 1e-5, "{file}: as stored differs from widened by {d} on {:?}", s["text"]);
        eprintln!("{file} as stored: log-probabilities within {d:.1e} of widened on {:?}", s["text"]);
    }
    // Logits of more rows than a generation step (the head widened a slice at a time, outside a graph).
    let text = ids(&r["logprobs"][0]["ids"]);
    let hidden = stored.model.hidden(std::slice::from_ref(&text), &[vec![true; text.len()]], None, &device);
    let [_, s, h] = hidden.dims();
    let rows = hidden.reshape([s, h]);
    let a = lm.model.logits_at(rows.clone()).into_data().try_to_vec::<f32>().unwrap();
    let b = stored.model.logits_at(rows).into_data().try_to_vec::<f32>().unwrap();
    let d = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    assert!(s > 8 && d < 1e-4, "{file}: {s} rows of logits as stored differ from widened by {d}");
    let got =
        block_on(generate(&stored.model, &ids(&g["prompt"]), &[], &Sampling::greedy(want.len()), &device, |_| true));
    assert_eq!(got.unwrap(), want, "greedy tokens as stored ({})", g["text"]);
}
