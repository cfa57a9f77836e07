//! `lora-playground logprobs`: what a language model (with an adapter, if given) says of each text: one JSON line
//! per text, `{"tokens": [ids], "logprobs": [...]}`, `logprobs[i]` the log-probability of `tokens[i + 1]` after
//! `tokens[0..=i]`, the tokenizer's own special tokens included (as transformers' `tokenizer(text)` gives them).

use futures_lite::future::block_on;
use lora_playground::error::Error;
use lora_playground::model::causal::score::logprobs;

use super::flags::Flags;
use super::lm_files::load_from_flags;
use super::usage::usage_error;
use super::{device, predict};

pub fn run(args: &[String]) -> i32 {
    match Flags::parse(args, &["--model", "--base", "--hub", "--adapter", "--input", "--device", "--batch-size"], &[]) {
        Ok(f) => super::usage::exit_code(go(&f)),
        Err(m) => usage_error(&m),
    }
}

fn go(f: &Flags) -> Result<(), Error> {
    let input = f.str("--input").ok_or("--input FILE is required (one text per line, or .jsonl of {\"text\": ...})")?;
    let batch: usize = f.get("--batch-size", 8, "a positive integer")?;
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    let lm = load_from_flags(f, &device)?;
    let texts = predict::input_texts(input)?;
    let tokens: Vec<Vec<u32>> = texts
        .iter()
        .map(|t| lm.tokenizer.encode(t.as_str(), true).map(|e| e.get_ids().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| Error::invalid(input, format!("cannot be tokenized: {e}")))?;
    for chunk in tokens.chunks(batch.max(1)) {
        for (ids, lp) in chunk.iter().zip(block_on(logprobs(&lm.model, chunk, &device))?) {
            println!("{}", serde_json::json!({ "tokens": ids, "logprobs": lp }));
        }
    }
    Ok(())
}
