//! `lora-playground generate`: a language model (with an adapter, if given) continues each prompt: greedy unless a
//! temperature above 0 is given, stopping at the model's end-of-turn ids or `--max-new-tokens`; with `--chat` each
//! text is the user's message in the model's chat template, with the assistant's turn opened. One JSON line per
//! prompt: `{"prompt_tokens": [...], "tokens": [new ids, the end token included], "text": "..."}`.

use futures_lite::future::block_on;
use lora_playground::error::Error;
use lora_playground::model::causal::chat::{Message, render};
use lora_playground::model::causal::generate::{Sampling, generate};
use lora_playground::model::causal::score::logprobs;

use super::flags::Flags;
use super::lm_files::load_from_flags;
use super::usage::usage_error;
use super::{device, predict};

const VALUED: [&str; 12] = [
    "--model",
    "--base",
    "--hub",
    "--adapter",
    "--input",
    "--device",
    "--max-new-tokens",
    "--temperature",
    "--top-k",
    "--top-p",
    "--seed",
    "--system",
];

pub fn run(args: &[String]) -> i32 {
    match Flags::parse(args, &VALUED, &["--chat", "--no-cache"]) {
        Ok(f) => super::usage::exit_code(go(&f)),
        Err(m) => usage_error(&m),
    }
}

fn go(f: &Flags) -> Result<(), Error> {
    let input =
        f.str("--input").ok_or("--input FILE is required (one prompt per line, or .jsonl of {\"text\": ...})")?;
    let temperature: f64 = f.get("--temperature", 0.0, "a number of at least 0")?;
    if !(temperature >= 0.0 && temperature.is_finite()) {
        return Err(Error::invalid("--temperature", "must be a number of at least 0 (0: greedy)"));
    }
    let top_p: Option<f64> = f.str("--top-p").map(|_| f.get("--top-p", 1.0, "a number in (0, 1]")).transpose()?;
    if top_p.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
        return Err(Error::invalid("--top-p", "must be in (0, 1]"));
    }
    let top_k: Option<usize> = f.str("--top-k").map(|_| f.get("--top-k", 1, "a positive integer")).transpose()?;
    if top_k == Some(0) {
        return Err(Error::invalid("--top-k", "must be at least 1"));
    }
    let sampling = Sampling {
        max_new_tokens: f.get("--max-new-tokens", 64, "a positive integer")?,
        temperature,
        top_k,
        top_p,
        seed: f.get("--seed", 0, "a non-negative integer")?,
        use_cache: !f.on("--no-cache"),
    };
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    let lm = load_from_flags(f, &device)?;
    let texts = predict::input_texts(input)?;
    for text in &texts {
        let (prompt, special) = if f.on("--chat") {
            let (template, source) = lm.chat_template.as_ref().ok_or_else(|| {
                Error::invalid("--chat", format!("{} has no chat template; leave out --chat", lm.name))
            })?;
            let mut messages = Vec::new();
            if let Some(system) = f.str("--system") {
                messages.push(Message { role: "system".into(), content: system.into() });
            }
            messages.push(Message { role: "user".into(), content: text.clone() });
            (render(template, source, &messages, true, &lm.special)?, false)
        } else {
            (text.clone(), true)
        };
        let ids = lm
            .tokenizer
            .encode(prompt.as_str(), special)
            .map_err(|e| Error::invalid(input, format!("cannot be tokenized: {e}")))?
            .get_ids()
            .to_vec();
        let stop = &lm.config.eos_token_ids;
        let tokens = block_on(generate(&lm.model, &ids, stop, &sampling, &device, |_| true))?;
        let shown: Vec<u32> = tokens.iter().copied().filter(|t| !stop.contains(t)).collect();
        let text = lm.tokenizer.decode(&shown, true).map_err(|e| Error::internal("decode", e.to_string()))?;
        // The log-probability of each new token given everything before it (one pass over the whole sequence).
        let full: Vec<u32> = ids.iter().chain(&tokens).copied().collect();
        let all = block_on(logprobs(&lm.model, &[full], &device))?;
        let new = all[0][ids.len().saturating_sub(1)..].to_vec();
        println!("{}", serde_json::json!({ "prompt_tokens": ids, "tokens": tokens, "logprobs": new, "text": text }));
    }
    Ok(())
}
