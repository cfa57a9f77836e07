//! A GGUF file's tokenizer (`tokenizer.ggml.*`) as the `tokenizer.json` transformers builds from it
//! (`integrations/gguf/gguf_tokenizer_mapping.py`, transformers 5.25), so that token ids equal transformers' for the
//! same file; the `tokenizers` crate then runs it. Two kinds:
//! - `gpt2`: byte-level BPE with the file's merges; the pre-tokenizer by `tokenizer.ggml.pre` (GPT-2's regex unless
//!   the file names a Llama 3, Qwen2 or GPT-4o split);
//! - `llama`: SentencePiece-style BPE with byte fallback, its merges recovered from the vocabulary (ordered by the
//!   tokens' scores, or for Gemma by their place in the file), `Metaspace` (Llama) or spaces replaced by `▁` (Gemma).
//!
//! Tokens the file marks as control (type 3) are special added tokens, user-defined ones (type 4) plain added tokens;
//! the defaults transformers' tokenizer classes add when missing (`<|endoftext|>`, `<unk>`/`<s>`/`</s>`, Gemma's
//! five) are appended at the end as they are there.

use std::collections::{HashMap, HashSet};

use serde_json::{Value as Json, json};
use tokenizers::Tokenizer;

use crate::error::Error;
use crate::gguf::{Gguf, Value};

const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_SPLIT: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const GPT4O_SPLIT: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The split regex transformers uses for a `tokenizer.ggml.pre` (`GGUF_PRE_TOKENIZER_SPLITS`).
fn split_for(pre: &str) -> Option<&'static str> {
    Some(match pre {
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral" | "midm-2.0" | "lfm2"
        | "jina-v5-nano" | "dbrx" | "smaug-bpe" => LLAMA3_SPLIT,
        "qwen2" | "deepseek-r1-qwen" | "kormo" | "f2llmv2" | "megrez" => QWEN2_SPLIT,
        "gpt-4o" | "llama4" | "kanana2" | "talkie" | "minimax-m2" => GPT4O_SPLIT,
        _ => return None,
    })
}

/// GPT-2's `bytes_to_unicode`: each byte's printable stand-in.
fn bytes_to_unicode() -> Vec<char> {
    let mut printable: Vec<u32> =
        ('!' as u32..='~' as u32).chain('¡' as u32..='¬' as u32).chain('®' as u32..='ÿ' as u32).collect();
    let mut chars: Vec<u32> = printable.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !printable.contains(&b) {
            printable.push(b);
            chars.push(256 + n);
            n += 1;
        }
    }
    let mut table = vec!['\0'; 256];
    for (b, c) in printable.into_iter().zip(chars) {
        table[b as usize] = char::from_u32(c).expect("a valid char");
    }
    table
}

fn strings<'g>(g: &'g Gguf<'_>, key: &str) -> Result<Option<Vec<&'g str>>, Error> {
    match g.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_array()
            .and_then(|items| items.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
            .map(Some)
            .ok_or_else(|| Error::invalid(&g.file, format!("{key} is not a list of strings"))),
    }
}

fn numbers(g: &Gguf<'_>, key: &str) -> Result<Option<Vec<f64>>, Error> {
    match g.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_array()
            .and_then(|items| items.iter().map(Value::as_f64).collect::<Option<Vec<_>>>())
            .map(Some)
            .ok_or_else(|| Error::invalid(&g.file, format!("{key} is not a list of numbers"))),
    }
}

/// The file's tokenizer.
pub fn tokenizer(g: &Gguf<'_>) -> Result<Tokenizer, Error> {
    let json = tokenizer_json(g)?;
    Tokenizer::from_bytes(json.to_string().as_bytes())
        .map_err(|e| Error::invalid(&g.file, format!("its tokenizer cannot be built: {e}")))
}

