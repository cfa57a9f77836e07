//! `lora-playground predict`: classify texts with a saved adapter (ours or PEFT's) over the base model; one JSON
//! line per text with the predicted label, every class's probability and the logits (in the labels' order).

use std::collections::BTreeMap;
use std::path::Path;

use lora_playground::data;
use lora_playground::error::Error;
use lora_playground::train::classifier::load_trained;
use lora_playground::train::metrics::argmax;

use super::flags::Flags;
use super::usage::usage_error;
use super::{device, model_files};

pub fn run(args: &[String]) -> i32 {
    let flags = match Flags::parse(args, &["--model", "--hub", "--adapter", "--input", "--device", "--batch-size"], &[])
    {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    super::usage::exit_code(go(&flags))
}

/// Every file of a saved folder, by name.
pub fn read_folder(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("--adapter {}: {e}", dir.display()))?;
    let mut out = BTreeMap::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.is_file() {
            let name = e.file_name().to_string_lossy().into_owned();
            out.insert(name, std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?);
        }
    }
    Ok(out)
}

/// The texts of `--input` (a file, or `-`: one text per line, CSV/TSV with a `text` column, or JSONL); rows that
/// cannot be used are listed on stderr and skipped. `predict`, `logprobs` and `generate` read their input so.
pub fn input_texts(input: &str) -> Result<Vec<String>, Error> {
    let bytes = read_input(input)?;
    let (texts, problems) = data::texts(input, &bytes)?;
    for p in &problems {
        eprintln!("warning: {input} line {}: {} (skipped)", p.line, p.reason);
    }
    Ok(texts.into_iter().map(|(_, t)| t).collect())
}

/// `--input`: a file, or `-` for standard input.
fn read_input(input: &str) -> Result<Vec<u8>, Error> {
    if input == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| Error::invalid("--input", format!("stdin: {e}")))?;
        Ok(b)
    } else {
        std::fs::read(input).map_err(|e| Error::invalid("--input", format!("{input}: {e}")))
    }
}

fn go(f: &Flags) -> Result<(), Error> {
    let adapter =
        f.str("--adapter").ok_or("--adapter DIR is required (a folder written by train, or a PEFT adapter)")?;
    let input =
        f.str("--input").ok_or("--input FILE is required (one text per line, or CSV/JSONL with a text column)")?;
    let batch: usize = f.get("--batch-size", 32, "a positive integer")?;
    let files = model_files::from_flags(&f)?;
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    let saved = read_folder(Path::new(adapter))?;
    let classifier = load_trained(&files, &saved, &device).map_err(|e| format!("--adapter {adapter}: {e}"))?;
    let only = input_texts(input)?;
    let probs = classifier.predict(&only, batch, &device)?;
    let logits = classifier.logits(&only, batch, &device)?;
    for ((text, p), z) in only.iter().zip(&probs).zip(&logits) {
        let best = argmax(p);
        let map: serde_json::Map<String, serde_json::Value> =
            classifier.labels.iter().zip(p).map(|(l, v)| (l.clone(), serde_json::json!(v))).collect();
        println!(
            "{}",
            serde_json::json!({ "text": text, "label": classifier.labels[best], "probs": map, "logits": z })
        );
    }
    Ok(())
}