/// The `tokenizer.json` transformers builds for the file.
pub fn tokenizer_json(g: &Gguf<'_>) -> Result<Json, Error> {
    let kind = g.str("tokenizer.ggml.model")?.ok_or_else(|| Error::invalid(&g.file, "has no tokenizer.ggml.model"))?;
    let tokens =
        strings(g, "tokenizer.ggml.tokens")?.ok_or_else(|| Error::invalid(&g.file, "has no tokenizer.ggml.tokens"))?;
    let types = numbers(g, "tokenizer.ggml.token_type")?.unwrap_or_default();
    if !types.is_empty() && types.len() != tokens.len() {
        return Err(Error::invalid(
            &g.file,
            format!("tokenizer.ggml.token_type has {} entries for {} tokens", types.len(), tokens.len()),
        ));
    }
    let arch = g.str("general.architecture")?.unwrap_or_default();
    let gemma = kind == "llama" && matches!(arch, "gemma" | "gemma2" | "gemma3");
    let byte_level = kind == "gpt2";
    // The vocabulary as the builder spells it.
    let spelled: Vec<String> = match kind {
        "gpt2" => {
            let table = bytes_to_unicode();
            let alphabet: HashSet<char> = table.iter().copied().collect();
            tokens
                .iter()
                .map(|t| {
                    if t.chars().all(|c| alphabet.contains(&c)) {
                        t.to_string()
                    } else {
                        t.bytes().map(|b| table[b as usize]).collect()
                    }
                })
                .collect()
        }
        "llama" if gemma => tokens
            .iter()
            .map(|t| {
                if t.contains(' ') && t.trim().is_empty() {
                    "\u{2581}".repeat(t.chars().count())
                } else {
                    t.to_string()
                }
            })
            .collect(),
        "llama" => tokens.iter().map(|t| t.to_string()).collect(),
        other => {
            return Err(Error::invalid(
                &g.file,
                format!(
                    "tokenizer.ggml.model is {other}; gpt2 (byte-level BPE) and llama (SentencePiece) are read here"
                ),
            ));
        }
    };
    // Python's `{token: index}`: the last of duplicates wins, order of first appearance.
    let mut vocab: HashMap<&str, usize> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (i, t) in spelled.iter().enumerate() {
        if vocab.insert(t, i).is_none() {
            order.push(t);
        }
    }
    let merges: Vec<(String, String)> = match strings(g, "tokenizer.ggml.merges")? {
        Some(m) => m
            .iter()
            .map(|m| {
                let mut parts = m.split(' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(a), Some(b), None) => Ok((a.to_string(), b.to_string())),
                    _ => Err(Error::invalid(&g.file, format!("tokenizer.ggml.merges has {m:?}, not two tokens"))),
                }
            })
            .collect::<Result<_, _>>()?,
        None if kind == "llama" => {
            let scores: HashMap<&str, f64> = if gemma {
                spelled.iter().enumerate().map(|(i, t)| (t.as_str(), -(i as f64))).collect()
            } else {
                let s = numbers(g, "tokenizer.ggml.scores")?.ok_or_else(|| {
                    Error::invalid(&g.file, "has neither tokenizer.ggml.merges nor tokenizer.ggml.scores")
                })?;
                if s.len() != tokens.len() {
                    return Err(Error::invalid(&g.file, "tokenizer.ggml.scores has not one score per token"));
                }
                spelled.iter().zip(s).map(|(t, s)| (t.as_str(), s)).collect()
            };
            generate_merges(&order, &vocab, &scores)
        }
        None => return Err(Error::invalid(&g.file, "has no tokenizer.ggml.merges")),
    };
    let mut vocab_json = serde_json::Map::new();
    for t in &order {
        vocab_json.insert(t.to_string(), json!(vocab[t]));
    }
    // Added tokens: the class's defaults (appended when missing), then the file's control and user-defined ones.
    let mut next = spelled.len();
    let mut added: Vec<Json> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // Added once each (a default may also be a control token); never normalized, as transformers adds them.
    let mut add = |content: &str, id: usize, special: bool| {
        if seen.insert(content.to_string()) {
            added.push(json!({"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
                              "normalized": false, "special": special}));
        }
    };
    let defaults: &[&str] = match (kind, gemma) {
        ("gpt2", _) => &["<|endoftext|>"],
        (_, true) => &["<bos>", "<eos>", "<unk>", "<pad>", "<mask>"],
        _ => &["<unk>", "<s>", "</s>"],
    };
    let mut extra: Vec<(String, usize)> = Vec::new();
    for d in defaults {
        match vocab.get(d) {
            Some(&id) => add(d, id, true),
            None => {
                add(d, next, true);
                extra.push((d.to_string(), next));
                next += 1;
            }
        }
    }
    let alphabet: HashSet<char> = if byte_level { bytes_to_unicode().into_iter().collect() } else { HashSet::new() };
    for (i, t) in tokens.iter().enumerate() {
        match types.get(i).copied() {
            Some(3.0) if !byte_level || t.chars().all(|c| alphabet.contains(&c)) => add(t, vocab[t], true),
            Some(4.0) if vocab.contains_key(t) => add(t, vocab[t], false),
            _ => {}
        }
    }
    for (t, id) in &extra {
        vocab_json.insert(t.clone(), json!(id));
    }
    let merges_json: Vec<Json> = merges.iter().map(|(a, b)| json!([a, b])).collect();
    let (add_bos, add_eos) = (
        g.get("tokenizer.ggml.add_bos_token").and_then(Value::as_bool).unwrap_or(kind == "llama"),
        g.get("tokenizer.ggml.add_eos_token").and_then(Value::as_bool).unwrap_or(false),
    );
    let special_at = |key: &str| -> Result<Option<(String, usize)>, Error> {
        Ok(g.usize(key)?.and_then(|id| tokens.get(id).map(|t| (t.to_string(), id))))
    };
    let bos = special_at("tokenizer.ggml.bos_token_id")?.filter(|_| add_bos);
    let eos = special_at("tokenizer.ggml.eos_token_id")?.filter(|_| add_eos);
    let post = template_processing(bos, eos);
    let model = if byte_level {
        json!({"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "", "end_of_word_suffix": "",
               "fuse_unk": false, "byte_fallback": false, "ignore_merges": false, "vocab": vocab_json, "merges": merges_json})
    } else {
        json!({"type": "BPE", "dropout": null, "unk_token": if gemma { json!("<unk>") } else { Json::Null },
               "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true,
               "ignore_merges": false, "vocab": vocab_json, "merges": merges_json})
    };
    let (normalizer, pre_tokenizer, decoder) = if byte_level {
        let byte_level_pre =
            json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true});
        let pre = match g.str("tokenizer.ggml.pre")?.and_then(split_for) {
            Some(split) => json!({"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": false},
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}),
            None => byte_level_pre,
        };
        (
            Json::Null,
            pre,
            json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
        )
    } else if gemma {
        (
            json!({"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"}),
            json!({"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": false}),
            json!({"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}]}),
        )
    } else {
        (
            Json::Null,
            json!({"type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "first", "split": false}),
            json!({"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}),
        )
    };
    Ok(json!({"version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
              "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post,
              "decoder": decoder, "model": model}))
}

/// transformers' `TemplateProcessing`: `[bos] $A [eos]` with the tokens the file asks to add.
fn template_processing(bos: Option<(String, usize)>, eos: Option<(String, usize)>) -> Json {
    let piece = |t: &Option<(String, usize)>, type_id: u32| {
        t.as_ref().map(|(s, _)| json!({"SpecialToken": {"id": s, "type_id": type_id}}))
    };
    let seq = |type_id: u32, name: &str| json!({"Sequence": {"id": name, "type_id": type_id}});
    let single: Vec<Json> = piece(&bos, 0).into_iter().chain([seq(0, "A")]).chain(piece(&eos, 0)).collect();
    let pair: Vec<Json> =
        single.iter().cloned().chain(piece(&bos, 1)).chain([seq(1, "B")]).chain(piece(&eos, 1)).collect();
    let mut specials = serde_json::Map::new();
    for (s, id) in bos.iter().chain(eos.iter()) {
        specials.insert(s.clone(), json!({"id": s, "ids": [id], "tokens": [s]}));
    }
    json!({"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials})
}

/// transformers' `generate_merges`: every split of every token into two tokens of the vocabulary, within a token by
/// the pieces' ids, then all by (score, left length, right length) from the highest, ties in that order.
fn generate_merges(order: &[&str], vocab: &HashMap<&str, usize>, scores: &HashMap<&str, f64>) -> Vec<(String, String)> {
    let mut merges: Vec<(&str, &str, f64)> = Vec::new();
    for &token in order {
        let score = scores[token];
        let mut local: Vec<(&str, &str, f64)> = token
            .char_indices()
            .skip(1)
            .map(|(i, _)| token.split_at(i))
            .filter(|(l, r)| vocab.contains_key(l) && vocab.contains_key(r))
            .map(|(l, r)| (l, r, score))
            .collect();
        local.sort_by_key(|(l, r, _)| (vocab[l], vocab[r]));
        merges.extend(local);
    }
    let key = |(l, r, s): &(&str, &str, f64)| (*s, l.chars().count(), r.chars().count());
    merges.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        kb.0.total_cmp(&ka.0).then(kb.1.cmp(&ka.1)).then(kb.2.cmp(&ka.2))
    });
    merges.into_iter().map(|(l, r, _)| (l.to_string(), r.to_string())).collect()
}
